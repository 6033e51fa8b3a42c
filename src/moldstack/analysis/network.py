"""The interconnect as a lumped circuit: branches with R and partial L, their mutual inductances, capacitors.

This is what the electrical analysis hands to the SPICE exporter (:mod:`moldstack.exporters.spice`) and what
a loop inductance is computed on. Node names are the model's names (``VDD:logic/die1.C1``, ``VDD:hub:logic/U1``);
the exporter makes them SPICE-safe. ``REFERENCE`` is the node capacitances to the far field (the Maxwell
matrix's reference at infinity) are tied to; the exporter brings it out as a pin.

Units are SI: ohm, henry, farad. Nothing here computes; it is a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

REFERENCE = "REF"


@dataclass(frozen=True)
class Branch:
    """A two-terminal piece of a net from node ``a`` to node ``b`` (current positive from a to b): a series
    resistance and the partial self inductance of its conductors."""

    name: str
    net: str
    a: str
    b: str
    r_ohm: float
    l_h: float


@dataclass(frozen=True)
class Capacitor:
    """A capacitance between two nodes (``b`` is :data:`REFERENCE` for a capacitance to the far field)."""

    a: str
    b: str
    c_f: float


@dataclass(frozen=True, eq=False)
class Network:
    """Pins (the nodes a user connects to, in order), branches, the branches' partial inductance matrix
    (``inductance_h[i, j]``: mutual between branches i and j with their a->b directions; the diagonal equals
    each branch's ``l_h``) and capacitors."""

    name: str
    pins: tuple[str, ...]
    branches: tuple[Branch, ...]
    inductance_h: NDArray[np.float64]
    capacitors: tuple[Capacitor, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        n = len(self.branches)
        if self.inductance_h.shape != (n, n):
            raise ValueError(f"inductance matrix is {self.inductance_h.shape}, expected ({n}, {n})")

    @property
    def nodes(self) -> list[str]:
        """Every node name, pins first, in first-seen order."""
        seen: dict[str, None] = dict.fromkeys(self.pins)
        for b in self.branches:
            seen.setdefault(b.a)
            seen.setdefault(b.b)
        for c in self.capacitors:
            seen.setdefault(c.a)
            seen.setdefault(c.b)
        return list(seen)


__all__ = ["REFERENCE", "Branch", "Capacitor", "Network"]
