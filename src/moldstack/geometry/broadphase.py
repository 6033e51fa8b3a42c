"""Broad phase: which axis-aligned bounding boxes come close enough to need an exact test.

One function, shared by the interference check (boxes that overlap by more than a tolerance) and the
connectivity graph (boxes within a tolerance of touching). shapely's STRtree (a packed R-tree) finds the pairs
whose plan boxes meet; the z and overlap test is then vectorised. ``benchmarks/model_build.py`` compares it with
an all-pairs numpy sweep (2-4x slower from about 500 solids up). It knows boxes, nothing of solids.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray


def box_pairs(bboxes: NDArray[np.float64], min_overlap: float) -> NDArray[np.intp]:
    """Index pairs (i < j, sorted) of boxes ``(x0, y0, z0, x1, y1, z1)`` overlapping by at least ``min_overlap``
    on every axis. A negative ``min_overlap`` admits boxes up to that far apart (a touching search)."""
    boxes = np.asarray(bboxes, dtype=float).reshape(-1, 6)
    if len(boxes) < 2:
        return np.empty((0, 2), dtype=np.intp)
    grow = max(-min_overlap, 0.0) / 2
    plan = shapely.box(boxes[:, 0] - grow, boxes[:, 1] - grow, boxes[:, 3] + grow, boxes[:, 4] + grow)
    left, right = shapely.STRtree(plan).query(plan, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    ok = np.ones(len(left), dtype=bool)
    for axis in range(3):
        lo = np.maximum(boxes[left, axis], boxes[right, axis])
        hi = np.minimum(boxes[left, axis + 3], boxes[right, axis + 3])
        ok &= hi - lo >= min_overlap
    pairs = np.column_stack([left[ok], right[ok]]).astype(np.intp)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
