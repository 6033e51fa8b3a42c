"""The nets of a model as conductors, pins and branches: what the electrical analyses work on.

A **net** is every conductor solid carrying that net name. Its **pins** are where a user connects to it:

- ``contact``: a die contact (or second-die terminal) that a conductive element starts or ends on;
- ``bottom``: an exposed lower end: a unit's bottom face at the bottom surface of the lowest assembly (not
  joined to anything below), or a substrate land;
- ``top``: an exposed upper end: a unit's top face at the top surface of its assembly that no joint lands on.

Its **branches** are the pieces the current runs through, as a tree of nodes: each conductive element from
its contact to the point where it meets its unit (the unit's *hub*), each unit from its hub down to its
bottom end and up to its top end, and each joint from the upper unit's bottom end to the lower unit's (or
land's) top. A branch carries its analytic DC resistance (``rho l / A`` along its pieces; a unit's cross
section is the parallel sum of its conductors at each height, so a filled hollow, a flange or a pad ring
counts where it is) and its straight filament segments for the partial inductance (PEEC): a wire's
polyline, a via's or post's axis, a trace's centre line, each with the geometric mean distance of its
cross section.

Assumptions, stated because they bound what the branch figures mean: a unit is a vertical column of its
conductors' axes (a pad-with-protrusion's protrusion is off the pad's centre by up to half the pad; the
lateral run in the pad is left to the field solve of :mod:`moldstack.analysis.resistance`); the die contacts
and substrate lands are terminals (their own resistance, a few micro-ohm, is not a branch).

Reads a :class:`~moldstack.geometry.model.Model`; knows nothing of solvers.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from moldstack.fields.inductance import gmd_rect, gmd_round, gmd_tube
from moldstack.geometry.model import Model, PlacedAssembly, Solid, UnitInfo
from moldstack.geometry.primitives import Box, Trace, Tube, Wire
from moldstack.materials import Material, library_with

UM = 1e-6
END_TOL_UM = 0.5  # a face within this of a surface is on it
WIRE_SEGMENTS = (
    8  # straight filaments per bond wire for the partial inductance (the loop's own polyline is finer)
)
PinKind = Literal["contact", "bottom", "top"]
PinSide = Literal["whole", "low", "high"]


@dataclass(frozen=True)
class Pin:
    """A terminal of a net: ``solids`` held whole (a contact, a land) or at their ``low``/``high`` face ``z``."""

    name: str
    kind: PinKind
    solids: tuple[str, ...]
    side: PinSide
    z: float


@dataclass(frozen=True)
class Segment:
    """A straight current filament (um) from ``start`` to ``end`` with the GMD of its cross section."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    gmd_um: float

    @property
    def length(self) -> float:
        return math.dist(self.start, self.end)


@dataclass(frozen=True)
class Piece:
    """A stretch of a branch with one cross section: its DC resistance and the section's shape in um,
    ``round`` (r), ``tube`` (r_outer, r_inner) or ``rect`` (w, t) (what a skin-effect estimate needs)."""

    r_ohm: float
    section: Literal["round", "tube", "rect"]
    dims: tuple[float, ...]
    resistivity_ohm_m: float


@dataclass(frozen=True)
class NetBranch:
    """A piece of a net from node ``a`` to node ``b``: analytic DC resistance and its filaments (a -> b)."""

    name: str
    net: str
    a: str
    b: str
    r_ohm: float
    segments: tuple[Segment, ...]
    solids: tuple[str, ...]
    pieces: tuple[Piece, ...] = ()


@dataclass(frozen=True)
class Net:
    """A net: its conductor solids (wires included), pins and branches."""

    name: str
    solids: tuple[str, ...]
    pins: tuple[Pin, ...]
    branches: tuple[NetBranch, ...]

    def pins_of(self, kind: PinKind) -> tuple[Pin, ...]:
        return tuple(p for p in self.pins if p.kind == kind)

    @property
    def terminals(self) -> tuple[tuple[Pin, ...], tuple[Pin, ...]]:
        """The two pin groups the net's resistance is measured between: die side and package side.

        Contacts to bottom ends (else to top ends); a die-to-die net from its first contact to the others;
        a net with no contact from its top ends to its bottom ends.
        """
        contacts, bottoms, tops = (self.pins_of(k) for k in ("contact", "bottom", "top"))
        if contacts:
            if bottoms:
                return contacts, bottoms
            if tops:
                return contacts, tops
            return contacts[:1], contacts[1:]
        return tops, bottoms

    @property
    def measurable(self) -> bool:
        a, b = self.terminals
        return bool(a) and bool(b)


def _shape_area(shape: Box | Tube | Trace) -> float:
    """Cross section (um^2) normal to the current: z-prisms in plan, a trace across its width."""
    if isinstance(shape, Trace):
        return shape.width * (shape.z1 - shape.z0)
    return shape.area


def _shape_gmd(shape: Box | Tube | Trace) -> float:
    if isinstance(shape, Tube):
        return gmd_tube(shape.r, shape.r_inner)
    if isinstance(shape, Trace):
        return gmd_rect(shape.width, shape.z1 - shape.z0)
    return gmd_rect(shape.x1 - shape.x0, shape.y1 - shape.y0)


def _section(shape: Box | Tube | Trace | Wire) -> tuple[Literal["round", "tube", "rect"], tuple[float, ...]]:
    if isinstance(shape, Wire):
        return "round", (shape.radius,)
    if isinstance(shape, Tube):
        return ("tube", (shape.r, shape.r_inner)) if shape.r_inner > 0 else ("round", (shape.r,))
    if isinstance(shape, Trace):
        return "rect", (shape.width, shape.z1 - shape.z0)
    return "rect", (shape.x1 - shape.x0, shape.y1 - shape.y0)


def _uncovered(trace: Trace, others: Sequence[Solid]) -> float:
    """The fraction of a trace's centre line not over (or under, or in) another conductor it touches: a trace
    lying on a via or a post's top conducts in parallel with it there, so only the rest is the trace's own."""
    t = np.linspace(0.0, 1.0, 401)
    x = trace.xa + t * (trace.xb - trace.xa)
    y = trace.ya + t * (trace.yb - trace.ya)
    covered = np.zeros(t.size, dtype=bool)
    for o in others:
        sh = o.shape
        if not isinstance(sh, Box | Tube | Trace):
            continue
        if sh.z1 < trace.z0 - END_TOL_UM or sh.z0 > trace.z1 + END_TOL_UM:
            continue
        covered |= sh.xy_distance(x, y) <= 0.0
    return float(1.0 - covered.mean())


def _axis(shape: Box | Tube) -> tuple[float, float]:
    if isinstance(shape, Tube):
        return shape.cx, shape.cy
    return 0.5 * (shape.x0 + shape.x1), 0.5 * (shape.y0 + shape.y1)


@dataclass
class _Builder:
    model: Model
    materials: dict[str, Material]

    def conductor(self, s: Solid) -> bool:
        return self.materials[s.material].conductor

    def sigma(self, s: Solid) -> float:
        rho = self.materials[s.material].resistivity_ohm_m
        if not rho:
            raise ValueError(f"material {s.material!r} of {s.id} is a conductor without a resistivity_ohm_m")
        return 1.0 / rho

    # -- conductive elements -------------------------------------------------------------------------------
    def element(
        self, solids: list[Solid], start: tuple[float, float, float], ends: Sequence[Solid] = ()
    ) -> tuple[float, list[Segment], tuple[float, float, float], list[Piece]]:
        """The element's resistance, its segments chained from ``start``, and its far end (the wire's stitch
        foot, the trace's end)."""
        pieces: list[tuple[Solid, list[tuple[float, float, float]]]] = []
        for s in solids:
            sh = s.shape
            if isinstance(sh, Wire):
                pts = sh.points
                keep = np.unique(np.round(np.linspace(0, len(pts) - 1, WIRE_SEGMENTS + 1)).astype(int))
                pieces.append((s, [tuple(p) for p in pts[keep].tolist()]))
            elif isinstance(sh, Tube):
                pieces.append((s, [(sh.cx, sh.cy, sh.z0), (sh.cx, sh.cy, sh.z1)]))
            elif isinstance(sh, Trace):
                zm = 0.5 * (sh.z0 + sh.z1)
                pieces.append((s, [(sh.xa, sh.ya, zm), (sh.xb, sh.yb, zm)]))
        here = np.asarray(start, dtype=float)
        r_total = 0.0
        segments: list[Segment] = []
        pieces_out: list[Piece] = []
        last: Solid | None = None
        while pieces:
            dists = [
                min(np.linalg.norm(np.asarray(p[0]) - here), np.linalg.norm(np.asarray(p[-1]) - here))
                for _, p in pieces
            ]
            s, path = pieces.pop(int(np.argmin(dists)))
            if np.linalg.norm(np.asarray(path[-1]) - here) < np.linalg.norm(np.asarray(path[0]) - here):
                path = path[::-1]
            sh = s.shape
            if isinstance(sh, Wire):
                gmd = gmd_round(sh.radius)
                r_piece = sh.length * UM / (self.sigma(s) * math.pi * (sh.radius * UM) ** 2)
            else:
                assert isinstance(sh, Tube | Trace)
                gmd = _shape_gmd(sh)
                length = math.dist(path[0], path[-1])
                if isinstance(sh, Trace):
                    length *= _uncovered(sh, [o for o in [*solids, *ends] if o is not s])
                r_piece = length * UM / (self.sigma(s) * _shape_area(sh) * UM * UM)
            r_total += r_piece
            pieces_out.append(Piece(r_piece, *_section(sh), 1.0 / self.sigma(s)))
            segments += [Segment(a, b, gmd) for a, b in itertools.pairwise(path) if a != b]
            here = np.asarray(path[-1], dtype=float)
            last = s
        end = tuple(float(v) for v in here)
        if last is not None and isinstance(last.shape, Wire):
            end = (end[0], end[1], end[2] - last.shape.radius)
        return r_total, segments, (end[0], end[1], end[2]), pieces_out

    # -- units ---------------------------------------------------------------------------------------------
    def unit_column(self, unit: UnitInfo) -> list[Solid]:
        out = []
        for sid in unit.solids:
            s = self.model.solid(sid)
            if self.conductor(s) and isinstance(s.shape, Box | Tube):
                out.append(s)
        return out

    def column(
        self, solids: list[Solid], z_from: float, z_to: float
    ) -> tuple[float, list[Segment], list[Piece]]:
        """Resistance and segments of a unit between two heights: the conductors present at each height in
        parallel, one vertical filament per stretch along the axis of the stretch's largest conductor."""
        lo, hi = sorted((z_from, z_to))
        cuts = sorted({lo, hi, *(v for s in solids for v in (s.shape.z0, s.shape.z1) if lo < v < hi)})
        r_total = 0.0
        segments: list[Segment] = []
        pieces: list[Piece] = []
        for za, zb in itertools.pairwise(cuts):
            zm = 0.5 * (za + zb)
            here = [s for s in solids if s.shape.z0 <= zm <= s.shape.z1]
            if not here:
                raise ValueError(f"unit conductors leave a gap between z = {za:.1f} and {zb:.1f} um")
            g = sum(self.sigma(s) * s.shape.area * UM * UM for s in here)
            r_total += (zb - za) * UM / g
            main = max(here, key=lambda s: self.sigma(s) * s.shape.area)
            assert isinstance(main.shape, Box | Tube)
            pieces.append(Piece((zb - za) * UM / g, *_section(main.shape), 1.0 / self.sigma(main)))
            x, y = _axis(main.shape)
            segments.append(Segment((x, y, za), (x, y, zb), _shape_gmd(main.shape)))
        if z_from > z_to:
            segments = [Segment(s.end, s.start, s.gmd_um) for s in reversed(segments)]
        return r_total, segments, pieces


def _units_by_part(model: Model) -> dict[str, tuple[PlacedAssembly, UnitInfo]]:
    return {u.part: (a, u) for a in model.assemblies for u in a.units}


def extract_nets(model: Model, names: list[str] | None = None) -> list[Net]:
    """Every net of ``model`` (or those in ``names``, in that order) with its pins and branches.

    Raises ValueError naming a requested net the model does not have.
    """
    b = _Builder(model, library_with(model.materials))
    by_net: dict[str, list[Solid]] = defaultdict(list)
    for s in model.solids:
        if s.net is not None and b.conductor(s):
            by_net[s.net].append(s)
    if names is not None:
        missing = [n for n in names if n not in by_net]
        if missing:
            known = ", ".join(sorted(by_net)[:12])
            raise ValueError(
                f"net {missing[0]!r} is not in {model.name} (nets: {known}{' ...' if len(by_net) > 12 else ''})"
            )
    pins: dict[str, list[Pin]] = defaultdict(list)
    branches: dict[str, list[NetBranch]] = defaultdict(list)
    hubs: dict[str, list[float]] = defaultdict(list)
    joined_above = {j.lower for j in model.joints}
    joined_below = {j.upper for j in model.joints}
    contact_pins: set[str] = set()

    def add_contact(asm: PlacedAssembly, qualified: str) -> tuple[str, tuple[float, float, float]] | None:
        die_name = qualified.split(".", maxsplit=1)[0]
        die = next((d for d in asm.dies if d.name == die_name), None)
        contact = None if die is None else next((c for c in die.contacts if c.name == qualified), None)
        if contact is None or contact.net is None:
            return None
        node = f"{asm.name}/{contact.name}"
        if node not in contact_pins:
            contact_pins.add(node)
            pins[contact.net].append(Pin(node, "contact", (contact.solid,), "whole", contact.z_top))
        return node, (contact.x, contact.y, contact.z_top)

    for asm in model.assemblies:
        unit_names = {u.name: u for u in asm.units}
        for conn in asm.connections:
            if conn.net is None:
                continue
            source = add_contact(asm, conn.source)
            if source is None:
                continue
            node_a, start = source
            solids = [s for s in model.by_part(conn.part) if b.conductor(s)]
            ends = [
                model.solid(c.solid)
                for d in asm.dies
                for c in d.contacts
                if c.name in (conn.source, conn.target)
            ]
            if conn.target in unit_names:
                ends += b.unit_column(unit_names[conn.target])
            r, segs, end, parts = b.element(solids, start, ends)
            if conn.target in unit_names:
                unit = unit_names[conn.target]
                node_b = f"{unit.part}:hub"
                hubs[unit.part].append(end[2])
            else:
                target = add_contact(asm, conn.target)
                if target is None:
                    continue
                node_b = target[0]
            branches[conn.net].append(
                NetBranch(
                    conn.part,
                    conn.net,
                    node_a,
                    node_b,
                    r,
                    tuple(segs),
                    tuple(s.id for s in solids),
                    tuple(parts),
                )
            )
        for unit in asm.units:
            if unit.net is None:
                continue
            column = b.unit_column(unit)
            if not column:
                continue
            z_lo = min(s.shape.z0 for s in column)
            z_hi = max(s.shape.z1 for s in column)
            bottom = f"{unit.part}.bottom"
            top = f"{unit.part}.top"
            bottom_open = z_lo <= asm.z_bottom + END_TOL_UM and unit.part not in joined_below
            top_open = z_hi >= asm.z_top - END_TOL_UM and unit.part not in joined_above
            lows = tuple(s.id for s in column if s.shape.z0 <= z_lo + END_TOL_UM)
            highs = tuple(s.id for s in column if s.shape.z1 >= z_hi - END_TOL_UM)
            if bottom_open:
                pins[unit.net].append(Pin(bottom, "bottom", lows, "low", z_lo))
            if top_open:
                pins[unit.net].append(Pin(top, "top", highs, "high", z_hi))
            has_bottom = bottom_open or unit.part in joined_below
            has_top = top_open or unit.part in joined_above
            ids = tuple(s.id for s in column)
            if unit.part in hubs:
                z_hub = min(max(float(np.mean(hubs[unit.part])), z_lo), z_hi)
                hub = f"{unit.part}:hub"
                for end_node, z_end, present, tag in (
                    (bottom, z_lo, has_bottom, "lower"),
                    (top, z_hi, has_top, "upper"),
                ):
                    if present and abs(z_end - z_hub) > 1e-9:
                        r, segs, parts = b.column(column, z_hub, z_end)
                        branches[unit.net].append(
                            NetBranch(
                                f"{unit.part}:{tag}",
                                unit.net,
                                hub,
                                end_node,
                                r,
                                tuple(segs),
                                ids,
                                tuple(parts),
                            )
                        )
                    elif present:
                        branches[unit.net].append(
                            NetBranch(f"{unit.part}:{tag}", unit.net, hub, end_node, 0.0, (), ids)
                        )
            elif has_bottom and has_top:
                r, segs, parts = b.column(column, z_hi, z_lo)
                branches[unit.net].append(
                    NetBranch(
                        f"{unit.part}:through", unit.net, top, bottom, r, tuple(segs), ids, tuple(parts)
                    )
                )
    units = _units_by_part(model)
    for j in model.joints:
        solid = model.solid(j.solid)
        if solid.net is None or not isinstance(solid.shape, Tube):
            continue
        sh = solid.shape
        r = (sh.z1 - sh.z0) * UM / (b.sigma(solid) * sh.area * UM * UM)
        seg = Segment((sh.cx, sh.cy, sh.z1), (sh.cx, sh.cy, sh.z0), _shape_gmd(sh))
        if j.lower in units:
            lower = f"{j.lower}.top"
        else:
            lower = j.lower
            lands = [s for s in model.by_part(j.lower) if b.conductor(s)]
            if lands:
                land = lands[0]
                pins[solid.net].append(
                    Pin(lower, "bottom", tuple(s.id for s in lands), "whole", land.shape.bbox[2])
                )
        branches[solid.net].append(
            NetBranch(
                j.part,
                solid.net,
                f"{j.upper}.bottom",
                lower,
                r,
                (seg,),
                (solid.id,),
                (Piece(r, *_section(sh), 1.0 / b.sigma(solid)),),
            )
        )
    order = names if names is not None else sorted(by_net)
    return [
        Net(n, tuple(s.id for s in by_net[n]), tuple(pins.get(n, ())), tuple(branches.get(n, ())))
        for n in order
    ]


def declared_nets(model: Model) -> list[str]:
    """The nets with a name of their own (not an automatic ``die.Cn`` name) on the model's die contacts, sorted."""
    names = {c.net for a in model.assemblies for d in a.dies for c in d.contacts if c.net}
    return sorted(n for n in names if "." not in n and "/" not in n)


__all__ = ["Net", "NetBranch", "Piece", "Pin", "Segment", "declared_nets", "extract_nets"]
