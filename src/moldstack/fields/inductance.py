"""Partial inductance of straight conductor segments (PEEC, quasi-static): the pure-math kernel.

Model. Each conductor piece is a straight filament from ``start`` to ``end`` carrying a uniform current; its
cross section enters only through its geometric mean distance (GMD) to itself. The partial inductance matrix
follows Ruehli's partial-element formulation: the mutual partial inductance of two segments is the Neumann
integral ``M = mu0/(4 pi) ∫∫ dl1 . dl2 / |r1 - r2|`` (positive for parallel currents, negative for
antiparallel, zero for perpendicular segments) and the partial self inductance of a segment is the mutual of two
parallel equal filaments at the GMD of its section, ``L = mu0/(2 pi) [l asinh(l/g) - sqrt(l^2 + g^2) + g]``.
Lengths are in micrometres, inductances in henry. The matrix is computed as follows:

- parallel and antiparallel pairs (at any offset, collinear included): Grover's exact formula for parallel
  filaments of unequal length, ``sum ±[z asinh(z/d) - sqrt(z^2 + d^2)]`` over the four differences of the end
  positions along the axis, written as ``sum ±[|z| ln(|z| + sqrt(z^2 + d^2)) - sqrt(z^2 + d^2)] - 2 o ln d``
  (``o`` the axial overlap) so that it stays exact down to ``d = 0``. Parallel pairs closer than the larger of
  their two GMDs are pieces of one conductor (a wire or post cut along its axis) or overlapping conductors: the
  distance is taken as that GMD, so the pieces of a straight conductor add up exactly to its self inductance;
- all other pairs: the integral along the longer segment in closed form, ``∫ dt / |p - x(t)| =
  ln((ra + rb + l) / (ra + rb - l))`` (``ra``, ``rb`` the distances of ``p`` to its ends), and the integral of
  that along the shorter segment by composite Gauss-Legendre quadrature. Panels march along the segment, each no
  longer than half the distance from its start to the other segment: that distance bounds from below the
  distance to the integrand's complex singularities (the points of the other segment), so each panel's error
  decays like ``rho^(-2n)`` with ``rho >= 2 + sqrt(5)``; far panels take 4 points, near ones 6 or 8, and
  segments that nearly touch or cross are graded geometrically toward the near point. Relative error about
  1e-11 against brute-force quadrature of the Neumann integral (the tests assert 1e-6);
- pairs that are not parallel but come closer than the larger GMD ``g`` of the two (``d_min < g``: the joints
  of a polyline, crossing or overlapping conductors) are pieces of one conductor: like the self terms and the
  collinear pieces above they take a GMD-regularised kernel, ``1 / sqrt(r^2 + g^2 - d_min^2)``, by the same
  closed-form inner integral (``r^2 -> r^2 + g^2 - d_min^2``) and quadrature; it is continuous in the geometry
  (the filament kernel from ``d_min = g`` on) and bounded (no mutual above the self terms for overlapping
  conductors). At a joint it is ``1 / sqrt(r^2 + g^2)``. Grover's filament formula for filaments meeting at a
  point (``2 [l1 atanh(l2/(l1+R)) + l2 atanh(l1/(l2+R))]``, ``R`` the distance of the far ends) is its
  ``g -> 0`` limit, but it makes each joint larger by about ``mu0/(4 pi) g cos(angle)`` than a straight joint
  (about 1 pH for a 25 um wire: 2 % on a 1 mm wire in ten pieces, a jump between a straight and a barely bent
  wire, and 5 % in 24 pieces: the sum over a bent wire grows with the number of pieces instead of converging).
  With the regularised joint a bend of 1e-7 rad changes that sum by 2e-4, and polylines of an arc approach the
  regularised integral along the arc (within 0.2 % for pieces of 4 to 9 GMDs).

The matrix is symmetric by construction (each pair computed once) and filled by a compiled kernel (numba,
cached on disk) on threads. :func:`loop_inductance` reduces a net-level partial matrix to the loop inductance of
a signal with its returns.

Assumptions and limits. Quasi-static (the conductors are short against the wavelength), uniform current over
each section (the DC limit: no skin or proximity effect), no magnetic materials (mu = mu0). Segments that are not
parallel and share no end are filaments along their axes: for round sections this is exact for parallel
conductors that do not overlap (the GMD of two discs is the distance of their centres) and otherwise good to
about ``(r/d)^2``. Keep segments longer than about three GMDs: shorter pieces of one conductor interact as
filaments with their next-but-one neighbours, and the matrix can become indefinite.

Sources: F. W. Grover, "Inductance Calculations", Van Nostrand 1946 (Dover 2004), ch. 2 (geometric mean
distances: round wire, tube, rectangle after Rosa), ch. 7 (parallel filaments of unequal length, filaments
meeting at a point); A. E. Ruehli, "Inductance calculations in a complex integrated circuit environment",
IBM J. Res. Dev. 16 (1972) 470-481; C. R. Paul, "Inductance: Loop and Partial", Wiley 2010, ch. 5 and 6.

This module knows segments and matrices only: nothing of packages, nets or the spec.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.constants
from numba import njit

from moldstack.fields.fork_map import cores

MU0_4PI = scipy.constants.mu_0 / (4.0 * math.pi)
"""mu0 / (4 pi) in H/m (CODATA 2018)."""
UM = 1e-6

# ---------------------------------------------------------------------------------------------------------------
# Geometric mean distances


def gmd_round(radius_um: float) -> float:
    """GMD of a solid round section to itself, ``r e^(-1/4)`` (um) (Grover 1946, ch. 2)."""
    if not radius_um > 0:
        raise ValueError(f"radius must be positive, got {radius_um}")
    return float(radius_um * math.exp(-0.25))


def gmd_tube(r_outer_um: float, r_inner_um: float) -> float:
    """GMD of an annulus (a tube's section) to itself (um) (Grover 1946, ch. 2):

    ``ln g = ln ro - ri^4 / (ro^2 - ri^2)^2 ln(ro / ri) + (3 ri^2 - ro^2) / (4 (ro^2 - ri^2))``.

    ``r_inner_um = 0`` gives the solid wire (``ro e^(-1/4)``), ``r_inner_um -> r_outer_um`` the thin shell
    (``ro``); near that limit the two large terms cancel, and the series ``ln g = ln ro - y/6 - y^2/24`` in
    ``y = 1 - ri^2/ro^2`` is used instead (for ``y < 1e-4``).
    """
    ro, ri = float(r_outer_um), float(r_inner_um)
    if not (ro > 0 and 0 <= ri <= ro):
        raise ValueError(f"need 0 <= r_inner <= r_outer and r_outer > 0, got {ro}, {ri}")
    if ri == 0.0:
        return gmd_round(ro)
    y = 1.0 - (ri / ro) ** 2
    if y < 1e-4:
        return float(ro * math.exp(-y / 6.0 - y * y / 24.0))
    x = 1.0 - y
    ln_g = math.log(ro) + x * x * math.log(x) / (2.0 * y * y) + (3.0 * x - 1.0) / (4.0 * y)
    return float(math.exp(ln_g))


def gmd_rect(width_um: float, thickness_um: float) -> float:
    """GMD of a rectangle ``a x b`` to itself (um), the exact closed form of Rosa (Grover 1946, ch. 2):

    ``ln g = ln sqrt(a^2 + b^2) - a^2/(12 b^2) ln(1 + b^2/a^2) - b^2/(12 a^2) ln(1 + a^2/b^2)
    + 2a/(3b) atan(b/a) + 2b/(3a) atan(a/b) - 25/12``.

    A square gives ``0.44705 a``, a thin strip ``e^(-3/2) a = 0.22313 a``: both close to the usual
    approximation ``0.2235 (a + b)`` (0.01 % and 0.17 %).
    """
    a, b = float(width_um), float(thickness_um)
    if not (a > 0 and b > 0):
        raise ValueError(f"width and thickness must be positive, got {a}, {b}")
    ab, ba = a / b, b / a
    ln_g = (
        math.log(math.hypot(a, b))
        - ab * ab / 12.0 * math.log1p(ba * ba)
        - ba * ba / 12.0 * math.log1p(ab * ab)
        + 2.0 * ab / 3.0 * math.atan(ba)
        + 2.0 * ba / 3.0 * math.atan(ab)
        - 25.0 / 12.0
    )
    return float(math.exp(ln_g))


# ---------------------------------------------------------------------------------------------------------------
# Closed forms for single pairs


def mutual_parallel(length_um: float, distance_um: float) -> float:
    """Mutual inductance (H) of two equal parallel filaments side by side (aligned ends), Grover 1946 ch. 7:
    ``M = mu0/(2 pi) [l asinh(l/d) - sqrt(l^2 + d^2) + d]``."""
    length, d = float(length_um), float(distance_um)
    if not (length > 0 and d > 0):
        raise ValueError(f"length and distance must be positive, got {length}, {d}")
    return 2.0 * MU0_4PI * UM * (length * math.asinh(length / d) - math.hypot(length, d) + d)


def self_inductance(length_um: float, gmd_um: float) -> float:
    """Partial self inductance (H) of a straight conductor of length ``l`` whose section has the GMD ``g`` to
    itself: the mutual of two parallel filaments ``g`` apart, ``mu0/(2 pi) [l asinh(l/g) - sqrt(l^2 + g^2) + g]``
    (Grover 1946; Ruehli 1972). For ``l >> r`` a round wire gives Rosa's ``0.2 l [ln(2l/r) - 0.75]`` nH (mm)."""
    return mutual_parallel(length_um, gmd_um)


# ---------------------------------------------------------------------------------------------------------------
# Compiled pair kernel: the Neumann integral without mu0/(4 pi), in um, ``cos(directions) ∫∫ ds dt / |r1 - r2|``
# (regularised by the GMD for parallel pieces on one axis and for close pairs, see the module docstring).

_JIT: dict[str, object] = {"cache": True, "nogil": True, "boundscheck": False, "fastmath": {"contract"}}

PARALLEL_SIN2 = 1e-16
"""Pairs whose directions' cross product is below 1e-8 in length are parallel."""
MIN_PANEL = 1e-10
"""Shortest quadrature panel, relative to the segment's length (graded panels toward a crossing stop here)."""
MAX_PANELS = 1000
"""After this many panels, the rest of the segment is one panel (only nearly parallel, nearly touching pairs)."""

_ORDERS = (4, 6, 8)


def _gauss_table() -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes on [0, 1] and weights for :data:`_ORDERS` (row k, first ``_ORDERS[k]`` entries)."""
    nodes = np.zeros((len(_ORDERS), max(_ORDERS)))
    weights = np.zeros_like(nodes)
    for k, n in enumerate(_ORDERS):
        x, w = np.polynomial.legendre.leggauss(n)
        nodes[k, :n] = 0.5 * (x + 1.0)
        weights[k, :n] = 0.5 * w
    return nodes, weights


_NODES, _WEIGHTS = _gauss_table()


@njit(**_JIT)  # type: ignore[misc]
def _h_term(z: float, d: float) -> float:  # pragma: no cover - compiled
    """``|z| ln(|z| + sqrt(z^2 + d^2)) - sqrt(z^2 + d^2)``: ``z asinh(z/d) - sqrt(z^2 + d^2)`` without the
    ``-|z| ln d`` part (summed separately), finite at ``d = 0``."""
    az = abs(z)
    r = math.sqrt(z * z + d * d)
    if az == 0.0:
        return -r
    return az * math.log(az + r) - r


@njit(**_JIT)  # type: ignore[misc]
def _parallel(
    p0: np.ndarray,
    p1: np.ndarray,
    u: np.ndarray,
    length: np.ndarray,
    gmd: np.ndarray,
    i: int,
    j: int,
    c: float,
) -> float:  # pragma: no cover - compiled
    """Parallel (``c > 0``) or antiparallel pair: Grover's formula for filaments of unequal length with offset."""
    l1, l2 = length[i], length[j]
    # segment j oriented along u_i: its start along the axis of i (s) and the distance of its midpoint (d)
    q = p0[j] if c > 0 else p1[j]
    s = 0.0
    t = 0.0
    for k in range(3):
        s += (q[k] - p0[i, k]) * u[i, k]
        t += (0.5 * (p0[j, k] + p1[j, k]) - p0[i, k]) * u[i, k]
    d2 = 0.0
    for k in range(3):
        e = 0.5 * (p0[j, k] + p1[j, k]) - p0[i, k] - t * u[i, k]
        d2 += e * e
    d = max(math.sqrt(d2), gmd[i], gmd[j])
    acc = _h_term(s + l2, d) + _h_term(s - l1, d) - _h_term(s, d) - _h_term(s + l2 - l1, d)
    overlap = min(l1, s + l2) - max(0.0, s)
    if overlap > 0.0:
        acc -= 2.0 * overlap * math.log(d)
    return acc if c > 0 else -acc


@njit(**_JIT)  # type: ignore[misc]
def _line_integral(
    x: float, y: float, z: float, b0: np.ndarray, ub: np.ndarray, lb: float, g2: float
) -> float:  # pragma: no cover - compiled
    """``∫ dt / sqrt(|p - b0 - t ub|^2 + g^2)`` over ``t in [0, lb]`` = ``ln((ra + rb + lb) / (ra + rb - lb))``
    with ``ra``, ``rb`` the (regularised) distances to the ends, ``ra + rb - lb`` summed from ``ra - tau`` and
    ``rb - (lb - tau)`` without cancellation."""
    wx, wy, wz = x - b0[0], y - b0[1], z - b0[2]
    tau = wx * ub[0] + wy * ub[1] + wz * ub[2]
    ex, ey, ez = wx - tau * ub[0], wy - tau * ub[1], wz - tau * ub[2]
    rho2 = ex * ex + ey * ey + ez * ez + g2
    ra = math.sqrt(tau * tau + rho2)
    tb = lb - tau
    rb = math.sqrt(tb * tb + rho2)
    da = rho2 / (ra + tau) if tau > 0.0 else ra - tau
    db = rho2 / (rb + tb) if tb > 0.0 else rb - tb
    return math.log((ra + rb + lb) / (da + db))


@njit(**_JIT)  # type: ignore[misc]
def _general(
    a: np.ndarray,
    u: np.ndarray,
    la: float,
    b0: np.ndarray,
    ub: np.ndarray,
    lb: float,
    g2: float,
    nodes: np.ndarray,
    weights: np.ndarray,
) -> float:  # pragma: no cover - compiled
    """``∫ ds ∫ dt / sqrt(r^2 + g^2)`` (``g = 0``: the filaments) with the inner integral over segment b in closed
    form and the outer one over segment a by marching composite Gauss-Legendre panels (module docstring)."""
    x = 0.0
    total = 0.0
    count = 0
    h_min = MIN_PANEL * la
    while x < la:
        px, py, pz = a[0] + x * u[0], a[1] + x * u[1], a[2] + x * u[2]
        # distance from the panel's start to segment b
        tau = (px - b0[0]) * ub[0] + (py - b0[1]) * ub[1] + (pz - b0[2]) * ub[2]
        tau = min(max(tau, 0.0), lb)
        dx, dy, dz = px - b0[0] - tau * ub[0], py - b0[1] - tau * ub[1], pz - b0[2] - tau * ub[2]
        dist = math.sqrt(dx * dx + dy * dy + dz * dz + g2)
        h = max(0.5 * dist, h_min)
        if x + h >= la or count >= MAX_PANELS - 1:
            h = la - x
        ratio = (dist - h) / h
        k = 0 if ratio >= 4.0 else (1 if ratio >= 2.0 else 2)
        part = 0.0
        for m in range(nodes.shape[1]):
            wm = weights[k, m]
            if wm == 0.0:
                break
            s = x + h * nodes[k, m]
            part += wm * _line_integral(a[0] + s * u[0], a[1] + s * u[1], a[2] + s * u[2], b0, ub, lb, g2)
        total += h * part
        x += h
        count += 1
    return total


@njit(**_JIT)  # type: ignore[misc]
def _segment_distance(
    p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray
) -> float:  # pragma: no cover - compiled
    """Shortest distance between two segments of non-zero length (Ericson, "Real-Time Collision Detection",
    2005, 5.1.9: the closest points of the lines, clamped to the segments)."""
    d1 = p1 - p0
    d2 = q1 - q0
    r = p0 - q0
    a = d1[0] * d1[0] + d1[1] * d1[1] + d1[2] * d1[2]
    e = d2[0] * d2[0] + d2[1] * d2[1] + d2[2] * d2[2]
    f = d2[0] * r[0] + d2[1] * r[1] + d2[2] * r[2]
    c = d1[0] * r[0] + d1[1] * r[1] + d1[2] * r[2]
    b = d1[0] * d2[0] + d1[1] * d2[1] + d1[2] * d2[2]
    denom = a * e - b * b
    s = min(max((b * f - c * e) / denom, 0.0), 1.0) if denom > 0.0 else 0.0
    t = (b * s + f) / e
    if t < 0.0:
        t = 0.0
        s = min(max(-c / a, 0.0), 1.0)
    elif t > 1.0:
        t = 1.0
        s = min(max((b - c) / a, 0.0), 1.0)
    acc = 0.0
    for k in range(3):
        x = p0[k] + d1[k] * s - q0[k] - d2[k] * t
        acc += x * x
    return math.sqrt(acc)


@njit(**_JIT)  # type: ignore[misc]
def _pair(
    p0: np.ndarray,
    p1: np.ndarray,
    u: np.ndarray,
    length: np.ndarray,
    gmd: np.ndarray,
    i: int,
    j: int,
    nodes: np.ndarray,
    weights: np.ndarray,
) -> float:  # pragma: no cover - compiled
    """The Neumann integral of segments ``i`` and ``j`` without ``mu0/(4 pi)`` (um)."""
    c = u[i, 0] * u[j, 0] + u[i, 1] * u[j, 1] + u[i, 2] * u[j, 2]
    if c == 0.0:
        return 0.0
    x0 = u[i, 1] * u[j, 2] - u[i, 2] * u[j, 1]
    x1 = u[i, 2] * u[j, 0] - u[i, 0] * u[j, 2]
    x2 = u[i, 0] * u[j, 1] - u[i, 1] * u[j, 0]
    if x0 * x0 + x1 * x1 + x2 * x2 < PARALLEL_SIN2:
        return _parallel(p0, p1, u, length, gmd, i, j, c)
    li, lj = length[i], length[j]
    # closer than the larger GMD (a joint, a crossing, an overlap): the kernel 1 / sqrt(r^2 + g^2 - d_min^2)
    g = max(gmd[i], gmd[j])
    gap = 0.0
    for k in range(3):
        e = 0.5 * (p0[i, k] + p1[i, k] - p0[j, k] - p1[j, k])
        gap += e * e
    g2 = 0.0
    if math.sqrt(gap) - 0.5 * (li + lj) < g:
        d_min = _segment_distance(p0[i], p1[i], p0[j], p1[j])
        g2 = max(g * g - d_min * d_min, 0.0)
    if li <= lj:
        return c * _general(p0[i], u[i], li, p0[j], u[j], lj, g2, nodes, weights)
    return c * _general(p0[j], u[j], lj, p0[i], u[i], li, g2, nodes, weights)


@njit(**_JIT)  # type: ignore[misc]
def _fill_rows(
    rows: np.ndarray,
    p0: np.ndarray,
    p1: np.ndarray,
    u: np.ndarray,
    length: np.ndarray,
    gmd: np.ndarray,
    nodes: np.ndarray,
    weights: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """``out[i, j] = out[j, i]`` for the given rows ``i`` and every ``j > i``."""
    n = length.shape[0]
    for r in range(rows.shape[0]):
        i = rows[r]
        for j in range(i + 1, n):
            v = _pair(p0, p1, u, length, gmd, i, j, nodes, weights)
            out[i, j] = v
            out[j, i] = v


# ---------------------------------------------------------------------------------------------------------------
# Public matrix and loop reduction

PARALLEL_MIN = 200
"""Matrices of at least this many segments are filled on all cores (rows dealt out zig-zag, equal work)."""


def partial_inductance(start: np.ndarray, end: np.ndarray, gmd: np.ndarray) -> np.ndarray:
    """Partial inductance matrix (H) of straight segments (PEEC, quasi-static; model in the module docstring).

    ``start``, ``end``: ``(n, 3)`` end points in um, the current flowing from ``start`` to ``end``; ``gmd``:
    ``(n,)`` GMD of each segment's section to itself in um (:func:`gmd_round`, :func:`gmd_tube`,
    :func:`gmd_rect`). Returns the symmetric ``(n, n)`` matrix: ``self_inductance`` on the diagonal, the signed
    mutual partial inductances (Neumann integral) off it.
    """
    p0 = np.ascontiguousarray(start, dtype=np.float64)
    p1 = np.ascontiguousarray(end, dtype=np.float64)
    g = np.ascontiguousarray(gmd, dtype=np.float64).reshape(-1)
    if p0.ndim != 2 or p0.shape[1] != 3 or p1.shape != p0.shape or g.shape != (p0.shape[0],):
        raise ValueError(
            f"need start, end of shape (n, 3) and gmd of shape (n,), got {p0.shape}, {p1.shape}, {g.shape}"
        )
    if not (np.all(np.isfinite(p0)) and np.all(np.isfinite(p1)) and np.all(np.isfinite(g))):
        raise ValueError("segment ends and GMDs must be finite")
    if np.any(g <= 0):
        raise ValueError("every GMD must be positive")
    vec = p1 - p0
    length = np.linalg.norm(vec, axis=1)
    if np.any(length <= 0):
        raise ValueError(f"zero-length segments: {np.flatnonzero(length <= 0).tolist()}")
    u = vec / length[:, None]
    n = length.size
    out = np.zeros((n, n))
    workers = cores() if n >= PARALLEL_MIN else 1
    order = np.arange(n, dtype=np.int64)
    if workers == 1:
        _fill_rows(order, p0, p1, u, length, g, _NODES, _WEIGHTS, out)
    else:
        # zig-zag: thread t takes rows t, 2w-1-t, 2w+t, ... so that every thread gets about the same pairs
        lane = np.minimum(order % (2 * workers), 2 * workers - 1 - order % (2 * workers))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            jobs = [
                pool.submit(_fill_rows, order[lane == t], p0, p1, u, length, g, _NODES, _WEIGHTS, out)
                for t in range(workers)
            ]
            for job in jobs:
                job.result()
    out *= MU0_4PI * UM
    diag = 2.0 * MU0_4PI * UM * (length * np.arcsinh(length / g) - np.hypot(length, g) + g)
    out[np.diag_indices(n)] = diag
    return out


@dataclass(frozen=True)
class LoopInductance:
    """Loop inductance of a signal with its returns.

    ``l_h``: the loop inductance (H); ``split``: the share of the return current in each return (sums to 1, in
    the order of ``returns``); ``signal_split``: the share of the signal current in each signal net (``(1.0,)``
    for one signal net).
    """

    l_h: float
    split: tuple[float, ...]
    signal_split: tuple[float, ...] = (1.0,)

    def to_dict(self) -> dict[str, Any]:
        return {"l_h": self.l_h, "split": list(self.split), "signal_split": list(self.signal_split)}


def loop_inductance(l_matrix: np.ndarray, signal: int | np.ndarray, returns: np.ndarray) -> LoopInductance:
    """Loop inductance (H) of a signal net with its return nets from a net-level partial inductance matrix.

    The signal current 1 flows out on ``signal`` (one index, or several nets in parallel) and back on
    ``returns`` (indices), the currents in parallel nets splitting so as to minimise the magnetic energy (the
    inductive split, the high-frequency limit over resistance): ``L = min c^T L c`` over currents ``c`` with
    ``sum c_signal = 1``, ``sum c_return = -1``. With ``E = [e_S, e_R]`` and ``t = (1, -1)`` the Lagrange
    conditions give ``L = t^T (E^T L^-1 E)^-1 t`` (Paul 2010, ch. 6); for one signal and one return this is
    ``L_ss + L_rr - 2 L_sr``, for one signal ``min_a L_ss - 2 a.L_sr + a^T L_rr a`` over ``sum a = 1``.
    """
    lm = np.asarray(l_matrix, dtype=np.float64)
    sig = np.atleast_1d(np.asarray(signal)).astype(np.int64).reshape(-1)
    ret = np.atleast_1d(np.asarray(returns)).astype(np.int64).reshape(-1)
    m = lm.shape[0]
    if lm.ndim != 2 or lm.shape != (m, m):
        raise ValueError(f"need a square matrix, got shape {lm.shape}")
    if sig.size == 0 or ret.size == 0:
        raise ValueError("need at least one signal and one return net")
    idx = np.concatenate([sig, ret])
    if np.any(idx < 0) or np.any(idx >= m) or np.unique(idx).size != idx.size:
        raise ValueError(f"signal and return indices must be distinct and in [0, {m}), got {sig}, {ret}")
    sub = lm[np.ix_(idx, idx)]
    sub = 0.5 * (sub + sub.T)
    e = np.zeros((idx.size, 2))
    e[: sig.size, 0] = 1.0
    e[sig.size :, 1] = 1.0
    t = np.array([1.0, -1.0])
    y = np.linalg.solve(sub, e)  # L^-1 E
    lam = np.linalg.solve(e.T @ y, t)
    c = y @ lam
    back, out = -c[sig.size :], c[: sig.size]
    return LoopInductance(
        l_h=float(t @ lam),
        split=tuple(float(v) for v in back / back.sum()),
        signal_split=tuple(float(v) for v in out / out.sum()),
    )
