"""The stages of ``moldstack build``: what each writes, which facets of the inputs it reads, how it runs.

A stage writes its files into the output folder (atomically, see :mod:`moldstack.output`) and returns them with
its key figures (``summary``, plain JSON data the build's summary, ``results.json`` and the report read). Stages
that share a costly result (the claimed process for the claim chart; the verification for the checks and the
warpage) run in the same *group*, one after the other in one worker, so it is computed once. ``facets`` name
what a stage reads (:mod:`moldstack.build_cache`): its key changes, and it runs again, only when they change.
``cost`` orders the groups, costliest first, so the long ones start early.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moldstack.output import (
    BUILD_CAPACITANCE_GRID,
    BuildInputs,
    write_electrical,
    write_json,
    write_process,
    write_thermal,
    write_verification,
    write_warpage,
)


@dataclass(frozen=True)
class StageOutput:
    """What a stage made: its files, its key figures, or why it does not apply to the design."""

    files: Sequence[Path] = ()
    summary: dict[str, Any] = field(default_factory=dict)
    not_applicable: str | None = None


@dataclass
class StageContext:
    """What a stage runs on: the build's inputs (results shared within a group are computed once), the output
    folder, and ``say`` for a line on what it is doing now (shown beside the stage while it runs)."""

    inputs: BuildInputs
    out_dir: Path
    say: Callable[[str], None] = lambda _text: None


@dataclass(frozen=True)
class Stage:
    """One stage: its name, what it writes, the facets it reads, its group and its cost (seconds, roughly)."""

    name: str
    description: str
    facets: tuple[str, ...]
    run: Callable[[StageContext], StageOutput]
    group: str = ""
    cost: float = 1.0

    @property
    def group_name(self) -> str:
        return self.group or self.name


def _claims(ctx: StageContext) -> StageOutput:
    chart = ctx.inputs.claim_chart.to_dict()
    held = [str(n) for n, c in chart["claims"].items() if c["holds"]]
    path = write_json(ctx.out_dir / "claims.json", chart)
    return StageOutput([path], {"held": held, "claims": len(chart["claims"])})


def _model(ctx: StageContext) -> StageOutput:
    model = ctx.inputs.model
    data = model.to_dict()
    summary = {
        "solids": data["solid_count"],
        "parts": data["part_count"],
        "units": sum(len(a.units) for a in model.assemblies),
        "assemblies": len(model.assemblies),
        "joints": len(model.joints),
        "bbox_um": data["bbox_um"],
    }
    return StageOutput([write_json(ctx.out_dir / "model.json", data)], summary)


def _export(name: str) -> Callable[[StageContext], StageOutput]:
    def run(ctx: StageContext) -> StageOutput:
        from moldstack.api import export  # noqa: PLC0415

        return StageOutput(export(ctx.inputs.model, ctx.out_dir / name))

    return run


def _sections(ctx: StageContext) -> StageOutput:
    from moldstack.exporters.section_figure import write_section_svg  # noqa: PLC0415 - matplotlib when needed
    from moldstack.geometry.section import default_planes, section  # noqa: PLC0415

    folder = ctx.out_dir / "sections"
    folder.mkdir(exist_ok=True)
    planes = default_planes(ctx.inputs.model)
    files = []
    for p in planes:
        ctx.say(f"section {p.name}")
        files.append(write_section_svg(section(ctx.inputs.model, p.plane), folder / f"{p.name}.svg").path)
    return StageOutput(files, {"planes": [p.name for p in planes]})


def _render(ctx: StageContext) -> StageOutput:
    from moldstack.report.render import write_model_render  # noqa: PLC0415 - matplotlib when needed

    return StageOutput([write_model_render(ctx.inputs.model, ctx.out_dir / "model.png")])


def _process(ctx: StageContext) -> StageOutput:
    from moldstack.fab.generate import MethodNotApplicableError, flow_for  # noqa: PLC0415

    design = ctx.inputs.design
    if design is None:
        return StageOutput(not_applicable="no design to run the claimed method on")
    try:
        flow_for(design)
    except MethodNotApplicableError as exc:
        first = exc.problems[0]
        more = len(exc.problems) - 1
        also = f" (and {more} more reason{'s' if more != 1 else ''}, see claims.json)" if more else ""
        return StageOutput(
            not_applicable=f"the claimed method (claims 21-23) cannot make it: {first.path} {first.message}{also}"
        )
    ctx.say("running the claimed process step by step")
    result = ctx.inputs.process_result
    assert result is not None
    files = write_process(result, ctx.out_dir / "process", formats=("svg",))
    summary = {
        "steps": len(result.run.flow.steps),
        "agreement": result.agreement.fraction if result.agreement is not None else None,
        "method_claims_held": [str(n) for n, c in result.claims.items() if c.holds],
    }
    return StageOutput(files, summary)


def _checks(ctx: StageContext) -> StageOutput:
    ctx.say("DRC, LVS and the stack check")
    v = ctx.inputs.verification
    files = write_verification(v, ctx.inputs.model, ctx.out_dir)
    summary: dict[str, Any] = {
        "passed": v.passed,
        "drc": v.summary()["drc"],
        "drc_violations": len(v.drc.violations),
        "lvs": v.lvs.status,
        "lvs_summary": v.summary()["lvs"],
        "stack": v.stack.verdict,
    }
    return StageOutput(files, summary)


def _warpage(ctx: StageContext) -> StageOutput:
    v = ctx.inputs.verification
    files = write_warpage(v.warpage, ctx.out_dir, v.stack)
    packages = {
        a.name: {
            "min_um": float(a.warpage_diagonal_um.min()),
            "max_um": float(a.warpage_diagonal_um.max()),
        }
        for a in v.warpage.assemblies
        if a.kind == "package"
    }
    return StageOutput(files, {"peak_c": v.warpage.settings.peak_c, "diagonal_um": packages})


def _thermal(ctx: StageContext) -> StageOutput:
    model = ctx.inputs.model
    if not any(d.power_w > 0 for a in model.assemblies for d in a.dies):
        return StageOutput(not_applicable="no die has power (set power_w on a die)")
    ctx.inputs.say = ctx.say
    first, *others = ctx.inputs.thermal_results
    files = write_thermal(first, model, ctx.out_dir, others)
    summary = {
        "tj_max_c": first.tj_max_c,
        "power_w": first.power_w,
        "environment": first.environment.kind,
        "resistances_k_per_w": {
            r.environment.resistance_name: r.resistance_k_per_w for r in ctx.inputs.thermal_results
        },
    }
    return StageOutput(files, summary)


def _electrical(ctx: StageContext) -> StageOutput:
    import numpy as np  # noqa: PLC0415

    ctx.inputs.say = ctx.say
    el = ctx.inputs.electrical_result
    files = write_electrical(el, ctx.out_dir)
    r = [n.r_dc_ohm for n in el.nets]
    lp = [n.l_partial_h for n in el.nets]
    summary: dict[str, Any] = {
        "nets": len(el.nets),
        "r_dc_ohm": [min(r), max(r)],
        "l_partial_h": [min(lp), max(lp)],
        "declared": {},
    }
    from moldstack.analysis.nets import declared_nets  # noqa: PLC0415

    declared = set(declared_nets(ctx.inputs.model))
    cap = el.capacitance
    diag = np.diag(cap.maxwell_f) if cap is not None else None
    if cap is not None and diag is not None:
        summary["c_self_f"] = [float(diag.min()), float(diag.max())]
        summary["capacitance_grid"] = BUILD_CAPACITANCE_GRID
    for n in el.nets:
        if n.name in declared:
            entry: dict[str, Any] = {"r_dc_ohm": n.r_dc_ohm, "l_partial_h": n.l_partial_h}
            if cap is not None and diag is not None:
                k = next((i for i, m in enumerate(cap.members) if n.name in m), None)
                if k is not None:
                    entry["c_self_f"] = float(diag[k])
            summary["declared"][n.name] = entry
    return StageOutput(files, summary)


def _footprint(ctx: StageContext) -> StageOutput:
    from moldstack.exporters.kicad import footprint, write_footprints  # noqa: PLC0415

    files = write_footprints(ctx.inputs.model, ctx.out_dir)
    summary = {}
    for side in ("bottom", "top"):
        try:
            fp = footprint(ctx.inputs.model, side)
        except ValueError:
            continue
        summary[side] = {"name": fp.name, "pads": len(fp.pads)}
    return StageOutput(files, summary)


STAGES: tuple[Stage, ...] = (
    Stage(
        "electrical",
        "per-net DC resistance, partial inductance, capacitance matrix (screening grid) and a SPICE subcircuit",
        ("geometry", "electrical"),
        _electrical,
        cost=60.0,
    ),
    Stage(
        "thermal",
        "junction temperature and theta-JA / -JC / -JB (JEDEC-like), maps, field (.vtr), if dies have power",
        ("geometry", "thermal", "power"),
        _thermal,
        cost=18.0,
    ),
    Stage(
        "step",
        "3D model for MCAD (STEP AP214, mm), named and coloured by material",
        ("geometry", "appearance"),
        _export("model.step"),
        cost=7.0,
    ),
    Stage(
        "checks",
        "design rules (drc.svg marks violations), LVS report (lvs.txt), stack-compatibility verdict",
        ("geometry", "mechanical", "deck"),
        _checks,
        group="verification",
        cost=2.0,
    ),
    Stage(
        "warpage",
        "warpage of each package over a 25-260-25 C reflow (laminate theory) and its plot",
        ("geometry", "mechanical", "deck"),
        _warpage,
        group="verification",
        cost=0.5,
    ),
    Stage(
        "claims",
        "claim chart: each claim holds or not, with the parts that satisfy each element",
        ("design", "geometry", "thermal", "electrical", "melting"),
        _claims,
        group="claims",
        cost=0.5,
    ),
    Stage(
        "process",
        "virtual fabrication by the claimed method (claims 21-23), where it applies: traveler, frames, flow",
        ("design",),
        _process,
        group="claims",
        cost=3.0,
    ),
    Stage(
        "sections",
        "cross sections (SVG) through a row of units and through the die",
        ("geometry", "appearance"),
        _sections,
        cost=1.0,
    ),
    Stage(
        "render",
        "static 3D render (PNG), the report's view where the interactive one is missing",
        ("geometry", "appearance"),
        _render,
        cost=2.0,
    ),
    Stage(
        "glb",
        "3D view (glTF binary), one node per solid",
        ("geometry", "appearance"),
        _export("model.glb"),
        cost=0.7,
    ),
    Stage(
        "model",
        "built model: solids with part, role, material and net; counts and volumes",
        ("geometry",),
        _model,
        cost=0.2,
    ),
    Stage(
        "gds",
        "mask artwork (GDSII, um), one cell per assembly; layers.txt maps role to layer",
        ("geometry",),
        _export("layers.gds"),
        cost=0.1,
    ),
    Stage(
        "footprint",
        "KiCad footprints: board land pattern under the bottom package and its top-side pattern (claim 6)",
        ("geometry",),
        _footprint,
        cost=0.1,
    ),
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)


def stage(name: str) -> Stage:
    """The stage called ``name``; ValueError naming the stages otherwise."""
    for s in STAGES:
        if s.name == name:
            return s
    raise ValueError(f"{name!r} is not a stage; stages are {', '.join(STAGE_NAMES)}")


def groups(stages: Sequence[Stage]) -> list[list[Stage]]:
    """``stages`` in their groups, each group in table order, the costliest group first."""
    by_group: dict[str, list[Stage]] = {}
    for s in stages:
        by_group.setdefault(s.group_name, []).append(s)
    return sorted(by_group.values(), key=lambda g: -sum(s.cost for s in g))


__all__ = [
    "STAGES",
    "STAGE_NAMES",
    "Stage",
    "StageContext",
    "StageOutput",
    "groups",
    "stage",
]
