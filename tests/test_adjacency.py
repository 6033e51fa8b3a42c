"""Geometric connectivity: exact gaps between primitives, wire sampling, components, restricted paths, speed."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import shapely

import moldstack
from moldstack.geometry.adjacency import (
    connectivity,
    plan_gap,
    shapes_touch,
    touching_pairs,
)
from moldstack.geometry.broadphase import box_pairs
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Cylinder, Trace, Tube
from moldstack.materials import LIBRARY
from tests.conftest import EXAMPLES

TOL = 0.5


def _box(x0: float, x1: float, z0: float = 0.0, z1: float = 10.0, y0: float = 0.0, y1: float = 10.0) -> Box:
    return Box(z0=z0, z1=z1, x0=x0, y0=y0, x1=x1, y1=y1)


@pytest.mark.parametrize(
    ("gap", "touch"),
    [(-1.0, True), (0.0, True), (0.4, True), (0.6, False), (5.0, False)],
)
def test_boxes_side_by_side_touch_within_the_tolerance(gap, touch):
    assert shapes_touch(_box(0, 10), _box(10 + gap, 20), TOL) is touch


def test_a_diagonal_gap_is_measured_euclidean():
    """0.4 um apart in x and in y is 0.57 um apart: beyond the tolerance though each axis is within it."""
    a = _box(0, 10, y0=0, y1=10)
    b = _box(10.4, 20, y0=10.4, y1=20)
    assert math.isclose(plan_gap(a, b), math.hypot(0.4, 0.4))
    assert not shapes_touch(a, b, TOL)
    assert shapes_touch(a, _box(10.3, 20, y0=10.3, y1=20), TOL)


def test_stacked_prisms_touch_across_z():
    disc = Cylinder(5, 5, 2, 10.3, 20)
    assert shapes_touch(_box(0, 10), disc, TOL)
    assert not shapes_touch(_box(0, 10), Cylinder(5, 5, 2, 10.6, 20), TOL)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (Tube(z0=0, z1=1, cx=0, cy=0, r=10, r_inner=6), Cylinder(1.5, 0.5, 3, 0, 1)),
        (Tube(z0=0, z1=1, cx=0, cy=0, r=10, r_inner=6), Tube(z0=0, z1=1, cx=13, cy=1, r=4, r_inner=1)),
        (Tube(z0=0, z1=1, cx=0, cy=0, r=10, r_inner=6), Tube(z0=0, z1=1, cx=0.5, cy=0, r=30, r_inner=11)),
        (Tube(z0=0, z1=1, cx=0, cy=0, r=10, r_inner=6), Box(z0=0, z1=1, x0=-2, y0=-2, x1=2, y1=3)),
        (Tube(z0=0, z1=1, cx=0, cy=0, r=10, r_inner=6), Box(z0=0, z1=1, x0=-2, y0=-2, x1=8, y1=3)),
        (Tube(z0=0, z1=1, cx=0, cy=0, r=10, r_inner=6), Box(z0=0, z1=1, x0=12, y0=-2, x1=14, y1=3)),
        (Tube(z0=0, z1=1, cx=0, cy=0, r=10, r_inner=6), Trace(z0=0, z1=1, xa=-3, ya=0, xb=3, yb=1, width=1)),
        (Cylinder(0, 0, 3, 0, 1), Trace(z0=0, z1=1, xa=5, ya=-4, xb=9, yb=3, width=2)),
        (Box(z0=0, z1=1, x0=0, y0=0, x1=4, y1=4), Trace(z0=0, z1=1, xa=7, ya=-4, xb=9, yb=3, width=2)),
    ],
)
def test_closed_form_plan_gaps_match_fine_polygons(a, b):
    """Each closed form (annulus, disc, box, box in a bore) against shapely on 1024-segment circles."""
    expected = shapely.distance(a.section(1024), b.section(1024))
    assert plan_gap(a, b) == pytest.approx(expected, abs=1e-3)
    assert plan_gap(b, a) == pytest.approx(expected, abs=1e-3)


def test_a_fill_touches_its_hollow_and_a_thinner_rod_does_not():
    tube = Tube(z0=0, z1=100, cx=0, cy=0, r=150, r_inner=60)
    assert shapes_touch(tube, Cylinder(0, 0, 60, 0, 100), TOL)
    assert not shapes_touch(tube, Cylinder(0, 0, 50, 0, 100), TOL)
    assert shapes_touch(tube, Cylinder(10, 0, 50, 0, 100), TOL)


def test_broad_phase_finds_every_box_within_the_tolerance():
    """On 1200 random boxes, the R-tree broad phase finds exactly the brute-force pairs within the tolerance."""
    rng = np.random.default_rng(3)
    lo = rng.uniform(0, 200, (1200, 3))
    boxes = np.hstack([lo, lo + rng.uniform(0.1, 20, (1200, 3))])
    got = {tuple(p) for p in box_pairs(boxes, -TOL).tolist()}
    grown_lo, grown_hi = boxes[:, :3] - TOL / 2, boxes[:, 3:] + TOL / 2
    hit = np.all(grown_lo[:, None] <= grown_hi[None], axis=2) & np.all(
        grown_lo[None] <= grown_hi[:, None], axis=2
    )
    expected = {(i, j) for i, j in zip(*np.nonzero(np.triu(hit, 1)), strict=True)}
    assert got == expected
    assert len(expected) > 500


def _model(solids: list[Solid]) -> Model:
    return Model("t", tuple(solids), (), materials=LIBRARY)


def test_only_conductive_inclusions_take_part():
    solids = [
        Solid("mold", "body", "body", "emc", _box(-50, 50, 0, 20, -50, 50), matrix=True),
        Solid("a", "a", "x", "copper", _box(0, 10)),
        Solid("die", "d", "die", "silicon", _box(10, 20)),
        Solid("b", "b", "x", "copper", _box(20, 30)),
    ]
    conn = connectivity(_model(solids), TOL)
    assert conn.solids == ("a", "b")
    assert conn.pairs == ()
    assert conn.components == (("a",), ("b",))
    assert not conn.connected("a", "die")
    assert conn.component("die") == ()


def test_components_and_paths_restricted_to_roles():
    """contact - wire - pad - protrusion, and a stray pad touching the protrusion."""
    solids = [
        Solid("c", "c", "die.contact", "aluminium", _box(0, 10)),
        Solid("w", "w", "conductive_element.wire_bond", "gold", _box(10, 20)),
        Solid("p", "u", "conductive_unit.pad", "copper", _box(20, 30)),
        Solid("q", "u", "conductive_unit.protrusion", "copper", _box(30, 40)),
        Solid("alone", "x", "conductive_unit.pad", "copper", _box(60, 70)),
    ]
    conn = connectivity(_model(solids), TOL)
    assert conn.pairs == (("c", "w"), ("w", "p"), ("p", "q"))
    assert conn.components == (("c", "w", "p", "q"), ("alone",))
    assert conn.component_of["q"] == 0
    assert conn.connected("c", "q")
    assert conn.connected("c", "p", through=["conductive_element"])
    assert not conn.connected("c", "q", through=["conductive_element"])
    assert conn.connected("c", "q", through=["conductive_element", "conductive_unit"])
    assert conn.reachable("c", ["conductive_element"]) == {"c", "w", "p"}
    assert not conn.connected("c", "alone")
    data = conn.to_dict()
    assert data["components"] == [["c", "w", "p", "q"], ["alone"]]


def test_unknown_material_is_refused():
    model = _model([Solid("a", "a", "x", "unobtainium", _box(0, 1))])
    with pytest.raises(ValueError, match="unobtainium"):
        connectivity(model)


@pytest.fixture(scope="module")
def pop() -> Model:
    return moldstack.build(EXAMPLES / "pop_on_substrate.yaml")


def test_batched_pairs_equal_pair_by_pair_tests(pop):
    solids = [s for s in pop.solids if not s.matrix and pop.materials[s.material].conductor]
    boxes = np.array([s.shape.bbox for s in solids])
    one_by_one = [
        (i, j) for i, j in box_pairs(boxes, -TOL).tolist() if shapes_touch(solids[i].shape, solids[j].shape)
    ]
    assert touching_pairs(solids, TOL) == one_by_one


def test_each_stacked_net_is_one_conductor_from_contact_to_substrate(pop):
    """Every logic contact reaches a substrate land: contact, wire, pad, protrusion, joint, memory pad ..."""
    conn = connectivity(pop)
    lands = {s.id for s in pop.by_role("substrate.land")}
    logic = next(a for a in pop.assemblies if a.name == "logic")
    for contact in logic.dies[0].contacts:
        assert lands & set(conn.component(contact.solid)), contact.name
    # the two copper planes are conductors of their own; every other component holds one land
    assert len(conn.components) == len(lands) + 2
    planes = {s.id for s in pop.by_role("substrate.copper")}
    assert {c[0] for c in conn.components if len(c) == 1} == planes


def _large_stack() -> Model:
    asm = """
  - name: {name}
    body: {{size_um: [14000, 14000], thickness_um: 600}}
    dies:
      - name: die1
        size_um: [10000, 10000]
        thickness_um: 150
        standoff_um: 100
        attach: {{material: die_attach, thickness_um: 25}}
        contacts: {{count_per_edge: 36, pitch_um: 250, inset_um: 100}}
    units:
      - layout: rows
        pitch_um: 300
        offset_um: 700
        count_per_edge: 36
        unit:
          shape: pad_protrusion
          pad: {{shape: square, size_um: 250}}
          protrusion_diameter_um: 120
    interconnects:
      - {{kind: wire_bond, loop_height_um: 150, diameter_um: 20}}
"""
    text = (
        "name: large\nassemblies:"
        + asm.format(name="lower")
        + asm.format(name="upper")
        + "stack:\n  levels: [{assembly: lower}, {assembly: upper}]\n  joint: {diameter_um: 200}\n"
        + "substrate:\n  size_um: [16000, 16000]\n  land_diameter_um: 220\n  joint: {diameter_um: 220}\n"
    )
    return moldstack.build(moldstack.loads(text))


def test_about_two_thousand_solids_take_well_under_a_second():
    model = _large_stack()
    assert len(model.solids) > 1800
    best = math.inf
    for _ in range(2):
        start = time.perf_counter()
        conn = connectivity(model)
        best = min(best, time.perf_counter() - start)
    assert best < 1.0
    # 144 nets through both levels to the substrate, plus the two copper planes
    assert len(conn.components) == 144 + 2
