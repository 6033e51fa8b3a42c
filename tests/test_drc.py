"""The design-rule check: every rule fires on a design built to break it, and is silent on the bundled examples.

Each broken design is an example's spec changed so that it still validates (it builds, nothing intersects) but
breaks one rule; the violation must carry the rule, a value beyond the limit, and where it is.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely
import yaml
from scipy.spatial import cKDTree

import moldstack
from moldstack.checks.drc import drc
from moldstack.checks.rule_deck import load_deck
from moldstack.exporters.drc_overlay import write_drc_overlay
from moldstack.spec.errors import SpecError
from tests.conftest import EXAMPLES, example_data

Mutation = Callable[[dict[str, Any]], None]


def _asm(d: dict[str, Any]) -> dict[str, Any]:
    return d["assemblies"][0]


def _model(example: str, mutate: Mutation | None = None) -> moldstack.Model:
    data = copy.deepcopy(example_data(example))
    if mutate is not None:
        mutate(data)
    return moldstack.build(moldstack.loads(yaml.safe_dump(data, sort_keys=False)))


def _thin_contacts_close_wires(d: dict[str, Any]) -> None:
    """Contacts 55 um apart with 15 um wires: neighbouring loops fan out only a few um apart."""
    _asm(d)["dies"][0]["contacts"].update(pitch_um=55, size_um=[45, 45])
    _asm(d)["interconnects"][0].update(diameter_um=15)


def _wires_between_fat_posts(d: dict[str, Any]) -> None:
    """An inner ring of 330 um posts, half a pitch off an outer ring the wires go to: each wire threads a gap."""
    a = _asm(d)
    inner = {
        "layout": "rows",
        "pitch_um": 400,
        "offset_um": 450,
        "count_per_edge": 15,
        "unit": {"shape": "post", "diameter_um": 330},
    }
    a["units"][0].update(offset_um=900, count_per_edge=16)
    a["units"].insert(0, inner)
    a["interconnects"][0]["unit_patterns"] = [1]
    a["dies"][0]["contacts"].update(count_per_edge=16, pitch_um=400)


def _long_wires(d: dict[str, Any]) -> None:
    """A 1 mm die in a ring of units 3.7 mm from its edges: the corner wires run over 5 mm."""
    a = _asm(d)
    a["dies"][0].update(size_um=[1000, 1000])
    a["dies"][0]["contacts"].update(pitch_um=40, size_um=[30, 30], inset_um=50)
    a["interconnects"][0].update(max_length_um=8000, diameter_um=15)
    a["units"][0].update(offset_um=3700)


BROKEN: dict[str, tuple[str, Mutation]] = {
    "unit_pitch": ("claim1_posts.yaml", lambda d: _asm(d)["units"][0].update(pitch_um=280)),
    "unit_spacing": ("claim1_posts.yaml", lambda d: _asm(d)["units"][0]["unit"].update(diameter_um=340)),
    "unit_die_clearance": (
        "claim3_pad_protrusion.yaml",
        lambda d: (
            _asm(d)["units"][0].update(offset_um=320, count_per_edge=18),
            _asm(d)["dies"][0]["contacts"].update(count_per_edge=18),
        ),
    ),
    "unit_edge_clearance": ("claim1_posts.yaml", lambda d: _asm(d)["body"].update(size_um=[8800, 8800])),
    "aperture_aspect_ratio": (
        "claim21_plated_via.yaml",
        lambda d: _asm(d)["units"][0]["unit"].update(diameter_um=110),
    ),
    "via_aspect_ratio": ("claim1_posts.yaml", lambda d: _asm(d)["interconnects"][0].update(diameter_um=25)),
    "pad_protrusion_ratio": (
        "claim3_pad_protrusion.yaml",
        lambda d: _asm(d)["units"][0]["unit"].update(protrusion_diameter_um=220),
    ),
    "mold_cover": (
        "claim3_pad_protrusion.yaml",
        lambda d: (
            _asm(d)["interconnects"][0].update(loop_height_um=240),
            _asm(d)["body"].update(wire_cover_um=20),
        ),
    ),
    "wire_clearance": ("claim3_pad_protrusion.yaml", _thin_contacts_close_wires),
    "wire_unit_clearance": ("claim3_pad_protrusion.yaml", _wires_between_fat_posts),
    "wire_length": ("claim3_pad_protrusion.yaml", _long_wires),
    "wire_bond_angle": (
        "claim3_pad_protrusion.yaml",
        lambda d: _asm(d)["dies"][0]["contacts"].update(pitch_um=150),
    ),
    "joint_land_ratio": ("pop_on_substrate.yaml", lambda d: d["stack"]["joint"].update(diameter_um=280)),
    "joint_pitch_ratio": ("pop_on_substrate.yaml", lambda d: d["stack"]["joint"].update(diameter_um=320)),
}


def test_every_rule_of_the_deck_has_a_broken_design() -> None:
    assert set(BROKEN) == set(load_deck().rules)


@pytest.mark.parametrize("rule_id", sorted(BROKEN))
def test_each_rule_fires_on_a_design_built_to_break_it(rule_id: str) -> None:
    example, mutate = BROKEN[rule_id]
    model = _model(example, mutate)
    result = drc(model)
    found = result.by_rule(rule_id)
    assert found, f"{rule_id} did not fire; got {sorted({v.rule for v in result.violations})}"
    rule = load_deck().rule(rule_id)
    for v in found:
        assert (v.value < v.limit) if rule.kind == "min" else (v.value > v.limit)
        assert v.limit == rule.limit
        assert v.message.startswith(f"{rule_id}: ")
        assert v.parts
        x, y, _ = v.location
        lo_x, lo_y, _, hi_x, hi_y, _ = model.bbox
        assert lo_x <= x <= hi_x and lo_y <= y <= hi_y
    assert result.rules[rule_id].violations == len(found)
    assert not result.passed


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_the_examples_are_clean(example: str) -> None:
    result = drc(moldstack.build(EXAMPLES / example))
    assert result.passed, [v.message for v in result.violations]
    assert result.to_dict()["violation_count"] == 0


def test_measured_values_are_the_geometry() -> None:
    """Posts of 340 um at 400 um pitch leave 60 um (KLayout on the GDS; the shapely distance of the same discs)."""
    model = _model("claim1_posts.yaml", BROKEN["unit_spacing"][1])
    found = drc(model).by_rule("unit_spacing")
    a, b = (model.assemblies[0].unit(p.split("/")[-1]) for p in found[0].parts)
    discs = [shapely.Point(u.x, u.y).buffer(170, quad_segs=256) for u in (a, b)]
    assert found[0].value == pytest.approx(discs[0].distance(discs[1]), abs=0.1)
    assert found[0].value == pytest.approx(60.0, abs=0.1)
    pitch = drc(_model("claim1_posts.yaml", BROKEN["unit_pitch"][1])).by_rule("unit_pitch")
    assert pitch and all(v.value == pytest.approx(280.0) for v in pitch)
    ratio = drc(_model("claim21_plated_via.yaml", BROKEN["aperture_aspect_ratio"][1])).by_rule(
        "aperture_aspect_ratio"
    )
    assert ratio[0].value == pytest.approx(500 / 110, rel=1e-6)  # through the 500 um body, 110 um drilled


def test_overrides_tighten_loosen_and_disable() -> None:
    model = moldstack.build(EXAMPLES / "claim3_pad_protrusion.yaml")
    tight = load_deck().with_overrides({"rules": {"pad_protrusion_ratio": {"limit": 2.5}}})
    assert {v.rule for v in drc(model, tight).violations} == {"pad_protrusion_ratio"}
    broken = _model(*BROKEN["wire_bond_angle"])
    off = load_deck().with_overrides({"rules": {"wire_bond_angle": {"enabled": False}}})
    result = drc(broken, off)
    assert not result.by_rule("wire_bond_angle")
    assert result.rules["wire_bond_angle"].enabled is False
    loose = load_deck().with_overrides({"rules": {"wire_bond_angle": {"limit": 89}}})
    assert not drc(broken, loose).by_rule("wire_bond_angle")


def test_a_deck_file_overrides_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text("rules:\n  unit_pitch: {limit: 450, source: our substrate vendor}\n")
    deck = load_deck(path)
    assert deck.rule("unit_pitch").limit == 450
    assert deck.rule("unit_pitch").source == "our substrate vendor"
    assert deck.rule("unit_spacing").limit == load_deck().rule("unit_spacing").limit
    found = drc(moldstack.build(EXAMPLES / "claim1_posts.yaml"), deck).by_rule("unit_pitch")
    assert found and all(math.isclose(v.value, 400.0) for v in found)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"rules": {"unit_spaceing": {"limit": 50}}}, ["rules.unit_spaceing", "did you mean 'unit_spacing'"]),
        ({"rules": {"unit_spacing": {"limit": "wide"}}}, ["rules.unit_spacing.limit", "'wide'"]),
        ({"rules": {"unit_spacing": {"limit": -5}}}, ["rules.unit_spacing.limit", "-5"]),
        ({"rules": {"unit_spacing": {"limt": 50}}}, ["rules.unit_spacing.limt"]),
    ],
)
def test_a_bad_override_names_the_field_the_value_and_the_rule(
    overrides: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(SpecError) as caught:
        load_deck().with_overrides(overrides)
    text = str(caught.value)
    for word in words:
        assert word in text, text


def test_the_overlay_marks_every_violation(tmp_path: Path) -> None:
    model = _model(*BROKEN["unit_spacing"])
    result = drc(model)
    path = write_drc_overlay(model, result, tmp_path / "drc.svg")
    text = path.read_text()
    assert text.lstrip().startswith("<?xml")
    assert f"{len(result.violations)} violations" in text
    assert "unit_spacing: pkg/U1 and pkg/U2 are 60" in text
    png = write_drc_overlay(model, result, tmp_path / "drc.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        write_drc_overlay(model, result, tmp_path / "drc.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drc.png", "drc.svg"]


def test_klayout_spacing_agrees_with_shapely_on_every_pair() -> None:
    """Every pair of unit footprints closer than the limit, by shapely on the exact discs and squares of the model,
    is the pair KLayout reports on the GDS, at the same distance (to the GDS's chord tolerance)."""
    model = _model("pop_on_substrate.yaml", lambda d: _asm(d)["units"][0]["unit"]["pad"].update(size_um=340))
    limit = load_deck().rule("unit_spacing").limit
    expected: dict[tuple[str, ...], float] = {}
    for a in model.assemblies:
        prints = [shapely.union_all([model.solid(s).shape.section(256) for s in u.solids]) for u in a.units]
        for i, j in itertools.combinations(range(len(prints)), 2):
            gap = prints[i].distance(prints[j])
            if gap < limit:
                expected[(a.units[i].part, a.units[j].part)] = gap
    found = {v.parts: v.value for v in drc(model).by_rule("unit_spacing")}
    assert len(expected) == 76  # 80 neighbours round the logic package's ring less the 4 corner pairs
    assert found.keys() == expected.keys()
    for pair, gap in expected.items():
        assert found[pair] == pytest.approx(gap, abs=0.1), pair


def test_violations_sit_where_the_geometry_breaks_the_rule() -> None:
    model = _model(*BROKEN["unit_spacing"])
    v = drc(model).by_rule("unit_spacing")[0]
    a, b = (model.assemblies[0].unit(p.split("/")[-1]) for p in v.parts)
    assert v.location[:2] == pytest.approx(((a.x + b.x) / 2, (a.y + b.y) / 2), abs=0.1)
    model = _model(*BROKEN["mold_cover"])
    v = drc(model).by_rule("mold_cover")[0]
    top = model.assemblies[0].z_top
    assert v.location[2] == pytest.approx(top - v.value)
    wire = model.solid(f"{v.parts[0]}/wire").shape
    assert v.location[2] == pytest.approx(wire.bbox[5])
    model = _model(*BROKEN["wire_bond_angle"])
    for v in drc(model).by_rule("wire_bond_angle"):
        ball = model.solid(f"{v.parts[0]}/wire").shape.path[0]
        assert v.location == pytest.approx(ball)


def test_wire_clearance_is_the_brute_force_least_distance() -> None:
    """The least gap the rule reports equals the least over all wire pairs of densely sampled centre lines."""
    model = _model(*BROKEN["wire_clearance"])
    found = drc(model).by_rule("wire_clearance")
    wires = [s for s in model.by_role("conductive_element.wire_bond") if s.shape.kind == "wire"]
    samples = [w.shape.samples(0.5) for w in wires]
    trees = [cKDTree(p) for p in samples]
    boxes = [shapely.box(*w.shape.bbox[:2], *w.shape.bbox[3:5]) for w in wires]
    radius = wires[0].shape.radius
    worst = min(
        float(trees[i].query(samples[j])[0].min()) - 2 * radius
        for i, j in itertools.combinations(range(len(wires)), 2)
        if wires[i].net != wires[j].net and boxes[i].distance(boxes[j]) < 50
    )
    assert min(v.value for v in found) == pytest.approx(worst, abs=0.05)


def test_the_result_is_json_and_says_how_each_rule_fared() -> None:
    model = _model(*BROKEN["unit_pitch"])
    off = load_deck().with_overrides({"rules": {"wire_length": {"enabled": False}}})
    result = drc(model, off)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["passed"] is False
    assert data["deck"] == "rules.yaml + overrides"
    assert data["rules"]["wire_length"] | {"source": ""} == data["rules"]["wire_length"] | {
        "enabled": False,
        "checked": 0,
        "violations": 0,
        "worst": None,
        "source": "",
    }
    assert data["rules"]["unit_spacing"]["engine"] == "klayout"
    assert data["rules"]["unit_pitch"]["worst"] == pytest.approx(280.0)
    assert data["violations"][0]["location_um"] and data["violations"][0]["unit"] == "um"
    assert result.seconds == pytest.approx(result.seconds_layout + result.seconds_model)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("rules: [1, 2]\n", ["rules", "[1, 2]"]),
        ("- a\n", ["must be a mapping"]),
        ("rules: {a: [\n", ["YAML"]),
    ],
)
def test_a_bad_deck_file_is_a_spec_error(tmp_path: Path, text: str, words: list[str]) -> None:
    path = tmp_path / "deck.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_deck(path)
    for word in words:
        assert word in str(caught.value)
