"""The claim chart: every example embodies the claims it was made for and fails others for the right reason;
purpose-built designs fail single elements; the chart reads the model's geometry, not the spec."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
import yaml

import moldstack
from moldstack.checks.claims import (
    METHOD_NOTE,
    ClaimChart,
    ClaimResult,
    ElementResult,
    claim_chart,
)
from moldstack.geometry.model import Model
from moldstack.geometry.primitives import Cylinder, Tube
from tests.conftest import EXAMPLES, example_data

# file -> claims it is built for -> a claim it is not built for, and words of the reason it fails
EXAMPLE_TABLE: list[tuple[str, tuple[int, ...], int, str]] = [
    (
        "claim1_posts.yaml",
        (1, 2),
        3,
        "no conductive unit has a pad portion exposed at the bottom surface: units are posts",
    ),
    ("claim3_pad_protrusion.yaml", (1, 2, 3, 4), 7, "no unit protrudes from the top or bottom surface"),
    ("pop_on_substrate.yaml", (1, 2, 3, 4, 5, 6), 8, "above the bottom surface (z 0): the mold covers it"),
    ("claim7_protruding.yaml", (1, 2, 7), 10, "no conductive unit has a hollow centre"),
    ("claim8_exposed_back.yaml", (1, 2, 8, 9), 14, "no second microelectronic element"),
    ("claim10_hollow_fill.yaml", (1, 2, 10, 11, 12, 13), 3, "no conductive unit has a pad portion"),
    (
        "claim14_stacked_die.yaml",
        (1, 2, 8, 9, 14, 15, 16, 17, 18, 19, 20),
        10,
        "no conductive unit has a hollow centre",
    ),
    ("claim21_plated_via.yaml", (1, 2, 7, 8, 10, 11), 21, METHOD_NOTE),
]

_charts: dict[str, ClaimChart] = {}


def _example_chart(name: str) -> ClaimChart:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"example {name} is not written yet")
    if name not in _charts:
        _charts[name] = claim_chart(moldstack.build(path))
    return _charts[name]


def _failing_reasons(claim: ClaimResult) -> list[str]:
    return [e.reason for e in claim.elements if not e.holds and e.reason]


@pytest.mark.parametrize(
    ("name", "holding", "failing", "reason"), EXAMPLE_TABLE, ids=[t[0] for t in EXAMPLE_TABLE]
)
def test_examples_embody_their_claims(name, holding, failing, reason):
    chart = _example_chart(name)
    not_holding = [n for n in holding if not chart.claims[n].holds]
    assert not not_holding, {n: _failing_reasons(chart.claims[n]) for n in not_holding}
    claim = chart.claims[failing]
    assert not claim.holds
    if failing in (21, 22, 23):
        assert claim.note == reason
        assert claim.elements == ()
    else:
        assert any(reason in r for r in _failing_reasons(claim)), _failing_reasons(claim)


def test_parts_name_the_satisfying_solids_parts():
    chart = _example_chart("claim3_pad_protrusion.yaml")
    model = moldstack.build(EXAMPLES / "claim3_pad_protrusion.yaml")
    units = {u.part for u in model.assemblies[0].units}
    claim1 = chart.claims[1]
    assert claim1.elements[0].parts == ("pkg/die1",)
    assert claim1.elements[1].parts == ("pkg/body",)
    assert set(claim1.elements[2].parts) == units
    wires = {c.part for c in model.assemblies[0].connections}
    assert set(claim1.elements[4].parts) == wires
    assert set(chart.claims[4].elements[1].parts) == units


def test_stack_claims_point_at_joints_and_the_substrate():
    chart = _example_chart("pop_on_substrate.yaml")
    claim5 = chart.claims[5]
    assert claim5.elements[0].parts == ("logic/body", "memory/body")
    assert len(claim5.elements[1].parts) == 80
    assert all(p.startswith("joint:memory/") for p in claim5.elements[1].parts)
    claim6 = chart.claims[6]
    assert claim6.elements[1].parts == ("substrate",)
    assert len(claim6.elements[2].parts) == 80
    assert all(p.startswith("joint:substrate/") for p in claim6.elements[2].parts)
    assert chart.claims[3].note == "holds for logic, memory"
    assert chart.claims[8].elements[1].reason.startswith("logic: ")


def test_to_dict_has_every_claim_in_the_documented_shape():
    data = _example_chart("claim14_stacked_die.yaml").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["design"] == "claim14-stacked-die"
    assert list(data["claims"]) == [str(n) for n in range(1, 24)]
    for number, claim in data["claims"].items():
        assert list(claim) == ["holds", "title", "depends_on", "elements", "note"], number
        for element in claim["elements"]:
            assert list(element) == ["element", "holds", "parts", "reason"]
            assert (element["reason"] is None) == element["holds"]
    assert data["claims"]["18"]["depends_on"] == 17
    assert data["claims"]["14"]["depends_on"] is None
    assert data["claims"]["23"] == {
        "holds": False,
        "title": data["claims"]["23"]["title"],
        "depends_on": 22,
        "elements": [],
        "note": METHOD_NOTE,
    }


def test_a_dependent_claim_reports_its_own_elements_when_its_parent_fails():
    claim9 = _example_chart("claim3_pad_protrusion.yaml").claims[9]
    assert not claim9.holds
    assert claim9.elements[0] == ElementResult(
        "the assembly as claimed in claim 8", False, (), "claim 8 does not hold"
    )
    assert claim9.elements[1].holds  # die_attach (1.8 W/mK) is on the back, though the back is not exposed
    assert claim9.elements[1].parts == ("pkg/die1.attach",)


def test_single_assembly_has_no_stack():
    claim5 = _example_chart("claim1_posts.yaml").claims[5]
    assert claim5.elements[0].reason == "the design has one assembly (pkg): claim 5 needs two"
    claim6 = _example_chart("claim1_posts.yaml").claims[6]
    assert claim6.elements[0].reason == "claim 5 does not hold"
    assert "no substrate" in claim6.elements[1].reason


# ----------------------------------------------------------------------------------- purpose-built designs

PAD_UNIT: dict[str, Any] = {
    "shape": "pad_protrusion",
    "pad": {"shape": "square", "size_um": 300},
    "protrusion_diameter_um": 150,
}


def _design(
    unit: dict[str, Any] | None = None,
    die: dict[str, Any] | None = None,
    interconnects: list[dict[str, Any]] | None = None,
    extra_dies: tuple[dict[str, Any], ...] = (),
    materials: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A 6 mm package with a 3 mm die (16 contacts) and 28 units around it."""
    first = {
        "name": "die1",
        "size_um": [3000, 3000],
        "thickness_um": 150,
        "standoff_um": 100,
        "attach": {"material": "die_attach", "thickness_um": 25},
        "contacts": {"count_per_edge": 4, "pitch_um": 300, "inset_um": 100},
    }
    first.update(die or {})
    assembly = {
        "name": "pkg",
        "body": {"size_um": [6000, 6000], "thickness_um": 500},
        "dies": [first, *extra_dies],
        "units": [
            {
                "layout": "rows",
                "pitch_um": 400,
                "offset_um": 600,
                "count_per_edge": 7,
                "unit": unit or {"shape": "post", "diameter_um": 200},
            }
        ],
        "interconnects": [{"kind": "rdl"}] if interconnects is None else interconnects,
    }
    return {"name": "inline", "materials": materials or {}, "assemblies": [assembly]}


def _chart(data: dict[str, Any]) -> ClaimChart:
    return moldstack.claims(moldstack.loads(yaml.safe_dump(data, sort_keys=False)))


def _reason(chart: ClaimChart, number: int) -> str:
    reasons = _failing_reasons(chart.claims[number])
    assert not chart.claims[number].holds
    return " | ".join(reasons)


def test_a_protrusion_at_the_pad_centre_fails_claim_4():
    chart = _chart(
        _design(dict(PAD_UNIT, protrusion_position="center"), interconnects=[{"kind": "wire_bond"}])
    )
    assert chart.claims[3].holds
    assert "0.0 um further from the die than its pad's centre" in _reason(chart, 4)


def test_an_adhesive_below_1_w_mk_is_not_thermally_conductive():
    back = {"back_exposed": True, "standoff_um": 0, "attach": {"material": "film_attach", "thickness_um": 20}}
    chart = _chart(_design(PAD_UNIT, die=back, interconnects=[{"kind": "wire_bond"}]))
    assert chart.claims[8].holds
    assert "(film_attach, 0.3 W/mK) is below the 1 W/mK" in _reason(chart, 9)


def test_an_exposed_back_without_adhesive_fails_claim_9():
    chart = _chart(_design(die={"back_exposed": True, "standoff_um": 0, "attach": None}))
    assert chart.claims[8].holds
    assert "no adhesive is attached to die1's back surface" in _reason(chart, 9)


def test_a_blind_hollow_fails_claim_11():
    unit = {
        "shape": "post",
        "diameter_um": 250,
        "hollow": {"diameter_um": 100, "through": False, "depth_um": 200},
    }
    chart = _chart(_design(unit))
    assert chart.claims[10].holds
    assert "blind: U1's hollow is closed over z 0 to 300 um" in _reason(chart, 11)


def test_a_recessed_fill_fails_claim_13():
    unit = {"shape": "post", "diameter_um": 250, "hollow": {"diameter_um": 100}, "fill": {"recess_um": 20}}
    chart = _chart(_design(unit))
    assert chart.claims[12].holds
    assert "stops 20.0 um short of the unit's top end" in _reason(chart, 13)


def test_a_fill_that_does_not_reflow_fails_claim_12():
    paste = {
        "k_w_mk": 20.0,
        "cte_ppm_k": 17.0,
        "youngs_gpa": 50.0,
        "poisson": 0.3,
        "density_kg_m3": 6000.0,
        "conductor": True,
        "melting_c": 1085.0,
        "source": "test value",
    }
    unit = {
        "shape": "post",
        "diameter_um": 250,
        "hollow": {"diameter_um": 100},
        "fill": {"material": "cu_paste"},
    }
    chart = _chart(_design(unit, materials={"cu_paste": paste}))
    assert chart.claims[11].holds
    assert "(cu_paste) is not reflowable: it melts at 1085 C (reflowable: below 450 C)" in _reason(chart, 12)


def test_posts_protruding_at_the_top_only_embody_claim_7():
    chart = _chart(_design({"shape": "post", "diameter_um": 200, "protrude_top_um": 20}))
    assert chart.claims[7].holds
    assert len(chart.claims[7].elements[1].parts) == 28


SECOND_DIE: dict[str, Any] = {
    "name": "die2",
    "stacked_on": "die1",
    "size_um": [1500, 1500],
    "thickness_um": 100,
    "contacts": {"count_per_edge": 2, "pitch_um": 300, "inset_um": 100},
}
TO_UNITS = [{"kind": "wire_bond", "die": "die1"}, {"kind": "via", "die": "die2"}]


def test_a_second_die_in_the_mold_above_the_first_faces_it_but_is_not_attached():
    chart = _chart(_design(PAD_UNIT, extra_dies=(dict(SECOND_DIE, gap_um=30),), interconnects=TO_UNITS))
    assert all(chart.claims[n].holds for n in (14, 15, 16))
    assert "no attach layer joins die2's back to die1's front (30 um apart" in _reason(chart, 17)
    assert "claim 17 does not hold" in _reason(chart, 18)


def test_terminals_wired_only_to_units_fail_claim_18():
    attached = dict(SECOND_DIE, attach={"material": "film_attach", "thickness_um": 20})
    chart = _chart(_design(PAD_UNIT, extra_dies=(attached,), interconnects=TO_UNITS))
    assert chart.claims[17].holds
    assert chart.claims[19].holds
    assert "(8 of 8 terminals reach units)" in _reason(chart, 18)


def test_a_stack_without_a_substrate_fails_claim_6():
    data = example_data("pop_on_substrate.yaml")
    del data["substrate"]
    chart = _chart(data)
    assert chart.claims[5].holds
    assert "the design has no substrate" in _reason(chart, 6)


def test_contacts_left_unconnected_fail_claim_1():
    data = _design(die={"contacts": {"pads": [{"name": "P1", "at_um": [0, 0]}]}}, interconnects=[])
    data["assemblies"][0]["nets"] = {"die1.P1": "NC"}
    chart = _chart(data)
    assert "no conductive elements (roles conductive_element.*)" in _reason(chart, 1)
    assert "claim 1 does not hold" in _reason(chart, 2)
    assert chart.holding == ()


# ---------------------------------------------------------------------------- the chart reads the geometry


def _with_shapes(model: Model, change: dict[str, Any]) -> Model:
    solids = tuple(dataclasses.replace(s, shape=change[s.id]) if s.id in change else s for s in model.solids)
    return dataclasses.replace(model, solids=solids)


def test_moving_protrusions_to_the_pad_centres_in_the_model_breaks_claim_4():
    model = moldstack.build(EXAMPLES / "claim3_pad_protrusion.yaml")
    change = {}
    for u in model.assemblies[0].units:
        prot = model.solid(f"{u.part}/protrusion").shape
        assert isinstance(prot, Tube)
        change[f"{u.part}/protrusion"] = Cylinder(u.x, u.y, prot.r, prot.z0, prot.z1)
    chart = claim_chart(_with_shapes(model, change))
    assert chart.claims[3].holds
    assert "0.0 um further" in _reason(chart, 4)


def test_protrusions_wider_than_their_pads_break_claim_3():
    """Validation refuses such a spec; the chart still judges such geometry (300 um square pad, 340 um disc)."""
    model = moldstack.build(EXAMPLES / "claim3_pad_protrusion.yaml")
    change = {}
    for u in model.assemblies[0].units:
        prot = model.solid(f"{u.part}/protrusion").shape
        assert isinstance(prot, Tube)
        change[f"{u.part}/protrusion"] = Cylinder(u.x, u.y, 170.0, prot.z0, prot.z1)
    chart = claim_chart(_with_shapes(model, change))
    assert chart.claims[3].elements[1].holds
    assert "U1's protrusion 90792 um² vs pad 90000 um²" in _reason(chart, 3)
    assert "no unit has a pad portion with a smaller protrusion (claim 3)" in _reason(chart, 4)


def test_posts_stopping_short_of_the_top_are_covered_by_the_mold():
    model = moldstack.build(EXAMPLES / "claim1_posts.yaml")
    change = {}
    for u in model.assemblies[0].units:
        post = model.solid(f"{u.part}/column").shape
        assert isinstance(post, Tube)
        change[f"{u.part}/column"] = dataclasses.replace(post, z1=post.z1 - 20)
    chart = claim_chart(_with_shapes(model, change))
    exposed = chart.claims[1].elements[3]
    assert not exposed.holds
    assert "0 exposed at the top, 80 at the bottom" in exposed.reason


def test_removing_the_wires_from_the_model_breaks_the_conductive_elements():
    model = moldstack.build(EXAMPLES / "claim3_pad_protrusion.yaml")
    solids = tuple(s for s in model.solids if not s.id.endswith("/wire"))
    chart = claim_chart(dataclasses.replace(model, solids=solids))
    assert "none of the 80 contacts reaches an edge unit" in _reason(chart, 1)


# ---------------------------------------------------------------------------------------- API and method


def test_claims_accepts_a_path_a_design_or_a_model():
    path = EXAMPLES / "claim7_protruding.yaml"
    expected = claim_chart(moldstack.build(path)).to_dict()
    assert moldstack.claims(moldstack.build(path)).to_dict() == expected
    structure = {n: c for n, c in expected["claims"].items() if int(n) <= 20}
    for given in (path, str(path), moldstack.load(path)):
        chart = moldstack.claims(given).to_dict()
        assert {n: c for n, c in chart["claims"].items() if int(n) <= 20} == structure
        # With the design, claims 21-23 say why the claimed method does not make it.
        note = chart["claims"]["21"]["note"]
        assert note.startswith("the claimed method does not make this design: assemblies[0].body.base")


def test_the_method_claims_hold_for_a_design_the_method_makes():
    chart = moldstack.claims(EXAMPLES / "claim21_plated_via.yaml")
    assert {21, 22, 23} <= set(chart.holding)
    assert chart.claims[21].elements[0].parts


def test_method_claims_come_from_a_process_result_when_given():
    model = moldstack.build(EXAMPLES / "claim7_protruding.yaml")
    supplied = ClaimResult(
        21, "method", True, None, (ElementResult("providing a first sacrificial layer", True),)
    )
    chart = claim_chart(model, method={21: supplied})
    assert chart.claims[21] is supplied
    assert chart.claims[22].note == METHOD_NOTE
    with pytest.raises(ValueError, match=r"21-23 only, not \[5\]"):
        claim_chart(model, method={5: supplied})


def test_the_chart_is_a_frozen_value():
    chart = _example_chart("claim7_protruding.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        chart.design = "other"  # type: ignore[misc]
    element = chart.claims[1].elements[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        element.holds = False  # type: ignore[misc]
    assert copy.deepcopy(chart.to_dict()) == chart.to_dict()
