"""The design-rule deck: which rules DRC runs, each rule's limit, unit, kind (min or max) and source.

Holds the deck's schema (:class:`Rule`, :class:`RuleDeck`, pydantic v2, frozen), the shipped default deck
(``rules.yaml`` beside this module) and the reading of a user's overrides::

    rules:
      unit_spacing: {limit: 80}
      wire_bond_angle: {enabled: false}

An override may set ``limit`` (a non-negative number in the rule's unit), ``enabled`` (true or false) and
``source`` (where the new value comes from); anything else, an unknown rule id or a bad value is a
:class:`~moldstack.spec.errors.SpecError` whose problems name the field path, the value and the rule broken.
It knows nothing of models or how rules are measured (:mod:`moldstack.checks.drc` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from moldstack.spec.errors import Problem, SpecError, did_you_mean, problems_from_validation

DEFAULT_DECK = "rules.yaml"
"""The shipped deck's file name, packaged next to this module."""

LimitValue = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
"""A limit: a finite number >= 0 (an int is taken; a string such as "80" is not)."""


class Rule(BaseModel):
    """One design rule: a measured quantity held against ``limit`` (a least value for ``min``, a most for ``max``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    kind: Literal["min", "max"]
    limit: LimitValue
    unit: Literal["um", "ratio", "deg"]
    source: str
    enabled: StrictBool = True

    def breaks(self, value: float) -> bool:
        """Whether a measured ``value`` breaks the rule (a value equal to the limit passes)."""
        return value < self.limit if self.kind == "min" else value > self.limit

    def words(self, rule_id: str) -> str:
        """``rule_id`` with what it measures and its limit, for messages: ``unit_spacing (min 75 um)``."""
        return f"{rule_id} ({self.kind} {self.limit:g} {self.unit})"


class RuleOverride(BaseModel):
    """What a user may change about one rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: LimitValue | None = None
    enabled: StrictBool | None = None
    source: str | None = None


class DeckOverrides(BaseModel):
    """A user's override file: ``rules: {rule_id: {limit, enabled, source}}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: dict[str, RuleOverride] = Field(default_factory=dict)


class RuleDeck(BaseModel):
    """The rules DRC runs, by id, and where the deck came from (``source``: the files read, in order)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: dict[str, Rule]
    source: str = DEFAULT_DECK

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def enabled(self, rule_id: str) -> bool:
        return self.rules[rule_id].enabled

    def with_overrides(self, data: Mapping[str, Any], source: str = "overrides") -> RuleDeck:
        """A new deck with ``data`` (``{"rules": {id: {limit, enabled, source}}}``) applied; ``source`` names
        where the overrides came from. Raises :class:`SpecError` naming every bad field, value and rule."""
        try:
            overrides = DeckOverrides.model_validate(data)
        except ValidationError as exc:
            raise SpecError(self._explained(problems_from_validation(exc, DeckOverrides))) from None
        unknown = [
            Problem(f"rules.{rule_id}", self._unknown(rule_id))
            for rule_id in overrides.rules
            if rule_id not in self.rules
        ]
        if unknown:
            raise SpecError(unknown)
        rules = dict(self.rules)
        for rule_id, change in overrides.rules.items():
            update: dict[str, Any] = {}
            if change.enabled is not None:
                update["enabled"] = change.enabled
            if change.limit is not None:
                update["limit"] = change.limit
                update["source"] = change.source or f"override in {source}"
            elif change.source is not None:
                update["source"] = change.source
            rules[rule_id] = rules[rule_id].model_copy(update=update)
        return RuleDeck(rules=rules, source=f"{self.source} + {source}")

    def _unknown(self, rule_id: str) -> str:
        hint = did_you_mean(rule_id, self.rules)
        return f"unknown rule '{rule_id}'" + (hint or f" (the rules are: {', '.join(self.rules)})")

    def _explained(self, problems: list[Problem]) -> list[Problem]:
        """Each problem under ``rules.<id>.`` of a known rule, with the rule's words added."""
        out = []
        for problem in problems:
            parts = problem.path.split(".")
            rule = self.rules.get(parts[1]) if len(parts) > 2 and parts[0] == "rules" else None
            message = problem.message
            if rule is not None and parts[2] == "limit":
                message += f"; the limit of {rule.words(parts[1])} is a number >= 0"
            elif rule is not None:
                message += f" (rule {parts[1]}: {rule.description})"
            out.append(Problem(problem.path, message))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rules": {k: r.model_dump() for k, r in self.rules.items()}}


def default_deck() -> RuleDeck:
    """The shipped deck (``rules.yaml``), validated."""
    text = files("moldstack.checks").joinpath(DEFAULT_DECK).read_text(encoding="utf-8")
    return RuleDeck(rules=yaml.safe_load(text)["rules"], source=DEFAULT_DECK)


def load_deck(path: str | Path | None = None) -> RuleDeck:
    """The shipped deck, with the overrides in the YAML file at ``path`` applied when given."""
    deck = default_deck()
    if path is None:
        return deck
    target = Path(path)
    try:
        data = yaml.safe_load(target.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError([Problem(str(target), f"is not valid YAML: {exc}")]) from None
    if not isinstance(data, Mapping):
        found = type(data).__name__
        raise SpecError([Problem(str(target), f"must be a mapping with a 'rules' key, found {found}")])
    return deck.with_overrides(data, source=str(target))
