"""Primitives: exact distances that the interference and connectivity checks rely on."""

from __future__ import annotations

import numpy as np
import pytest

from moldstack.geometry.primitives import Box, Tube, Wire, moved


def test_closest_centrelines_of_crossing_and_parallel_segments():
    a = Wire(path=((0, 0, 0), (10, 0, 0)), diameter=1)
    crossing = Wire(path=((5, -5, 2), (5, 5, 2)), diameter=1)
    d, point = a.closest_centrelines(crossing)
    assert d == pytest.approx(2.0)
    assert tuple(point) == pytest.approx((5, 0, 1))
    parallel = Wire(path=((2, 3, 0), (8, 3, 0)), diameter=1)
    assert a.closest_centrelines(parallel)[0] == pytest.approx(3.0)
    beyond = Wire(path=((13, 4, 0), (20, 4, 0)), diameter=1)  # closest pair is end to end: hypot(3, 4)
    assert a.closest_centrelines(beyond)[0] == pytest.approx(5.0)


def test_closest_centrelines_match_dense_sampling():
    """Exact distance <= the sampled one, and within the sampling step of it (1e-3)."""
    rng = np.random.default_rng(7)
    for _ in range(100):
        a = Wire(path=tuple(map(tuple, rng.normal(size=(4, 3)))), diameter=0.1)
        b = Wire(path=tuple(map(tuple, rng.normal(size=(6, 3)))), diameter=0.1)
        exact, _ = a.closest_centrelines(b)
        sampled = b.centreline_distance(a.samples(1e-3)).min()
        assert exact <= sampled + 1e-12
        assert sampled - exact < 1e-3


def test_signed_distances():
    box = Box(z0=0, z1=2, x0=0, y0=0, x1=4, y1=4)
    pts = np.array([[2, 2, 1], [6, 2, 1], [7, 8, 1], [2, 2, 5]])
    assert box.signed_distance(pts) == pytest.approx([-1, 2, 5, 3])
    tube = Tube(z0=0, z1=10, cx=0, cy=0, r=5, r_inner=2)
    assert tube.signed_distance(np.array([[0, 0, 5], [3.5, 0, 5], [8, 0, 5]])) == pytest.approx([2, -1.5, 3])


def test_moved_keeps_the_shape():
    tube = Tube(z0=0, z1=10, cx=1, cy=2, r=5, r_inner=2)
    m = moved(tube, 10, 20, 30)
    assert (m.cx, m.cy, m.z0, m.z1, m.r, m.r_inner) == (11, 22, 30, 40, 5, 2)
    w = moved(Wire(path=((0, 0, 0), (1, 1, 1)), diameter=2), 1, 2, 3)
    assert w.path == ((1, 2, 3), (2, 3, 4)) and w.diameter == 2
