"""A process run with what it proves: its method-claim results and its agreement with the direct build."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moldstack.checks.chart import ClaimResult
from moldstack.fab.agreement import Agreement
from moldstack.fab.record import ProcessRun, Violation


@dataclass(frozen=True, eq=False)
class ProcessResult:
    """``run`` (every step recorded), ``claims`` (21-23 from the run), ``agreement`` (None if not compared)."""

    run: ProcessRun
    claims: Mapping[int, ClaimResult]
    agreement: Agreement | None

    @property
    def violations(self) -> tuple[Violation, ...]:
        return self.run.violations

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.run.flow.name,
            "design": self.run.flow.design,
            "assembly": self.run.flow.assembly,
            "agreement": self.agreement.fraction if self.agreement is not None else None,
            "claims": {str(n): c.to_dict() for n, c in self.claims.items()},
            "violations": [v.to_dict() for v in self.violations],
            "comparison": self.agreement.to_dict() if self.agreement is not None else None,
            "run": self.run.to_dict(),
        }


__all__ = ["ProcessResult"]
