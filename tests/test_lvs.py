"""LVS (moldstack.checks.lvs): the examples are clean, and opens, shorts and unconnected contacts seeded into
built models are found and named."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from functools import cache
from typing import Any

import pytest
import yaml

import moldstack
from moldstack.checks.lvs import LvsResult, lvs
from moldstack.checks.netlists import intended_nets
from moldstack.geometry.model import ConnectionInfo, Model, Solid
from moldstack.geometry.primitives import Box
from tests.conftest import EXAMPLES, example_data

EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


@cache
def built(name: str) -> Model:
    return moldstack.build(moldstack.load(EXAMPLES / f"{name}.yaml"))


def built_from(name: str, nets: dict[str, str]) -> Model:
    """An example with extra entries in its first assembly's ``nets:`` map (spec validation still applies)."""
    data: dict[str, Any] = copy.deepcopy(example_data(f"{name}.yaml"))
    data["assemblies"][0]["nets"] = {**data["assemblies"][0].get("nets", {}), **nets}
    return moldstack.build(moldstack.loads(yaml.safe_dump(data, sort_keys=False)))


def without(model: Model, *solid_ids: str) -> Model:
    missing = set(solid_ids) - {s.id for s in model.solids}
    assert not missing, missing
    return dataclasses.replace(model, solids=tuple(s for s in model.solids if s.id not in solid_ids))


def with_solids(model: Model, *extra: Solid) -> Model:
    return dataclasses.replace(model, solids=(*model.solids, *extra))


def connection(model: Model, source: str, assembly: int = 0) -> ConnectionInfo:
    return next(c for c in model.assemblies[assembly].connections if c.source == source)


def problems(result: LvsResult) -> tuple[int, int, int]:
    c = result.counts
    return c["opens"], c["shorts"], c["unconnected"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_is_correct(name: str) -> None:
    result = lvs(built(name))
    assert result.status == "CORRECT", result.to_text()
    assert result.passed
    assert problems(result) == (0, 0, 0)
    assert result.counts["matched"] == result.counts["intended_nets"] > 0
    json.dumps(result.to_dict())


def test_nine_examples_are_checked() -> None:
    assert len(EXAMPLE_NAMES) == 9


def test_pieces_and_pins_of_a_single_package() -> None:
    result = lvs(built("claim3_pad_protrusion"))
    c = result.counts
    # 80 contacts each wired to its own unit: 80 pieces, each with a contact and both unit ends exposed.
    assert (c["intended_nets"], c["pieces"], c["pins"], c["exterior_pins"]) == (80, 80, 240, 160)
    vdd = next(p for p in result.pieces if "pkg/die1.C1" in p.contacts)
    assert {pin.kind for pin in vdd.pins} == {"contact", "top", "bottom"}
    assert "VDD" in result.matched and "pkg/die1.C2" in result.matched


def test_open_names_the_net_the_contact_and_the_unit() -> None:
    model = built("claim3_pad_protrusion")
    wire = connection(model, "die1.C2")
    broken = without(model, f"{wire.part}/wire")  # the ball stays on the contact
    result = lvs(broken)
    assert result.status == "INCORRECT"
    assert problems(result) == (1, 0, 0)
    (open_,) = result.opens
    assert open_.net == "pkg/die1.C2" and open_.fails
    by_member = {m: p for p in open_.pieces for m in p.members}
    assert set(by_member) == {"pkg/die1.C2", f"pkg/{wire.target}"}
    contact_piece, unit_piece = by_member["pkg/die1.C2"], by_member[f"pkg/{wire.target}"]
    assert contact_piece.piece != unit_piece.piece
    assert not contact_piece.exterior and unit_piece.exterior
    assert f"{wire.part}" in contact_piece.parts
    assert "no exterior pin" in open_.reason and "broken" in open_.reason
    text = result.to_text()
    assert "OPENS" in text and "pkg/die1.C2" in text and f"pkg/{wire.target}.bottom" in text
    assert "pkg/die1.C2" not in result.matched


def test_unconnected_contact_when_its_wire_bond_is_gone() -> None:
    model = built("claim3_pad_protrusion")
    wire = connection(model, "die1.C7")
    result = lvs(without(model, f"{wire.part}/ball", f"{wire.part}/wire"))
    assert problems(result) == (1, 0, 1)
    (u,) = result.unconnected
    assert (u.contact, u.net, u.no_connect, u.touching) == ("pkg/die1.C7", "pkg/die1.C7", False, ())
    contact = next(c for c in model.assemblies[0].dies[0].contacts if c.name == "die1.C7")
    assert math.isclose(u.location_um[0], contact.x) and math.isclose(u.location_um[1], contact.y)
    assert "pkg/die1.C7 (net pkg/die1.C7) touches no conductor" in result.to_text()


def test_a_via_and_trace_removed_from_a_plated_via_design() -> None:
    model = built("claim21_plated_via")
    conn = model.assemblies[0].connections[0]
    ids = [s.id for s in model.by_part(conn.part)]
    result = lvs(without(model, *ids))
    assert result.counts["unconnected"] == 1
    assert result.unconnected[0].contact == f"pkg/{conn.source}"


def solder_bridge(model: Model, unit_a: str, unit_b: str, assembly: int = 0) -> Solid:
    """A thin solder box from one unit's centre to the other's, at the bottom of their pads."""
    asm = model.assemblies[assembly]
    a, b = asm.unit(unit_a), asm.unit(unit_b)
    pad_bottom = min(model.solid(s).shape.bbox[2] for s in a.solids)
    half = 40.0
    box = Box(
        z0=pad_bottom,
        z1=pad_bottom + 20.0,
        x0=min(a.x, b.x) - half,
        y0=min(a.y, b.y) - half,
        x1=max(a.x, b.x) + half,
        y1=max(a.y, b.y) + half,
    )
    return Solid("defect/bridge", "defect", "defect.bridge", "sac305", box)


def nearest_unit(model: Model, unit: str) -> str:
    asm = model.assemblies[0]
    u = asm.unit(unit)
    return min((v for v in asm.units if v.name != unit), key=lambda v: math.hypot(v.x - u.x, v.y - u.y)).name


def test_solder_bridge_is_a_short_naming_both_nets_and_where() -> None:
    model = built("claim3_pad_protrusion")
    vdd_unit = connection(model, "die1.C1").target
    other = nearest_unit(model, vdd_unit)
    other_net = model.assemblies[0].unit(other).net
    assert other_net not in (None, "VDD")
    bridge = solder_bridge(model, vdd_unit, other)
    result = lvs(with_solids(model, bridge))
    assert result.status == "INCORRECT"
    assert problems(result) == (0, 1, 0)
    (short,) = result.shorts
    assert short.nets == ("VDD", other_net)
    (meeting,) = short.meetings
    assert set(meeting.nets) == {"VDD", other_net}
    assert "defect/bridge" in meeting.path
    assert meeting.path[0].startswith(("pkg/U", "pkg/die1")) and meeting.path[-1].startswith("pkg/")
    bx = bridge.shape.bbox
    assert meeting.location_um == pytest.approx(
        ((bx[0] + bx[3]) / 2, (bx[1] + bx[4]) / 2, (bx[2] + bx[5]) / 2)
    )
    assert {"VDD", other_net}.isdisjoint(result.matched)
    assert "SHORTS" in result.to_text() and "defect/bridge" in result.to_text()
    assert any(line.startswith("short:") and "VDD" in line for line in result.problem_lines())


def test_short_between_two_automatic_nets_touching_directly() -> None:
    model = built("claim3_pad_protrusion")
    a = model.assemblies[0].unit("U5")
    b = model.assemblies[0].unit(nearest_unit(model, "U5"))
    pad_b = next(model.solid(s) for s in b.solids if s.endswith("/pad"))
    # Stretch unit b's pad over unit a's: the two nets meet with nothing in between.
    z0, z1 = pad_b.shape.bbox[2], pad_b.shape.bbox[5]
    stretched = Box(
        z0=z0,
        z1=z1,
        x0=min(a.x, b.x) - 150,
        y0=min(a.y, b.y) - 150,
        x1=max(a.x, b.x) + 150,
        y1=max(a.y, b.y) + 150,
    )
    shifted = dataclasses.replace(pad_b, shape=stretched)
    solids = tuple(shifted if s.id == pad_b.id else s for s in model.solids)
    result = lvs(dataclasses.replace(model, solids=solids))
    (short,) = result.shorts
    assert set(short.nets) == {a.net, b.net}
    (meeting,) = short.meetings
    assert len(meeting.path) == 2 and pad_b.id in meeting.path


def test_no_connect_contacts() -> None:
    model = built_from("claim3_pad_protrusion", {"die1.C5": "NC"})
    intent = intended_nets(model)
    assert intent.no_connect == ("pkg/die1.C5",)
    result = lvs(model)
    assert result.passed, result.to_text()
    assert result.counts["no_connect"] == 1 and result.counts["intended_nets"] == 79
    assert result.counts["floating"] == 1  # the unit the NC contact no longer takes
    contact = next(c for c in model.assemblies[0].dies[0].contacts if c.name == "die1.C5")
    probe = Solid(
        "defect/probe",
        "defect",
        "defect.probe",
        "copper",
        Box.centred(contact.x, contact.y, 30, 30, contact.z_top, contact.z_top + 10),
    )
    touched = lvs(with_solids(model, probe))
    assert touched.status == "INCORRECT"
    (u,) = touched.unconnected
    assert u.no_connect and u.contact == "pkg/die1.C5" and u.touching == ("defect/probe",)
    assert "(no-connect) touches defect/probe" in touched.to_text()


def test_pop_reports_cross_assembly_aliases() -> None:
    result = lvs(built("pop_on_substrate"))
    assert result.passed
    c = result.counts
    assert (c["intended_nets"], c["aliases"], c["lands"], c["floating"]) == (80, 78, 80, 2)
    alias = next(a for a in result.aliases if "logic/die1.C2" in a.names)
    assert alias.names == ("logic/die1.C2", "memory/die1.C2")
    assert alias.net == "logic/die1.C2"
    assert len(alias.through) == 1 and alias.through[0].startswith("joint:memory/")
    assert not any("VDD" in a.names for a in result.aliases)  # one declared name on both levels
    assert all(f.parts == ("substrate",) for f in result.floating)  # the copper planes
    text = result.to_text()
    assert "logic/die1.C2 = memory/die1.C2" in text and "ALIASES" in text
    # Exterior pins: the lands below and the upper package's unit tops; the joined ends are inside.
    exterior = {pin.name for p in result.pieces for pin in p.pins if pin.exterior}
    assert len(exterior) == 160
    assert all(n.startswith(("substrate/land:", "memory/")) and not n.endswith(".bottom") for n in exterior)


def test_missing_stack_joint_is_an_open_even_with_exterior_pins_on_both_sides() -> None:
    model = built("pop_on_substrate")
    joint = next(j for j in model.joints if j.lower.startswith("logic/") and j.upper.endswith("/U2"))
    result = lvs(without(model, joint.solid))
    assert problems(result) == (1, 0, 0)
    (open_,) = result.opens
    assert set(open_.names) == {"logic/die1.C2", "memory/die1.C2"}
    assert open_.fails and "broken" in open_.reason
    assert all(p.exterior for p in open_.pieces)


def test_declared_net_on_two_units_is_joined_outside_not_an_error() -> None:
    model = built_from("claim3_pad_protrusion", {"die1.C2": "VDD"})
    result = lvs(model)
    assert result.status == "CORRECT", result.to_text()
    assert result.counts["joined_outside"] == 1 and result.counts["opens"] == 0
    (vdd,) = result.opens
    assert vdd.net == "VDD" and vdd.declared and not vdd.fails
    assert sorted(m for p in vdd.pieces for m in p.members if "die1" in m) == ["pkg/die1.C1", "pkg/die1.C2"]
    assert len(vdd.pieces) == 2 and all(p.exterior for p in vdd.pieces)
    assert any("VDD" in w and "joined outside the package" in w for w in result.warnings)
    assert "VDD" in result.matched


def test_declared_net_cut_inside_the_package_still_fails() -> None:
    model = built_from("claim3_pad_protrusion", {"die1.C2": "VDD"})
    wire = connection(model, "die1.C2")
    result = lvs(without(model, f"{wire.part}/wire"))
    (vdd,) = result.opens
    assert vdd.fails and "pkg/die1.C2 but no exterior pin" in vdd.reason
    assert result.status == "INCORRECT"


def test_joint_between_two_declared_nets_is_a_short_at_the_joint() -> None:
    data = example_data("pop_on_substrate.yaml")
    data["assemblies"][1]["nets"] = {"die1.C1": "VIO", "die1.C21": "VSS"}
    model = moldstack.build(moldstack.loads(yaml.safe_dump(data, sort_keys=False)))
    intent = intended_nets(model)
    assert [(a, b) for _, a, b in intent.conflicts] == [("VIO", "VDD")]
    result = lvs(model)
    (short,) = result.shorts
    assert set(short.nets) == {"VDD", "VIO"}
    (meeting,) = short.meetings
    assert any(s.startswith("joint:memory/") for s in meeting.path)
    assert any("joins declared nets VIO and VDD" in w for w in result.warnings)


def test_die_to_die_net_has_no_exterior_pin_and_matches() -> None:
    model = built("claim14_stacked_die")
    result = lvs(model)
    clk = intended_nets(model).net("CLK")
    assert set(clk.members) == {"pkg/die2.C3", "pkg/die1.C8"}
    piece = next(p for p in result.pieces if "pkg/die2.C3" in p.contacts)
    assert set(piece.contacts) == {"pkg/die2.C3", "pkg/die1.C8"} and not piece.exterior
    assert "CLK" in result.matched
    assert result.counts["floating"] == 8  # spare units


def test_extraction_ignores_net_labels() -> None:
    model = built("claim1_posts")
    relabelled = dataclasses.replace(
        model, solids=tuple(dataclasses.replace(s, net="WRONG") for s in model.solids)
    )
    assert lvs(relabelled).to_dict()["counts"] == lvs(model).to_dict()["counts"]
