"""The method-claim chart (claims 21-23) read from a process run: the flow generated for the plated-via example
performs all three; flows edited to break one clause fail in that clause's element, for the right reason; the
chart reads the run's records only.

Runs use a coarse grid (25 um fine, 200 um coarse, 50 um layers: about 2 s a run).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

import moldstack
from moldstack.checks.chart import ClaimResult, ElementResult
from moldstack.checks.claims import DEPENDS_ON, TITLES
from moldstack.checks.method_claims import method_chart
from moldstack.fab.generate import flow_for
from moldstack.fab.record import ProcessRun
from moldstack.fab.runner import run
from moldstack.fab.steps import Flow, Step
from tests.conftest import EXAMPLES

EXAMPLE = "claim21_plated_via.yaml"
COARSE = {"fine_um": 25.0, "coarse_um": 200.0, "z_cell_um": 50.0}

# the first words of each claim-21 element, in order
METAL = "depositing conductive metal"
CURE = "depositing curable dielectric"
APERTURES = "forming apertures"
REMOVAL = "removing at least a portion"
CONNECT = "electrically connecting"


@pytest.fixture(scope="module")
def flow() -> Flow:
    path = EXAMPLES / EXAMPLE
    if not path.exists():
        pytest.skip(f"example {EXAMPLE} is not written yet")
    generated = flow_for(moldstack.load(path))
    return generated.model_copy(update={"grid": generated.grid.model_copy(update=COARSE)})


@pytest.fixture(scope="module")
def good_run(flow: Flow) -> ProcessRun:
    return run(flow)


@pytest.fixture(scope="module")
def good(good_run: ProcessRun) -> dict[int, ClaimResult]:
    return method_chart(good_run)


def _index(flow: Flow, kind: str) -> int:
    return next(i for i, s in enumerate(flow.steps) if s.step == kind)


def _edited(flow: Flow, kind: str, **update: Any) -> list[Step]:
    steps = list(flow.steps)
    i = _index(flow, kind)
    steps[i] = steps[i].model_copy(update=update)
    return steps


def _chart(flow: Flow, steps: list[Step]) -> dict[int, ClaimResult]:
    return method_chart(run(flow.model_copy(update={"steps": steps})))


def _element(claim: ClaimResult, words: str) -> ElementResult:
    return next(e for e in claim.elements if e.element.startswith(words))


def _failing(claim: ClaimResult) -> list[ElementResult]:
    return [e for e in claim.elements if not e.holds]


def _only_failing(claim: ClaimResult, words: str) -> str:
    """The reason of the one own element that fails (it must start with ``words``)."""
    failing = [e for e in _failing(claim) if not e.element.startswith("the method as claimed")]
    assert [e.element for e in failing] == [_element(claim, words).element], failing
    reason = failing[0].reason
    assert reason
    return reason


def _parent_fails(claim: ClaimResult) -> None:
    parent = claim.elements[0]
    assert not claim.holds
    assert parent.element == f"the method as claimed in claim {DEPENDS_ON[claim.number]}"
    assert not parent.holds
    assert parent.reason == f"claim {DEPENDS_ON[claim.number]} does not hold"


def test_generated_flow_performs_claims_21_to_23(good: dict[int, ClaimResult]) -> None:
    assert sorted(good) == [21, 22, 23]
    for number, claim in good.items():
        assert claim.holds, _failing(claim)
        assert claim.number == number
        assert claim.title == TITLES[number]
        assert claim.depends_on == DEPENDS_ON.get(number)
        own = claim.elements[1:] if claim.depends_on else claim.elements
        for e in own:
            assert e.holds and e.reason is None
            assert e.parts, e.element
    assert len(good[21].elements) == 10  # one per clause of claim 21
    assert good[21].elements[0].parts == ("step 1 (sacrificial_layer)",)
    apertures = _element(good[21], APERTURES).parts
    assert apertures[:2] == ("step 9 (drill)", "U1")
    assert apertures[-1].startswith("and ") and apertures[-1].endswith(" more")  # a few, then a count
    assert "die1" in _element(good[21], "attaching").parts
    json.dumps({n: c.to_dict() for n, c in good.items()})


def test_chart_reads_only_the_records(good_run: ProcessRun, good: dict[int, ClaimResult]) -> None:
    bare = dataclasses.replace(good_run, flow=None, final=None)  # type: ignore[arg-type]
    assert method_chart(bare) == good


def test_wires_the_grid_shows_short_of_their_pads_still_count(good_run: ProcessRun) -> None:
    records = list(good_run.records)
    i = next(k for k, r in enumerate(records) if r.kind == "wire_bond")
    obs = dict(records[i].observations)
    obs["bonds"] = [{**b, "touches_pad": False} for b in obs["bonds"]]
    records[i] = dataclasses.replace(records[i], observations=obs)
    chart = method_chart(dataclasses.replace(good_run, records=tuple(records)))
    assert chart[21].holds
    n = len(obs["bonds"])
    assert f"too coarse to show {n} of {n} bond wires touching" in (chart[21].note or "")


def test_no_plating_fails_the_metal_element(flow: Flow) -> None:
    chart = _chart(flow, [s for s in flow.steps if s.step != "plate"])
    reason = _only_failing(chart[21], METAL)
    assert "no metal was deposited" in reason
    assert "steps: " in reason
    _parent_fails(chart[22])
    assert "no metal was deposited" in (_element(chart[22], "the metal deposition").reason or "")
    _parent_fails(chart[23])


def test_no_flange_fails_claim_22_only(flow: Flow) -> None:
    chart = _chart(flow, _edited(flow, "plate", flange_overhang_um=0.0))
    assert chart[21].holds
    assert not chart[22].holds
    assert chart[22].elements[0].holds  # the parent holds: the flanges fail
    reason = _element(chart[22], "the metal deposition").reason or ""
    assert "no flanges" in reason
    assert "step 10 (plate)" in reason
    _parent_fails(chart[23])


def test_removing_everything_fails_claim_23(flow: Flow) -> None:
    chart = _chart(flow, _edited(flow, "remove_sacrificial", keep="nothing"))
    assert chart[21].holds
    assert chart[22].holds
    assert not chart[23].holds
    reason = _only_failing(chart[23], "removing all of each sacrificial layer")
    assert "under the flanges" in reason
    assert "keep: nothing" in reason
    assert "first layer" in reason and "second layer" in reason


def test_no_cure_fails_the_curing_element(flow: Flow) -> None:
    chart = _chart(flow, [s for s in flow.steps if s.step != "cure"])
    assert not chart[21].holds
    reason = _element(chart[21], CURE).reason or ""
    assert "no step cures the dielectric deposited at step 7 (encapsulate)" in reason
    assert "uncured dielectric" in (_element(chart[21], APERTURES).reason or "")
    _parent_fails(chart[22])


def test_cure_after_drilling_fails_the_aperture_element(flow: Flow) -> None:
    steps = [s for s in flow.steps if s.step != "cure"]
    steps.insert(_index(flow, "drill"), flow.steps[_index(flow, "cure")])  # drill is step 8, cure step 9
    chart = _chart(flow, steps)
    reason = _only_failing(chart[21], APERTURES)
    assert "pass through uncured dielectric" in reason
    assert "the cure (step 9 (cure)) comes after step 8 (drill)" in reason


def test_removing_one_layer_fails_the_removal_element(flow: Flow) -> None:
    chart = _chart(flow, _edited(flow, "remove_sacrificial", layers=["first"]))
    reason = _only_failing(chart[21], REMOVAL)
    assert "second sacrificial layer" in reason
    assert "first" not in reason
    _parent_fails(chart[22])
    assert "the second sacrificial layer is never removed" in (
        _element(chart[23], "removing all").reason or ""
    )


def test_unbonded_contact_fails_the_connection_element(flow: Flow) -> None:
    i = _index(flow, "wire_bond")
    bonds = flow.steps[i].bonds  # type: ignore[union-attr]
    dropped = bonds[4].contact
    chart = _chart(flow, _edited(flow, "wire_bond", bonds=bonds[:4] + bonds[5:]))
    reason = _only_failing(chart[21], CONNECT)
    assert f"contact {dropped} is not bonded" in reason
    _parent_fails(chart[22])


def test_removal_before_plating_fails_the_removal_element(flow: Flow) -> None:
    steps = list(flow.steps)
    p, r = _index(flow, "plate"), _index(flow, "remove_sacrificial")
    steps[p], steps[r] = steps[r], steps[p]
    chart = _chart(flow, steps)
    reason = _element(chart[21], REMOVAL).reason or ""
    assert "before the metal is deposited (step 11 (plate))" in reason
    assert not _element(chart[22], "the flange portions lie over").holds
