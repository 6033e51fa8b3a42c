"""Solving an assembled diffusion problem: direct or preconditioned conjugate gradients, checked and reusable.

:func:`solve` assembles (:mod:`moldstack.fields.assembly`), sets up a solver and solves once;
:func:`prepare` returns a :class:`Prepared` that keeps the factorisation or multigrid hierarchy so that many
right-hand sides (other sources, face values or fixed values on the same structure: one per net of a
capacitance matrix) cost one solve each.

Methods (``method=``):

- ``"direct"``: sparse LU (SuperLU); the default below :data:`DIRECT_MAX` unknowns.
- ``"gmg"``: flexible CG preconditioned by a multigrid that exploits the structured grid. Cells are aggregated
  in pairs along each axis where that axis' couplings are strong (>= :data:`STRONG_THETA` of the largest at
  either cell) on at least :data:`PAIR_MIN_STRONG` of the slab: a semi-coarsening that follows the grid's anisotropy (thin layers merge in z, strips of
  narrow plan cells in x or y) while keeping tensor-product slabs, so the coarse operators are the exact
  Galerkin products of the piecewise-constant aggregation over the free cells, computed on the structured
  arrays (face conductances summed in parallel; no sparse matrix products, no matrix on any level but the
  finest and the coarsest). Every level is swept matrix-free on its grid arrays by compiled kernels (numba,
  cached on disk; a fresh process pays about 0.2 s to load them, the first run ever a few seconds to compile)
  in single precision, the operators scaled to a unit typical diagonal: one forward Gauss-Seidel sweep from
  zero that also sums the residual into the coarse cells (after a forward sweep from zero the residual of a
  cell is the flow from its three upper neighbours, complete one plane later), the piecewise-constant
  correction, one backward sweep. A K-cycle (two flexible CG steps, Notay & Vassilevski 2008, Numer. Linear
  Algebra Appl. 15) into every coarse level of at least :data:`K_CYCLE_MIN` cells makes up for the
  piecewise-constant interpolation, V-cycles below, SuperLU on the coarsest level. On two or more cores, levels
  of at least :data:`PARALLEL_MIN` cells are swept in two blocks of planes on two threads (hybrid Gauss-Seidel:
  each block holds the other's boundary plane at its value before the sweep, so the result does not depend on
  timing), and so are CG's matrix products, when a timed trial at setup shows that it pays (it does not when
  the other core is busy). Links act on the finest level only, the coarse levels are the plain grid: their
  conductances are in the finest grid's diagonal, and their off-diagonal couplings are lagged (the sweep from
  zero leaves them out of the update and adds them to the restricted residual; the backward sweep takes them
  with the values before it on its right-hand side), a correction of a few hundred entries.
- ``"rs"``: CG preconditioned by pyamg's Ruge-Stuben AMG (classical strength 0.25), V-cycle.
- ``"sa"``: CG preconditioned by pyamg's smoothed aggregation (symmetric strength), V-cycle.
- ``"auto"``: direct when small, else ``gmg``.

Whatever the method, the true relative residual ``||b - A x|| / ||b||`` is computed after the solve; when it
is above ``tol`` the next method is tried (``gmg`` -> ``rs`` -> ``sa``), and when none reaches it
:class:`~moldstack.fields.problem.NotConvergedError` says what was tried and the residual each reached: an
unconverged field is never returned. A tolerance below the rounding floor of the residual itself
(``eps || |A| |x| || / ||b||``, reached on very stiff thin layers) counts as met at that floor.

Flows: the outflow through each face condition, the flow absorbed by the fixed cells, the injected total and
the energy balance error ``|sources - outflows - absorbed| / max(|sources|, |outflows|, |absorbed|)``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyamg
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit

from moldstack.fields import assembly as asm
from moldstack.fields.assembly import Assembly, Stencil
from moldstack.fields.problem import (
    DiffusionProblem,
    FieldSolution,
    FloatArray,
    NotConvergedError,
    SolverStats,
)

Method = Literal["auto", "direct", "gmg", "rs", "sa"]
Progress = Callable[[str, int, float], None]
"""Called as ``progress(method, iteration, relative_residual)`` during iterative solves."""

DIRECT_MAX = 20_000  # unknowns below which "auto" factorises
ITERATIVE = ("gmg", "rs", "sa")
DEFAULT_MAXITER = 500
STALL_WINDOW = 15  # gmg hands over to the next method when 15 iterations have not halved the residual


# ---------------------------------------------------------------------------------------------------------------
# Conjugate gradients


_JIT: dict[str, object] = {"cache": True, "nogil": True, "boundscheck": False, "fastmath": {"contract"}}
_JIT_SUM: dict[str, object] = {**_JIT, "fastmath": {"contract", "reassoc", "nsz"}}  # vectorised sums


@njit(**_JIT)  # type: ignore[misc]
def _csr_matvec(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, p: np.ndarray, q: np.ndarray, r0: int, r1: int
) -> float:  # pragma: no cover - compiled
    """``q = A p`` on the rows ``[r0, r1)``; returns their part of ``p . q``."""
    acc = 0.0
    for i in range(r0, r1):
        s = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            s += data[jj] * p[indices[jj]]
        q[i] = s
        acc += p[i] * s
    return acc


@njit(**_JIT_SUM)  # type: ignore[misc]
def _cg_update(
    x: np.ndarray, r: np.ndarray, p: np.ndarray, q: np.ndarray, alpha: float
) -> float:  # pragma: no cover - compiled
    """``x += alpha p``, ``r -= alpha q``; returns ``r . r``."""
    acc = 0.0
    for i in range(x.size):
        x[i] += alpha * p[i]
        ri = r[i] - alpha * q[i]
        r[i] = ri
        acc += ri * ri
    return acc


@njit(**_JIT_SUM)  # type: ignore[misc]
def _dots(z: np.ndarray, q: np.ndarray, r: np.ndarray) -> tuple[float, float]:  # pragma: no cover - compiled
    """``(z . q, z . r)``."""
    zq = 0.0
    zr = 0.0
    for i in range(z.size):
        zq += z[i] * q[i]
        zr += z[i] * r[i]
    return zq, zr


@njit(**_JIT)  # type: ignore[misc]
def _scaled_copy(a: np.ndarray, factor: float, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out = factor * a`` (flat), converting to ``out``'s precision."""
    fa = a.reshape(-1)
    fo = out.reshape(-1)
    for i in range(fa.size):
        fo[i] = factor * fa[i]


@njit(**_JIT)  # type: ignore[misc]
def _scatter(
    r: np.ndarray, factor: float, cells: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``out.flat[cells] = factor * r`` (the unknowns onto their grid cells; the others left as they are)."""
    fo = out.reshape(-1)
    for i in range(cells.size):
        fo[cells[i]] = factor * r[i]


@njit(**_JIT)  # type: ignore[misc]
def _gather(
    x: np.ndarray, factor: float, cells: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``out = factor * x.flat[cells]`` (the grid cells of the unknowns), converting to ``out``'s precision."""
    fx = x.reshape(-1)
    for i in range(cells.size):
        out[i] = factor * fx[cells[i]]


@njit(**_JIT)  # type: ignore[misc]
def _direction(p: np.ndarray, z: np.ndarray, beta: float) -> None:  # pragma: no cover - compiled
    """``p = z + beta p``."""
    for i in range(p.size):
        p[i] = z[i] + beta * p[i]


def _matvec(a: sp.csr_matrix, p: np.ndarray, threads: bool) -> tuple[np.ndarray, float]:
    """``(A p, p . A p)``; with ``threads``, two threads of rows on a large matrix (else scipy's product)."""
    n = a.shape[0]
    if not threads or n < PARALLEL_MIN:
        q = a @ p
        return q, float(_dot(p, q))
    q = np.empty_like(p)
    args = (a.indptr, a.indices, a.data, p, q)
    half = n // 2
    job = _pool().submit(_csr_matvec, *args, half, n)
    part = float(_csr_matvec(*args, 0, half))
    return q, part + float(job.result())


def _pcg(
    a: sp.csr_matrix,
    b: FloatArray,
    precondition: Callable[[FloatArray], FloatArray],
    tol: float,
    maxiter: int,
    *,
    flexible: bool,
    name: str,
    progress: Progress | None,
    threads: bool = False,
    stall: int = 0,
) -> tuple[FloatArray, int, float]:
    """Preconditioned CG until the *true* relative residual is below ``tol`` or ``maxiter`` iterations.

    ``flexible``: Polak-Ribiere ``beta`` (for a preconditioner that varies, as a K-cycle does); ``threads``:
    the matrix products on two threads; ``stall``: give up once ``2 stall`` iterations are done and the last
    ``stall`` have not halved the residual (a preconditioner that does not suit the problem: better to hand
    over to the next method early than to spend ``maxiter`` iterations). On reaching the
    tolerance by the recursive residual, the true residual is computed and, if above, CG restarts from it.
    Returns ``(x, iterations, true relative residual)``.
    """
    a = a.tocsr()
    b = np.ascontiguousarray(b, dtype=np.float64)
    nb = float(np.linalg.norm(b))
    x = np.zeros_like(b)
    r = b.copy()
    it = 0
    rel = 1.0
    history = [1.0]
    stalled = False
    while it < maxiter and not stalled:
        z = precondition(r)
        p = z.copy()
        rz = float(_dot(r, z))
        start = it
        while it < maxiter:
            q, pq = _matvec(a, p, threads)
            if not pq > 0.0:
                break
            alpha = rz / pq
            rr = _cg_update(x, r, p, q, alpha)
            it += 1
            rel = float(np.sqrt(rr)) / nb
            if progress is not None:
                progress(name, it, rel)
            history.append(rel)
            if rel <= tol:
                break
            if stall and it >= 2 * stall and rel > 0.5 * history[it - stall]:
                stalled = True
                break
            z = precondition(r)
            zq, rz_new = _dots(z, q, r)
            beta = -alpha * zq / rz if flexible else rz_new / rz
            rz = rz_new
            _direction(p, z, beta)
        r = b - a @ x
        rel = float(np.linalg.norm(r)) / nb
        if rel <= tol or not np.isfinite(rel) or it == start or rel <= _rounding_floor(a, x, nb):
            break  # converged, broken down (no step possible), or at the rounding floor
    return x, it, rel


# levels (and matrices) at least this large are worked in two blocks, one per thread (when there are two cores)
PARALLEL_MIN = 100_000
_POOL: list[ThreadPoolExecutor] = []
if hasattr(os, "register_at_fork"):  # a forked child (a build's worker) has no pool thread: it makes its own
    os.register_at_fork(after_in_child=_POOL.clear)


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="moldstack-gmg"))
    return _POOL[0]


# ---------------------------------------------------------------------------------------------------------------
# Structured kernels (numba; single precision on the multigrid levels)
#
# Every level stores its conductances as three full-size arrays ``gx, gy, gz`` (nx, ny, nz): the coupling of each
# cell to its upper neighbour along the axis, zero on the last slab; ``diag`` the diagonal and ``invd`` its
# inverse. The loops run over rows along z (contiguous views); a missing neighbour row (at a boundary, or in
# another thread's block) is a row of zeros, so the inner loops carry no branches. Loops along z carry the
# updated value in a register: the recursion of a Gauss-Seidel sweep is one fused multiply-add per cell.


@njit(**_JIT)  # type: ignore[misc]
def _forward_restrict(
    gx: np.ndarray,
    gy: np.ndarray,
    gz: np.ndarray,
    invd: np.ndarray,
    b: np.ndarray,
    x: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    cz: np.ndarray,
    zs: np.ndarray,
    rc: np.ndarray,
    acc: np.ndarray,
    i0: int,
    i1: int,
) -> None:  # pragma: no cover - compiled
    """On the planes ``[i0, i1)``: ``x`` = one forward (lexicographic) Gauss-Seidel sweep from zero on
    ``A x = b`` (plane ``i0 - 1`` taken as zero; ``x`` is overwritten there), and the residual ``b - A x``
    summed into the coarse cells ``rc`` (``cx, cy, cz``: the coarse index of each fine slab per axis, ``zs`` the
    first slab of each coarse z slab and ``nz``; ``acc`` (coarse x, coarse y, fine z) the sums before z, ``rc``
    itself when z is not merged; the coarse
    planes of ``[i0, i1)`` are zeroed first). The coupling to planes ``i0 - 1`` and ``i1`` is left to
    :func:`_cross_residual`.

    After a forward sweep from zero the residual of a cell is ``sum g x`` over its three *upper* neighbours
    only; it is complete for plane ``i - 1`` once plane ``i`` is swept, so it is summed in the same pass.
    """
    _, ny, nz = b.shape
    rc[cx[i0] : cx[i1 - 1] + 1] = 0.0
    acc[cx[i0] : cx[i1 - 1] + 1] = 0.0
    x[i0:i1] = 0.0
    zrow = np.zeros(nz, dtype=x.dtype)
    for i in range(i0, i1):
        for j in range(ny):
            bb = b[i, j]
            dd = invd[i, j]
            xr = x[i, j]
            gzr = gz[i, j]
            gxl, xll = (gx[i - 1, j], x[i - 1, j]) if i > i0 else (zrow, zrow)
            gyl, xjl = (gy[i, j - 1], x[i, j - 1]) if j > 0 else (zrow, zrow)
            prev = (bb[0] + gxl[0] * xll[0] + gyl[0] * xjl[0]) * dd[0]
            xr[0] = prev
            for k in range(1, nz):
                dinv = dd[k]
                s = bb[k] + gxl[k] * xll[k] + gyl[k] * xjl[k]
                prev = s * dinv + (gzr[k - 1] * dinv) * prev
                xr[k] = prev
            if i > i0:  # row j of plane i - 1 is complete: its residual
                accr = acc[cx[i - 1], cy[j]]
                gyp = gy[i - 1, j]
                gzp = gz[i - 1, j]
                xq = x[i - 1, j + 1] if j < ny - 1 else zrow
                for k in range(nz - 1):
                    accr[k] += gxl[k] * xr[k] + gyp[k] * xq[k] + gzp[k] * xll[k + 1]
                accr[nz - 1] += gxl[nz - 1] * xr[nz - 1] + gyp[nz - 1] * xq[nz - 1]
    i = i1 - 1
    for j in range(ny):
        accr = acc[cx[i], cy[j]]
        xr = x[i, j]
        gyr = gy[i, j]
        gzr = gz[i, j]
        xq = x[i, j + 1] if j < ny - 1 else zrow
        for k in range(nz - 1):
            accr[k] += gyr[k] * xq[k] + gzr[k] * xr[k + 1]
        accr[nz - 1] += gyr[nz - 1] * xq[nz - 1]
    ncz = zs.size - 1
    if ncz < nz:  # merged along z: sum the runs of each coarse row
        for ci in range(cx[i0], cx[i1 - 1] + 1):
            for cj in range(acc.shape[1]):
                for c in range(ncz):
                    t = acc[ci, cj, zs[c]]
                    for k in range(zs[c] + 1, zs[c + 1]):
                        t += acc[ci, cj, k]
                    rc[ci, cj, c] += t


@njit(**_JIT)  # type: ignore[misc]
def _cross_residual(
    gx: np.ndarray, x: np.ndarray, s: int, cx: np.ndarray, cy: np.ndarray, cz: np.ndarray, rc: np.ndarray
) -> None:  # pragma: no cover - compiled
    """The residual terms across the plane boundary ``s`` of two blocks swept apart by :func:`_forward_restrict`."""
    _, ny, nz = x.shape
    ca = cx[s - 1]
    cb = cx[s]
    for j in range(ny):
        cj = cy[j]
        for k in range(nz):
            g = gx[s - 1, j, k]
            rc[ca, cj, cz[k]] += g * x[s, j, k]
            rc[cb, cj, cz[k]] += g * x[s - 1, j, k]


@njit(**_JIT)  # type: ignore[misc]
def _backward(
    gx: np.ndarray,
    gy: np.ndarray,
    gz: np.ndarray,
    invd: np.ndarray,
    b: np.ndarray,
    x: np.ndarray,
    i0: int,
    i1: int,
    xlo: np.ndarray,
    xhi: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """One backward Gauss-Seidel sweep on ``A x = b`` over the planes ``[i0, i1)`` (the adjoint of the forward
    sweep); the neighbour planes ``i0 - 1`` and ``i1`` are read from ``xlo`` and ``xhi`` (their values before
    the sweep; zeros where there is no neighbour)."""
    _, ny, nz = b.shape
    zrow = np.zeros(nz, dtype=x.dtype)
    for i in range(i1 - 1, i0 - 1, -1):
        xl = x[i - 1] if i > i0 else xlo
        xu = x[i + 1] if i < i1 - 1 else xhi
        for j in range(ny - 1, -1, -1):
            bb = b[i, j]
            dd = invd[i, j]
            xr = x[i, j]
            gzr = gz[i, j]
            gxu = gx[i, j]
            xuu = xu[j]
            gxl, xll = (gx[i - 1, j], xl[j]) if i > 0 else (zrow, zrow)
            gyl, xjl = (gy[i, j - 1], x[i, j - 1]) if j > 0 else (zrow, zrow)
            gyu = gy[i, j]
            xju = x[i, j + 1] if j < ny - 1 else zrow
            nxt = xr[0] * 0.0
            for k in range(nz - 1, 0, -1):
                dinv = dd[k]
                s = (
                    bb[k]
                    + gxl[k] * xll[k]
                    + gxu[k] * xuu[k]
                    + gyl[k] * xjl[k]
                    + gyu[k] * xju[k]
                    + gzr[k - 1] * xr[k - 1]
                )
                nxt = s * dinv + (gzr[k] * dinv) * nxt
                xr[k] = nxt
            dinv = dd[0]
            s = bb[0] + gxl[0] * xll[0] + gxu[0] * xuu[0] + gyl[0] * xjl[0] + gyu[0] * xju[0]
            xr[0] = s * dinv + (gzr[0] * dinv) * nxt


@njit(**_JIT)  # type: ignore[misc]
def _prolong(
    x: np.ndarray, ec: np.ndarray, cx: np.ndarray, cy: np.ndarray, cz: np.ndarray, i0: int, i1: int
) -> None:  # pragma: no cover - compiled
    """``x += P ec`` on the planes ``[i0, i1)``: each fine cell takes its coarse cell's correction."""
    _, ny, nz = x.shape
    for i in range(i0, i1):
        ci = cx[i]
        for j in range(ny):
            cj = cy[j]
            for k in range(nz):
                x[i, j, k] += ec[ci, cj, cz[k]]


@njit(**_JIT_SUM)  # type: ignore[misc]
def _apply(
    gx: np.ndarray,
    gy: np.ndarray,
    gz: np.ndarray,
    diag: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    i0: int,
    i1: int,
) -> float:  # pragma: no cover - compiled
    """``y = A x`` on the planes ``[i0, i1)``; returns their part of ``x . y`` (in double precision)."""
    nx, ny, nz = x.shape
    zrow = np.zeros(nz, dtype=x.dtype)
    total = 0.0
    for i in range(i0, i1):
        for j in range(ny):
            xr = x[i, j]
            yr = y[i, j]
            dr = diag[i, j]
            gzr = gz[i, j]
            gxu = gx[i, j]
            gyu = gy[i, j]
            xu = x[i + 1, j] if i < nx - 1 else zrow
            xju = x[i, j + 1] if j < ny - 1 else zrow
            gxl, xl = (gx[i - 1, j], x[i - 1, j]) if i > 0 else (zrow, zrow)
            gyl, xjl = (gy[i, j - 1], x[i, j - 1]) if j > 0 else (zrow, zrow)
            for k in range(nz):
                yr[k] = dr[k] * xr[k] - gxl[k] * xl[k] - gxu[k] * xu[k] - gyl[k] * xjl[k] - gyu[k] * xju[k]
            for k in range(nz - 1):
                yr[k] -= gzr[k] * xr[k + 1]
                yr[k + 1] -= gzr[k] * xr[k]
            acc = 0.0
            for k in range(nz):
                acc += np.float64(yr[k]) * np.float64(xr[k])
            total += acc
    return total


@njit(**_JIT_SUM)  # type: ignore[misc]
def _dot(a: np.ndarray, b: np.ndarray) -> float:  # pragma: no cover - compiled
    """``a . b`` of two single-precision arrays, accumulated in double precision."""
    fa = a.reshape(-1)
    fb = b.reshape(-1)
    acc = 0.0
    for i in range(fa.size):
        acc += np.float64(fa[i]) * np.float64(fb[i])
    return acc


@njit(**_JIT)  # type: ignore[misc]
def _link_flows(
    la: np.ndarray,
    lb: np.ndarray,
    g: np.ndarray,
    x: np.ndarray,
    oa: np.ndarray,
    ob: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """``out[oa] += g x[lb]``, ``out[ob] += g x[la]`` (flat arrays): the flows through the links into their ends
    (the links' off-diagonal part of ``-A x``), summed into ``out`` at the indices ``oa``, ``ob``."""
    for t in range(la.size):
        gt = g[t]
        xa = x[la[t]]
        xb = x[lb[t]]
        out[oa[t]] += gt * xb
        out[ob[t]] += gt * xa


# ---------------------------------------------------------------------------------------------------------------
# Structured aggregation multigrid


def _axis_slices(axis: int) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    lo = [slice(None)] * 3
    hi = [slice(None)] * 3
    lo[axis] = slice(None, -1)
    hi[axis] = slice(1, None)
    return tuple(lo), tuple(hi)


def _strong_fractions(g: tuple[np.ndarray, ...], shape: tuple[int, ...], theta: float) -> list[np.ndarray]:
    """Per axis and per internal slab face: the fraction of faces whose conductance is strong.

    A face is strong when its conductance is at least ``theta`` times the largest conductance touching either
    of its two cells (any axis).
    """
    smax = np.zeros(shape, dtype=np.float32)
    for axis, ga in enumerate(g):
        lo, hi = _axis_slices(axis)
        ga32 = ga.astype(np.float32, copy=False)
        np.maximum(smax[lo], ga32, out=smax[lo])
        np.maximum(smax[hi], ga32, out=smax[hi])
    out = []
    for axis, ga in enumerate(g):
        if shape[axis] < 2:
            out.append(np.zeros(0))
            continue
        lo, hi = _axis_slices(axis)
        ref = np.maximum(smax[lo], smax[hi])
        ref *= theta
        strong = ga.astype(np.float32, copy=False) >= ref
        other = tuple(b for b in range(3) if b != axis)
        out.append(strong.mean(axis=other))
    return out


# A slab pair merges when at least PAIR_MIN_STRONG of its shared faces are strong, a face being strong at
# STRONG_THETA of the largest conductance at either cell. Measured on the thermal problems of the examples on
# the 2s2p board (floating on films, contrasts of 10^4): (0.7, 0.25) stalled on every one, (0.9, 0.1) converged
# in 43-69 iterations, and the synthetic benchmark takes 14 iterations either way (BENCHMARKS.md). Merging
# across weak faces is what a weakly grounded, high-contrast problem cannot take from a piecewise-constant
# interpolation; a low theta keeps moderately coupled faces (mold to copper) merging.
PAIR_MIN_STRONG = 0.9
STRONG_THETA = 0.1


def _pairs(strong: np.ndarray, n: int, minfrac: float = PAIR_MIN_STRONG) -> np.ndarray:
    """Group starts along an axis: consecutive slabs paired where their shared face is mostly strong."""
    starts = []
    i = 0
    while i < n:
        starts.append(i)
        i += 2 if (i + 1 < n and strong[i] >= minfrac) else 1
    return np.asarray(starts, dtype=np.int64)


def _slab_map(starts: np.ndarray, n: int) -> np.ndarray:
    """The coarse index of each of ``n`` slabs grouped at ``starts``."""
    mark = np.zeros(n, dtype=np.int64)
    mark[starts[1:]] = 1
    return np.cumsum(mark)


@njit(**_JIT)  # type: ignore[misc]
def _sum_into(
    src: np.ndarray, mi: np.ndarray, mj: np.ndarray, mk: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``out[mi[i], mj[j], mk[k]] += src[i, j, k]``, skipping the slabs mapped to -1."""
    ni, nj, nk = src.shape
    for i in range(ni):
        ci = mi[i]
        if ci < 0:
            continue
        for j in range(nj):
            cj = mj[j]
            if cj < 0:
                continue
            for k in range(nk):
                ck = mk[k]
                if ck >= 0:
                    out[ci, cj, ck] += src[i, j, k]


def _merge(stencil: Stencil, starts: list[np.ndarray]) -> Stencil:
    """The Galerkin coarse stencil of a piecewise-constant aggregation by slab groups (``starts`` per axis):
    coarse face conductances are the sums of the fine faces between two groups, faces inside a group drop."""
    shape = stencil.ground.shape
    cells = [_slab_map(starts[a], shape[a]) for a in range(3)]
    cshape = tuple(len(st) for st in starts)
    out = []
    for axis, g in enumerate((stencil.gx, stencil.gy, stencil.gz)):
        faces = np.full(max(shape[axis] - 1, 0), -1, dtype=np.int64)
        faces[starts[axis][1:] - 1] = np.arange(len(starts[axis]) - 1)  # fine face -> coarse face
        maps = [faces if b == axis else cells[b] for b in range(3)]
        fshape = list(cshape)
        fshape[axis] -= 1
        acc = np.zeros(fshape)
        if g.size and acc.size:
            _sum_into(np.ascontiguousarray(g), *maps, acc)
        out.append(acc)
    ground = np.zeros(cshape)
    _sum_into(np.ascontiguousarray(stencil.ground), *cells, ground)
    return Stencil(gx=out[0], gy=out[1], gz=out[2], ground=ground)


def _diag(st: Stencil) -> np.ndarray:
    d = st.ground.copy()
    d[1:] += st.gx
    d[:-1] += st.gx
    d[:, 1:] += st.gy
    d[:, :-1] += st.gy
    d[:, :, 1:] += st.gz
    d[:, :, :-1] += st.gz
    return d


def _coarsen(st: Stencil, theta: float) -> list[np.ndarray]:
    """Group starts per axis for one level: strong pairs; when (almost) nothing merges, every slab of the axis
    with the most strong faces is paired (halving a still anisotropic level along every axis ruins it)."""
    shape = st.ground.shape
    fr = _strong_fractions((st.gx, st.gy, st.gz), shape, theta)
    starts = [_pairs(fr[a], shape[a]) for a in range(3)]
    if np.prod(shape) < 1.5 * np.prod([len(s) for s in starts]):
        axis = int(np.argmax([f.mean() if f.size else -1.0 for f in fr]))
        starts[axis] = _pairs(np.ones(shape[axis] - 1), shape[axis])
    return starts


def _full(g: np.ndarray, axis: int, shape: tuple[int, ...], scale: float, dtype: type) -> np.ndarray:
    """Face conductances along ``axis`` as a full-size array (zero on the last slab), scaled."""
    out = np.zeros(shape, dtype=dtype)
    sl = [slice(None)] * 3
    sl[axis] = slice(0, shape[axis] - 1)
    out[tuple(sl)] = g / scale
    return out


@dataclass
class _Grid:
    """One structured level: scaled single-precision conductances and, above the coarsest, the slab maps.

    ``split``: the first plane of the second block when the level is swept in two blocks (hybrid Gauss-Seidel:
    each block sweeps its planes, the other block's boundary plane held at its value before the sweep), 0 when
    swept whole. The split lies on a coarse plane boundary, so the two blocks restrict into disjoint planes.
    """

    gx: np.ndarray
    gy: np.ndarray
    gz: np.ndarray
    diag: np.ndarray
    invd: np.ndarray
    maps: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    cshape: tuple[int, int, int] = (0, 0, 0)
    zstarts: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    acc: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), dtype=np.float32))
    split: int = 0
    links: _Links | None = None

    @classmethod
    def of(cls, st: Stencil, scale: float, dtype: type) -> _Grid:
        shape = st.ground.shape
        gx, gy, gz = (_full(g, axis, shape, scale, dtype) for axis, g in enumerate((st.gx, st.gy, st.gz)))
        diag = (_diag(st) / scale).astype(dtype)
        invd = np.divide(dtype(1.0), diag, out=np.zeros_like(diag), where=diag > 0)
        return cls(gx, gy, gz, diag, invd)

    def add_links(self, links: _Links) -> None:
        """Couple cells off the grid (the finest level): their conductances join the diagonal at both ends."""
        self.links = links
        d = self.diag.reshape(-1)
        d64 = d.astype(np.float64)
        np.add.at(d64, links.a, links.g)
        np.add.at(d64, links.b, links.g)
        d[:] = d64
        self.invd = np.divide(
            self.diag.dtype.type(1.0), self.diag, out=np.zeros_like(self.diag), where=self.diag > 0
        )

    def link(self, maps: tuple[np.ndarray, np.ndarray, np.ndarray], cshape: tuple[int, int, int]) -> None:
        """Set the slab maps to the next level, and the split when the level is large enough for two threads."""
        self.maps = maps
        self.cshape = cshape
        if self.links is not None:
            lk = self.links
            shape = self.diag.shape
            for ends, coarse in ((lk.a, lk.ca), (lk.b, lk.cb)):
                i, j, k = np.unravel_index(ends, shape)
                coarse[:] = (maps[0][i] * cshape[1] + maps[1][j]) * cshape[2] + maps[2][k]
        nz = self.diag.shape[2]
        self.zstarts = np.concatenate([[0], np.flatnonzero(np.diff(maps[2])) + 1, [nz]]).astype(np.int64)
        self.acc = np.empty((cshape[0], cshape[1], nz), dtype=self.diag.dtype)  # restricted in x, y only
        nx = self.diag.shape[0]
        if self.size >= PARALLEL_MIN and (os.cpu_count() or 1) >= 2 and nx >= 4:
            starts = np.flatnonzero(np.diff(maps[0])) + 1  # planes where a coarse plane begins
            if starts.size:
                self.split = int(starts[np.argmin(np.abs(starts - nx // 2))])

    @property
    def size(self) -> int:
        return int(self.diag.size)

    def forward(self, b: np.ndarray, x: np.ndarray, rc: np.ndarray) -> None:
        """``x`` = a forward sweep from zero, ``rc`` = the restricted residual."""
        assert self.maps is not None
        cx, cy, cz = self.maps
        acc = rc if self.zstarts.size - 1 == self.diag.shape[2] else self.acc
        args = (self.gx, self.gy, self.gz, self.invd, b, x, cx, cy, cz, self.zstarts, rc, acc)
        nx = self.diag.shape[0]
        s = self.split
        if not s:
            _forward_restrict(*args, 0, nx)
        else:
            job = _pool().submit(_forward_restrict, *args, s, nx)
            _forward_restrict(*args, 0, s)
            job.result()
            _cross_residual(self.gx, x, s, cx, cy, cz, rc)
        lk = self.links
        if lk is not None:  # the links' flows, left out of the sweep, into the residual
            _link_flows(lk.a, lk.b, lk.g, x.reshape(-1), lk.ca, lk.cb, rc.reshape(-1))

    def backward(self, b: np.ndarray, x: np.ndarray) -> None:
        """A backward sweep from ``x`` (with links: their flows at ``x`` before the sweep added to ``b``)."""
        lk = self.links
        if lk is not None:
            fb = b.reshape(-1)
            held = fb[lk.ends]
            _link_flows(lk.a, lk.b, lk.g, x.reshape(-1), lk.a, lk.b, fb)
            try:
                self._backward(b, x)
            finally:
                fb[lk.ends] = held
            return
        self._backward(b, x)

    def _backward(self, b: np.ndarray, x: np.ndarray) -> None:
        args = (self.gx, self.gy, self.gz, self.invd, b, x)
        nx = self.diag.shape[0]
        s = self.split
        none = np.zeros(x.shape[1:], dtype=x.dtype)  # no neighbour plane
        if not s:
            _backward(*args, 0, nx, none, none)
            return
        below, above = x[s - 1].copy(), x[s].copy()
        job = _pool().submit(_backward, *args, s, nx, below, none)
        _backward(*args, 0, s, none, above)
        job.result()

    def prolong(self, x: np.ndarray, ec: np.ndarray) -> None:
        assert self.maps is not None
        cx, cy, cz = self.maps
        nx = self.diag.shape[0]
        s = self.split
        if not s:
            _prolong(x, ec, cx, cy, cz, 0, nx)
            return
        job = _pool().submit(_prolong, x, ec, cx, cy, cz, s, nx)
        _prolong(x, ec, cx, cy, cz, 0, s)
        job.result()

    def apply(self, x: np.ndarray, y: np.ndarray) -> float:
        """``y = A x``; returns ``x . y``."""
        args = (self.gx, self.gy, self.gz, self.diag, x, y)
        nx = self.diag.shape[0]
        s = self.split
        if not s:
            return float(_apply(*args, 0, nx))
        job = _pool().submit(_apply, *args, s, nx)
        part = float(_apply(*args, 0, s))
        return part + float(job.result())


@dataclass
class _Links:
    """Couplings between cells that are not grid neighbours (links between free cells), on the finest level."""

    a: np.ndarray  # flat cell of each end
    b: np.ndarray
    g: np.ndarray  # conductance, scaled, in the level's precision
    ca: np.ndarray = field(init=False)  # coarse cell (flat) of each end, set with the slab maps
    cb: np.ndarray = field(init=False)
    ends: np.ndarray = field(init=False)  # the distinct cells at either end

    def __post_init__(self) -> None:
        self.ca = np.zeros_like(self.a)
        self.cb = np.zeros_like(self.b)
        self.ends = np.unique(np.concatenate([self.a, self.b]))

    @classmethod
    def of(cls, parts: Assembly, scale: float, dtype: type) -> _Links:
        """The links between free cells of the assembly, scaled to the levels' units."""
        la, lb, lg = parts.link_pairs
        return cls(la.copy(), lb.copy(), (lg / scale).astype(dtype))


# coarse levels at least this large are solved by a K-cycle step, smaller ones by a V-cycle
K_CYCLE_MIN = 40_000


class StructuredMultigrid:
    """The ``gmg`` preconditioner (see the module docstring): a K-cycle over structured aggregates."""

    flexible = True

    def __init__(
        self,
        a: sp.csr_matrix,
        parts: Assembly,
        theta: float = STRONG_THETA,
        max_coarse: int = 3000,
        dtype: type = np.float32,
    ) -> None:
        if parts.stencil is None:
            raise ValueError("the structured multigrid needs the assembly's stencil (keep_stencil=True)")
        # ``dtype`` (single precision by default) on every level, the operators scaled to a unit typical
        # diagonal (electrostatic conductances are ~1e-17 F: their squares would underflow float32)
        self.dtype = dtype
        self.scale = float(np.median(a.diagonal())) or 1.0
        self.shape = parts.shape
        self.free: np.ndarray | None = parts.free if parts.fixed.size else None
        st = parts.stencil
        if parts.fixed.size:
            # the exact Galerkin product over the free cells: a fixed cell adds nothing to its aggregate (the
            # free cells' grounds already hold their couplings to it)
            ground = st.ground.copy()
            ground.reshape(-1)[parts.fixed] = 0.0
            st = Stencil(gx=st.gx, gy=st.gy, gz=st.gz, ground=ground)
        self.grids: list[_Grid] = []
        level_sizes = [a.shape[0]]
        self.grids.append(_Grid.of(st, self.scale, self.dtype))
        if parts.free_links:
            self.grids[0].add_links(_Links.of(parts, self.scale, self.dtype))
        while level_sizes[-1] > max_coarse:
            shape = st.ground.shape
            starts = _coarsen(st, theta)
            cshape = (len(starts[0]), len(starts[1]), len(starts[2]))
            maps = (
                _slab_map(starts[0], shape[0]),
                _slab_map(starts[1], shape[1]),
                _slab_map(starts[2], shape[2]),
            )
            self.grids[-1].link(maps, cshape)
            st = _merge(st, starts)
            self.grids.append(_Grid.of(st, self.scale, self.dtype))
            level_sizes.append(self.grids[-1].size)
            if level_sizes[-1] >= int(np.prod(shape)) or max(cshape) == 1:
                break
        self._sizes = level_sizes
        self._direct = len(level_sizes) == 1  # small enough to factorise the fine matrix itself
        if self._direct:
            coarsest = a.copy()
        else:
            diag = _diag(st)
            diag[diag <= 0.0] = 1.0  # coarse cells of fixed cells only: decoupled, their residual is zero
            coarsest = asm.csr_7point(st.gx, st.gy, st.gz, diag, None, np.float64)
        coarsest.data /= self.scale
        self._lu = spla.splu(coarsest.tocsc())
        self.threads = self._threads_pay()

    def _threads_pay(self) -> bool:
        """Whether sweeping in two blocks on two threads is faster here and now than one thread (a second core
        may be busy): times a forward sweep of the finest grid both ways; without a split, sweeps stay whole."""
        split = [g for g in self.grids if g.split]
        if not split:
            return False
        g = split[0]
        b = np.ones(g.diag.shape, dtype=self.dtype)
        x = np.empty_like(b)
        rc = np.empty(g.cshape, dtype=self.dtype)
        whole = g.split
        best: dict[int, float] = {}
        for trial in (whole, 0, whole, 0):
            g.split = trial
            t0 = time.perf_counter()
            g.forward(b, x, rc)
            best[trial] = min(best.get(trial, np.inf), time.perf_counter() - t0)
        g.split = whole
        if best[whole] < 0.8 * best[0]:
            return True
        for h in self.grids:
            h.split = 0
        return False

    @property
    def sizes(self) -> list[int]:
        return list(self._sizes)

    def _coarse(self, level: int, rc: np.ndarray) -> np.ndarray:
        """The correction on grid ``level`` (a K-cycle step when it is large, else one cycle)."""
        last = len(self.grids) - 1
        if level < last and self.grids[level].size >= K_CYCLE_MIN:
            return self._kstep(level, rc)
        return self._cycle(level, rc)

    def _cycle(self, level: int, b: np.ndarray) -> np.ndarray:
        """One cycle on grid ``level`` from zero: forward sweep, coarse correction, backward sweep."""
        g = self.grids[level]
        if level == len(self.grids) - 1:
            return self._lu.solve(b.reshape(-1).astype(np.float64)).astype(self.dtype).reshape(b.shape)
        x = np.empty_like(b)
        rc = np.empty(g.cshape, dtype=self.dtype)
        g.forward(b, x, rc)
        g.prolong(x, self._coarse(level + 1, rc))
        g.backward(b, x)
        return x

    def _kstep(self, level: int, b: np.ndarray, t: float = 0.25) -> np.ndarray:
        """Two flexible CG steps on a coarse grid, each preconditioned by one cycle (the K-cycle)."""
        g = self.grids[level]
        c = self._cycle(level, b)
        v = np.empty_like(c)
        rho1 = g.apply(c, v)
        if not rho1 > 0.0:
            return c
        a1 = _dot(c, b) / rho1
        f = self.dtype
        r = b - f(a1) * v
        if _dot(r, r) <= t * t * _dot(b, b):
            c *= f(a1)
            return c
        d = self._cycle(level, r)
        w = np.empty_like(d)
        beta = g.apply(d, w)
        gamma = _dot(d, v)
        a2 = _dot(d, r)
        rho2 = beta - gamma * gamma / rho1
        if not rho2 > 1e-12 * beta:
            c *= f(a1)
            return c
        c *= f(a1 - gamma * a2 / (rho1 * rho2))
        d *= f(a2 / rho2)
        c += d
        return c

    def __call__(self, r: FloatArray) -> FloatArray:
        nr = float(np.sqrt(_dot(r, r)))
        if nr == 0.0:
            return np.zeros_like(r)
        if self._direct:
            return np.asarray(self._lu.solve(r), dtype=np.float64) / self.scale
        z = np.empty(r.shape, dtype=np.float64)
        if self.free is not None:
            b = np.zeros(self.shape, dtype=self.dtype)
            _scatter(r, 1.0 / nr, self.free, b)
            _gather(self._cycle(0, b), nr / self.scale, self.free, z)
        else:
            b = np.empty(self.shape, dtype=self.dtype)
            _scaled_copy(r, 1.0 / nr, b)
            _scaled_copy(self._cycle(0, b), nr / self.scale, z)
        return z


class _PyAMG:
    """A pyamg hierarchy used as a V-cycle preconditioner."""

    flexible = False

    def __init__(self, a: sp.csr_matrix, kind: str) -> None:
        if kind == "rs":
            self.ml = pyamg.ruge_stuben_solver(a, strength=("classical", {"theta": 0.25}), keep=False)
        else:
            self.ml = pyamg.smoothed_aggregation_solver(
                a, strength=("symmetric", {"theta": 0.0}), improve_candidates=None, keep=False
            )
        self._m = self.ml.aspreconditioner(cycle="V")

    def __call__(self, r: FloatArray) -> FloatArray:
        return np.asarray(self._m.matvec(r), dtype=np.float64)


class _Direct:
    """Sparse LU (SuperLU, minimum-degree ordering on A + A^T)."""

    def __init__(self, a: sp.csr_matrix) -> None:
        self.lu = spla.splu(a.tocsc(), permc_spec="MMD_AT_PLUS_A")

    def __call__(self, r: FloatArray) -> FloatArray:
        return self.lu.solve(r)


# ---------------------------------------------------------------------------------------------------------------
# Prepared problems


@dataclass
class _Attempt:
    method: str
    iterations: int
    residual: float

    def __str__(self) -> str:
        return f"{self.method}: {self.iterations} iterations, relative residual {self.residual:.2e}"


@dataclass
class Prepared:
    """An assembled problem with its solver set up, for many right-hand sides on the same structure."""

    problem: DiffusionProblem
    parts: Assembly
    chain: tuple[str, ...]
    tol: float
    maxiter: int
    assembly_s: float
    setup_s: float = 0.0
    _solvers: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def matrix(self) -> sp.csr_matrix:
        return self.parts.matrix

    @property
    def unknowns(self) -> int:
        return self.parts.unknowns

    def _solver(self, name: str) -> object:
        if name not in self._solvers:
            t0 = time.perf_counter()
            a = self.parts.matrix
            if name == "direct":
                self._solvers[name] = _Direct(a)
            elif name == "gmg":
                self._solvers[name] = StructuredMultigrid(a, self.parts)
            elif name in ("rs", "sa"):
                self._solvers[name] = _PyAMG(a, name)
            else:
                raise ValueError(f"unknown method {name!r}; methods are auto, direct, {', '.join(ITERATIVE)}")
            self.setup_s += time.perf_counter() - t0
        return self._solvers[name]

    def setup(self) -> None:
        """Set up the first method of the chain now (else it is set up on the first solve)."""
        if self.unknowns:
            self._solver(self.chain[0])

    def single_thread(self) -> None:
        """Solve on one thread from now on (when processes share the work instead of threads)."""
        for solver in self._solvers.values():
            if isinstance(solver, StructuredMultigrid):
                solver.threads = False
                for grid in solver.grids:
                    grid.split = 0

    def solve(
        self,
        variant: DiffusionProblem | FloatArray | None = None,
        *,
        tol: float | None = None,
        maxiter: int | None = None,
        progress: Progress | None = None,
    ) -> FieldSolution:
        """Solve for ``variant`` (default: the prepared problem): same structure, other sources or held values.

        ``variant``: a problem that differs from the prepared one only in ``source``, the face conditions'
        ``value`` and ``fixed_value`` (anything else raises ValueError), or an array of sources (grid shape) to
        use in place of the prepared problem's.
        """
        if isinstance(variant, np.ndarray):
            variant = dataclasses.replace(self.problem, source=variant)
        problem = self.problem if variant is None else variant
        if variant is not None and variant is not self.problem:
            reason = _structure_difference(self.problem, variant)
            if reason:
                raise ValueError(f"the variant cannot reuse the prepared solver: {reason}")
        tol = self.tol if tol is None else tol
        maxiter = self.maxiter if maxiter is None else maxiter
        b = asm.rhs(problem, self.parts)
        t0 = time.perf_counter()
        x, used, iterations, residual, tried = self._run(b, tol, maxiter, progress)
        solve_s = time.perf_counter() - t0
        u = asm.full_field(problem, self.parts, x)
        stats = SolverStats(
            unknowns=self.unknowns,
            iterations=iterations,
            residual=residual,
            assembly_s=self.assembly_s,
            setup_s=self.setup_s,
            solve_s=solve_s,
            method=used,
            tried=tried,
        )
        return _solution(problem, self.parts, u, stats)

    def _run(
        self, b: FloatArray, tol: float, maxiter: int, progress: Progress | None
    ) -> tuple[FloatArray, str, int, float, tuple[str, ...]]:
        n = self.unknowns
        if n == 0:
            return np.zeros(0), "none", 0, 0.0, ()
        nb = float(np.linalg.norm(b))
        if nb == 0.0:
            return np.zeros(n), self.chain[0], 0, 0.0, ()
        attempts: list[_Attempt] = []
        a = self.parts.matrix
        for name in self.chain:
            solver = self._solver(name)
            if isinstance(solver, _Direct):
                x = solver(b)
                r = b - a @ x
                for _ in range(3):  # iterative refinement, rarely needed
                    if float(np.linalg.norm(r)) <= tol * nb:
                        break
                    x += solver(r)
                    r = b - a @ x
                residual = float(np.linalg.norm(r)) / nb
                iterations = 1
            else:
                x, iterations, residual = _pcg(
                    a,
                    b,
                    solver,  # type: ignore[arg-type]
                    tol,
                    maxiter,
                    flexible=bool(getattr(solver, "flexible", False)),
                    threads=bool(getattr(solver, "threads", False)),
                    name=name,
                    progress=progress,
                    stall=STALL_WINDOW if name == "gmg" and name != self.chain[-1] else 0,
                )
            attempt = _Attempt(name, iterations, residual)
            attempts.append(attempt)
            if residual <= tol or residual <= _rounding_floor(a, x, nb):
                return x, name, iterations, residual, tuple(str(t) for t in attempts)
        raise NotConvergedError(
            f"the field solve did not reach the relative residual {tol:.1e} ({n:,} unknowns); tried "
            + "; ".join(str(t) for t in attempts)
        )


def _rounding_floor(a: sp.csr_matrix, x: FloatArray, nb: float) -> float:
    """The relative residual below which ``b - A x`` is rounding noise: ``eps || |A| |x| || / ||b||``.

    On thin, stiff layers (1 um cells next to mm-wide ones) the products ``A_ij x_j`` are many orders larger than
    ``b`` and their rounding sets a floor on any computed residual; a tolerance below it is met at the floor.
    """
    ax = abs(a) @ np.abs(x)
    return float(np.finfo(np.float64).eps) * float(np.linalg.norm(ax)) / nb


def _structure_difference(p: DiffusionProblem, q: DiffusionProblem) -> str:
    """Why ``q`` cannot reuse a solver set up for ``p`` ('' when it can)."""

    def same(x: object, y: object) -> bool:
        if x is y:
            return True
        if x is None or y is None:
            return False
        return bool(np.array_equal(np.asarray(x), np.asarray(y)))

    if p.grid is not q.grid and not all(same(e, f) for e, f in zip(p.grid.edges, q.grid.edges, strict=True)):
        return "the grid differs"
    if not same(p.k, q.k):
        return "k differs"
    if not same(p.fixed, q.fixed):
        return "the fixed cells differ"
    if len(p.faces) != len(q.faces):
        return "the number of face conditions differs"
    for f, g in zip(p.faces, q.faces, strict=True):
        if (f.face, f.kind, f.h) != (g.face, g.kind, g.h) or not (
            (f.mask is None and g.mask is None) or same(f.mask, g.mask)
        ):
            return f"face condition {f.name or f.face} differs in face, kind, h or mask"
    if (p.links is None) != (q.links is None) or (
        p.links is not None
        and q.links is not None
        and not (same(p.links.a, q.links.a) and same(p.links.b, q.links.b) and same(p.links.g, q.links.g))
    ):
        return "the links differ"
    for r, s in zip(p.interface, q.interface, strict=True):
        if not ((r is None and s is None) or same(r, s)):
            return "the interface resistances differ"
    return ""


def _solution(problem: DiffusionProblem, parts: Assembly, u: FloatArray, stats: SolverStats) -> FieldSolution:
    flows = asm.face_flows(problem, parts, u)
    fixed_flow = float(asm.absorbed(problem, parts, u).sum())
    source_total = float(asm.sources(problem).sum())
    out = sum(flows.values())
    scale = max(abs(source_total), sum(abs(v) for v in flows.values()), abs(fixed_flow), 1e-300)
    err = abs(source_total - out - fixed_flow) / scale
    return FieldSolution(
        u=u,
        stats=stats,
        face_flows=flows,
        fixed_flow=fixed_flow,
        source_total=source_total,
        energy_balance_error=err,
    )


def _chain(method: str, unknowns: int) -> tuple[str, ...]:
    if method == "auto":
        if unknowns <= DIRECT_MAX:
            return ("direct", *ITERATIVE)
        return ITERATIVE
    if method == "direct":
        return ("direct",)
    if method in ITERATIVE:
        return (method, *(m for m in ITERATIVE if m != method))
    raise ValueError(f"unknown method {method!r}; methods are auto, direct, {', '.join(ITERATIVE)}")


def prepare(
    problem: DiffusionProblem,
    *,
    tol: float = 1e-9,
    maxiter: int = DEFAULT_MAXITER,
    method: Method = "auto",
) -> Prepared:
    """Assemble ``problem`` and set up its solver (the first method of the chain) for repeated solves."""
    if not (0.0 < tol < 1.0):
        raise ValueError(f"tol {tol} must lie in (0, 1)")
    if maxiter < 1:
        raise ValueError(f"maxiter {maxiter} must be >= 1")
    t0 = time.perf_counter()
    _, _, parts = asm.assemble(problem)
    assembly_s = time.perf_counter() - t0
    prepared = Prepared(
        problem=problem,
        parts=parts,
        chain=_chain(method, parts.unknowns),
        tol=tol,
        maxiter=maxiter,
        assembly_s=assembly_s,
    )
    prepared.setup()
    return prepared


def solve(
    problem: DiffusionProblem,
    *,
    tol: float = 1e-9,
    maxiter: int = DEFAULT_MAXITER,
    method: Method = "auto",
    progress: Progress | None = None,
) -> FieldSolution:
    """Solve ``div(k grad u) + q = 0`` for ``problem`` to the relative residual ``tol`` (see the module doc).

    Raises ValueError for a singular or malformed problem and NotConvergedError when no method converges.
    """
    return prepare(problem, tol=tol, maxiter=maxiter, method=method).solve(progress=progress)


__all__ = [
    "DIRECT_MAX",
    "Method",
    "Prepared",
    "Progress",
    "StructuredMultigrid",
    "prepare",
    "solve",
]
