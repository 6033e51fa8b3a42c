"""The material state a process acts on: a labelled rectilinear grid that grows in z as layers are added, and
the register of what the steps made (layers, pads, dies and contacts, bonds, apertures) for later steps to find.

Plan (x, y) lines are fixed before the first step, from every step's masks (:mod:`moldstack.fab.plan`);
z lines are added when a step reveals a new surface (:meth:`ProcessState.ensure_z`), and a cell split by a new
line keeps its label in both halves. Cells are labelled ``role (material)`` through a
:class:`~moldstack.geometry.voxelize.LabelTable`; label 0 is ambient air.

It knows the grid and the voxelisation rule; it knows nothing of the design spec or the model builder.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moldstack.geometry.grid import Grid, check_cells, source_cells
from moldstack.geometry.primitives import Tube, Wire
from moldstack.geometry.voxelize import Block, LabelTable, Voxels

SAC_FIRST = "sacrificial.first"
SAC_SECOND = "sacrificial.second"
UNCURED = "body.uncured"
APERTURE = "process.aperture"
Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class ContactMade:
    name: str
    x: float
    y: float
    w: float
    h: float
    z0: float
    z1: float


@dataclass(frozen=True)
class DieMade:
    name: str
    outline: Rect
    z0: float
    z1: float
    contacts: dict[str, ContactMade]


@dataclass(frozen=True)
class PadMade:
    name: str
    x: float
    y: float
    r: float
    z0: float
    z1: float


@dataclass(frozen=True)
class BondMade:
    contact: str
    pad: str
    ball: Tube
    wire: Wire


@dataclass(frozen=True)
class ApertureMade:
    """A formed aperture: axis (x, y), radius at its top and bottom, z extent."""

    name: str
    x: float
    y: float
    r_top: float
    r_bottom: float
    z0: float
    z1: float

    def radius_at(self, z: NDArray[np.float64] | float) -> NDArray[np.float64] | float:
        """Radius at height z (linear between bottom and top)."""
        t = (np.asarray(z) - self.z0) / (self.z1 - self.z0)
        return self.r_bottom + (self.r_top - self.r_bottom) * t


@dataclass
class ProcessState:
    """Labels on a grid, and the register of what has been made so far."""

    grid: Grid
    labels: NDArray[np.uint16]
    z_cell: float
    max_cells: int
    table: LabelTable = field(default_factory=LabelTable)
    layers: dict[str, tuple[float, float]] = field(default_factory=dict)
    pads: dict[str, PadMade] = field(default_factory=dict)
    dies: dict[str, DieMade] = field(default_factory=dict)
    bonds: dict[str, BondMade] = field(default_factory=dict)
    apertures: dict[str, ApertureMade] = field(default_factory=dict)
    cure_temperature_c: float | None = None
    central_region: Any = None  # shapely polygon the pads enclose (None until pads exist)
    plated: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def empty(
        cls, x: NDArray[np.float64], y: NDArray[np.float64], z_cell: float, max_cells: int
    ) -> ProcessState:
        """A state with the plan lines and one layer of cells of height ``z_cell`` above the datum, all ambient."""
        grid = Grid(x, y, np.array([0.0, z_cell]))
        return cls(grid, np.zeros(grid.shape, dtype=np.uint16), z_cell, max_cells)

    # --- the grid ------------------------------------------------------------------------------------

    def ensure_z(self, *values: float) -> None:
        """Make every value a z line (extending the grid if needed); cut any z cell taller than ``z_cell``."""
        z_old = self.grid.z
        grid = self.grid.with_lines(2, values)
        z = grid.z
        cuts = [
            np.linspace(a, b, math.ceil((b - a) / self.z_cell - 1e-9) + 1)[1:-1]
            for a, b in itertools.pairwise(z)
            if b - a > self.z_cell * (1 + 1e-9)
        ]
        if cuts:
            grid = grid.with_lines(2, np.concatenate(cuts))
        if np.array_equal(grid.z, z_old):
            return
        check_cells(grid.cells, self.max_cells, "process grid")
        src = source_cells(z_old, grid.z)
        labels = self.labels[:, :, np.clip(src, 0, None)]
        labels[:, :, src < 0] = 0
        self.grid = grid
        self.labels = np.ascontiguousarray(labels)

    def id(self, role: str, material: str) -> int:
        return self.table.id(role, material)

    def ids(self, role: str | None = None, material: str | None = None) -> list[int]:
        return self.table.ids(role, material)

    def plan_block(self, rect: Rect) -> tuple[slice, slice]:
        return (self.grid.span(0, rect[0], rect[2]), self.grid.span(1, rect[1], rect[3]))

    def block(self, rect: Rect, z0: float, z1: float) -> Block:
        sx, sy = self.plan_block(rect)
        return (sx, sy, self.grid.span(2, z0, z1))

    def is_role(self, labels: NDArray[np.uint16], role: str) -> NDArray[np.bool_]:
        """Which cells carry ``role`` (or a sub-role of it)."""
        return np.isin(labels, self.ids(role))

    def _layers_in(self, rect: Rect, ids: list[int] | None) -> NDArray[np.int64]:
        """The z layers holding occupied cells (or cells with these ids) whose centres lie in ``rect``."""
        sx, sy = self.plan_block(rect)
        sub = self.labels[sx, sy, :]
        occupied = sub != 0 if ids is None else np.isin(sub, ids)
        return np.nonzero(occupied.any(axis=(0, 1)))[0]

    def top_in(self, rect: Rect, ids: list[int] | None = None) -> float | None:
        """Highest top face of occupied cells (or of cells with these ids) whose centres lie in ``rect``."""
        ks = self._layers_in(rect, ids)
        return float(self.grid.z[ks[-1] + 1]) if ks.size else None

    def bottom_in(self, rect: Rect, ids: list[int] | None = None) -> float | None:
        """Lowest bottom face of occupied cells (or of cells with these ids) whose centres lie in ``rect``."""
        ks = self._layers_in(rect, ids)
        return float(self.grid.z[ks[0]]) if ks.size else None

    def surface_under(self, rect: Rect) -> tuple[float | None, set[str]]:
        """The top of the stack under ``rect`` and the roles of the topmost cells there (what a part would sit on)."""
        sx, sy = self.plan_block(rect)
        sub = self.labels[sx, sy, :]
        if sub.size == 0:
            return None, set()
        occupied = sub != 0
        any_k = occupied.any(axis=(0, 1))
        if not any_k.any():
            return None, set()
        k_top = np.where(occupied, np.arange(sub.shape[2])[None, None, :], -1).max(axis=2)
        top = float(self.grid.z[int(k_top.max()) + 1])
        ii, jj = np.nonzero(k_top >= 0)
        tops = sub[ii, jj, k_top[ii, jj]]
        roles = {self.table[int(t)].role for t in np.unique(tops)}
        if (k_top < 0).any():
            roles.add("ambient")
        return top, roles

    def snapshot(self) -> Voxels:
        """A copy of the labelled grid as it is now."""
        return Voxels(self.grid, self.labels.copy(), LabelTable(list(self.table.labels)))


def face_neighbours(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Cells sharing a face with a cell of ``mask`` (not including the mask itself unless adjacent)."""
    out = np.zeros_like(mask)
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    out[:, :, 1:] |= mask[:, :, :-1]
    out[:, :, :-1] |= mask[:, :, 1:]
    return out


def grown(block: Block, shape: tuple[int, int, int], by: int = 1) -> Block:
    """The block grown by ``by`` cells each way, clipped to ``shape``."""
    return tuple(  # type: ignore[return-value]
        slice(max(s.start - by, 0), min(s.stop + by, n)) for s, n in zip(block, shape, strict=True)
    )


__all__ = [
    "APERTURE",
    "SAC_FIRST",
    "SAC_SECOND",
    "UNCURED",
    "ApertureMade",
    "BondMade",
    "ContactMade",
    "DieMade",
    "PadMade",
    "ProcessState",
    "face_neighbours",
    "grown",
]
