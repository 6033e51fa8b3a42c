"""The two routes to one structure agree: the claimed process run on every example it makes, against the direct
build voxelised on the same grid (design/architecture.md: "a design built both ways must agree cell for cell,
within one grid cell at boundaries"). Required: agreement >= 99.9 % of cells, and no difference away from a
material boundary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import moldstack
from moldstack.fab.agreement import agreement, compare
from moldstack.fab.generate import flow_for, method_applies
from moldstack.fab.runner import run
from moldstack.fab.steps import GridSettings
from moldstack.geometry.grid import Grid
from moldstack.geometry.voxelize import Label, LabelTable, Voxels

EXAMPLES = Path(__file__).parent.parent / "examples"
MADE_BY_THE_METHOD = sorted(p.name for p in EXAMPLES.glob("*.yaml") if method_applies(moldstack.load(p)))
SCREENING = GridSettings(fine_um=25.0, coarse_um=200.0, z_cell_um=50.0)


def test_the_method_applies_to_the_plated_via_examples_only():
    assert MADE_BY_THE_METHOD == ["claim21_plated_via.yaml", "claim23_filled_vias.yaml"]


@pytest.mark.parametrize("grid", [GridSettings(), SCREENING], ids=["default-grid", "screening-grid"])
@pytest.mark.parametrize("name", MADE_BY_THE_METHOD)
def test_process_and_direct_build_agree_cell_for_cell(name, grid):
    design = moldstack.load(EXAMPLES / name)
    result = run(flow_for(design, grid=grid))
    assert result.violations == ()
    found = agreement(result, design)
    assert found.fraction >= 0.999, found.differences[:5]
    assert found.interior_differences == 0, found.interior_locations_um
    assert found.cells == result.final.grid.cells > 1_000_000


def test_a_tapered_drill_makes_a_different_structure_and_the_comparison_says_where():
    design = moldstack.load(EXAMPLES / "claim21_plated_via.yaml")
    flow = flow_for(design, grid=SCREENING)
    steps = [s.model_copy(update={"taper_deg": 10.0}) if s.step == "drill" else s for s in flow.steps]
    found = agreement(run(flow.model_copy(update={"steps": steps})), design)
    assert found.fraction < 0.999
    assert found.interior_differences > 0
    pairs = {(d.process, d.model) for d in found.differences}
    assert ("body (emc)", "conductive_unit.via (copper)") in pairs
    units = {(u.x, u.y) for u in moldstack.build(design).assemblies[0].units}
    x, y, _ = found.interior_locations_um[0]
    assert min(np.hypot(x - ux, y - uy) for ux, uy in units) < 100.0


def test_skipping_the_plating_leaves_empty_apertures_where_the_model_has_vias():
    design = moldstack.load(EXAMPLES / "claim21_plated_via.yaml")
    flow = flow_for(design, grid=SCREENING)
    flow = flow.model_copy(update={"steps": [s for s in flow.steps if s.step != "plate"]})
    found = agreement(run(flow), design)
    assert found.interior_differences > 0
    assert found.differences[0].process == "process.aperture (air)"


def _voxels(grid_labels: np.ndarray, labels: list[Label]) -> Voxels:
    n = grid_labels.shape
    grid = Grid(np.arange(n[0] + 1.0), np.arange(n[1] + 1.0), np.arange(n[2] + 1.0))
    return Voxels(grid, grid_labels.astype(np.uint16), LabelTable(labels))


def test_compare_tells_boundary_from_interior_differences():
    table = [Label("ambient", "air"), Label("die", "silicon"), Label("body", "emc")]
    a = np.full((9, 9, 9), 2)
    a[2:7, 2:7, 2:7] = 1
    b = a.copy()
    b[6, 2:7, 2:7] = 2  # the die one cell shorter: every difference sits at the interface
    found = compare(_voxels(a, table), _voxels(b, table))
    assert found.cells - found.agreeing == 25
    assert found.interior_differences == 0
    c = a.copy()
    c[4, 4, 4] = 2  # a void in the middle of the die, one cell from any other material in the model
    found = compare(_voxels(a, table), _voxels(c, table))
    assert found.interior_differences == 1
    assert found.interior_locations_um == ((4.5, 4.5, 4.5),)
    assert found.differences[0].process == "die (silicon)"
    assert found.differences[0].model == "body (emc)"
