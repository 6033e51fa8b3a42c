"""One sweep variant evaluated: the claim-1 example on coarse grids (thermal, warpage, checks; electrical
without the capacitance matrix), a variant that breaks validation, a failing analysis, the columns."""

from __future__ import annotations

import json
import math
import pickle
from typing import Any

import pytest

import moldstack.analysis.thermal
from moldstack.sweep import ANALYSES, EvalSettings, SweepInputError, evaluate_variant, output_columns
from tests.conftest import EXAMPLES

SPEC = (EXAMPLES / "claim1_posts.yaml").read_text()
POP = (EXAMPLES / "pop_on_substrate.yaml").read_text()
SCREEN = EvalSettings(analyses=("thermal", "warpage", "check"), coarse=True)
POWER = "assemblies[0].dies[0].power_w"
AMBIENT_C = 25.0  # jesd51-9 default


@pytest.fixture(scope="module")
def rows() -> dict[str, dict[str, Any]]:
    """The base design and its die at twice the power (1 W -> 2 W)."""
    return {
        "base": evaluate_variant(SPEC, {}, SCREEN),
        "double": evaluate_variant(SPEC, {POWER: 2.0}, SCREEN),
    }


def test_an_ok_variant_has_every_column_finite(rows):
    row = rows["base"]
    assert row["status"] == "ok" and row["reason"] is None
    assert list(row) == output_columns(SPEC, SCREEN)
    json.dumps(row, allow_nan=False)  # plain JSON scalars
    for key in ("seconds", "power_w", "tj_max_c", "theta_ja_k_per_w", "warpage_max_um"):
        assert type(row[key]) is float and math.isfinite(row[key]), key
    assert row["power_w"] == 1.0
    assert row["tj_max_c"] > AMBIENT_C
    assert row["theta_ja_k_per_w"] == pytest.approx((row["tj_max_c"] - AMBIENT_C) / row["power_w"])
    assert row["warpage_max_um"] == max(abs(row["warpage_pkg_25c_um"]), abs(row["warpage_pkg_peak_um"]))
    assert (row["drc_violations"], row["lvs_status"], row["stack_verdict"], row["checks_passed"]) == (
        0,
        "CORRECT",
        "not stacked",
        True,
    )


def test_steady_conduction_is_linear_in_the_power(rows):
    """Constant conductivities and film coefficients: the rise over ambient doubles with the power exactly
    (to the solver's tolerance), so theta-JA does not change."""
    base, double = rows["base"], rows["double"]
    assert double["status"] == "ok" and double["power_w"] == 2.0
    assert double["tj_max_c"] > base["tj_max_c"]
    rise, rise2 = base["tj_max_c"] - AMBIENT_C, double["tj_max_c"] - AMBIENT_C
    assert rise2 == pytest.approx(2 * rise, rel=1e-6)
    assert double["theta_ja_k_per_w"] == pytest.approx(base["theta_ja_k_per_w"], rel=1e-6)
    for key in ("warpage_pkg_25c_um", "warpage_pkg_peak_um", "drc_violations"):  # power changes no geometry
        assert double[key] == base[key]


def test_the_reflow_profile_turns_the_warpage_over(rows):
    """Laminate theory with a stress-free mold at 175 C: the mold (alpha 9-11 ppm/K below Tg) over the die (2.6)
    shrinks more on cooling, so at 25 C the package is concave (-); at 260 C, above Tg (alpha ~36), convex (+)."""
    row = rows["base"]
    assert row["warpage_pkg_25c_um"] < 0 < row["warpage_pkg_peak_um"]


def test_posts_wider_than_their_pitch_are_invalid_with_the_same_columns(rows):
    row = evaluate_variant(SPEC, {"assemblies[0].units[0].unit.diameter_um": 450.0}, SCREEN)
    assert row["status"] == "invalid"
    assert "assemblies[0].units[0].pitch_um: 400 um is less than the unit diameter 450 um" in row["reason"]
    assert list(row) == list(rows["base"])
    assert all(row[k] is None for k in row if k not in ("status", "reason", "seconds"))
    assert row["seconds"] >= 0


def test_a_value_of_the_wrong_type_or_a_bad_path_is_invalid():
    typed = evaluate_variant(SPEC, {"assemblies[0].body.thickness_um": "thick"}, SCREEN)
    assert typed["status"] == "invalid" and "assemblies[0].body.thickness_um" in typed["reason"]
    missing = evaluate_variant(SPEC, {"assemblies[0].bogus_um": 1.0}, SCREEN)
    assert missing["status"] == "invalid" and "assemblies[0].bogus_um" in missing["reason"]
    assert list(typed) == list(missing) == output_columns(SPEC, SCREEN)


def test_a_failing_analysis_is_recorded_and_the_others_still_run(monkeypatch):
    def boom(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("solver stalled\nsecond line")

    monkeypatch.setattr(moldstack.analysis.thermal, "thermal", boom)
    settings = EvalSettings(analyses=("thermal", "warpage"), coarse=True)
    row = evaluate_variant(SPEC, {}, settings)
    assert row["status"] == "failed"
    assert row["reason"] == "thermal: RuntimeError: solver stalled"
    assert row["tj_max_c"] is None and math.isfinite(row["warpage_max_um"])


def test_electrical_without_capacitance_per_declared_net():
    settings = EvalSettings(analyses=("electrical",), coarse=True)
    columns = output_columns(SPEC, settings)
    assert columns == [
        "status",
        "reason",
        "seconds",
        "r_dc_max_ohm",
        "l_partial_max_h",
        "r_dc_VDD_ohm",
        "l_partial_VDD_h",
        "r_dc_VSS_ohm",
        "l_partial_VSS_h",
    ]
    row = evaluate_variant(SPEC, {}, settings)
    assert row["status"] == "ok" and list(row) == columns
    for net in ("VDD", "VSS"):
        r, lp = row[f"r_dc_{net}_ohm"], row[f"l_partial_{net}_h"]
        assert 1e-4 < r <= row["r_dc_max_ohm"] < 1.0  # tens of milliohms: vias, traces, posts
        assert 1e-10 < lp <= row["l_partial_max_h"] < 1e-8  # about a nanohenry


def test_columns_follow_the_spec_and_the_settings():
    every = output_columns(POP, EvalSettings(coarse=True, capacitance=True))
    assert every[:3] == ["status", "reason", "seconds"]
    for name in ("c_self_max_f", "r_dc_VDD_ohm", "l_partial_VSS_h", "checks_passed"):
        assert name in every
    for pkg in ("logic", "memory"):
        assert f"warpage_{pkg}_25c_um" in every and f"warpage_{pkg}_peak_um" in every
    assert "warpage_substrate_25c_um" not in every  # packages only
    assert "c_self_max_f" not in output_columns(POP, EvalSettings())
    cold = output_columns(SPEC, EvalSettings(analyses=("thermal",), thermal_environment="cold-plate-top"))
    assert cold[3:] == ["power_w", "tj_max_c", "theta_jc_k_per_w"]
    assert output_columns(SPEC, EvalSettings(analyses=("check", "thermal"))) == output_columns(
        SPEC, EvalSettings(analyses=("thermal", "check"))
    )


def test_a_base_spec_that_does_not_validate_is_refused():
    broken = SPEC.replace("pitch_um: 400", "pitch_um: 200")
    with pytest.raises(SweepInputError, match=r"base spec: assemblies\[0\]\.units\[0\]\.pitch_um"):
        output_columns(broken, SCREEN)


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"analyses": ("thermal", "optics")}, "'optics': choose one or more of thermal"),
        ({"analyses": ()}, "choose one or more"),
        ({"analyses": ("check", "check")}, "each analysis once"),
        ({"thermal_environment": "wind-tunnel"}, "'wind-tunnel': is not one of jesd51-9"),
    ],
)
def test_settings_refuse_unknown_analyses_and_environments(kwargs, rule):
    with pytest.raises(SweepInputError, match=rule):
        EvalSettings(**kwargs)


def test_what_a_worker_receives_pickles():
    settings = EvalSettings(analyses=["thermal", "check"], coarse=True)  # a list is kept as a tuple
    assert settings.analyses == ("thermal", "check")
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert pickle.loads(pickle.dumps(evaluate_variant)) is evaluate_variant
    assert EvalSettings().analyses == ANALYSES and not EvalSettings().capacitance
