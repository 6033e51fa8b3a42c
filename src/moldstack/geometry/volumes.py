"""Exact volumes of solids intersected with boxes, and the net volume of matrix solids.

Prisms against a box are exact (the disc-rectangle area is integrated in closed form); a wire crossing a
box face is apportioned by sampling its centre line at a tenth of its radius. Matrix solids are boxes, so
these intersections are all a net volume needs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import shapely

from moldstack.geometry.model import Solid
from moldstack.geometry.primitives import Box, Shape, Trace, Tube, Wire


def _arc_integral(x: float, r: float) -> float:
    """Antiderivative of sqrt(r^2 - x^2)."""
    x = min(max(x, -r), r)
    return 0.5 * (x * math.sqrt(max(r * r - x * x, 0.0)) + r * r * math.asin(x / r))


def disc_rect_area(cx: float, cy: float, r: float, x0: float, y0: float, x1: float, y1: float) -> float:
    """Exact area of the disc (cx, cy, r) inside the rectangle [x0, x1] x [y0, y1]."""
    if r <= 0:
        return 0.0
    a, b = max(x0 - cx, -r), min(x1 - cx, r)
    ylo, yhi = y0 - cy, y1 - cy
    if b <= a or yhi <= ylo:
        return 0.0
    cuts = {a, b}
    for yc in (ylo, yhi):
        if abs(yc) < r:
            xc = math.sqrt(r * r - yc * yc)
            cuts.update(x for x in (-xc, xc) if a < x < b)
    edges = sorted(cuts)
    area = 0.0
    for lo, hi in itertools.pairwise(edges):
        mid = 0.5 * (lo + hi)
        s = math.sqrt(max(r * r - mid * mid, 0.0))
        top_is_arc = s < yhi
        bottom_is_arc = -s > ylo
        top = s if top_is_arc else yhi
        bottom = -s if bottom_is_arc else ylo
        if top <= bottom:
            continue
        arc = _arc_integral(hi, r) - _arc_integral(lo, r)
        upper = arc if top_is_arc else yhi * (hi - lo)
        lower = -arc if bottom_is_arc else ylo * (hi - lo)
        area += upper - lower
    return area


def intersection_volume(shape: Shape, box: Box) -> float:
    """Volume of ``shape`` inside ``box`` (um^3)."""
    if isinstance(shape, Wire):
        if _inside(shape, box):
            return shape.volume
        bx = shape.bbox
        if bx[3] <= box.x0 or bx[0] >= box.x1 or bx[4] <= box.y0 or bx[1] >= box.y1:
            return 0.0
        if bx[5] <= box.z0 or bx[2] >= box.z1:
            return 0.0
        pts = shape.samples(shape.radius / 10)
        inside = (box.signed_distance(pts) <= 0).mean()
        return float(inside) * shape.volume
    dz = min(shape.z1, box.z1) - max(shape.z0, box.z0)
    if dz <= 0:
        return 0.0
    if isinstance(shape, Box):
        dx = min(shape.x1, box.x1) - max(shape.x0, box.x0)
        dy = min(shape.y1, box.y1) - max(shape.y0, box.y0)
        return max(dx, 0.0) * max(dy, 0.0) * dz
    if isinstance(shape, Tube):
        rect = (box.x0, box.y0, box.x1, box.y1)
        area = disc_rect_area(shape.cx, shape.cy, shape.r, *rect)
        if shape.r_inner > 0:
            area -= disc_rect_area(shape.cx, shape.cy, shape.r_inner, *rect)
        return area * dz
    if isinstance(shape, Trace):
        return float(shapely.intersection(shape.section(), box.section()).area) * dz
    raise TypeError(f"no intersection rule for {type(shape).__name__}")


def net_volumes(solids: Sequence[Solid]) -> dict[str, float]:
    """Net volume per solid id. Inclusions keep their own volume; a matrix loses what lies in it.

    A matrix of rank k loses every inclusion inside it and the net volume of each matrix of higher rank
    that lies inside it (the base frame inside the mold box).
    """
    volumes = {s.id: s.shape.volume for s in solids if not s.matrix}
    inclusions = [s for s in solids if not s.matrix]
    matrices = sorted((s for s in solids if s.matrix), key=lambda s: -s.rank)
    boxes = np.array([s.shape.bbox for s in inclusions]) if inclusions else np.zeros((0, 6))
    for m in matrices:
        box = m.shape
        assert isinstance(box, Box)
        hit = (
            (boxes[:, 0] < box.x1)
            & (boxes[:, 3] > box.x0)
            & (boxes[:, 1] < box.y1)
            & (boxes[:, 4] > box.y0)
            & (boxes[:, 2] < box.z1)
            & (boxes[:, 5] > box.z0)
        )
        taken = sum(intersection_volume(inclusions[i].shape, box) for i in np.flatnonzero(hit))
        for other in matrices:
            if other.rank > m.rank and other.id in volumes and _inside(other.shape, box):
                taken += volumes[other.id]
        volumes[m.id] = box.volume - taken
    return volumes


def _inside(shape: Shape, box: Box) -> bool:
    b = shape.bbox
    return (
        b[0] >= box.x0
        and b[1] >= box.y0
        and b[2] >= box.z0
        and b[3] <= box.x1
        and b[4] <= box.y1
        and (b[5] <= box.z1)
    )
