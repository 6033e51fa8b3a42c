"""Thermal analysis of built packages: the JEDEC-like environments, the claimed exposed back, the outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import moldstack
from moldstack.analysis.environment import Environment
from moldstack.analysis.mounting import ADHESIVE_ROLE, JOINT_ROLE, LAND_ROLE, Mounting, mount
from moldstack.analysis.thermal import ThermalInputError, thermal
from moldstack.cli import app
from moldstack.exporters.vtr import read_vtr_cell_data, vtr_text
from moldstack.geometry.builder import unit_height_extent
from moldstack.geometry.model_grid import GridSettings

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COARSE = GridSettings(max_cell_um=600.0, max_cell_z_um=100.0, growth=1.5, outer_cell_um=8000.0)


def _design(name: str, **die_changes: object) -> moldstack.Design:
    data = yaml.safe_load((EXAMPLES / name).read_text())
    data["assemblies"][0]["dies"][0].update(die_changes)
    data["assemblies"][0]["dies"][0] = {
        k: v for k, v in data["assemblies"][0]["dies"][0].items() if v is not None
    }
    return moldstack.loads(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def exposed() -> moldstack.Model:
    return moldstack.build(EXAMPLES / "claim8_exposed_back.yaml")


@pytest.fixture(scope="module")
def still_air(exposed: moldstack.Model):
    return thermal(exposed, Environment("jesd51-9"), grid=COARSE)


def test_still_air_result_is_consistent(still_air):
    """Energy balance to 1e-6; the heat leaving the package by its top, bottom and sides adds up to the power;
    the junction is the hottest place and above ambient."""
    r = still_air
    assert r.solution.energy_balance_error < 1e-6
    assert sum(r.heat_split_w.values()) == pytest.approx(r.power_w, rel=1e-5)
    assert r.power_w == pytest.approx(3.0)
    assert r.tj_max_c > r.top_c > r.environment.ambient_c
    assert r.tj_max_c == pytest.approx(float(r.solution.u.max()), abs=1e-9)
    assert r.resistance_k_per_w == pytest.approx((r.tj_max_c - 25.0) / 3.0)
    # With an exposed back on the board, most of the heat goes down into the board.
    assert r.heat_split_w["bottom"] > r.heat_split_w["top"]
    # A 12 mm package on a 2s2p board in still air: tens of K/W (JEDEC data for such packages: 15-40 K/W).
    assert 10.0 < r.resistance_k_per_w < 60.0
    # Mounted on its 80 joints, the adhesive under the die down to the board.
    assert r.environment.has_board


def test_the_package_stands_on_its_joints(exposed):
    """One land and one joint per unit; the board's top one joint height and one land below the units' ends;
    the claim-9 adhesive filled down to the board."""
    asm = exposed.assemblies[0]
    m = mount(exposed, Mounting())
    ends = [unit_height_extent(exposed, u)[0] for u in asm.units]
    assert m.joints == len(asm.units) == 80
    assert m.board_top_um == pytest.approx(min(ends) - 200.0 - 35.0)
    roles = [s.role for s in m.solids]
    assert roles.count(JOINT_ROLE) == roles.count(LAND_ROLE) == 80
    glue = [s for s in m.solids if s.role == ADHESIVE_ROLE]
    assert m.adhesive_dies == ("die1",) and len(glue) == 1
    assert glue[0].shape.bbox[2] == pytest.approx(m.board_top_um)
    assert glue[0].material == "thermal_adhesive"
    with pytest.raises(ValueError, match="joint_height_um = 0"):
        Mounting(joint_height_um=0.0)


def _without_adhesive() -> moldstack.Model:
    return moldstack.build(_design("claim8_exposed_back.yaml", attach=None))


@pytest.fixture(scope="module")
def bare_back() -> moldstack.Model:
    return _without_adhesive()


@pytest.mark.parametrize("kind", ["jesd51-9", "ring-cold-plate"])
def test_thermal_adhesive_on_the_exposed_back_lowers_theta(exposed, bare_back, still_air, kind):
    """Claims 8-9: the same package with and without the thermally conductive adhesive on its exposed back.

    Physics: with the adhesive (k = 5 W/mK) the die's back is joined to the board over its 49 mm2 through
    about 285 um of adhesive, about 1.2 K/W in series, and the board spreads the heat. Without it the back faces
    the still air of the standoff (k 0.026: about 190 K/W over the same area), so the heat has to cross the
    mold (k 0.9) sideways to the units and down the joints, or leave through the top. The junction-to-board
    and junction-to-ambient resistances must both drop, by a large factor (at least 1.5x here; exposed pads
    soldered down against left floating show 2-3x in JEDEC data), and the share of heat the package sends
    down into the board must rise. With a cold plate on top (theta-JC) the back does not matter.
    """
    env = Environment(kind)
    glued = still_air if kind == "jesd51-9" else thermal(exposed, env, grid=COARSE)
    bare = thermal(bare_back, env, grid=COARSE)
    assert glued.resistance_k_per_w < bare.resistance_k_per_w / 1.5
    assert glued.heat_split_w["top"] < bare.heat_split_w["top"]
    for r in (glued, bare):
        assert r.solution.energy_balance_error < 1e-6


def test_the_back_does_not_matter_under_a_top_cold_plate(exposed, bare_back):
    jc = [
        thermal(m, Environment("cold-plate-top"), grid=COARSE).resistance_k_per_w
        for m in (exposed, bare_back)
    ]
    assert jc[0] == pytest.approx(jc[1], rel=1e-3)


def test_cold_plate_on_top_gives_theta_jc_below_theta_ja(exposed, still_air):
    jc = thermal(exposed, Environment("cold-plate-top"), grid=COARSE)
    assert jc.solution.energy_balance_error < 1e-6
    assert 0.0 < jc.resistance_k_per_w < still_air.resistance_k_per_w
    # Adiabatic elsewhere: everything leaves through the top.
    assert jc.heat_split_w["top"] == pytest.approx(jc.power_w, rel=1e-4)


def test_a_higher_film_coefficient_cools_the_package(exposed, still_air):
    windy = thermal(exposed, Environment("jesd51-9", h_w_m2k=50.0), grid=COARSE)
    assert windy.tj_max_c < still_air.tj_max_c


def test_power_scales_the_rise_linearly(exposed, still_air):
    double = thermal(exposed, Environment("jesd51-9"), power_w=6.0, grid=COARSE)
    assert double.tj_max_c - 25.0 == pytest.approx(2 * (still_air.tj_max_c - 25.0), rel=1e-6)
    assert double.resistance_k_per_w == pytest.approx(still_air.resistance_k_per_w, rel=1e-6)


def _unpowered() -> moldstack.Design:
    return _design("claim8_exposed_back.yaml", power_w=0.0)


def test_no_power_is_refused_with_what_to_give():
    with pytest.raises(ThermalInputError, match=r"dies\[\]\.power_w"):
        thermal(moldstack.build(_unpowered()), Environment(), grid=COARSE)


def test_bad_environment_values_are_named():
    with pytest.raises(ValueError, match="h_w_m2k = -1"):
        Environment(h_w_m2k=-1.0)
    with pytest.raises(ValueError, match="not one of"):
        Environment("wind-tunnel")  # type: ignore[arg-type]


def test_vtr_round_trips_coordinates_and_cell_data(still_air):
    g = still_air.grid
    text = vtr_text(g, {"temperature_c": still_air.solution.u})
    coords, data = read_vtr_cell_data(text)
    for axis in range(3):
        assert np.allclose(coords[axis], g.edges[axis] * 1e-3)
    assert np.array_equal(data["temperature_c"], still_air.solution.u.ravel(order="F"))
    assert 'WholeExtent="0 {} 0 {} 0 {}"'.format(*g.shape) in text


def test_cli_thermal_json_and_outputs(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "thermal",
            str(EXAMPLES / "claim8_exposed_back.yaml"),
            "--env",
            "cold-plate-top",
            "--json",
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    for key in ("tj_max_c", "theta_jc_k_per_w", "energy_balance_error", "psi_jt_k_per_w", "heat_split_w"):
        assert key in doc
    assert set(doc["solver"]) >= {"unknowns", "iterations", "setup_s", "solve_s"}
    for name in ("thermal.json", "thermal_die_plane.png", "thermal_section.png", "thermal.vtr"):
        assert (tmp_path / name).is_file(), name


def test_cli_thermal_without_power_is_bad_input(tmp_path):
    spec = tmp_path / "cold.yaml"
    spec.write_text(moldstack.dump(_unpowered()))
    result = CliRunner().invoke(app, ["thermal", str(spec)])
    assert result.exit_code == 2
    assert "no power" in result.stderr


def test_custom_environment_without_board_uses_a_film_per_direction(exposed):
    """No board: every package surface sees its direction's film. Raising only the bottom film (the exposed
    back and adhesive face down) cools the junction; the split then shifts to the bottom. All heat leaves by the
    films (energy balance)."""
    base = Environment("custom", h_w_m2k=20.0)
    cooled = base.with_(h_bottom_w_m2k=2000.0)
    a = thermal(exposed, base, grid=COARSE)
    b = thermal(exposed, cooled, grid=COARSE)
    assert not base.has_board and a.board_top_um is None
    assert b.tj_max_c < a.tj_max_c
    assert b.heat_split_w["bottom"] / b.power_w > a.heat_split_w["bottom"] / a.power_w
    for r in (a, b):
        assert sum(r.heat_split_w.values()) == pytest.approx(r.power_w, rel=1e-5)
        assert r.solution.energy_balance_error < 1e-6
