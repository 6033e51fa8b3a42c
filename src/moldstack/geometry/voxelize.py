"""Voxelisation: which cells of a :class:`~moldstack.geometry.grid.Grid` a solid occupies, and a whole model's labels.

The rule, shared by everything that rasterises (the model here, the process runner in :mod:`moldstack.fab`):

- a **prism** (box, cylinder, tube, trace) occupies the cells whose *centre* lies inside it (signed distance
  <= 0), tested on the block of cells under its bounding box, vectorised;
- a **wire** occupies the cells whose centre lies inside it, *and* every cell its centre line passes through
  (sampled at half the smallest cell of its block), joined face to face where the line crosses a cell
  corner or edge. A bond wire (18-25 um) is usually thinner than a cell; this keeps it a face-connected chain
  of cells from end to end, which is what a conduction model needs of it.

A model's cells are labelled (:class:`Label`: role and material) by painting its solids in order: matrix
solids (mold, base, laminate) by rank, then the inclusions in model order, each over what is there; cells no
solid claims are ``ambient`` air. Labels are indices into a :class:`LabelTable` (uint16 arrays).

It reads primitives and a :class:`~moldstack.geometry.model.Model`; it knows nothing of processes or physics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from moldstack.geometry.grid import Grid
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Shape, Trace, Tube, Wire

Block = tuple[slice, slice, slice]
Labels = NDArray[np.uint16]
AMBIENT_ROLE = "ambient"
AMBIENT_MATERIAL = "air"


@dataclass(frozen=True)
class Label:
    """What a cell holds: the role of the solid (claim element) and its material."""

    role: str
    material: str

    def __str__(self) -> str:
        return f"{self.role} ({self.material})"


@dataclass
class LabelTable:
    """Label ids: index 0 is ambient air; :meth:`id` adds a label the first time it is asked for."""

    labels: list[Label] = field(default_factory=lambda: [Label(AMBIENT_ROLE, AMBIENT_MATERIAL)])

    def id(self, role: str, material: str) -> int:
        label = Label(role, material)
        try:
            return self.labels.index(label)
        except ValueError:
            self.labels.append(label)
            return len(self.labels) - 1

    def __getitem__(self, index: int) -> Label:
        return self.labels[index]

    def __len__(self) -> int:
        return len(self.labels)

    def ids(self, role: str | None = None, material: str | None = None) -> list[int]:
        """Ids of the labels with this role (or a sub-role ``role.x``) and/or material."""
        out = []
        for i, lab in enumerate(self.labels):
            if role is not None and not (lab.role == role or lab.role.startswith(role + ".")):
                continue
            if material is not None and lab.material != material:
                continue
            out.append(i)
        return out

    def material_index(self) -> tuple[list[str], NDArray[np.uint16]]:
        """The distinct materials, and for each label id the index of its material among them."""
        materials = sorted({lab.material for lab in self.labels})
        return materials, np.array([materials.index(lab.material) for lab in self.labels], dtype=np.uint16)


def prism_mask(grid: Grid, shape: Box | Tube | Trace) -> tuple[Block, NDArray[np.bool_]]:
    """The block under the prism's bounding box and which of its cells have their centre in the prism."""
    block = grid.block(shape.bbox)
    cx, cy, cz = grid.block_centres(block)
    plan = shape.xy_distance(cx[:, :, 0], cy[:, :, 0]) <= 0.0
    height = (cz >= shape.z0) & (cz <= shape.z1)
    return block, plan[:, :, None] & height


def _unique_cells(cells: NDArray[np.int64], shape: NDArray[np.int64]) -> NDArray[np.int64]:
    """The distinct rows of an (n, 3) array of cell indices (all within ``shape``)."""
    flat = np.unique(np.ravel_multi_index(cells.T, tuple(shape.tolist())))
    return np.stack(np.unravel_index(flat, tuple(shape.tolist())), axis=1)


def _chain(grid: Grid, wire: Wire, step: float) -> NDArray[np.int64] | None:
    """The cells the centre line passes through, in order, joined face to face (a 6-connected chain).

    Consecutive samples must fall in the same or adjacent cells; where they change cell along two or three axes
    at once, the cells stepping one axis at a time are added, so current can pass from face to face.
    """
    b = grid.bounds
    for _ in range(6):
        samples = wire.samples(step)
        within = np.all((samples >= b[:3]) & (samples <= b[3:]), axis=1)
        if not within.any():
            return None
        cells = grid.cell_of(samples[within])
        d = np.diff(cells, axis=0)
        if np.abs(d).max(initial=0) <= 1:
            a = cells[:-1]
            x_first = a + d * np.array([1, 0, 0])
            xy_first = a + d * np.array([1, 1, 0])
            return np.vstack([cells, x_first, xy_first])
        step /= 2
    raise ValueError(f"wire of {len(wire.path)} points could not be sampled finely enough for this grid")


def wire_mask(grid: Grid, wire: Wire) -> tuple[Block, NDArray[np.bool_]]:
    """Cells with their centre inside the wire, and every cell its centre line passes through.

    Only cells near the centre line are tested: a cell whose centre lies within the wire lies within
    ``ceil((r + step) / h) + 1`` cells (``h`` the smallest cell of the block on that axis) of a cell holding a
    centre-line sample ``step`` apart, so those neighbourhoods are all that need a distance.
    """
    inner = grid.block(wire.bbox)
    sizes = [grid.sizes(a)[inner[a]] for a in range(3)]
    smallest = [float(s.min()) if s.size else wire.diameter for s in sizes]
    step = max(0.5 * min(*smallest, wire.diameter), 1e-3)
    shape = np.array(grid.shape)
    path = _chain(grid, wire, step)
    if path is None:
        return inner, np.zeros(tuple(s.stop - s.start for s in inner), dtype=bool)
    cells = _unique_cells(path, shape)
    reach = [int(np.ceil((wire.radius + step) / h)) + 1 for h in smallest]
    offsets = np.stack(np.meshgrid(*(np.arange(-m, m + 1) for m in reach), indexing="ij"), axis=-1).reshape(
        -1, 3
    )
    near = (cells[:, None, :] + offsets[None]).reshape(-1, 3)
    near = _unique_cells(near[np.all((near >= 0) & (near < shape), axis=1)], shape)
    centres = np.stack([grid.centres(a)[near[:, a]] for a in range(3)], axis=1)
    inside = near[wire.signed_distance(centres) <= 0.0]
    hit = np.vstack([cells, inside])
    lo = hit.min(axis=0)
    hi = hit.max(axis=0) + 1
    block = (slice(int(lo[0]), int(hi[0])), slice(int(lo[1]), int(hi[1])), slice(int(lo[2]), int(hi[2])))
    mask = np.zeros(tuple((hi - lo).tolist()), dtype=bool)
    mask[hit[:, 0] - lo[0], hit[:, 1] - lo[1], hit[:, 2] - lo[2]] = True
    return block, mask


def shape_mask(grid: Grid, shape: Shape) -> tuple[Block, NDArray[np.bool_]]:
    """The cells ``shape`` occupies, as a block of the grid and a boolean mask over it (see module doc)."""
    if isinstance(shape, Wire):
        return wire_mask(grid, shape)
    return prism_mask(grid, shape)


def paint_order(solids: Iterable[Solid]) -> list[Solid]:
    """Matrix solids by rank (stable), then inclusions in their order: later solids paint over earlier ones."""
    items = list(solids)
    matrices = sorted((s for s in items if s.matrix), key=lambda s: s.rank)
    return matrices + [s for s in items if not s.matrix]


@dataclass(frozen=True, eq=False)
class Voxels:
    """A labelled grid: ``labels[i, j, k]`` indexes ``table``."""

    grid: Grid
    labels: Labels
    table: LabelTable

    def materials(self) -> tuple[list[str], NDArray[np.uint16]]:
        """The distinct materials and the per-cell index into them."""
        names, index = self.table.material_index()
        return names, index[self.labels]

    def volumes(self) -> dict[str, float]:
        """Volume (um^3) of each label present, keyed ``role (material)``."""
        vol = self.grid.cell_volumes()
        sums = np.bincount(self.labels.ravel(), weights=vol.ravel(), minlength=len(self.table))
        return {str(self.table[i]): float(v) for i, v in enumerate(sums) if v > 0}


def voxelize(model: Model, grid: Grid, solids: Iterable[Solid] | None = None) -> Voxels:
    """Label every cell of ``grid`` with the solid of ``model`` (or of ``solids``) that occupies it."""
    table = LabelTable()
    labels = np.zeros(grid.shape, dtype=np.uint16)
    for solid in paint_order(model.solids if solids is None else solids):
        block, mask = shape_mask(grid, solid.shape)
        if mask.size == 0:
            continue
        view = labels[block]
        view[mask] = table.id(solid.role, solid.material)
    return Voxels(grid, labels, table)


__all__ = [
    "AMBIENT_MATERIAL",
    "AMBIENT_ROLE",
    "Label",
    "LabelTable",
    "Voxels",
    "paint_order",
    "prism_mask",
    "shape_mask",
    "voxelize",
    "wire_mask",
]
