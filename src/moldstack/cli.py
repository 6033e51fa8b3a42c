"""The ``moldstack`` command: thin on purpose. It parses arguments, calls the library and prints with rich.

Results go to stdout (with ``--json`` nothing but one JSON document); messages and spec problems go to stderr,
each naming the file it is about. Exit codes: 0 success; 2 bad input (spec problems, a missing or unreadable
file, a bad option); 70 an internal error (a bug in moldstack). No traceback reaches the user unless the
global ``--debug`` option is given.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

import moldstack
from moldstack.geometry.grid import GridTooLargeError
from moldstack.output import json_text, write_text
from moldstack.spec.errors import Problem, SpecError
from moldstack.spec.io import json_schema
from moldstack.templates import TEMPLATES, TemplateNotFoundError, template_path

EXIT_BAD_INPUT = 2
EXIT_NOT_CONVERGED = 3
EXIT_INTERNAL_ERROR = 70
PARTS_SHOWN = 3

app = typer.Typer(
    name="moldstack",
    help="Design, build, verify and analyse stackable molded microelectronic packages from one spec file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class Template(StrEnum):
    """The starter specs ``moldstack new`` can write (see :data:`moldstack.templates.TEMPLATES`)."""

    claim1 = "claim1"
    pop = "pop"
    stacked_die = "stacked-die"
    hollow_units = "hollow-units"


DEFAULT_TEMPLATE = Template.claim1


@dataclass(frozen=True)
class GlobalOptions:
    """Options given before the command, shared by every command."""

    debug: bool = False


class UsageError(Exception):
    """A bad file or option the user can fix; ends the command with exit code 2 and the message."""


OutDirOpt = Annotated[
    Path,
    typer.Option(
        "--out", "-o", metavar="OUT", help="Folder for the outputs (created if needed).", show_default=False
    ),
]
SpecArg = Annotated[Path, typer.Argument(metavar="SPEC", help="The spec file (YAML).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout, nothing else.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"moldstack {moldstack.__version__}")
        raise typer.Exit


@app.callback()
def _global_options(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show the Python traceback of any error.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Design, build, verify and analyse stackable molded microelectronic packages from one spec file.

    Lengths in specs are micrometres; the origin is the centre of the body's bottom face, z up.
    """
    ctx.obj = GlobalOptions(debug=debug)


def _debug(ctx: typer.Context) -> bool:
    options = ctx.find_root().obj
    return isinstance(options, GlobalOptions) and options.debug


def _say_error(message: str) -> None:
    err_console.print(Text("error: ", style="bold red") + Text(message))


def print_problems(source: str, problems: Sequence[Problem]) -> None:
    """Every problem on its own line, ``path (line N): message``, after a line naming the file when needed."""
    if any(p.path != source for p in problems):
        count = len(problems)
        err_console.print(Text(f"{source}: {count} problem{'s' if count != 1 else ''}", style="bold red"))
    for problem in problems:
        err_console.print(Text(str(problem)))


def _os_message(exc: OSError) -> str:
    reason = (exc.strerror or str(exc)).lower()
    return f"{exc.filename}: {reason}" if exc.filename else reason


@contextmanager
def reporting(ctx: typer.Context, source: str | None = None) -> Iterator[None]:
    """Turn errors into messages and exit codes; with ``--debug`` the traceback is printed first."""
    debug = _debug(ctx)
    try:
        yield
    except typer.Exit:
        raise
    except Exception as exc:
        if debug:
            traceback.print_exc()
        if isinstance(exc, SpecError):
            print_problems(source or "spec", exc.problems)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if isinstance(exc, UsageError | TemplateNotFoundError | GridTooLargeError):
            _say_error(str(exc))
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if isinstance(exc, OSError):
            _say_error(_os_message(exc))
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if type(exc).__name__ == "NotConvergedError":
            _say_error(f"the field solver did not converge: {exc}")
            raise typer.Exit(EXIT_NOT_CONVERGED) from None
        if type(exc).__name__ in (
            "ThermalInputError",
            "ElectricalInputError",
            "WarpageInputError",
            "FootprintError",
        ):
            _say_error(str(exc))
            raise typer.Exit(EXIT_BAD_INPUT) from None
        hint = "" if debug else "; run `moldstack --debug ...` for the traceback"
        _say_error(f"internal error ({type(exc).__name__}: {exc}){hint}. This is a bug in moldstack.")
        raise typer.Exit(EXIT_INTERNAL_ERROR) from None


@app.command()
def new(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The spec file to write.", show_default=False)],
    template: Annotated[
        Template, typer.Option("--template", "-t", help="Which starter design to copy.")
    ] = DEFAULT_TEMPLATE,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Write a commented starter spec, copied from a bundled example."""
    with reporting(ctx, str(file)):
        if file.is_dir():
            raise UsageError(f"{file}: is a folder; give the name of the spec file to write")
        if file.exists() and not force:
            raise UsageError(f"{file}: already exists; pass --force to overwrite it")
        example = template_path(template.value)
        header = (
            f"# Starter spec written by `moldstack new --template {template.value}` "
            f"from the example {TEMPLATES[template.value]}.\n"
            f"# Check it with `moldstack validate {file}`; see the JSON Schema with `moldstack schema`.\n"
        )
        file.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_text(file, header + example.read_text(encoding="utf-8"), overwrite=force)
        except FileExistsError:
            raise UsageError(f"{file}: already exists; pass --force to overwrite it") from None
    console.print(Text(f"wrote {file} (template {template.value}); check it with: moldstack validate {file}"))


@app.command()
def validate(ctx: typer.Context, spec: SpecArg) -> None:
    """Check a spec: print `ok`, or every problem (field path, line, what is wrong) and exit 2."""
    with reporting(ctx, str(spec)):
        moldstack.load(str(spec))
    console.print("ok")


@app.command()
def schema(ctx: typer.Context) -> None:
    """Print the spec's JSON Schema (for editor completion and validation)."""
    with reporting(ctx):
        text = json_schema()
    typer.echo(text)


def _parts_summary(parts: Sequence[Any]) -> str:
    names = [str(p) for p in parts]
    shown = ", ".join(names[:PARTS_SHOWN])
    more = ", ..." if len(names) > PARTS_SHOWN else ""
    return f"{len(names)} part{'s' if len(names) != 1 else ''}: {shown}{more}"


def _element_line(element: Mapping[str, Any]) -> Text:
    """``✓ words: N parts: a, b, c, ...`` for an element that holds, ``✗ words: reason`` for one that does not."""
    words = str(element["element"])
    parts = element.get("parts") or []
    if element["holds"]:
        line = Text("✓ ", style="green") + Text(words)
        return line + Text(f": {_parts_summary(parts)}") if parts else line
    reason = element.get("reason")
    return Text("✗ ", style="red") + Text(f"{words}: {reason}" if reason else words)


def claims_table(chart: Mapping[str, Any]) -> Table:
    """The claim chart (``ClaimChart.to_dict()``) as a table: claim, holds, each element's parts or reason."""
    table = Table(title="Claim chart", show_lines=True)
    table.add_column("claim", justify="right", no_wrap=True)
    table.add_column("holds", no_wrap=True)
    table.add_column("what it claims; each element with the parts that satisfy it, or why none does")
    for number, claim in chart["claims"].items():
        lines = [Text(str(claim.get("title") or ""), style="bold")]
        lines += [_element_line(e) for e in claim.get("elements", [])]
        if claim.get("note"):
            lines.append(Text(str(claim["note"]), style="italic"))
        table.add_row(
            str(number),
            Text("yes", style="bold green") if claim["holds"] else Text("no", style="red"),
            Text("\n").join(lines),
        )
    return table


def holding_claims(chart: Mapping[str, Any]) -> list[str]:
    """The numbers of the claims that hold, in the chart's order."""
    return [str(n) for n, claim in chart["claims"].items() if claim["holds"]]


FlowOpt = Annotated[
    Path | None,
    typer.Option(
        "--flow",
        metavar="FLOW",
        help="A process flow (YAML) for claims 21-23; default: the one generated from the spec, where the "
        "claimed method makes it.",
        show_default=False,
    ),
]


@app.command()
def claims(ctx: typer.Context, spec: SpecArg, as_json: JsonOpt = False, flow: FlowOpt = None) -> None:
    """The claim chart: whether each claim holds, with the parts that satisfy each element."""
    with reporting(ctx, str(spec)):
        design = moldstack.load(str(spec))
    with reporting(ctx, str(flow) if flow else str(spec)):
        chart = moldstack.claims(design, flow=flow).to_dict()
    if as_json:
        typer.echo(json_text(chart), nl=False)
        return
    console.print(claims_table(chart))
    held = holding_claims(chart)
    console.print(Text(f"{spec}: claims that hold: {', '.join(held) if held else 'none'}"))


FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="step, glb, stl, gds, oas, svg, png or kicad (default: from the file's suffix).",
        show_default=False,
    ),
]
OutFileOpt = Annotated[
    Path, typer.Option("--out", "-o", metavar="FILE", help="The file to write.", show_default=False)
]


def _ready_to_write(out: Path) -> None:
    if out.is_dir():
        raise UsageError(f"{out}: is a folder; give the name of the file to write")
    out.parent.mkdir(parents=True, exist_ok=True)


@app.command()
def export(ctx: typer.Context, spec: SpecArg, out: OutFileOpt, fmt: FormatOpt = None) -> None:
    """Write one view of the model: STEP, glTF (glb), STL, GDSII/OASIS (with its layer map) or a section figure."""
    from moldstack.exporters.formats import format_for  # noqa: PLC0415 - exporters load only when asked for

    with reporting(ctx, str(spec)):
        try:
            chosen = format_for(out, fmt)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        _ready_to_write(out)
        written = moldstack.export(str(spec), out, chosen.name)
    for path in written:
        console.print(Text(f"wrote {path}"))


@app.command()
def section(
    ctx: typer.Context,
    spec: SpecArg,
    plane: Annotated[
        str,
        typer.Option(
            "--plane",
            "-p",
            help="An axis-aligned plane in micrometres: x=0, y=-4200 or z=300.",
            show_default=False,
        ),
    ],
    out: OutFileOpt,
    exaggeration: Annotated[
        float | None,
        typer.Option(
            "--exaggeration",
            min=1.0,
            help="Vertical exaggeration of the overview (default: chosen).",
            show_default=False,
        ),
    ] = None,
    detail: Annotated[
        str | None,
        typer.Option(
            "--detail",
            metavar="U0:U1",
            help="True-scale detail window along the plane, in um; 'none' for no detail.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draw the cross section of the model at a plane, as SVG or PNG (by the file's suffix)."""
    from moldstack.exporters.section_figure import write_section_png, write_section_svg  # noqa: PLC0415
    from moldstack.geometry.section import Plane  # noqa: PLC0415

    with reporting(ctx, str(spec)):
        try:
            parsed = Plane.parse(plane)
        except ValueError as exc:
            raise UsageError(f"--plane: {exc}") from None
        if out.suffix.lower() not in (".svg", ".png"):
            raise UsageError(f"{out}: a section is written as .svg or .png, not '{out.suffix}'")
        window = _detail_window(detail)
        _ready_to_write(out)
        model = moldstack.build(str(spec))
        try:
            cut = moldstack.section(model, parsed)
        except ValueError as exc:
            raise UsageError(f"--plane: {exc}") from None
        write = write_section_png if out.suffix.lower() == ".png" else write_section_svg
        figure = write(cut, out, exaggeration=exaggeration, window=window)
    console.print(Text(f"wrote {figure.path}: {figure.pieces} pieces, plane {parsed}"))


@app.command()
def process(
    ctx: typer.Context,
    spec: SpecArg,
    out_dir: OutDirOpt,
    flow: FlowOpt = None,
    as_json: JsonOpt = False,
    compare: Annotated[
        bool, typer.Option("--compare/--no-compare", help="Compare the final state with the direct build.")
    ] = True,
) -> None:
    """Virtually fabricate the design by the claimed method (claims 21-23), step by step.

    Writes flow.yaml (edit it and pass it back with --flow), process.json, traveler.md/.html and one cross-section
    frame per step (frames/). Exit code 1 when a process rule is broken.
    """
    from moldstack.output import write_process  # noqa: PLC0415

    with reporting(ctx, str(spec)):
        design = moldstack.load(str(spec))
        if out_dir.exists() and not out_dir.is_dir():
            raise UsageError(f"{out_dir}: is a file; give a folder for the outputs")
    with reporting(ctx, str(flow) if flow else str(spec)):
        result = moldstack.process(design, flow, compare=compare)
        written = write_process(result, out_dir)
    violations = [v.to_dict() for v in result.violations]
    claims_21 = {str(n): c.to_dict() for n, c in result.claims.items()}
    if as_json:
        doc = {
            "flow": result.run.flow.name,
            "agreement": result.agreement.fraction if result.agreement is not None else None,
            "claims": claims_21,
            "violations": violations,
            "comparison": result.agreement.to_dict() if result.agreement is not None else None,
            "steps": [
                {
                    "index": r.index,
                    "kind": r.kind,
                    "title": r.title,
                    "seconds": r.seconds,
                    "violations": len(r.violations),
                }
                for r in result.run.records
            ],
            "grid": result.run.final.grid.to_dict(),
            "outputs": [str(p) for p in written],
        }
        typer.echo(json_text(doc), nl=False)
    else:
        run = result.run
        console.print(
            Text(f"ran {run.flow.name}: {len(run.records)} steps in {run.seconds:.1f} s", style="bold")
        )
        grid = run.final.grid
        console.print(f"  grid {grid.shape[0]} x {grid.shape[1]} x {grid.shape[2]} = {grid.cells:,} cells")
        for r in run.records:
            mark = "ok" if not r.violations else f"{len(r.violations)} rule(s) broken"
            console.print(Text(f"  {r.index:>2}. {r.title:<34} {mark}"))
        for v in result.violations:
            err_console.print(Text(f"  {v}"))
        if result.agreement is not None:
            a = result.agreement
            console.print(
                f"  agreement with the direct build: {100 * a.fraction:.4f} % of cells "
                f"({a.cells - a.agreeing:,} differ, {a.interior_differences:,} away from a boundary)"
            )
        held = [n for n, c in claims_21.items() if c["holds"]]
        console.print(f"  method claims that hold: {', '.join(held) if held else 'none'}")
        for n, c in claims_21.items():
            for e in c["elements"]:
                if not e["holds"] and e["reason"]:
                    console.print(Text(f"  claim {n}: {e['element']}: {e['reason']}"))
        console.print(Text(f"wrote {len(written)} files; open {out_dir / 'traveler.html'}", style="bold"))
    if violations:
        raise typer.Exit(1)


THETA_NAMES = {"theta_ja_k_per_w": "theta-JA", "theta_jc_k_per_w": "theta-JC", "theta_jb_k_per_w": "theta-JB"}


class GridChoice(StrEnum):
    """The named analysis grids (:data:`moldstack.geometry.model_grid.GRID_PRESETS`)."""

    coarse = "coarse"
    default = "default"
    fine = "fine"


class EnvChoice(StrEnum):
    """The thermal environments (see :mod:`moldstack.analysis.environment`)."""

    jesd51_9 = "jesd51-9"
    cold_plate_top = "cold-plate-top"
    ring_cold_plate = "ring-cold-plate"
    custom = "custom"


@app.command()
def thermal(
    ctx: typer.Context,
    spec: SpecArg,
    env: Annotated[EnvChoice, typer.Option("--env", help="The test environment.")] = EnvChoice.jesd51_9,
    power: Annotated[
        float | None, typer.Option("--power", metavar="W", help="Total power (default: the dies' power_w).")
    ] = None,
    h: Annotated[
        float | None,
        typer.Option("--h", metavar="W/m2K", help="Convection coefficient (default 10: still air)."),
    ] = None,
    ambient: Annotated[
        float, typer.Option("--ambient", metavar="C", help="Ambient (or plate) temperature.")
    ] = 25.0,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="OUT",
            help="Write thermal.json, maps and thermal.vtr here.",
            show_default=False,
        ),
    ] = None,
    grid: Annotated[
        GridChoice, typer.Option("--grid", help="Analysis grid: coarse (quick look), default, fine.")
    ] = GridChoice.default,
    as_json: JsonOpt = False,
) -> None:
    """Junction temperature and thermal resistance in a JEDEC-like environment (exit 3 if the solver fails)."""
    from moldstack.analysis.environment import Environment  # noqa: PLC0415
    from moldstack.analysis.thermal import thermal as solve_thermal  # noqa: PLC0415
    from moldstack.geometry.model_grid import GRID_PRESETS  # noqa: PLC0415
    from moldstack.output import write_thermal  # noqa: PLC0415

    with reporting(ctx, str(spec)):
        model = moldstack.build(str(spec))
        try:
            environment = Environment(
                kind=env.value,
                ambient_c=ambient,
                plate_c=ambient,
                **({"h_w_m2k": h} if h is not None else {}),
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        with err_console.status(f"solving {model.name} in {environment.kind} ...") as status:

            def progress(method: str, iteration: int, residual: float) -> None:
                status.update(
                    f"solving {model.name} in {environment.kind}: {method} iteration {iteration}, "
                    f"relative residual {residual:.1e}"
                )

            result = solve_thermal(
                model, environment, power_w=power, grid=GRID_PRESETS[grid.value], progress=progress
            )
        written = write_thermal(result, model, out_dir) if out_dir is not None else []
    data = result.to_dict()
    if as_json:
        typer.echo(json_text(data | {"outputs": [str(p) for p in written]}), nl=False)
        return
    name = THETA_NAMES[environment.resistance_name]
    console.print(Text(f"{model.name} in {environment.kind}: {result.power_w:g} W", style="bold"))
    for d in result.dies:
        console.print(f"  {d.name}: Tj max {d.tj_max_c:.2f} C, mean {d.tj_mean_c:.2f} C ({d.power_w:g} W)")
    console.print(f"  {name} = {result.resistance_k_per_w:.3f} K/W (reference {result.reference_c:.2f} C)")
    console.print(f"  Psi-JT = {result.psi_jt_k_per_w:.3f} K/W")
    split = result.heat_split_w
    console.print(
        "  heat out of the package: "
        + ", ".join(f"{k} {v:.3f} W ({100 * v / result.power_w:.0f} %)" for k, v in split.items())
    )
    stats = result.solution.stats
    console.print(
        f"  solver: {stats.unknowns:,} unknowns, {stats.iterations} iterations, residual {stats.residual:.1e}, "
        f"{stats.total_s:.2f} s; energy balance error {result.solution.energy_balance_error:.1e}"
    )
    for path in written:
        console.print(Text(f"wrote {path}"))


def _loops(texts: Sequence[str]) -> list[tuple[str, list[str]]]:
    out = []
    for text in texts:
        signal, sep, rest = text.partition(":")
        returns = [r.strip() for r in rest.split(",") if r.strip()]
        if not sep or not signal.strip() or not returns:
            raise UsageError(
                f"--loop: '{text}' is not SIGNAL:RETURN[,RETURN...] (e.g. CLK:VSS or DQ0:VSS,VDD)"
            )
        out.append((signal.strip(), returns))
    return out


@app.command()
def electrical(
    ctx: typer.Context,
    spec: SpecArg,
    nets: Annotated[
        str | None,
        typer.Option(
            "--nets", metavar="NET,NET", help="Only these nets (default: every net).", show_default=False
        ),
    ] = None,
    frequency: Annotated[
        float,
        typer.Option(
            "--frequency", metavar="HZ", help="Frequency of the skin-effect (AC) resistance estimate."
        ),
    ] = 1e9,
    loop: Annotated[
        list[str] | None,
        typer.Option(
            "--loop",
            metavar="SIGNAL:RETURN[,RETURN]",
            help="A loop inductance to report (repeatable), returns in parallel.",
            show_default=False,
        ),
    ] = None,
    no_capacitance: Annotated[
        bool, typer.Option("--no-capacitance", help="Skip the capacitance matrix (one field solve per net).")
    ] = False,
    grid: Annotated[
        GridChoice,
        typer.Option(
            "--grid", help="Capacitance grid: coarse (quick look), default, fine (to check the default)."
        ),
    ] = GridChoice.default,
    k_min: Annotated[
        float,
        typer.Option(
            "--k-min",
            metavar="K",
            help="Leave couplings weaker than K out of the SPICE netlist (ngspice slows steeply with their number).",
        ),
    ] = 0.01,
    spice: Annotated[
        Path | None,
        typer.Option("--spice", metavar="FILE", help="Write the SPICE subcircuit here.", show_default=False),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="OUT",
            help="Write electrical.json and interconnect.sp here.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Per-net DC resistance (field solve), partial and loop inductance (PEEC), capacitance matrix and a SPICE
    subcircuit of the interconnect. Quasi-static: R at DC (and a skin-effect estimate), L partial, C electrostatic."""
    from moldstack.analysis.capacitance import CAPACITANCE_PRESETS  # noqa: PLC0415
    from moldstack.analysis.electrical import ElectricalSettings  # noqa: PLC0415
    from moldstack.analysis.electrical import electrical as solve_electrical  # noqa: PLC0415
    from moldstack.exporters.spice import write_spice  # noqa: PLC0415
    from moldstack.output import write_electrical  # noqa: PLC0415

    with reporting(ctx, str(spec)):
        if not frequency > 0:
            raise UsageError(f"--frequency: {frequency:g} Hz must be greater than 0")
        if not 0 <= k_min < 1:
            raise UsageError(f"--k-min: {k_min:g} must be at least 0 and below 1")
        loops = _loops(loop or [])
        chosen = [n.strip() for n in nets.split(",") if n.strip()] if nets is not None else None
        if chosen is not None and not chosen:
            raise UsageError("--nets: give one or more net names separated by commas")
        model = moldstack.build(str(spec))
        settings = ElectricalSettings(
            frequency_hz=frequency,
            capacitance=not no_capacitance,
            capacitance_grid=CAPACITANCE_PRESETS[grid.value],
            k_min=k_min,
        )
        with err_console.status(f"analysing the interconnect of {model.name} ...") as status:
            result = solve_electrical(
                model,
                chosen,
                settings=settings,
                loops=loops,
                progress=lambda msg: status.update(f"{model.name}: {msg}"),
            )
        written: list[Path] = []
        try:
            if out_dir is not None:
                written += write_electrical(result, out_dir, spice)
            elif spice is not None:
                written.append(write_spice(result.network, spice, title=result.model, k_min=result.k_min))
        except ValueError as exc:  # the netlist refused (e.g. an L matrix no longer positive definite)
            raise UsageError(f"SPICE netlist: {exc}; a smaller --k-min keeps more couplings") from None
    data = result.to_dict()
    if as_json:
        typer.echo(json_text(data | {"outputs": [str(p) for p in written]}), nl=False)
        return
    console.print(
        Text(
            f"{model.name}: {len(result.nets)} nets (quasi-static; AC estimate at {frequency:.3g} Hz)",
            style="bold",
        )
    )
    cap = result.capacitance
    columns = ["net", "R dc mOhm", "formula", "R ac mOhm", "L partial nH"]
    table = Table(*columns, *(["C to ref pF", "C total pF"] if cap is not None else []))
    index = {m: i for i, members in enumerate(cap.members) for m in members} if cap is not None else {}
    shown = result.nets[:20]
    for n in shown:
        row = [
            n.name,
            f"{n.r_dc_ohm * 1e3:.3f}",
            f"{n.r_formula_ohm * 1e3:.3f}",
            f"{n.r_ac_ohm * 1e3:.3f}",
            f"{n.l_partial_h * 1e9:.3f}",
        ]
        if cap is not None:
            i = index.get(n.name)
            row += (
                ["-", "-"]
                if i is None
                else [f"{cap.mutual_f[i, i] * 1e12:.3f}", f"{cap.maxwell_f[i, i] * 1e12:.3f}"]
            )
        table.add_row(*row)
    console.print(table)
    if len(result.nets) > len(shown):
        console.print(
            f"  ... and {len(result.nets) - len(shown)} more nets (all in electrical.json / --json)"
        )
    for lp in result.loops:
        split = ", ".join(f"{r} {s:.2f}" for r, s in zip(lp.returns, lp.loop.split, strict=True))
        console.print(f"  loop {lp.signal} with {split}: {lp.loop.l_h * 1e9:.3f} nH")
    console.print("  times: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
    for path in written:
        console.print(Text(f"wrote {path}"))


def _detail_window(text: str | None) -> tuple[float, float] | str | None:
    if text is None:
        return "auto"
    if text.strip().lower() == "none":
        return None
    try:
        u0, u1 = (float(v) for v in text.split(":"))
    except ValueError:
        raise UsageError(
            f"--detail: '{text}' is not U0:U1 in micrometres (e.g. 2500:4500) or 'none'"
        ) from None
    if not u1 > u0:
        raise UsageError(f"--detail: '{text}' must run from a smaller to a larger coordinate")
    return (u0, u1)


from moldstack import cli_build, cli_sweep, cli_verify  # noqa: E402, F401 - register build, check, warpage, sweep


def main() -> None:
    """Console-script entry point (``moldstack``)."""
    app(prog_name="moldstack")
