"""Partial inductance kernel (:mod:`moldstack.fields.inductance`) against closed forms and brute-force quadrature.

References: F. W. Grover, "Inductance Calculations" (1946), ch. 2 and 7; A. E. Ruehli, IBM J. Res. Dev. 16
(1972) 470; C. R. Paul, "Inductance: Loop and Partial" (2010); the reference values of
``/work/shared/design/physics.md`` (Electrical). The brute-force references integrate the Neumann integral
``mu0/(4 pi) ∫∫ dl1 . dl2 / |r1 - r2|`` by composite Gauss-Legendre quadrature on both segments, with no closed
form inside.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from moldstack.fields import inductance as ind
from moldstack.fields.inductance import (
    LoopInductance,
    gmd_rect,
    gmd_round,
    gmd_tube,
    loop_inductance,
    mutual_parallel,
    partial_inductance,
    self_inductance,
)

MU = ind.MU0_4PI * 1e-6  # mu0/(4 pi) per um of Neumann integral, H


def approx(expected: object, rel: float) -> object:
    """``pytest.approx`` with a relative tolerance only: its default absolute 1e-12 would swallow picohenries."""
    return pytest.approx(expected, rel=rel, abs=0.0)


def _nodes(length: float, panel_um: float, n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights on [0, length], panels no longer than ``panel_um``."""
    x, w = np.polynomial.legendre.leggauss(n)
    k = max(1, math.ceil(length / panel_um))
    edges = np.linspace(0.0, length, k + 1)
    h = np.diff(edges)[:, None]
    return (edges[:-1, None] + h * (x + 1) / 2).ravel(), (h * w / 2).ravel()


def neumann_brute(
    a0: np.ndarray,
    a1: np.ndarray,
    b0: np.ndarray,
    b1: np.ndarray,
    panel_um: float,
    n: int = 16,
    g: float = 0.0,
) -> float:
    """``mu0/(4 pi) ∫∫ dl1 . dl2 / sqrt(|r1 - r2|^2 + g^2)`` (H) by composite Gauss-Legendre on both segments."""
    a0, a1, b0, b1 = (np.asarray(v, dtype=float) for v in (a0, a1, b0, b1))
    la, lb = np.linalg.norm(a1 - a0), np.linalg.norm(b1 - b0)
    ua, ub = (a1 - a0) / la, (b1 - b0) / lb
    sa, wa = _nodes(la, panel_um, n)
    sb, wb = _nodes(lb, panel_um, n)
    pa = a0 + sa[:, None] * ua
    pb = b0 + sb[:, None] * ub
    r2 = np.full((sa.size, sb.size), g * g)
    for k in range(3):
        r2 += (pa[:, k, None] - pb[None, :, k]) ** 2
    return float(MU * (ua @ ub) * (wa @ (1.0 / np.sqrt(r2)) @ wb))


FILAMENT = (1e-9, 1e-9)
"""GMDs small enough for the kernel's GMD regularisation of close pairs not to act."""


def pair(a0, a1, b0, b1, g=(1.0, 1.0)) -> float:  # type: ignore[no-untyped-def]
    """The off-diagonal entry of ``partial_inductance`` for two segments."""
    return float(partial_inductance(np.array([a0, b0]), np.array([a1, b1]), np.array(g))[0, 1])


def grover_meeting(l1: float, l2: float, phi: float) -> float:
    """Grover's ``∫∫ ds dt / r`` for filaments from a common point with the angle ``phi`` between them."""
    r = math.sqrt(l1 * l1 + l2 * l2 - 2 * l1 * l2 * math.cos(phi))
    return 2 * (l1 * math.atanh(l2 / (l1 + r)) + l2 * math.atanh(l1 / (l2 + r)))


def polar_meeting(l1: float, l2: float, phi: float, n: int = 200) -> float:
    """The same integral in polar coordinates about the common point (``s = rho cos a``, ``t = rho sin a``): the
    ``1/r`` singularity cancels with the Jacobian, ``∫ rho_max(a) / sqrt(1 - sin(2a) cos(phi)) da``."""
    x, w = np.polynomial.legendre.leggauss(n)
    split = math.atan2(l2, l1)
    total = 0.0
    for lo, hi, rmax in (
        (0.0, split, lambda a: l1 / np.cos(a)),
        (split, math.pi / 2, lambda a: l2 / np.sin(a)),
    ):
        a = lo + (hi - lo) * (x + 1) / 2
        total += (hi - lo) / 2 * np.sum(w * rmax(a) / np.sqrt(1 - np.sin(2 * a) * math.cos(phi)))
    return float(total)


def package(
    wires: int = 40, segments: int = 24, posts: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A realistic set: gold bond wires (25 um) as polylines of ``segments`` pieces, ``wires/4`` per side of a
    4 mm die at a 150 um pitch, looping from the die top (z = 500 um) to fingers 1.1 mm out; and copper posts
    (r = 75 um, 300 um tall) on a ring 4.2 mm from the centre at an 800 um pitch."""
    starts, ends, g = [], [], []
    per_side = wires // 4
    s = np.linspace(0.0, 1.0, segments + 1)
    for side in range(4):
        c, sn = math.cos(side * math.pi / 2), math.sin(side * math.pi / 2)
        rot = np.array([[c, -sn, 0.0], [sn, c, 0.0], [0.0, 0.0, 1.0]])
        for k in range(per_side):
            y = (k - (per_side - 1) / 2) * 150.0
            pts = np.stack(
                [1900 + 1100 * s**1.5, np.full_like(s, y), 500 * (1 - s) + 250 * np.sin(np.pi * s**0.7)], 1
            )
            pts = pts @ rot.T
            starts.append(pts[:-1])
            ends.append(pts[1:])
            g += [gmd_round(12.5)] * segments
        for k in range(posts // 4):
            p = rot @ np.array([4200.0, (k - (posts // 4 - 1) / 2) * 800.0, 0.0])
            starts.append(p[None])
            ends.append((p + np.array([0.0, 0.0, 300.0]))[None])
            g.append(gmd_round(75.0))
    return np.concatenate(starts), np.concatenate(ends), np.array(g)


# ---------------------------------------------------------------------------------------------------------------
# Reference values


def test_reference_post_pair() -> None:
    """physics.md (Electrical): Cu posts r = 75 um, h = 300 um, pitch 400 um: partial self 90.9 pH, mutual 21.6 pH,
    loop of the pair shorted at one end about 139 pH (= 2 Lp - 2 M, Paul 2010); each within 2 %, through
    ``partial_inductance`` on two vertical segments and ``loop_inductance``."""
    g = gmd_round(75.0)
    lm = partial_inductance(
        np.array([[0, 0, 0], [400, 0, 0.0]]), np.array([[0, 0, 300], [400, 0, 300.0]]), [g, g]
    )
    assert lm[0, 0] == approx(90.9e-12, rel=0.02)
    assert lm[1, 1] == lm[0, 0]
    assert lm[0, 1] == approx(21.6e-12, rel=0.02)
    assert lm[0, 0] == approx(self_inductance(300.0, g), rel=1e-12)
    assert lm[0, 1] == approx(mutual_parallel(300.0, 400.0), rel=1e-12)
    loop = loop_inductance(lm, 0, np.array([1]))
    assert loop.l_h == approx(139e-12, rel=0.02)
    assert loop.split == approx((1.0,), rel=1e-12)


def test_bond_wire_collinear_pieces_add_up() -> None:
    """Partial inductances of collinear pieces of one straight conductor add up exactly (Ruehli 1972; Paul 2010
    ch. 5): a 1 mm gold wire of 25 um diameter cut into 10 pieces sums to its self inductance to 1e-6; that is
    Rosa's ``0.2 l [ln(2l/r) - 0.75]`` nH (Grover 1946) within 1 % (l >> r). The rule of thumb of 1 nH/mm
    (physics.md) holds within 10 % for 1.5-3 mm wires; at 1 mm this wire is 0.867 nH (13 % under it)."""
    g = gmd_round(12.5)
    z = np.linspace(0.0, 1000.0, 11)
    pts = np.stack([np.zeros(11), np.zeros(11), z], 1)
    lm = partial_inductance(pts[:-1], pts[1:], np.full(10, g))
    whole = self_inductance(1000.0, g)
    assert lm.sum() == approx(whole, rel=1e-6)
    assert whole == approx(0.2 * 1.0 * (math.log(2 * 1.0 / 0.0125) - 0.75) * 1e-9, rel=0.01)
    assert whole == approx(0.867e-9, rel=0.002)
    for mm in (1.5, 2.0, 3.0):
        assert self_inductance(mm * 1000.0, g) / mm == approx(1e-9, rel=0.10)
    # the same wire tilted and cut unevenly: still exact
    cuts = np.sort(np.concatenate([[0.0, 1.0], np.random.default_rng(3).uniform(0.0, 1.0, 7)]))
    d = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    pts = np.array([100.0, 200.0, 50.0]) + 1000.0 * cuts[:, None] * d
    assert partial_inductance(pts[:-1], pts[1:], np.full(8, g)).sum() == approx(whole, rel=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# Parallel filaments


@pytest.mark.parametrize(
    ("length", "distance"), [(300.0, 400.0), (1000.0, 10.0), (50.0, 2000.0), (100.0, 100.0)]
)
def test_mutual_parallel_vs_quadrature(length: float, distance: float) -> None:
    """Grover's mutual of two equal parallel filaments (1946, ch. 7) against brute-force quadrature of the
    Neumann integral; relative 1e-6."""
    ref = neumann_brute([0, 0, 0], [0, 0, length], [distance, 0, 0], [distance, 0, length], panel_um=distance)
    assert mutual_parallel(length, distance) == approx(ref, rel=1e-6)


@pytest.mark.parametrize(
    ("l1", "l2", "offset", "distance"),
    [
        (300.0, 120.0, 50.0, 40.0),  # j inside i
        (300.0, 200.0, 250.0, 60.0),  # partial overlap
        (100.0, 250.0, -400.0, 30.0),  # no overlap
        (100.0, 250.0, 130.0, 0.0),  # collinear, a gap of 30 um
        (80.0, 50.0, -60.0, 0.0),  # collinear, a gap of 10 um
    ],
)
def test_parallel_offset_vs_quadrature(l1: float, l2: float, offset: float, distance: float) -> None:
    """Grover's formula for parallel filaments of unequal length with offset (1946, ch. 7), collinear included
    (d = 0, written so that it stays finite), against brute-force quadrature; relative 1e-6; reversing one
    segment negates it exactly (antiparallel)."""
    tilt = np.array([1.0, 2.0, 2.0]) / 3.0
    side = np.array([2.0, -2.0, 1.0]) / 3.0  # perpendicular to tilt
    a0, a1 = np.zeros(3), l1 * tilt
    b0 = offset * tilt + distance * side
    b1 = b0 + l2 * tilt
    gap = max(offset - l1, -offset - l2, distance)
    ref = neumann_brute(a0, a1, b0, b1, panel_um=max(gap, 1.0))
    assert pair(a0, a1, b0, b1, FILAMENT) == approx(ref, rel=1e-6)
    assert pair(a0, a1, b1, b0, FILAMENT) == -pair(a0, a1, b0, b1, FILAMENT)


def test_overlapping_collinear_uses_gmd() -> None:
    """Overlapping collinear segments are the same conductor twice: the distance becomes the larger GMD, giving
    the self inductance for a segment and its copy (Grover's GMD method); finite, not a division by zero."""
    g = gmd_round(12.5)
    lm = partial_inductance(np.zeros((2, 3)), np.array([[0, 0, 100.0]] * 2), np.array([g, 0.5 * g]))
    assert lm[0, 1] == approx(self_inductance(100.0, g), rel=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# Signs and symmetry


def test_perpendicular_segments_are_decoupled() -> None:
    """Neumann's integrand carries ``dl1 . dl2``: perpendicular segments do not couple (Paul 2010, ch. 5), whether
    far, crossing, touching at a corner or forming a T; zero to 1e-18 H."""
    a0, a1 = np.zeros(3), np.array([100.0, 0, 0])
    for b0, b1 in (
        ([50.0, 20, 5], [50.0, 20, 90]),
        ([50.0, -30, 0], [50.0, 40, 0]),
        ([100.0, 0, 0], [100.0, 80, 0]),
        ([50.0, 0, 0], [50.0, 0, 70]),
    ):
        assert abs(pair(a0, a1, b0, b1)) < 1e-18


def test_antiparallel_and_reversed_skew_negate() -> None:
    """Reversing a segment's current reverses the sign of its mutual partial inductance (Neumann); for
    skew and joined segments too."""
    cases = [
        ([0.0, 0, 0], [100.0, 0, 0], [0.0, 50, 0], [80.0, 60, 30]),
        ([0.0, 0, 0], [100.0, 0, 0], [100.0, 0, 0], [160.0, 30, 0]),
    ]
    for a0, a1, b0, b1 in cases:
        m = pair(a0, a1, b0, b1, (5.0, 5.0))
        assert m != 0.0
        assert pair(a0, a1, b1, b0, (5.0, 5.0)) == approx(-m, rel=1e-12)
        assert pair(b0, b1, a0, a1, (5.0, 5.0)) == m


def test_realistic_set_symmetric_positive_definite() -> None:
    """A package's worth of conductors (40 bond wires of 24 pieces, 40 posts; 1000 segments): the partial
    inductance matrix is symmetric and positive definite, as the magnetic energy ``i^T L i / 2`` of any currents
    must be (Ruehli 1972); Cholesky succeeds. Entries do not depend on the rest of the set or on the threads:
    a subset's matrix is the block of the whole (exactly)."""
    start, end, g = package()
    assert start.shape == (1000, 3)
    lm = partial_inductance(start, end, g)
    assert np.array_equal(lm, lm.T)
    np.linalg.cholesky(lm - 0.1 * lm.diagonal().min() * np.eye(1000))  # with a margin
    idx = np.arange(0, 1000, 7)
    sub = partial_inductance(start[idx], end[idx], g[idx])
    assert np.array_equal(sub, lm[np.ix_(idx, idx)])


# ---------------------------------------------------------------------------------------------------------------
# Joints and the general path


@pytest.mark.parametrize("degrees", [10.0, 45.0, 90.0, 120.0, 178.0])
def test_grover_meeting_formula_vs_quadrature(degrees: float) -> None:
    """Grover's closed form for two filaments meeting at a point (1946, ch. 7),
    ``∫∫ ds dt / r = 2 [l1 atanh(l2/(l1+R)) + l2 atanh(l1/(l2+R))]``, against quadrature in polar coordinates
    about the common point (relative 1e-10); the kernel's joint tends to it as the GMD goes to 0 (relative 1e-5);
    a right angle gives 0 (to 1e-18 H)."""
    phi = math.radians(degrees)  # angle between the two rays from the common point
    l1, l2 = 120.0, 70.0
    assert grover_meeting(l1, l2, phi) == approx(polar_meeting(l1, l2, phi), rel=1e-10)
    # a polyline a -> v -> b: the directions make the angle pi - phi, M = mu0/(4 pi) cos(pi - phi) I
    v = np.array([10.0, 20.0, 30.0])
    a = v + l1 * np.array([1.0, 0.0, 0.0])
    b = v + l2 * np.array([math.cos(phi), math.sin(phi), 0.0])
    m = pair(a, v, v, b, (1e-7, 1e-7))
    expected = MU * math.cos(math.pi - phi) * grover_meeting(l1, l2, phi)
    if degrees == 90.0:
        assert abs(m) < 1e-18
    else:
        assert m == approx(expected, rel=1e-5)


@pytest.mark.parametrize("degrees", [5.0, 30.0, 100.0, 170.0])
def test_joint_regularised_vs_quadrature(degrees: float) -> None:
    """Pieces of one conductor meeting at an angle take the GMD-regularised kernel ``1/sqrt(r^2 + g^2)``, like the
    self term (Grover's GMD method): against brute-force quadrature of that kernel, relative 1e-6."""
    g = gmd_round(12.5)
    v = np.zeros(3)
    a = np.array([-60.0, 0.0, 0.0])
    t = math.radians(degrees)  # turn of the polyline
    b = 45.0 * np.array([math.cos(t), 0.0, math.sin(t)])
    ref = neumann_brute(a, v, v, b, panel_um=g / 2, g=g)
    assert pair(a, v, v, b, (g, g)) == approx(ref, rel=1e-6)


def test_bent_wire_is_continuous_and_converges() -> None:
    """With GMD-regularised joints a barely bent wire has the straight wire's inductance (filament joints would
    add about ``mu0/(4 pi) g`` per joint, 2 % here: relative 1e-3), and polylines of an arc (1 mm, 45 and 90
    degrees, 25 um wire) approach the GMD-regularised Neumann integral along the arc itself (brute-force
    quadrature): within 0.5 % with pieces of 17 GMDs, 0.2 % with pieces of 4 to 9 GMDs."""
    g = gmd_round(12.5)

    def arc(turn: float, pieces: int) -> np.ndarray:
        ang = np.linspace(0.0, turn, pieces + 1)
        rad = 1000.0 / turn
        return np.stack([rad * np.sin(ang), np.zeros_like(ang), rad * (1 - np.cos(ang))], 1)

    def polyline_sum(pts: np.ndarray) -> float:
        return float(partial_inductance(pts[:-1], pts[1:], np.full(len(pts) - 1, g)).sum())

    straight = np.stack([np.linspace(0.0, 1000.0, 11), np.zeros(11), np.zeros(11)], 1)
    assert polyline_sum(straight) == approx(self_inductance(1000.0, g), rel=1e-6)
    assert polyline_sum(arc(1e-6, 10)) == approx(polyline_sum(straight), rel=1e-3)
    for turn in (math.pi / 4, math.pi / 2):
        s, w = _nodes(1000.0, 4.0, 8)
        rad = 1000.0 / turn
        p = np.stack([rad * np.sin(s / rad), rad * (1 - np.cos(s / rad))], 1)
        t = np.stack([np.cos(s / rad), np.sin(s / rad)], 1)
        r2 = (p[:, None, 0] - p[None, :, 0]) ** 2 + (p[:, None, 1] - p[None, :, 1]) ** 2 + g * g
        continuum = MU * float(w @ ((t @ t.T) / np.sqrt(r2)) @ w)
        assert polyline_sum(arc(turn, 6)) == approx(continuum, rel=5e-3)
        for pieces in (12, 24):
            assert polyline_sum(arc(turn, pieces)) == approx(continuum, rel=2e-3)


def test_close_pairs_regularised_continuous_bounded() -> None:
    """Non-parallel segments closer than the larger GMD (crossing or overlapping wires) take the kernel
    ``1/sqrt(r^2 + g^2 - d_min^2)``: against brute-force quadrature of that kernel (relative 1e-6); continuous
    where ``d_min`` passes ``g`` (the filament beyond: relative 1e-5 across) and as the angle goes to 0 (the
    parallel path's ``max(d, g)``: relative 1e-4); overlapping wire pieces keep the 2 x 2 matrix positive
    definite, where filaments make it indefinite (``M^2 > L1 L2``)."""
    g = gmd_round(12.5)
    a0, a1 = np.array([-60.0, 0.0, 0.0]), np.array([60.0, 0.0, 0.0])

    def other(d: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
        v = np.array([math.cos(angle), math.sin(angle), 0.0])
        return np.array([0.0, 0.0, d]) - 50.0 * v, np.array([0.0, 0.0, d]) + 50.0 * v

    for d in (0.0, 0.5 * g):
        b0, b1 = other(d, 0.3)
        ref = neumann_brute(a0, a1, b0, b1, panel_um=g / 4, g=math.sqrt(g * g - d * d))
        assert pair(a0, a1, b0, b1, (g, g)) == approx(ref, rel=1e-6)
    below, above = (pair(a0, a1, *other(g * f, 0.3), (g, g)) for f in (1 - 1e-7, 1 + 1e-7))
    assert below == approx(above, rel=1e-5)
    assert pair(a0, a1, *other(g * 1.5, 0.3), (g, g)) == approx(
        neumann_brute(a0, a1, *other(g * 1.5, 0.3), g / 2), rel=1e-6
    )
    b0, b1 = other(0.3 * g, 0.0)
    parallel = pair(a0, a1, b0, b1, (g, g))
    assert pair(a0, a1, *other(0.3 * g, 1e-6), (g, g)) == approx(parallel, rel=1e-4)
    for angle in (0.0, 1e-3, 0.05):
        b0, b1 = other(0.2 * g, angle)
        lm = partial_inductance(np.array([a0, b0]), np.array([a1, b1]), np.array([g, g]))
        np.linalg.cholesky(lm)
        filament = partial_inductance(np.array([a0, b0]), np.array([a1, b1]), np.array(FILAMENT))[0, 1]
        assert filament**2 > lm[0, 0] * lm[1, 1]  # filaments: indefinite


@pytest.mark.parametrize("ratio", [0.01, 0.1, 0.5, 2.0, 20.0])
def test_general_path_vs_reference(ratio: float) -> None:
    """Skew segments (no shared end, not parallel) at distances of 0.01 to 20 times the shorter length: closed-form
    inner integral and marching Gauss-Legendre panels against a brute-force quadrature of the Neumann integral
    (200 points per segment when far, composite panels near); relative 1e-6 (the method reaches about 1e-10)."""
    rng = np.random.default_rng(int(ratio * 100))
    for _ in range(4):
        ua, ub = rng.normal(size=3), rng.normal(size=3)
        ua /= np.linalg.norm(ua)
        ub /= np.linalg.norm(ub)
        la, lb = 80.0, 130.0
        normal = np.cross(ua, ub)
        normal /= np.linalg.norm(normal)
        a0, a1 = np.zeros(3), la * ua
        b0 = rng.uniform(0.2, 0.8) * la * ua + ratio * la * normal - rng.uniform(0.2, 0.8) * lb * ub
        b1 = b0 + lb * ub
        if ratio >= 0.5:
            ref = neumann_brute(a0, a1, b0, b1, panel_um=1e9, n=200)
        else:
            ref = neumann_brute(a0, a1, b0, b1, panel_um=ratio * la, n=16)
        assert pair(a0, a1, b0, b1, FILAMENT) == approx(ref, rel=1e-6)


def test_crossing_and_t_junction_segments() -> None:
    """Segments that cross (a 1/r singularity inside both, integrable) or end on the other's side (T): the
    geometrically graded panels reach the log singularity of the inner integral; against adaptive quadrature
    (QUADPACK) of the same inner closed form, split at the singular point, relative 1e-6."""
    a0, a1 = np.zeros(3), np.array([100.0, 0.0, 0.0])
    u = np.array([1.0, 0.0, 0.0])
    for ends in (([30.0, -40.0, 0.0], [90.0, 50.0, 0.0]), ([40.0, 0.0, 0.0], [100.0, 60.0, 30.0])):
        b0, b1 = (np.array(v) for v in ends)
        lb = np.linalg.norm(b1 - b0)
        ub = (b1 - b0) / lb

        def inner(s: float, b0: np.ndarray = b0, b1: np.ndarray = b1, lb: float = lb) -> float:
            p = a0 + s * u
            ra, rb = np.linalg.norm(p - b0), np.linalg.norm(p - b1)
            return math.log((ra + rb + lb) / (ra + rb - lb))

        x_sing = 30.0 + 60.0 * 4.0 / 9.0 if b0[1] < 0 else 40.0  # where b meets a
        ref = sum(
            integrate.quad(inner, lo, hi, epsrel=1e-9, limit=200)[0]
            for lo, hi in ((0, x_sing), (x_sing, 100))
        )
        assert pair(a0, a1, b0, b1, FILAMENT) == approx(MU * (u @ ub) * ref, rel=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# Geometric mean distances


def test_gmd_round_and_tube_limits() -> None:
    """Grover (1946, ch. 2): a round wire's GMD is ``r e^(-1/4)``; the annulus formula tends to it for a vanishing
    bore and to ``ro`` for a thin shell (both 1e-6); it is continuous across the series used near the shell."""
    assert gmd_round(75.0) == approx(75.0 * math.exp(-0.25), rel=1e-15)
    assert gmd_tube(75.0, 0.0) == gmd_round(75.0)
    assert gmd_tube(75.0, 1e-3) == approx(gmd_round(75.0), rel=1e-6)
    assert gmd_tube(75.0, 75.0 * (1 - 1e-7)) == approx(75.0, rel=1e-6)
    assert gmd_tube(75.0, 75.0) == approx(75.0, rel=1e-15)
    y = 1e-4  # the switch to the series, y = 1 - ri^2/ro^2
    lo, hi = (gmd_tube(1.0, math.sqrt(1 - y * f)) for f in (0.999999, 1.000001))
    assert lo == approx(hi, rel=1e-10)


@pytest.mark.parametrize("ratio", [0.2, 0.5, 0.8, 0.95])
def test_gmd_tube_vs_integral(ratio: float) -> None:
    """The annulus GMD against its definition ``ln g = <ln |r1 - r2|>``: averaging over angles leaves
    ``ln max(rho1, rho2)`` (Gauss' mean value for circles), integrated over both radii; relative 1e-8."""
    ro, ri = 1.0, ratio
    area = math.pi * (ro**2 - ri**2)

    def f(r2: float, r1: float) -> float:
        return math.log(max(r1, r2)) * (2 * math.pi * r1) * (2 * math.pi * r2)

    # the triangle r2 < r1 (smooth there), twice
    val = 2 * integrate.dblquad(f, ri, ro, lambda r1: ri, lambda r1: r1, epsabs=1e-12, epsrel=1e-11)[0]
    assert gmd_tube(ro, ri) == approx(math.exp(val / area**2), rel=1e-8)


def test_gmd_rect_limits_and_integral() -> None:
    """Rosa's exact GMD of a rectangle (Grover 1946, ch. 2): a square gives 0.44705 a, within 0.1 % of the usual
    ``0.2235 (w + t)``; a thin strip tends to ``e^(-3/2) w`` (1e-6; 0.2235 w within 0.2 %); a 3 x 1 rectangle
    matches the definition ``ln g = <ln |r1 - r2|>`` integrated numerically (relative 1e-8)."""
    assert gmd_rect(10.0, 10.0) == approx(0.2235 * 20.0, rel=1e-3)
    assert gmd_rect(10.0, 10.0) == approx(4.4705, rel=1e-4)
    assert gmd_rect(100.0, 1e-5) == approx(100.0 * math.exp(-1.5), rel=1e-6)
    assert gmd_rect(100.0, 1e-5) == approx(0.2235 * 100.0, rel=2e-3)
    assert gmd_rect(3.0, 1.0) == gmd_rect(1.0, 3.0)
    a, b = 3.0, 1.0
    # <ln r> over pairs: the difference (x, y) has density (a - x)(b - y) on [0, a] x [0, b], four quadrants
    val = integrate.dblquad(
        lambda y, x: 0.5 * math.log(x * x + y * y) * (a - x) * (b - y), 0, a, 0, b, epsabs=1e-13, epsrel=1e-12
    )[0]
    assert gmd_rect(a, b) == approx(math.exp(4 * val / (a * b) ** 2), rel=1e-8)


# ---------------------------------------------------------------------------------------------------------------
# Loop inductance


def test_loop_inductance_returns_in_parallel() -> None:
    """A signal with its returns in parallel (Paul 2010, ch. 6): one return gives ``L_ss + L_rr - 2 L_sr``; two
    symmetric returns split the current equally; the split minimises ``L_ss - 2 a.L_sr + a^T L_rr a`` (no other
    split with ``sum a = 1`` does better); several signal nets in parallel split too."""
    start, end, g = package(wires=4, segments=6, posts=8)
    posts = partial_inductance(start[-8:], end[-8:], g[-8:])
    assert loop_inductance(posts, 2, np.array([5])).l_h == approx(
        posts[2, 2] + posts[5, 5] - 2 * posts[2, 5], rel=1e-12
    )
    sym = np.array([[3.0, 1.0, 1.0], [1.0, 2.0, 0.5], [1.0, 0.5, 2.0]]) * 1e-10
    two = loop_inductance(sym, 0, np.array([1, 2]))
    assert two.split == approx((0.5, 0.5), rel=1e-12)
    assert two.l_h == approx((3.0 - 2.0 + 1.25) * 1e-10, rel=1e-12)
    sig, ret = 1, np.array([0, 3, 6])
    best = loop_inductance(posts, sig, ret)
    assert sum(best.split) == approx(1.0, rel=1e-12)

    def energy(a: np.ndarray) -> float:
        lrr = posts[np.ix_(ret, ret)]
        return float(posts[sig, sig] - 2 * a @ posts[ret, sig] + a @ lrr @ a)

    assert energy(np.array(best.split)) == approx(best.l_h, rel=1e-12)
    for a in np.random.default_rng(5).dirichlet(np.ones(3), 50):
        assert energy(a) >= best.l_h
    both = loop_inductance(posts, np.array([1, 2]), ret)
    assert sum(both.signal_split) == approx(1.0, rel=1e-12)
    assert both.l_h < best.l_h
    assert isinstance(both, LoopInductance)
    assert both.to_dict()["split"] == list(both.split)


# ---------------------------------------------------------------------------------------------------------------
# Input checks


def test_bad_input_is_refused() -> None:
    """Zero-length segments, non-positive GMDs, shape mismatches and bad indices are refused, not computed."""
    with pytest.raises(ValueError, match="zero-length"):
        partial_inductance(np.zeros((2, 3)), np.array([[0, 0, 1.0], [0, 0, 0]]), np.ones(2))
    with pytest.raises(ValueError, match="GMD"):
        partial_inductance(np.zeros((1, 3)), np.ones((1, 3)), np.zeros(1))
    with pytest.raises(ValueError, match="shape"):
        partial_inductance(np.zeros((2, 3)), np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError):
        gmd_tube(1.0, 2.0)
    with pytest.raises(ValueError):
        gmd_rect(1.0, 0.0)
    with pytest.raises(ValueError, match="distinct"):
        loop_inductance(np.eye(3), 0, np.array([0, 1]))
