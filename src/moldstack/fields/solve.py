"""Solving an assembled diffusion problem: direct or preconditioned conjugate gradients, checked and reusable.

:func:`solve` assembles (:mod:`moldstack.fields.assembly`), sets up a solver and solves once;
:func:`prepare` returns a :class:`Prepared` that keeps the factorisation or multigrid hierarchy so that many
right-hand sides (other sources, face values or fixed values on the same structure: one per net of a
capacitance matrix) cost one solve each.

Methods (``method=``):

- ``"direct"``: sparse LU (SuperLU); the default below :data:`DIRECT_MAX` unknowns.
- ``"gmg"``: flexible CG preconditioned by a multigrid that exploits the structured grid. Cells are aggregated
  in pairs along each axis where that axis' couplings are strong (>= 0.25 of the largest at either cell) on
  most of the slab: a semi-coarsening that follows the grid's anisotropy (thin layers merge in z, strips of
  narrow plan cells in x or y) while keeping tensor-product slabs, so the coarse operators are the exact
  Galerkin products of the piecewise-constant aggregation computed on the structured arrays (face conductances
  summed in parallel; no sparse matrix products). One forward and one backward Gauss-Seidel sweep (pyamg's
  kernel) per level, single precision, operators scaled to a unit diagonal; a K-cycle (two flexible CG steps,
  Notay & Vassilevski 2008, Numer. Linear Algebra Appl. 15) into every coarse level of at least
  :data:`K_CYCLE_MIN` cells to make up for the piecewise-constant interpolation, V-cycles below, SuperLU on
  the coarsest level. Links act on the finest level only (the coarse levels are the plain grid).
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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyamg
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from pyamg import amg_core

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


# ---------------------------------------------------------------------------------------------------------------
# Conjugate gradients


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
) -> tuple[FloatArray, int, float]:
    """Preconditioned CG until the *true* relative residual is below ``tol`` or ``maxiter`` iterations.

    ``flexible``: Polak-Ribiere ``beta`` (for a preconditioner that varies, as a K-cycle does). On reaching the
    tolerance by the recursive residual, the true residual is computed and, if above, CG restarts from it.
    Returns ``(x, iterations, true relative residual)``.
    """
    nb = float(np.linalg.norm(b))
    x = np.zeros_like(b)
    r = b.copy()
    it = 0
    rel = 1.0
    while it < maxiter:
        z = precondition(r)
        p = z.copy()
        rz = float(r @ z)
        start = it
        while it < maxiter:
            q = a @ p
            pq = float(p @ q)
            if not pq > 0.0:
                break
            alpha = rz / pq
            x += alpha * p
            r -= alpha * q
            it += 1
            rel = float(np.linalg.norm(r)) / nb
            if progress is not None:
                progress(name, it, rel)
            if rel <= tol:
                break
            z = precondition(r)
            if flexible:
                beta = -alpha * float(z @ q) / rz
                rz = float(r @ z)
            else:
                rz_new = float(r @ z)
                beta = rz_new / rz
                rz = rz_new
            p *= beta
            p += z
        r = b - a @ x
        rel = float(np.linalg.norm(r)) / nb
        if rel <= tol or not np.isfinite(rel) or it == start or rel <= _rounding_floor(a, x, nb):
            break  # converged, broken down (no step possible), or at the rounding floor
    return x, it, rel


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


def _pairs(strong: np.ndarray, n: int, minfrac: float = 0.7) -> np.ndarray:
    """Group starts along an axis: consecutive slabs paired where their shared face is mostly strong."""
    starts = []
    i = 0
    while i < n:
        starts.append(i)
        i += 2 if (i + 1 < n and strong[i] >= minfrac) else 1
    return np.asarray(starts, dtype=np.int64)


def _merge(stencil: Stencil, starts: list[np.ndarray]) -> Stencil:
    """The Galerkin coarse stencil of a piecewise-constant aggregation by slab groups (``starts`` per axis)."""
    shape = stencil.ground.shape
    gs = (stencil.gx, stencil.gy, stencil.gz)
    merged = [len(starts[a]) < shape[a] for a in range(3)]
    out = []
    for axis in range(3):
        st = starts[axis]
        g = np.take(gs[axis], st[1:] - 1, axis=axis) if merged[axis] else gs[axis]
        for b in range(3):
            if b != axis and merged[b]:
                g = np.add.reduceat(g, starts[b], axis=b)
        out.append(np.ascontiguousarray(g))
    ground = stencil.ground
    for b in range(3):
        if merged[b]:
            ground = np.add.reduceat(ground, starts[b], axis=b)
    return Stencil(gx=out[0], gy=out[1], gz=out[2], ground=np.ascontiguousarray(ground))


def _parents(shape: tuple[int, ...], starts: list[np.ndarray]) -> tuple[np.ndarray, tuple[int, int, int]]:
    """For each fine cell (flat), its coarse cell (flat), and the coarse shape."""
    idx = []
    for axis in range(3):
        mark = np.zeros(shape[axis], dtype=np.int64)
        mark[starts[axis][1:]] = 1
        idx.append(np.cumsum(mark))
    cshape = (len(starts[0]), len(starts[1]), len(starts[2]))
    flat = (idx[0][:, None, None] * cshape[1] + idx[1][None, :, None]) * cshape[2] + idx[2][None, None, :]
    return flat.reshape(-1), cshape


def _diag(st: Stencil) -> np.ndarray:
    d = st.ground.copy()
    d[1:] += st.gx
    d[:-1] += st.gx
    d[:, 1:] += st.gy
    d[:, :-1] += st.gy
    d[:, :, 1:] += st.gz
    d[:, :, :-1] += st.gz
    return d


# coarse levels at least this large are solved by a K-cycle step, smaller ones by a V-cycle
K_CYCLE_MIN = 40_000


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


@dataclass
class _Level:
    a: sp.csr_matrix  # single precision
    parent: np.ndarray | None = None  # fine cell -> coarse cell
    coarse: int = 0


def _single(a: sp.csr_matrix) -> sp.csr_matrix:
    """A single-precision copy of ``a`` that shares its index arrays."""
    return sp.csr_matrix((a.data.astype(np.float32), a.indices, a.indptr), shape=a.shape)


class StructuredMultigrid:
    """The ``gmg`` preconditioner (see the module docstring): a K-cycle over structured aggregates."""

    flexible = True

    def __init__(
        self, a: sp.csr_matrix, parts: Assembly, theta: float = 0.25, max_coarse: int = 3000
    ) -> None:
        if parts.stencil is None:
            raise ValueError("the structured multigrid needs the assembly's stencil (keep_stencil=True)")
        # single precision on every level, the operators scaled to a unit typical diagonal (electrostatic
        # conductances are ~1e-17 F: their squares would underflow float32)
        self.scale = float(np.median(a.diagonal())) or 1.0
        fine = _single(a)
        fine.data /= np.float32(self.scale)
        self.levels: list[_Level] = [_Level(fine)]
        st = parts.stencil
        first = True
        while self.levels[-1].a.shape[0] > max_coarse:
            shape = st.ground.shape
            starts = _coarsen(st, theta)
            parent, cshape = _parents(shape, starts)
            if first and parts.fixed.size:
                parent = parent[parts.free]
            first = False
            lv = self.levels[-1]
            lv.parent = parent
            lv.coarse = int(np.prod(cshape))
            st = _merge(st, starts)
            coarse = asm.csr_7point(st.gx, st.gy, st.gz, _diag(st), None, np.float32)
            coarse.data /= np.float32(self.scale)
            self.levels.append(_Level(coarse))
            if lv.coarse >= int(np.prod(shape)) or max(cshape) == 1:
                break
        self._lu = spla.splu(self.levels[-1].a.astype(np.float64).tocsc())

    @property
    def sizes(self) -> list[int]:
        return [lv.a.shape[0] for lv in self.levels]

    def _smooth(self, lv: _Level, x: np.ndarray, b: np.ndarray, forward: bool) -> None:
        a = lv.a
        n = a.shape[0]
        if forward:
            amg_core.gauss_seidel(a.indptr, a.indices, a.data, x, b, 0, n, 1)
        else:
            amg_core.gauss_seidel(a.indptr, a.indices, a.data, x, b, n - 1, -1, -1)

    def _cycle(self, level: int, b: np.ndarray) -> np.ndarray:
        if level == len(self.levels) - 1:
            return self._lu.solve(b.astype(np.float64)).astype(np.float32)
        lv = self.levels[level]
        x = np.zeros_like(b)
        self._smooth(lv, x, b, True)
        r = b - lv.a @ x
        rc = np.bincount(lv.parent, weights=r, minlength=lv.coarse).astype(np.float32)
        below = level + 1
        k_step = below < len(self.levels) - 1 and self.levels[below].a.shape[0] >= K_CYCLE_MIN
        ec = self._kstep(below, rc) if k_step else self._cycle(below, rc)
        x += ec[lv.parent]
        self._smooth(lv, x, b, False)
        return x

    def _kstep(self, level: int, b: np.ndarray, t: float = 0.25) -> np.ndarray:
        """Two flexible CG steps on a coarse level, each preconditioned by one cycle (the K-cycle)."""
        a = self.levels[level].a
        c = self._cycle(level, b)
        v = a @ c
        rho1 = float(c @ v)
        if not rho1 > 0.0:
            return c
        a1 = float(c @ b) / rho1
        r = b - a1 * v
        if float(np.linalg.norm(r)) <= t * float(np.linalg.norm(b)):
            return a1 * c
        d = self._cycle(level, r)
        w = a @ d
        gamma = float(d @ v)
        beta = float(d @ w)
        a2 = float(d @ r)
        rho2 = beta - gamma * gamma / rho1
        if not rho2 > 1e-12 * beta:
            return a1 * c
        return (a1 - gamma * a2 / (rho1 * rho2)) * c + (a2 / rho2) * d

    def __call__(self, r: FloatArray) -> FloatArray:
        nr = float(np.linalg.norm(r))
        if nr == 0.0:
            return np.zeros_like(r)
        z = self._cycle(0, (r / nr).astype(np.float32)).astype(np.float64)
        z *= nr / self.scale
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
                    name=name,
                    progress=progress,
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
