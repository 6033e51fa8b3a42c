"""The homogenised test board: exact layer sums, and the field solver's agreement with the resolved laminate."""

from __future__ import annotations

import numpy as np
import pytest

from moldstack.analysis.board import (
    BOARD_PLANE_UM,
    BOARD_THICKNESS_UM,
    Layer,
    board_layers,
    homogenised,
)
from moldstack.fields import DiffusionProblem, FaceCondition, solve
from moldstack.geometry.grid import Grid

UM = 1e-6


def test_board_layup_is_the_2s2p_board():
    layers = board_layers(0.3, 400.0)
    assert [lay.k for lay in layers] == [0.3, 400.0, 0.3, 400.0, 0.3]
    assert layers[0].z0 == 0.0 and layers[-1].z1 == BOARD_THICKNESS_UM
    assert sum(lay.z1 - lay.z0 for lay in layers if lay.k == 400.0) == pytest.approx(2 * BOARD_PLANE_UM)


def test_homogenised_is_parallel_in_plane_and_series_through():
    """Over the whole board: k_in = sum(k t)/T and k_through = T / sum(t/k), exactly (1e-12)."""
    layers = board_layers(0.3, 400.0)
    k_in, k_through = homogenised(layers, np.array([0.0, BOARD_THICKNESS_UM]))
    t = np.array([lay.z1 - lay.z0 for lay in layers])
    k = np.array([lay.k for lay in layers])
    assert k_in[0] == pytest.approx((k * t).sum() / t.sum(), rel=1e-12)
    assert k_through[0] == pytest.approx(t.sum() / (t / k).sum(), rel=1e-12)
    # a cell layer without copper is plain laminate; one that cuts a plane in half holds half of it
    z_plane = layers[1].z0
    k_in, k_through = homogenised(layers, np.array([0.0, z_plane, z_plane + BOARD_PLANE_UM / 2]))
    assert k_in[0] == pytest.approx(0.3) and k_through[0] == pytest.approx(0.3)
    assert k_in[1] == pytest.approx(400.0)
    with pytest.raises(ValueError, match="within the laminate"):
        homogenised(layers, np.array([-10.0, 100.0]))


@pytest.mark.parametrize("axis", [0, 2])
def test_homogenised_board_conducts_like_the_resolved_one(axis: int):
    """A 4 mm x 2 mm strip of the board with held ends, flow in plane (x) or through (z): the grid with the
    laminate resolved layer by layer and the grid with 2 homogenised cell layers give the same conductance to
    1e-9 (both are exact for 1D flow along or across the layers)."""
    layers = board_layers(0.3, 400.0)
    z_resolved = np.unique([lay.z0 for lay in layers] + [layers[-1].z1])
    z_coarse = np.linspace(0.0, BOARD_THICKNESS_UM, 3)
    x = np.linspace(0.0, 4000.0, 9)
    y = np.array([0.0, 2000.0])
    lo, hi = ("xmin", "xmax") if axis == 0 else ("zmin", "zmax")
    faces = (FaceCondition(lo, "dirichlet", 1.0), FaceCondition(hi, "dirichlet", 0.0, name="out"))
    flows = []
    for z in (z_resolved, z_coarse):
        grid = Grid(x, y, z)
        centres = grid.centres(2)
        if len(z) == len(z_resolved):
            k = np.array([next(lay.k for lay in layers if lay.z0 <= c < lay.z1) for c in centres])
            kx = kz = np.broadcast_to(k, grid.shape).copy()
        else:
            k_in, k_through = homogenised(layers, z)
            kx = np.broadcast_to(k_in, grid.shape).copy()
            kz = np.broadcast_to(k_through, grid.shape).copy()
        sol = solve(DiffusionProblem(grid=grid, k=(kx, kx.copy(), kz), faces=faces), tol=1e-12)
        flows.append(sol.face_flows["out"])
    assert flows[1] == pytest.approx(flows[0], rel=1e-9)


def test_layer_type_is_plain_data():
    assert Layer(0.0, 1.0, 2.0).k == 2.0
