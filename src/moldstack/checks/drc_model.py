"""The design rules measured on the built model's 3D geometry (not on the GDS).

One function per rule, each ``(model, rule) -> RuleOutcome``; what each measures:

- ``unit_pitch``: the distance from each unit's centre to its nearest neighbour's in the same package (k-d tree);
- ``aperture_aspect_ratio``: body thickness / diameter of each ``conductive_unit.via`` column (the aperture runs
  through mold, pad and base, so it is as deep as the body);
- ``via_aspect_ratio``: height / diameter of each ``conductive_element.via`` (contact up to the top surface);
- ``pad_protrusion_ratio``: pad size (square side or disc diameter) / protrusion diameter of each
  pad-with-protrusion unit;
- ``mold_cover``: per package, the body's top face less the highest point of its wires (radius included);
- ``wire_clearance``: for every pair of wires of different nets whose boxes come within the limit (R-tree broad
  phase), the exact least distance between their centre lines (all segment pairs) less both radii;
- ``wire_unit_clearance``: for every wire and every unit solid (the void of a hollow excepted) or via interconnect
  in its package that the wire does not land on, the least signed distance of the solid over points along the
  wire's centre line (every 1 um, :data:`WIRE_SAMPLE_UM`) less the wire's radius;
- ``wire_length``: each wire's centre-line length;
- ``wire_bond_angle``: the plan angle between a wire (ball to stitch) and the outward normal of the edge of its
  die nearest the ball bond, the smaller where a corner pad is as near two edges;
- ``joint_land_ratio``: each joint's diameter / the size of each end it wets (the end face of the unit above
  and below, or the substrate land): the widest solid at that end, a square's side or a disc's diameter;
- ``joint_pitch_ratio``: each joint's diameter / the centre distance to the nearest joint of the same interface.

Wires are the ``conductive_element.wire_bond`` solids whose shape is a :class:`Wire` (the ball is a cylinder
beside it). It knows the model and its primitives, and nothing of KLayout or the GDS.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping

import numpy as np
from scipy.spatial import cKDTree

from moldstack.checks.drc_result import RuleOutcome, Violation, violation
from moldstack.checks.rule_deck import Rule
from moldstack.geometry.broadphase import box_pairs
from moldstack.geometry.model import ConnectionInfo, Model, PlacedAssembly, Solid, UnitInfo
from moldstack.geometry.primitives import Box, Shape, Tube, Wire

WIRE_SAMPLE_UM = 1.0
"""Spacing of the points along a wire at which its distance to units and vias is measured."""


def _outcome(values: list[float], rule: Rule, found: list[Violation]) -> RuleOutcome:
    """``values``: one per item checked; an item with nothing within reach of the limit counts as ``inf``."""
    finite = [v for v in values if math.isfinite(v)]
    worst = (min(finite) if rule.kind == "min" else max(finite)) if finite else None
    return RuleOutcome(len(values), worst, tuple(found))


def _wires(model: Model, assembly: PlacedAssembly) -> list[Solid]:
    return [
        s
        for s in model.by_role("conductive_element.wire_bond")
        if s.assembly == assembly.name and isinstance(s.shape, Wire)
    ]


def _wire(solid: Solid) -> Wire:
    assert isinstance(solid.shape, Wire)
    return solid.shape


def _plan_size(shape: Shape) -> float:
    """A unit end's size: a box's shorter side, a tube's outer diameter."""
    if isinstance(shape, Box):
        return min(shape.x1 - shape.x0, shape.y1 - shape.y0)
    if isinstance(shape, Tube):
        return 2 * shape.r
    return 0.0


def unit_pitch(model: Model, rule: Rule) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    for a in model.assemblies:
        if len(a.units) < 2:
            continue
        xy = np.array([(u.x, u.y) for u in a.units])
        dist, nearest = cKDTree(xy).query(xy, k=2)
        values += dist[:, 1].tolist()
        reported: set[tuple[int, int]] = set()
        for i, (d, j) in enumerate(zip(dist[:, 1], nearest[:, 1], strict=True)):
            pair = (min(i, int(j)), max(i, int(j)))
            if rule.breaks(float(d)) and pair not in reported:
                reported.add(pair)
                u, w = a.units[pair[0]], a.units[pair[1]]
                z = (a.z_bottom + a.z_top) / 2
                found.append(
                    violation(
                        "unit_pitch",
                        rule,
                        float(d),
                        ((u.x + w.x) / 2, (u.y + w.y) / 2, z),
                        (u.part, w.part),
                        a.name,
                        f"{u.part} and {w.part} are",
                        " centre to centre",
                    )
                )
    return _outcome(values, rule, found)


def _via_ratio(model: Model, rule: Rule, rule_id: str, role: str) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    bodies = {a.name: a for a in model.assemblies}
    for s in model.by_role(role):
        shape = s.shape
        assert isinstance(shape, Tube)
        a = bodies.get(s.assembly or "")
        if a is None:
            continue
        depth = a.z_top - a.z_bottom if role == "conductive_unit.via" else shape.z1 - shape.z0
        ratio = depth / (2 * shape.r)
        values.append(ratio)
        if rule.breaks(ratio):
            found.append(
                violation(
                    rule_id,
                    rule,
                    ratio,
                    (shape.cx, shape.cy, (shape.z0 + shape.z1) / 2),
                    (s.part,),
                    a.name,
                    f"{s.part}: {depth:.0f} um deep, {2 * shape.r:.0f} um wide, aspect ratio",
                )
            )
    return _outcome(values, rule, found)


def aperture_aspect_ratio(model: Model, rule: Rule) -> RuleOutcome:
    return _via_ratio(model, rule, "aperture_aspect_ratio", "conductive_unit.via")


def via_aspect_ratio(model: Model, rule: Rule) -> RuleOutcome:
    return _via_ratio(model, rule, "via_aspect_ratio", "conductive_element.via")


def pad_protrusion_ratio(model: Model, rule: Rule) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    for a in model.assemblies:
        for u in a.units:
            if u.shape != "pad_protrusion":
                continue
            solids = [model.solid(sid) for sid in u.solids]
            pad = next(s.shape for s in solids if s.role == "conductive_unit.pad")
            protrusion = next(s.shape for s in solids if s.role == "conductive_unit.protrusion")
            size, diameter = _plan_size(pad), _plan_size(protrusion)
            ratio = size / diameter
            values.append(ratio)
            if rule.breaks(ratio):
                found.append(
                    violation(
                        "pad_protrusion_ratio",
                        rule,
                        ratio,
                        (u.x, u.y, pad.bbox[5]),
                        (u.part,),
                        a.name,
                        f"{u.part}: pad {size:.0f} um over protrusion {diameter:.0f} um, ratio",
                    )
                )
    return _outcome(values, rule, found)


def mold_cover(model: Model, rule: Rule) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    for a in model.assemblies:
        wires = _wires(model, a)
        if not wires:
            continue
        tops = [float(_wire(s).points[:, 2].max()) + _wire(s).radius for s in wires]
        k = int(np.argmax(tops))
        cover = a.z_top - tops[k]
        values.append(cover)
        if rule.breaks(cover):
            points = _wire(wires[k]).points
            x, y, _ = points[int(np.argmax(points[:, 2]))]
            found.append(
                violation(
                    "mold_cover",
                    rule,
                    cover,
                    (float(x), float(y), tops[k]),
                    (wires[k].part,),
                    a.name,
                    f"the loop of {wires[k].part} is",
                    f" below the top of the {a.name} body",
                )
            )
    return _outcome(values, rule, found)


def _different_nets(a: Solid, b: Solid) -> bool:
    return a.part != b.part and (a.net is None or b.net is None or a.net != b.net)


def wire_clearance(model: Model, rule: Rule) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    for a in model.assemblies:
        wires = _wires(model, a)
        if len(wires) < 2:
            continue
        boxes = np.array([s.shape.bbox for s in wires])
        best = dict.fromkeys(range(len(wires)), math.inf)
        for i, j in box_pairs(boxes, -rule.limit).tolist():
            if not _different_nets(wires[i], wires[j]):
                continue
            wa, wb = _wire(wires[i]), _wire(wires[j])
            centres, where = wa.closest_centrelines(wb)
            gap = centres - wa.radius - wb.radius
            best[i], best[j] = min(best[i], gap), min(best[j], gap)
            if rule.breaks(gap):
                found.append(
                    violation(
                        "wire_clearance",
                        rule,
                        gap,
                        (float(where[0]), float(where[1]), float(where[2])),
                        (wires[i].part, wires[j].part),
                        a.name,
                        f"{wires[i].part} and {wires[j].part} are",
                        " apart",
                    )
                )
        values += best.values()
    return _outcome(values, rule, found)


def _landed_units(assembly: PlacedAssembly) -> dict[str, str]:
    """For each wire's part, the part of the unit it lands on (wires between dies land on none)."""
    units = {u.name: u.part for u in assembly.units}
    return {
        c.part: units[c.target] for c in assembly.connections if c.kind == "wire_bond" and c.target in units
    }


def _clear_of(model: Model, assembly: PlacedAssembly) -> list[Solid]:
    """The solids a wire must keep clear of: unit solids (not their hollow voids) and via interconnects."""
    unit_solids = [
        model.solid(sid)
        for u in assembly.units
        for sid in u.solids
        if model.solid(sid).role != "conductive_unit.hollow"
    ]
    vias = [s for s in model.by_role("conductive_element.via") if s.assembly == assembly.name]
    return unit_solids + vias


def wire_unit_clearance(model: Model, rule: Rule) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    for a in model.assemblies:
        wires = _wires(model, a)
        others = _clear_of(model, a)
        if not wires or not others:
            continue
        landed = _landed_units(a)
        solids = wires + others
        boxes = np.array([s.shape.bbox for s in solids])
        closest: dict[tuple[int, str], tuple[float, np.ndarray]] = {}
        samples = {i: _wire(w).samples(WIRE_SAMPLE_UM) for i, w in enumerate(wires)}
        for i, j in box_pairs(boxes, -rule.limit).tolist():
            if i >= len(wires) or j < len(wires):
                continue
            other = solids[j]
            if landed.get(wires[i].part) == other.part:
                continue
            points = samples[i]
            d = other.shape.signed_distance(points) - _wire(wires[i]).radius
            k = int(np.argmin(d))
            key = (i, other.part)
            if key not in closest or d[k] < closest[key][0]:
                closest[key] = (float(d[k]), points[k])
        per_wire = dict.fromkeys(range(len(wires)), math.inf)
        for (i, part), (gap, point) in sorted(closest.items()):
            per_wire[i] = min(per_wire[i], gap)
            if rule.breaks(gap):
                found.append(
                    violation(
                        "wire_unit_clearance",
                        rule,
                        gap,
                        (float(point[0]), float(point[1]), float(point[2])),
                        (wires[i].part, part),
                        a.name,
                        f"{wires[i].part} passes",
                        f" from {part}",
                    )
                )
        values += per_wire.values()
    return _outcome(values, rule, found)


def wire_length(model: Model, rule: Rule) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    for a in model.assemblies:
        for s in _wires(model, a):
            wire = _wire(s)
            length = wire.length
            values.append(length)
            if rule.breaks(length):
                x, y, z = wire.points[len(wire.path) // 2]
                found.append(
                    violation(
                        "wire_length",
                        rule,
                        length,
                        (float(x), float(y), float(z)),
                        (s.part,),
                        a.name,
                        f"{s.part} is",
                        " long",
                    )
                )
    return _outcome(values, rule, found)


def _bond_angle(assembly: PlacedAssembly, connection: ConnectionInfo, wire: Wire) -> tuple[float, str]:
    """Plan angle (degrees) between the wire and the outward normal of the die edge nearest its ball bond,
    and the contact's qualified name."""
    contact, die = next((c, d) for d in assembly.dies for c in d.contacts if c.name == connection.source)
    p = wire.points
    direction = p[-1, :2] - p[0, :2]
    direction /= max(float(np.linalg.norm(direction)), 1e-12)
    edges = {
        (-1.0, 0.0): contact.x - die.x0,
        (1.0, 0.0): die.x1 - contact.x,
        (0.0, -1.0): contact.y - die.y0,
        (0.0, 1.0): die.y1 - contact.y,
    }
    nearest = min(edges.values())
    angle = min(
        math.degrees(math.acos(float(np.clip(direction @ np.array(normal), -1.0, 1.0))))
        for normal, gap in edges.items()
        if gap <= nearest + 1e-6
    )
    return angle, contact.name


def wire_bond_angle(model: Model, rule: Rule) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    for a in model.assemblies:
        for c in a.connections:
            if c.kind != "wire_bond":
                continue
            solid = model.solid(f"{c.part}/wire")
            wire = _wire(solid)
            angle, contact = _bond_angle(a, c, wire)
            values.append(angle)
            if rule.breaks(angle):
                x, y, z = wire.path[0]
                found.append(
                    violation(
                        "wire_bond_angle",
                        rule,
                        angle,
                        (x, y, z),
                        (solid.part, f"{a.name}/{contact}"),
                        a.name,
                        f"{solid.part} leaves {contact} at",
                        " from the die edge's normal",
                    )
                )
    return _outcome(values, rule, found)


def _end_size(model: Model, part: str, units: Mapping[str, UnitInfo], top: bool) -> tuple[float, str]:
    """The size of a unit's top (``top``) or bottom end, or of a substrate land, and how to name it."""
    unit = units.get(part)
    if unit is None:
        lands = [s for s in model.by_part(part) if s.role == "substrate.land"]
        return (_plan_size(lands[0].shape), f"land {part}") if lands else (math.inf, part)
    shapes = [model.solid(sid).shape for sid in unit.solids]
    z = max(s.bbox[5] for s in shapes) if top else min(s.bbox[2] for s in shapes)
    at_end = [s for s in shapes if abs((s.bbox[5] if top else s.bbox[2]) - z) < 1e-6]
    return max(_plan_size(s) for s in at_end), f"the {'top' if top else 'bottom'} of {part}"


def joint_land_ratio(model: Model, rule: Rule) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    units = {u.part: u for a in model.assemblies for u in a.units}
    for j in model.joints:
        joint = model.solid(j.solid).shape
        assert isinstance(joint, Tube)
        diameter = 2 * joint.r
        for part, top, z in ((j.lower, True, joint.z0), (j.upper, False, joint.z1)):
            size, name = _end_size(model, part, units, top)
            if not math.isfinite(size) or size <= 0:
                continue
            ratio = diameter / size
            values.append(ratio)
            if rule.breaks(ratio):
                found.append(
                    violation(
                        "joint_land_ratio",
                        rule,
                        ratio,
                        (joint.cx, joint.cy, z),
                        (j.part, part),
                        None,
                        f"{j.part} ({diameter:.0f} um) on {name} ({size:.0f} um): ratio",
                    )
                )
    return _outcome(values, rule, found)


def joint_pitch_ratio(model: Model, rule: Rule) -> RuleOutcome:
    values: list[float] = []
    found: list[Violation] = []
    interfaces: dict[tuple[str, str], list[tuple[str, Tube]]] = defaultdict(list)
    for j in model.joints:
        shape = model.solid(j.solid).shape
        assert isinstance(shape, Tube)
        interfaces[(j.lower.split("/")[0], j.upper.split("/")[0])].append((j.part, shape))
    for joints in interfaces.values():
        if len(joints) < 2:
            continue
        xy = np.array([(s.cx, s.cy) for _, s in joints])
        dist, nearest = cKDTree(xy).query(xy, k=2)
        for (part, shape), d, k in zip(joints, dist[:, 1], nearest[:, 1], strict=True):
            ratio = 2 * shape.r / float(d)
            values.append(ratio)
            if rule.breaks(ratio):
                other = joints[int(k)][0]
                found.append(
                    violation(
                        "joint_pitch_ratio",
                        rule,
                        ratio,
                        (shape.cx, shape.cy, (shape.z0 + shape.z1) / 2),
                        (part, other),
                        None,
                        f"{part} ({2 * shape.r:.0f} um) is {float(d):.0f} um from {other}: diameter / pitch",
                    )
                )
    return _outcome(values, rule, found)


MODEL_CHECKS: Mapping[str, Callable[[Model, Rule], RuleOutcome]] = {
    "unit_pitch": unit_pitch,
    "aperture_aspect_ratio": aperture_aspect_ratio,
    "via_aspect_ratio": via_aspect_ratio,
    "pad_protrusion_ratio": pad_protrusion_ratio,
    "mold_cover": mold_cover,
    "wire_clearance": wire_clearance,
    "wire_unit_clearance": wire_unit_clearance,
    "wire_length": wire_length,
    "wire_bond_angle": wire_bond_angle,
    "joint_land_ratio": joint_land_ratio,
    "joint_pitch_ratio": joint_pitch_ratio,
}
"""Each 3D rule's check, by rule id, in the order they are reported."""
