"""``moldstack build``: every stage from one spec into one folder, in parallel, reusing what has not changed.

:func:`run_build` loads and builds the spec once, works out each stage's key (:mod:`moldstack.build_cache`),
takes the stages whose key and files are unchanged from the folder's record, and runs the rest: in worker
processes (forked, so they share the built model without copying it; one per core by default), the costliest
group first. A stage that fails is recorded with the reason (one line; the traceback goes to
``OUT/.moldstack/logs/STAGE.log``) and the others go on. After each stage the record is saved, so an interrupted
build keeps what finished. Last, in this process: ``results.json`` (every stage's state and key figures) and
``report.html``.

Every file is written atomically with its temporary in a staging folder beside the output folder
(:func:`moldstack.output.staging`): the output folder holds only whole files, also after a ``kill -9``.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue as queue_module
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from moldstack.build_cache import BuildRecord, code_version, digest, facet_digests, stage_key
from moldstack.build_stages import STAGE_NAMES, STAGES, Stage, StageContext, groups
from moldstack.build_status import StageStatus
from moldstack.fields.fork_map import die_with_parent
from moldstack.output import BuildInputs, cores, staging, write_json, write_text

EventKind = Literal["begin", "start", "say", "done"]
FINAL_STAGES: tuple[tuple[str, str], ...] = (
    ("results", "every stage's state and key figures (JSON)"),
    ("report", "the report: open this first (one offline HTML page)"),
)


class BuildBusyError(RuntimeError):
    """Another build is writing into the same folder."""


@dataclass(frozen=True)
class BuildOptions:
    """``deck``: a DRC rule deck (YAML) instead of the shipped one; ``skip``: stages to leave out; ``force``:
    run every stage even where the record says its outputs are current; ``jobs``: worker processes (default:
    one per core; 1 runs everything in this process)."""

    deck: Path | None = None
    skip: tuple[str, ...] = ()
    force: bool = False
    jobs: int | None = None


@dataclass(frozen=True)
class StageEvent:
    """The build began (``stage`` is the design's name, ``text`` says what will run), or a stage started, said
    what it is doing now, or finished (``status``)."""

    stage: str
    kind: EventKind
    text: str = ""
    status: StageStatus | None = None
    time: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class BuildResult:
    """What a build did: every stage's status, in the order of the stage table, then results and report."""

    spec: str
    out_dir: Path
    design: str
    stages: tuple[StageStatus, ...]
    seconds: float

    def status(self, name: str) -> StageStatus | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def failed(self) -> list[StageStatus]:
        return [s for s in self.stages if s.state == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def report(self) -> Path:
        return self.out_dir / "report.html"

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "out_dir": str(self.out_dir),
            "design": self.design,
            "ok": self.ok,
            "seconds": self.seconds,
            "stages": [s.to_dict() for s in self.stages],
        }


# The job the worker processes run: set before they are forked, so they inherit it (nothing is pickled).
_JOB: dict[str, Any] = {}


def _init_worker() -> None:
    """Worker initialiser: die with the build process (so a killed build stops writing); leave Ctrl-C to the
    parent, which stops the workers."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _relative(path: Path, out_dir: Path) -> str:
    return Path(os.path.relpath(path, out_dir)).as_posix()


def _run_stage(stage: Stage, ctx: StageContext) -> StageStatus:
    t0 = time.perf_counter()
    try:
        out = stage.run(ctx)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        logs = ctx.out_dir / ".moldstack" / "logs"
        with contextlib.suppress(OSError):
            logs.mkdir(parents=True, exist_ok=True)
            write_text(logs / f"{stage.name}.log", traceback.format_exc())
        return StageStatus(stage.name, stage.description, "failed", time.perf_counter() - t0, error=error)
    files = tuple(_relative(Path(p), ctx.out_dir) for p in out.files)
    if out.not_applicable is not None:
        return StageStatus(
            stage.name,
            stage.description,
            "not applicable",
            time.perf_counter() - t0,
            error=out.not_applicable,
        )
    return StageStatus(
        stage.name, stage.description, "ran", time.perf_counter() - t0, files, summary=out.summary
    )


def _run_group(names: Sequence[str]) -> list[StageStatus]:
    """Run the named stages one after the other on the job's inputs (in a worker or in this process)."""
    inputs: BuildInputs = _JOB["inputs"]
    out_dir: Path = _JOB["out_dir"]
    post: Callable[[StageEvent], None] = _JOB["post"]
    done = []
    for name in names:
        stage = next(s for s in STAGES if s.name == name)
        post(StageEvent(name, "start"))

        def say(text: str, name: str = name) -> None:
            post(StageEvent(name, "say", text))

        inputs.say = say
        status = _run_stage(stage, StageContext(inputs, out_dir, say))
        post(StageEvent(name, "done", status=status))
        done.append(status)
    return done


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold the folder's lock for the build; :class:`BuildBusyError` if another build holds it."""
    lock_dir = out_dir / ".moldstack"
    lock_dir.mkdir(parents=True, exist_ok=True)
    handle = (lock_dir / "lock").open("a+")
    try:
        try:
            import fcntl  # noqa: PLC0415 - POSIX only

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:
            pass
        except OSError:
            raise BuildBusyError(f"{out_dir}: another moldstack build is writing into this folder") from None
        yield
    finally:
        handle.close()


def _workers(jobs: int | None, groups_count: int) -> int:
    if "fork" not in mp.get_all_start_methods():
        return 1
    return max(1, min(jobs if jobs is not None else cores(), groups_count))


def _execute(
    pending: list[list[Stage]],
    workers: int,
    on_done: Callable[[StageStatus], None],
    emit: Callable[[StageEvent], None],
) -> None:
    """Run the pending groups, reporting each event to ``emit`` and each finished stage to ``on_done``."""
    if workers <= 1:

        def post(event: StageEvent) -> None:
            emit(event)
            if event.kind == "done" and event.status is not None:
                on_done(event.status)

        _JOB["post"] = post
        for group in pending:
            _run_group([s.name for s in group])
        return

    context = mp.get_context("fork")
    events: Any = context.Queue()
    _JOB["post"] = events.put
    finished: set[str] = set()

    def drain(block_s: float) -> None:
        deadline = time.monotonic() + block_s
        while True:
            try:
                event = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue_module.Empty:
                return
            emit(event)
            if event.kind == "done" and event.status is not None:
                finished.add(event.stage)
                on_done(event.status)

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker)
    try:
        futures: dict[Future[list[StageStatus]], list[Stage]] = {
            pool.submit(_run_group, [s.name for s in g]): g for g in pending
        }
        remaining = set(futures)
        while remaining:
            drain(0.1)
            done, remaining = wait(remaining, timeout=0.0, return_when=FIRST_COMPLETED)
            for future in done:
                with contextlib.suppress(Exception):
                    future.result()  # statuses arrive as events; a failed worker is handled below
        drain(0.2)
        for future, group in futures.items():
            exc = future.exception()
            for s in group:
                if s.name not in finished:
                    reason = (
                        f"the worker process stopped ({type(exc).__name__}: {exc})" if exc else "no result"
                    )
                    status = StageStatus(s.name, s.description, "failed", error=reason)
                    emit(StageEvent(s.name, "done", status=status))
                    on_done(status)
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _results(out_dir: Path, spec: str, design: str, stages: Sequence[StageStatus]) -> StageStatus:
    data = {
        "moldstack": code_version(),
        "spec": spec,
        "design": design,
        "ok": not any(s.state == "failed" for s in stages),
        "stages": {
            s.name: {"state": s.state, "seconds": s.seconds, "error": s.error, "files": list(s.files)}
            for s in stages
        },
        "figures": {s.name: s.summary for s in stages if s.summary},
    }
    path = write_json(out_dir / "results.json", data)
    return StageStatus("results", FINAL_STAGES[0][1], "ran", files=(_relative(path, out_dir),))


def _report(out_dir: Path, spec_text: str, spec_name: str, stages: Sequence[StageStatus]) -> StageStatus:
    from moldstack.report import write_report  # noqa: PLC0415 - jinja2 and the page only here

    path = write_report(out_dir, stages, spec_text=spec_text, spec_name=spec_name)
    return StageStatus("report", FINAL_STAGES[1][1], "ran", files=(_relative(path, out_dir),))


def _viewer_state() -> str | None:
    """Which 3D viewer asset the report would embed (its path and size), so installing it renews the report."""
    try:
        from moldstack.report.viewer import asset_path  # noqa: PLC0415

        path = asset_path()
        return f"{path}:{path.stat().st_size}" if path is not None and path.is_file() else None
    except Exception:
        return None


def _final(
    name: str,
    make: Callable[[], StageStatus],
    key: str,
    record: BuildRecord,
    force: bool,
    emit: Callable[[StageEvent], None],
) -> StageStatus:
    description = dict(FINAL_STAGES)[name]
    cached = None if force else record.reusable(name, key)
    if cached is not None:
        status = StageStatus(
            name, description, "cached", cached.seconds, cached.files, summary=cached.summary
        )
        emit(StageEvent(name, "done", status=status))
        return status
    emit(StageEvent(name, "start"))
    t0 = time.perf_counter()
    try:
        made = make()
        status = StageStatus(
            name, description, "ran", time.perf_counter() - t0, made.files, summary=made.summary
        )
    except Exception as exc:
        status = StageStatus(
            name, description, "failed", time.perf_counter() - t0, error=f"{type(exc).__name__}: {exc}"
        )
    record.put(name, key, status)
    record.save()
    emit(StageEvent(name, "done", status=status))
    return status


def run_build(
    spec: str | Path,
    out_dir: str | Path,
    options: BuildOptions = BuildOptions(),
    on_event: Callable[[StageEvent], None] | None = None,
) -> BuildResult:
    """Build ``spec`` and write every stage's outputs into ``out_dir`` (see the module docstring).

    Raises :class:`~moldstack.spec.errors.SpecError` for a bad spec or deck, ValueError for an unknown stage in
    ``options.skip``, :class:`BuildBusyError` when another build holds the folder; a stage that fails does not
    raise: its status says why.
    """
    import moldstack  # noqa: PLC0415 - the library's front door

    emit = on_event or (lambda _event: None)
    t_start = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: is a file; give a folder for the outputs")
    for name in options.skip:
        if name not in STAGE_NAMES:
            raise ValueError(f"--skip {name}: not a stage; stages are {', '.join(STAGE_NAMES)}")
    spec_path = Path(spec)
    design = moldstack.load(spec_path)  # refuses what is not a readable spec, naming the file
    spec_text = spec_path.read_text(encoding="utf-8")
    deck = None
    if options.deck is not None:
        from moldstack.checks.rule_deck import load_deck  # noqa: PLC0415

        deck = load_deck(options.deck)
    model = moldstack.build(design)
    out.mkdir(parents=True, exist_ok=True)

    digests = facet_digests(model, design)
    digests["deck"] = digest(deck.model_dump(mode="json") if deck is not None else None)
    keys = {s.name: stage_key(s.name, s.facets, digests) for s in STAGES}

    statuses: dict[str, StageStatus] = {}
    with _locked(out), staging(out):
        record = BuildRecord.load(out)
        record.spec = str(spec_path)
        pending: list[Stage] = []
        for s in STAGES:
            if s.name in options.skip:
                statuses[s.name] = StageStatus(s.name, s.description, "skipped")
                continue
            cached = None if options.force else record.reusable(s.name, keys[s.name])
            if cached is None:
                pending.append(s)
                continue
            state = "cached" if cached.done else cached.state
            statuses[s.name] = StageStatus(
                s.name, s.description, state, cached.seconds, cached.files, cached.error, cached.summary
            )
            emit(StageEvent(s.name, "done", status=statuses[s.name]))

        def on_done(status: StageStatus) -> None:
            statuses[status.name] = status
            for rel in record.stale_files(status.name, status.files):
                stale = out / rel
                if stale.resolve().is_relative_to(out.resolve()):
                    stale.unlink(missing_ok=True)
            record.put(status.name, keys[status.name], status)
            record.save()

        work = groups(pending)
        workers = _workers(options.jobs, len(work))
        emit(
            StageEvent(
                model.name,
                "begin",
                f"{len(pending)} stage{'s' if len(pending) != 1 else ''} to run"
                + (f" in {workers} worker processes" if workers > 1 else "")
                + f", {len(statuses)} kept or skipped",
            )
        )
        _JOB.clear()
        _JOB.update(
            inputs=BuildInputs(model=model, design=design, deck=deck, workers=options.jobs), out_dir=out
        )
        try:
            _execute(work, workers, on_done, emit)
        finally:
            _JOB.clear()

        ordered = [statuses[s.name] for s in STAGES]
        state_key = digest(
            [[s.name, "ran" if s.state == "cached" else s.state, keys[s.name]] for s in ordered]
        )
        results = _final(
            "results",
            lambda: _results(out, str(spec_path), model.name, ordered),
            digest(["results", code_version(), state_key]),
            record,
            options.force,
            emit,
        )
        report = _final(
            "report",
            lambda: _report(out, spec_text, str(spec_path), [*ordered, results]),
            digest(["report", code_version(), state_key, spec_text, _viewer_state()]),
            record,
            options.force,
            emit,
        )
    return BuildResult(
        str(spec_path), out, model.name, (*ordered, results, report), time.perf_counter() - t_start
    )


__all__ = ["FINAL_STAGES", "BuildBusyError", "BuildOptions", "BuildResult", "StageEvent", "run_build"]
