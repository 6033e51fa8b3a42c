"""One test per validation rule: the message names the field path, the value and the rule."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import moldstack
from tests.conftest import EXAMPLES, example_data, problems_of

PAD = "claim3_pad_protrusion.yaml"
POP = "pop_on_substrate.yaml"


def asm(d: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return d["assemblies"][i]


def assert_problem(problems: list[Any], path: str, *words: str) -> None:
    hits = [p for p in problems if p.path == path]
    assert hits, f"no problem at {path}; got: {[str(p) for p in problems]}"
    text = " ".join(p.message for p in hits)
    for w in words:
        assert w in text, f"{w!r} not in {text!r}"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_validates(name: str) -> None:
    assert problems_of(example_data(name)) == []


def test_unit_pitch_below_diameter(mutated):
    ps = mutated(PAD, lambda d: asm(d)["units"][0].update(pitch_um=250))
    assert_problem(ps, "assemblies[0].units[0].pitch_um", "250 um", "unit diameter 300 um", "overlap")


def test_units_in_a_list_overlap(mutated):
    def m(d):
        asm(d)["units"].append(
            {"layout": "list", "at_um": [[-3800, 4300]], "unit": {"shape": "post", "diameter_um": 200}}
        )

    ps = mutated(PAD, m)
    assert_problem(ps, "assemblies[0].units[1]", "units overlap each other", "U1", "U81")


def test_units_overlap_the_die(mutated):
    ps = mutated(PAD, lambda d: asm(d)["units"][0].update(offset_um=50))
    assert_problem(ps, "assemblies[0].units[0]", "overlap the die", "die1")


def test_units_outside_the_body(mutated):
    ps = mutated(PAD, lambda d: asm(d)["units"][0].update(offset_um=2600))
    assert_problem(ps, "assemblies[0].units[0]", "outside the body", "+-6000")


def test_protrusion_not_narrower_than_pad(mutated):
    ps = mutated(PAD, lambda d: asm(d)["units"][0]["unit"].update(protrusion_diameter_um=300))
    assert_problem(
        ps, "assemblies[0].units[0].unit.protrusion_diameter_um", "300 um", "not narrower", "claim 3"
    )


def test_hollow_wider_than_its_unit(mutated):
    ps = mutated(
        "claim10_hollow_fill.yaml", lambda d: asm(d)["units"][0]["unit"]["hollow"].update(diameter_um=300)
    )
    assert_problem(ps, "assemblies[0].units[0].unit.hollow.diameter_um", "300 um", "not inside the unit")


def test_blind_hollow_deeper_than_its_unit(mutated):
    def m(d):
        asm(d)["units"][0]["unit"]["hollow"].update(through=False, depth_um=900)

    ps = mutated("claim10_hollow_fill.yaml", m)
    assert_problem(ps, "assemblies[0].units[0].unit.hollow.depth_um", "900 um", "not inside the unit")


def test_blind_hollow_needs_a_depth(mutated):
    ps = mutated(
        "claim10_hollow_fill.yaml", lambda d: asm(d)["units"][0]["unit"]["hollow"].update(through=False)
    )
    assert_problem(ps, "assemblies[0].units[0].unit.hollow.depth_um", "needs depth_um")


def test_fill_without_hollow(mutated):
    ps = mutated("claim10_hollow_fill.yaml", lambda d: asm(d)["units"][0]["unit"].pop("hollow"))
    assert_problem(ps, "assemblies[0].units[0].unit.fill", "needs a hollow")


def test_mold_thinner_than_die_and_loops(mutated):
    ps = mutated(PAD, lambda d: asm(d)["body"].update(thickness_um=400))
    assert_problem(ps, "assemblies[0].body.thickness_um", "400 um", "527 um", "wire loop", "mold cover")


def test_mold_thinner_than_stacked_dies(mutated):
    ps = mutated("claim14_stacked_die.yaml", lambda d: asm(d)["body"].update(thickness_um=450))
    assert_problem(ps, "assemblies[0].body.thickness_um", "450 um", "die1", "die2")


def test_contacts_off_the_die_face(mutated):
    ps = mutated(PAD, lambda d: asm(d)["dies"][0]["contacts"].update(inset_um=20))
    assert_problem(ps, "assemblies[0].dies[0].contacts", "off the 7000 x 7000 um die face", "die1.C1")


def test_contact_with_no_unit(mutated):
    ps = mutated(PAD, lambda d: asm(d)["units"][0].update(count_per_edge=15))
    assert_problem(ps, "assemblies[0].interconnects[0]", "20 contacts have no conductive unit", "80 contacts")


def test_contact_with_no_interconnect(mutated):
    ps = mutated(PAD, lambda d: asm(d).update(interconnects=[]))
    assert_problem(ps, "assemblies[0].interconnects", "80 contacts have no conductive element", "NC")


def test_no_connect_contacts_are_allowed(mutated):
    def m(d):
        asm(d)["interconnects"] = []
        asm(d)["nets"] = {f"die1.C{i}": "NC" for i in range(1, 81)}

    assert mutated(PAD, m) == []


def test_wire_bond_to_a_post_has_no_landing(mutated):
    ps = mutated(PAD, lambda d: asm(d)["units"][0].update(unit={"shape": "post", "diameter_um": 200}))
    assert_problem(
        ps, "assemblies[0].interconnects[0]", "no free unit can take a wire_bond", "pad_protrusion"
    )


def test_unknown_material_with_suggestion(mutated):
    ps = mutated(PAD, lambda d: asm(d)["body"].update(material="emc_x"))
    assert_problem(
        ps,
        "assemblies[0].body.material",
        "'emc_x' is not a known material",
        "did you mean 'emc'",
        "materials:",
    )


def test_user_material_is_known(mutated):
    def m(d):
        d["materials"] = {
            "emc_low_cte": {
                "k_w_mk": 1.0,
                "cte_ppm_k": 7.0,
                "youngs_gpa": 28.0,
                "poisson": 0.3,
                "density_kg_m3": 2000.0,
                "source": "vendor datasheet X-123",
            }
        }
        asm(d)["body"]["material"] = "emc_low_cte"

    assert mutated(PAD, m) == []


def test_conductive_body_and_insulating_unit(mutated):
    def m(d):
        asm(d)["body"]["material"] = "copper"
        asm(d)["units"][0]["unit"]["material"] = "emc"

    ps = mutated(PAD, m)
    assert_problem(ps, "assemblies[0].body.material", "conductor", "dielectric")
    assert_problem(ps, "assemblies[0].units[0].unit.material", "not an electrical conductor")


def test_unknown_key_with_did_you_mean(mutated):
    ps = mutated(PAD, lambda d: asm(d)["units"][0]["unit"].update(protrusion_diamter_um=100))
    assert_problem(
        ps,
        "assemblies[0].units[0].unit.protrusion_diamter_um",
        "unknown key",
        "did you mean 'protrusion_diameter_um'",
    )


def test_unknown_shape_with_did_you_mean(mutated):
    ps = mutated(PAD, lambda d: asm(d)["units"][0]["unit"].update(shape="pots"))
    assert_problem(ps, "assemblies[0].units[0].unit", "'pots' is not one of", "did you mean 'post'")


def test_range_error_names_value_and_rule(mutated):
    ps = mutated(PAD, lambda d: asm(d)["body"].update(thickness_um=-5))
    assert_problem(ps, "assemblies[0].body.thickness_um", "-5", "greater than 0")


def test_die_does_not_fit(mutated):
    ps = mutated(PAD, lambda d: asm(d)["dies"][0].update(size_um=[13000, 8000]))
    assert_problem(
        ps, "assemblies[0].dies[0].size_um", "13000 x 8000 um", "does not fit in the body (12000 x 12000 um)"
    )


def test_plated_via_needs_a_base(mutated):
    ps = mutated("claim21_plated_via.yaml", lambda d: asm(d)["body"].pop("base"))
    assert_problem(ps, "assemblies[0].units[0].unit.shape", "add body.base")


def test_plating_thicker_than_the_aperture(mutated):
    ps = mutated(
        "claim21_plated_via.yaml", lambda d: asm(d)["units"][0]["unit"].update(plating_thickness_um=80)
    )
    assert_problem(
        ps, "assemblies[0].units[0].unit.plating_thickness_um", "80 um", "fills the 150 um aperture"
    )


def test_stacked_die_covering_contacts(mutated):
    ps = mutated("claim14_stacked_die.yaml", lambda d: asm(d)["dies"][1].update(size_um=[7900, 7900]))
    assert_problem(ps, "assemblies[0].dies[1].size_um", "covers", "contacts of die1")


def test_stacked_on_unknown_die(mutated):
    ps = mutated("claim14_stacked_die.yaml", lambda d: asm(d)["dies"][1].update(stacked_on="die9"))
    assert_problem(ps, "assemblies[0].dies[1].stacked_on", "'die9' is not a die")


def test_back_not_exposed_needs_standoff_or_attach(mutated):
    def m(d):
        asm(d)["dies"][0].update(standoff_um=0)
        asm(d)["dies"][0].pop("attach")

    ps = mutated(PAD, m)
    assert_problem(ps, "assemblies[0].dies[0].standoff_um", "flush with the bottom surface", "back_exposed")


def test_wire_loop_through_a_protrusion_is_an_interference(mutated):
    ps = mutated(PAD, lambda d: asm(d)["units"][0].update(rows=2, count_per_edge=None, row_pitch_um=450))
    assert_problem(ps, "assemblies[0].interconnects[0]", "intersect", "wire bond", "protrusion")


def test_loop_too_low_for_its_landing(mutated):
    ps = mutated(PAD, lambda d: asm(d)["interconnects"][0].update(loop_height_um=10))
    assert_problem(
        ps,
        "assemblies[0].interconnects[0].loop_height_um",
        "10 um",
        "must rise above its ball and its landing",
    )


def test_map_to_unknown_unit_and_contact(mutated):
    def m(d):
        asm(d)["interconnects"][0]["map"] = {"C1": "U999", "C1000": "U2"}

    ps = mutated(PAD, m)
    assert_problem(ps, "assemblies[0].interconnects[0].map.C1", "'U999' is not a unit")
    assert_problem(ps, "assemblies[0].interconnects[0].map.C1000", "not a contact of die1")


def test_net_on_unknown_contact(mutated):
    ps = mutated(PAD, lambda d: asm(d)["nets"].update({"die1.C999": "X"}))
    assert_problem(ps, "assemblies[0].nets.die1.C999", "not a die contact", "did you mean")


def test_several_assemblies_need_a_stack(mutated):
    ps = mutated(POP, lambda d: d.pop("stack"))
    assert_problem(ps, "stack", "2 assemblies need a stack")


def test_stack_level_unknown_assembly(mutated):
    ps = mutated(POP, lambda d: d["stack"]["levels"][1].update(assembly="memroy"))
    assert_problem(ps, "stack.levels[1].assembly", "'memroy' is not an assembly", "did you mean 'memory'")


def test_substrate_too_small(mutated):
    ps = mutated(POP, lambda d: d["substrate"].update(size_um=[8000, 8000]))
    assert_problem(ps, "substrate.size_um", "does not hold the lands")


def test_joints_too_wide_for_the_pitch(mutated):
    ps = mutated(POP, lambda d: d["stack"]["joint"].update(diameter_um=420))
    assert_problem(ps, "stack.joint", "intersect", "joint")


def test_all_problems_at_once(mutated):
    def m(d):
        asm(d)["body"]["material"] = "emc_x"
        asm(d)["units"][0]["unit"]["protrusion_diameter_um"] = 300
        asm(d)["dies"][0]["contacts"]["inset_um"] = 20

    ps = mutated(PAD, m)
    paths = {p.path for p in ps}
    assert {
        "assemblies[0].body.material",
        "assemblies[0].units[0].unit.protrusion_diameter_um",
        "assemblies[0].dies[0].contacts",
    } <= paths


def test_problems_carry_yaml_lines(tmp_path):
    spec = tmp_path / "s.yaml"
    text = (EXAMPLES / PAD).read_text().replace("thickness_um: 600", "thickness_um: 400")
    spec.write_text(text)
    with pytest.raises(moldstack.SpecError) as err:
        moldstack.load(spec)
    problem = next(p for p in err.value.problems if p.path == "assemblies[0].body.thickness_um")
    assert text.splitlines()[problem.line - 1].strip().startswith("thickness_um: 400")


def test_unit_patterns_restricts_automatic_assignment(mutated):
    def m(d):
        a = asm(d)
        a["units"].append(
            {
                "layout": "list",
                "at_um": [[-5500, -5500], [5500, 5500]],
                "unit": {"shape": "post", "diameter_um": 200},
            }
        )
        a["interconnects"][0]["unit_patterns"] = [1]

    ps = mutated(PAD, m)
    assert_problem(ps, "assemblies[0].interconnects[0]", "no free unit can take a wire_bond")


def test_unit_patterns_index_out_of_range(mutated):
    ps = mutated(PAD, lambda d: asm(d)["interconnects"][0].update(unit_patterns=[3]))
    assert_problem(ps, "assemblies[0].interconnects[0].unit_patterns", "[3] are not pattern indices")


SHORT = """
moldstack: 1
name: short
assemblies:
  - name: pkg
    body: {size_um: [7000, 7000], thickness_um: 500}
    dies:
      - size_um: [2000, 2000]
        thickness_um: 150
        standoff_um: 50
        contacts: {pads: [{name: A, at_um: [-800, 0]}, {name: B, at_um: [800, 0]}]}
    units:
      - layout: list
        at_um: [[-2600, 0], [-1500, 0], [2000, 0]]
        names: [P1, P2, P3]
        unit: {shape: post, diameter_um: 200}
    interconnects:
      - kind: via
        map: {A: P1, B: P3}
"""


def test_touching_conductors_of_different_nets_are_a_short():
    """A's top-surface trace to P1 runs across the exposed top of P2: a short, named with both nets."""
    ps = problems_of(yaml.safe_load(SHORT))
    assert_problem(ps, "assemblies[0].interconnects[0]", "a short", "net pkg/die1.A", "P2 (net none)")
    rerouted = yaml.safe_load(SHORT)
    rerouted["assemblies"][0]["units"][0]["at_um"][1] = [-1500, 1200]
    assert problems_of(rerouted) == []
