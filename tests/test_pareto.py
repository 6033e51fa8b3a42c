"""Pareto fronts: the mask against the definition (every pair compared), senses, ties, missing values, the
objectives' text, and the figure and table written."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from matplotlib.image import imread

from moldstack.sweep import SweepInputError, pareto_front, pareto_mask, parse_objectives, write_pareto


def brute_force(values: np.ndarray, senses: list[str]) -> np.ndarray:
    """Row i is on the front unless some row j is at least as good everywhere and strictly better somewhere;
    a row with a NaN is never on it and dominates nothing."""
    cost = values * np.array([1.0 if s == "min" else -1.0 for s in senses])
    n = len(cost)
    out = np.zeros(n, dtype=bool)
    for i in range(n):
        if np.isnan(cost[i]).any():
            continue
        out[i] = not any(
            not np.isnan(cost[j]).any() and (cost[j] <= cost[i]).all() and (cost[j] < cost[i]).any()
            for j in range(n)
        )
    return out


@st.composite
def tables(draw: st.DrawFn) -> tuple[np.ndarray, list[str]]:
    n = draw(st.integers(0, 40))
    k = draw(st.integers(1, 4))
    # few distinct values, so ties and duplicate rows are common; some NaN
    cells = st.one_of(st.integers(0, 4).map(float), st.just(math.nan))
    values = draw(arrays(np.float64, (n, k), elements=cells))
    senses = draw(st.lists(st.sampled_from(["min", "max"]), min_size=k, max_size=k))
    return values, senses


@given(tables())
@settings(max_examples=200, deadline=None)
def test_mask_matches_the_definition(table):
    values, senses = table
    np.testing.assert_array_equal(pareto_mask(values, senses), brute_force(values, senses))


def test_mask_in_blocks_matches_a_sort_on_thousands_of_rows():
    rng = np.random.default_rng(7)
    values = rng.random((3000, 2))
    mask = pareto_mask(values, ["min", "min"])
    order = np.lexsort((values[:, 1], values[:, 0]))  # by x, then y: the front is the running minimum of y
    best, expected = math.inf, np.zeros(len(values), dtype=bool)
    for i in order:
        if values[i, 1] < best:
            expected[i], best = True, values[i, 1]
    np.testing.assert_array_equal(mask, expected)


def test_senses_min_and_max():
    values = np.array([[1.0, 1.0], [2.0, 2.0], [1.0, 2.0], [2.0, 1.0]])
    assert pareto_mask(values, ["min", "min"]).tolist() == [True, False, False, False]
    assert pareto_mask(values, ["max", "max"]).tolist() == [False, True, False, False]
    assert pareto_mask(values, ["min", "max"]).tolist() == [False, False, True, False]
    assert pareto_mask(values, ["max", "min"]).tolist() == [False, False, False, True]


def test_ties_stay_on_the_front_and_nan_never_is():
    values = np.array([[1.0, 3.0], [1.0, 3.0], [3.0, 1.0], [2.0, 2.0], [0.0, math.nan], [4.0, 4.0]])
    assert pareto_mask(values, ["min", "min"]).tolist() == [True, True, True, True, False, False]
    assert pareto_mask(np.empty((0, 2)), ["min", "min"]).tolist() == []


def test_mask_refuses_a_shape_or_sense_that_does_not_fit():
    with pytest.raises(ValueError, match="2 given for 3"):
        pareto_mask(np.zeros((4, 3)), ["min", "max"])
    with pytest.raises(ValueError, match="'low' is not min or max"):
        pareto_mask(np.zeros((4, 1)), ["low"])
    with pytest.raises(ValueError, match="2-D"):
        pareto_mask(np.zeros(4), ["min"])


ROWS = [
    {"variant": 10, "assemblies[0].body.thickness_um": 400, "status": "ok", "tj": 90.0, "warp": 50.0},
    {"variant": 11, "assemblies[0].body.thickness_um": 500, "status": "ok", "tj": 80.0, "warp": 60.0},
    {"variant": 12, "assemblies[0].body.thickness_um": 600, "status": "ok", "tj": 85.0, "warp": 70.0},
    {"variant": 13, "assemblies[0].body.thickness_um": 700, "status": "invalid", "tj": None, "warp": None},
    {"variant": 14, "assemblies[0].body.thickness_um": 800, "status": "failed", "tj": 10.0, "warp": 10.0},
    {"variant": 15, "assemblies[0].body.thickness_um": 900, "status": "ok", "tj": 70.0, "warp": None},
]


def test_front_of_rows_or_columns_leaves_out_variants_not_ok():
    objectives = {"tj": "min", "warp": "min"}
    assert pareto_front(ROWS, objectives) == [0, 1]  # 14 failed, 15 has no warpage
    columns = {key: [r[key] for r in ROWS] for key in ROWS[0]}
    assert pareto_front(columns, objectives) == [0, 1]
    assert pareto_front(ROWS, {"tj": "min"}) == [5]
    assert pareto_front(ROWS, {"tj": "max", "warp": "max"}) == [0, 2]
    assert pareto_front([], objectives) == []


def test_front_names_a_missing_column():
    with pytest.raises(SweepInputError, match=r"objective 'tj_max_c': no such column \(columns: variant"):
        pareto_front(ROWS, {"tj_max_c": "min"})
    with pytest.raises(SweepInputError, match="no such column"):
        pareto_front({"tj": [1.0]}, {"warp": "min"})


def test_parse_objectives():
    assert parse_objectives("tj_max_c:min,warpage_max_um:min") == {"tj_max_c": "min", "warpage_max_um": "min"}
    parsed = parse_objectives(" tj_max_c , r_dc_VDD_ohm: MAX ")
    assert parsed == {"tj_max_c": "min", "r_dc_VDD_ohm": "max"}
    assert list(parsed) == ["tj_max_c", "r_dc_VDD_ohm"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("tj:min,", "objective 2 '': has no column"),
        (":max", "has no column"),
        ("tj:lowest", "sense 'lowest' is not min or max"),
        ("tj:min,tj:max", "'tj': is given twice"),
    ],
)
def test_parse_objectives_errors_name_the_text(text, fragment):
    with pytest.raises(SweepInputError) as err:
        parse_objectives(text)
    assert str(err.value).startswith(f"--objectives '{text}': ")
    assert fragment in str(err.value)


def _png_size(path: Path) -> tuple[int, int]:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    return image.shape[1], image.shape[0]


def test_write_pareto_two_objectives(tmp_path: Path):
    written = write_pareto(ROWS, {"tj": "min", "warp": "min"}, tmp_path / "p.png", tmp_path / "p.csv")
    assert written == [tmp_path / "p.png", tmp_path / "p.csv"]
    width, height = _png_size(tmp_path / "p.png")
    assert width > 500 and height > 400
    with (tmp_path / "p.csv").open() as handle:
        table = list(csv.reader(handle))
    assert table == [
        ["variant", "assemblies[0].body.thickness_um", "tj", "warp"],
        ["11", "500", "80.0", "60.0"],  # in order of the first objective
        ["10", "400", "90.0", "50.0"],
    ]
    assert not list(tmp_path.glob("*.tmp"))  # atomic: no temporaries left


def test_write_pareto_three_objectives_is_a_scatter_matrix(tmp_path: Path):
    rng = np.random.default_rng(1)
    columns = {
        "assemblies[0].dies[0].power_w": rng.random(40).tolist(),
        "a": rng.random(40).tolist(),
        "b": rng.random(40).tolist(),
        "c": rng.random(40).tolist(),
    }
    objectives = {"a": "min", "b": "max", "c": "min"}
    write_pareto(
        columns, objectives, tmp_path / "m.png", tmp_path / "m.csv", inputs=["assemblies[0].dies[0].power_w"]
    )
    width, height = _png_size(tmp_path / "m.png")
    assert width == height  # k x k panels
    with (tmp_path / "m.csv").open() as handle:
        table = list(csv.DictReader(handle))
    front = pareto_front(columns, objectives)
    assert sorted(int(r["variant"]) for r in table) == front  # row indices where there is no variant column
    assert list(table[0]) == ["variant", "assemblies[0].dies[0].power_w", "a", "b", "c"]


def test_write_pareto_one_objective(tmp_path: Path):
    write_pareto(ROWS, {"tj": "min"}, tmp_path / "one.png", tmp_path / "one.csv")
    assert _png_size(tmp_path / "one.png")[0] > 0
    assert (tmp_path / "one.csv").read_text().splitlines()[1].startswith("15,900,70.0")
