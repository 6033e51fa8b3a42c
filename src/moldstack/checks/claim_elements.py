"""Geometric readings of a built model for the claim chart: each claim element as a test on solids.

``ModelView`` wraps a Model with its connectivity; ``AssemblyView`` reads one placed assembly and has one
``e_*`` method per claim element, returning an :class:`~moldstack.checks.chart.ElementResult` with the parts that
satisfy it or the reason none does. The readings (front face, exposed, connected, hollow, thermally conductive,
reflowable) are described in :mod:`moldstack.checks.claims`.

It reads only the Model. It must not know the spec, the builder, the claim numbering or the process flow.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

from moldstack.checks.chart import ElementResult
from moldstack.geometry.adjacency import Connectivity, role_matches
from moldstack.geometry.model import BBox, DieInfo, Model, PlacedAssembly, Solid, UnitInfo
from moldstack.geometry.primitives import Box, Prism, Shape, Tube, Wire

TOLERANCE_UM = 0.5
THERMAL_ADHESIVE_MIN_K = 1.0
"""W/(m K): an adhesive at or above this counts as thermally conductive (filled epoxies 1.5-5; plain 0.2-0.4)."""
REFLOW_MAX_C = 450.0
"""C: a conductor melting below this is reflowable (solders; the soldering/brazing boundary)."""
ELEMENT_ROLES = ("conductive_element",)

NOT_UNIT_WALL = ("conductive_unit.fill", "conductive_unit.hollow")
"""Roles inside a unit's hollow: the fill and the empty void; the unit's wall is everything else."""
SECTION_RESOLUTION = 8
"""Quarter-circle segments of the polygons standing for round sections: enough to find holes and covers, as
every circle of a unit is drawn through the same vertices."""
_UNIT_WORDS = {"post": "posts", "pad_protrusion": "pads with protrusions", "plated_via": "plated vias"}


def unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def names_list(items: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def z_text(value: float) -> str:
    return f"{value:g}"


def plan_overlap(a: Sequence[float], b: Sequence[float], tol: float) -> bool:
    """Whether two bboxes (x0, y0, z0, x1, y1, z1) overlap in plan by more than ``tol`` each way."""
    return min(a[3], b[3]) - max(a[0], b[0]) > tol and min(a[4], b[4]) - max(a[1], b[1]) > tol


def _volume_overlap(a: Sequence[float], b: Sequence[float], tol: float) -> bool:
    return plan_overlap(a, b, tol) and min(a[5], b[5]) - max(a[2], b[2]) > tol


def _centre(shape: Shape) -> tuple[float, float]:
    """Centroid of a prism's section (of a wire's polyline vertices)."""
    if isinstance(shape, Box):
        return ((shape.x0 + shape.x1) / 2, (shape.y0 + shape.y1) / 2)
    if isinstance(shape, Tube):
        return (shape.cx, shape.cy)
    if isinstance(shape, Wire):
        x, y = shape.points[:, :2].mean(axis=0).tolist()
        return (x, y)
    c = shape.section().centroid
    return (c.x, c.y)


def _area(solid: Solid) -> float:
    """Cross-section area of a prism solid (um^2); a wire's is its disc."""
    shape = solid.shape
    return shape.area if isinstance(shape, Prism) else math.pi * shape.radius**2


def _union_bbox(boxes: Iterable[BBox]) -> BBox:
    b = np.array(list(boxes), dtype=float).reshape(-1, 6)
    x0, y0, z0 = b[:, :3].min(axis=0).tolist()
    x1, y1, z1 = b[:, 3:].max(axis=0).tolist()
    return (x0, y0, z0, x1, y1, z1)


def _rect_distance(x: float, y: float, bbox: Sequence[float]) -> float:
    return math.hypot(max(bbox[0] - x, 0.0, x - bbox[3]), max(bbox[1] - y, 0.0, y - bbox[4]))


def _section(solids: Iterable[Solid], resolution: int = SECTION_RESOLUTION) -> shapely.Geometry:
    """The union of the plan sections of the prisms among ``solids`` (circles as 4 * resolution-gons)."""
    return shapely.union_all([s.shape.section(resolution) for s in solids if isinstance(s.shape, Prism)])


@dataclass(frozen=True)
class DieView:
    """A die as its geometry shows it: box, the face its contacts (or terminals) are on, its attach layers."""

    info: DieInfo
    part: str
    bbox: BBox
    faces_up: bool | None
    contacts: tuple[Solid, ...]
    attach: tuple[Solid, ...]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def front_z(self) -> float:
        return self.bbox[2] if self.faces_up is False else self.bbox[5]

    @property
    def back_z(self) -> float:
        return self.bbox[5] if self.faces_up is False else self.bbox[2]


@dataclass(frozen=True)
class UnitView:
    info: UnitInfo
    solids: tuple[Solid, ...]
    bbox: BBox

    @property
    def part(self) -> str:
        return self.info.part

    @property
    def name(self) -> str:
        return self.info.name


@dataclass(frozen=True)
class HollowView:
    """The holes in a unit's section level by level: (z0, z1, holes or None), bottom to top."""

    levels: tuple[tuple[float, float, shapely.Geometry | None], ...]

    @property
    def any(self) -> bool:
        return any(h is not None for _, _, h in self.levels)

    @cached_property
    def channel(self) -> shapely.Geometry | None:
        """Where the holes of every level line up (a hollow through the unit), or None."""
        if not self.levels or any(h is None for _, _, h in self.levels):
            return None
        common = shapely.intersection_all([h for _, _, h in self.levels])
        return None if common.is_empty or common.area <= 0 else common

    @property
    def closed(self) -> tuple[float, float] | None:
        """The z range of the first level with no hole."""
        return next(((z0, z1) for z0, z1, h in self.levels if h is None), None)

    def holes_over(self, z0: float, z1: float) -> shapely.Geometry | None:
        found = [h for a, b, h in self.levels if h is not None and b > z0 and a < z1]
        return shapely.union_all(found) if found else None


class ModelView:
    """Model-wide facts the assemblies share: the conductors, the insulators' boxes for cover tests."""

    def __init__(self, model: Model, conn: Connectivity, tol: float) -> None:
        self.model = model
        self.conn = conn
        self.tol = tol
        self.insulators = [s for s in model.solids if not self.conducts(s)]
        self.insulator_boxes = np.array([s.shape.bbox for s in self.insulators], dtype=float).reshape(-1, 6)

    def conducts(self, solid: Solid) -> bool:
        material = self.model.materials.get(solid.material)
        return material is not None and material.conductor

    def covered(self, solids: Sequence[Solid], top: bool) -> bool:
        """Whether insulating solids cover all of the end face (top or bottom) of ``solids``."""
        tol = self.tol
        if top:
            end = max(s.shape.bbox[5] for s in solids)
            face = [s for s in solids if s.shape.bbox[5] >= end - tol]
        else:
            end = min(s.shape.bbox[2] for s in solids)
            face = [s for s in solids if s.shape.bbox[2] <= end + tol]
        fb = np.array([s.shape.bbox for s in face]).reshape(-1, 6)
        lo, hi = fb[:, :2].min(axis=0), fb[:, 3:5].max(axis=0)
        b = self.insulator_boxes
        if top:
            spans = (b[:, 2] <= end + tol) & (b[:, 5] > end + tol)
        else:
            spans = (b[:, 5] >= end - tol) & (b[:, 2] < end - tol)
        near = spans & np.all(b[:, :2] < hi - tol, axis=1) & np.all(b[:, 3:5] > lo + tol, axis=1)
        if not near.any():
            return False
        covers = [self.insulators[k] for k in np.flatnonzero(near)]
        uncovered = _section(face).difference(_section(covers))
        return uncovered.area <= tol * tol

    def material_k(self, solid: Solid) -> float:
        return self.model.materials[solid.material].k_w_mk


class AssemblyView:
    """One placed assembly read from its solids: body, dies, units, and each claim element evaluated on them."""

    def __init__(self, ctx: ModelView, pa: PlacedAssembly) -> None:
        self.ctx = ctx
        self.pa = pa
        self.tol = ctx.tol
        self.model = ctx.model
        self.conn = ctx.conn
        self.body = self.model.solid(pa.body_solid)
        self.bbox = self.body.shape.bbox
        mine = [s for s in self.model.solids if s.assembly == pa.name]
        self.solids = mine
        self.elements = [s for s in mine if role_matches(s.role, ELEMENT_ROLES) and self.ctx.conducts(s)]
        self.units = [self._unit(u) for u in pa.units]
        dies = [self._die(d) for d in pa.dies]
        self.first = [d for d in dies if self.model.solid(d.info.solid).role == "die"]
        self.second = [d for d in dies if self.model.solid(d.info.solid).role == "second_die"]

    # ------------------------------------------------------------------------------------------ reading parts

    def _die(self, info: DieInfo) -> DieView:
        solid = self.model.solid(info.solid)
        bb = solid.shape.bbox
        tol = self.tol
        up, down = [], []
        for c in info.contacts:
            cs = self.model.solid(c.solid)
            cb = cs.shape.bbox
            cx, cy = (cb[0] + cb[3]) / 2, (cb[1] + cb[4]) / 2
            if not (bb[0] <= cx <= bb[3] and bb[1] <= cy <= bb[4]):
                continue
            if abs(cb[2] - bb[5]) <= tol:
                up.append(cs)
            elif abs(cb[5] - bb[2]) <= tol:
                down.append(cs)
        faces_up = True if up else (False if down else None)
        attach = (self.model.solid(info.attach_solid),) if info.attach_solid else ()
        return DieView(info, solid.part, bb, faces_up, tuple(up or down), attach)

    def _unit(self, info: UnitInfo) -> UnitView:
        solids = tuple(self.model.solid(s) for s in info.solids)
        return UnitView(info, solids, _union_bbox(s.shape.bbox for s in solids))

    @property
    def name(self) -> str:
        return self.pa.name

    @property
    def z_bottom(self) -> float:
        return self.bbox[2]

    @property
    def z_top(self) -> float:
        return self.bbox[5]

    def exposed(self, solids: Sequence[Solid], top: bool) -> bool:
        """The end of ``solids`` reaches the body face (or beyond) and is not all covered by insulators."""
        if top:
            reaches = max(s.shape.bbox[5] for s in solids) >= self.z_top - self.tol
        else:
            reaches = min(s.shape.bbox[2] for s in solids) <= self.z_bottom + self.tol
        return reaches and not self.ctx.covered(solids, top)

    @cached_property
    def exposed_top(self) -> list[UnitView]:
        return [u for u in self.units if self.exposed(u.solids, top=True)]

    @cached_property
    def exposed_bottom(self) -> list[UnitView]:
        return [u for u in self.units if self.exposed(u.solids, top=False)]

    @cached_property
    def dies_with_contacts(self) -> list[DieView]:
        return [d for d in self.first if d.contacts]

    @property
    def reference_dies(self) -> list[DieView]:
        return self.dies_with_contacts or self.first

    def inside_body(self, solid: Solid) -> bool:
        b = self.bbox
        if isinstance(solid.shape, Wire):
            p = solid.shape.points
            inside = (p[:, 0] > b[0]) & (p[:, 0] < b[3]) & (p[:, 1] > b[1]) & (p[:, 1] < b[4])
            return bool((inside & (p[:, 2] > b[2]) & (p[:, 2] < b[5])).any())
        return _volume_overlap(solid.shape.bbox, b, self.tol)

    def reach(self, start: Solid, targets: set[str]) -> tuple[bool, tuple[str, ...]]:
        """Whether ``start`` reaches any of ``targets`` through conductive elements of which at least one lies
        in the mass; and the parts of the elements reached."""
        reached = self.conn.reachable(start.id, ELEMENT_ROLES)
        elements = [self.model.solid(s) for s in reached if role_matches(self.conn.roles[s], ELEMENT_ROLES)]
        ok = bool(reached & targets) and any(self.inside_body(e) for e in elements)
        return ok, unique(e.part for e in sorted(elements, key=lambda e: e.id))

    # --------------------------------------------------------------------------------------- claim elements

    def e_die_with_contacts(self, words: str) -> ElementResult:
        dies = self.dies_with_contacts
        if dies:
            return ElementResult(words, True, unique(d.part for d in dies))
        if not self.first:
            return ElementResult(words, False, reason="no microelectronic element (role die) in the assembly")
        return ElementResult(
            words,
            False,
            reason=f"{names_list([d.name for d in self.first])} has no contacts on a face within its outline",
        )

    def _mass_reason(self) -> str | None:
        if self.ctx.conducts(self.body):
            return f"the body's material {self.body.material} is a conductor, not a dielectric"
        return None

    def e_mass(self, words: str) -> ElementResult:
        why = self._mass_reason()
        if why:
            return ElementResult(words, False, reason=why)
        dies = [d for d in self.reference_dies if _volume_overlap(d.bbox, self.bbox, self.tol)]
        if dies:
            return ElementResult(words, True, (self.body.part,))
        if not self.first:
            return ElementResult(words, False, reason="there is no die for the mass to encapsulate")
        return ElementResult(
            words, False, reason="the die lies outside the body: the mass encloses none of it"
        )

    @cached_property
    def edge_units(self) -> list[UnitView]:
        """Units embedded in the mass, inside its outline, outside every die's outline."""
        return [u for u in self.units if not self._edge_misfit(u)]

    def _edge_misfit(self, u: UnitView) -> str | None:
        tol, b = self.tol, self.bbox
        if not any(self.ctx.conducts(s) for s in u.solids):
            return "not conductive"
        if min(u.bbox[5], b[5]) - max(u.bbox[2], b[2]) <= tol:
            return "outside the body's height"
        if (
            u.bbox[0] < b[0] - tol
            or u.bbox[1] < b[1] - tol
            or u.bbox[3] > b[3] + tol
            or u.bbox[4] > b[4] + tol
        ):
            return "outside the body's outline"
        if any(plan_overlap(u.bbox, d.bbox, tol) for d in self.reference_dies):
            return "over the die's outline"
        return None

    def e_edge_units(self, words: str) -> ElementResult:
        if self.edge_units:
            return ElementResult(words, True, unique(u.part for u in self.edge_units))
        if not self.units:
            return ElementResult(words, False, reason="the assembly has no conductive units")
        misfits: dict[str, list[str]] = {}
        for u in self.units:
            misfits.setdefault(self._edge_misfit(u) or "", []).append(u.name)
        detail = "; ".join(f"{names_list(v)} {k}" for k, v in misfits.items())
        return ElementResult(
            words, False, reason=f"no unit is embedded in the mass along a die edge: {detail}"
        )

    @cached_property
    def unit_ends(self) -> tuple[float, float] | None:
        """Lowest and highest z of the units along a die edge (None when there are none)."""
        if not self.edge_units:
            return None
        return (min(u.bbox[2] for u in self.edge_units), max(u.bbox[5] for u in self.edge_units))

    def e_exposed_both(self, words: str) -> ElementResult:
        top = {u.name for u in self.exposed_top}
        bottom = {u.name for u in self.exposed_bottom}
        both = [u for u in self.edge_units if u.name in top and u.name in bottom]
        if both:
            return ElementResult(words, True, unique(u.part for u in both))
        if self.unit_ends is None:
            return ElementResult(words, False, reason="no unit is embedded along a die edge")
        lo, hi = self.unit_ends
        return ElementResult(
            words,
            False,
            reason=(
                f"no unit is exposed at both the top (z {z_text(self.z_top)}) and bottom (z {z_text(self.z_bottom)}) "
                f"surfaces: {len(top)} exposed at the top, {len(bottom)} at the bottom; unit ends lie at "
                f"z {z_text(lo)} to {z_text(hi)} um"
            ),
        )

    def e_elements(self, words: str) -> ElementResult:
        if not self.elements:
            return ElementResult(
                words, False, reason="no conductive elements (roles conductive_element.*) in the assembly"
            )
        if not any(self.inside_body(e) for e in self.elements):
            return ElementResult(words, False, reason="no conductive element extends through the mass")
        targets = {s.id for u in self.edge_units for s in u.solids}
        parts: list[str] = []
        contacts = [c for d in self.reference_dies for c in d.contacts]
        for c in contacts:
            ok, found = self.reach(c, targets)
            if ok:
                parts.extend(found)
        if parts:
            return ElementResult(words, True, unique(parts))
        return ElementResult(
            words,
            False,
            reason=f"none of the {len(contacts)} contacts reaches an edge unit through conductive elements in the mass",
        )

    def e_orientation(self, words: str) -> ElementResult:
        up = [d for d in self.dies_with_contacts if d.faces_up]
        if up:
            return ElementResult(words, True, (self.body.part, *unique(d.part for d in up)))
        if not self.dies_with_contacts:
            return ElementResult(words, False, reason="no die has contacts, so it has no front face")
        names = names_list([d.name for d in self.dies_with_contacts])
        return ElementResult(
            words,
            False,
            reason=f"{names}'s contacts are on its bottom face: the front faces the bottom surface",
        )

    # claim 3 and 4: pads and protrusions

    @cached_property
    def pad_pairs(self) -> tuple[dict[str, list[tuple[Solid, Solid]]], str]:
        """(pad, protrusion) pairs of each unit: the pad exposed at the bottom, the protrusion touching it and
        exposed at the top; and, if there are none, why."""
        pairs: dict[str, list[tuple[Solid, Solid]]] = {}
        pads_any = pads_bottom = 0
        pad_z = math.inf
        for u in self.edge_units:
            pads = [s for s in u.solids if s.role == "conductive_unit.pad"]
            pads_any += bool(pads)
            pad_z = min([pad_z, *(p.shape.bbox[2] for p in pads)])
            pads = [p for p in pads if self.exposed([p], top=False)]
            pads_bottom += bool(pads)
            prots = [
                s for s in u.solids if s.role == "conductive_unit.protrusion" and self.exposed([s], top=True)
            ]
            found = [(p, q) for p in pads for q in prots if q.id in self.conn.neighbours.get(p.id, ())]
            if found:
                pairs[u.name] = found
        why = ""
        if not pairs:
            shapes = unique(_UNIT_WORDS.get(u.info.shape, u.info.shape) for u in self.edge_units)
            if not pads_any:
                why = (
                    "no conductive unit has a pad portion exposed at the bottom surface: "
                    f"units are {' and '.join(shapes) or 'none'}"
                )
            elif not pads_bottom:
                why = (
                    "no conductive unit has a pad portion exposed at the bottom surface: the pad portions lie at "
                    f"z {z_text(pad_z)} um and above, over the bottom surface (z {z_text(self.z_bottom)})"
                )
            else:
                why = (
                    "no pad portion exposed at the bottom has a protrusion from it exposed at the top surface"
                )
        return pairs, why

    def e_pad_protrusion(self, words: str) -> ElementResult:
        pairs, why = self.pad_pairs
        if pairs:
            return ElementResult(words, True, unique(self.pa.unit(n).part for n in pairs))
        return ElementResult(words, False, reason=why)

    @cached_property
    def claim3_units(self) -> dict[str, list[tuple[Solid, Solid]]]:
        pairs, _ = self.pad_pairs
        return {n: found for n, found in pairs.items() if all(_area(q) < _area(p) for p, q in found)}

    def e_smaller(self, words: str) -> ElementResult:
        pairs, _ = self.pad_pairs
        if self.claim3_units:
            return ElementResult(words, True, unique(self.pa.unit(n).part for n in self.claim3_units))
        if not pairs:
            return ElementResult(words, False, reason="no unit has a pad portion with a protrusion")
        name, found = next(iter(pairs.items()))
        pad, prot = found[0]
        return ElementResult(
            words,
            False,
            reason=(
                f"no protrusion is smaller in section than its pad portion: {name}'s protrusion "
                f"{_area(prot):.0f} um² vs pad {_area(pad):.0f} um²"
            ),
        )

    def e_far(self, words: str) -> ElementResult:
        if not self.claim3_units:
            return ElementResult(
                words, False, reason="no unit has a pad portion with a smaller protrusion (claim 3)"
            )
        dies = self.reference_dies
        if not dies:
            return ElementResult(words, False, reason="no die to measure from")
        good: list[str] = []
        first_bad: tuple[str, float] | None = None
        for name, found in self.claim3_units.items():
            shifts = []
            for pad, prot in found:
                pc, qc = _centre(pad.shape), _centre(prot.shape)
                dp = min(_rect_distance(*pc, d.bbox) for d in dies)
                dq = min(_rect_distance(*qc, d.bbox) for d in dies)
                shifts.append(dq - dp)
            if min(shifts) > self.tol:
                good.append(self.pa.unit(name).part)
            elif first_bad is None:
                first_bad = (name, min(shifts))
        if good:
            return ElementResult(words, True, unique(good))
        assert first_bad is not None
        return ElementResult(
            words,
            False,
            reason=(
                f"no protrusion is on the side of its pad furthest from the die: {first_bad[0]}'s protrusion centre is "
                f"{first_bad[1]:.1f} um further from the die than its pad's centre"
            ),
        )

    def e_protrudes(self, words: str) -> ElementResult:
        tol = self.tol
        out = [u for u in self.edge_units if u.bbox[5] > self.z_top + tol or u.bbox[2] < self.z_bottom - tol]
        if out:
            return ElementResult(words, True, unique(u.part for u in out))
        if self.unit_ends is None:
            return ElementResult(words, False, reason="no unit is embedded along a die edge")
        lo, hi = self.unit_ends
        return ElementResult(
            words,
            False,
            reason=(
                f"no unit protrudes from the top or bottom surface: unit ends lie at z {z_text(lo)} to {z_text(hi)} um, "
                f"within the body's faces (z {z_text(self.z_bottom)} and {z_text(self.z_top)} um)"
            ),
        )

    # claims 8, 9, 19, 20: the die back

    def _back_cover(self, d: DieView) -> str | None:
        """Why the back of ``d`` is not exposed, or None if it is."""
        tol = self.tol
        if d.faces_up is False:
            if d.back_z < self.z_top - tol:
                return f"{d.name}'s back (z {z_text(d.back_z)}) lies {self.z_top - d.back_z:.0f} um below the top surface"
        elif d.back_z > self.z_bottom + tol:
            return (
                f"{d.name}'s back (z {z_text(d.back_z)}) lies {d.back_z - self.z_bottom:.0f} um above the bottom surface "
                f"(z {z_text(self.z_bottom)}): the mold covers it"
            )
        own = {d.info.solid, *(s.id for s in d.attach)}
        for s in self.model.solids:
            if s.id in own or not plan_overlap(s.shape.bbox, d.bbox, tol):
                continue
            z0, z1 = s.shape.bbox[2], s.shape.bbox[5]
            below = z0 < d.back_z - tol <= z1 if d.faces_up is not False else z0 <= d.back_z + tol < z1
            if below:
                return f"{s.part} ({s.role}) covers {d.name}'s back"
        return None

    def e_back_exposed(self, words: str) -> ElementResult:
        dies = self.reference_dies
        if not dies:
            return ElementResult(words, False, reason="no microelectronic element (role die) in the assembly")
        why = {d.name: self._back_cover(d) for d in dies}
        good = [d.part for d in dies if why[d.name] is None]
        if good:
            return ElementResult(words, True, unique(good))
        return ElementResult(words, False, reason="; ".join(w for w in why.values() if w))

    def e_adhesive(self, words: str) -> ElementResult:
        dies = self.reference_dies
        tol = self.tol
        found: list[tuple[DieView, Solid]] = []
        for d in dies:
            for s in self.solids:
                if not s.role.endswith(".attach") or not plan_overlap(s.shape.bbox, d.bbox, tol):
                    continue
                face = s.shape.bbox[5] if d.faces_up is not False else s.shape.bbox[2]
                if abs(face - d.back_z) <= tol:
                    found.append((d, s))
        good = [s.part for _, s in found if self.ctx.material_k(s) >= THERMAL_ADHESIVE_MIN_K]
        if good:
            return ElementResult(words, True, unique(good))
        if not found:
            names = names_list([d.name for d in dies]) or "the die"
            return ElementResult(words, False, reason=f"no adhesive is attached to {names}'s back surface")
        d, s = found[0]
        return ElementResult(
            words,
            False,
            reason=(
                f"the adhesive on {d.name}'s back ({s.material}, {self.ctx.material_k(s):g} W/mK) is below the "
                f"{THERMAL_ADHESIVE_MIN_K:g} W/mK taken as thermally conductive"
            ),
        )

    # claims 10-13: hollow centres and their fill

    @cached_property
    def hollows(self) -> dict[str, HollowView]:
        """The hollow of every edge unit that has one (a hole in its section at some level)."""
        out: dict[str, HollowView] = {}
        for u in self.edge_units:
            h = self._hollow(u)
            if h is not None and h.any:
                out[u.name] = h
        return out

    def _hollow(self, u: UnitView) -> HollowView | None:
        body = [s for s in u.solids if s.role not in NOT_UNIT_WALL and isinstance(s.shape, Prism)]
        if not any(isinstance(s.shape, Tube) and s.shape.r_inner > 0 for s in body):
            return None
        zs = sorted({z for s in body for z in (s.shape.bbox[2], s.shape.bbox[5])})
        sections = [s.shape.section(SECTION_RESOLUTION) for s in body]
        levels: list[tuple[float, float, shapely.Geometry | None]] = []
        for z0, z1 in itertools.pairwise(zs):
            if z1 - z0 <= self.tol:
                continue
            mid = (z0 + z1) / 2
            section = shapely.union_all(
                [g for s, g in zip(body, sections, strict=True) if s.shape.bbox[2] < mid < s.shape.bbox[5]]
            )
            polygons = shapely.get_parts(section)
            holes = [shapely.Polygon(ring) for p in polygons for ring in getattr(p, "interiors", ())]
            levels.append((z0, z1, shapely.union_all(holes) if holes else None))
        return HollowView(tuple(levels))

    def e_hollow(self, words: str) -> ElementResult:
        if self.hollows:
            return ElementResult(words, True, unique(self.pa.unit(n).part for n in self.hollows))
        shapes = unique(_UNIT_WORDS.get(u.info.shape, u.info.shape) for u in self.edge_units)
        return ElementResult(
            words,
            False,
            reason=f"no conductive unit has a hollow centre: their sections are solid (units are {' and '.join(shapes) or 'none'})",
        )

    def e_through(self, words: str) -> ElementResult:
        through = [n for n, h in self.hollows.items() if h.channel is not None]
        if through:
            return ElementResult(words, True, unique(self.pa.unit(n).part for n in through))
        if not self.hollows:
            return ElementResult(words, False, reason="no unit has a hollow centre")
        name, h = next(iter(self.hollows.items()))
        closed = h.closed
        where = (
            f"closed over z {z_text(closed[0])} to {z_text(closed[1])} um"
            if closed
            else "the holes do not line up"
        )
        return ElementResult(words, False, reason=f"the hollow centres are blind: {name}'s hollow is {where}")

    @cached_property
    def fills(self) -> dict[str, list[Solid]]:
        """Reflowable conductive fill in each hollow unit's hollow."""
        out: dict[str, list[Solid]] = {}
        for name, h in self.hollows.items():
            for s in self.pa.unit(name).solids:
                fill = self.model.solid(s)
                if (
                    fill.role != "conductive_unit.fill"
                    or not self._reflowable(fill)
                    or not self._in_hollow(fill, h)
                ):
                    continue
                out.setdefault(name, []).append(fill)
        return out

    def _reflowable(self, solid: Solid) -> bool:
        m = self.model.materials[solid.material]
        return m.conductor and m.melting_c is not None and m.melting_c < REFLOW_MAX_C

    def _in_hollow(self, solid: Solid, h: HollowView) -> bool:
        if not isinstance(solid.shape, Prism):
            return False
        holes = h.holes_over(solid.shape.z0, solid.shape.z1)
        return (
            holes is not None
            and solid.shape.section(SECTION_RESOLUTION)
            .difference(holes.buffer(self.tol, quad_segs=SECTION_RESOLUTION))
            .area
            <= self.tol**2
        )

    def e_fill(self, words: str) -> ElementResult:
        if self.fills:
            return ElementResult(words, True, unique(self.pa.unit(n).part for n in self.fills))
        if not self.hollows:
            return ElementResult(words, False, reason="no unit has a hollow centre")
        fills = [
            self.model.solid(s)
            for n in self.hollows
            for s in self.pa.unit(n).solids
            if self.model.solid(s).role == "conductive_unit.fill"
        ]
        if not fills:
            return ElementResult(
                words, False, reason="nothing is disposed in the hollow centres (they are empty)"
            )
        f = fills[0]
        m = self.model.materials[f.material]
        if not m.conductor:
            why = f"the fill ({f.material}) is not an electrical conductor"
        elif m.melting_c is None or m.melting_c >= REFLOW_MAX_C:
            melt = "has no melting point given" if m.melting_c is None else f"melts at {m.melting_c:g} C"
            why = (
                f"the fill ({f.material}) is not reflowable: it {melt} (reflowable: below {REFLOW_MAX_C:g} C)"
            )
        else:
            why = f"the fill of {f.part} lies outside the hollow centre"
        return ElementResult(words, False, reason=why)

    def e_fill_exposed(self, words: str) -> ElementResult:
        tol = self.tol
        good: list[str] = []
        gaps: list[tuple[str, float, float]] = []
        for name, fills in self.fills.items():
            u = next(u for u in self.units if u.name == name)
            for f in fills:
                fb = f.shape.bbox
                top = abs(fb[5] - u.bbox[5]) <= tol and self.exposed([f], top=True)
                bottom = abs(fb[2] - u.bbox[2]) <= tol and self.exposed([f], top=False)
                if top or bottom:
                    good.append(u.part)
                else:
                    gaps.append((name, u.bbox[5] - fb[5], fb[2] - u.bbox[2]))
        if good:
            return ElementResult(words, True, unique(good))
        if not self.fills:
            return ElementResult(words, False, reason="no reflowable material in a hollow centre (claim 12)")
        name, gt, gb = gaps[0]
        if min(gt, gb) > tol:
            why = (
                f"the reflowable fill is recessed: {name}'s fill stops {gt:.1f} um short of the unit's top end "
                f"and {gb:.1f} um short of its bottom end"
            )
        else:
            why = f"insulating material covers the ends of the reflowable fill ({name})"
        return ElementResult(words, False, reason=why)

    # claims 14-18: the second die

    def _over_front(self, second: DieView, first: DieView) -> bool:
        tol = self.tol
        if not plan_overlap(second.bbox, first.bbox, tol):
            return False
        if first.faces_up is False:
            return second.bbox[5] <= first.front_z + tol
        return second.bbox[2] >= first.front_z - tol

    @cached_property
    def juxtaposed(self) -> list[tuple[DieView, DieView]]:
        """(second, first) pairs: a second die with terminals on the front side of a first die with contacts."""
        return [
            (s, f)
            for s in self.second
            if s.contacts
            for f in self.dies_with_contacts
            if self._over_front(s, f)
        ]

    def e_second_die(self, words: str) -> ElementResult:
        if self.juxtaposed:
            return ElementResult(words, True, unique(s.part for s, _ in self.juxtaposed))
        if not self.second:
            return ElementResult(
                words, False, reason="no second microelectronic element (role second_die) in the assembly"
            )
        bare = [s.name for s in self.second if not s.contacts]
        if bare:
            return ElementResult(words, False, reason=f"{names_list(bare)} has no terminals on a face")
        return ElementResult(
            words,
            False,
            reason=f"{names_list([s.name for s in self.second])} is not over the front face of a die with contacts",
        )

    def e_mass_full(self, words: str) -> ElementResult:
        why = self._mass_reason()
        if why:
            return ElementResult(words, False, reason=why)
        tol, b = self.tol, self.bbox
        firsts = [d for d in self.dies_with_contacts if _volume_overlap(d.bbox, b, tol)]
        seconds = self.second or []
        inside = [
            s
            for s in seconds
            if all(s.bbox[k] > b[k] + tol for k in range(3))
            and all(s.bbox[k] < b[k] - tol for k in range(3, 6))
        ]
        if firsts and inside:
            return ElementResult(words, True, (self.body.part,))
        if not firsts:
            return ElementResult(words, False, reason="the mass encapsulates no die with contacts")
        if not seconds:
            return ElementResult(
                words, False, reason="no second microelectronic element (role second_die) to encapsulate"
            )
        return ElementResult(
            words,
            False,
            reason=f"{names_list([s.name for s in seconds])} reaches an exterior face of the body: not fully encapsulated",
        )

    def e_units_secured(self, words: str) -> ElementResult:
        secured = [
            u for u in self.units if any(_volume_overlap(s.shape.bbox, self.bbox, self.tol) for s in u.solids)
        ]
        if secured:
            return ElementResult(words, True, unique(u.part for u in secured))
        return ElementResult(words, False, reason="no conductive unit lies in the mass")

    def _terminals(self) -> list[Solid]:
        return [t for s, _ in self.juxtaposed for t in s.contacts]

    def _contacts(self) -> list[Solid]:
        return [c for d in self.dies_with_contacts for c in d.contacts]

    def e_elements_14(self, words: str) -> ElementResult:
        units = {s.id for u in self.units for s in u.solids}
        contacts, terminals = self._contacts(), self._terminals()
        if not terminals:
            return ElementResult(words, False, reason="no second element with terminals to connect")
        parts: list[str] = []
        ok_c = ok_t = False
        for c in contacts:
            ok, found = self.reach(c, units | {t.id for t in terminals})
            if ok:
                ok_c = True
                parts.extend(found)
        for t in terminals:
            ok, found = self.reach(t, units | {c.id for c in contacts})
            if ok:
                ok_t = True
                parts.extend(found)
        if ok_c and ok_t:
            return ElementResult(words, True, unique(parts))
        which = "contacts" if not ok_c else "terminals"
        return ElementResult(
            words,
            False,
            reason=f"none of the {which} reaches a unit or the other die through conductive elements in the mass",
        )

    def e_one_exposed(self, words: str) -> ElementResult:
        names = {u.name for u in self.exposed_top} | {u.name for u in self.exposed_bottom}
        exposed = unique(u.part for u in self.units if u.name in names)
        if exposed:
            return ElementResult(words, True, exposed)
        return ElementResult(
            words, False, reason="no conductive unit is exposed at the top or bottom surface"
        )

    def e_face_and_back(self, words: str) -> ElementResult:
        faced = [s for s in self.second if s.faces_up is not None]
        if faced:
            return ElementResult(words, True, unique(s.part for s in faced))
        if not self.second:
            return ElementResult(words, False, reason="no second microelectronic element (role second_die)")
        return ElementResult(
            words, False, reason=f"{names_list([s.name for s in self.second])} has no terminals on a face"
        )

    def e_back_faces_front(self, words: str) -> ElementResult:
        good = [s for s, f in self.juxtaposed if s.faces_up == f.faces_up]
        if good:
            return ElementResult(words, True, unique(s.part for s in good))
        if not self.juxtaposed:
            return ElementResult(words, False, reason="no second element lies over the first's front face")
        s, f = self.juxtaposed[0]
        return ElementResult(
            words,
            False,
            reason=f"{s.name}'s terminals face {f.name}'s front (face to face): its back faces away from it",
        )

    def e_back_attached(self, words: str) -> ElementResult:
        tol = self.tol
        good: list[str] = []
        for s, f in self.juxtaposed:
            lo, hi = sorted((f.front_z, s.back_z))
            for a in self.solids:
                ab = a.shape.bbox
                if (
                    a.role.endswith(".attach")
                    and abs(ab[2] - lo) <= tol
                    and abs(ab[5] - hi) <= tol
                    and plan_overlap(ab, s.bbox, tol)
                    and plan_overlap(ab, f.bbox, tol)
                ):
                    good.append(a.part)
        if good:
            return ElementResult(words, True, unique(good))
        if not self.juxtaposed:
            return ElementResult(words, False, reason="no second element lies over the first's front face")
        s, f = self.juxtaposed[0]
        gap = abs(s.back_z - f.front_z)
        return ElementResult(
            words,
            False,
            reason=f"no attach layer joins {s.name}'s back to {f.name}'s front ({gap:.0f} um apart, mold between)",
        )

    def e_terminal_to_contact(self, words: str) -> ElementResult:
        contacts = {c.id for c in self._contacts()}
        units = {s.id for u in self.units for s in u.solids}
        parts: list[str] = []
        to_units = 0
        for t in self._terminals():
            ok, found = self.reach(t, contacts)
            if ok:
                parts.extend(found)
            to_units += self.reach(t, units)[0]
        if parts:
            return ElementResult(words, True, unique(parts))
        if not self._terminals():
            return ElementResult(words, False, reason="no second element with terminals")
        return ElementResult(
            words,
            False,
            reason=(
                "no terminal reaches a contact of the first element through conductive elements "
                f"({to_units} of {len(self._terminals())} terminals reach units)"
            ),
        )


# ----------------------------------------------------------------------------------------------- the claims
