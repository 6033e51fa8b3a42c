"""The claim chart's values: per element, per claim and for a whole design. Plain frozen data with ``to_dict``.

It holds no logic about claims or geometry (:mod:`moldstack.checks.claims` computes the chart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ElementResult:
    """One element of a claim (its words, shortened): whether some parts satisfy it, which, or why none does."""

    element: str
    holds: bool
    parts: tuple[str, ...] = ()
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "holds": self.holds,
            "parts": list(self.parts),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ClaimResult:
    """One claim: whether the design embodies it, its parent claim, and its elements."""

    number: int
    title: str
    holds: bool
    depends_on: int | None
    elements: tuple[ElementResult, ...]
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "holds": self.holds,
            "title": self.title,
            "depends_on": self.depends_on,
            "elements": [e.to_dict() for e in self.elements],
            "note": self.note,
        }


@dataclass(frozen=True)
class ClaimChart:
    """The claim chart of one design: every claim 1-23 by number."""

    design: str
    claims: dict[int, ClaimResult]

    @property
    def holding(self) -> tuple[int, ...]:
        """The numbers of the claims that hold."""
        return tuple(n for n, c in self.claims.items() if c.holds)

    def to_dict(self) -> dict[str, Any]:
        return {"design": self.design, "claims": {str(n): c.to_dict() for n, c in self.claims.items()}}


# ---------------------------------------------------------------------------------------------- geometry helpers
