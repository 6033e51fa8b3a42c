"""What a process run records: per step its parameters, the resulting layer stack, what it observed in the state,
the rules it broke, and the cut-plane slices for its frame; for the run, the final labelled grid.

Plain frozen values with ``to_dict``. The method-claim chart (:mod:`moldstack.checks.method_claims`), the
traveler and the frames read these and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moldstack.fab.steps import Flow
from moldstack.geometry.section import Plane
from moldstack.geometry.voxelize import Label, Voxels


def _fmt_um(v: float) -> str:
    text = f"{v:.1f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


@dataclass(frozen=True)
class Violation:
    """A process rule (or a step's precondition) broken: which, at which step, where, about which parts."""

    rule: str
    step: int
    kind: str
    message: str
    location_um: tuple[float, ...] | None = None
    parts: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = " at (" + ", ".join(_fmt_um(v) for v in self.location_um) + ") um" if self.location_um else ""
        return f"step {self.step} ({self.kind}): {self.message}{where} [{self.rule}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "step": self.step,
            "kind": self.kind,
            "message": self.message,
            "location_um": list(self.location_um) if self.location_um else None,
            "parts": list(self.parts),
            "text": str(self),
        }


@dataclass(frozen=True)
class LayerEntry:
    """One label of the state after a step: the z intervals it occupies, their extent and its volume (the
    traveler's layer stack). A label in two places (the flanges over both layers) has two intervals."""

    role: str
    material: str
    z0: float
    z1: float
    volume_um3: float
    intervals: tuple[tuple[float, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "material": self.material,
            "z_um": [self.z0, self.z1],
            "z_intervals_um": [list(i) for i in self.intervals or ((self.z0, self.z1),)],
            "volume_mm3": self.volume_um3 * 1e-9,
        }


@dataclass(frozen=True, eq=False)
class Slice:
    """The state cut by an axis-aligned vertical plane: labels over (u, v) cells with their edges."""

    plane: Plane
    u_edges: NDArray[np.float64]
    v_edges: NDArray[np.float64]
    labels: NDArray[np.uint16]  # shape (len(u_edges) - 1, len(v_edges) - 1)
    table: tuple[Label, ...]


@dataclass(frozen=True, eq=False)
class StepRecord:
    """One applied step (``index`` counts from 1)."""

    index: int
    kind: str
    title: str
    params: dict[str, Any]
    duration_min: float | None
    stack: tuple[LayerEntry, ...]
    observations: dict[str, Any]
    violations: tuple[Violation, ...]
    slices: tuple[Slice, ...] = ()
    seconds: float = 0.0
    state: Voxels | None = None

    @property
    def ref(self) -> str:
        """How the chart and the traveler name the step: ``step 9 (drill)``."""
        return f"step {self.index} ({self.kind})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "title": self.title,
            "params": self.params,
            "duration_min": self.duration_min,
            "stack": [e.to_dict() for e in self.stack],
            "observations": self.observations,
            "violations": [v.to_dict() for v in self.violations],
            "seconds": self.seconds,
        }


@dataclass(frozen=True, eq=False)
class ProcessRun:
    """A flow applied: every step's record and the final state (a labelled grid)."""

    flow: Flow
    records: tuple[StepRecord, ...]
    final: Voxels
    seconds: float = 0.0
    frames: tuple[Plane, ...] = field(default=())

    @property
    def violations(self) -> tuple[Violation, ...]:
        return tuple(v for r in self.records for v in r.violations)

    def records_of(self, kind: str) -> list[StepRecord]:
        return [r for r in self.records if r.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow.name,
            "design": self.flow.design,
            "grid": self.final.grid.to_dict(),
            "frames": [str(p) for p in self.frames],
            "seconds": self.seconds,
            "steps": [r.to_dict() for r in self.records],
            "violations": [v.to_dict() for v in self.violations],
        }


__all__ = ["LayerEntry", "ProcessRun", "Slice", "StepRecord", "Violation"]
