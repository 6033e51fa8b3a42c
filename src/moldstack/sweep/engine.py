"""Running a design sweep on Dask: every variant a task, results streamed into the Parquet store as they finish.

:func:`run_sweep` expands the factors into variants (:func:`moldstack.sweep.doe.design`), opens the results
folder (:class:`moldstack.sweep.store.ResultStore`; with ``resume`` only the variants not yet stored run), and
submits one task per variant to a Dask scheduler: by default a ``LocalCluster`` of one single-threaded worker
process per core (solver thread pools limited to one thread each, so workers do not oversubscribe the cores),
or any running scheduler given by its address (``tcp://host:8786``). What a task receives is the spec *text*
and the variant's values (a few kB), never a built model; each worker builds and analyses its variant itself.

Finished variants reach the store in the order they finish. An invalid variant is a row with status
``invalid`` and the validation reason; a task that raised on every try (``retries``) a row with status
``failed`` and the error. When a worker dies mid-task the scheduler reruns its task on another worker; the rows
already stored are untouched. On Ctrl-C the finished rows are flushed, the rest is cancelled and
:class:`SweepInterrupted` says that ``resume`` completes the sweep.

It knows Dask, the store and the evaluation's signature; nothing of the analyses themselves, and it prints nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

import moldstack
from moldstack.output import cores, jsonable
from moldstack.sweep.store import ResultStore, read_results, spec_sha256

if TYPE_CHECKING:
    import pyarrow as pa

    from moldstack.sweep.doe import Factor
    from moldstack.sweep.evaluate import EvalSettings

Evaluate = Callable[[str, Mapping[str, Any], Any], Mapping[str, Any]]
"""A variant's evaluation: ``(spec_text, values, settings) -> flat dict`` (see ``evaluate_variant``)."""

RETRIES = 2
"""Times the scheduler reruns a task that raised before the variant is recorded as failed."""
STATUSES = ("ok", "invalid", "failed")
WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "MALLOC_TRIM_THRESHOLD_": "65536",
}
"""Environment of the LocalCluster's worker processes: one thread per solver, since each worker is one core."""
CONNECT_TIMEOUT_S = 20


class SweepInterrupted(Exception):  # noqa: N818 - it is what happened, not a programming error
    """The sweep was stopped (Ctrl-C) after storing what had finished; ``resume`` completes it."""

    def __init__(self, result: SweepResult) -> None:
        self.result = result
        super().__init__(
            f"interrupted: {result.stored} of {result.total} variants stored in {result.path}; run the same "
            "sweep with --resume to complete it"
        )


@dataclass(frozen=True)
class SweepProgress:
    """Where a running sweep stands: variants done (stored, including earlier runs) of ``total``."""

    done: int
    total: int
    counts: Mapping[str, int]
    elapsed_s: float
    eta_s: float | None


@dataclass(frozen=True)
class SweepResult:
    """What a sweep left: the results folder and its counts.

    ``counts``: stored rows by status (all runs of this sweep); ``ran``: the variants this call evaluated;
    ``skipped``: those already stored (``resume``); ``seconds``: wall time of this call's evaluation (from the
    first submission to the last stored row, without starting the cluster); ``task_seconds``: the sum of the
    variants' own times; ``overhead_s_per_variant``: what the engine added per variant on top of the evaluation
    (``(seconds x workers - task_seconds) / ran``, scheduling, transfer and storing; an estimate).
    """

    path: Path
    total: int
    counts: Mapping[str, int]
    ran: int
    skipped: int
    seconds: float
    task_seconds: float
    overhead_s_per_variant: float | None
    workers: int
    scheduler: str
    interrupted: bool = False
    columns: tuple[str, ...] = field(default=())

    @property
    def stored(self) -> int:
        """Variants with a stored row."""
        return sum(self.counts.values())

    def table(self) -> pa.Table:
        """Every stored row as one pyarrow table."""
        return read_results(self.path)

    def rows(self) -> list[dict[str, Any]]:
        """Every stored row as a dict, in variant order."""
        return sorted(self.table().to_pylist(), key=lambda r: r["variant"])

    def to_dict(self) -> dict[str, Any]:
        return jsonable(dataclasses.asdict(self) | {"stored": self.stored})


def echo_variant(spec_text: str, values: Mapping[str, Any], settings: Any) -> dict[str, Any]:
    """A variant that does nothing: status ok and the values back. Measures the engine's own per-variant cost
    (submit, schedule, return, store) through the same path as a real evaluation."""
    del spec_text, settings
    return {"status": "ok", "reason": None, "seconds": 0.0} | {f"echo.{k}": v for k, v in values.items()}


def warm_worker() -> str:
    """Import what a variant's evaluation needs, once per worker process, before the first variant (run on every
    worker when the sweep starts, so the first variants do not carry the imports). Returns the moldstack version."""
    import moldstack  # noqa: PLC0415
    import moldstack.analysis.electrical  # noqa: PLC0415
    import moldstack.analysis.thermal  # noqa: PLC0415
    import moldstack.analysis.warpage  # noqa: PLC0415
    import moldstack.checks.verification  # noqa: PLC0415
    import moldstack.sweep.evaluate  # noqa: PLC0415

    return moldstack.__version__


def run_variant(
    evaluate: Evaluate, variant: int, spec_text: str, values: Mapping[str, Any], settings: Any
) -> dict[str, Any]:
    """The task a worker runs: ``evaluate`` one variant, stamped with its id, its time and the worker's address."""
    from distributed import get_worker  # noqa: PLC0415

    start = time.perf_counter()
    row = dict(evaluate(spec_text, values, settings))
    row.setdefault("seconds", time.perf_counter() - start)
    try:
        worker = get_worker().address
    except ValueError:  # run outside a worker (tests of the task itself)
        worker = None
    return row | {"variant": variant, "worker": worker}


def _spec_text(spec: str | Path) -> tuple[str, str]:
    """The spec's text and a name for it: ``spec`` is a file path, or the YAML text itself."""
    if isinstance(spec, Path) or ("\n" not in spec and Path(spec).is_file()):
        path = Path(spec)
        return path.read_text(encoding="utf-8"), str(path)
    return str(spec), "<spec text>"


def _factor_dict(factor: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(factor) and not isinstance(factor, type):
        return jsonable(dataclasses.asdict(factor))
    return jsonable({k: v for k, v in vars(factor).items() if not k.startswith("_")})


def _parsed_factors(factors: Sequence[Factor | str]) -> list[Factor]:
    from moldstack.sweep.doe import parse_vary  # noqa: PLC0415

    return [parse_vary(f) if isinstance(f, str) else f for f in factors]


def sweep_identity(
    spec_text: str,
    factors: Sequence[Factor],
    variants: Sequence[Mapping[str, Any]],
    *,
    design: str,
    samples: int | None,
    seed: int,
    settings: Any,
) -> dict[str, Any]:
    """What makes a sweep this sweep (stored as ``_sweep.json``; ``resume`` requires it to agree)."""
    return jsonable(
        {
            "spec_sha256": spec_sha256(spec_text),
            "factors": [_factor_dict(f) for f in factors],
            "design": design,
            "samples": samples,
            "seed": seed,
            "settings": dataclasses.asdict(settings) if dataclasses.is_dataclass(settings) else settings,
            "variants": [{"variant": i, "values": dict(v)} for i, v in enumerate(variants)],
            "moldstack": moldstack.__version__,
        }
    )


def _status_counts(path: Path) -> dict[str, int]:
    table = read_results(path)
    if "status" not in table.column_names:
        return {}
    return dict(Counter(str(s) for s in table.column("status").to_pylist()))


def _client(scheduler: str | None, workers: int | None) -> tuple[Any, Any, int, str]:
    """A Dask client (and the LocalCluster it owns, or None), the number of workers and the scheduler's address."""
    from distributed import Client, LocalCluster  # noqa: PLC0415

    if scheduler:
        if "://" not in scheduler:
            raise ValueError(
                f"--scheduler {scheduler}: not a scheduler address; give one like tcp://host:8786"
            )
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise OSError(f"--scheduler {scheduler}: cannot reach the scheduler ({exc})") from None
        n = len(client.scheduler_info().get("workers", {})) or 1
        return client, None, n, scheduler
    n = workers or cores()
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
        env=WORKER_ENV,
    )
    return Client(cluster), cluster, n, str(cluster.scheduler_address)


def _failed_row(variant: int, values: Mapping[str, Any], exc: BaseException | None) -> dict[str, Any]:
    reason = f"{type(exc).__name__}: {exc}" if exc is not None else "the task was lost"
    return {"variant": variant, "status": "failed", "reason": f"failed after {RETRIES + 1} tries: {reason}"}


def run_sweep(
    spec: str | Path,
    factors: Sequence[Factor | str],
    *,
    design: str = "full",
    samples: int | None = None,
    seed: int = 0,
    settings: EvalSettings | None = None,
    out: str | Path = "results.parquet",
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    force: bool = False,
    progress: Callable[[SweepProgress], None] | None = None,
    evaluate: Evaluate | None = None,
    flush_rows: int | None = None,
    flush_seconds: float | None = None,
) -> SweepResult:
    """Evaluate every variant of a design of experiments on Dask and store the rows in ``out`` (a Parquet folder).

    ``spec``: the spec file (or its YAML text); ``factors``: :class:`~moldstack.sweep.doe.Factor` or ``--vary``
    texts (``PATH=START:STOP:N``, ``PATH=a,b,c``); ``design``/``samples``/``seed``: full grid, Latin hypercube or
    Sobol (:func:`~moldstack.sweep.doe.design`); ``settings``: the analyses per variant; ``scheduler``: a running
    Dask scheduler's address, else a LocalCluster of ``workers`` processes (default one per core);
    ``resume``: complete the sweep already in ``out`` (its identity must agree); ``force``: replace what ``out``
    holds; ``progress``: called after every stored row; ``evaluate``: the task (default
    :func:`~moldstack.sweep.evaluate.evaluate_variant`; :func:`echo_variant` measures the engine alone);
    ``flush_rows``/``flush_seconds``: when a part is written.

    Raises :class:`~moldstack.sweep.doe.SweepInputError` for a bad factor or design,
    :class:`~moldstack.sweep.store.SweepStoreError` for a results folder it may not use, :class:`OSError` when
    the scheduler cannot be reached, :class:`SweepInterrupted` on Ctrl-C (after storing what finished).
    """
    from distributed import as_completed  # noqa: PLC0415

    from moldstack.sweep import doe, variants  # noqa: PLC0415
    from moldstack.sweep.evaluate import EvalSettings, evaluate_variant, output_columns  # noqa: PLC0415

    settings = settings if settings is not None else EvalSettings()
    evaluate = evaluate or evaluate_variant
    spec_text, _name = _spec_text(spec)
    parsed = _parsed_factors(factors)
    data = yaml.safe_load(spec_text)
    variants.check_paths(data, parsed)
    points = doe.design(parsed, kind=design, samples=samples, seed=seed)
    identity = sweep_identity(
        spec_text, parsed, points, design=design, samples=samples, seed=seed, settings=settings
    )
    inputs = [f.path for f in parsed]
    outputs = output_columns(spec_text, settings) if evaluate is evaluate_variant else []
    options: dict[str, Any] = {}
    if flush_rows is not None:
        options["flush_rows"] = flush_rows
    if flush_seconds is not None:
        options["flush_seconds"] = flush_seconds
    path = Path(out)
    store = ResultStore(path, identity, inputs, outputs, resume=resume, force=force, **options)
    todo = [i for i in range(len(points)) if i not in store.done]
    total, skipped = len(points), len(points) - len(todo)
    counts = Counter(_status_counts(path)) if skipped else Counter()
    task_seconds = 0.0

    def report(start: float) -> None:
        if progress is None:
            return
        done = sum(counts.values())
        elapsed = time.perf_counter() - start
        ran = done - skipped
        eta = elapsed / ran * (total - done) if ran else None
        progress(SweepProgress(done, total, dict(counts), elapsed, eta))

    def result(start: float, n_workers: int, address: str, *, interrupted: bool = False) -> SweepResult:
        seconds = time.perf_counter() - start
        ran = sum(counts.values()) - skipped
        overhead = max(0.0, seconds * n_workers - task_seconds) / ran if ran else None
        return SweepResult(
            path=path,
            total=total,
            counts=_status_counts(path),
            ran=ran,
            skipped=skipped,
            seconds=seconds,
            task_seconds=task_seconds,
            overhead_s_per_variant=overhead,
            workers=n_workers,
            scheduler=address,
            interrupted=interrupted,
            columns=tuple(store.schema.names),
        )

    if not todo:
        store.close()
        return result(time.perf_counter(), 0, scheduler or "")
    client, cluster, n_workers, address = _client(scheduler, workers)
    start = time.perf_counter()
    sha = identity["spec_sha256"][:12]
    futures: dict[Any, int] = {}
    try:
        try:
            client.run(warm_worker)  # the imports once per worker, outside the sweep's time
        except Exception as exc:
            raise OSError(
                f"the Dask workers at {address} cannot run moldstack ({type(exc).__name__}: {exc}); "
                "install moldstack on every worker"
            ) from exc
        start = time.perf_counter()
        report(start)
        for i in todo:
            future = client.submit(
                run_variant,
                evaluate,
                i,
                spec_text,
                points[i],
                settings,
                key=f"moldstack-variant-{sha}-{i}-{time.time_ns()}",
                pure=False,
                retries=RETRIES,
            )
            futures[future] = i
        for future in as_completed(futures):
            i = futures[future]
            if future.status == "finished":
                row = dict(future.result())
            else:
                try:
                    exc = future.exception()
                except Exception as lost:  # a cancelled or lost future: record why
                    exc = lost
                row = _failed_row(i, points[i], exc)
            row |= dict(points[i])
            row["variant"] = i
            task_seconds += float(row.get("seconds") or 0.0)
            counts[str(row.get("status"))] += 1
            store.add(row)
            future.release()
            report(start)
        store.close()
    except KeyboardInterrupt:
        store.close()
        client.cancel(list(futures))
        raise SweepInterrupted(result(start, n_workers, address, interrupted=True)) from None
    finally:
        store.close()
        client.close()
        if cluster is not None:
            cluster.close()
    return result(start, n_workers, address)


__all__ = [
    "SweepInterrupted",
    "SweepProgress",
    "SweepResult",
    "echo_variant",
    "run_sweep",
    "run_variant",
    "sweep_identity",
]
