"""Geometric connectivity of a model's conductive solids: which touch, and which form one conductor.

Two *inclusion* solids (not ``matrix``) of conductive material are **touching** when the gap between them is at
most a tolerance (default :data:`DEFAULT_TOLERANCE_UM`, 0.5 um); overlapping solids have a gap of zero. The
touching pairs make a graph whose connected components are the model's conductors, as its geometry makes them
(not as the spec intends them: comparing the two is LVS, elsewhere).

How pairs are found:

1. a sweep-and-prune over axis-aligned bounding boxes grown by the tolerance (numpy, vectorised in blocks), which
   leaves the candidate pairs;
2. an exact gap per candidate:

   - prism with prism: the plan gap of the two sections combined with the gap of the z intervals,
     ``hypot(plan_gap, z_gap)``, exact for extrusions. Plan gaps are closed form where one section is a disc
     (the other's signed distance at its centre minus its radius), for two boxes, for annuli and for a box or
     trace inside an annulus's bore; the rest (box or trace against trace) use shapely ``distance``;
   - a wire with anything: the wire's centre line is sampled (:meth:`Wire.samples`) and the other solid's
     signed distance (for a wire, the distance between centre lines) is compared with the radii plus the
     tolerance. Distances are 1-Lipschitz along the line, so a coarse sampling at step ``h`` decides every pair
     whose margin exceeds ``h / 2``, and only the undecided ones are sampled again at a quarter of the tolerance.

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

from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Prism, Shape, Trace, Tube, Wire

DEFAULT_TOLERANCE_UM = 0.5
_BLOCK = 512


def role_matches(role: str, prefixes: Iterable[str]) -> bool:
    """Whether ``role`` is one of ``prefixes`` or lies under one (``conductive_element`` matches ``.via``)."""
    return any(role == p or role.startswith(p + ".") for p in prefixes)


def _rect_gap(a: Box, b: Box) -> float:
    dx = max(a.x0 - b.x1, b.x0 - a.x1, 0.0)
    dy = max(a.y0 - b.y1, b.y0 - a.y1, 0.0)
    return math.hypot(dx, dy)


def _corners(shape: Box | Trace) -> NDArray[np.float64]:
    if isinstance(shape, Box):
        return np.array([[shape.x0, shape.y0], [shape.x1, shape.y0], [shape.x1, shape.y1], [shape.x0, shape.y1]])
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


def centreline_samples(wire: Wire, step: float) -> NDArray[np.float64]:
    """The points of :meth:`Wire.samples` (no further apart than ``step``), computed without a Python loop."""
    p = wire.points
    seg = np.diff(p, axis=0)
    n = np.maximum(1, np.ceil(np.linalg.norm(seg, axis=1) / step)).astype(np.intp)
    which = np.repeat(np.arange(len(seg)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + 1
    t = k / np.repeat(n, n)
    return np.vstack([p[:1], p[which] + t[:, None] * seg[which]])


def _wire_margin(wire: Wire, other: Shape, points: NDArray[np.float64], tolerance_um: float, slack: float) -> float:
    """Least (distance to ``other`` - wire radius - tolerance) over the sample points; <= 0 means touching.

    Points further than ``slack`` beyond that from ``other``'s bounding box are skipped (their margin exceeds
    ``slack``); if none is left the result is ``inf``.
    """
    reach = wire.radius + tolerance_um + slack
    bb = other.bbox
    near = np.all((points >= np.subtract(bb[:3], reach)) & (points <= np.add(bb[3:], reach)), axis=1)
    if not near.any():
        return math.inf
    pts = points[near]
    if isinstance(other, Wire):
        d = other.centreline_distance(pts) - other.radius
    else:
        d = other.signed_distance(pts)
    return float(d.min()) - wire.radius - tolerance_um


def shapes_touch(
    a: Shape,
    b: Shape,
    tolerance_um: float = DEFAULT_TOLERANCE_UM,
    samples: Mapping[float, NDArray[np.float64]] | None = None,
) -> bool:
    """Whether two shapes touch or overlap, to within ``tolerance_um`` (see the module notes for how).

    ``samples`` may hold the wire's centre-line samples by step, to reuse them over many pairs.
    """
    if isinstance(a, Wire) or isinstance(b, Wire):
        wire, other = (a, b) if isinstance(a, Wire) else (b, a)
        coarse, fine = max(wire.radius, tolerance_um), tolerance_um / 4
        cache = samples or {}
        points = cache.get(coarse)
        margin = _wire_margin(wire, other, centreline_samples(wire, coarse) if points is None else points,
                              tolerance_um, coarse / 2)
        if margin <= 0 or margin > coarse / 2:
            return margin <= 0
        points = cache.get(fine)
        points = centreline_samples(wire, fine) if points is None else points
        return _wire_margin(wire, other, points, tolerance_um, fine) <= 0
    return _prism_gap(a, b) <= tolerance_um


def candidate_pairs(bboxes: NDArray[np.float64], tolerance_um: float) -> NDArray[np.intp]:
    """Index pairs (i < j) whose bounding boxes, grown by the tolerance, overlap: a blocked sweep along x."""
    n = len(bboxes)
    if n < 2:
        return np.empty((0, 2), dtype=np.intp)
    order = np.argsort(bboxes[:, 0], kind="stable")
    lo = bboxes[order, :3] - tolerance_um / 2
    hi = bboxes[order, 3:] + tolerance_um / 2
    found: list[NDArray[np.intp]] = []
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        reach = int(np.searchsorted(lo[:, 0], hi[start:stop, 0].max(), side="right"))
        cols = np.arange(start, max(reach, stop))
        hit = np.ones((stop - start, len(cols)), dtype=bool)
        for axis in range(3):
            hit &= lo[start:stop, None, axis] <= hi[None, cols, axis]
            hit &= lo[None, cols, axis] <= hi[start:stop, None, axis]
        hit &= np.arange(start, stop)[:, None] < cols[None, :]
        i, j = np.nonzero(hit)
        found.append(np.column_stack([order[i + start], order[cols[j]]]))
    pairs = np.vstack(found)
    pairs.sort(axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def touching_pairs(
    solids: Sequence[Solid], tolerance_um: float = DEFAULT_TOLERANCE_UM
) -> list[tuple[int, int]]:
    """Index pairs (i < j, in ``solids`` order) of the given solids that touch within ``tolerance_um``.

    Every solid given takes part, whatever its material or ``matrix`` flag: choose them before calling.
    """
    if not solids:
        return []
    bboxes = np.array([s.shape.bbox for s in solids], dtype=float)
    coarse: dict[int, dict[float, NDArray[np.float64]]] = {}

    def wire_samples(k: int) -> Mapping[float, NDArray[np.float64]] | None:
        shape = solids[k].shape
        if not isinstance(shape, Wire):
            return None
        if k not in coarse:
            step = max(shape.radius, tolerance_um)
            coarse[k] = {step: centreline_samples(shape, step)}
        return coarse[k]

    out: list[tuple[int, int]] = []
    for i, j in candidate_pairs(bboxes, tolerance_um).tolist():
        a, b = solids[i].shape, solids[j].shape
        cache = wire_samples(i) if isinstance(a, Wire) else wire_samples(j)
        if shapes_touch(a, b, tolerance_um, cache):
            out.append((i, j))
    return out


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
    "candidate_pairs",
    "centreline_samples",
    "connectivity",
    "plan_gap",
    "role_matches",
    "shapes_touch",
    "touching_pairs",
]
