"""Steady diffusion fields on the rectilinear grid: the problem as data, its assembly, its solve, closed forms.

One finite-volume solver serves thermal (temperature), DC current (potential) and electrostatics (potential):
see :mod:`moldstack.fields.problem` for the interface, :mod:`moldstack.fields.assembly` for the model and
:mod:`moldstack.fields.solve` for the methods and their checks.
"""

from moldstack.fields.assembly import Assembly, absorbed, assemble
from moldstack.fields.closed_forms import slab_resistance, source_temperature_rise, spreading_resistance
from moldstack.fields.problem import (
    FACES,
    DiffusionProblem,
    Face,
    FaceCondition,
    FieldSolution,
    Links,
    NotConvergedError,
    SolverStats,
)
from moldstack.fields.solve import DIRECT_MAX, Method, Prepared, Progress, prepare, solve

__all__ = [
    "DIRECT_MAX",
    "FACES",
    "Assembly",
    "DiffusionProblem",
    "Face",
    "FaceCondition",
    "FieldSolution",
    "Links",
    "Method",
    "NotConvergedError",
    "Prepared",
    "Progress",
    "SolverStats",
    "absorbed",
    "assemble",
    "prepare",
    "slab_resistance",
    "solve",
    "source_temperature_rise",
    "spreading_resistance",
]
