"""What each process step does to the state, what it observes there, and which rules it finds broken.

One function per step kind (:data:`OPERATIONS`), each ``(state, step, index) -> Outcome``. Steps place things
on what is already there: heights come from the state (:class:`~moldstack.fab.state.ProcessState`), never
from the design. Every shape is rasterised with the shared rule of :mod:`moldstack.geometry.voxelize` (a cell
belongs to a shape when its centre does), and a step only fills cells that are empty (ambient) unless it removes
(drilling, etching) or transforms (curing) material.

The observations a step records are the facts the method-claim chart reads (what the base rests on, which
materials an aperture passed through, whether plated metal touches its pad ...). A rule broken is a
:class:`~moldstack.fab.record.Violation` naming the step, the place and the parts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from moldstack.fab.record import Violation
from moldstack.fab.state import (
    APERTURE,
    SAC_FIRST,
    SAC_SECOND,
    UNCURED,
    ApertureMade,
    BondMade,
    ContactMade,
    DieMade,
    PadMade,
    ProcessState,
    face_neighbours,
    grown,
)
from moldstack.fab.steps import (
    Cure,
    DieAttach,
    DielectricBase,
    Drill,
    Encapsulate,
    FillHollows,
    PadArray,
    Plate,
    Rect,
    RemoveSacrificial,
    SacrificialLayer,
    WireBond,
)
from moldstack.geometry.bondloop import bond_loop
from moldstack.geometry.primitives import Box, Cylinder, Tube, Wire
from moldstack.geometry.voxelize import Block, prism_mask, wire_mask

MM3 = 1e-9
SAC_ROLES = {"first": SAC_FIRST, "second": SAC_SECOND}
METAL_ROLES = ("conductive_unit.via", "conductive_unit.flange")


@dataclass
class Outcome:
    """What one step observed and which rules it found broken."""

    observations: dict[str, Any] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)


def _violation(
    out: Outcome,
    index: int,
    kind: str,
    rule: str,
    message: str,
    at: tuple[float, ...] | None = None,
    parts: tuple[str, ...] = (),
) -> None:
    out.violations.append(Violation(rule, index, kind, message, at, parts))


def _r(value: float) -> float:
    return round(float(value), 3)


# --- shared helpers ---------------------------------------------------------------------------------


def _paint(
    state: ProcessState, block: Block, mask: NDArray[np.bool_], label: int, into: tuple[int, ...] = (0,)
) -> int:
    """Set cells of ``mask`` (over ``block``) that hold one of ``into`` to ``label``; return how many."""
    view = state.labels[block]
    if view.size == 0:
        return 0
    target = mask & np.isin(view, into)
    view[target] = label
    return int(target.sum())


def _box_mask(state: ProcessState, rect: Rect, z0: float, z1: float) -> tuple[Block, NDArray[np.bool_]]:
    return prism_mask(state.grid, Box(z0=z0, z1=z1, x0=rect[0], y0=rect[1], x1=rect[2], y1=rect[3]))


def _block_volumes(state: ProcessState, block: Block) -> NDArray[np.float64]:
    """Cell volumes (um^3) over a block, shaped to broadcast against it."""
    g = state.grid
    return (
        g.sizes(0)[block[0]][:, None, None]
        * g.sizes(1)[block[1]][None, :, None]
        * g.sizes(2)[block[2]][None, None, :]
    )


def _volume(state: ProcessState, block: Block, mask: NDArray[np.bool_]) -> float:
    if mask.size == 0:
        return 0.0
    return float((_block_volumes(state, block) * mask).sum())


def _touches(state: ProcessState, block: Block, mask: NDArray[np.bool_], role: str) -> bool:
    """Whether any cell of ``mask`` shares a face with a cell of ``role``."""
    if not mask.any():
        return False
    big = grown(block, state.grid.shape)
    full = np.zeros(tuple(s.stop - s.start for s in big), dtype=bool)
    inner = tuple(slice(b.start - g.start, b.stop - g.start) for b, g in zip(block, big, strict=True))
    full[inner] = mask
    return bool((face_neighbours(full) & state.is_role(state.labels[big], role)).any())


def _bottom_faces(state: ProcessState, role_ids: list[int], below_role: str | None) -> float:
    """Fraction of the bottom faces of cells with ``role_ids`` that rest on a cell of ``below_role``, or, with
    ``below_role`` None, that face ambient air (or the grid's bottom)."""
    mask = np.isin(state.labels, role_ids)
    lower = np.zeros_like(mask)
    lower[:, :, 1:] = mask[:, :, 1:] & ~mask[:, :, :-1]
    lower[:, :, 0] = mask[:, :, 0]
    total = int(lower.sum())
    if total == 0:
        return 0.0
    under = state.labels[:, :, :-1]
    below = np.zeros_like(mask)
    below[:, :, 1:] = lower[:, :, 1:] & (
        under == 0 if below_role is None else state.is_role(under, below_role)
    )
    if below_role is None:
        below[:, :, 0] = lower[:, :, 0]
    return float(below.sum()) / total


def _resting_on(state: ProcessState, role_ids: list[int], below_role: str) -> float:
    """Fraction of the bottom faces of cells with ``role_ids`` that rest on a cell of ``below_role``."""
    return _bottom_faces(state, role_ids, below_role)


def _exposed_faces(state: ProcessState, role: str) -> int:
    """How many cells of ``role`` share a face with ambient air."""
    mask = state.is_role(state.labels, role)
    return int((face_neighbours(state.labels == 0) & mask).sum())


def _roles_below(state: ProcessState, x: float, y: float, r: float, z: float) -> set[str]:
    """Roles of the cells just below height ``z`` under the disc (x, y, r) ('ambient' for empty ones)."""
    sx, sy = state.grid.span(0, x - r, x + r), state.grid.span(1, y - r, y + r)
    cx, cy = state.grid.centres(0)[sx], state.grid.centres(1)[sy]
    disc = np.hypot(cx[:, None] - x, cy[None, :] - y) <= r
    if not disc.any() or z <= state.grid.z[0]:
        return set()
    column = state.labels[sx, sy, state.grid.index(2, z - 1e-6)]
    return {state.table[int(v)].role for v in np.unique(column[disc])}


def _exposed_in(state: ProcessState, role: str, box: tuple[float, float, float, float, float, float]) -> int:
    """Cells of ``role`` inside ``box`` (x0, y0, x1, y1, z0, z1) sharing a face with ambient air."""
    x0, y0, x1, y1, z0, z1 = box
    block = grown(state.grid.block((x0, y0, z0, x1, y1, z1)), state.grid.shape)
    sub = state.labels[block]
    return int((face_neighbours(sub == 0) & state.is_role(sub, role)).sum())


def _wire_exposed(state: ProcessState, bond: BondMade) -> bool:
    """Whether any cell of this bond's wire or ball shares a face with ambient air."""
    bbox = [min(a, b) for a, b in zip(bond.wire.bbox[:3], bond.ball.bbox[:3], strict=True)]
    bbox += [max(a, b) for a, b in zip(bond.wire.bbox[3:], bond.ball.bbox[3:], strict=True)]
    x0, y0, z0, x1, y1, z1 = bbox
    return _exposed_in(state, "conductive_element.wire_bond", (x0, y0, x1, y1, z0, z1)) > 0


def _contacts_on_top(
    state: ProcessState, contacts: list[ContactMade], outline: Rect, z_front: float
) -> float:
    """Fraction of these contacts' bottom faces that rest on the die's front face (z_front) inside its outline."""
    if not contacts:
        return 0.0
    on = 0
    for c in contacts:
        inside = outline[0] <= c.x <= outline[2] and outline[1] <= c.y <= outline[3]
        below = state.labels[
            state.grid.index(0, c.x), state.grid.index(1, c.y), state.grid.index(2, z_front - 1e-6)
        ]
        on += int(inside and abs(c.z0 - z_front) < 1e-9 and state.table[int(below)].role == "die")
    return on / len(contacts)


def _point_column(state: ProcessState, x: float, y: float) -> NDArray[np.uint16]:
    return state.labels[state.grid.index(0, x), state.grid.index(1, y), :]


def _top_of_role_at(state: ProcessState, x: float, y: float, role: str) -> float | None:
    col = state.is_role(_point_column(state, x, y), role)
    ks = np.nonzero(col)[0]
    return float(state.grid.z[ks[-1] + 1]) if ks.size else None


# --- steps ------------------------------------------------------------------------------------------


def sacrificial_layer(state: ProcessState, step: SacrificialLayer, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    kind = step.step
    role = SAC_ROLES[step.layer]
    if role in state.layers:
        _violation(out, index, kind, "order", f"the {step.layer} sacrificial layer was already provided")
        return out
    if step.layer == "first":
        if (state.labels != 0).any():
            _violation(
                out, index, kind, "order", "the first sacrificial layer must be the first thing provided"
            )
            return out
        z0, z1 = -step.thickness_um, 0.0
    else:
        assert step.at_um is not None
        if SAC_FIRST not in state.layers:
            _violation(out, index, kind, "order", "the second sacrificial layer needs the first one below it")
        top = state.top_in(panel)
        if top is not None and top > step.at_um + 1e-9:
            _violation(
                out,
                index,
                kind,
                "cavity",
                f"the second sacrificial layer at z = {step.at_um:g} um would cut into what reaches z = {top:g} um",
            )
        z0, z1 = step.at_um, step.at_um + step.thickness_um
    state.ensure_z(z0, z1)
    block, mask = _box_mask(state, panel, z0, z1)
    cells = _paint(state, block, mask, state.id(role, step.material))
    state.layers[role] = (z0, z1)
    out.observations = {
        "layer": step.layer,
        "material": step.material,
        "z_um": [z0, z1],
        "volume_mm3": _volume(state, block, mask & (state.labels[block] == state.id(role, step.material)))
        * MM3,
        "cells": cells,
    }
    if step.layer == "second":
        faced = []
        for die in state.dies.values():
            contact_top = max((c.z1 for c in die.contacts.values()), default=die.z1)
            if contact_top <= z0 + 1e-9:
                faced.append(die.name)
        out.observations["faces_contact_surfaces_of"] = faced
        out.observations["gap_above_contacts_um"] = {
            d.name: _r(z0 - max((c.z1 for c in d.contacts.values()), default=d.z1))
            for d in state.dies.values()
        }
    return out


def dielectric_base(state: ProcessState, step: DielectricBase, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    kind = step.step
    if SAC_FIRST not in state.layers:
        _violation(
            out, index, kind, "order", "the dielectric base needs the first sacrificial layer under it"
        )
        z0 = 0.0
    else:
        z0 = state.layers[SAC_FIRST][1]
        top = state.top_in(panel)
        if top is not None and top > z0 + 1e-9:
            _violation(out, index, kind, "order", "something already lies on the first sacrificial layer")
    z1 = z0 + step.thickness_um
    state.ensure_z(z0, z1)
    label = state.id("body.base", step.material)
    block, mask = _box_mask(state, panel, z0, z1)
    if step.opening_um is not None:
        oblock, omask = _box_mask(state, step.opening_um, z0, z1)
        inner = np.zeros(state.grid.shape, dtype=bool)
        inner[oblock] = omask
        mask = mask & ~inner[block]
    _paint(state, block, mask, label)
    state.layers["body.base"] = (z0, z1)
    out.observations = {
        "material": step.material,
        "z_um": [z0, z1],
        "opening_um": list(step.opening_um) if step.opening_um else None,
        "on_first_sacrificial": _resting_on(state, [label], SAC_FIRST),
        "volume_mm3": _volume(state, block, state.labels[block] == label) * MM3,
    }
    return out


def _central_region(pads: list[PadMade]) -> shapely.Geometry | None:
    """The region the pads enclose: the convex hull of their centres less every pad (the largest piece)."""
    if len(pads) < 3:
        return None
    hull = shapely.MultiPoint([(p.x, p.y) for p in pads]).convex_hull
    if hull.area <= 0:
        return None
    discs = shapely.union_all([shapely.Point(p.x, p.y).buffer(p.r, quad_segs=16) for p in pads])
    free = hull.difference(discs)
    if free.is_empty:
        return None
    parts = list(getattr(free, "geoms", [free]))
    return max(parts, key=lambda g: g.area)


def pad_array(state: ProcessState, step: PadArray, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    kind = step.step
    label = state.id("conductive_unit.pad", step.material)
    base_top = state.layers.get("body.base", (0.0, 0.0))[1]
    if "body.base" not in state.layers:
        _violation(out, index, kind, "order", "the pads need the dielectric base under them")
    state.ensure_z(base_top, base_top + step.thickness_um)
    off_base: list[str] = []
    for pad in step.pads:
        x, y = pad.at_um
        r = pad.diameter_um / 2
        if pad.name in state.pads:
            _violation(out, index, kind, "names", f"pad {pad.name} is made twice", (x, y), (pad.name,))
            continue
        roles_under = _roles_below(state, x, y, r, base_top)
        if roles_under != {"body.base"}:
            off_base.append(pad.name)
            _violation(
                out,
                index,
                kind,
                "pad_on_base",
                f"pad {pad.name} is not wholly on the dielectric base (under it: {', '.join(sorted(roles_under)) or 'nothing'})",
                (x, y, base_top),
                (pad.name,),
            )
        block, mask = prism_mask(state.grid, Cylinder(x, y, r, base_top, base_top + step.thickness_um))
        _paint(state, block, mask, label)
        state.pads[pad.name] = PadMade(pad.name, x, y, r, base_top, base_top + step.thickness_um)
    central = _central_region(list(state.pads.values()))
    state.central_region = central
    out.observations = {
        "material": step.material,
        "pads": len(step.pads),
        "names": [p.name for p in step.pads],
        "z_um": [base_top, base_top + step.thickness_um],
        "not_on_base": off_base,
        "on_base_fraction": _resting_on(state, [label], "body.base"),
        "central_region_um2": float(central.area) if central is not None else 0.0,
        "central_region_bounds_um": [_r(v) for v in central.bounds] if central is not None else None,
    }
    return out


def die_attach(state: ProcessState, step: DieAttach, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    kind = step.step
    x0, y0, x1, y1 = step.outline_um
    centre = (0.5 * (x0 + x1), 0.5 * (y0 + y1))
    if step.die in state.dies:
        _violation(out, index, kind, "names", f"die {step.die} is attached twice", centre, (step.die,))
        return out
    top, roles = state.surface_under(step.outline_um)
    sac_top = state.layers.get(SAC_FIRST, (0.0, 0.0))[1]
    if roles != {SAC_FIRST}:
        others = ", ".join(sorted(roles - {SAC_FIRST})) or "nothing"
        _violation(
            out,
            index,
            kind,
            "die_on_first_sacrificial",
            f"{step.die}'s back must rest on the first sacrificial layer alone; under its outline is also {others}",
            (*centre, top if top is not None else 0.0),
            (step.die,),
        )
    z0 = top if top is not None else sac_top
    central = state.central_region
    die_box = shapely.box(x0, y0, x1, y1)
    in_central = central is not None and central.buffer(1e-6).contains(die_box)
    if central is None:
        _violation(
            out,
            index,
            kind,
            "central_region",
            "no pad array defines a central region for the die",
            centre,
            (step.die,),
        )
    elif not in_central:
        _violation(
            out,
            index,
            kind,
            "central_region",
            f"{step.die} does not lie within the central region the pads define",
            centre,
            (step.die,),
        )
    z1 = z0 + step.thickness_um
    zc = z1 + step.contact_thickness_um
    state.ensure_z(z0, z1, zc)
    die_label = state.id("die", step.material)
    block, mask = _box_mask(state, step.outline_um, z0, z1)
    _paint(state, block, mask, die_label)
    contact_label = state.id("die.contact", step.contact_material)
    contacts: dict[str, ContactMade] = {}
    outside: list[str] = []
    for c in step.contacts:
        cx, cy = c.at_um
        w, h = c.size_um
        name = f"{step.die}.{c.name}"
        if not (x0 <= cx - w / 2 and cx + w / 2 <= x1 and y0 <= cy - h / 2 and cy + h / 2 <= y1):
            outside.append(name)
            _violation(
                out,
                index,
                kind,
                "contact_on_die",
                f"contact {name} is not on {step.die}'s front face",
                (cx, cy, z1),
                (name,),
            )
        cblock, cmask = _box_mask(state, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), z1, zc)
        _paint(state, cblock, cmask, contact_label)
        contacts[name] = ContactMade(name, cx, cy, w, h, z1, zc)
    state.dies[step.die] = DieMade(step.die, step.outline_um, z0, z1, contacts)
    out.observations = {
        "die": step.die,
        "z_um": [z0, z1],
        "rests_on": sorted(roles),
        "back_on_first_sacrificial": _resting_on(state, [die_label], SAC_FIRST),
        "in_central_region": in_central,
        "contacts": len(contacts),
        "contact_names": sorted(contacts),
        "contacts_face_away": _contacts_on_top(state, list(contacts.values()), step.outline_um, z1),
        "contacts_off_die": outside,
    }
    return out


def _find_contact(state: ProcessState, name: str) -> ContactMade | None:
    for die in state.dies.values():
        if name in die.contacts:
            return die.contacts[name]
    return None


def wire_bond(state: ProcessState, step: WireBond, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    kind = step.step
    d = step.diameter_um
    plans: list[tuple[str, str, ContactMade, PadMade, tuple[float, float]]] = []
    for bond in step.bonds:
        contact = _find_contact(state, bond.contact)
        pad = state.pads.get(bond.pad)
        if contact is None or pad is None:
            missing = f"contact {bond.contact}" if contact is None else f"pad {bond.pad}"
            _violation(
                out,
                index,
                kind,
                "bond_ends",
                f"bond {bond.contact} -> {bond.pad}: no {missing}",
                None,
                (bond.contact, bond.pad),
            )
            continue
        sx, sy = bond.stitch_um
        if math.hypot(sx - pad.x, sy - pad.y) > pad.r:
            _violation(
                out,
                index,
                kind,
                "stitch_on_pad",
                f"bond {bond.contact} -> {bond.pad}: the stitch is not on the pad",
                (sx, sy, pad.z1),
                (bond.contact, bond.pad),
            )
            continue
        plans.append((bond.contact, bond.pad, contact, pad, (sx, sy)))
    tops = [c.z1 + step.loop_height_um + d / 2 for _, _, c, _, _ in plans]
    balls = [c.z1 + step.ball_height_um for _, _, c, _, _ in plans]
    if plans:
        state.ensure_z(*balls, max(tops))
    wire_label = state.id("conductive_element.wire_bond", step.material)
    results = []
    for contact_name, pad_name, contact, pad, (sx, sy) in plans:
        if contact_name in state.bonds:
            _violation(
                out,
                index,
                kind,
                "one_bond_per_contact",
                f"{contact_name} is bonded twice",
                (contact.x, contact.y, contact.z1),
                (contact_name,),
            )
            continue
        zc = _top_of_role_at(state, contact.x, contact.y, "die.contact") or contact.z1
        zs = _top_of_role_at(state, sx, sy, "conductive_unit.pad")
        if zs is None:
            zs = pad.z1
        ball = Cylinder(contact.x, contact.y, step.ball_diameter_um / 2, zc, zc + step.ball_height_um)
        path = bond_loop(
            (contact.x, contact.y, zc + step.ball_height_um),
            (sx, sy, zs + d / 2),
            zc + step.loop_height_um - d / 2,
        )
        wire = Wire(path=path, diameter=d)
        bblock, bmask = prism_mask(state.grid, ball)
        _paint(state, bblock, bmask, wire_label)
        wblock, wmask = wire_mask(state.grid, wire)
        _paint(state, wblock, wmask, wire_label)
        state.bonds[contact_name] = BondMade(contact_name, pad_name, ball, wire)
        lo = [min(bblock[a].start, wblock[a].start) for a in range(3)]
        hi = [max(bblock[a].stop, wblock[a].stop) for a in range(3)]
        blk = (slice(lo[0], hi[0]), slice(lo[1], hi[1]), slice(lo[2], hi[2]))
        own = np.zeros(tuple(h - low for low, h in zip(lo, hi, strict=True)), dtype=bool)
        for b, m in ((bblock, bmask), (wblock, wmask)):
            own[tuple(slice(b[a].start - lo[a], b[a].stop - lo[a]) for a in range(3))] |= m
        own &= state.labels[blk] == wire_label
        results.append(
            {
                "contact": contact_name,
                "pad": pad_name,
                "length_um": _r(wire.length),
                "top_um": _r(wire.bbox[5]),
                "touches_contact": _touches(state, blk, own, "die.contact"),
                "touches_pad": _touches(state, blk, own, "conductive_unit.pad"),
                "gap_to_contact_um": _r(wire.points[0, 2] - (zc + step.ball_height_um)),
                "gap_to_pad_um": _r(wire.points[-1, 2] - wire.radius - zs),
            }
        )
    all_contacts = sorted(c for die in state.dies.values() for c in die.contacts)
    pads_used = [b.pad for b in state.bonds.values()]
    shared = sorted({p for p in pads_used if pads_used.count(p) > 1})
    for p in shared:
        _violation(out, index, kind, "respective_pad", f"pad {p} takes more than one bond", None, (p,))
    out.observations = {
        "material": step.material,
        "diameter_um": d,
        "bonds": results,
        "contacts": len(all_contacts),
        "unbonded_contacts": [c for c in all_contacts if c not in state.bonds],
        "pads_shared": shared,
    }
    return out


def encapsulate(state: ProcessState, step: Encapsulate, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    kind = step.step
    z0 = state.layers.get(SAC_FIRST, (0.0, 0.0))[1]
    if SAC_SECOND in state.layers:
        z1 = state.layers[SAC_SECOND][0]
        if step.thickness_um is not None and abs(step.thickness_um - (z1 - z0)) > 1e-6:
            _violation(
                out,
                index,
                kind,
                "cavity",
                f"thickness_um {step.thickness_um:g} disagrees with the cavity under the second sacrificial layer ({z1 - z0:g} um)",
            )
    elif step.thickness_um is not None:
        z1 = z0 + step.thickness_um
    else:
        _violation(
            out,
            index,
            kind,
            "cavity",
            "nothing bounds the compound from above: give thickness_um or a second sacrificial layer",
        )
        return out
    state.ensure_z(z1)
    label = state.id(UNCURED, step.material)
    block, mask = _box_mask(state, step.outline_um, z0, z1)
    cells = _paint(state, block, mask, label)
    covers = []
    for bond in state.bonds.values():
        top = bond.wire.bbox[5]
        cover = z1 - top
        covers.append(cover)
        if cover < step.min_cover_um - 1e-9:
            p = bond.wire.points[np.argmax(bond.wire.points[:, 2])]
            _violation(
                out,
                index,
                kind,
                "mold_covers_loops",
                f"the loop of {bond.contact} -> {bond.pad} has {cover:.1f} um of compound over it, less than {step.min_cover_um:g} um",
                (float(p[0]), float(p[1]), float(top)),
                (bond.contact,),
            )
    wires_exposed = _exposed_faces(state, "conductive_element.wire_bond")
    bonds_exposed = sorted(c for c, b in state.bonds.items() if _wire_exposed(state, b))
    dies_exposed = {
        name: _exposed_in(state, "die", (*die.outline, die.z0, die.z1)) for name, die in state.dies.items()
    }
    if wires_exposed:
        _violation(
            out,
            index,
            kind,
            "mold_covers_loops",
            f"{wires_exposed} wire-bond cells are left uncovered by the compound",
        )
    die_exposed = _exposed_faces(state, "die")
    out.observations = {
        "material": step.material,
        "z_um": [z0, z1],
        "cells": cells,
        "volume_mm3": _volume(state, block, state.labels[block] == label) * MM3,
        "wire_cells_exposed": wires_exposed,
        "die_cells_exposed": die_exposed,
        "dies_exposed": dies_exposed,
        "bonds_exposed": bonds_exposed,
        "contact_cells_exposed": _exposed_faces(state, "die.contact"),
        "least_cover_over_loops_um": _r(min(covers)) if covers else None,
        "bonds_encapsulated": len(state.bonds) if not wires_exposed else 0,
    }
    return out


def cure(state: ProcessState, step: Cure, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    uncured = state.ids(UNCURED)
    mask = np.isin(state.labels, uncured)
    n = int(mask.sum())
    if n == 0:
        _violation(out, index, step.step, "order", "there is no uncured dielectric to cure")
    for i in uncured:
        material = state.table[i].material
        state.labels[state.labels == i] = state.id("body", material)
    state.cure_temperature_c = step.temperature_c
    out.observations = {"cured_cells": n, "temperature_c": step.temperature_c, "uncured_left": 0}
    return out


def _removed_roles(state: ProcessState, block: Block, mask: NDArray[np.bool_]) -> dict[str, float]:
    view = state.labels[block]
    vol = np.broadcast_to(_block_volumes(state, block), view.shape)
    sums = np.bincount(view[mask].ravel(), weights=vol[mask].ravel(), minlength=len(state.table))
    return {state.table[i].role: round(float(v)) for i, v in enumerate(sums) if v > 0 and i != 0}


def _aperture_mask(
    state: ProcessState, ap: ApertureMade, z0: float, z1: float, r_extra: float = 0.0
) -> tuple[Block, NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """Block around an aperture over [z0, z1]: mask of cells inside its (tapered) radius + r_extra, and the
    radial distance and local radius of every cell."""
    r = max(ap.r_top, ap.r_bottom) + r_extra
    block = state.grid.block((ap.x - r, ap.y - r, z0, ap.x + r, ap.y + r, z1))
    cx, cy, cz = state.grid.block_centres(block)
    rho = np.hypot(cx - ap.x, cy - ap.y)
    radius = np.asarray(ap.radius_at(cz))
    rho, radius = np.broadcast_arrays(rho, radius)
    return block, rho <= radius + r_extra, rho, radius


def drill(state: ProcessState, step: Drill, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    kind = step.step
    if state.ids(UNCURED) and np.isin(state.labels, state.ids(UNCURED)).any():
        _violation(
            out,
            index,
            kind,
            "cured_before_drilling",
            "the dielectric is not cured: cure it before forming apertures",
        )
    tan = math.tan(math.radians(step.taper_deg))
    air = state.id(APERTURE, "air")
    first = state.layers.get(SAC_FIRST)
    second = state.layers.get(SAC_SECOND)
    records = []
    samples = [(b, b.wire.samples(max(b.wire.radius / 2, 1.0))) for b in state.bonds.values()]
    for site in step.apertures:
        x, y = site.at_um
        r = site.diameter_um / 2
        rect = (x - r, y - r, x + r, y + r)
        z_top, z_bot = state.top_in(rect), state.bottom_in(rect)
        if z_top is None or z_bot is None:
            _violation(
                out,
                index,
                kind,
                "aperture_path",
                f"aperture {site.name} meets no material",
                (x, y),
                (site.name,),
            )
            continue
        r_bot = r - (z_top - z_bot) * tan
        if r_bot <= 0:
            _violation(
                out,
                index,
                kind,
                "aperture_path",
                f"aperture {site.name} closes before it reaches the bottom (taper {step.taper_deg:g} deg)",
                (x, y, z_bot),
                (site.name,),
            )
            r_bot = 1e-3
        ap = ApertureMade(site.name, x, y, r, r_bot, z_bot, z_top)
        block, mask, _, _ = _aperture_mask(state, ap, z_bot, z_top)
        removed = _removed_roles(state, block, mask & (state.labels[block] != 0))
        state.labels[block][mask] = air
        state.apertures[site.name] = ap
        hit_pad = next((p.name for p in state.pads.values() if math.hypot(p.x - x, p.y - y) < p.r), None)
        clearance = math.inf
        nearest = None
        for bond, pts in samples:
            inside = (pts[:, 2] >= z_bot) & (pts[:, 2] <= z_top)
            if not inside.any():
                continue
            p = pts[inside]
            gap = np.hypot(p[:, 0] - x, p[:, 1] - y) - np.asarray(ap.radius_at(p[:, 2])) - bond.wire.radius
            k = int(np.argmin(gap))
            if gap[k] < clearance:
                clearance, nearest = float(gap[k]), (bond, p[k])
        rec = {
            "name": site.name,
            "at_um": [x, y],
            "z_um": [_r(z_bot), _r(z_top)],
            "diameter_top_um": _r(2 * r),
            "diameter_bottom_um": _r(2 * r_bot),
            "removed_um3": removed,
            "pad": hit_pad,
            "through_pad": "conductive_unit.pad" in removed,
            "through_base": "body.base" in removed,
            "through_cured_dielectric": "body" in removed,
            "through_uncured_dielectric": UNCURED in removed,
            "through_first_sacrificial": SAC_FIRST in removed,
            "through_second_sacrificial": SAC_SECOND in removed,
            "spans_sacrificial_layers": bool(
                first is not None
                and second is not None
                and z_bot <= first[0] + 1e-6
                and z_top >= second[1] - 1e-6
            ),
            "wire_clearance_um": _r(clearance) if math.isfinite(clearance) else None,
        }
        records.append(rec)
        if not rec["through_pad"]:
            _violation(
                out,
                index,
                kind,
                "aperture_through_pad",
                f"aperture {site.name} does not pass through a pad",
                (x, y),
                (site.name,),
            )
        if not rec["through_base"]:
            _violation(
                out,
                index,
                kind,
                "aperture_through_base",
                f"aperture {site.name} does not pass through the dielectric base",
                (x, y),
                (site.name,),
            )
        if nearest is not None and clearance < step.wire_clearance_um - 1e-9:
            bond, p = nearest
            _violation(
                out,
                index,
                kind,
                "wire_clearance",
                f"aperture {site.name} comes {clearance:.1f} um from the wire {bond.contact} -> {bond.pad}, closer than {step.wire_clearance_um:g} um",
                (float(p[0]), float(p[1]), float(p[2])),
                (site.name, bond.contact),
            )
    out.observations = {
        "apertures": records,
        "taper_deg": step.taper_deg,
        "method": step.method,
        "wire_clearance_um": step.wire_clearance_um,
    }
    return out


def plate(state: ProcessState, step: Plate, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    kind = step.step
    todo = list(state.apertures.values())
    if not todo:
        _violation(out, index, kind, "order", "there are no apertures to plate")
        return out
    ft = step.flange_thickness_um if step.flange_overhang_um > 0 else 0.0
    t = step.thickness_um
    lo = min(ap.z0 for ap in todo) - ft
    hi = max(ap.z1 for ap in todo) + ft
    state.ensure_z(*(v for ap in todo for v in (ap.z0 - ft, ap.z1 + ft)), lo, hi)
    via = state.id("conductive_unit.via", step.material)
    flange = state.id("conductive_unit.flange", step.material)
    hollow = state.id("conductive_unit.hollow", "air")
    air = state.id(APERTURE, "air")
    records = []
    for ap in todo:
        block, mask, rho, radius = _aperture_mask(state, ap, ap.z0, ap.z1)
        view = state.labels[block]
        inside = mask & (view == air)
        wall = inside if t is None else inside & (rho >= radius - t)
        view[wall] = via
        view[inside & ~wall] = hollow
        flange_measured = {}
        on_layer = {}
        for end, z0, z1, r_end, layer in (
            ("bottom", ap.z0 - ft, ap.z0, ap.r_bottom, SAC_FIRST),
            ("top", ap.z1, ap.z1 + ft, ap.r_top, SAC_SECOND),
        ):
            if ft <= 0:
                continue
            rf = r_end + step.flange_overhang_um
            r_in = 0.0 if t is None else max(r_end - t, 0.0)
            col_b, col_m = prism_mask(state.grid, Tube(z0=z0, z1=z1, cx=ap.x, cy=ap.y, r=r_end, r_inner=r_in))
            _paint(state, col_b, col_m, via)
            ring_b, ring_m = prism_mask(state.grid, Tube(z0=z0, z1=z1, cx=ap.x, cy=ap.y, r=rf, r_inner=r_end))
            _paint(state, ring_b, ring_m, flange)
            if r_in > 0:
                h_b, h_m = prism_mask(state.grid, Cylinder(ap.x, ap.y, r_in, z0, z1))
                _paint(state, h_b, h_m, hollow)
            cx, cy, _ = state.grid.block_centres(ring_b)
            rho_ring = np.broadcast_to(np.hypot(cx - ap.x, cy - ap.y), state.labels[ring_b].shape)
            placed = state.labels[ring_b] == flange
            reach = float(rho_ring[placed].max()) if placed.any() else r_end
            flange_measured[end] = _r(reach - r_end)
            on_layer[end] = _touches(state, ring_b, placed, layer)
        metal_block, _, _, _ = _aperture_mask(state, ap, ap.z0 - ft, ap.z1 + ft, step.flange_overhang_um)
        metal = np.isin(state.labels[metal_block], [via, flange])
        kz = state.grid.span(2, ap.z0, ap.z1)
        zr = slice(kz.start - metal_block[2].start, kz.stop - metal_block[2].start)
        continuous = bool(metal[:, :, zr].any(axis=(0, 1)).all()) if metal.size else False
        touches_pad = _touches(state, metal_block, metal, "conductive_unit.pad")
        # The cells actually plated for this aperture (for tolerance: the local plan cell size).
        cell = float(
            max(state.grid.sizes(0)[metal_block[0]].max(), state.grid.sizes(1)[metal_block[1]].max())
        )
        rec = {
            "name": ap.name,
            "touches_pad": touches_pad,
            "continuous": continuous,
            "z_um": [_r(ap.z0 - ft), _r(ap.z1 + ft)],
            "hollow": bool((state.labels[block] == hollow).any()),
            "flange_overhang_um": flange_measured,
            "flange_on_sacrificial": on_layer,
            "cell_um": _r(cell),
        }
        records.append(rec)
        if not touches_pad:
            _violation(
                out,
                index,
                kind,
                "metal_touches_pad",
                f"the metal plated in {ap.name} does not touch a pad",
                (ap.x, ap.y),
                (ap.name,),
            )
        for end, measured in flange_measured.items():
            if abs(measured - step.flange_overhang_um) > cell + 1e-9:
                _violation(
                    out,
                    index,
                    kind,
                    "flange_overhang",
                    f"the {end} flange of {ap.name} overhangs {measured:.1f} um, not the {step.flange_overhang_um:g} um asked",
                    (ap.x, ap.y),
                    (ap.name,),
                )
    if ft > 0 and len(todo) > 1:
        xy = np.array([(ap.x, ap.y) for ap in todo])
        reach = np.array([max(ap.r_top, ap.r_bottom) + step.flange_overhang_um for ap in todo])
        dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
        ii, jj = np.nonzero(np.triu(dist < reach[:, None] + reach[None, :], 1))
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            a, b = todo[i], todo[j]
            _violation(
                out,
                index,
                kind,
                "flange_overhang",
                f"the flanges of {a.name} and {b.name} merge: centres {dist[i, j]:.0f} um apart, flanges reach {reach[i]:.0f} + {reach[j]:.0f} um",
                (0.5 * (a.x + b.x), 0.5 * (a.y + b.y)),
                (a.name, b.name),
            )
    state.apertures = {}
    state.plated = {r["name"]: r for r in records}
    out.observations = {
        "material": step.material,
        "conformal_um": t,
        "flange_overhang_um": step.flange_overhang_um,
        "flange_thickness_um": ft,
        "vias": records,
    }
    return out


def fill_hollows(state: ProcessState, step: FillHollows, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    hollow_ids = state.ids("conductive_unit.hollow")
    mask = np.isin(state.labels, hollow_ids)
    if not mask.any():
        _violation(out, index, step.step, "order", "there are no hollow centres to fill")
        return out
    ks = np.nonzero(mask.any(axis=(0, 1)))[0]
    z0 = float(state.grid.z[ks[0]]) + step.recess_um
    z1 = float(state.grid.z[ks[-1] + 1]) - step.recess_um
    state.ensure_z(z0, z1)
    mask = np.isin(state.labels, hollow_ids)
    zc = state.grid.centres(2)
    mask &= ((zc >= z0) & (zc <= z1))[None, None, :]
    fill = state.id("conductive_unit.fill", step.material)
    state.labels[mask] = fill
    out.observations = {
        "material": step.material,
        "z_um": [_r(z0), _r(z1)],
        "volume_mm3": float((state.grid.cell_volumes() * mask).sum()) * MM3,
        "vias_filled": len(state.plated),
    }
    return out


def remove_sacrificial(state: ProcessState, step: RemoveSacrificial, index: int, panel: Rect) -> Outcome:
    out = Outcome()
    kind = step.step
    metal = state.ids("conductive_unit.via") + state.ids("conductive_unit.flange")
    layers = []
    for name in step.layers:
        role = SAC_ROLES[name]
        if role not in state.layers:
            _violation(out, index, kind, "order", f"there is no {name} sacrificial layer to remove")
            continue
        ids = state.ids(role)
        mask = np.isin(state.labels, ids)
        if not mask.any():
            _violation(out, index, kind, "order", f"the {name} sacrificial layer is already gone")
            continue
        ks = np.nonzero(mask.any(axis=(0, 1)))[0]
        k_out = ks[0] - 1 if name == "first" else ks[-1] + 1
        if 0 <= k_out < state.grid.shape[2]:
            covered = np.isin(state.labels[:, :, k_out], metal)
        else:
            covered = np.zeros(state.grid.shape[:2], dtype=bool)
        candidates = mask.copy()
        if step.region_um is not None:
            sx, sy = state.plan_block(step.region_um)
            region = np.zeros(state.grid.shape[:2], dtype=bool)
            region[sx, sy] = True
            candidates &= region[:, :, None]
        remove = candidates & ~covered[:, :, None] if step.keep == "under_flanges" else candidates
        vol = state.grid.cell_volumes()
        kept = mask & ~remove
        kept_covered = kept & covered[:, :, None]
        layers.append(
            {
                "layer": name,
                "before_mm3": float((vol * mask).sum()) * MM3,
                "removed_mm3": float((vol * remove).sum()) * MM3,
                "kept_mm3": float((vol * kept).sum()) * MM3,
                "kept_under_flanges_mm3": float((vol * kept_covered).sum()) * MM3,
                "kept_elsewhere_mm3": float((vol * (kept & ~covered[:, :, None])).sum()) * MM3,
                "removed_under_flanges_mm3": float((vol * (remove & covered[:, :, None])).sum()) * MM3,
                "under_flanges_mm3": float((vol * (mask & covered[:, :, None])).sum()) * MM3,
            }
        )
        state.labels[remove] = 0
        for i in ids:
            material = state.table[i].material
            state.labels[kept & (state.labels == i)] = state.id("conductive_unit.remnant", material)
    die_ids = state.ids("die")
    out.observations = {
        "layers": layers,
        "keep": step.keep,
        "region_um": list(step.region_um) if step.region_um else None,
        "die_back_exposed_fraction": _bottom_exposed(state, die_ids),
    }
    return out


def _bottom_exposed(state: ProcessState, ids: list[int]) -> float:
    """Fraction of the bottom faces of cells with ``ids`` that face ambient air (or the grid's bottom)."""
    return _bottom_faces(state, ids, None)


Operation = Callable[[ProcessState, Any, int, Rect], Outcome]

OPERATIONS: dict[str, Operation] = {
    "sacrificial_layer": sacrificial_layer,
    "dielectric_base": dielectric_base,
    "pad_array": pad_array,
    "die_attach": die_attach,
    "wire_bond": wire_bond,
    "encapsulate": encapsulate,
    "cure": cure,
    "drill": drill,
    "plate": plate,
    "fill_hollows": fill_hollows,
    "remove_sacrificial": remove_sacrificial,
}

__all__ = ["OPERATIONS", "Outcome"]
