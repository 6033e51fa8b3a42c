"""Nets as pins and branches (moldstack.analysis.nets)."""

from __future__ import annotations

import math

import pytest

import moldstack
from moldstack.analysis.nets import extract_nets
from moldstack.materials import LIBRARY


def _model(name: str) -> moldstack.Model:
    return moldstack.build(moldstack.load(f"examples/{name}.yaml"))


def test_wire_bonded_pad_protrusion_net() -> None:
    """A wire from the contact to the pad of a pad-with-protrusion unit (claim 3): a contact pin, the pad's
    bottom and the protrusion's top as pins; the wire ends on the pad (the hub at the pad's top), so the
    lower branch is the pad alone and the upper the protrusion. The wire's formula resistance is
    ``rho L / (pi r^2)`` of its full length."""
    model = _model("claim3_pad_protrusion")
    net = extract_nets(model, ["VDD"])[0]
    kinds = sorted(p.kind for p in net.pins)
    assert kinds == ["bottom", "contact", "top"]
    source, sink = net.terminals
    assert [p.kind for p in source] == ["contact"] and [p.kind for p in sink] == ["bottom"]
    wire = next(b for b in net.branches if "wire_bond" in b.name)
    solid = next(s for s in model.solids if s.id in wire.solids and s.shape.kind == "wire")
    r = solid.shape.radius * 1e-6
    ball = next(s for s in model.solids if s.id in wire.solids and s.shape.kind == "tube")
    ball_r = LIBRARY["gold"].resistivity_ohm_m * ball.shape.height * 1e-6 / (ball.shape.area * 1e-12)
    exact = LIBRARY["gold"].resistivity_ohm_m * solid.shape.length * 1e-6 / (math.pi * r * r)
    assert wire.r_ohm == pytest.approx(exact + ball_r, rel=1e-9)
    lower = next(b for b in net.branches if b.name.endswith(":lower"))
    assert sum(s.length for s in lower.segments) == pytest.approx(50.0)  # the pad's thickness
    assert lower.b == sink[0].name


def test_stacked_net_runs_through_joints_to_the_substrate() -> None:
    """Package on package on a substrate: the shared net VDD has both dies' contacts as pins, the top
    package's exposed top end, and the substrate land as its bottom pin; the joints are branches from the
    upper unit's bottom to the lower unit's top (or the land)."""
    model = _model("pop_on_substrate")
    net = extract_nets(model, ["VDD"])[0]
    contacts = net.pins_of("contact")
    assert {p.name for p in contacts} == {"logic/die1.C1", "memory/die1.C1"}
    assert [p.name for p in net.pins_of("bottom")] == ["substrate/land:U1"]
    assert [p.name for p in net.pins_of("top")] == ["memory/U1.top"]
    joints = [b for b in net.branches if b.name.startswith("joint:")]
    assert {(b.a, b.b) for b in joints} == {
        ("logic/U1.bottom", "substrate/land:U1"),
        ("memory/U1.bottom", "logic/U1.top"),
    }


def test_die_to_die_net_and_unknown_net() -> None:
    """A wire from the second die's terminal to the first die's contact (claims 14-18) is a net of two
    contacts, measured from one to the other; an unknown net name is refused naming it."""
    model = _model("claim14_stacked_die")
    net = extract_nets(model, ["CLK"])[0]
    source, sink = net.terminals
    assert len(source) == 1 and len(sink) == 1
    assert {source[0].name, sink[0].name} == {"pkg/die2.C3", "pkg/die1.C8"}
    with pytest.raises(ValueError, match="'NOPE' is not in"):
        extract_nets(model, ["NOPE"])


def test_trace_over_via_counts_only_its_own_length() -> None:
    """A via interconnect (via up from the contact, a trace on the top surface to the unit): the trace's
    formula length leaves out what lies over the via and over the post's top, where they conduct in
    parallel with it."""
    model = _model("claim1_posts")
    net = extract_nets(model, ["VDD"])[0]
    element = next(b for b in net.branches if "via:" in b.name)
    trace = next(s for s in model.solids if s.id in element.solids and s.shape.kind == "trace")
    via = next(s for s in model.solids if s.id in element.solids and s.shape.kind == "tube")
    rho = LIBRARY["copper"].resistivity_ohm_m
    full = rho * trace.shape.length * 1e-6 / (trace.shape.width * trace.shape.height * 1e-12)
    via_r = rho * via.shape.height * 1e-6 / (via.shape.area * 1e-12)
    assert element.r_ohm < full + via_r
    post = next(s for s in model.solids if s.net == "VDD" and s.role == "conductive_unit.post")
    covered = via.shape.r + post.shape.r
    expected = rho * (trace.shape.length - covered) * 1e-6 / (trace.shape.width * trace.shape.height * 1e-12)
    assert element.r_ohm == pytest.approx(expected + via_r, rel=0.01)


@pytest.mark.parametrize(
    "example", ["claim1_posts", "claim21_plated_via", "pop_on_substrate", "claim10_hollow_fill"]
)
def test_every_net_measurable_and_branches_chain(example: str) -> None:
    """Every net of the examples has two terminals, and its branches form a connected tree joining them."""
    model = _model(example)
    for net in extract_nets(model):
        assert net.measurable, net.name
        nodes = {net.terminals[0][0].name}
        grown = True
        while grown:
            grown = False
            for b in net.branches:
                if (b.a in nodes) != (b.b in nodes):
                    nodes |= {b.a, b.b}
                    grown = True
        assert all(p.name in nodes for p in net.terminals[1]), net.name
