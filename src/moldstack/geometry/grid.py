"""The rectilinear grid: cell edges along x, y and z (micrometres), non-uniform, and how lines are placed.

A :class:`Grid` is a value: three strictly increasing arrays of cell edges. Cells are indexed ``(i, j, k)``;
a cell's *centre* is the midpoint of its edges, and a shape occupies a cell when it holds the cell's centre
(:mod:`moldstack.geometry.voxelize`). :func:`graded_lines` places the lines of one axis: every given break
(a solid boundary) becomes a line, and each interval between breaks is subdivided so that no cell is larger
than a size field that is ``fine`` inside the refinement zones and grows from them by at most the ratio
``growth`` per cell up to ``coarse`` (the equidistribution of ``1 / h(x)``: lines where its integral crosses
an integer).

Nothing here knows about packages, models or processes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Axis = int  # 0, 1, 2 for x, y, z
AXIS_NAMES = ("x", "y", "z")
MERGE_UM = 1e-6  # breaks closer than this are one line


class GridTooLargeError(ValueError):
    """A grid would have more cells than allowed; the message says how many and which limit."""


@dataclass(frozen=True)
class Zone:
    """A refinement zone on one axis: cells no larger than ``size`` over [lo, hi]."""

    lo: float
    hi: float
    size: float


def _merged(values: Iterable[float], lo: float, hi: float, merge: float = MERGE_UM) -> Array:
    """The sorted breaks within [lo, hi], each run of breaks closer than ``merge`` to the first of the run kept
    as that first one (``hi`` always ends the list)."""
    pts = np.unique(np.clip(np.asarray([lo, hi, *values], dtype=float), lo, hi))
    if merge <= MERGE_UM:
        keep = np.concatenate([[True], np.diff(pts) > MERGE_UM])
    else:
        keep = np.zeros(pts.size, dtype=bool)
        last = -np.inf
        for i, v in enumerate(pts):
            if v - last > merge:
                keep[i] = True
                last = v
    pts = pts[keep]
    if hi - pts[-1] <= max(merge, MERGE_UM) and pts.size > 1:
        pts = pts[:-1]
    if pts[-1] != hi:
        pts = np.append(pts, hi)
    return pts


def size_field(x: Array, zones: Sequence[Zone], coarse: float, growth: float) -> Array:
    """The target cell size at each ``x``: ``min(coarse, size + (growth - 1) * distance to the zone)``."""
    h = np.full_like(x, coarse, dtype=float)
    for z in zones:
        dist = np.maximum(np.maximum(z.lo - x, x - z.hi), 0.0)
        h = np.minimum(h, z.size + (growth - 1.0) * dist)
    return h


def graded_lines(
    breaks: Iterable[float],
    lo: float,
    hi: float,
    coarse: float,
    zones: Sequence[Zone] = (),
    growth: float = 1.3,
    merge_um: float = MERGE_UM,
) -> Array:
    """Grid lines over [lo, hi] through every break, cells no larger than the size field (see module doc).

    Breaks closer together than ``merge_um`` become one line (the lowest of them): features thinner than that
    are left to the cell-centre rule, which keeps analysis grids free of sliver cells.

    Each interval between consecutive breaks gets ``n = ceil(integral of dx / h)`` cells, placed so that each
    holds the same share of that integral; with no zone touching it an interval is cut uniformly.
    """
    if not hi > lo:
        raise ValueError(f"grid axis [{lo}, {hi}] is empty")
    if coarse <= 0 or growth < 1.0:
        raise ValueError(f"coarse cell {coarse} must be > 0 and growth {growth} >= 1")
    pts = _merged(breaks, lo, hi, merge_um)
    out: list[Array] = [pts[:1]]
    for a, b in itertools.pairwise(pts):
        samples = max(math.ceil((b - a) / max(min((z.size for z in zones), default=coarse), 1e-9)), 1)
        samples = min(samples * 4 + 1, 200_001)
        x = np.linspace(a, b, samples)
        inv = 1.0 / size_field(x, zones, coarse, growth)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (inv[1:] + inv[:-1]) * np.diff(x))])
        n = max(math.ceil(cum[-1] - 1e-9), 1)
        if n == 1:
            out.append(np.array([b]))
            continue
        targets = np.linspace(0.0, cum[-1], n + 1)[1:-1]
        inner = np.interp(targets, cum, x)
        out.append(np.concatenate([inner, [b]]))
    return np.concatenate(out)


def uniform_lines(lo: float, hi: float, max_cell: float) -> Array:
    """Lines over [lo, hi] cut into equal cells no larger than ``max_cell`` (at least one cell)."""
    n = max(math.ceil((hi - lo) / max_cell - 1e-9), 1)
    return np.linspace(lo, hi, n + 1)


@dataclass(frozen=True, eq=False)
class Grid:
    """Cell edges along x, y and z (um). ``shape`` is the number of cells per axis."""

    x: Array
    y: Array
    z: Array

    def __post_init__(self) -> None:
        for name, edges in zip(AXIS_NAMES, self.edges, strict=True):
            if edges.ndim != 1 or len(edges) < 2 or not np.all(np.diff(edges) > 0):
                raise ValueError(f"grid {name} edges must be at least two strictly increasing values")

    @property
    def edges(self) -> tuple[Array, Array, Array]:
        return (self.x, self.y, self.z)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.x) - 1, len(self.y) - 1, len(self.z) - 1)

    @property
    def cells(self) -> int:
        nx, ny, nz = self.shape
        return nx * ny * nz

    @property
    def bounds(self) -> tuple[float, float, float, float, float, float]:
        return (
            float(self.x[0]),
            float(self.y[0]),
            float(self.z[0]),
            float(self.x[-1]),
            float(self.y[-1]),
            float(self.z[-1]),
        )

    def centres(self, axis: Axis) -> Array:
        e = self.edges[axis]
        return 0.5 * (e[1:] + e[:-1])

    def sizes(self, axis: Axis) -> Array:
        return np.diff(self.edges[axis])

    def cell_volumes(self) -> Array:
        """Volume of every cell (um^3), shape ``self.shape``."""
        return self.sizes(0)[:, None, None] * self.sizes(1)[None, :, None] * self.sizes(2)[None, None, :]

    def span(self, axis: Axis, lo: float, hi: float) -> slice:
        """The cells whose centres lie in [lo, hi] (an empty slice if none)."""
        c = self.centres(axis)
        i0 = int(np.searchsorted(c, lo, side="left"))
        i1 = int(np.searchsorted(c, hi, side="right"))
        return slice(i0, max(i0, i1))

    def block(self, bbox: tuple[float, float, float, float, float, float]) -> tuple[slice, slice, slice]:
        """The cells whose centres lie in ``bbox`` (x0, y0, z0, x1, y1, z1)."""
        return (
            self.span(0, bbox[0], bbox[3]),
            self.span(1, bbox[1], bbox[4]),
            self.span(2, bbox[2], bbox[5]),
        )

    def block_centres(self, block: tuple[slice, slice, slice]) -> tuple[Array, Array, Array]:
        """Centre coordinates of a block, shaped to broadcast: (n, 1, 1), (1, m, 1), (1, 1, l)."""
        cx = self.centres(0)[block[0]][:, None, None]
        cy = self.centres(1)[block[1]][None, :, None]
        cz = self.centres(2)[block[2]][None, None, :]
        return cx, cy, cz

    def index(self, axis: Axis, value: float) -> int:
        """The cell that holds ``value`` along ``axis`` (clipped to the grid; a value on a line goes up)."""
        e = self.edges[axis]
        return int(np.clip(np.searchsorted(e, value, side="right") - 1, 0, len(e) - 2))

    def cell_of(self, points: Array) -> NDArray[np.int64]:
        """The (i, j, k) of the cell holding each point (n, 3), clipped to the grid."""
        pts = np.atleast_2d(points)
        out = np.empty(pts.shape, dtype=np.int64)
        for a in range(3):
            e = self.edges[a]
            out[:, a] = np.clip(np.searchsorted(e, pts[:, a], side="right") - 1, 0, len(e) - 2)
        return out

    def with_lines(self, axis: Axis, values: Iterable[float]) -> Grid:
        """A grid with extra lines on ``axis`` (values outside the grid extend it)."""
        pts = np.concatenate([self.edges[axis], np.asarray(list(values), dtype=float)])
        edges = list(self.edges)
        edges[axis] = _merged(pts, float(pts.min()), float(pts.max()))
        return Grid(*edges)

    def to_dict(self) -> dict[str, object]:
        return {
            "cells": self.cells,
            "shape": list(self.shape),
            "bounds_um": list(self.bounds),
            "min_cell_um": [float(self.sizes(a).min()) for a in range(3)],
            "max_cell_um": [float(self.sizes(a).max()) for a in range(3)],
        }


def source_cells(old: Array, new: Array) -> NDArray[np.int64]:
    """For each cell of the edges ``new``, the cell of ``old`` holding its centre (-1 outside ``old``)."""
    c = 0.5 * (new[1:] + new[:-1])
    idx = np.searchsorted(old, c, side="right") - 1
    return np.where((c > old[0]) & (c < old[-1]), idx, -1)


def check_cells(count: int, limit: int, what: str) -> None:
    """Raise :class:`GridTooLargeError` if ``count`` cells exceed ``limit``."""
    if count > limit:
        raise GridTooLargeError(
            f"{what}: the grid would have {count:,} cells, more than the limit of {limit:,}; "
            "use larger cells (a coarser grid) or raise the limit"
        )


__all__ = [
    "AXIS_NAMES",
    "Grid",
    "GridTooLargeError",
    "Zone",
    "check_cells",
    "graded_lines",
    "size_field",
    "source_cells",
    "uniform_lines",
]
