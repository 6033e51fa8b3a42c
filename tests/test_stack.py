"""Stack compatibility (claims 5-6) and the molten-joint shape it rests on."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import yaml

import moldstack
from moldstack.analysis.solder_joint import bulge_diameter, equilibrium_height, joint_shape, zone_volume
from moldstack.analysis.warpage import AssemblyWarpage
from moldstack.checks.stack import StackSettings, stack_compatibility
from tests.conftest import example_data

POP = "pop_on_substrate.yaml"
PROFILE = np.r_[np.arange(25.0, 261.0, 5.0), np.arange(255.0, 24.0, -5.0)]


SIZES_UM = {"logic": 12000.0, "memory": 12000.0, "substrate": 14000.0}  # the bundled stack's bodies, centred


def _Warp(name: str, temperatures_c: np.ndarray, curvature_1_m: np.ndarray) -> AssemblyWarpage:
    """A warpage with a given curvature over the profile for one of the bundled stack's packages (or substrate)."""
    side = SIZES_UM[name]
    return AssemblyWarpage(
        name=name,
        kind="substrate" if name == "substrate" else "package",
        centre_um=(0.0, 0.0),
        size_um=(side, side),
        z_mid_um=0.0,
        layers=(),
        temperatures_c=temperatures_c,
        curvature_1_m=np.asarray(curvature_1_m, dtype=float),
        midplane_strain=np.zeros_like(temperatures_c),
        left_out_mm3={},
    )


@dataclass(frozen=True)
class _Warpage:
    """A stand-in for a warpage result: the stack check reads only its assemblies."""

    assemblies: tuple[AssemblyWarpage, ...]


def _flat(*names: str) -> _Warpage:
    return _Warpage(tuple(_Warp(n, PROFILE, np.zeros_like(PROFILE)) for n in names))


def _model(mutate: Any = None) -> moldstack.Model:
    data = copy.deepcopy(example_data(POP))
    if mutate is not None:
        mutate(data)
    return moldstack.build(moldstack.loads(yaml.safe_dump(data, sort_keys=False)))


@pytest.fixture(scope="module")
def pop() -> moldstack.Model:
    return _model()


# --- the truncated-sphere joint ----------------------------------------------------------------------------


def test_equilibrium_height_holds_the_volume() -> None:
    """The unloaded height returns the volume it was solved from (spherical zone, CRC tables), to 1e-9."""
    for a, b, v in [(75.0, 169.0, 9.8e6), (100.0, 100.0, 3.0e6), (50.0, 150.0, 2.0e7)]:
        h = equilibrium_height(v, a, b)
        assert zone_volume(a, b, h) == pytest.approx(v, rel=1e-9)


def test_a_free_ball_is_a_sphere() -> None:
    """With no wetted ends the zone is the whole sphere: height = diameter = (6 V / pi)^(1/3), exactly."""
    v = math.pi * 250.0**3 / 6
    shape = joint_shape(v, 0.0, 0.0)
    assert shape.equilibrium_height_um == pytest.approx(250.0, rel=1e-9)
    assert shape.equilibrium_diameter_um == pytest.approx(250.0, rel=1e-9)


def test_bulge_at_equilibrium_is_the_truncated_sphere() -> None:
    """The circular-arc barrel at the unloaded height is the truncated sphere itself (to 1e-4, quadrature)."""
    v = math.pi * 125.0**2 * 200.0
    for a, b in [(100.0, 100.0), (75.0, 90.0)]:
        shape = joint_shape(v, a, b)
        assert bulge_diameter(v, a, b, shape.equilibrium_height_um) == pytest.approx(
            shape.equilibrium_diameter_um, rel=1e-4
        )


def test_a_squeezed_joint_bulges_and_a_stretched_one_does_not() -> None:
    v = math.pi * 125.0**2 * 200.0
    h = equilibrium_height(v, 100.0, 100.0)
    widths = [bulge_diameter(v, 100.0, 100.0, h * f) for f in (0.6, 0.8, 1.0)]
    assert widths[0] > widths[1] > widths[2]
    assert bulge_diameter(v, 100.0, 100.0, 3 * h) == pytest.approx(200.0)  # waisted: no wider than the ends


# --- the verdict -------------------------------------------------------------------------------------------


def test_the_bundled_stack_is_compatible(pop: moldstack.Model) -> None:
    result = stack_compatibility(pop, _flat("logic", "memory", "substrate"))
    assert result.verdict == "compatible", result.reasons
    upper = result.interfaces[1]
    assert (upper.lower, upper.upper, upper.matched, upper.pitch_um) == ("logic", "memory", 80, 400.0)
    # 250 um x 200 um SAC between a 150 um protrusion and a 300 um square pad settles to ~150 um
    assert upper.equilibrium_height_um == pytest.approx(149.7, abs=0.5)
    assert result.height_after_reflow_um < result.height_um
    assert result.to_dict()["interfaces"][1]["joint"]["open_margin_um"] == pytest.approx(50.3, abs=0.5)


def test_one_package_is_not_stacked() -> None:
    model = moldstack.build(moldstack.load("examples/claim1_posts.yaml"))
    result = stack_compatibility(model)
    assert result.verdict == "not stacked"
    assert result.passed


def test_a_map_shifted_by_half_a_pitch_is_rejected() -> None:
    """The memory level placed 200 um (half the 400 um pitch) off: every unit misses; the reason says so."""
    model = _model(lambda d: d["stack"]["levels"][1].update(offset_um=[200, 0]))
    result = stack_compatibility(model, _flat("logic", "memory", "substrate"))
    assert result.verdict == "incompatible"
    (finding,) = [f for f in result.findings if f.severity == "fail"]
    assert finding.rule == "interface_position"
    assert "0 of 80 units of 'memory' align" in finding.message
    assert "(200, 0) um off" in finding.message
    assert "0.50 of the 400 um pitch" in finding.message


def test_a_map_with_other_unit_counts_is_rejected() -> None:
    def fewer(d: dict[str, Any]) -> None:
        d["assemblies"][1]["units"][0].update(count_per_edge=19)
        d["assemblies"][1]["dies"][0]["contacts"].update(count_per_edge=19)

    model = _model(fewer)
    result = stack_compatibility(model, _flat("logic", "memory", "substrate"))
    rules = {f.rule for f in result.findings if f.severity == "fail"}
    assert "interface_count" in rules
    assert any("76 units on its bottom face" in r and "80 on its top face" in r for r in result.reasons)


def test_declared_nets_must_agree_through_the_joints() -> None:
    """The memory die names the VDD contact VSS and the VSS one VDD: the joints short VDD to VSS."""
    model = _model(lambda d: d["assemblies"][1].update(nets={"die1.C1": "VSS", "die1.C21": "VDD"}))
    result = stack_compatibility(model, _flat("logic", "memory", "substrate"))
    (finding,) = [f for f in result.findings if f.rule == "interface_nets"]
    assert "2 joint(s)" in finding.message
    assert "(VSS) on logic/U1 (VDD)" in finding.message


def test_joints_with_too_much_solder_bridge() -> None:
    """390 um x 500 um solder columns at 400 um pitch ball up, molten, to about 490 um: wider than the pitch."""
    model = _model(lambda d: d["stack"]["joint"].update(diameter_um=390, height_um=500))
    result = stack_compatibility(model, _flat("logic", "memory", "substrate"))
    assert "joint_bridge" in {f.rule for f in result.findings if f.severity == "fail"}


def _mismatch_warpage(kappa_hot: float) -> _Warpage:
    """Memory bends by ``kappa_hot`` 1/m at 240 C and above only; everything else stays flat.

    The joints lie on a square ring 4.2 mm from the centre, 0.2-3.8 mm along it, so r^2 spans 17.7-32.1 mm^2: the
    outermost and innermost joints' gaps differ by ``kappa x 7.2 mm^2``, 108 um at 15 1/m, against a collapse
    margin of about 50 um.
    """
    hot = np.where(PROFILE >= 240.0, kappa_hot, 0.0)
    return _Warpage(
        (
            _Warp("logic", PROFILE, np.zeros_like(PROFILE)),
            _Warp("memory", PROFILE, hot),
            _Warp("substrate", PROFILE, np.zeros_like(PROFILE)),
        )
    )


def test_a_large_mismatch_is_flagged_at_the_temperatures_it_occurs(pop: moldstack.Model) -> None:
    """Memory warps concave (kappa = -15 1/m) from 240 C: the corner joints open beyond the collapse margin.

    The expected opening is computed here from the joint positions: dg = -kappa r^2 / 2, less its mean.
    """
    result = stack_compatibility(pop, _mismatch_warpage(-15.0))
    iface = result.interfaces[1]
    memory = pop.assemblies[1]
    r2 = np.array([u.x**2 + u.y**2 for u in memory.units]) * 1e-12  # m^2, centred on (0, 0)
    dg = 1e6 * 15.0 * r2 / 2  # um; concave upper: the gap opens at the corners
    expected_open = (dg - dg.mean()).max()
    assert iface.max_open_um[PROFILE.tolist().index(260.0)] == pytest.approx(expected_open, rel=1e-9)
    assert expected_open > iface.open_margin_um  # the case is built to open
    opens = [f for f in result.findings if f.rule == "non_wet_open"]
    assert len(opens) == 1
    assert opens[0].temperatures_c == tuple(float(t) for t in PROFILE if t >= 240.0)
    assert result.verdict == "incompatible"


def test_the_same_mismatch_while_the_solder_is_solid_is_not_an_open(pop: moldstack.Model) -> None:
    """Below the SAC305 liquidus (220 C) the joints are solid: a mismatch then is no wetting risk."""
    cool = np.where((PROFILE >= 150.0) & (PROFILE <= 200.0), -15.0, 0.0)
    warp = _Warpage(
        (
            _Warp("logic", PROFILE, np.zeros_like(PROFILE)),
            _Warp("memory", PROFILE, cool),
            _Warp("substrate", PROFILE, np.zeros_like(PROFILE)),
        )
    )
    result = stack_compatibility(pop, warp)
    assert not [f for f in result.findings if f.rule in ("non_wet_open", "warpage_bridge")]


def test_a_convex_upper_package_squeezes_its_corner_joints_into_bridges(pop: moldstack.Model) -> None:
    result = stack_compatibility(pop, _mismatch_warpage(+20.0))
    rules = {f.rule for f in result.findings if f.severity == "fail"}
    assert "warpage_bridge" in rules
    iface = result.interfaces[1]
    assert iface.widest_joint_um[-1] == pytest.approx(iface.equilibrium_diameter_um)  # flat again at 25 C


def test_mismatch_against_the_jeita_style_limit(pop: moldstack.Model) -> None:
    """A 0.4 mm pitch allows 170 x 400 / 800 = 85 um; a tighter limit given as a setting fires."""
    result = stack_compatibility(pop, _mismatch_warpage(-0.5))
    iface = result.interfaces[1]
    assert iface.jeita_limit_um == pytest.approx(85.0)
    assert iface.mismatch_um.max() == pytest.approx(
        0.5 * (3.8**2 - 0.2**2) / 2
    )  # um: 1/m x mm^2, units 0.2-3.8 mm along
    assert not [f for f in result.findings if f.rule == "warpage_mismatch"]
    tight = stack_compatibility(pop, _mismatch_warpage(-0.5), StackSettings(jeita_limit_um=3.0))
    (finding,) = [f for f in tight.findings if f.rule == "warpage_mismatch"]
    assert finding.temperatures_c == tuple(float(t) for t in PROFILE if t >= 240.0)


def test_stack_height_limit(pop: moldstack.Model) -> None:
    result = stack_compatibility(
        pop, _flat("logic", "memory", "substrate"), StackSettings(max_stack_height_um=1000)
    )
    (finding,) = [f for f in result.findings if f.rule == "stack_height"]
    assert finding.value == pytest.approx(result.height_after_reflow_um)
    assert result.height_um == pytest.approx(1865.0)  # 415 substrate + 150 + 600 + 200 + 500 as placed


def test_a_real_warpage_mismatch_is_flagged_at_peak_reflow() -> None:
    """The memory package molded in a compound with a 150 ppm/K rubbery CTE warps far more than logic above Tg.

    The mismatch is recomputed here from each package's mid-surface displacement at the joints
    (``AssemblyWarpage.displacement_um``, laminate theory); the check must flag exactly the profile temperatures
    where it exceeds the limit given (60 um), the hottest part of reflow, worst at the 260 C peak.
    """
    from moldstack.analysis.warpage import warpage  # noqa: PLC0415

    def hot_mold(d: dict[str, Any]) -> None:
        d["materials"] = {
            "emc_hot": {
                "k_w_mk": 0.9,
                "cte_ppm_k": 10,
                "cte_above_tg_ppm_k": 150,
                "tg_c": 125,
                "youngs_gpa": 24,
                "youngs_above_tg_gpa": 20,
                "poisson": 0.3,
                "density_kg_m3": 2000,
                "eps_r": 3.8,
                "source": "test: a mold compound with an extreme rubbery CTE",
            }
        }
        d["assemblies"][1]["body"]["material"] = "emc_hot"

    model = _model(hot_mold)
    warp = warpage(model)
    result = stack_compatibility(model, warp, StackSettings(jeita_limit_um=60.0))
    memory, logic = warp.assembly("memory"), warp.assembly("logic")
    xs = np.array([u.x for u in model.assemblies[1].units])
    ys = np.array([u.y for u in model.assemblies[1].units])
    temperatures = np.asarray(memory.temperatures_c)
    dg = np.array(
        [memory.displacement_um(xs, ys, t) - logic.displacement_um(xs, ys, t) for t in temperatures]
    )
    mismatch = dg.max(axis=1) - dg.min(axis=1)
    expected = tuple(float(t) for t, m in zip(temperatures, mismatch, strict=True) if m > 60.0)
    assert expected and min(expected) > 200.0  # the case: only the hot end of reflow
    (finding,) = [f for f in result.findings if f.rule == "warpage_mismatch"]
    assert finding.temperatures_c == expected
    assert "at 260 C" in finding.message
    assert result.verdict == "incompatible"
