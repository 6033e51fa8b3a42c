"""Semantic validation: the rules an engineer checks by eye, applied to a type-checked Design.

Types and ranges are pydantic's job (:mod:`moldstack.spec`); this module checks what only the whole design shows:
unknown materials, parts that do not fit or overlap, protrusions not narrower than their pads, hollows outside
their units, a mold too thin for the dies and wire loops, contacts off the die face or with no unit, lands off
the substrate, and finally 3D interference between the built solids (a wire through a post). Every problem names
the field path, the value and the rule, and all problems are returned at once.

Whether stacked levels' interface maps meet is not a validity question (the design builds, with joints only where
units align): :mod:`moldstack.checks.stack` judges it, with the rest of the stack's compatibility.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import shapely
from shapely import STRtree

from moldstack.geometry.adjacency import connectivity
from moldstack.geometry.builder import base_thickness, build_model
from moldstack.geometry.interference import interferences
from moldstack.geometry.model import Model, Solid
from moldstack.materials import library_with
from moldstack.placement import AssemblyLayout, PlacedUnit, landing_point, place
from moldstack.spec.design import Assembly, Design
from moldstack.spec.errors import Problem, did_you_mean
from moldstack.spec.interconnects import RdlSpec, WireBondSpec
from moldstack.spec.units import PadProtrusionUnit, PlatedViaUnit, PostUnit

CONDUCTOR_PATH = re.compile(
    r"(\.unit(\.fill|\.pad)?\.material|interconnects\[\d+\]\.material|contacts\.material|joint\.material"
    r"|land_material|remnant_material)$"
)
DIELECTRIC_PATH = re.compile(r"(body\.material|base\.material|^substrate\.material)$")


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass
class _Ctx:
    design: Design
    problems: list[Problem]
    lines: Mapping[str, int]

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message, self.lines.get(path)))

    def add_group(self, path: str, rule: str, offenders: list[str], shown: int = 4) -> None:
        """One problem for many offenders of the same rule at the same path: the first few, then a count."""
        if not offenders:
            return
        listed = "; ".join(offenders[:shown])
        more = f"; and {len(offenders) - shown} more" if len(offenders) > shown else ""
        self.add(path, f"{rule}: {listed}{more}")


# --- materials ---------------------------------------------------------------------------------------------


def _material_refs(data: object, path: str) -> list[tuple[str, str]]:
    """(path, material name) of every material reference in the dumped spec."""
    out: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if key in ("material", "remnant_material", "land_material") and isinstance(value, str):
                out.append((sub, value))
            elif key != "materials":
                out.extend(_material_refs(value, sub))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            out.extend(_material_refs(item, f"{path}[{i}]"))
    return out


def _check_materials(ctx: _Ctx) -> None:
    design = ctx.design
    library = library_with({k: v.to_material(k) for k, v in design.materials.items()})
    known = sorted(library)
    for path, name in _material_refs(design.model_dump(), ""):
        material = library.get(name)
        if material is None:
            ctx.add(
                path,
                f"'{name}' is not a known material{did_you_mean(name, known) or '.'} Known: {', '.join(known)}; "
                "or define it under materials:",
            )
            continue
        if DIELECTRIC_PATH.search(path) and material.conductor:
            ctx.add(path, f"'{name}' is an electrical conductor; this part must be a dielectric")
        elif CONDUCTOR_PATH.search(path) and not material.conductor:
            ctx.add(path, f"'{name}' is not an electrical conductor; this part carries current")


# --- names and references ----------------------------------------------------------------------------------


def _check_names(ctx: _Ctx) -> None:
    design = ctx.design
    names = [a.name for a in design.assemblies]
    for i, name in enumerate(names):
        if name in names[:i]:
            ctx.add(f"assemblies[{i}].name", f"'{name}' is used by another assembly; names must be unique")
    for i, asm in enumerate(design.assemblies):
        dies = [d.name for d in asm.dies]
        for k, d in enumerate(dies):
            if d in dies[:k]:
                ctx.add(
                    f"assemblies[{i}].dies[{k}].name", f"'{d}' is used by another die; names must be unique"
                )
    if design.stack is None:
        if len(design.assemblies) > 1:
            ctx.add(
                "stack", f"{len(design.assemblies)} assemblies need a stack: that says how they sit (levels)"
            )
        return
    used = set()
    level_names: list[str] = []
    for k, lv in enumerate(design.stack.levels):
        if lv.assembly not in names:
            ctx.add(
                f"stack.levels[{k}].assembly",
                f"'{lv.assembly}' is not an assembly{did_you_mean(lv.assembly, names)} (known: {', '.join(names)})",
            )
        used.add(lv.assembly)
        if lv.name is not None:
            if lv.name in level_names:
                ctx.add(f"stack.levels[{k}].name", f"'{lv.name}' names another level too")
            level_names.append(lv.name)
    for i, name in enumerate(names):
        if name not in used:
            ctx.add(f"assemblies[{i}]", f"assembly '{name}' is not placed in stack.levels")


# --- one assembly ------------------------------------------------------------------------------------------


def unit_footprint(unit: PlacedUnit) -> shapely.Geometry:
    """Plan outline of a unit (pad, column, flange), for overlap and containment rules."""
    s = unit.spec
    if isinstance(s, PadProtrusionUnit):
        if s.pad.shape == "square":
            h = s.pad.size_um / 2
            return shapely.box(unit.x - h, unit.y - h, unit.x + h, unit.y + h)
        return shapely.Point(unit.x, unit.y).buffer(s.pad.size_um / 2, quad_segs=32)
    return shapely.Point(unit.x, unit.y).buffer(unit.radius, quad_segs=32)


def _unit_size(unit: PlacedUnit) -> float:
    s = unit.spec
    if isinstance(s, PostUnit):
        return s.diameter_um
    if isinstance(s, PadProtrusionUnit):
        return s.pad.size_um
    return 2 * unit.radius


def _check_dies(ctx: _Ctx, asm: Assembly, path: str, layout: AssemblyLayout) -> None:
    sx, sy = asm.body.size_um
    body = shapely.box(-sx / 2, -sy / 2, sx / 2, sy / 2)
    for d in layout.dies:
        dpath = f"{path}.dies[{d.index}]"
        spec = d.spec
        outline = shapely.box(d.x0, d.y0, d.x1, d.y1)
        if not body.contains(outline):
            ctx.add(
                f"{dpath}.size_um",
                f"die ({_fmt(spec.size_um[0])} x {_fmt(spec.size_um[1])} um centred at ({_fmt(spec.center_um[0])}, "
                f"{_fmt(spec.center_um[1])}) um) does not fit in the "
                f"body ({_fmt(sx)} x {_fmt(sy)} um)",
            )
        if spec.stacked_on is None:
            if spec.gap_um > 0:
                ctx.add(
                    f"{dpath}.gap_um", f"{_fmt(spec.gap_um)} um: gap_um applies only to a die with stacked_on"
                )
            if spec.back_exposed and spec.standoff_um > 0:
                ctx.add(
                    f"{dpath}.standoff_um",
                    f"{_fmt(spec.standoff_um)} um with back_exposed: true; an exposed back has no mold under it",
                )
            if not spec.back_exposed and spec.standoff_um == 0 and spec.attach is None:
                ctx.add(
                    f"{dpath}.standoff_um",
                    "0 um with no attach layer leaves the back flush with the bottom surface; "
                    "set back_exposed: true, or a standoff_um > 0 (mold under the die), or an attach layer",
                )
        else:
            if spec.back_exposed:
                ctx.add(
                    f"{dpath}.back_exposed", "a stacked die's back faces the die below; it cannot be exposed"
                )
            if spec.standoff_um > 0:
                ctx.add(
                    f"{dpath}.standoff_um", "standoff_um applies to a die on the body's bottom; use gap_um"
                )
            if spec.attach is not None and spec.gap_um > 0:
                ctx.add(
                    f"{dpath}.gap_um", "a die on an attach layer has no gap; give attach or gap_um, not both"
                )
            lower = layout.die(spec.stacked_on)
            if lower is not None:
                covered = [
                    c.name
                    for c in lower.contacts
                    if outline.intersects(
                        shapely.box(
                            c.x - c.size[0] / 2, c.y - c.size[1] / 2, c.x + c.size[0] / 2, c.y + c.size[1] / 2
                        )
                    )
                ]
                if covered:
                    ctx.add(
                        f"{dpath}.size_um",
                        f"the stacked die covers {len(covered)} contacts of {lower.name} ({', '.join(covered[:4])}"
                        f"{'...' if len(covered) > 4 else ''}); it must sit inside the contact ring",
                    )
        pads = []
        off_face = []
        for c in d.contacts:
            pad = shapely.box(
                c.x - c.size[0] / 2, c.y - c.size[1] / 2, c.x + c.size[0] / 2, c.y + c.size[1] / 2
            )
            if not outline.buffer(1e-6).contains(pad):
                off_face.append(f"{c.name} at ({_fmt(c.x)}, {_fmt(c.y)}) um")
            pads.append(pad)
        size = f"{_fmt(d.x1 - d.x0)} x {_fmt(d.y1 - d.y0)} um"
        ctx.add_group(f"{dpath}.contacts", f"contacts lie (partly) off the {size} die face", off_face)
        rows = spec.contacts
        if hasattr(rows, "pitch_um") and rows.count_per_edge > 1 and rows.pitch_um < max(rows.size_um):
            ctx.add(
                f"{dpath}.contacts.pitch_um",
                f"{_fmt(rows.pitch_um)} um is less than the contact size {_fmt(max(rows.size_um))} um; "
                "contacts would overlap",
            )
        else:
            tree = STRtree(pads)
            for i, j in zip(*tree.query(pads, predicate="intersects"), strict=True):
                if i < j and pads[i].intersection(pads[j]).area > 1e-6:
                    ctx.add(
                        f"{dpath}.contacts", f"contacts {d.contacts[i].name} and {d.contacts[j].name} overlap"
                    )


def _check_unit_shape(ctx: _Ctx, asm: Assembly, upath: str, unit: PlacedUnit) -> None:
    s = unit.spec
    t = asm.body.thickness_um
    if isinstance(s, PostUnit):
        length = t + s.protrude_top_um + s.protrude_bottom_um
        h = s.hollow
        if h is not None:
            if h.diameter_um >= s.diameter_um:
                ctx.add(
                    f"{upath}.hollow.diameter_um",
                    f"{_fmt(h.diameter_um)} um is not inside the unit (diameter {_fmt(s.diameter_um)} um); "
                    "a hollow centre must be narrower than its unit",
                )
            if h.through and h.depth_um is not None:
                ctx.add(f"{upath}.hollow.depth_um", "depth_um is only for blind hollows (through: false)")
            if not h.through:
                if h.depth_um is None:
                    ctx.add(f"{upath}.hollow.depth_um", "a blind hollow (through: false) needs depth_um")
                elif h.depth_um >= length:
                    ctx.add(
                        f"{upath}.hollow.depth_um",
                        f"{_fmt(h.depth_um)} um is not inside the unit (length {_fmt(length)} um); "
                        "use through: true for a hollow through the unit",
                    )
        if s.fill is not None:
            if h is None:
                ctx.add(f"{upath}.fill", "a fill needs a hollow centre to sit in; add hollow:")
            else:
                span = length if h.through else (h.depth_um or 0.0)
                ends = 2 if h.through else 1
                if s.fill.recess_um * ends >= span:
                    ctx.add(
                        f"{upath}.fill.recess_um",
                        f"{_fmt(s.fill.recess_um)} um leaves no fill in a {_fmt(span)} um hollow",
                    )
    elif isinstance(s, PadProtrusionUnit):
        if s.protrusion_diameter_um >= s.pad.size_um:
            ctx.add(
                f"{upath}.protrusion_diameter_um",
                f"{_fmt(s.protrusion_diameter_um)} um is not narrower than its pad ({_fmt(s.pad.size_um)} um); "
                "claim 3 needs a protrusion of smaller cross section than the pad portion",
            )
        if s.pad.thickness_um >= t:
            ctx.add(
                f"{upath}.pad.thickness_um",
                f"{_fmt(s.pad.thickness_um)} um leaves no room for the protrusion in a {_fmt(t)} um body",
            )
    else:
        assert isinstance(s, PlatedViaUnit)
        if asm.body.base is None:
            ctx.add(
                f"{upath}.shape",
                "a plated_via unit is drilled through pads on a dielectric base; add body.base",
            )
        r = s.diameter_um / 2
        if s.plating_thickness_um is not None and s.plating_thickness_um >= r:
            ctx.add(
                f"{upath}.plating_thickness_um",
                f"{_fmt(s.plating_thickness_um)} um fills the {_fmt(s.diameter_um)} um aperture; "
                "omit it for a filled via",
            )
        if s.plating_thickness_um is None and s.fill is not None:
            ctx.add(f"{upath}.fill", "a filled via (no plating_thickness_um) has no hollow centre for a fill")
        if s.pad.diameter_um <= s.diameter_um:
            ctx.add(
                f"{upath}.pad.diameter_um",
                f"{_fmt(s.pad.diameter_um)} um is not wider than the aperture ({_fmt(s.diameter_um)} um); "
                "the via must pass through the pad and leave a ring",
            )


def _check_units(ctx: _Ctx, asm: Assembly, path: str, layout: AssemblyLayout) -> None:
    sx, sy = asm.body.size_um
    body = shapely.box(-sx / 2, -sy / 2, sx / 2, sy / 2)
    checked_shape: set[str] = set()
    for u in layout.units:
        if u.path not in checked_shape:
            _check_unit_shape(ctx, asm, f"{u.path}.unit", u)
            checked_shape.add(u.path)
    prints = [unit_footprint(u) for u in layout.units]
    outside: dict[str, list[str]] = {}
    on_die: dict[str, list[str]] = {}
    for u, fp in zip(layout.units, prints, strict=True):
        where = f"{u.name} at ({_fmt(u.x)}, {_fmt(u.y)}) um"
        if not body.contains(fp):
            outside.setdefault(u.path, []).append(where)
        for d in layout.dies:
            if d.spec.stacked_on is None and fp.intersects(shapely.box(d.x0, d.y0, d.x1, d.y1)):
                on_die.setdefault(u.path, []).append(f"{where} over {d.name}")
    for upath, names in outside.items():
        ctx.add_group(upath, f"units lie outside the body (+-{_fmt(sx / 2)} x +-{_fmt(sy / 2)} um)", names)
    for upath, names in on_die.items():
        ctx.add_group(upath, "units overlap the die (they must stand beside its edges)", names)
    reported_patterns: set[str] = set()
    # A rows pattern whose pitch is below the unit size overlaps along every edge: say it once, by the pitch.
    for i, pattern in enumerate(asm.units):
        members = [u for u in layout.units if u.path == f"{path}.units[{i}]"]
        pitch = getattr(pattern, "pitch_um", None)
        if members and pitch is not None and len(members) > 1 and pitch < _unit_size(members[0]):
            ctx.add(
                f"{path}.units[{i}].pitch_um",
                f"{_fmt(pitch)} um is less than the unit diameter {_fmt(_unit_size(members[0]))} um; "
                "units would overlap",
            )
            reported_patterns.add(members[0].path)
    tree = STRtree(prints)
    overlapping: dict[str, list[str]] = {}
    for i, j in zip(*tree.query(prints, predicate="intersects"), strict=True):
        if i >= j:
            continue
        a, b = layout.units[i], layout.units[j]
        if a.path == b.path and a.path in reported_patterns:
            continue
        if prints[i].intersection(prints[j]).area > 1e-6:
            gap = math.hypot(a.x - b.x, a.y - b.y)
            overlapping.setdefault(b.path, []).append(
                f"{a.name} ({_fmt(a.x)}, {_fmt(a.y)}) and {b.name} ({_fmt(b.x)}, {_fmt(b.y)}), {gap:.0f} um apart"
            )
    for upath, pairs in overlapping.items():
        ctx.add_group(upath, "units overlap each other", pairs)
    base = asm.body.base
    if base is not None:
        firsts = [d for d in layout.dies if d.spec.stacked_on is None]
        m = base.opening_margin_um
        opening = shapely.box(
            min(d.x0 for d in firsts) - m,
            min(d.y0 for d in firsts) - m,
            max(d.x1 for d in firsts) + m,
            max(d.y1 for d in firsts) + m,
        )
        if not body.contains(opening):
            ctx.add(
                f"{path}.body.base.opening_margin_um", f"{_fmt(m)} um opens the base beyond the body outline"
            )
        over = [
            f"{u.name} at ({_fmt(u.x)}, {_fmt(u.y)}) um"
            for u, fp in zip(layout.units, prints, strict=True)
            if fp.intersects(opening)
        ]
        ctx.add_group(
            f"{path}.units",
            "units lie over the base opening (the central region); units stand on the base",
            over,
        )


def _check_heights(ctx: _Ctx, asm: Assembly, path: str, layout: AssemblyLayout) -> None:
    t = asm.body.thickness_um
    cover = asm.body.wire_cover_um
    tb = base_thickness(asm)
    needs: list[tuple[float, str]] = []
    for d in layout.dies:
        top = max([c.z1 for c in d.contacts], default=d.z_front)
        parts = [f"{d.name} top at {_fmt(top)} um"]
        needs.append((top, ", ".join(parts)))
    for conn in layout.connections:
        ic = conn.spec
        src = layout.contact(conn.source)
        if src is None:
            continue
        if isinstance(ic, RdlSpec):
            needs.append(
                (
                    src.z1 + ic.thickness_um,
                    f"rdl trace from {conn.source} up to {_fmt(src.z1 + ic.thickness_um)} um",
                )
            )
        if not isinstance(ic, WireBondSpec):
            continue
        crown_top = src.z1 + ic.loop_height_um
        needs.append((crown_top, f"wire loop from {conn.source} up to {_fmt(crown_top)} um"))
        target = layout.contact(conn.target)
        if target is not None:
            land_z = target.z1
        else:
            unit = layout.unit(conn.target)
            land = landing_point(unit, tb) if unit else None
            land_z = land[2] if land else 0.0
        ball_top = src.z1 + ic.ball_height
        lowest_crown = max(land_z, ball_top) + 2 * ic.diameter_um
        if crown_top < lowest_crown + 1e-9:
            ctx.add(
                f"{path}.interconnects[{conn.index}].loop_height_um",
                f"{_fmt(ic.loop_height_um)} um: the loop from {conn.source} must rise above its ball and its landing on "
                f"{conn.target} (at {_fmt(land_z)} um); needs at least {_fmt(lowest_crown - src.z1)} um",
            )
    if not needs:
        return
    highest, what = max(needs)
    if highest + cover > t + 1e-9:
        stack = " + ".join(
            f"{d.name} {_fmt(d.spec.thickness_um)}"
            + (f" on {_fmt(d.spec.attach.thickness_um)} attach" if d.spec.attach else "")
            for d in layout.dies
        )
        ctx.add(
            f"{path}.body.thickness_um",
            f"{_fmt(t)} um is thinner than the {_fmt(highest + cover)} um needed: {what} ({stack}) plus "
            f"{_fmt(cover)} um mold cover (wire_cover_um)",
        )


# --- stack and substrate -----------------------------------------------------------------------------------


def _check_substrate(ctx: _Ctx, layouts: dict[str, AssemblyLayout]) -> None:
    sub = ctx.design.substrate
    if sub is None:
        return
    stack = ctx.design.stack
    lowest = stack.levels[0].assembly if stack else ctx.design.assemblies[0].name
    offset = stack.levels[0].offset_um if stack else (0.0, 0.0)
    layout = layouts.get(lowest)
    if layout is None:
        return
    sx, sy = sub.size_um
    outline = shapely.box(-sx / 2, -sy / 2, sx / 2, sy / 2)
    r = sub.land_diameter_um / 2
    outside = [
        u.name
        for u in layout.units
        if not outline.contains(shapely.Point(u.x + offset[0], u.y + offset[1]).buffer(r, quad_segs=16))
    ]
    if outside:
        ctx.add(
            "substrate.size_um",
            f"{_fmt(sx)} x {_fmt(sy)} um does not hold the lands under units {', '.join(outside[:4])}"
            f"{'...' if len(outside) > 4 else ''} of '{lowest}'",
        )


# --- 3D interference ---------------------------------------------------------------------------------------


def _part_paths(design: Design, layouts: dict[str, AssemblyLayout], model: Model) -> dict[str, str]:
    """Part id -> spec path, so a geometric problem points at the field to change."""
    paths: dict[str, str] = {}
    index = {a.name: i for i, a in enumerate(design.assemblies)}
    for placed in model.assemblies:
        i = index[placed.spec_name]
        layout = layouts[placed.spec_name]
        for d in layout.dies:
            paths[f"{placed.name}/{d.name}"] = f"assemblies[{i}].dies[{d.index}]"
            for c in d.contacts:
                paths[f"{placed.name}/{c.name}"] = f"assemblies[{i}].dies[{d.index}].contacts"
        for u in layout.units:
            paths[f"{placed.name}/{u.name}"] = u.path
        for conn in layout.connections:
            paths[f"{placed.name}/{conn.spec.kind}:{conn.source}"] = (
                f"assemblies[{i}].interconnects[{conn.index}]"
            )
    return paths


def _describe(solid: Solid) -> str:
    return f"{solid.role.split('.')[-1].replace('_', ' ')} {solid.part}"


def _check_interference(ctx: _Ctx, layouts: dict[str, AssemblyLayout]) -> Model:
    model = build_model(ctx.design)
    intended: set[frozenset[str]] = set()
    for a in model.assemblies:
        for c in a.connections:
            intended.add(frozenset((c.part, f"{a.name}/{c.source}")))
            intended.add(frozenset((c.part, f"{a.name}/{c.target}")))
    paths = _part_paths(ctx.design, layouts, model)

    def allowed(a: Solid, b: Solid) -> bool:
        return frozenset((a.part, b.part)) in intended

    grouped: dict[str, list[str]] = {}
    for hit in interferences(model.solids, allowed):
        a, b = model.solid(hit.a), model.solid(hit.b)
        if b.role.startswith("conductive_element") and not a.role.startswith("conductive_element"):
            a, b = b, a
        if "joint" in (a.role, b.role):
            path = "substrate.joint" if "substrate" in (a.part + b.part) else "stack.joint"
        else:
            path = paths.get(a.part) or paths.get(b.part) or "spec"
        x, y, z = hit.point
        grouped.setdefault(path, []).append(
            f"{_describe(a)} and {_describe(b)} at ({x:.0f}, {y:.0f}, {z:.0f}) um, {hit.depth:.1f} um deep"
        )
    for path, hits in grouped.items():
        ctx.add_group(path, "solids intersect (they may only touch)", hits, shown=3)
    if not grouped:
        _check_shorts(ctx, model, paths)
    return model


JOINING_ROLES = ("joint", "substrate.land")


def _check_shorts(ctx: _Ctx, model: Model, paths: dict[str, str]) -> None:
    """Touching conductors must carry the same net; joints and lands join the nets of the levels they connect."""
    shorts: dict[str, list[str]] = {}
    for a_id, b_id in connectivity(model).pairs:
        a, b = model.solid(a_id), model.solid(b_id)
        if a.net == b.net or a.role in JOINING_ROLES or b.role in JOINING_ROLES:
            continue
        if b.role.startswith("conductive_element") and not a.role.startswith("conductive_element"):
            a, b = b, a
        path = paths.get(a.part) or paths.get(b.part) or "spec"
        shorts.setdefault(path, []).append(
            f"{_describe(a)} (net {a.net or 'none'}) touches {_describe(b)} (net {b.net or 'none'})"
        )
    for path, items in shorts.items():
        ctx.add_group(path, "conductors of different nets touch (a short)", items, shown=3)


def validate(design: Design, lines: Mapping[str, int] | None = None) -> list[Problem]:
    """Every semantic problem of a type-checked design (empty when it is sound).

    The 3D interference check runs only when the spec-level rules pass, since it needs a buildable model.
    """
    ctx = _Ctx(design, [], lines or {})
    _check_materials(ctx)
    _check_names(ctx)
    layouts: dict[str, AssemblyLayout] = {}
    for i, asm in enumerate(design.assemblies):
        path = f"assemblies[{i}]"
        layout = place(asm, path)
        for p in layout.problems:
            ctx.add(p.path, p.message)
        if not layout.dies:
            continue
        layouts.setdefault(asm.name, layout)
        _check_dies(ctx, asm, path, layout)
        _check_units(ctx, asm, path, layout)
        _check_heights(ctx, asm, path, layout)
    _check_substrate(ctx, layouts)
    if not ctx.problems:
        _check_interference(ctx, layouts)
    return ctx.problems
