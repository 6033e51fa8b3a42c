"""The model builder: geometry that follows the spec, volumes that add up, deterministic output."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import shapely

import moldstack
from moldstack.geometry.bondloop import bond_loop
from moldstack.geometry.model import Model
from moldstack.geometry.primitives import Box, Trace, Tube, Wire
from moldstack.geometry.volumes import disc_rect_area, intersection_volume
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def models() -> dict[str, Model]:
    return {p.name: moldstack.build(p) for p in sorted(EXAMPLES.glob("*.yaml"))}


def test_build_is_deterministic():
    a = moldstack.build(EXAMPLES / "claim14_stacked_die.yaml").to_dict()
    b = moldstack.build(EXAMPLES / "claim14_stacked_die.yaml").to_dict()
    assert a == b


@pytest.mark.parametrize(
    ("cx", "cy", "r", "rect"),
    [
        (0, 0, 1, (-2, -2, 2, 2)),
        (0, 0, 1, (0, 0, 2, 2)),
        (0.3, -0.2, 1, (-0.5, -1.5, 2, 0.1)),
        (5, 5, 2, (0, 0, 5.5, 6)),
        (0, 0, 1, (3, 3, 4, 4)),
    ],
)
def test_disc_rectangle_area_matches_a_fine_polygon(cx, cy, r, rect):
    """Exact closed-form area against shapely's 4096-gon (relative error of the polygon ~ 4e-7)."""
    disc = shapely.Point(cx, cy).buffer(r, quad_segs=1024)
    expected = disc.intersection(shapely.box(*rect)).area
    assert disc_rect_area(cx, cy, r, *rect) == pytest.approx(expected, rel=1e-5, abs=1e-9)


def test_intersection_volume_of_primitives():
    box = Box(z0=0, z1=10, x0=0, y0=0, x1=10, y1=10)
    assert intersection_volume(Box(z0=5, z1=15, x0=5, y0=5, x1=15, y1=15), box) == pytest.approx(125)
    tube = Tube(z0=-5, z1=5, cx=5, cy=5, r=2, r_inner=1)
    assert intersection_volume(tube, box) == pytest.approx(math.pi * 3 * 5)
    trace = Trace(z0=9, z1=11, xa=5, ya=5, xb=15, yb=5, width=2)
    assert intersection_volume(trace, box) == pytest.approx(5 * 2 * 1)
    wire = Wire(path=((5, 5, 1), (5, 5, 9)), diameter=1)
    assert intersection_volume(wire, box) == pytest.approx(wire.volume)


def _monte_carlo_mold_fraction(model: Model, n: int, seed: int = 1) -> tuple[float, float]:
    """Fraction of the body box that no inclusion or higher-rank matrix occupies, by random points."""
    asm = model.assemblies[0]
    body = model.solid(asm.body_solid).shape
    rng = np.random.default_rng(seed)
    lo, hi = np.array(body.bbox[:3]), np.array(body.bbox[3:])
    pts = lo + rng.random((n, 3)) * (hi - lo)
    taken = np.zeros(n, dtype=bool)
    for s in model.solids:
        if s.id == asm.body_solid:
            continue
        b = s.shape.bbox
        near = np.all((pts >= np.array(b[:3])) & (pts <= np.array(b[3:])), axis=1)
        if near.any():
            idx = np.flatnonzero(near)
            taken[idx[s.shape.signed_distance(pts[idx]) <= 0]] = True
    frac = 1 - taken.mean()
    return frac, math.sqrt(frac * (1 - frac) / n)


@pytest.mark.parametrize("name", ["claim14_stacked_die.yaml", "claim21_plated_via.yaml"])
def test_mold_net_volume_agrees_with_monte_carlo(models, name):
    """The carved mold volume equals the free fraction of its box, to 4 standard errors of 200k samples."""
    model = models[name]
    asm = model.assemblies[0]
    body = model.solid(asm.body_solid)
    frac, sigma = _monte_carlo_mold_fraction(model, 200_000)
    net = model.net_volumes[body.id] / body.shape.volume
    assert abs(net - frac) < 4 * sigma + 1e-4


def test_posts_have_the_closed_form_volume(models):
    model = models["claim1_posts.yaml"]
    posts = model.by_role("conductive_unit.post")
    assert len(posts) == 80
    expected = 80 * math.pi * 125**2 * 500
    assert sum(model.net_volumes[s.id] for s in posts) == pytest.approx(expected, rel=1e-12)


def test_volumes_per_material_add_up_to_the_parts(models):
    model = models["pop_on_substrate.yaml"]
    by_material = model.volumes_by("material")
    assert sum(by_material.values()) == pytest.approx(sum(model.net_volumes.values()))
    assert by_material["emc"] > 0 and by_material["sac305"] > 0


def test_protrusion_sits_at_the_far_side_of_its_pad(models):
    model = models["claim3_pad_protrusion.yaml"]
    asm = model.assemblies[0]
    die = asm.dies[0]
    die_box = shapely.box(die.x0, die.y0, die.x1, die.y1)
    for unit in asm.units:
        pad, prot = (model.solid(s).shape for s in unit.solids)
        pad_c = pad.section().centroid
        prot_c = prot.section().centroid
        assert die_box.distance(prot_c) > die_box.distance(pad_c) + 1
        # flush with the far edge of the pad: 150 - 75 = 75 um out along the outward normal
        assert (prot_c.x - pad_c.x, prot_c.y - pad_c.y) == pytest.approx(
            (75 * unit.outward[0], 75 * unit.outward[1]), abs=1e-9
        )


def test_wire_tops_sit_at_the_loop_height(models):
    model = models["claim3_pad_protrusion.yaml"]
    asm = model.assemblies[0]
    die = asm.dies[0]
    wires = [s for s in model.by_role("conductive_element.wire_bond") if s.shape.kind == "wire"]
    assert len(wires) == 80
    tops = np.array([w.shape.bbox[5] for w in wires])
    contact_top = die.contacts[0].z_top
    assert tops == pytest.approx(contact_top + 150, abs=0.01)


def test_bond_loop_shape():
    path = np.array(bond_loop((0, 0, 300), (900, 0, 60), crown_z=430))
    first = path[1] - path[0]
    assert abs(first[0]) < 0.2 * first[2]  # the neck leaves the ball nearly vertically
    assert path[:, 2].max() == pytest.approx(430, abs=0.01)
    assert np.all(np.diff(path[:, 0]) >= -1e-9)  # never doubles back in plan
    assert tuple(path[-1]) == pytest.approx((900, 0, 60))
    peak = int(np.argmax(path[:, 2]))
    assert path[peak, 0] < 0.4 * 900  # the crown is over the first part of the span, then a long descent


def test_bond_loop_refuses_a_crown_below_the_ends():
    with pytest.raises(ValueError, match="not above both wire ends"):
        bond_loop((0, 0, 300), (900, 0, 60), crown_z=250)


def test_stack_heights_follow_the_joints(models):
    model = models["pop_on_substrate.yaml"]
    logic, memory = model.assemblies
    assert logic.z_bottom == 0
    # memory pads (bottom ends at its body bottom) sit one joint height above logic's protrusion tops
    assert memory.z_bottom == pytest.approx(logic.z_top + 200)
    joints = model.by_role("joint")
    heights = sorted({round(s.shape.z1 - s.shape.z0, 6) for s in joints})
    assert heights == [150, 200]
    assert len(joints) == 160
    sub = model.solid("substrate/laminate").shape
    assert sub.z1 == pytest.approx(-150 - 15)


def test_exposed_back_is_flush_with_the_bottom(models):
    model = models["claim8_exposed_back.yaml"]
    die = model.assemblies[0].dies[0]
    assert die.z_back == 0
    attach = model.solid(die.attach_solid).shape
    assert (attach.z0, attach.z1) == (-50, 0)


def test_plated_via_structure(models):
    model = models["claim21_plated_via.yaml"]
    unit = model.assemblies[0].units[0]
    shapes = {s.split("/")[-1]: model.solid(s).shape for s in unit.solids}
    via = shapes["column"]
    assert (via.r, via.r_inner) == (75, 50)  # 150 um aperture, 25 um conformal plating
    assert (via.z0, via.z1) == (-22, 522)  # through both sacrificial layers (12) and flanges (10)
    assert shapes["flange.top"].r == 100 and shapes["remnant.top"].r == 100
    assert (shapes["remnant.bottom"].z0, shapes["remnant.bottom"].z1) == (-12, 0)
    pad = shapes["pad"]
    assert (pad.z0, pad.z1, pad.r_inner) == (25, 40, 75)


def test_hollow_fill_fills_the_hollow(models):
    model = models["claim10_hollow_fill.yaml"]
    unit = model.assemblies[0].units[0]
    col, fill = (model.solid(s).shape for s in unit.solids)
    assert col.r_inner == fill.r == 60
    assert (fill.z0, fill.z1) == (col.z0, col.z1)


def test_default_nets_are_qualified_per_level(models):
    model = models["pop_on_substrate.yaml"]
    nets = {s.net for s in model.solids if s.net}
    assert "logic/die1.C2" in nets and "memory/die1.C2" in nets
    assert "VDD" in nets


def test_model_summary_is_json_ready(models):
    data = models["claim14_stacked_die.yaml"].to_dict()
    text = json.dumps(data)
    assert '"second_die.terminal"' in text
    assert data["solid_count"] == len(data["solids"])
    assert data["volume_per_material_mm3"]["silicon"] == pytest.approx((8 * 8 * 0.15) + (4 * 4 * 0.1))


EXPLICIT = """
moldstack: 1
name: explicit
assemblies:
  - name: pkg
    body: {size_um: [6000, 6000], thickness_um: 500}
    dies:
      - name: die1
        size_um: [2000, 2000]
        thickness_um: 150
        standoff_um: 50
        contacts:
          pads:
            - {name: A, at_um: [-800, 0]}
            - {name: B, at_um: [800, 0], size_um: [90, 90]}
    units:
      - layout: list
        at_um: [[-2000, 0], [2000, 0], [0, 2200]]
        names: [W, E, N]
        unit: {shape: pad_protrusion, pad: {size_um: 300, shape: round}, protrusion_diameter_um: 120}
    interconnects:
      - kind: wire_bond
        map: {A: W, B: E}
    nets: {die1.A: SIG}
"""


def test_explicit_contacts_units_and_map():
    model = moldstack.build(moldstack.loads(EXPLICIT))
    asm = model.assemblies[0]
    assert [u.name for u in asm.units] == ["W", "E", "N"]
    assert [u.edge for u in asm.units] == ["west", "east", "north"]
    links = {(c.source, c.target) for c in asm.connections}
    assert links == {("die1.A", "W"), ("die1.B", "E")}
    nets = {u.name: u.net for u in asm.units}
    assert nets == {"W": "SIG", "E": "pkg/die1.B", "N": None}
    b = next(c for c in asm.dies[0].contacts if c.name == "die1.B")
    assert b.size == (90, 90)
    wires = [s for s in model.solids if s.shape.kind == "wire"]
    assert len(wires) == 2
    # crossed wires in one vertical plane (A at -800 to the east unit, B at +800 to the west one) collide
    with pytest.raises(moldstack.SpecError, match=re.escape("wire bond pkg/wire_bond:die1.A and wire bond")):
        moldstack.loads(EXPLICIT.replace("map: {A: W, B: E}", "map: {A: E, B: W}"))


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_no_two_solids_intersect_even_without_exemptions(models, name):
    """Wires stitch onto their pads, traces end at their unit's surface: everything only touches."""
    from moldstack.geometry.interference import interferences  # noqa: PLC0415

    assert interferences(models[name].solids) == []


def test_empty_hollow_centres_are_air_not_mold(models):
    model = models["claim21_plated_via.yaml"]
    voids = model.by_role("conductive_unit.hollow")
    assert len(voids) == 60 and {v.material for v in voids} == {"air"}
    bore = voids[0].shape
    assert bore.r == 50 and (bore.z0, bore.z1) == (-22, 522)
    assert model.volumes_by("material")["air"] == pytest.approx(60 * math.pi * 50**2 * 544)


def test_traces_end_at_their_units_surface(models):
    model = models["claim10_hollow_fill.yaml"]
    asm = model.assemblies[0]
    for conn in asm.connections:
        trace = model.by_part(conn.part)[-1].shape
        unit = asm.unit(conn.target)
        assert math.hypot(trace.xb - unit.x, trace.yb - unit.y) == pytest.approx(150)  # the post's radius
