"""Interference: pairs of inclusion solids that overlap with positive depth.

Matrix solids (mold, base, laminate) are carved by what they hold and never interfere. Two inclusions that only
touch (a ball on its contact, a fill in its hollow, a flange on its via) do not interfere; an overlap deeper than
``tolerance`` does. Pairs listed as intended (a wire's stitch on its pad) are skipped by the caller's filter.

Prism pairs are tested on their sections shrunk by half the tolerance (shapely), wires by sampling their centre
line every quarter radius against the other solid's signed distance. An R-tree broad phase keeps the exact
tests to neighbours only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from moldstack.geometry.broadphase import box_pairs
from moldstack.geometry.model import Solid
from moldstack.geometry.primitives import Prism, Wire

DEFAULT_TOLERANCE_UM = 0.1


@dataclass(frozen=True)
class Interference:
    """Solids ``a`` and ``b`` overlap; ``point`` is a location inside both (um), ``depth`` how far (um)."""

    a: str
    b: str
    point: tuple[float, float, float]
    depth: float


def candidate_pairs(solids: Sequence[Solid], margin: float) -> list[tuple[int, int]]:
    """Index pairs (i < j) whose bounding boxes overlap by more than ``margin`` on every axis."""
    bboxes = np.array([s.shape.bbox for s in solids]).reshape(-1, 6)
    return [tuple(p) for p in box_pairs(bboxes, margin + 1e-12).tolist()]


def _prism_pair(a: Prism, b: Prism, tol: float) -> tuple[tuple[float, float, float], float] | None:
    z0, z1 = max(a.z0, b.z0), min(a.z1, b.z1)
    if z1 - z0 <= tol:
        return None
    sa = a.section().buffer(-tol / 2)
    sb = b.section().buffer(-tol / 2)
    if sa.is_empty or sb.is_empty or not sa.intersects(sb):
        return None
    inter = shapely.intersection(sa, sb)
    if inter.is_empty or inter.area <= 0:
        return None
    p = inter.representative_point()
    width = min(inter.bounds[2] - inter.bounds[0], inter.bounds[3] - inter.bounds[1]) + tol
    return (float(p.x), float(p.y), 0.5 * (z0 + z1)), min(width, z1 - z0)


def _wire_pair(
    w: Wire, pts: np.ndarray, other: Solid, tol: float
) -> tuple[tuple[float, float, float], float] | None:
    if isinstance(other.shape, Wire):
        distance, point = w.closest_centrelines(other.shape)
        depth = w.radius + other.shape.radius - distance
        if depth <= tol:
            return None
        return (float(point[0]), float(point[1]), float(point[2])), float(depth)
    gap = other.shape.signed_distance(pts) - w.radius
    k = int(np.argmin(gap))
    if gap[k] >= -tol:
        return None
    x, y, z = pts[k]
    return (float(x), float(y), float(z)), float(-gap[k])


def interferences(
    solids: Sequence[Solid],
    allowed: Callable[[Solid, Solid], bool] | None = None,
    tolerance: float = DEFAULT_TOLERANCE_UM,
) -> list[Interference]:
    """Every pair of inclusions overlapping deeper than ``tolerance``, unless ``allowed(a, b)`` says it is intended."""
    inclusions = [s for s in solids if not s.matrix]
    found: list[Interference] = []
    samples: dict[int, np.ndarray] = {}

    def wire_points(k: int, wire: Wire) -> np.ndarray:
        if k not in samples:
            samples[k] = wire.samples(wire.radius / 4)
        return samples[k]

    for i, j in candidate_pairs(inclusions, tolerance):
        a, b = inclusions[i], inclusions[j]
        if a.part == b.part or (allowed is not None and allowed(a, b)):
            continue
        if isinstance(a.shape, Wire):
            hit = _wire_pair(a.shape, wire_points(i, a.shape), b, tolerance)
        elif isinstance(b.shape, Wire):
            hit = _wire_pair(b.shape, wire_points(j, b.shape), a, tolerance)
        else:
            assert isinstance(a.shape, Prism) and isinstance(b.shape, Prism)
            hit = _prism_pair(a.shape, b.shape, tolerance)
        if hit is not None:
            found.append(Interference(a.id, b.id, hit[0], hit[1]))
    return found
