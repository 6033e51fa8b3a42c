"""The ``moldstack check`` and ``moldstack warpage`` commands: sign-off and warpage over reflow, printed with rich.

``check`` exits 1 when a check fails (a design-rule violation, an LVS error, an incompatible stack); both exit 2
on bad input. They register on :data:`moldstack.cli.app`, which imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

import moldstack
from moldstack.cli import JsonOpt, SpecArg, UsageError, app, console, err_console, reporting
from moldstack.output import json_text

if TYPE_CHECKING:
    from moldstack.analysis.warpage import WarpageResult
    from moldstack.checks.stack import StackResult
    from moldstack.checks.verification import Verification

EXIT_CHECK_FAILED = 1
SHOWN = 12

OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", metavar="OUT", help="Write the JSON files and figures here.", show_default=False
    ),
]


def _verdict(ok: bool, text: str) -> Text:
    return Text(text, style="green" if ok else "bold red")


def _print_verification(v: Verification) -> None:
    summary = v.summary()
    console.print(Text("DRC: ", style="bold") + _verdict(v.drc.passed, summary["drc"]))
    if v.drc.violations:
        table = Table("rule", "value", "limit", "where", "parts")
        for violation in v.drc.violations[:SHOWN]:
            x, y, z = violation.location
            table.add_row(
                violation.rule,
                f"{violation.value:.4g} {violation.unit}",
                f"{violation.limit:.4g}",
                f"({x:.0f}, {y:.0f}, {z:.0f})",
                ", ".join(violation.parts[:2]),
            )
        console.print(table)
        if len(v.drc.violations) > SHOWN:
            console.print(f"  ... and {len(v.drc.violations) - SHOWN} more (drc.json / --json)")
    console.print(Text("LVS: ", style="bold") + _verdict(v.lvs.passed, summary["lvs"]))
    for line in v.lvs.problem_lines()[:SHOWN]:
        console.print(f"  {line}")
    _print_stack(v.stack)


def _print_stack(stack: StackResult) -> None:
    console.print(Text("stack: ", style="bold") + _verdict(stack.passed, stack.verdict))
    for iface in stack.interfaces:
        worst = float(iface.mismatch_um.max()) if len(iface.mismatch_um) else 0.0
        console.print(
            f"  {iface.name}: {iface.matched}/{iface.upper_units} units aligned, joints "
            f"{iface.joint_height_um:.0f} -> {iface.equilibrium_height_um:.0f} um molten, "
            f"warpage mismatch up to {worst:.1f} um"
            + (f" (limit {iface.jeita_limit_um:.0f} um)" if iface.jeita_limit_um is not None else "")
        )
    for reason in stack.reasons:
        console.print(Text(f"  - {reason}", style="red"))
    if stack.interfaces:
        console.print(
            f"  stack height {stack.height_um:.0f} um as placed, {stack.height_after_reflow_um:.0f} um after reflow"
        )


@app.command()
def check(
    ctx: typer.Context,
    spec: SpecArg,
    deck: Annotated[
        Path | None,
        typer.Option(
            "--deck",
            metavar="RULES.yaml",
            help="Rule overrides (rules: {unit_spacing: {limit: 80}}) on top of the shipped deck.",
            show_default=False,
        ),
    ] = None,
    out_dir: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Design rules (DRC), connectivity against the intended nets (LVS) and stack compatibility over reflow.

    Exit 1 if any of them fails."""
    from moldstack.output import write_verification  # noqa: PLC0415

    with reporting(ctx, str(deck) if deck is not None else str(spec)):
        if deck is not None and not deck.is_file():
            raise UsageError(f"--deck {deck}: no such file")
        rules = None
        if deck is not None:
            from moldstack.checks.rule_deck import load_deck  # noqa: PLC0415

            rules = load_deck(deck)
    with reporting(ctx, str(spec)):
        model = moldstack.build(str(spec))
        with err_console.status(f"checking {model.name} ..."):
            result = moldstack.check(model, rules)
        written = write_verification(result, model, out_dir) if out_dir is not None else []
    if as_json:
        typer.echo(json_text(result.to_dict() | {"outputs": [str(p) for p in written]}), nl=False)
    else:
        console.print(
            Text(f"{model.name}: {'passes' if result.passed else 'FAILS'} its checks", style="bold")
        )
        _print_verification(result)
        for path in written:
            console.print(Text(f"wrote {path}"))
    if not result.passed:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _warpage_table(result: WarpageResult) -> Table:
    table = Table("package", "side mm", "25 C um", "peak um", "extremes um")
    for a in result.assemblies:
        w = a.warpage_diagonal_um
        t = a.temperatures_c
        lo, hi = int(w.argmin()), int(w.argmax())
        table.add_row(
            a.name,
            f"{max(a.size_um) / 1000:g}",
            f"{w[0]:+.1f}",
            f"{w[a.peak_index]:+.1f}",
            f"{w[lo]:+.1f} ({t[lo]:g} C) / {w[hi]:+.1f} ({t[hi]:g} C)",
        )
    return table


@app.command()
def warpage(
    ctx: typer.Context,
    spec: SpecArg,
    profile: Annotated[
        str,
        typer.Option("--profile", help="The temperature profile: reflow (JEDEC J-STD-020-like, Pb-free)."),
    ] = "reflow",
    peak: Annotated[
        float, typer.Option("--peak", metavar="C", help="Peak temperature of the profile.")
    ] = 260.0,
    step: Annotated[
        float, typer.Option("--step", metavar="C", help="Temperature step of the profile.")
    ] = 5.0,
    stress_free: Annotated[
        float,
        typer.Option(
            "--stress-free", metavar="C", help="Where the packages are flat: the mold cure temperature."
        ),
    ] = 175.0,
    out_dir: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Warpage of each package over a reflow profile (laminate theory; + convex, - concave, JEITA ED-7306), and
    for a stack the gap change at the joints and its risk to them."""
    from moldstack.analysis.warpage import WarpageSettings  # noqa: PLC0415
    from moldstack.checks.stack import stack_compatibility  # noqa: PLC0415
    from moldstack.output import write_warpage  # noqa: PLC0415

    with reporting(ctx, str(spec)):
        if profile != "reflow":
            raise UsageError(f"--profile {profile}: not a known profile; known: reflow")
        settings = WarpageSettings(peak_c=peak, step_c=step, stress_free_c=stress_free)
        model = moldstack.build(str(spec))
        result = moldstack.warpage(model, settings)
        stack = stack_compatibility(model, result)
        written = write_warpage(result, out_dir, stack) if out_dir is not None else []
    if as_json:
        data = result.to_dict() | {"stack": stack.to_dict(), "outputs": [str(p) for p in written]}
        typer.echo(json_text(data), nl=False)
        return
    console.print(
        Text(
            f"{model.name}: warpage over the body diagonal, 25 -> {peak:g} -> 25 C, flat at {stress_free:g} C "
            "(+ convex, - concave)",
            style="bold",
        )
    )
    console.print(_warpage_table(result))
    if stack.interfaces:
        _print_stack(stack)
    for path in written:
        console.print(Text(f"wrote {path}"))
