"""A steady diffusion problem ``div(k grad u) + q = 0`` on a rectilinear grid, as data; and what a solve returns.

One problem type serves every field analysis: thermal (u = temperature in C or K, k = thermal conductivity
W/(m K), q = heat W), DC current (u = potential V, k = electrical conductivity S/m, terminals held fixed) and
electrostatics (u = potential, k = permittivity F/m). Lengths on the grid are micrometres (the grid's unit);
the solver converts to SI.

- ``k``: one conductivity per cell (isotropic), or three, ``(kx, ky, kz)``, for an orthotropic medium (a
  laminate homogenised over a cell: arithmetic mean of its layers in plane, harmonic through them).
- ``source``: the total injected per cell (W for heat), not a density.
- ``faces``: conditions on the six outer faces of the grid, each optionally limited to a mask of that face's
  cells: ``dirichlet`` (u held at ``value`` on the face) or ``robin`` (flux ``h (u - value)`` to an ambient
  at ``value``). A face with no condition is adiabatic (Neumann, zero flux).
- ``fixed``: cells held at ``fixed_value`` (a cold plate inside the grid, a terminal patch).
- ``links``: extra conductances between pairs of cells (sub-cell conductors such as bond wires: G = k A / L).
- ``interface``: extra specific resistances (m^2 K/W) in series on internal faces, per axis, shaped like the
  faces they sit on ((nx-1, ny, nz) for x faces ...); zero where there is none.

Nothing here solves; nothing here knows packages or models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from moldstack.geometry.grid import Grid

Face = Literal["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"]
FACES: tuple[Face, ...] = ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")
FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class FaceCondition:
    """A condition on one outer face of the grid (on the cells of ``mask`` only, if given).

    ``mask`` has the shape of that face: (ny, nz) for x faces, (nx, nz) for y faces, (nx, ny) for z faces.
    """

    face: Face
    kind: Literal["dirichlet", "robin"]
    value: float
    h: float = 0.0
    mask: NDArray[np.bool_] | None = None
    name: str = ""


@dataclass(frozen=True, eq=False)
class Links:
    """Conductances ``g`` (W/K, or S) between cells ``a`` and ``b`` (flat cell indices, C order)."""

    a: IndexArray
    b: IndexArray
    g: FloatArray
    names: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class DiffusionProblem:
    """Everything a solve needs (see the module docstring)."""

    grid: Grid
    k: FloatArray | tuple[FloatArray, FloatArray, FloatArray]
    source: FloatArray | None = None
    faces: tuple[FaceCondition, ...] = ()
    fixed: NDArray[np.bool_] | None = None
    fixed_value: FloatArray | float = 0.0
    links: Links | None = None
    interface: tuple[FloatArray | None, FloatArray | None, FloatArray | None] = (None, None, None)


@dataclass(frozen=True)
class SolverStats:
    """How the solve went: sizes, iterations, the true relative residual, times, and what was tried."""

    unknowns: int
    iterations: int
    residual: float
    assembly_s: float
    setup_s: float
    solve_s: float
    method: str
    tried: tuple[str, ...] = ()

    @property
    def total_s(self) -> float:
        return self.assembly_s + self.setup_s + self.solve_s

    @property
    def unknowns_per_s(self) -> float:
        return self.unknowns / self.total_s if self.total_s > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "unknowns": self.unknowns,
            "iterations": self.iterations,
            "residual": self.residual,
            "assembly_s": self.assembly_s,
            "setup_s": self.setup_s,
            "solve_s": self.solve_s,
            "unknowns_per_s": self.unknowns_per_s,
            "method": self.method,
            "tried": list(self.tried),
        }


@dataclass(frozen=True, eq=False)
class FieldSolution:
    """The solved field ``u`` (grid shape) and where the flow went.

    ``face_flows``: the flow out through each face condition (by its name, or its face when unnamed), positive
    leaving the domain. ``fixed_flow``: the flow into the fixed cells. ``energy_balance_error``: |sources -
    outflows| / max(|sources|, tiny).
    """

    u: FloatArray
    stats: SolverStats
    face_flows: dict[str, float] = field(default_factory=dict)
    fixed_flow: float = 0.0
    source_total: float = 0.0
    energy_balance_error: float = 0.0


class NotConvergedError(RuntimeError):
    """The solver did not reach the tolerance; the message says what was tried and how far each got."""


__all__ = [
    "FACES",
    "DiffusionProblem",
    "Face",
    "FaceCondition",
    "FieldSolution",
    "Links",
    "NotConvergedError",
    "SolverStats",
]
