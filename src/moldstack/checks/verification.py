"""Sign-off of a built model in one call: design rules (DRC), connectivity (LVS) and the stack's compatibility.

:func:`verify` runs the three checks of ``moldstack check`` and gathers them in a :class:`Verification`, which
passes only when each of them does. The warpage over reflow the stack check needs is computed once and kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moldstack.analysis.warpage import WarpageResult, WarpageSettings
    from moldstack.checks.drc import DrcResult
    from moldstack.checks.lvs import LvsResult
    from moldstack.checks.rule_deck import RuleDeck
    from moldstack.checks.stack import StackResult, StackSettings
    from moldstack.geometry.model import Model


@dataclass(frozen=True)
class Verification:
    """The DRC, LVS and stack-compatibility results of one model, and the warpage the stack check used."""

    drc: DrcResult
    lvs: LvsResult
    stack: StackResult
    warpage: WarpageResult

    @property
    def passed(self) -> bool:
        return self.drc.passed and self.lvs.passed and self.stack.passed

    def summary(self) -> dict[str, str]:
        """One line per check: its verdict and what failed."""
        drc_rules = sorted({v.rule for v in self.drc.violations})
        counts = self.lvs.counts
        lvs = f"{self.lvs.status} ({counts['matched']}/{counts['intended_nets']} nets matched"
        for key in ("opens", "shorts", "unconnected"):
            if counts[key]:
                lvs += f", {counts[key]} {key}"
        return {
            "drc": "clean"
            if self.drc.passed
            else f"{len(self.drc.violations)} violations ({', '.join(drc_rules)})",
            "lvs": lvs + ")",
            "stack": self.stack.verdict,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "summary": self.summary(),
            "drc": self.drc.to_dict(),
            "lvs": self.lvs.to_dict(),
            "stack": self.stack.to_dict(),
        }


def verify(
    model: Model,
    deck: RuleDeck | None = None,
    *,
    stack_settings: StackSettings | None = None,
    warpage_settings: WarpageSettings | None = None,
) -> Verification:
    """Run DRC (with ``deck``, default the shipped one), LVS and the stack check (over the reflow profile)."""
    from moldstack.analysis.warpage import warpage  # noqa: PLC0415 - the checks load only when asked for
    from moldstack.checks.drc import drc  # noqa: PLC0415
    from moldstack.checks.lvs import lvs  # noqa: PLC0415
    from moldstack.checks.stack import stack_compatibility  # noqa: PLC0415

    warp = warpage(model, warpage_settings)
    return Verification(
        drc=drc(model, deck),
        lvs=lvs(model),
        stack=stack_compatibility(model, warp, stack_settings),
        warpage=warp,
    )
