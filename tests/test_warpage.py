"""Warpage by laminate theory: the laminate against Timoshenko, the package stack from the model, the profile,
the sign convention, the figure and the settings' errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import moldstack
from moldstack.analysis.laminate import LaminateError, Ply, laminate_response
from moldstack.analysis.warpage import (
    PACKAGE,
    SUBSTRATE,
    WarpageInputError,
    WarpageResult,
    WarpageSettings,
    thermal_strain,
    warpage,
)
from moldstack.exporters.warpage_plot import write_warpage_plot
from moldstack.fields.closed_forms import bimetal_curvature
from moldstack.geometry.model import Model, PlacedAssembly, Solid
from moldstack.geometry.primitives import Box
from moldstack.materials import LIBRARY, Material
from moldstack.output import json_text
from moldstack.spec.design import MaterialSpec

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
UM = 1e-6


def _q(material: Material, rubbery: bool = False) -> float:
    e = material.youngs_above_tg_gpa if rubbery else material.youngs_gpa
    assert e is not None
    return e * 1e9 / (1 - material.poisson)


@pytest.fixture(scope="module")
def results() -> dict[str, WarpageResult]:
    return {
        name: warpage(moldstack.build(moldstack.load(EXAMPLES / f"{name}.yaml"))) for name in EXAMPLE_NAMES
    }


def _mold_on_silicon(si_um: float = 200.0, mold_um: float = 400.0, side_um: float = 10_000.0) -> Model:
    """A full-area silicon layer under a mold layer: a bimetal strip as a package."""
    h = side_um / 2
    top = si_um + mold_um
    solids = (
        Solid(
            "p/body/mold",
            "p/body",
            "body",
            "emc",
            Box(z0=0, z1=top, x0=-h, y0=-h, x1=h, y1=h),
            None,
            "p",
            True,
        ),
        Solid("p/die", "p/die", "die", "silicon", Box(z0=0, z1=si_um, x0=-h, y0=-h, x1=h, y1=h), None, "p"),
    )
    placed = PlacedAssembly("p", "p", -h, -h, h, h, 0.0, top, "p/body/mold", (), (), (), ())
    return Model("bimetal", solids, (placed,), materials=LIBRARY)


@pytest.mark.parametrize("m", [0.1, 0.5, 1.0, 2.0, 7.0])
@pytest.mark.parametrize("n", [0.05, 0.3, 1.0, 4.0, 20.0])
def test_two_layers_reduce_to_timoshenko(m: float, n: float) -> None:
    """CLT of two layers is Timoshenko's bimetal strip (J. Opt. Soc. Am. 11 (1925) 233), to rel 1e-12."""
    t2, q2 = 300e-6, 50e9
    t1, q1 = m * t2, n * q2
    a1, a2, dt = 3e-6, 17e-6, -150.0
    kappa = laminate_response([Ply(t1, q1, a1 * dt), Ply(t2, q2, a2 * dt)]).kappa_1_m
    assert kappa == pytest.approx(bimetal_curvature(t1, t2, q1, q2, a1, a2, dt), rel=1e-12, abs=0)


@pytest.mark.parametrize("z_bottom_m", [0.0, -1e-4, 2e-4])
def test_curvature_does_not_depend_on_the_reference_plane(z_bottom_m: float) -> None:
    """kappa is invariant to where z = 0 is put (rel 1e-9: offsets of the order of the thickness cost digits in
    A D - B^2); the strain at the mid-plane is too."""
    plies = [Ply(100e-6, 180e9, 2e-3), Ply(250e-6, 30e9, -1e-3), Ply(50e-6, 5e9, 4e-3)]
    centred = laminate_response(plies)
    moved = laminate_response(plies, z_bottom_m=z_bottom_m)
    assert moved.kappa_1_m == pytest.approx(centred.kappa_1_m, rel=1e-9)
    assert moved.midplane_strain == pytest.approx(centred.midplane_strain, rel=1e-9)


def test_homogeneous_and_symmetric_laminates_stay_flat() -> None:
    """A plate of one material in any number of layers, and a laminate symmetric about its mid-plane, do not
    bend under a uniform temperature change (B = 0 and M_T = 0 about the mid-plane)."""
    homogeneous = laminate_response([Ply(t, 70e9, 1.7e-3) for t in (100e-6, 30e-6, 270e-6)])
    assert abs(homogeneous.kappa_1_m) < 1e-12
    symmetric = laminate_response(
        [Ply(20e-6, 130e9, 2e-4), Ply(400e-6, 25e9, 1.5e-3), Ply(20e-6, 130e9, 2e-4)]
    )
    assert abs(symmetric.kappa_1_m) < 1e-12
    assert abs(symmetric.b) < 1e-12 * symmetric.a * 440e-6


def test_one_free_layer_expands_by_alpha_dt() -> None:
    """One layer, free: eps0 = alpha dT exactly, whatever its modulus and thickness (rel 1e-12)."""
    alpha, dt = 17e-6, 235.0
    r = laminate_response([Ply(500e-6, 150e9, alpha * dt)])
    assert r.midplane_strain == pytest.approx(alpha * dt, rel=1e-12)
    assert r.eps0 == pytest.approx(alpha * dt, rel=1e-12)
    assert abs(r.kappa_1_m) < 1e-12


def test_a_laminate_needs_stiffness_and_thickness() -> None:
    with pytest.raises(LaminateError, match="at least one"):
        laminate_response([])
    with pytest.raises(LaminateError, match="thickness"):
        laminate_response([Ply(0.0, 1e9, 0.0)])
    with pytest.raises(LaminateError, match="bending stiffness"):
        laminate_response([Ply(1e-4, 0.0, 0.0)])


def test_emc_thermal_strain_switches_slope_at_tg() -> None:
    """eps_th = integral of alpha: alpha1 = 10 ppm/K below Tg = 125 C, alpha2 = 36.5 above (library EMC)."""
    emc = LIBRARY["emc"]
    assert thermal_strain(emc, 125.0, 175.0) == pytest.approx(-50 * 36.5e-6, rel=1e-12)
    assert thermal_strain(emc, 25.0, 175.0) == pytest.approx(-50 * 36.5e-6 - 100 * 10e-6, rel=1e-12)
    assert thermal_strain(LIBRARY["silicon"], 260.0, 175.0) == pytest.approx(85 * 2.6e-6, rel=1e-12)


def test_mold_on_silicon_slopes_are_timoshenko_below_and_above_tg() -> None:
    """A mold layer on silicon, through the model route: d kappa / dT is Timoshenko's bimetal with the glassy
    modulus and alpha1 below Tg, the rubbery modulus and alpha2 above (rel 1e-9), so the slope changes at Tg
    and the curvature is continuous there."""
    emc, si = LIBRARY["emc"], LIBRARY["silicon"]
    a = warpage(_mold_on_silicon()).assembly("p")
    t1, t2 = 200e-6, 400e-6
    glassy = bimetal_curvature(t1, t2, _q(si), _q(emc), si.cte_ppm_k * UM, emc.cte_ppm_k * UM, 1.0)
    rubbery = bimetal_curvature(
        t1, t2, _q(si), _q(emc, rubbery=True), si.cte_ppm_k * UM, emc.cte_above_tg_ppm_k * UM, 1.0
    )
    assert (a.curvature_at(100.0) - a.curvature_at(25.0)) / 75.0 == pytest.approx(glassy, rel=1e-9)
    assert (a.curvature_at(260.0) - a.curvature_at(175.0)) / 85.0 == pytest.approx(rubbery, rel=1e-9)
    assert (a.curvature_at(150.0) - a.curvature_at(130.0)) / 20.0 == pytest.approx(rubbery, rel=1e-9)
    assert a.curvature_at(125.0) == pytest.approx(-50 * rubbery, rel=1e-9)
    assert a.curvature_at(175.0) == 0.0


def test_mold_on_silicon_cooled_from_cure_is_concave() -> None:
    """The mold shrinks more than silicon on cooling from cure: concave (negative, centre below the corners) at
    25 C, convex at 260 C; w(x, y) = -kappa r^2 / 2 gives the side and diagonal figures kappa L^2 / 8."""
    a = warpage(_mold_on_silicon()).assembly("p")
    assert a.curvature_1_m[0] < 0 and a.warpage_um[0] < 0 and a.warpage_diagonal_um[0] < 0
    k = a.peak_index
    assert a.temperatures_c[k] == 260.0 and a.curvature_1_m[k] > 0
    w = a.displacement_um(np.array([0.0, 5000.0, 5000.0]), np.array([0.0, 0.0, 5000.0]), temperature_c=25.0)
    assert w[0] == 0.0
    assert -w[1] == pytest.approx(a.warpage_um[0], rel=1e-12)
    assert -w[2] == pytest.approx(a.warpage_diagonal_um[0], rel=1e-12)
    assert w[2] > 0  # concave: the corners stand above the centre
    every = a.displacement_um(np.array([5000.0, 5000.0]), np.array([0.0, 5000.0]))
    assert every.shape == (len(a.temperatures_c), 2)


def test_profile_samples_both_legs_and_the_legs_coincide(results: dict[str, WarpageResult]) -> None:
    """25 -> 260 -> 25 C in steps of at most 5 C, Tg included; the elastic model is path-independent."""
    a = results["claim1_posts"].assemblies[0]
    t = a.temperatures_c
    k = a.peak_index
    assert t[0] == 25.0 and t[k] == 260.0 and t[-1] == 25.0
    assert np.all(np.diff(t[: k + 1]) > 0) and np.all(np.abs(np.diff(t)) <= 5.0 + 1e-9)
    assert 125.0 in t
    np.testing.assert_allclose(a.curvature_1_m[k:], a.curvature_1_m[: k + 1][::-1], rtol=0, atol=0)


def test_slab_fractions_sum_to_one_and_match_the_model_volumes(results: dict[str, WarpageResult]) -> None:
    """claim3_pad_protrusion has every solid inside its body. Each slab's fractions sum to 1 (abs 1e-9); summed
    over the slabs, each material's volume is the model's (``volumes_by('material')``): prisms exactly (rel 1e-9,
    closed-form disc/rectangle areas), bond wires (gold) within rel 2e-3 (centre line sampled at r/10 in each
    slab), the mold, which holds the wires, within rel 1e-5."""
    model = moldstack.build(moldstack.load(EXAMPLES / "claim3_pad_protrusion.yaml"))
    a = results["claim3_pad_protrusion"].assemblies[0]
    assert a.left_out_mm3 == {}
    area = a.size_um[0] * a.size_um[1]
    totals: dict[str, float] = {}
    for slab in a.layers:
        assert sum(slab.fractions.values()) == pytest.approx(1.0, abs=1e-9)
        for name, f in slab.fractions.items():
            totals[name] = totals.get(name, 0.0) + f * area * slab.thickness_um
    expected = model.volumes_by("material")
    assert set(totals) == set(expected)
    tolerance = {"gold": 2e-3, "emc": 1e-5}
    for name, volume in expected.items():
        assert totals[name] == pytest.approx(volume, rel=tolerance.get(name, 1e-9)), name
    assert sum(s.thickness_um for s in a.layers) == pytest.approx(600.0, rel=1e-12)


def test_solids_beyond_the_body_are_left_out_and_listed(results: dict[str, WarpageResult]) -> None:
    a = results["claim21_plated_via"].assemblies[0]
    assert {"conductive_unit.flange", "conductive_unit.remnant"} <= set(a.left_out_mm3)
    assert a.layers[0].z0_um == 0.0 and a.layers[-1].z1_um == 500.0


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_warps_by_a_plausible_amount(results: dict[str, WarpageResult], name: str) -> None:
    """Finite, and for each package between 1 and 250 um over its diagonal at 25 C and at 260 C: the examples
    are 10-12 mm molded packages with a die well inside the mold, for which shadow-moire measurements over
    reflow report tens of um up to about 150 um, and JEITA ED-7306 allows about 170 um at 0.8 mm pitch; an
    asymmetric stack (die at the bottom, mold above) cannot be flat away from the 175 C stress-free state. The
    BT substrate, with its copper planes placed symmetrically, stays flat (below 1e-6 um)."""
    for a in results[name].assemblies:
        assert np.all(np.isfinite(a.curvature_1_m)) and np.all(np.isfinite(a.midplane_strain))
        w25, w_peak = a.warpage_diagonal_um[0], a.warpage_diagonal_um[a.peak_index]
        if a.kind == PACKAGE:
            assert 1.0 < abs(w25) < 250.0 and 1.0 < abs(w_peak) < 250.0, (a.name, w25, w_peak)
        else:
            assert a.kind == SUBSTRATE and abs(w25) < 1e-6 and abs(w_peak) < 1e-6


def test_the_stacked_example_reports_both_packages_and_the_substrate(
    results: dict[str, WarpageResult],
) -> None:
    r = results["pop_on_substrate"]
    assert [a.name for a in r.assemblies] == ["substrate", "logic", "memory"]
    assert r.assembly("substrate").kind == SUBSTRATE
    with pytest.raises(KeyError, match="known: substrate, logic, memory"):
        r.assembly("nope")
    data = json.loads(json_text(r))
    assert data["assemblies"][1]["warpage_diagonal_um"][0] == pytest.approx(
        r.assembly("logic").warpage_diagonal_um[0]
    )
    assert data["tg_c"] == {"emc": 125.0}


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"peak_c": 25.0}, "peak_c"),
        ({"peak_c": 20.0}, "peak_c"),
        ({"step_c": 0.0}, "step_c"),
        ({"step_c": -5.0}, "step_c"),
        ({"step_c": 1e-6}, "step_c"),
        ({"start_c": math.nan}, "start_c"),
        ({"stress_free_c": math.inf}, "stress_free_c"),
        ({"start_c": -300.0}, "start_c"),
    ],
)
def test_bad_settings_name_the_setting_its_value_and_the_rule(
    changes: dict[str, float], setting: str
) -> None:
    with pytest.raises(WarpageInputError) as info:
        WarpageSettings(**changes)
    message = str(info.value)
    assert message.startswith(f"{setting}: ")
    assert "must" in message or "limit" in message


def test_a_lower_peak_and_a_finer_step_change_only_the_samples() -> None:
    model = _mold_on_silicon()
    coarse = warpage(model).assembly("p")
    fine = warpage(model, WarpageSettings(peak_c=245.0, step_c=2.5)).assembly("p")
    assert fine.temperatures_c.max() == 245.0
    assert fine.curvature_at(60.0) == pytest.approx(coarse.curvature_at(60.0), rel=1e-12)


def test_user_material_carries_a_rubbery_modulus() -> None:
    spec = MaterialSpec(
        k_w_mk=0.8,
        cte_ppm_k=8.0,
        cte_above_tg_ppm_k=30.0,
        tg_c=150.0,
        youngs_gpa=26.0,
        youngs_above_tg_gpa=2.0,
        poisson=0.3,
        density_kg_m3=2000.0,
        source="test values",
    )
    assert spec.to_material("emc_x").youngs_above_tg_gpa == 2.0
    with pytest.raises(ValueError, match="youngs_above_tg_gpa"):
        MaterialSpec(**(spec.model_dump() | {"youngs_above_tg_gpa": -1.0}))


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_the_plot_is_written_atomically_in_either_format(
    results: dict[str, WarpageResult], tmp_path: Path, suffix: str
) -> None:
    path = write_warpage_plot(results["pop_on_substrate"], tmp_path / f"warpage{suffix}", limit_um=170.0)
    assert [p.name for p in tmp_path.iterdir()] == [f"warpage{suffix}"]
    data = path.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG")
    else:
        text = data.decode()
        assert "<svg" in text and "Tg emc 125 C" in text and "convex" in text and "limit +-170 um" in text


def test_the_plot_refuses_other_formats(results: dict[str, WarpageResult], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        write_warpage_plot(results["claim1_posts"], tmp_path / "warpage.pdf")
