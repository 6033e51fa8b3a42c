"""DC resistance by the field solver on a net's conductors (moldstack.analysis.resistance)."""

from __future__ import annotations

import math

import pytest

import moldstack
from moldstack.analysis.nets import Pin, extract_nets
from moldstack.analysis.resistance import ResistanceSettings, net_resistance, terminal_resistance
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Trace, Tube
from moldstack.materials import LIBRARY

RHO_CU = LIBRARY["copper"].resistivity_ohm_m
RHO_SAC = LIBRARY["sac305"].resistivity_ohm_m


def _post(ri: float = 0.0, *, r: float = 75.0, h: float = 300.0, cx: float = 10.0, cy: float = -7.0) -> Solid:
    return Solid(
        "post",
        "p",
        "conductive_unit.post",
        "copper",
        Tube(z0=0, z1=h, cx=cx, cy=cy, r=r, r_inner=ri),
        net="A",
    )


def _ends(solids: tuple[Solid, ...], h: float) -> tuple[list[Pin], list[Pin]]:
    ids = tuple(s.id for s in solids)
    return [Pin("top", "top", ids, "high", h)], [Pin("bottom", "bottom", ids, "low", 0.0)]


@pytest.mark.parametrize("ri", [0.0, 50.0, 20.0])
def test_cylinder_matches_rho_l_over_area(ri: float) -> None:
    """Solid and hollow copper cylinders, r 75 um, h 300 um, end faces as terminals:
    ``R = rho l / (pi (ro^2 - ri^2))`` (physics.md, Electrical) within 0.5 %."""
    post = _post(ri)
    top, bottom = _ends((post,), 300.0)
    r = terminal_resistance(Model("t", (post,), ()), [post], top, bottom)
    exact = RHO_CU * 300e-6 / (math.pi * ((75e-6) ** 2 - (ri * 1e-6) ** 2))
    assert r.r_ohm == pytest.approx(exact, rel=5e-3)
    assert r.balance < 1e-6


def test_reference_post_matches_physics_value() -> None:
    """The reference Cu post of physics.md (r 75 um, h 300 um): R = 0.2927 mOhm within 0.5 %."""
    post = _post(cx=0.0, cy=0.0)
    top, bottom = _ends((post,), 300.0)
    r = terminal_resistance(Model("t", (post,), ()), [post], top, bottom)
    assert r.r_ohm * 1e3 == pytest.approx(0.2927, rel=5e-3)


def test_filled_hollow_conducts_in_parallel() -> None:
    """A copper tube (75/50 um) filled with SAC305: the two in parallel,
    ``1/R = pi (ro^2 - ri^2) / (rho_cu l) + pi ri^2 / (rho_sac l)``, within 0.5 %."""
    tube = _post(50.0, cx=0.0, cy=0.0)
    fill = Solid(
        "fill", "p", "conductive_unit.fill", "sac305", Tube(z0=0, z1=300, cx=0, cy=0, r=50.0), net="A"
    )
    top, bottom = _ends((tube, fill), 300.0)
    r = terminal_resistance(Model("t", (tube, fill), ()), [tube, fill], top, bottom)
    g = math.pi * ((75e-6) ** 2 - (50e-6) ** 2) / (RHO_CU * 300e-6) + math.pi * (50e-6) ** 2 / (
        RHO_SAC * 300e-6
    )
    assert r.r_ohm == pytest.approx(1 / g, rel=5e-3)


@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0])
def test_trace_at_any_angle(angle: float) -> None:
    """A 1.5 mm x 40 um x 10 um copper trace between two 60 um pads, along x and oblique: the oblique one is
    a link of the trace outside the pads (exact ``rho l / (w t)``), the straight one resolved on the grid.
    All within 5 % of ``rho (L - pad) / (w t)`` and within 2.5 % of each other (the spreading into the
    pads, and where the oblique centre line leaves a pad, differ)."""
    a = math.radians(angle)
    length, w, t = 1500.0, 40.0, 10.0
    xb, yb = length * math.cos(a), length * math.sin(a)
    solids = (
        Solid(
            "tr",
            "p",
            "conductive_element.rdl",
            "copper",
            Trace(z0=0, z1=t, xa=0, ya=0, xb=xb, yb=yb, width=w),
            net="A",
        ),
        Solid("p1", "p", "die.contact", "copper", Box.centred(0, 0, 60, 60, -5, 0), net="A"),
        Solid("p2", "p", "die.contact", "copper", Box.centred(xb, yb, 60, 60, -5, 0), net="A"),
    )
    r = terminal_resistance(
        Model("t", solids, ()),
        solids,
        [Pin("a", "bottom", ("p1",), "low", -5.0)],
        [Pin("b", "bottom", ("p2",), "low", -5.0)],
    )
    outside = RHO_CU * (length - 60.0) * 1e-6 / (w * t * 1e-12)
    assert r.r_ohm == pytest.approx(outside, rel=0.05)
    straight = RHO_CU * length * 1e-6 / (w * t * 1e-12)
    assert 0.94 < r.r_ohm / straight < 0.99


def test_open_net_and_shared_terminals_are_refused() -> None:
    post = _post()
    other = Solid("o", "p", "conductive_unit.post", "copper", Tube(z0=0, z1=300, cx=500, cy=0, r=50), net="A")
    model = Model("t", (post, other), ())
    with pytest.raises(ValueError, match=r"open|no conductor"):
        terminal_resistance(
            model,
            [post, other],
            [Pin("a", "top", ("post",), "high", 300.0)],
            [Pin("b", "bottom", ("o",), "low", 0.0)],
        )
    with pytest.raises(ValueError, match="both sides"):
        terminal_resistance(model, [post], [], [Pin("b", "bottom", ("post",), "low", 0.0)])


@pytest.mark.parametrize(
    "example", ["claim3_pad_protrusion", "claim21_plated_via", "claim10_hollow_fill", "claim1_posts"]
)
def test_example_nets_agree_with_their_formula(example: str) -> None:
    """Each example's first nets: the field solve within 8 % of the branch formula (``rho l / A`` along the
    path), the difference being the spreading the formula leaves out (a wire's stitch on a pad, a trace over
    a via); the current balance closes."""
    model = moldstack.build(moldstack.load(f"examples/{example}.yaml"))
    for net in extract_nets(model)[:3]:
        r = net_resistance(model, net)
        formula = sum(
            b.r_ohm for b in net.branches if b.name.endswith(":lower") or b.a == net.terminals[0][0].name
        )
        assert r.r_ohm == pytest.approx(formula, rel=0.08), net.name
        assert r.balance < 1e-5


def test_finer_grid_changes_little() -> None:
    """Grid convergence on the plated-via example's first net: halving the cells changes R by under 1 %."""
    model = moldstack.build(moldstack.load("examples/claim21_plated_via.yaml"))
    net = extract_nets(model)[0]
    coarse = net_resistance(model, net, ResistanceSettings(fraction=0.5))
    fine = net_resistance(model, net)
    assert fine.cells > coarse.cells
    assert fine.r_ohm == pytest.approx(coarse.r_ohm, rel=0.01)
