"""The ``moldstack sweep`` command: a design of experiments on Dask, streamed into a Parquet results folder.

A progress bar (done/total, ok/invalid/failed, elapsed, ETA) on stderr while it runs; then a summary table
(counts by status, times, the range of each numeric output), the Pareto front of ``--pareto`` objectives and
the paths written. Exit codes: 0 the sweep completed (invalid and failed variants are rows, not errors); 2 bad
input (an option, the spec, a results folder that may not be reused); 130 interrupted (what finished is
stored; ``--resume`` completes it). Registers on :data:`moldstack.cli.app`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from moldstack.cli import JsonOpt, SpecArg, UsageError, app, console, err_console, reporting
from moldstack.output import json_text

EXIT_INTERRUPTED = 130
PARETO_SHOWN = 20


class DesignChoice(StrEnum):
    """The designs of experiments (:func:`moldstack.sweep.doe.design`)."""

    full = "full"
    lhs = "lhs"
    sobol = "sobol"


class _Bar:
    """The rich progress bar fed by the engine's progress callback."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def __call__(self, state: Any) -> None:
        counts = state.counts
        text = " ".join(f"{k} {counts.get(k, 0)}" for k in ("ok", "invalid", "failed"))
        if self.task is None:
            self.task = self.progress.add_task("sweep", total=state.total, counts=text)
        self.progress.update(self.task, completed=state.done, counts=text)


def _settings(analyses: str | None, coarse: bool, capacitance: bool) -> Any:
    from moldstack.sweep.evaluate import ANALYSES, EvalSettings  # noqa: PLC0415

    if analyses is None:
        return EvalSettings(coarse=coarse, capacitance=capacitance)
    names = tuple(a.strip() for a in analyses.split(",") if a.strip())
    unknown = [a for a in names if a not in ANALYSES]
    if unknown or not names:
        raise UsageError(
            f"--analyses {analyses}: {', '.join(unknown) or 'empty'} is not an analysis; "
            f"give a comma list of {', '.join(ANALYSES)}"
        )
    return EvalSettings(analyses=names, coarse=coarse, capacitance=capacitance)


def _numeric_ranges(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> list[tuple[str, float, float]]:
    ranges = []
    for name in columns:
        values = [
            float(r[name])
            for r in rows
            if isinstance(r.get(name), int | float)
            and not isinstance(r.get(name), bool)
            and math.isfinite(float(r[name]))
        ]
        if values:
            ranges.append((name, min(values), max(values)))
    return ranges


def output_names(columns: Sequence[str], inputs: Sequence[str]) -> list[str]:
    """The output columns of a results table: neither the variant id, an input nor a status column."""
    from moldstack.sweep.store import STATUS_COLUMNS  # noqa: PLC0415

    return [c for c in columns if c != "variant" and c not in inputs and c not in STATUS_COLUMNS]


def summary(result: Any, rows: Sequence[Mapping[str, Any]], inputs: Sequence[str]) -> dict[str, Any]:
    """The summary of a sweep: counts, times and the range of every numeric output over the ok variants."""
    ok = [r for r in rows if r.get("status") == "ok"]
    seconds = [float(r["seconds"]) for r in rows if isinstance(r.get("seconds"), int | float)]
    return {
        "total": result.total,
        "counts": dict(result.counts),
        "ran": result.ran,
        "skipped": result.skipped,
        "workers": result.workers,
        "scheduler": result.scheduler,
        "wall_s": result.seconds,
        "variant_s_mean": sum(seconds) / len(seconds) if seconds else None,
        "overhead_s_per_variant": result.overhead_s_per_variant,
        "ranges": [
            {"output": n, "min": lo, "max": hi}
            for n, lo, hi in _numeric_ranges(ok, output_names(result.columns, inputs))
        ],
    }


def _summary_table(data: Mapping[str, Any]) -> Table:
    table = Table("", "value", title="Sweep summary", show_header=False)
    counts = data["counts"]
    table.add_row("variants", f"{data['total']} ({data['skipped']} stored earlier, {data['ran']} run now)")
    table.add_row("by status", ", ".join(f"{k} {counts.get(k, 0)}" for k in ("ok", "invalid", "failed")))
    table.add_row("workers", f"{data['workers']} on {data['scheduler']}")
    table.add_row("wall time", f"{data['wall_s']:.1f} s")
    if data["variant_s_mean"] is not None:
        table.add_row("per variant", f"{data['variant_s_mean']:.3g} s on a worker")
    if data["overhead_s_per_variant"] is not None:
        table.add_row(
            "engine overhead",
            f"{data['overhead_s_per_variant'] * 1000:.0f} ms per variant (scheduling, worker start-up, storing)",
        )
    for item in data["ranges"]:
        table.add_row(item["output"], f"{item['min']:.4g} .. {item['max']:.4g}")
    return table


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _pareto_table(
    rows: Sequence[Mapping[str, Any]], inputs: Sequence[str], objectives: Mapping[str, Any]
) -> Table:
    names = list(dict.fromkeys(["variant", *inputs, *objectives]))
    table = Table(*names, title=f"Pareto front ({len(rows)} variants)")
    for row in rows[:PARETO_SHOWN]:
        table.add_row(*(_cell(row.get(n)) for n in names))
    return table


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row with its timestamp as ISO text (for JSON)."""
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in row.items()}


def _bad(option: str, value: Any, rule: str) -> UsageError:
    return UsageError(f"{option} {value}: {rule}")


@app.command()
def sweep(
    ctx: typer.Context,
    spec: SpecArg,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="RESULTS.parquet",
            help="The results folder (a Parquet dataset, one part per batch).",
        ),
    ] = Path("results.parquet"),
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            metavar="PATH=START:STOP:N",
            help="A factor: a spec path and its values (START:STOP:N, log:START:STOP:N or a,b,c). Repeat it.",
            show_default=False,
        ),
    ] = None,
    design: Annotated[DesignChoice, typer.Option("--design", help="Full grid, Latin hypercube or Sobol.")] = (
        DesignChoice.full
    ),
    samples: Annotated[
        int | None,
        typer.Option("--samples", metavar="N", help="Points of an lhs or sobol design.", show_default=False),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of an lhs or sobol design.")] = 0,
    analyses: Annotated[
        str | None,
        typer.Option(
            "--analyses",
            metavar="A,B",
            help="Comma list of thermal, electrical, warpage, check (default: the evaluation's).",
            show_default=False,
        ),
    ] = None,
    coarse: Annotated[bool, typer.Option("--coarse", help="Coarse grids: fast screening.")] = False,
    capacitance: Annotated[
        bool, typer.Option("--capacitance", help="Also extract capacitances (slow).")
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="A running Dask scheduler (tcp://host:8786); default: a local cluster.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            help="Workers of the local cluster (default: one per core).",
            show_default=False,
        ),
    ] = None,
    pareto: Annotated[
        str | None,
        typer.Option(
            "--pareto",
            metavar="OBJ:min,OBJ:max",
            help="Objectives of a Pareto front: a table, pareto.png and pareto.csv beside the results.",
            show_default=False,
        ),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Write results.html beside the results folder.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Complete the sweep in the results folder.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace what the results folder holds.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Sweep a design: evaluate every variant of a design of experiments on Dask; the rows stream into a Parquet
    folder (inputs, outputs, status, time, worker) as they finish. Invalid variants are rows with the reason."""
    from moldstack.sweep.doe import SweepInputError  # noqa: PLC0415
    from moldstack.sweep.engine import SweepInterrupted, run_sweep  # noqa: PLC0415
    from moldstack.sweep.store import SweepStoreError, read_identity  # noqa: PLC0415

    with reporting(ctx, str(spec)):
        if not vary:
            raise _bad("--vary", "(none)", "give at least one factor, e.g. --vary die.power_w=0.5:2:4")
        if samples is not None and samples < 1:
            raise _bad("--samples", samples, "must be at least 1")
        if workers is not None and workers < 1:
            raise _bad("--workers", workers, "must be at least 1")
        if scheduler is not None and "://" not in scheduler:
            raise _bad("--scheduler", scheduler, "not a scheduler address; give one like tcp://host:8786")
        if resume and force:
            raise UsageError(
                "--resume and --force: give one of them (complete the stored sweep, or replace it)"
            )
        if not spec.is_file():
            raise UsageError(f"{spec}: no such file")
        objectives: dict[str, Any] = {}
        if pareto is not None:
            from moldstack.sweep.pareto import parse_objectives  # noqa: PLC0415

            try:
                objectives = dict(parse_objectives(pareto))
            except ValueError as exc:
                raise _bad("--pareto", pareto, str(exc)) from None
        settings = _settings(analyses, coarse, capacitance)
        progress = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err_console,
            disable=as_json,
        )
        try:
            with progress:
                result = run_sweep(
                    spec,
                    vary,
                    design=design.value,
                    samples=samples,
                    seed=seed,
                    settings=settings,
                    out=out,
                    scheduler=scheduler,
                    workers=workers,
                    resume=resume,
                    force=force,
                    progress=_Bar(progress),
                )
        except (SweepInputError, SweepStoreError) as exc:
            raise UsageError(str(exc)) from None
        except SweepInterrupted as stop:
            err_console.print(Text(f"{stop}", style="bold yellow"))
            raise typer.Exit(EXIT_INTERRUPTED) from None
        identity = read_identity(out) or {}
        inputs = [f["path"] for f in identity.get("factors", [])]
        rows = result.rows()
        data = summary(result, rows, inputs)
        written: list[Path] = []
        front: list[dict[str, Any]] = []
        if objectives:
            from moldstack.sweep.pareto import pareto_front, write_pareto  # noqa: PLC0415

            ok = [r for r in rows if r.get("status") == "ok"]
            missing = [o for o in objectives if ok and o not in ok[0]]
            if missing:
                raise _bad("--pareto", pareto, f"{', '.join(missing)} is not an output of this sweep")
            front = [ok[i] for i in pareto_front(ok, objectives)] if ok else []
            if ok:
                written += write_pareto(ok, objectives, out.parent / "pareto.png", out.parent / "pareto.csv")
        if report:
            from moldstack.sweep.report import write_sweep_report  # noqa: PLC0415

            written.append(
                write_sweep_report(
                    out.parent / "results.html",
                    rows=rows,
                    identity=identity,
                    summary=data,
                    spec_name=str(spec),
                    objectives=objectives,
                    front=front,
                    pareto_png=out.parent / "pareto.png" if objectives and front else None,
                )
            )
    if as_json:
        doc = result.to_dict() | {
            "summary": data,
            "pareto": {"objectives": objectives, "front": [_plain(r) for r in front]} if objectives else None,
            "outputs": [str(out), *(str(p) for p in written)],
        }
        typer.echo(json_text(doc), nl=False)
        return
    console.print(_summary_table(data))
    if objectives:
        console.print(_pareto_table(front, inputs, objectives))
    for path in [out, *written]:
        console.print(Text(f"wrote {path}"))
