"""Design of experiments (factors, --vary texts, full factorial, Latin hypercube, Sobol') and spec paths
(applying a variant to the bundled examples, by index and by name)."""

from __future__ import annotations

import itertools
import math
import warnings

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import moldstack
from moldstack.sweep import (
    MAX_FULL_FACTORIAL,
    Factor,
    SweepInputError,
    apply,
    check_paths,
    design,
    parse_path,
    parse_vary,
)
from tests.conftest import example_data

PITCH = "assemblies[0].units[0].pitch_um"
THICK = "assemblies[logic].body.thickness_um"


# --- parse_vary -------------------------------------------------------------------------------------------


def test_range_gives_evenly_spaced_levels_whole_when_the_ends_are():
    f = parse_vary(f"{PITCH}=300:500:5")
    assert f == Factor(PITCH, start=300, stop=500, n=5)
    assert f.levels == (300, 350, 400, 450, 500)
    assert all(type(v) is int for v in f.levels)
    g = parse_vary("x.y = 0.1 : 0.3 : 3")
    assert g.levels == (0.1, 0.2, 0.3)  # tidied: no 0.30000000000000004
    assert parse_vary("x.y=0:1:3").levels == (0.0, 0.5, 1.0)


def test_log_range_gives_equal_ratios():
    f = parse_vary("materials.emc_own.cte_ppm_k=log:1:1000:4")
    assert f.log and f.levels == (1.0, 10.0, 100.0, 1000.0)
    assert parse_vary("x.y=LOG:2:8:3").levels == (2.0, 4.0, 8.0)


def test_list_values_are_numbers_or_strings_one_type_per_list():
    assert parse_vary("x.y=1,2,3").values == (1, 2, 3)
    assert parse_vary("x.y=1, 2.5").values == (1.0, 2.5)
    assert parse_vary("x.y=1e3,2").values == (1000.0, 2.0)
    assert parse_vary("assemblies[0].body.material=emc, bt").values == ("emc", "bt")
    assert parse_vary("x.y=emc,1").values == ("emc", "1")
    assert parse_vary("x.y=7").levels == (7,)  # one level: the value set for the whole sweep


@pytest.mark.parametrize(
    ("text", "part", "rule"),
    [
        ("x=1:2", "'1:2'", "give PATH=START:STOP:N"),
        ("x=1:2:3:4", "'1:2:3:4'", "three parts"),
        ("x=log:1:2", "'log:1:2'", "PATH=log:START:STOP:N"),
        ("x", "no '='", "PATH=START:STOP:N"),
        ("=1:2:3", "no PATH", "PATH=START:STOP:N"),
        ("x=", "nothing after '='", "PATH=a,b,c"),
        ("x=a:2:3", "START 'a'", "finite number"),
        ("x=1:nan:3", "STOP 'nan'", "finite number"),
        ("x=1:2:1", "N '1'", "at least 2"),
        ("x=1:2:2.5", "N '2.5'", "whole number"),
        ("x=3:3:4", "START and STOP", "equal"),
        ("x=log:0:10:3", "START, STOP", "both > 0"),
        ("x=log:-1:10:3", "START, STOP", "both > 0"),
        ("x=1,,2", "value 2", "empty"),
        ("x=1,2,1", "value 3 '1'", "given twice"),
        ("a..b=1", "PATH 'a..b'", "character 2"),
        ("a[0=1", "PATH 'a[0'", "list items in brackets"),
        ("0a=1", "PATH '0a'", "character 1"),
    ],
)
def test_parse_vary_errors_name_the_text_the_part_and_the_rule(text, part, rule):
    with pytest.raises(SweepInputError) as err:
        parse_vary(text)
    message = str(err.value)
    assert message.startswith(f"--vary '{text}': ")
    assert part in message
    assert rule in message
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"values": (1,), "start": 0}, "not both"),
        ({"values": ()}, "at least one value"),
        ({"start": 0, "stop": 1}, "start, stop and n"),
        ({"start": 0, "stop": 1, "n": 1}, "at least 2"),
        ({"start": 0, "stop": math.inf, "n": 3}, "finite"),
        ({"start": 0, "stop": 1, "n": 3, "log": True}, "> 0"),
        ({"start": 2, "stop": 2, "n": 3}, "a range needs two"),
    ],
)
def test_factor_refuses_an_incomplete_or_impossible_range(kwargs, rule):
    with pytest.raises(SweepInputError, match=rule):
        Factor("x.y", **kwargs)


def test_factor_at_maps_the_unit_interval():
    lin = Factor("x.y", start=10.0, stop=20.0, n=3)
    assert (lin.at(0.0), lin.at(0.25), lin.at(1.0)) == (10.0, 12.5, 20.0)
    log = Factor("x.y", start=1.0, stop=100.0, n=3, log=True)
    assert log.at(0.5) == pytest.approx(10.0)
    listed = Factor("x.y", values=("a", "b", "c"))
    assert [listed.at(u) for u in (0.0, 0.33, 0.34, 0.67, 0.999, 1.0)] == ["a", "a", "b", "c", "c", "c"]


@given(
    start=st.floats(-1e6, 1e6, allow_nan=False),
    span=st.floats(1e-3, 1e6, allow_nan=False),
    n=st.integers(2, 50),
    log=st.booleans(),
    descending=st.booleans(),
)
def test_levels_run_from_start_to_stop_monotonically(start, span, n, log, descending):
    if log:
        start = abs(start) + 1e-3
    lo, hi = start, start + span
    a, b = (hi, lo) if descending else (lo, hi)
    f = Factor("x.y", start=a, stop=b, n=n, log=log)
    levels = f.levels
    assert len(levels) == n
    assert levels[0] == pytest.approx(a, rel=1e-11) and levels[-1] == pytest.approx(b, rel=1e-11)
    steps = [q - p for p, q in itertools.pairwise(levels)]
    assert all((s <= 0) if descending else (s >= 0) for s in steps)


# --- design -----------------------------------------------------------------------------------------------


def _factors() -> list[Factor]:
    return [
        parse_vary(f"{THICK}=400:800:5"),
        parse_vary("assemblies[0].units[0].pitch_um=log:350:500:4"),
        parse_vary("assemblies[0].body.material=emc,bt,fr4"),
    ]


def test_full_factorial_is_the_product_of_the_levels():
    factors = _factors()
    variants = design(factors, samples=7)  # samples not used by a full factorial
    assert len(variants) == 5 * 4 * 3
    assert variants[0] == {f.path: f.levels[0] for f in factors}
    assert variants[1][factors[2].path] == "bt"  # the last factor varies fastest
    combos = {tuple(v.values()) for v in variants}
    assert len(combos) == len(variants)
    assert all(type(x) in (int, float, str) for v in variants for x in v.values())


def test_full_factorial_refuses_more_than_the_limit():
    factors = [parse_vary(f"a.b{i}=0:1:10") for i in range(6)]  # 10^6
    with pytest.raises(SweepInputError, match=r"10 x 10 x 10 x 10 x 10 x 10 = 1,000,000 variants"):
        design(factors)
    assert MAX_FULL_FACTORIAL == 100_000


@pytest.mark.parametrize("kind", ["lhs", "sobol"])
@pytest.mark.parametrize("samples", [1, 7, 16, 50])
def test_space_filling_designs_give_the_samples_asked_within_bounds(kind, samples):
    factors = _factors()
    variants = design(factors, kind, samples=samples, seed=3)
    assert len(variants) == samples
    for v in variants:
        assert list(v) == [f.path for f in factors]
        assert 400.0 <= v[THICK] <= 800.0
        assert 350.0 <= v["assemblies[0].units[0].pitch_um"] <= 500.0
        assert v["assemblies[0].body.material"] in ("emc", "bt", "fr4")
        assert all(type(x) in (float, str) for x in v.values())  # plain Python, not numpy scalars


@pytest.mark.parametrize("samples", [10, 64])
def test_lhs_puts_one_sample_in_each_stratum_of_each_factor(samples):
    lin = Factor("a.lin", start=-5.0, stop=15.0, n=2)
    log = Factor("a.log", start=1e-2, stop=1e3, n=2, log=True)
    listed = Factor("a.list", values=("p", "q", "r", "s"))
    variants = design([lin, log, listed], "lhs", samples=samples, seed=11)
    strata_lin = sorted(math.floor(samples * (v["a.lin"] + 5.0) / 20.0) for v in variants)
    assert strata_lin == list(range(samples))
    # log ranges are log-uniform: one sample per equal-ratio stratum
    strata_log = sorted(math.floor(samples * math.log(v["a.log"] / 1e-2) / math.log(1e5)) for v in variants)
    assert strata_log == list(range(samples))
    counts = [sum(v["a.list"] == x for v in variants) for x in listed.values]
    assert max(counts) - min(counts) <= 1  # a list factor's levels as evenly as the count allows


def test_log_range_samples_are_log_uniform():
    f = Factor("a.b", start=1.0, stop=1e4, n=2, log=True)
    values = [v["a.b"] for v in design([f], "sobol", samples=1024, seed=5)]
    assert min(values) >= 1.0 and max(values) <= 1e4
    decades = [sum(10**d <= x < 10 ** (d + 1) for x in values) for d in range(4)]
    assert all(230 <= c <= 282 for c in decades)  # 256 each: uniform in the logarithm


@pytest.mark.parametrize("kind", ["lhs", "sobol"])
def test_space_filling_designs_are_deterministic_by_seed(kind):
    factors = _factors()
    first = design(factors, kind, samples=12, seed=42)
    assert design(factors, kind, samples=12, seed=42) == first
    assert design(factors, kind, samples=12, seed=43) != first


def test_sobol_of_any_count_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(design(_factors(), "sobol", samples=12)) == 12
        assert len(design(_factors(), "sobol", samples=32)) == 32


@pytest.mark.parametrize(
    ("args", "kwargs", "rule"),
    [
        ([], {}, "no factors"),
        ([parse_vary("a.b=1,2"), parse_vary("a.b=3,4")], {}, "varied twice"),
        ([parse_vary("a.b=1,2")], {"kind": "grid"}, "not one of full, lhs, sobol"),
        ([parse_vary("a.b=1,2")], {"kind": "lhs"}, "samples = None"),
        ([parse_vary("a.b=1,2")], {"kind": "sobol", "samples": 0}, "samples = 0"),
    ],
)
def test_design_errors(args, kwargs, rule):
    with pytest.raises(SweepInputError, match=rule):
        design(args, **kwargs)


# --- spec paths and variants ------------------------------------------------------------------------------


def test_parse_path_reads_keys_indices_and_names():
    steps = parse_path("assemblies[logic].units[0].unit.pad.size_um")
    assert [(s.kind, s.text) for s in steps] == [
        ("key", "assemblies"),
        ("item", "logic"),
        ("key", "units"),
        ("item", "0"),
        ("key", "unit"),
        ("key", "pad"),
        ("key", "size_um"),
    ]
    assert [s.text for s in parse_path("assemblies[0].nets[die1.C1]")][-1] == "die1.C1"


def test_apply_by_index_sets_the_value_and_leaves_the_data_alone():
    data = example_data("claim1_posts.yaml")
    out = apply(
        data, {PITCH: 380, "assemblies[0].dies[0].power_w": 2.0, "assemblies[0].body.size_um[1]": 13000}
    )
    assert data["assemblies"][0]["units"][0]["pitch_um"] == 400  # the base is not changed
    assert out["assemblies"][0]["units"][0]["pitch_um"] == 380
    assert out["assemblies"][0]["body"]["size_um"] == [12000, 13000]
    design_ = moldstack.loads(yaml.safe_dump(out))
    assert design_.assemblies[0].dies[0].power_w == 2.0
    assert design_.assemblies[0].body.size_um == (12000.0, 13000.0)


def test_apply_by_name_on_the_stack_example():
    data = example_data("pop_on_substrate.yaml")
    paths = {
        THICK: 700,
        "assemblies[memory].dies[die1].power_w": 1.2,
        "assemblies[memory].units[0].unit.pad.size_um": 320,
        "assemblies[logic].nets[die1.C1]": "VCC",
        "substrate.joint.height_um": 160,
        "stack.joint.diameter_um": 240,
    }
    check_paths(data, paths)
    out = apply(data, paths)
    logic, memory = out["assemblies"]
    assert logic["body"]["thickness_um"] == 700 and memory["body"]["thickness_um"] == 500
    assert memory["dies"][0]["power_w"] == 1.2
    assert memory["units"][0]["unit"]["pad"]["size_um"] == 320
    assert logic["nets"]["die1.C1"] == "VCC"
    assert out["substrate"]["joint"]["height_um"] == 160 and out["stack"]["joint"]["diameter_um"] == 240


def test_a_field_left_at_its_default_can_be_set():
    data = example_data("pop_on_substrate.yaml")
    assert "material" not in data["assemblies"][1]["body"]
    out = apply(data, {"assemblies[memory].body.material": "emc", "assemblies[0].dies[0].back_exposed": True})
    assert out["assemblies"][1]["body"]["material"] == "emc"
    assert out["assemblies"][0]["dies"][0]["back_exposed"] is True


def test_an_unnamed_assembly_is_found_by_its_default_name():
    data = example_data("claim1_posts.yaml")
    del data["assemblies"][0]["name"]
    assert (
        apply(data, {"assemblies[pkg].body.thickness_um": 550})["assemblies"][0]["body"]["thickness_um"]
        == 550
    )


def test_a_user_material_is_reached_through_materials():
    data = example_data("claim1_posts.yaml")
    data["materials"] = {
        "emc_own": {
            "k_w_mk": 1.0,
            "cte_ppm_k": 10.0,
            "youngs_gpa": 20.0,
            "poisson": 0.3,
            "density_kg_m3": 1900.0,
            "source": "test",
        }
    }
    out = apply(data, {"materials.emc_own.cte_ppm_k": 8.0, "materials.emc_own.tg_c": 130.0})
    assert out["materials"]["emc_own"]["cte_ppm_k"] == 8.0 and out["materials"]["emc_own"]["tg_c"] == 130.0


@pytest.mark.parametrize(
    ("example", "path", "fragments"),
    [
        ("pop_on_substrate.yaml", "assemblies[2].body.thickness_um", ["has 2 items", "indices: 0-1"]),
        (
            "pop_on_substrate.yaml",
            "assemblies[cpu].body.thickness_um",
            ["no item named 'cpu'", "logic, memory"],
        ),
        ("claim1_posts.yaml", "assemblies[0].bdy.thickness_um", ["no 'bdy' in assemblies[0]", "body, dies"]),
        ("claim1_posts.yaml", "assemblies[0].units[0].pitch", ["no 'pitch'", "pitch_um"]),
        ("claim1_posts.yaml", "assemblies[0].units[0].unit.pad.size_um", ["no 'pad'", "diameter_um"]),
        ("claim1_posts.yaml", "assemblies.body.thickness_um", ["assemblies is a list", "assemblies[0]"]),
        ("claim1_posts.yaml", "assemblies[0].body.thickness_um.x", ["is the value 500"]),
        ("claim1_posts.yaml", "assemblies[0].body", ["holds a mapping", "thickness_um"]),
        ("claim1_posts.yaml", "assemblies[0].body.size_um", ["holds a list", "size_um[0]"]),
        (
            "claim1_posts.yaml",
            "assemblies[0].body.base.thickness_um",
            ["'base' is a field", "base spec first"],
        ),
        ("claim1_posts.yaml", "materials.emc_own.cte_ppm_k", ["'materials' is a field", "base spec first"]),
        ("pop_on_substrate.yaml", "stack.levels[logic].offset_um", ["no item named 'logic'", "index 0-1"]),
    ],
)
def test_a_path_that_names_no_value_says_where_it_stopped(example, path, fragments):
    data = example_data(example)
    with pytest.raises(SweepInputError) as err:
        apply(data, {path: 1.0})
    message = str(err.value)
    assert f"spec path '{path}'" in message
    for fragment in fragments:
        assert fragment in message
    with pytest.raises(SweepInputError):
        check_paths(data, [parse_vary(f"{path}=1,2")])


def test_check_paths_lists_every_bad_path_at_once():
    data = example_data("pop_on_substrate.yaml")
    factors = [
        parse_vary(f"{THICK}=400:800:3"),
        parse_vary("assemblies[cpu].body.thickness_um=400,500"),
        parse_vary("substrate.thick=1,2"),
    ]
    with pytest.raises(SweepInputError) as err:
        check_paths(data, factors)
    message = str(err.value)
    assert "assemblies[cpu]" in message and "substrate.thick" in message and THICK not in message
    check_paths(data, factors[:1])  # a good path passes


def test_a_yaml_alias_is_not_changed_through_another_place():
    shared = example_data("pop_on_substrate.yaml")
    shared["assemblies"][1]["units"][0]["unit"] = shared["assemblies"][0]["units"][0]["unit"]
    text = yaml.safe_dump(shared, sort_keys=False)
    assert "&id001" in text and "*id001" in text  # one unit, anchored and aliased
    data = yaml.safe_load(text)
    assert data["assemblies"][0]["units"][0]["unit"] is data["assemblies"][1]["units"][0]["unit"]
    out = apply(data, {"assemblies[memory].units[0].unit.pad.size_um": 280})
    assert out["assemblies"][1]["units"][0]["unit"]["pad"]["size_um"] == 280
    assert out["assemblies"][0]["units"][0]["unit"]["pad"]["size_um"] == 300
