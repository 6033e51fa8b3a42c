"""The ``moldstack build`` command: every stage into one folder with a live progress display and a summary.

On a terminal a table shows each stage (running, done, from the cache, failed), its time and what a running
stage is doing now; elsewhere (a log, CI) one line per finished stage. The summary gives the claims that hold,
the checks' verdicts, Tj and the thermal resistances, the key R/L/C, the warpage, the stack verdict, the slowest
stages, every failure with its reason, and the path of ``report.html``. Exit codes: 0 every stage done; 3 a
stage failed (the others' outputs are written; the summary and the report say which and why); 2 bad input.
Registers on :data:`moldstack.cli.app`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from moldstack.build_run import FINAL_STAGES, BuildBusyError, BuildOptions, BuildResult, StageEvent, run_build
from moldstack.build_stages import STAGE_NAMES, STAGES
from moldstack.cli import (
    EXIT_NOT_CONVERGED,
    THETA_NAMES,
    JsonOpt,
    OutDirOpt,
    SpecArg,
    UsageError,
    app,
    console,
    reporting,
)
from moldstack.output import json_text

EXIT_STAGE_FAILED = EXIT_NOT_CONVERGED  # 3: an analysis (or another stage) did not complete
SLOW_S = 5.0  # stages at least this long are named in the summary
MARKS = {"ran": ("✓", "green"), "cached": ("↺", "cyan"), "failed": ("✗", "bold red")}
MARKS |= {"skipped": ("-", "dim"), "not applicable": ("·", "dim")}


class _Board:
    """The live table: one row per stage with its mark, time and current activity."""

    def __init__(self, names: list[str], descriptions: dict[str, str]) -> None:
        self.names = names
        self.descriptions = descriptions
        self.started: dict[str, float] = {}
        self.activity: dict[str, str] = {}
        self.done: dict[str, Any] = {}
        self.t0 = time.monotonic()

    def update(self, event: StageEvent) -> None:
        if event.kind == "start":
            self.started[event.stage] = event.time
            self.activity[event.stage] = ""
        elif event.kind == "say":
            self.activity[event.stage] = event.text
        elif event.status is not None:
            self.done[event.stage] = event.status

    def __rich__(self) -> Group:
        table = Table.grid(padding=(0, 1))
        table.add_column(width=2)
        table.add_column(min_width=11)
        table.add_column(justify="right", min_width=7)
        table.add_column(overflow="ellipsis", no_wrap=True)
        now = time.monotonic()
        for name in self.names:
            status = self.done.get(name)
            if status is not None:
                mark, style = MARKS[status.state]
                seconds = f"{status.seconds:.1f} s" if status.state == "ran" else ""
                note = status.error if status.error else ("from cache" if status.state == "cached" else "")
                table.add_row(Text(mark, style=style), Text(name), seconds, Text(note or "", style="dim"))
            elif name in self.started:
                elapsed = now - self.started[name]
                table.add_row(
                    Spinner("dots", style="yellow"),
                    Text(name, style="bold"),
                    f"{elapsed:.1f} s",
                    Text(self.activity.get(name) or self.descriptions.get(name, ""), style="yellow"),
                )
            else:
                table.add_row(
                    Text("·", style="dim"), Text(name, style="dim"), "", Text("waiting", style="dim")
                )
        return Group(table, Text(f"elapsed {now - self.t0:.1f} s", style="dim"))


def _line(event: StageEvent) -> None:
    """One line per finished stage, for logs (no live display)."""
    status = event.status
    if event.kind != "done" or status is None:
        return
    mark, style = MARKS[status.state]
    text = Text(f"  {mark} ", style=style) + Text(f"{status.name:<11}")
    if status.state == "ran":
        text += Text(f" {status.seconds:6.1f} s")
    elif status.state == "cached":
        text += Text("  from cache", style="dim")
    else:
        text += Text(f"  {status.state}", style="dim")
    if status.error:
        text += Text(f"  {status.error}", style="red" if status.state == "failed" else "dim")
    console.print(text)


def _figures(result: BuildResult) -> list[str]:
    """The summary's lines of key figures, from each stage's summary."""
    lines = []

    def summary(name: str) -> dict[str, Any]:
        status = result.status(name)
        return status.summary if status is not None and status.done else {}

    if model := summary("model"):
        lines.append(
            f"{model['solids']} solids, {model['parts']} parts, {model['units']} conductive units in "
            f"{model['assemblies']} assembl{'ies' if model['assemblies'] != 1 else 'y'}"
        )
    if claims := summary("claims"):
        lines.append(f"claims that hold: {', '.join(claims['held']) or 'none'}")
    if checks := summary("checks"):
        lines.append(f"checks: DRC {checks['drc']}, LVS {checks['lvs_summary']}, stack {checks['stack']}")
    if th := summary("thermal"):
        thetas = ", ".join(f"{THETA_NAMES.get(k, k)} {v:.2f}" for k, v in th["resistances_k_per_w"].items())
        lines.append(
            f"thermal: Tj max {th['tj_max_c']:.1f} C at {th['power_w']:g} W in {th['environment']}; {thetas} K/W"
        )
    if el := summary("electrical"):
        r0, r1 = (v * 1e3 for v in el["r_dc_ohm"])
        l0, l1 = (v * 1e9 for v in el["l_partial_h"])
        line = f"electrical: {el['nets']} nets, R dc {r0:.1f}-{r1:.1f} mOhm, L partial {l0:.2f}-{l1:.2f} nH"
        if "c_self_f" in el:
            c0, c1 = (v * 1e12 for v in el["c_self_f"])
            line += f", C {c0:.3f}-{c1:.3f} pF ({el.get('capacitance_grid', '')} grid)"
        lines.append(line)
        for net, f in el.get("declared", {}).items():
            text = f"  {net}: R {f['r_dc_ohm'] * 1e3:.2f} mOhm, L {f['l_partial_h'] * 1e9:.2f} nH"
            if "c_self_f" in f:
                text += f", C {f['c_self_f'] * 1e12:.3f} pF"
            lines.append(text)
    if wp := summary("warpage"):
        ranges = ", ".join(
            f"{n} {v['min_um']:+.0f}..{v['max_um']:+.0f}" for n, v in wp["diagonal_um"].items()
        )
        lines.append(f"warpage over the diagonal, 25-{wp['peak_c']:g}-25 C: {ranges} um (+ convex)")
    if fp := summary("footprint"):
        names = ", ".join(f"{v['name']} ({v['pads']} pads)" for v in fp.values())
        lines.append(f"footprints: {names}")
    if pr := summary("process"):
        agreement = f", agreement with the direct build {pr['agreement']:.3f}" if pr.get("agreement") else ""
        lines.append(f"process: {pr['steps']} steps by the claimed method{agreement}")
    return lines


def _print_summary(result: BuildResult) -> None:
    counts: dict[str, int] = {}
    for s in result.stages:
        counts[s.state] = counts.get(s.state, 0) + 1
    tally = ", ".join(f"{n} {state}" for state, n in counts.items())
    style = "bold" if result.ok else "bold red"
    console.print(
        Text(f"built {result.design} from {result.spec} in {result.seconds:.1f} s ({tally})", style=style)
    )
    for line in _figures(result):
        console.print(f"  {line}")
    slow = sorted(
        (s for s in result.stages if s.state == "ran" and s.seconds >= SLOW_S), key=lambda s: -s.seconds
    )
    if slow:
        console.print("  slowest: " + ", ".join(f"{s.name} {s.seconds:.1f} s" for s in slow[:3]))
    for s in result.failed:
        log = result.out_dir / ".moldstack" / "logs" / f"{s.name}.log"
        where = f" (traceback: {log})" if log.exists() else ""
        console.print(Text(f"  failed: {s.name}: {s.error}{where}", style="red"))
    files = sum(len(s.files) for s in result.stages if s.done)
    console.print(f"  {files} files in {result.out_dir}")
    report = result.status("report")
    if report is not None and report.done:
        console.print(Text(f"open {result.report}", style="bold"))


SkipOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--skip",
        metavar="STAGE",
        help="Leave a stage out (repeatable): " + ", ".join(STAGE_NAMES) + ".",
        show_default=False,
    ),
]


@app.command()
def build(
    ctx: typer.Context,
    spec: SpecArg,
    out_dir: OutDirOpt,
    skip: SkipOpt = None,
    deck: Annotated[
        Path | None,
        typer.Option(
            "--deck", metavar="DECK", help="A DRC rule deck (YAML) for the checks.", show_default=False
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run every stage, even those whose outputs are current.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="Worker processes (default: one per core).", show_default=False
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a spec into a folder: model exports, checks, analyses, footprints and report.html.

    Stages run in parallel, each file is written atomically, and a stage whose inputs did not change since the
    last build into the folder is kept (--force runs it again). A stage that fails is reported with the reason
    and the others go on (exit code 3).
    """
    with reporting(ctx, str(spec)):
        for name in skip or []:
            if name not in STAGE_NAMES:
                raise UsageError(f"--skip {name}: not a stage; stages are {', '.join(STAGE_NAMES)}")
        if out_dir.exists() and not out_dir.is_dir():
            raise UsageError(f"{out_dir}: is a file; give a folder for the outputs")
        options = BuildOptions(deck=deck, skip=tuple(skip or ()), force=force, jobs=jobs)
        names = [s.name for s in STAGES if s.name not in options.skip] + [n for n, _ in FINAL_STAGES]
        descriptions = {s.name: s.description for s in STAGES} | dict(FINAL_STAGES)
        board = _Board(names, descriptions)
        live = Live(board, console=console, refresh_per_second=8, transient=False)

        def show(event: StageEvent) -> None:
            if event.kind == "begin":  # the spec is valid and the model built: from here on, progress
                console.print(
                    Text(f"building {event.stage} from {spec} into {out_dir}: {event.text}", style="bold")
                )
                if console.is_terminal:
                    live.start()
            elif console.is_terminal:
                board.update(event)
            else:
                _line(event)

        try:
            result = run_build(spec, out_dir, options, None if as_json else show)
        except BuildBusyError as exc:
            raise UsageError(str(exc)) from None
        finally:
            live.stop()
    if as_json:
        typer.echo(json_text(result.to_dict()), nl=False)
    else:
        _print_summary(result)
    if not result.ok:
        raise typer.Exit(EXIT_STAGE_FAILED)


__all__ = ["EXIT_STAGE_FAILED", "build"]
