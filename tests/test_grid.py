"""The rectilinear grid and the voxelisation rule shared by the process runner and the model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from moldstack.geometry.grid import Grid, GridTooLargeError, Zone, check_cells, graded_lines, source_cells
from moldstack.geometry.primitives import Box, Cylinder, Tube, Wire
from moldstack.geometry.voxelize import LabelTable, shape_mask, wire_mask


def test_graded_lines_keep_every_break_and_respect_the_size_field():
    breaks = [-310.0, -290.0, 40.0, 41.5, 600.0]
    zones = [Zone(-310.0, -290.0, 5.0)]
    x = graded_lines(breaks, -1000.0, 1000.0, 100.0, zones, growth=1.3)
    assert x[0] == -1000.0
    assert x[-1] == 1000.0
    for b in breaks:
        assert np.min(np.abs(x - b)) < 1e-9, b
    h = np.diff(x)
    assert np.all(h > 0)
    assert h.max() <= 100.0 + 1e-9
    inside = (x[:-1] >= -310.0) & (x[1:] <= -290.0)
    assert h[inside].max() <= 5.0 + 1e-9
    # Away from breaks the cells grade: neighbours differ by at most the growth ratio (plus one cell's rounding).
    ratio = np.maximum(h[1:] / h[:-1], h[:-1] / h[1:])
    free = np.ones_like(ratio, dtype=bool)
    for b in breaks:
        k = int(np.argmin(np.abs(x - b)))
        free[max(k - 2, 0) : k + 1] = False
    assert ratio[free].max() <= 1.3 * 1.35


def test_graded_lines_without_zones_are_uniform_between_breaks():
    x = graded_lines([0.0], -100.0, 250.0, 30.0)
    assert np.allclose(np.diff(x[x <= 0]), 100.0 / 4)
    assert np.allclose(np.diff(x[x >= 0]), 250.0 / 9)


def test_breaks_closer_than_the_merge_distance_share_a_line():
    """Analysis grids merge sliver gaps: breaks within ``merge_um`` of the first of their run are dropped, the
    ends stay exact, and nothing closer than the merge distance remains."""
    breaks = [0.0, 100.0, 102.0, 104.5, 120.0, 300.0, 301.0, 500.0, 497.0]
    lines = graded_lines(breaks, 0.0, 500.0, 50.0, merge_um=5.0)
    assert lines[0] == 0.0 and lines[-1] == 500.0
    assert np.diff(lines).min() > 5.0
    for kept in (100.0, 120.0, 300.0):
        assert kept in lines
    for dropped in (102.0, 104.5, 301.0, 497.0):
        assert dropped not in lines
    # the default keeps every distinct break
    fine = graded_lines(breaks, 0.0, 500.0, 50.0)
    for b in breaks:
        assert b in fine


def test_source_cells_map_split_cells_to_their_parent():
    old = np.array([0.0, 10.0, 20.0])
    new = np.array([-5.0, 0.0, 4.0, 10.0, 20.0, 30.0])
    assert source_cells(old, new).tolist() == [-1, 0, 0, 1, -1]


def test_cell_cap_names_the_count_and_the_limit():
    with pytest.raises(GridTooLargeError, match=r"2,000,000 cells, more than the limit of 1,000,000"):
        check_cells(2_000_000, 1_000_000, "thermal grid")


def _grid(h: float = 10.0, size: float = 200.0) -> Grid:
    lines = np.arange(-size, size + h / 2, h)
    return Grid(lines, lines, lines)


def _paint(grid: Grid, shape) -> np.ndarray:
    block, mask = shape_mask(grid, shape)
    full = np.zeros(grid.shape, dtype=bool)
    full[block] = mask
    return full


def test_a_box_on_grid_lines_occupies_exactly_its_cells():
    g = _grid()
    full = _paint(g, Box(z0=0.0, z1=50.0, x0=-30.0, y0=-20.0, x1=40.0, y1=60.0))
    assert full.sum() == 7 * 8 * 5
    assert (g.cell_volumes() * full).sum() == pytest.approx(70 * 80 * 50)


def test_cell_centre_rule_converges_to_a_tube_volume():
    tube = Tube(z0=-50.0, z1=50.0, cx=3.0, cy=-7.0, r=120.0, r_inner=60.0)
    errors = []
    for h in (10.0, 5.0, 2.5):
        g = _grid(h, 200.0)
        errors.append(abs((g.cell_volumes() * _paint(g, tube)).sum() - tube.volume) / tube.volume)
    assert errors[-1] < 0.005
    assert errors[-1] < errors[0]


def test_a_wire_thinner_than_the_cells_is_a_connected_chain_from_end_to_end():
    g = _grid(20.0, 400.0)
    path = tuple(
        (float(x), 0.3 * float(x), 100.0 + 80.0 * math.sin(x / 150.0)) for x in np.linspace(-300, 300, 25)
    )
    wire = Wire(path=path, diameter=8.0)
    block, mask = wire_mask(g, wire)
    full = np.zeros(g.shape, dtype=bool)
    full[block] = mask
    _, count = ndimage.label(full)
    assert count == 1
    ends = g.cell_of(np.array([path[0], path[-1]]))
    assert full[tuple(ends[0])] and full[tuple(ends[1])]


def test_a_thick_wire_gets_every_cell_whose_centre_lies_inside():
    g = _grid(10.0, 300.0)
    wire = Wire(path=((-200.0, 5.0, 3.0), (0.0, 5.0, 43.0), (200.0, -15.0, 3.0)), diameter=60.0)
    full = _paint(g, wire)
    cx, cy, cz = np.meshgrid(g.centres(0), g.centres(1), g.centres(2), indexing="ij")
    pts = np.stack([cx.ravel(), cy.ravel(), cz.ravel()], axis=1)
    distance = wire.centreline_distance(pts).reshape(g.shape)
    inside = distance <= wire.radius
    assert (inside & ~full).sum() == 0
    # The cells added to keep the chain face-connected lie within a cell's diagonal of the centre line.
    assert distance[full & ~inside].max(initial=0.0) <= wire.radius + math.sqrt(3) * 10.0


def test_label_table_ids_are_stable_and_ambient_is_zero():
    table = LabelTable()
    assert table.id("ambient", "air") == 0
    a = table.id("die", "silicon")
    assert table.id("die", "silicon") == a
    assert table.ids("die") == [a]
    assert table.ids(material="air") == [0]


def test_cylinder_on_an_offset_grid_matches_the_centre_test():
    g = Grid(np.linspace(-100, 100, 41), np.linspace(-100, 100, 37), np.array([0.0, 5.0, 10.0]))
    cyl = Cylinder(11.0, -4.0, 47.0, 0.0, 10.0)
    full = _paint(g, cyl)
    cx, cy = np.meshgrid(g.centres(0), g.centres(1), indexing="ij")
    expected = np.hypot(cx - 11.0, cy + 4.0) <= 47.0
    assert np.array_equal(full[:, :, 0], expected)
    assert np.array_equal(full[:, :, 1], expected)
