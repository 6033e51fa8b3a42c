"""Agreement of the two routes to one structure: the process run's final state against the directly built model.

The model of the assembly the flow makes is voxelised on the run's own grid with the same rule
(:func:`moldstack.geometry.voxelize.voxelize`) and the two are compared cell by cell, by material (the headline
figure) and by role. A differing cell, material ``a`` in the process and ``b`` in the model, is a *boundary*
cell when each route has the other's material right beside it (``b`` among its 26 neighbours in the process,
``a`` among them in the model): the same interface, placed one cell apart. Any other difference (an
*interior* difference: a void, a missing via, a layer two cells off) means the routes made different
structures.

This module may build the model (it is the comparison, not the process).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moldstack.fab.record import ProcessRun
from moldstack.geometry.builder import build_model
from moldstack.geometry.model import Model
from moldstack.geometry.voxelize import Voxels, voxelize
from moldstack.spec.design import Design

MAX_LOCATIONS = 20
_OFFSETS = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])


@dataclass(frozen=True)
class Difference:
    """How many cells the process labels ``process`` where the model has ``model``."""

    process: str
    model: str
    cells: int
    volume_um3: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "model": self.model,
            "cells": self.cells,
            "volume_mm3": self.volume_um3 * 1e-9,
        }


@dataclass(frozen=True)
class Agreement:
    """Cell-by-cell agreement of the process's final state with the model (see the module docstring)."""

    cells: int
    agreeing: int
    role_agreeing: int
    boundary_differences: int
    interior_differences: int
    differences: tuple[Difference, ...]
    interior_locations_um: tuple[tuple[float, float, float], ...]

    @property
    def fraction(self) -> float:
        """Fraction of cells holding the same material in both."""
        return self.agreeing / self.cells if self.cells else 1.0

    @property
    def role_fraction(self) -> float:
        """Fraction of cells holding the same role and material in both."""
        return self.role_agreeing / self.cells if self.cells else 1.0

    @property
    def only_boundary(self) -> bool:
        return self.interior_differences == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cells": self.cells,
            "agreement": self.fraction,
            "role_agreement": self.role_fraction,
            "differing_cells": self.cells - self.agreeing,
            "boundary_differences": self.boundary_differences,
            "interior_differences": self.interior_differences,
            "only_boundary_differences": self.only_boundary,
            "differences": [d.to_dict() for d in self.differences],
            "interior_locations_um": [list(p) for p in self.interior_locations_um],
        }


def _shared_materials(a: Voxels, b: Voxels) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    names = sorted({lab.material for lab in a.table.labels} | {lab.material for lab in b.table.labels})
    ia = np.array([names.index(lab.material) for lab in a.table.labels], dtype=np.int32)
    ib = np.array([names.index(lab.material) for lab in b.table.labels], dtype=np.int32)
    return ia[a.labels], ib[b.labels]


def _near(
    material: NDArray[np.int32], cells: NDArray[np.int64], wanted: NDArray[np.int32]
) -> NDArray[np.bool_]:
    """For each cell (n, 3), whether one of its 26 neighbours holds the material ``wanted[n]``."""
    shape = np.array(material.shape)
    nb = np.clip(cells[:, None, :] + _OFFSETS[None], 0, shape - 1)
    around = material[nb[..., 0], nb[..., 1], nb[..., 2]]
    return (around == wanted[:, None]).any(axis=1)


def compare(process: Voxels, model: Voxels) -> Agreement:
    """Compare two labellings of the same grid (see the module docstring)."""
    if process.grid is not model.grid and not all(
        np.array_equal(a, b) for a, b in zip(process.grid.edges, model.grid.edges, strict=True)
    ):
        raise ValueError("the two labellings are not on the same grid")
    ma, mb = _shared_materials(process, model)
    same = ma == mb
    cells = int(same.size)
    both = sorted({str(lab) for lab in process.table.labels} | {str(lab) for lab in model.table.labels})
    ra = np.array([both.index(str(lab)) for lab in process.table.labels], dtype=np.int32)
    rb = np.array([both.index(str(lab)) for lab in model.table.labels], dtype=np.int32)
    role_same = int((ra[process.labels] == rb[model.labels]).sum())
    diff = np.argwhere(~same)
    if diff.size:
        at = (diff[:, 0], diff[:, 1], diff[:, 2])
        boundary = _near(ma, diff, mb[at]) & _near(mb, diff, ma[at])
    else:
        boundary = np.zeros(0, dtype=bool)
    g = process.grid
    pairs: dict[tuple[str, str], list[float]] = {}
    for i, j, k in diff.tolist():
        key = (str(process.table[int(process.labels[i, j, k])]), str(model.table[int(model.labels[i, j, k])]))
        entry = pairs.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += float(g.sizes(0)[i] * g.sizes(1)[j] * g.sizes(2)[k])
    interior = diff[~boundary]
    locations = tuple(
        (float(g.centres(0)[i]), float(g.centres(1)[j]), float(g.centres(2)[k]))
        for i, j, k in interior[:MAX_LOCATIONS].tolist()
    )
    differences = tuple(
        sorted((Difference(p, m, int(c), v) for (p, m), (c, v) in pairs.items()), key=lambda d: -d.cells)
    )
    return Agreement(
        cells=cells,
        agreeing=int(same.sum()),
        role_agreeing=role_same,
        boundary_differences=int(boundary.sum()),
        interior_differences=int((~boundary).sum()),
        differences=differences,
        interior_locations_um=locations,
    )


def assembly_model(design: Design, assembly: str | None) -> Model:
    """The model of one assembly of ``design`` alone, in its own frame (body bottom at z = 0, centred)."""
    chosen = next((a for a in design.assemblies if a.name == assembly), design.assemblies[0])
    alone = design.model_copy(update={"assemblies": [chosen], "stack": None, "substrate": None})
    return build_model(alone)


def agreement(run: ProcessRun, design: Design) -> Agreement:
    """The process run's final state against the direct build of the assembly its flow makes."""
    model = assembly_model(design, run.flow.assembly)
    return compare(run.final, voxelize(model, run.final.grid))


__all__ = ["Agreement", "Difference", "agreement", "assembly_model", "compare"]
