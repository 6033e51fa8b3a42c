"""What a design-rule check finds: :class:`Violation`, the per-rule :class:`RuleStatus` and the :class:`DrcResult`.

Plain frozen values with ``to_dict()``; the checks that make them live in :mod:`moldstack.checks.drc_layout`
(2D, KLayout on the GDS) and :mod:`moldstack.checks.drc_model` (3D, on the model), gathered by
:mod:`moldstack.checks.drc`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from moldstack.checks.rule_deck import Rule

Engine = Literal["klayout", "model"]


def fmt(value: float) -> str:
    """A measured value for a message: whole micrometres and degrees, ratios to two decimals."""
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Violation:
    """One place where a rule is broken: the measured ``value`` against the rule's ``limit`` (in ``unit``),
    where (``location``: x, y, z in um, model coordinates), which parts, in which placed assembly, in words."""

    rule: str
    value: float
    limit: float
    unit: str
    location: tuple[float, float, float]
    parts: tuple[str, ...]
    assembly: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
            "location_um": list(self.location),
            "parts": list(self.parts),
            "assembly": self.assembly,
            "message": self.message,
        }


def violation(
    rule_id: str,
    rule: Rule,
    value: float,
    location: tuple[float, float, float],
    parts: tuple[str, ...],
    assembly: str | None,
    what: str,
    after: str = "",
) -> Violation:
    """A violation whose message reads ``rule: <what> <value> <unit><after> (min <limit> <unit>) at (x, y)``,
    e.g. ``unit_spacing: logic/U3 and logic/U4 are 40 um apart (min 75 um) at (1200, -3500)``."""
    unit = "" if rule.unit == "ratio" else f" {rule.unit}"
    x, y, _ = location
    message = f"{rule_id}: {what} {fmt(value)}{unit}{after} ({rule.kind} {rule.limit:g}{unit}) at ({x:.0f}, {y:.0f})"
    return Violation(rule_id, value, rule.limit, rule.unit, location, parts, assembly, message)


@dataclass(frozen=True)
class RuleStatus:
    """How a rule fared: whether it ran, which engine measured it, how many items it checked, how many broke it,
    and the worst value it measured. ``worst`` is None where nothing was measured; for the KLayout rules it is the
    worst violation only (the engine reports only pairs closer than the limit), and for the pair rules on the
    model (wire clearances) the worst over the pairs the broad phase kept, a pair left out being further apart
    than the limit.
    """

    enabled: bool
    engine: Engine
    checked: int
    violations: int
    worst: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "engine": self.engine,
            "checked": self.checked,
            "violations": self.violations,
            "worst": self.worst,
        }


@dataclass(frozen=True)
class RuleOutcome:
    """What one check returns: the items it looked at, the worst value and the violations."""

    checked: int
    worst: float | None
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class DrcResult:
    """All violations of a model against a deck, each rule's status, the deck's source and the time taken.

    ``seconds_layout`` is the KLayout part (GDS written and read back, 2D checks), ``seconds_model`` the 3D part.
    """

    model: str
    violations: tuple[Violation, ...]
    rules: Mapping[str, RuleStatus]
    deck_source: str
    limits: Mapping[str, Rule]
    seconds_layout: float
    seconds_model: float

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def seconds(self) -> float:
        return self.seconds_layout + self.seconds_model

    def by_rule(self, rule_id: str) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.rule == rule_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "passed": self.passed,
            "violation_count": len(self.violations),
            "deck": self.deck_source,
            "seconds": self.seconds,
            "seconds_layout": self.seconds_layout,
            "seconds_model": self.seconds_model,
            "units": {"location": "um"},
            "rules": {
                rule_id: status.to_dict()
                | {
                    "kind": self.limits[rule_id].kind,
                    "limit": self.limits[rule_id].limit,
                    "unit": self.limits[rule_id].unit,
                    "description": self.limits[rule_id].description,
                    "source": self.limits[rule_id].source,
                }
                for rule_id, status in self.rules.items()
            },
            "violations": [v.to_dict() for v in self.violations],
        }
