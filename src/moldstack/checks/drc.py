"""The design-rule check in one call: :func:`drc` runs a rule deck on a built model.

The plan-view rules (unit spacing and clearances to the dies and the body edge) run with KLayout's engine on
the model's GDS (:mod:`moldstack.checks.drc_layout`); the rest are measured on the model's 3D geometry
(:mod:`moldstack.checks.drc_model`). The deck (:mod:`moldstack.checks.rule_deck`) gives each rule's limit and
whether it runs. The result is a frozen :class:`~moldstack.checks.drc_result.DrcResult`.
"""

from __future__ import annotations

import time

from moldstack.checks.drc_layout import LAYOUT_RULES, layout_checks
from moldstack.checks.drc_model import MODEL_CHECKS
from moldstack.checks.drc_result import DrcResult, RuleOutcome, RuleStatus, Violation
from moldstack.checks.rule_deck import RuleDeck, load_deck
from moldstack.geometry.model import Model

__all__ = ["DrcResult", "RuleStatus", "Violation", "drc"]


def drc(model: Model, deck: RuleDeck | None = None) -> DrcResult:
    """Check ``model`` against ``deck`` (default: the shipped deck, :func:`load_deck`).

    Every rule of the deck gets a status (disabled ones with nothing checked); the violations come rule by rule
    in the deck's order, each with its value, limit, unit, location (um), parts, package and a message.
    """
    rules = deck if deck is not None else load_deck()
    known = set(LAYOUT_RULES) | set(MODEL_CHECKS)
    missing = sorted(known - set(rules.rules))
    if missing:
        raise ValueError(f"the rule deck lacks rule(s) {', '.join(missing)}; start from load_deck()")
    start = time.perf_counter()
    outcomes: dict[str, RuleOutcome] = layout_checks(model, rules)
    seconds_layout = time.perf_counter() - start
    start = time.perf_counter()
    for rule_id, check in MODEL_CHECKS.items():
        if rules.enabled(rule_id):
            outcomes[rule_id] = check(model, rules.rule(rule_id))
    seconds_model = time.perf_counter() - start
    statuses: dict[str, RuleStatus] = {}
    violations: list[Violation] = []
    for rule_id, rule in rules.rules.items():
        outcome = outcomes.get(rule_id, RuleOutcome(0, None, ()))
        engine = "klayout" if rule_id in LAYOUT_RULES else "model"
        statuses[rule_id] = RuleStatus(
            rule.enabled, engine, outcome.checked, len(outcome.violations), outcome.worst
        )
        violations += outcome.violations
    return DrcResult(
        model=model.name,
        violations=tuple(violations),
        rules=statuses,
        deck_source=rules.source,
        limits=dict(rules.rules),
        seconds_layout=seconds_layout,
        seconds_model=seconds_model,
    )
