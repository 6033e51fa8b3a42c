"""Geometric connectivity of a model's conductive solids: which touch, and which form one conductor.

Two *inclusion* solids (not ``matrix``) of conductive material are **touching** when the gap between them is at
most a tolerance (default :data:`DEFAULT_TOLERANCE_UM`, 0.5 um); overlapping solids have a gap of zero. The
touching pairs make a graph whose connected components are the model's conductors, as its geometry makes them
(not as the spec intends them: comparing the two is LVS, elsewhere).

How pairs are found:

1. the shared broad phase (:func:`moldstack.geometry.broadphase.box_pairs`, an R-tree) over bounding boxes
   within the tolerance of each other, which leaves the candidate pairs;
2. an exact gap per candidate:

   - prism with prism: the plan gap of the two sections combined with the gap of the z intervals,
     ``hypot(plan_gap, z_gap)``, exact for extrusions. Plan gaps are closed form where one section is a disc
     (the other's signed distance at its centre minus its radius), for two boxes, for annuli and for a box or
     trace inside an annulus's bore; the rest (box or trace against trace) use shapely ``distance``;
   - two wires: the exact least distance between their centre lines (all segment pairs, closed form), compared
     with the radii plus the tolerance;
   - a wire with anything else: the wire's centre line is sampled (:meth:`Wire.samples`) and the other solid's
     signed distance (for a wire, the distance between centre lines) is compared with the radii plus the
     tolerance. Distances are 1-Lipschitz along the line, so a sampling at step ``h`` (the wire's radius) decides
     every pair whose margin is below 0 or above ``h / 2``; the pairs left open are refined by halving the step
     around the open samples only, down to a quarter of the tolerance (so touching is decided to within an
     eighth of the tolerance). Wires against boxes and tubes are decided for all pairs in one vectorised pass.

It knows solids, shapes and whether a material conducts. It must not know claims, nets, the spec or how the
model was built.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from moldstack.geometry.broadphase import box_pairs
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Prism, Shape, Trace, Tube, Wire

DEFAULT_TOLERANCE_UM = 0.5


def role_matches(role: str, prefixes: Iterable[str]) -> bool:
    """Whether ``role`` is one of ``prefixes`` or lies under one (``conductive_element`` matches ``.via``)."""
    return any(role == p or role.startswith(p + ".") for p in prefixes)


def _rect_gap(a: Box, b: Box) -> float:
    dx = max(a.x0 - b.x1, b.x0 - a.x1, 0.0)
    dy = max(a.y0 - b.y1, b.y0 - a.y1, 0.0)
    return math.hypot(dx, dy)


def _corners(shape: Box | Trace) -> NDArray[np.float64]:
    if isinstance(shape, Box):
        return np.array(
            [[shape.x0, shape.y0], [shape.x1, shape.y0], [shape.x1, shape.y1], [shape.x0, shape.y1]]
        )
    return np.asarray(shape.section().exterior.coords, dtype=float)


def _annulus_gap(a: Tube, b: Tube) -> float:
    """Plan gap between two annuli (or discs): one inside the other's bore, apart, or crossing (0)."""
    d = math.hypot(a.cx - b.cx, a.cy - b.cy)
    if a.r_inner > 0 and d + b.r <= a.r_inner:
        return a.r_inner - (d + b.r)
    if b.r_inner > 0 and d + a.r <= b.r_inner:
        return b.r_inner - (d + a.r)
    return max(d - a.r - b.r, 0.0)


def plan_gap(a: Prism, b: Prism) -> float:
    """Least distance between the sections of two prisms in the plane (0 where they overlap or touch)."""
    if isinstance(b, Tube) and b.r_inner == 0 and not (isinstance(a, Tube) and a.r_inner == 0):
        a, b = b, a
    if isinstance(a, Tube) and isinstance(b, Tube):
        return _annulus_gap(a, b)
    if isinstance(a, Tube) and a.r_inner == 0:
        return max(float(b.xy_distance(np.array([a.cx]), np.array([a.cy]))[0]) - a.r, 0.0)
    if isinstance(a, Box) and isinstance(b, Box):
        return _rect_gap(a, b)
    if isinstance(b, Tube):
        a, b = b, a
    if isinstance(a, Tube) and isinstance(b, Box | Trace):
        outer = max(float(b.xy_distance(np.array([a.cx]), np.array([a.cy]))[0]) - a.r, 0.0)
        farthest = float(np.hypot(*(_corners(b) - (a.cx, a.cy)).T).max())
        return max(outer, a.r_inner - farthest)
    return float(shapely.distance(a.section(), b.section()))


def _prism_gap(a: Prism, b: Prism) -> float:
    dz = max(a.z0 - b.z1, b.z0 - a.z1, 0.0)
    return math.hypot(plan_gap(a, b), dz)


def coarse_step(wire: Wire, tolerance_um: float) -> float:
    """The first sampling step along a wire: its radius, and never below the tolerance."""
    return max(wire.radius, tolerance_um)


def _wire_margin(
    wire: Wire, other: Shape, points: NDArray[np.float64], tolerance_um: float, slack: float
) -> float:
    """Least (distance to ``other`` - wire radius - tolerance) over the sample points; <= 0 means touching.

    Points further than ``slack`` beyond that from ``other``'s bounding box are skipped (their margin exceeds
    ``slack``); if none is left the result is ``inf``.
    """
    reach = wire.radius + tolerance_um + slack
    bb = other.bbox
    near = np.all((points >= np.subtract(bb[:3], reach)) & (points <= np.add(bb[3:], reach)), axis=1)
    if not near.any():
        return math.inf
    return float(_distance_to(other, points[near]).min()) - wire.radius - tolerance_um


def _distance_to(other: Shape, points: NDArray[np.float64]) -> NDArray[np.float64]:
    if isinstance(other, Wire):
        return other.centreline_distance(points) - other.radius
    return other.signed_distance(points)


def _refined_touch(wire: Wire, other: Shape, tolerance_um: float, step: float) -> bool:
    """Decide a pair the coarse samples left open: halve the spacing around the samples that could still touch.

    Samples sit ``h`` apart in arc length, so every point of the centre line lies within ``h / 2`` of one; a
    sample whose margin exceeds ``h / 2`` rules out its neighbourhood (distances are 1-Lipschitz). Stops when a
    sample touches, none is left open, or ``h`` is below a quarter of the tolerance.
    """
    pts = wire.points
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    length = float(cum[-1])

    def at(s: NDArray[np.float64]) -> NDArray[np.float64]:
        k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
        t = (s - cum[k]) / np.maximum(seg[k], 1e-30)
        return pts[k] + t[:, None] * (pts[k + 1] - pts[k])

    h = step
    s = np.linspace(0.0, length, max(2, math.ceil(length / h) + 1))
    h = length / max(len(s) - 1, 1)
    while True:
        margin = _distance_to(other, at(s)) - wire.radius - tolerance_um
        if (margin <= 0).any():
            return True
        open_ = s[margin <= h / 2]
        if len(open_) == 0 or h <= tolerance_um / 4:
            return False
        h /= 2
        s = np.unique(np.clip(np.concatenate([open_ - h, open_, open_ + h]), 0.0, length))


def shapes_touch(
    a: Shape,
    b: Shape,
    tolerance_um: float = DEFAULT_TOLERANCE_UM,
    coarse_samples: NDArray[np.float64] | None = None,
) -> bool:
    """Whether two shapes touch or overlap, to within ``tolerance_um`` (see the module notes for how).

    ``coarse_samples`` may give the wire's centre-line samples at its coarse step (its radius, at least the
    tolerance), to reuse them over many pairs.
    """
    if isinstance(a, Wire) and isinstance(b, Wire):
        distance, _ = a.closest_centrelines(b)
        return distance - a.radius - b.radius <= tolerance_um
    if isinstance(a, Wire) or isinstance(b, Wire):
        wire, other = (a, b) if isinstance(a, Wire) else (b, a)
        step = coarse_step(wire, tolerance_um)
        points = wire.samples(step) if coarse_samples is None else coarse_samples
        margin = _wire_margin(wire, other, points, tolerance_um, step / 2)
        if margin <= 0 or margin > step / 2:
            return margin <= 0
        return _refined_touch(wire, other, tolerance_um, step)
    return _prism_gap(a, b) <= tolerance_um


def _box_sdf(
    pts: NDArray[np.float64], lo: NDArray[np.float64], hi: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Exact signed distance of each point to its own box (rows of ``lo``/``hi``)."""
    q = np.maximum(lo - pts, pts - hi)
    return np.linalg.norm(np.maximum(q, 0.0), axis=1) + np.minimum(q.max(axis=1), 0.0)


def _tube_sdf(pts: NDArray[np.float64], params: NDArray[np.float64]) -> NDArray[np.float64]:
    """Signed distance of each point to its own tube; ``params`` rows are (cx, cy, r, r_inner, z0, z1)."""
    cx, cy, r, ri, z0, z1 = params.T
    rho = np.hypot(pts[:, 0] - cx, pts[:, 1] - cy)
    d_xy = np.where(ri > 0, np.maximum(rho - r, ri - rho), rho - r)
    d_z = np.maximum(z0 - pts[:, 2], pts[:, 2] - z1)
    return np.hypot(np.maximum(d_xy, 0.0), np.maximum(d_z, 0.0)) + np.minimum(np.maximum(d_xy, d_z), 0.0)


def _batched_margins(
    wires: Sequence[Wire],
    others: Sequence[Box | Tube],
    points: Sequence[NDArray[np.float64]],
    tolerance_um: float,
) -> NDArray[np.float64]:
    """For each (wire, other) pair: least signed distance of ``other`` over the wire's points, less the wire's
    radius and the tolerance. One vectorised pass over all pairs (boxes and tubes only)."""
    if not wires:
        return np.empty(0)
    counts = np.array([len(p) for p in points])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    owner = np.repeat(np.arange(len(wires)), counts)
    pts = np.vstack(points)
    d = np.empty(len(pts))
    is_box = np.array([isinstance(o, Box) for o in others])
    on_box = is_box[owner]
    if is_box.any():
        bb = np.array([o.bbox if isinstance(o, Box) else (0.0,) * 6 for o in others])
        d[on_box] = _box_sdf(pts[on_box], bb[owner[on_box], :3], bb[owner[on_box], 3:])
    if not is_box.all():
        tp = np.array(
            [(o.cx, o.cy, o.r, o.r_inner, o.z0, o.z1) if isinstance(o, Tube) else (0.0,) * 6 for o in others]
        )
        d[~on_box] = _tube_sdf(pts[~on_box], tp[owner[~on_box]])
    radii = np.array([w.radius for w in wires])
    return np.minimum.reduceat(d, starts) - radii - tolerance_um


def touching_pairs(
    solids: Sequence[Solid], tolerance_um: float = DEFAULT_TOLERANCE_UM
) -> list[tuple[int, int]]:
    """Index pairs (i < j, in ``solids`` order) of the given solids that touch within ``tolerance_um``.

    Every solid given takes part, whatever its material or ``matrix`` flag: choose them before calling. Gives
    the same answer as :func:`shapes_touch` on every pair, faster: wires against boxes and tubes are decided in
    one vectorised pass at the coarse step, and only the pairs it leaves undecided are refined one by one.
    """
    if not solids:
        return []
    bboxes = np.array([s.shape.bbox for s in solids], dtype=float)
    samples: dict[int, NDArray[np.float64]] = {}

    def wire_samples(k: int) -> NDArray[np.float64]:
        if k not in samples:
            shape = solids[k].shape
            assert isinstance(shape, Wire)
            samples[k] = shape.samples(coarse_step(shape, tolerance_um))
        return samples[k]

    touching: set[tuple[int, int]] = set()
    batch: list[tuple[int, int, Wire, Box | Tube, int]] = []
    for i, j in box_pairs(bboxes, -tolerance_um).tolist():
        a, b = solids[i].shape, solids[j].shape
        if not isinstance(a, Wire) and not isinstance(b, Wire):
            if _prism_gap(a, b) <= tolerance_um:
                touching.add((i, j))
            continue
        (k, wire), other = ((i, a), b) if isinstance(a, Wire) else ((j, b), a)
        assert isinstance(wire, Wire)
        if isinstance(other, Box | Tube):
            batch.append((i, j, wire, other, k))
        elif shapes_touch(wire, other, tolerance_um, wire_samples(k)):
            touching.add((i, j))
    margins = _batched_margins(
        [w for _, _, w, _, _ in batch],
        [o for _, _, _, o, _ in batch],
        [wire_samples(k) for *_, k in batch],
        tolerance_um,
    )
    for (i, j, wire, other, _), margin in zip(batch, margins.tolist(), strict=True):
        step = coarse_step(wire, tolerance_um)
        if margin <= 0 or (margin <= step / 2 and _refined_touch(wire, other, tolerance_um, step)):
            touching.add((i, j))
    return sorted(touching)


@dataclass(frozen=True)
class Connectivity:
    """The conductors of a model: touching pairs of conductive inclusion solids and their components.

    ``solids`` are the ids taking part, in model order; ``pairs`` the touching pairs (ids, model order);
    ``components`` the connected components (each in model order, ordered by their first solid); ``component_of``
    maps each id to its component's index; ``roles`` each id's role, for path restrictions. A solid that does
    not take part (an insulator, a matrix) is in no component and is connected to nothing.
    """

    solids: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    components: tuple[tuple[str, ...], ...]
    component_of: Mapping[str, int]
    roles: Mapping[str, str]
    neighbours: Mapping[str, tuple[str, ...]]
    tolerance_um: float = DEFAULT_TOLERANCE_UM

    def component(self, solid_id: str) -> tuple[str, ...]:
        """The solids conductively joined to ``solid_id`` (itself included); empty if it takes no part."""
        index = self.component_of.get(solid_id)
        return () if index is None else self.components[index]

    def reachable(self, start: str, through: Iterable[str] | None = None) -> frozenset[str]:
        """Solids reachable from ``start`` by touching steps, every solid passed on the way having a role under
        ``through`` (any role if None). The solids reached are included whether or not they match; they are
        just not gone through. ``start`` itself is included."""
        if start not in self.component_of:
            return frozenset()
        if through is None:
            return frozenset(self.component(start))
        prefixes = tuple(through)
        seen = {start}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for nxt in self.neighbours[current]:
                if nxt in seen:
                    continue
                seen.add(nxt)
                if role_matches(self.roles[nxt], prefixes):
                    queue.append(nxt)
        return frozenset(seen)

    def connected(self, a: str, b: str, through: Iterable[str] | None = None) -> bool:
        """Whether ``a`` and ``b`` are joined; with ``through``, by a path whose inner solids all have roles
        under those prefixes (``a`` and ``b`` themselves may have any role)."""
        if a not in self.component_of or b not in self.component_of:
            return False
        if through is None:
            return self.component_of[a] == self.component_of[b]
        return a == b or b in self.reachable(a, through)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tolerance_um": self.tolerance_um,
            "solids": len(self.solids),
            "pairs": [list(p) for p in self.pairs],
            "components": [list(c) for c in self.components],
        }


def connectivity(model: Model, tolerance_um: float = DEFAULT_TOLERANCE_UM) -> Connectivity:
    """The conductors of ``model``: which of its conductive inclusion solids touch, and their components.

    Takes part: every solid with ``matrix`` false whose material is a conductor in ``model.materials``.
    Raises ValueError naming any solid whose material the model's table lacks.
    """
    unknown = sorted({s.material for s in model.solids if s.material not in model.materials})
    if unknown:
        raise ValueError(f"materials not in the model's table: {', '.join(unknown)}")
    solids = [s for s in model.solids if not s.matrix and model.materials[s.material].conductor]
    ids = tuple(s.id for s in solids)
    index_pairs = touching_pairs(solids, tolerance_um)
    n = len(solids)
    if index_pairs:
        rows, cols = np.array(index_pairs, dtype=np.intp).T
    else:
        rows = cols = np.empty(0, dtype=np.intp)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    first_seen: dict[int, list[str]] = {}
    for sid, label in zip(ids, labels.tolist(), strict=True):
        first_seen.setdefault(label, []).append(sid)
    components = tuple(tuple(m) for m in first_seen.values())
    component_of = {sid: k for k, comp in enumerate(components) for sid in comp}
    adjacency: dict[str, list[str]] = {sid: [] for sid in ids}
    for i, j in index_pairs:
        adjacency[ids[i]].append(ids[j])
        adjacency[ids[j]].append(ids[i])
    return Connectivity(
        solids=ids,
        pairs=tuple((ids[i], ids[j]) for i, j in index_pairs),
        components=components,
        component_of=component_of,
        roles={s.id: s.role for s in solids},
        neighbours={sid: tuple(v) for sid, v in adjacency.items()},
        tolerance_um=tolerance_um,
    )


__all__ = [
    "DEFAULT_TOLERANCE_UM",
    "Connectivity",
    "coarse_step",
    "connectivity",
    "plan_gap",
    "role_matches",
    "shapes_touch",
    "touching_pairs",
]
