"""Benchmark: the partial inductance kernel (:func:`moldstack.fields.inductance.partial_inductance`) on package-like
sets of segments, against plain double Gauss-Legendre quadrature.

The set (:func:`package`): a 10 mm body with a 6 mm die; gold bond wires (25 um) from pads spread around the die
edge (450 um up) straight out to fingers 0.3-0.9 mm away, each a polyline of 12 pieces with a random loop height (150-300 um)
and reach; copper posts (r = 75 um, 300 um tall, three pieces each) on three rings around the fingers. About 72 %
of the segments are wire pieces. For each size: the kernel's time (median of repeats, warm: the compiled kernel
loaded first), on all cores and on one, and for n <= 1000 a same-run peer, the Neumann integral by 8 x 8 point
Gauss-Legendre quadrature over every pair in numpy (no closed forms; the kernel's closed-form self terms on its
diagonal), with its time and its differences to the kernel: the largest relative difference over well separated
pairs (distance at least the longer length, where 8 x 8 points are accurate) and the largest difference of
coupling coefficient ``M / sqrt(L_i L_j)`` over all pairs (near pairs and the joints of a polyline, where 8 points
miss the near-singular integrand and the joint's GMD regularisation).

Run: ``.venv/bin/python benchmarks/inductance_kernel.py`` (``--sizes 100 1000 5000``, ``--peer-max 1000``).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable

import numpy as np

from moldstack.fields import inductance as ind

BODY_UM = 10_000.0
DIE_UM = 6_000.0
DIE_TOP_UM = 450.0
WIRE_PIECES = 12
POST_PIECES = 3
POST_H_UM = 300.0
POST_RINGS_UM = (4_100.0, 4_400.0, 4_700.0)  # half widths of the post rings


def _perimeter(half: float, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points at fractions ``t`` around a square of half width ``half`` and their outward normals."""
    side = np.minimum((t * 4).astype(int), 3)
    f = t * 4 - side
    along = (2 * f - 1) * half
    rot = side * (math.pi / 2)
    c, s = np.cos(rot), np.sin(rot)
    x, y = half * c - along * s, half * s + along * c
    return np.stack([x, y], 1), np.stack([c, s], 1)


def package(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Start and end points (um), GMDs and the wire and post counts of a set of ``n`` segments (module doc)."""
    rng = np.random.default_rng(seed)
    wires = round(0.72 * n / WIRE_PIECES)
    post_segments = n - wires * WIRE_PIECES
    posts = math.ceil(post_segments / POST_PIECES)
    starts, ends, gmd = [], [], []
    pads, normal = _perimeter(DIE_UM / 2 - 60.0, (np.arange(wires) + rng.uniform(-0.3, 0.3, wires)) / wires)
    s = np.linspace(0.0, 1.0, WIRE_PIECES + 1)
    for k in range(wires):
        reach = rng.uniform(300.0, 900.0) + 60.0
        loop = rng.uniform(150.0, 300.0)
        horiz = pads[k] + (reach * s**1.3)[:, None] * normal[k]
        z = DIE_TOP_UM * (1 - s) + loop * np.sin(np.pi * s**0.6)
        pts = np.column_stack([horiz, z])
        starts.append(pts[:-1])
        ends.append(pts[1:])
        gmd += [ind.gmd_round(12.5)] * WIRE_PIECES
    per_ring = math.ceil(posts / len(POST_RINGS_UM))
    left = post_segments
    for r, half in enumerate(POST_RINGS_UM):
        count = min(per_ring, posts - r * per_ring)
        if count <= 0:
            break
        centres, _ = _perimeter(half, (np.arange(count) + 0.5 * (r % 2)) / count)
        for c in centres:
            pieces = min(POST_PIECES, left)
            z = np.linspace(0.0, POST_H_UM * pieces / POST_PIECES, pieces + 1)
            pts = np.column_stack([np.repeat(c[None], pieces + 1, 0), z])
            starts.append(pts[:-1])
            ends.append(pts[1:])
            gmd += [ind.gmd_round(75.0)] * pieces
            left -= pieces
    return np.concatenate(starts), np.concatenate(ends), np.array(gmd), wires, posts


def gauss_peer(start: np.ndarray, end: np.ndarray, gmd: np.ndarray, points: int = 8) -> np.ndarray:
    """The peer: every pair's Neumann integral by ``points x points`` Gauss-Legendre quadrature in numpy (the
    diagonal, singular for filaments, from the closed-form self inductance)."""
    x, w = np.polynomial.legendre.leggauss(points)
    t, w = (x + 1) / 2, w / 2
    vec = end - start
    length = np.linalg.norm(vec, axis=1)
    u = vec / length[:, None]
    q = start[:, None, :] + t[None, :, None] * vec[:, None, :]  # (n, p, 3) quadrature points
    n = len(start)
    out = np.empty((n, n))
    block = max(1, 2_000_000 // (n * points * points))
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        r2 = np.zeros((i1 - i0, n, points, points))
        for k in range(3):
            r2 += (q[i0:i1, None, :, None, k] - q[None, :, None, :, k]) ** 2
        with np.errstate(divide="ignore"):
            inv = 1.0 / np.sqrt(r2)
        integral = np.einsum("ijab,a,b->ij", inv, w, w) * length[i0:i1, None] * length[None, :]
        out[i0:i1] = ind.MU0_4PI * 1e-6 * (u[i0:i1] @ u.T) * integral
    out[np.diag_indices(n)] = [ind.self_inductance(lk, gk) for lk, gk in zip(length, gmd, strict=True)]
    return out


def _timed(fn: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    times, out = [], np.empty(0)
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def _separated(start: np.ndarray, end: np.ndarray, gmd: np.ndarray) -> np.ndarray:
    """Pairs at least the longer length apart (midpoints farther apart than the half lengths plus the longer
    length) where the kernel uses the filament: not parallel pairs on one axis (pieces of one post, whose
    distance is the GMD)."""
    mid = 0.5 * (start + end)
    vec = end - start
    length = np.linalg.norm(vec, axis=1)
    u = vec / length[:, None]
    dist = np.linalg.norm(mid[:, None] - mid[None, :], axis=2)
    reach = 0.5 * (length[:, None] + length[None, :]) + np.maximum(length[:, None], length[None, :])
    w = mid[None, :, :] - start[:, None, :]
    perp = np.linalg.norm(w - np.einsum("ijk,ik->ij", w, u)[:, :, None] * u[:, None, :], axis=2)
    parallel = np.linalg.norm(np.cross(u[:, None, :], u[None, :, :]), axis=2) < 1e-8
    coaxial = parallel & (perp < np.maximum(gmd[:, None], gmd[None, :]))
    return (dist >= reach) & ~coaxial


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000], help="segment counts")
    parser.add_argument("--peer-max", type=int, default=1000, help="run the quadrature peer up to this size")
    parser.add_argument("--repeats", type=int, default=5, help="kernel timings per size (median)")
    args = parser.parse_args()
    warm = package(50)
    ind.partial_inductance(*warm[:3])  # load (or compile) the kernel
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({cores} cores)\n")
    print(
        "| n | wires x 12 + post pieces | kernel s | kernel 1 thread s | pairs/s | peer 8x8 GL s | "
        "max rel. diff, separated pairs | max coupling diff, all pairs | positive definite |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        start, end, gmd, wires, _posts = package(n)
        repeats = args.repeats if n <= 2000 else max(1, args.repeats // 2)
        t_all, lm = _timed(lambda s=start, e=end, g=gmd: ind.partial_inductance(s, e, g), repeats)
        saved = ind.PARALLEL_MIN
        ind.PARALLEL_MIN = 1 << 62  # one thread
        try:
            t_one, lm1 = _timed(lambda s=start, e=end, g=gmd: ind.partial_inductance(s, e, g), repeats)
        finally:
            ind.PARALLEL_MIN = saved
        assert np.array_equal(lm, lm1)
        pairs = n * (n - 1) / 2
        try:
            np.linalg.cholesky(lm)
            definite = "yes"
        except np.linalg.LinAlgError:
            definite = "no"
        peer = ["-", "-", "-"]
        if n <= args.peer_max:
            t_peer, gl = _timed(lambda s=start, e=end, g=gmd: gauss_peer(s, e, g), 1)
            off = ~np.eye(n, dtype=bool)
            sep = _separated(start, end, gmd) & off & (np.abs(lm) > 0)
            rel = float(np.max(np.abs(gl[sep] - lm[sep]) / np.abs(lm[sep])))
            scale = np.sqrt(np.outer(lm.diagonal(), lm.diagonal()))
            coupling = float(np.max(np.abs(gl - lm)[off] / scale[off]))
            peer = [f"{t_peer:.2f}", f"{rel:.1e}", f"{coupling:.1e}"]
        print(
            f"| {n:,} | {wires} x 12 + {n - 12 * wires} | {t_all:.3f} | {t_one:.3f} | {pairs / t_all:,.0f} | "
            f"{peer[0]} | {peer[1]} | {peer[2]} | {definite} |",
            flush=True,
        )
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
