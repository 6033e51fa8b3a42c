"""Virtual fabrication: each step's effect on a tiny grid, each process rule fired by a flow built to break it,
flows as YAML, and the flow generated from a design."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage

import moldstack
from moldstack.fab.flow_io import dump_flow, loads_flow
from moldstack.fab.generate import MethodNotApplicableError, flow_for
from moldstack.fab.record import ProcessRun
from moldstack.fab.runner import run
from moldstack.fab.steps import (
    ApertureSite,
    Bond,
    ContactSite,
    Cure,
    DieAttach,
    DielectricBase,
    Drill,
    Encapsulate,
    Flow,
    GridSettings,
    PadArray,
    PadSite,
    Plate,
    RemoveSacrificial,
    SacrificialLayer,
    WireBond,
)
from moldstack.geometry.grid import GridTooLargeError
from moldstack.geometry.voxelize import Voxels
from moldstack.spec.errors import SpecError

EXAMPLES = Path(__file__).parent.parent / "examples"
PAD_D, AP_D, PLATING, OVERHANG, FLANGE_T, SAC_T = 150.0, 80.0, 15.0, 20.0, 10.0, 10.0


def tiny_flow(**changes: object) -> Flow:
    """A 1 mm panel: two pads at x = +-400, a 300 um die with two contacts bonded to them, 250 um of mold."""
    steps = [
        SacrificialLayer(layer="first", thickness_um=SAC_T),
        DielectricBase(thickness_um=20.0, opening_um=(-250.0, -250.0, 250.0, 250.0)),
        PadArray(
            thickness_um=10.0,
            pads=[
                PadSite(name="P1", at_um=(-400.0, 0.0), diameter_um=PAD_D),
                PadSite(name="P2", at_um=(400.0, 0.0), diameter_um=PAD_D),
                PadSite(name="P3", at_um=(0.0, 400.0), diameter_um=PAD_D),
                PadSite(name="P4", at_um=(0.0, -400.0), diameter_um=PAD_D),
            ],
        ),
        DieAttach(
            die="die1",
            outline_um=(-150.0, -150.0, 150.0, 150.0),
            thickness_um=100.0,
            contact_thickness_um=2.0,
            contacts=[
                ContactSite(name="C1", at_um=(-110.0, 0.0), size_um=(40.0, 40.0)),
                ContactSite(name="C2", at_um=(110.0, 0.0), size_um=(40.0, 40.0)),
            ],
        ),
        WireBond(
            diameter_um=20.0,
            loop_height_um=80.0,
            ball_diameter_um=40.0,
            ball_height_um=10.0,
            bonds=[
                Bond(contact="die1.C1", pad="P1", stitch_um=(-340.0, 0.0)),
                Bond(contact="die1.C2", pad="P2", stitch_um=(340.0, 0.0)),
            ],
        ),
        SacrificialLayer(layer="second", thickness_um=SAC_T, at_um=250.0),
        Encapsulate(outline_um=(-500.0, -500.0, 500.0, 500.0), min_cover_um=20.0),
        Cure(duration_min=240.0),
        Drill(
            apertures=[ApertureSite(name=p, at_um=xy, diameter_um=AP_D) for p, xy in _PADS.items()],
            wire_clearance_um=10.0,
        ),
        Plate(thickness_um=PLATING, flange_overhang_um=OVERHANG, flange_thickness_um=FLANGE_T),
        RemoveSacrificial(),
    ]
    data = {
        "name": "tiny",
        "panel_um": (-500.0, -500.0, 500.0, 500.0),
        "grid": GridSettings(fine_um=10.0, coarse_um=50.0, z_cell_um=10.0),
        "steps": steps,
    }
    data.update(changes)
    return Flow(**data)


_PADS = {"P1": (-400.0, 0.0), "P2": (400.0, 0.0), "P3": (0.0, 400.0), "P4": (0.0, -400.0)}


def _with_step(flow: Flow, kind: str, **update: object) -> Flow:
    steps = [s.model_copy(update=update) if s.step == kind else s for s in flow.steps]
    return flow.model_copy(update={"steps": steps})


def _rules(result: ProcessRun) -> set[str]:
    return {v.rule for v in result.violations}


@pytest.fixture(scope="module")
def tiny() -> ProcessRun:
    return run(tiny_flow(), keep_states=True)


def _ids(state: Voxels, role: str) -> list[int]:
    """Labels of exactly ``role``, or of every sub-role when ``role`` ends with a dot."""
    if role.endswith("."):
        return [i for i, lab in enumerate(state.table.labels) if lab.role.startswith(role)]
    return [i for i, lab in enumerate(state.table.labels) if lab.role == role]


def _volume(state: Voxels, role: str) -> float:
    return float((state.grid.cell_volumes() * np.isin(state.labels, _ids(state, role))).sum())


def _z_extent(state: Voxels, role: str) -> tuple[float, float]:
    mask = np.isin(state.labels, _ids(state, role))
    ks = np.nonzero(mask.any(axis=(0, 1)))[0]
    return float(state.grid.z[ks[0]]), float(state.grid.z[ks[-1] + 1])


def test_the_tiny_flow_runs_clean_and_records_every_step(tiny):
    assert [r.kind for r in tiny.records] == [s.step for s in tiny_flow().steps]
    assert tiny.violations == ()
    assert all(r.state is not None and r.slices for r in tiny.records)


def test_first_sacrificial_layer_and_base_stack_from_the_datum(tiny):
    s1 = tiny.records[0].state
    assert _z_extent(s1, "sacrificial.first") == (-SAC_T, 0.0)
    assert _volume(s1, "sacrificial.first") == pytest.approx(1000.0 * 1000.0 * SAC_T)
    s2 = tiny.records[1].state
    assert _z_extent(s2, "body.base") == (0.0, 20.0)
    assert _volume(s2, "body.base") == pytest.approx((1000.0**2 - 500.0**2) * 20.0)
    assert tiny.records[1].observations["on_first_sacrificial"] == 1.0


def test_pads_sit_on_the_base_and_define_the_central_region(tiny):
    rec = tiny.records[2]
    assert _z_extent(rec.state, "conductive_unit.pad") == (20.0, 30.0)
    expected = 4 * math.pi * (PAD_D / 2) ** 2 * 10.0
    assert _volume(rec.state, "conductive_unit.pad") == pytest.approx(expected, rel=0.03)
    assert rec.observations["not_on_base"] == []
    assert rec.observations["central_region_um2"] > 300.0**2


def test_the_die_rests_on_the_first_layer_with_its_contacts_up(tiny):
    rec = tiny.records[3]
    assert _z_extent(rec.state, "die") == (0.0, 100.0)
    assert _z_extent(rec.state, "die.contact") == (100.0, 102.0)
    obs = rec.observations
    assert obs["rests_on"] == ["sacrificial.first"]
    assert obs["back_on_first_sacrificial"] == 1.0
    assert obs["contacts_face_away"] == 1.0
    assert obs["in_central_region"] is True


def test_each_bond_is_a_face_connected_chain_from_contact_to_pad(tiny):
    rec = tiny.records[4]
    state = rec.state
    wire = np.isin(state.labels, _ids(state, "conductive_element.wire_bond"))
    _, count = ndimage.label(wire)
    assert count == 2
    assert all(b["touches_contact"] and b["touches_pad"] for b in rec.observations["bonds"])
    assert rec.observations["unbonded_contacts"] == []
    top = max(b["top_um"] for b in rec.observations["bonds"])
    assert top == pytest.approx(102.0 + 80.0, abs=1e-6)


def test_the_compound_fills_the_cavity_under_the_second_layer_and_cures(tiny):
    rec = tiny.records[6]
    state = rec.state
    assert _z_extent(state, "sacrificial.second") == (250.0, 250.0 + SAC_T)
    assert _z_extent(state, "body.uncured") == (0.0, 250.0)
    inside = state.grid.block((-500, -500, 0, 500, 500, 250))
    assert not (state.labels[inside] == 0).any()
    assert rec.observations["wire_cells_exposed"] == 0
    assert rec.observations["least_cover_over_loops_um"] == pytest.approx(250.0 - 182.0)
    cured = tiny.records[7].state
    assert _volume(cured, "body.uncured") == 0.0
    assert _volume(cured, "body") == pytest.approx(_volume(state, "body.uncured"))


def test_apertures_run_through_both_layers_the_mold_the_pad_and_the_base(tiny):
    rec = tiny.records[8]
    for ap in rec.observations["apertures"]:
        assert ap["z_um"] == [-SAC_T, 250.0 + SAC_T]
        for key in ("through_pad", "through_base", "through_cured_dielectric", "spans_sacrificial_layers"):
            assert ap[key], (ap["name"], key)
        assert ap["pad"] == ap["name"]
    state = rec.state
    hole = np.isin(state.labels, _ids(state, "process.aperture"))
    assert _z_extent(state, "process.aperture") == (-SAC_T, 250.0 + SAC_T)
    assert ndimage.label(hole)[1] == 4


def test_plating_leaves_hollow_centres_and_flanges_on_both_layers(tiny):
    rec = tiny.records[9]
    state = rec.state
    assert _z_extent(state, "conductive_unit.via") == (-SAC_T - FLANGE_T, 250.0 + SAC_T + FLANGE_T)
    assert _z_extent(state, "conductive_unit.hollow") == (-SAC_T - FLANGE_T, 250.0 + SAC_T + FLANGE_T)
    for via in rec.observations["vias"]:
        assert via["touches_pad"] and via["continuous"] and via["hollow"]
        for end in ("top", "bottom"):
            assert abs(via["flange_overhang_um"][end] - OVERHANG) <= via["cell_um"]
            assert via["flange_on_sacrificial"][end]
    r_out, r_in = AP_D / 2, AP_D / 2 - PLATING
    column = 4 * math.pi * (r_out**2 - r_in**2) * (250.0 + 2 * SAC_T + 2 * FLANGE_T)
    flanges = 8 * math.pi * ((r_out + OVERHANG) ** 2 - r_out**2) * FLANGE_T
    assert _volume(state, "conductive_unit.via") == pytest.approx(column, rel=0.06)
    assert _volume(state, "conductive_unit.flange") == pytest.approx(flanges, rel=0.1)


def test_removal_keeps_exactly_the_layer_under_the_flanges(tiny):
    rec = tiny.records[10]
    state = rec.state
    assert _volume(state, "sacrificial.") == 0.0
    remnant = _volume(state, "conductive_unit.remnant")
    ring = 8 * math.pi * ((AP_D / 2 + OVERHANG) ** 2 - (AP_D / 2) ** 2) * SAC_T
    assert remnant == pytest.approx(ring, rel=0.1)
    for layer in rec.observations["layers"]:
        assert layer["kept_elsewhere_mm3"] == 0.0
        assert layer["removed_under_flanges_mm3"] == 0.0
        assert layer["kept_under_flanges_mm3"] == pytest.approx(layer["under_flanges_mm3"])
    assert rec.observations["die_back_exposed_fraction"] == 1.0


def test_removing_a_chosen_portion_leaves_the_rest():
    flow = _with_step(
        tiny_flow(), "remove_sacrificial", region_um=(-500.0, -500.0, 0.0, 500.0), layers=["first"]
    )
    result = run(flow)
    layer = result.records[-1].observations["layers"][0]
    assert layer["removed_mm3"] == pytest.approx(layer["before_mm3"] / 2, rel=0.05)
    assert layer["kept_elsewhere_mm3"] > 0


def test_frames_cut_through_a_bonded_pad(tiny):
    assert [str(p) for p in tiny.frames] == ["y=0"]
    last = tiny.records[-1].slices[0]
    assert last.labels.shape == (len(last.u_edges) - 1, len(last.v_edges) - 1)
    roles = {last.table[i].role for i in np.unique(last.labels)}
    assert {"die", "conductive_element.wire_bond", "conductive_unit.via", "conductive_unit.flange"} <= roles


# --- each rule fires on a flow built to break it ---------------------------------------------------------


def test_an_aperture_off_its_pad_misses_the_pad_and_the_base_and_its_metal_touches_no_pad():
    flow = _with_step(
        tiny_flow(),
        "drill",
        apertures=[ApertureSite(name="A9", at_um=(0.0, 200.0), diameter_um=AP_D)],
    )
    result = run(flow)
    rules = _rules(result)
    assert {"aperture_through_pad", "aperture_through_base", "metal_touches_pad"} <= rules
    text = next(str(v) for v in result.violations if v.rule == "aperture_through_pad")
    assert text.startswith("step 9 (drill): aperture A9 does not pass through a pad at (0, 200)")


def test_an_aperture_too_near_a_wire_breaks_the_clearance():
    flow = _with_step(tiny_flow(), "drill", wire_clearance_um=60.0)
    result = run(flow)
    hits = [v for v in result.violations if v.rule == "wire_clearance"]
    assert {v.parts for v in hits} == {("P1", "die1.C1"), ("P2", "die1.C2")}
    assert "closer than 60 um" in hits[0].message
    assert hits[0].location_um is not None


def test_a_die_over_the_base_is_not_in_the_central_region():
    flow = _with_step(tiny_flow(), "die_attach", outline_um=(-150.0, 50.0, 150.0, 350.0), contacts=[])
    result = run(flow)
    assert {"central_region", "die_on_first_sacrificial"} <= _rules(result)


def test_a_thin_cavity_leaves_the_loops_uncovered():
    flow = tiny_flow()
    steps = [
        s.model_copy(update={"at_um": 190.0}) if s.step == "sacrificial_layer" and s.layer == "second" else s
        for s in flow.steps
    ]
    result = run(flow.model_copy(update={"steps": steps}))
    hits = [v for v in result.violations if v.rule == "mold_covers_loops"]
    assert hits
    assert any("less than 20 um" in v.message for v in hits)


def test_a_second_layer_cutting_into_the_loops_breaks_the_cavity():
    flow = tiny_flow()
    steps = [
        s.model_copy(update={"at_um": 150.0}) if s.step == "sacrificial_layer" and s.layer == "second" else s
        for s in flow.steps
    ]
    assert "cavity" in _rules(run(flow.model_copy(update={"steps": steps})))


def test_flanges_that_would_merge_break_the_overhang_rule():
    flow = _with_step(tiny_flow(), "plate", flange_overhang_um=400.0)
    result = run(flow)
    merges = [v for v in result.violations if v.rule == "flange_overhang" and "merge" in v.message]
    assert merges
    assert merges[0].step == 10


def test_drilling_uncured_compound_is_refused():
    flow = tiny_flow()
    steps = [s for s in flow.steps if s.step != "cure"]
    result = run(flow.model_copy(update={"steps": steps}))
    assert "cured_before_drilling" in _rules(result)


def test_a_pad_over_the_opening_is_not_on_the_base():
    flow = tiny_flow()
    pads = [*flow.steps[2].pads, PadSite(name="P5", at_um=(200.0, 200.0), diameter_um=PAD_D)]
    result = run(_with_step(flow, "pad_array", pads=pads))
    hits = [v for v in result.violations if v.rule == "pad_on_base"]
    assert [v.parts for v in hits] == [("P5",)]


def test_a_stitch_off_its_pad_is_refused():
    flow = tiny_flow()
    bonds = [Bond(contact="die1.C1", pad="P1", stitch_um=(-200.0, 0.0))]
    result = run(_with_step(flow, "wire_bond", bonds=bonds))
    assert "stitch_on_pad" in _rules(result)
    assert result.records[4].observations["unbonded_contacts"] == ["die1.C1", "die1.C2"]


# --- flows as YAML -------------------------------------------------------------------------------------------


def test_a_flow_round_trips_through_yaml():
    flow = tiny_flow()
    assert loads_flow(dump_flow(flow)) == flow


def test_a_bad_flow_names_the_field_the_value_and_the_rule():
    text = dump_flow(tiny_flow()).replace("thickness_um: 100.0", "thickness_um: -100.0")
    with pytest.raises(SpecError) as err:
        loads_flow(text, "flow.yaml")
    problem = err.value.problems[0]
    assert problem.path == "steps[3].thickness_um"
    assert "-100.0" in problem.message
    assert "greater than 0" in problem.message
    assert problem.line is not None
    text = dump_flow(tiny_flow()).replace("step: cure", "step: bake")
    with pytest.raises(SpecError, match="'bake' is not one of"):
        loads_flow(text)


def test_a_second_layer_needs_its_height():
    with pytest.raises(ValueError, match="needs at_um"):
        SacrificialLayer(layer="second", thickness_um=10.0)


# --- the flow generated from a design ----------------------------------------------------------------------------


def test_the_generated_flow_follows_the_claim():
    design = moldstack.load(EXAMPLES / "claim21_plated_via.yaml")
    flow = flow_for(design)
    assert [s.step for s in flow.steps] == [
        "sacrificial_layer",
        "dielectric_base",
        "pad_array",
        "die_attach",
        "wire_bond",
        "sacrificial_layer",
        "encapsulate",
        "cure",
        "drill",
        "plate",
        "remove_sacrificial",
    ]
    assert len(flow.steps[2].pads) == 60
    assert len(flow.steps[4].bonds) == 60
    assert flow.steps[5].at_um == 500.0
    assert flow.assembly == "pkg"


def test_a_design_the_method_cannot_make_is_refused_with_reasons():
    design = moldstack.load(EXAMPLES / "claim1_posts.yaml")
    with pytest.raises(MethodNotApplicableError) as err:
        flow_for(design)
    paths = [p.path for p in err.value.problems]
    assert "assemblies[0].body.base" in paths
    assert any(
        p.endswith("unit.shape") and "plated_via" in m
        for p, m in ((q.path, q.message) for q in err.value.problems)
    )


# --- any order of steps runs to the end and says what is wrong -------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(11)), st.integers(min_value=1, max_value=11))
def test_any_order_or_subset_of_steps_runs_and_reports_instead_of_crashing(order, keep):
    base = tiny_flow(grid=GridSettings(fine_um=25.0, coarse_um=100.0, z_cell_um=25.0))
    steps = [base.steps[i] for i in order[:keep]]
    result = run(base.model_copy(update={"steps": steps}))
    assert len(result.records) == keep
    in_order = [s.step for s in steps] == [s.step for s in base.steps[:keep]]
    if not in_order:
        assert result.violations or _method_fails(result)


def _method_fails(result: ProcessRun) -> bool:
    from moldstack.checks.method_claims import method_chart  # noqa: PLC0415

    return not method_chart(result)[21].holds


def test_a_grid_over_the_cell_cap_is_refused_with_the_count():
    flow = tiny_flow(grid=GridSettings(fine_um=1.0, coarse_um=2.0, z_cell_um=1.0, max_cells=1_000_000))
    with pytest.raises(GridTooLargeError, match=r"cells, more than the limit of 1,000,000"):
        run(flow)
