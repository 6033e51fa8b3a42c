"""Finite-volume assembly of a :class:`~moldstack.fields.problem.DiffusionProblem` into ``A u = b``.

The model: one unknown per cell (flat index ``i * ny * nz + j * nz + k``, C order), the two-point flux between
neighbours through the conductance of the two half cells in series,
``G = A_face / (d1 / k1 + d2 / k2 + R''_interface)`` (``d`` the half widths, so the harmonic mean of ``k``),
a Dirichlet face ``g = A / (d / k)`` to its value (the half cell to the face), a Robin face
``g = A / (d / k + 1 / h)`` to its ambient, and links as extra conductances between two cells. Lengths on the
grid are micrometres; everything here is SI (m, m^2, W/K or S).

Fixed cells are eliminated: only free cells are unknowns; a coupling between a free and a fixed cell becomes a
ground term on the free cell's diagonal and ``g * u_fixed`` on its right-hand side. The matrix is therefore the
symmetric, weighted graph Laplacian of the free cells plus a non-negative diagonal (the grounds), symmetric
positive definite as soon as one ground exists (with every ``k > 0`` and finite interface resistances the grid is
connected, so one ground anywhere pins every free cell). A problem without any ground (adiabatic everywhere, no
fixed cell) is singular and refused with :class:`ValueError`.

Assumptions: isotropic ``k`` per cell; the two-point flux is exact for 1D layers whose boundaries are grid lines
and second order on smooth fields (first order in the flux next to strong grading). Source: Patankar, Numerical
Heat Transfer and Fluid Flow (1980), ch. 4 (harmonic-mean interface conductivity).

Nothing here solves; :mod:`moldstack.fields.solve` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit

from moldstack.fields.problem import FACES, DiffusionProblem, FaceCondition, FloatArray, IndexArray

UM = 1e-6  # m per micrometre

# The six faces as (axis, side): side 0 is the low end of the axis, side 1 the high end.
FACE_AXIS_SIDE = {face: (i // 2, i % 2) for i, face in enumerate(FACES)}


@dataclass(frozen=True, eq=False)
class FaceTerm:
    """The cells of one face condition and their conductances to its value (``value`` the ambient/held one)."""

    key: str
    cells: IndexArray  # flat cell indices
    g: FloatArray  # W/K per cell
    value: float


@dataclass(frozen=True, eq=False)
class Stencil:
    """The conductances on the full grid, kept for structured (geometric) multigrid.

    ``gx`` (nx-1, ny, nz), ``gy`` (nx, ny-1, nz), ``gz`` (nx, ny, nz-1): face conductances between neighbours,
    zero where a face touches a fixed cell; ``ground`` (nx, ny, nz): each cell's conductance to a held value
    (boundary faces, fixed neighbours, links to fixed cells); for a fixed cell its total former coupling.
    """

    gx: FloatArray
    gy: FloatArray
    gz: FloatArray
    ground: FloatArray


@dataclass(frozen=True, eq=False)
class Assembly:
    """The assembled system and what is needed to build right-hand sides and flows afterwards."""

    matrix: sp.csr_matrix
    shape: tuple[int, int, int]
    free: IndexArray  # flat indices of the unknown (free) cells, increasing
    fixed: IndexArray  # flat indices of the fixed cells, increasing
    face_terms: tuple[FaceTerm, ...]
    # couplings between a free and a fixed cell (grid faces and links): free cell, fixed cell, g
    cross_free: IndexArray
    cross_fixed: IndexArray
    cross_g: FloatArray
    # couplings between two fixed cells (only for flows between differently labelled fixed cells)
    fixed_pairs: tuple[IndexArray, IndexArray, FloatArray]
    stencil: Stencil | None
    # links between two distinct free cells, in the matrix but not in the stencil: cell a, cell b (flat), g
    link_pairs: tuple[IndexArray, IndexArray, FloatArray] = (
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        np.zeros(0),
    )

    @property
    def free_links(self) -> int:
        return int(self.link_pairs[0].size)

    @property
    def unknowns(self) -> int:
        return int(self.free.size)

    @property
    def cells(self) -> int:
        return int(np.prod(self.shape))


def axis_conductivity(problem: DiffusionProblem, axis: int) -> FloatArray:
    """The conductivity that governs flow along ``axis`` in every cell (the same array for every axis when
    ``k`` is isotropic)."""
    k = problem.k
    if isinstance(k, tuple):
        if len(k) != 3:
            raise ValueError(f"an orthotropic k is three arrays (kx, ky, kz), not {len(k)}")
        return _check_k(k[axis], problem.grid.shape, "xyz"[axis])
    return _check_k(k, problem.grid.shape)


def _check_k(k: FloatArray, shape: tuple[int, int, int], axis: str = "") -> FloatArray:
    name = f"k{axis}"
    k = np.asarray(k, dtype=np.float64)
    if k.shape != shape:
        raise ValueError(f"{name} has shape {k.shape}, the grid has {shape} cells")
    bad = ~(np.isfinite(k) & (k > 0))
    count = int(bad.sum())
    if count:
        first = np.unravel_index(int(np.argmax(bad)), shape)
        raise ValueError(
            f"{name} must be finite and > 0 in every cell: {count} of {k.size} cells are not "
            f"(e.g. {name} = {float(k[first])!r} at cell {tuple(int(v) for v in first)})"
        )
    return k


def _interface(problem: DiffusionProblem, axis: int, shape: tuple[int, int, int]) -> FloatArray | None:
    r = problem.interface[axis]
    if r is None:
        return None
    want = list(shape)
    want[axis] -= 1
    r = np.asarray(r, dtype=np.float64)
    if r.shape != tuple(want):
        raise ValueError(f"interface resistances on axis {axis} have shape {r.shape}, expected {tuple(want)}")
    if not np.all(np.isfinite(r) & (r >= 0)):
        raise ValueError(f"interface resistances on axis {axis} must be finite and >= 0 (m^2 K/W)")
    return r


def face_conductances(problem: DiffusionProblem) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The conductance (W/K) of every internal face, per axis: ``A / (d1/k1 + d2/k2 + R'')``."""
    grid = problem.grid
    shape = grid.shape
    s = [grid.sizes(a) * UM for a in range(3)]
    out = []
    for axis in range(3):
        k = axis_conductivity(problem, axis)
        half = 0.5 * s[axis]
        other = [s[b] for b in range(3) if b != axis]
        area = np.multiply.outer(other[0], other[1])  # (n_b, n_c)
        area = np.expand_dims(area, axis)
        hshape = [1, 1, 1]
        hshape[axis] = -1
        r_half = half.reshape(hshape) / k  # d/k of each half cell (m^2 K/W)
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(None, -1)
        hi[axis] = slice(1, None)
        r = r_half[tuple(lo)] + r_half[tuple(hi)]
        rif = _interface(problem, axis, shape)
        if rif is not None:
            r += rif
        out.append(area / r)
    return out[0], out[1], out[2]


def _face_index(shape: tuple[int, int, int], face: str) -> tuple[IndexArray, tuple[int, ...]]:
    axis, side = FACE_AXIS_SIDE[face]  # type: ignore[index]
    flat = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    sl: list[slice | int] = [slice(None)] * 3
    sl[axis] = 0 if side == 0 else shape[axis] - 1
    cells = flat[tuple(sl)]
    return cells, cells.shape


def face_term(problem: DiffusionProblem, cond: FaceCondition, index: int) -> FaceTerm:
    """The cells of a face condition and their conductances ``A / (d/k)`` or ``A / (d/k + 1/h)``."""
    grid = problem.grid
    shape = grid.shape
    if cond.face not in FACE_AXIS_SIDE:
        raise ValueError(f"face condition {index}: unknown face {cond.face!r}; faces are {', '.join(FACES)}")
    axis, side = FACE_AXIS_SIDE[cond.face]
    cells, fshape = _face_index(shape, cond.face)
    s = [grid.sizes(a) * UM for a in range(3)]
    other = [s[b] for b in range(3) if b != axis]
    area = np.multiply.outer(other[0], other[1])
    d = 0.5 * s[axis][0 if side == 0 else -1]
    sl: list[slice | int] = [slice(None)] * 3
    sl[axis] = 0 if side == 0 else shape[axis] - 1
    k_face = axis_conductivity(problem, axis)[tuple(sl)]
    if not np.isfinite(cond.value):
        raise ValueError(f"face condition {index} ({cond.face}): value {cond.value} is not finite")
    if cond.kind == "dirichlet":
        g = area / (d / k_face)
    elif cond.kind == "robin":
        if not (np.isfinite(cond.h) and cond.h >= 0):
            raise ValueError(f"face condition {index} ({cond.face}): h = {cond.h} must be finite and >= 0")
        g = area / (d / k_face + 1.0 / cond.h) if cond.h > 0 else np.zeros_like(area)
    else:
        raise ValueError(f"face condition {index} ({cond.face}): unknown kind {cond.kind!r}")
    if cond.mask is not None:
        mask = np.asarray(cond.mask, dtype=bool)
        if mask.shape != fshape:
            raise ValueError(
                f"face condition {index} ({cond.face}): mask shape {mask.shape}, the face has {fshape} cells"
            )
        cells, g = cells[mask], g[mask]
    else:
        cells, g = cells.ravel(), g.ravel()
    key = cond.name or cond.face
    return FaceTerm(key=key, cells=cells.astype(np.int64), g=np.ascontiguousarray(g), value=float(cond.value))


def _fixed_mask(problem: DiffusionProblem, shape: tuple[int, int, int]) -> np.ndarray | None:
    if problem.fixed is None:
        return None
    fixed = np.asarray(problem.fixed, dtype=bool)
    if fixed.shape != shape:
        raise ValueError(f"fixed has shape {fixed.shape}, the grid has {shape} cells")
    return fixed if fixed.any() else None


def fixed_values(problem: DiffusionProblem, fixed_cells: IndexArray) -> FloatArray:
    """The held value of each fixed cell: ``fixed_value`` as a scalar, a grid-shaped array or one per fixed cell."""
    v = np.asarray(problem.fixed_value, dtype=np.float64)
    if v.ndim == 0:
        out = np.full(fixed_cells.size, float(v))
    elif v.shape == problem.grid.shape:
        out = v.ravel()[fixed_cells]
    elif v.shape == (fixed_cells.size,):
        out = v.copy()
    else:
        raise ValueError(
            f"fixed_value has shape {v.shape}: give a scalar, the grid shape {problem.grid.shape} "
            f"or one value per fixed cell ({fixed_cells.size})"
        )
    if not np.all(np.isfinite(out)):
        raise ValueError("fixed_value must be finite")
    return out


def sources(problem: DiffusionProblem) -> FloatArray:
    """The injected amount per cell (flat, W for heat); zeros if the problem has none."""
    n = problem.grid.cells
    if problem.source is None:
        return np.zeros(n)
    q = np.asarray(problem.source, dtype=np.float64)
    if q.shape not in (problem.grid.shape, (n,)):
        raise ValueError(f"source has shape {q.shape}, the grid has {problem.grid.shape} cells")
    if not np.all(np.isfinite(q)):
        raise ValueError("source must be finite in every cell")
    return q.ravel()


def _links(problem: DiffusionProblem, n: int) -> tuple[IndexArray, IndexArray, FloatArray]:
    links = problem.links
    if links is None or len(links.g) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    a = np.asarray(links.a, dtype=np.int64).ravel()
    b = np.asarray(links.b, dtype=np.int64).ravel()
    g = np.asarray(links.g, dtype=np.float64).ravel()
    if not (a.size == b.size == g.size):
        raise ValueError(f"links: a, b and g have different lengths ({a.size}, {b.size}, {g.size})")
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n):
        raise ValueError(f"links: cell indices must lie in [0, {n})")
    if not np.all(np.isfinite(g) & (g >= 0)):
        raise ValueError("links: conductances must be finite and >= 0")
    keep = (a != b) & (g > 0)
    return a[keep], b[keep], g[keep]


@njit(cache=True, nogil=True, boundscheck=False)  # type: ignore[misc]
def _csr_rows(
    gx: np.ndarray,
    gy: np.ndarray,
    gz: np.ndarray,
    diag: np.ndarray,
    remap: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    fill: bool,
) -> int:  # pragma: no cover - compiled
    """Count (``fill`` False: row lengths into ``indptr[1:]``) or write the rows of the 7-point matrix.

    ``remap``: the row/column of each cell, -1 for a dropped one. Returns the number of entries.
    """
    nx, ny, nz = diag.shape
    plane = ny * nz
    pos = 0
    row = 0
    for i in range(nx):
        for j in range(ny):
            for k in range(nz):
                c = (i * ny + j) * nz + k
                if remap[c] < 0:
                    continue
                for e in range(7):
                    if e == 0:
                        v = -gx[i - 1, j, k] if i > 0 else 0.0
                        nb = c - plane
                    elif e == 1:
                        v = -gy[i, j - 1, k] if j > 0 else 0.0
                        nb = c - nz
                    elif e == 2:
                        v = -gz[i, j, k - 1] if k > 0 else 0.0
                        nb = c - 1
                    elif e == 3:
                        v = diag[i, j, k]
                        nb = c
                    elif e == 4:
                        v = -gz[i, j, k] if k < nz - 1 else 0.0
                        nb = c + 1
                    elif e == 5:
                        v = -gy[i, j, k] if j < ny - 1 else 0.0
                        nb = c + nz
                    else:
                        v = -gx[i, j, k] if i < nx - 1 else 0.0
                        nb = c + plane
                    if v != 0.0 or e == 3:
                        if fill:
                            indices[pos] = remap[nb]
                            data[pos] = v
                        pos += 1
                row += 1
                if not fill:
                    indptr[row] = pos
    return pos


def csr_7point(
    gx: FloatArray,
    gy: FloatArray,
    gz: FloatArray,
    diag: FloatArray,
    free: np.ndarray | None = None,
    dtype: type = np.float64,
) -> sp.csr_matrix:
    """The 7-point matrix (off-diagonals ``-g``, zeros dropped) written row by row in column order.

    Two compiled passes (row lengths, then columns and values), no COO sort. ``free``: a boolean mask (grid
    shape) of the rows/columns kept (None: all); couplings to dropped cells must already be zero. ``dtype``: of
    the values (float32 for preconditioners).
    """
    n = diag.size
    idx_type = np.int32 if n < 2**31 - 1 else np.int64
    if free is None:
        remap = np.arange(n, dtype=np.int64)
        m = n
    else:
        keep = free.reshape(-1)
        remap = np.cumsum(keep, dtype=np.int64) - 1
        remap[~keep] = -1
        m = int(np.count_nonzero(keep))
    g = [np.ascontiguousarray(a, dtype=np.float64) for a in (gx, gy, gz, diag)]
    indptr = np.zeros(m + 1, dtype=np.int64)
    nnz = _csr_rows(*g, remap, indptr, np.zeros(0, dtype=idx_type), np.zeros(0, dtype=dtype), False)
    indices = np.empty(nnz, dtype=idx_type)
    data = np.empty(nnz, dtype=dtype)
    _csr_rows(*g, remap, indptr, indices, data, True)
    return sp.csr_matrix((data, indices, indptr.astype(idx_type)), shape=(m, m))


def assemble(
    problem: DiffusionProblem, *, keep_stencil: bool = True
) -> tuple[sp.csr_matrix, FloatArray, Assembly]:
    """Assemble ``A u_free = b`` (see the module docstring); returns ``(A, b, parts)``.

    ``A`` is CSR, symmetric positive definite; ``b`` the right-hand side for the problem's sources, face values
    and fixed values; ``parts`` what :func:`rhs` and the flow computations need (and, with ``keep_stencil``,
    the face conductances for a structured multigrid).

    Raises ValueError for a singular problem (no Dirichlet, Robin or fixed condition: pure Neumann), a
    non-positive or non-finite ``k``, or inconsistent shapes.
    """
    grid = problem.grid
    shape = grid.shape
    n = grid.cells
    gx, gy, gz = face_conductances(problem)
    terms = tuple(face_term(problem, c, i) for i, c in enumerate(problem.faces))
    ground = np.zeros(n)
    for t in terms:
        np.add.at(ground, t.cells, t.g)
    la, lb, lg = _links(problem, n)
    fixed_mask = _fixed_mask(problem, shape)

    empty_i = np.zeros(0, dtype=np.int64)
    cross_free, cross_fixed, cross_g = empty_i, empty_i, np.zeros(0)
    pairs: tuple[IndexArray, IndexArray, FloatArray] = (empty_i, empty_i, np.zeros(0))
    if fixed_mask is None:
        free = np.arange(n, dtype=np.int64)
        fixed = empty_i
        free_sel = None
    else:
        free = np.flatnonzero(~fixed_mask.ravel())
        fixed = np.flatnonzero(fixed_mask.ravel())
        free_sel = ~fixed_mask
        cross_free, cross_fixed, cross_g, pairs, gx, gy, gz = _split_fixed(fixed_mask, gx, gy, gz)
    if float(ground.sum()) <= 0.0 and fixed.size == 0:
        raise ValueError(
            "the problem is singular: every face is adiabatic (Neumann) and no cell is fixed, so the field is "
            "defined only up to a constant; add a Dirichlet or Robin face condition (h > 0) or fixed cells"
        )
    # links: free-free into the matrix, free-fixed as crossings, fixed-fixed as pairs
    is_fixed = np.zeros(n, dtype=bool)
    is_fixed[fixed] = True
    fa, fb = is_fixed[la], is_fixed[lb]
    ff = ~fa & ~fb
    one = fa ^ fb
    if one.any():
        lf = np.where(fa[one], lb[one], la[one])
        lx = np.where(fa[one], la[one], lb[one])
        cross_free = np.concatenate([cross_free, lf])
        cross_fixed = np.concatenate([cross_fixed, lx])
        cross_g = np.concatenate([cross_g, lg[one]])
    both = fa & fb
    if both.any():
        pairs = (
            np.concatenate([pairs[0], la[both]]),
            np.concatenate([pairs[1], lb[both]]),
            np.concatenate([pairs[2], lg[both]]),
        )
    np.add.at(ground, cross_free, cross_g)

    diag = ground.reshape(shape).copy()
    diag[1:] += gx
    diag[:-1] += gx
    diag[:, 1:] += gy
    diag[:, :-1] += gy
    diag[:, :, 1:] += gz
    diag[:, :, :-1] += gz
    if ff.any():
        np.add.at(diag.reshape(-1), la[ff], lg[ff])
        np.add.at(diag.reshape(-1), lb[ff], lg[ff])
    matrix = csr_7point(gx, gy, gz, diag, free_sel)
    if ff.any():
        remap = np.full(n, -1, dtype=np.int64)
        remap[free] = np.arange(free.size)
        ra, rb = remap[la[ff]], remap[lb[ff]]
        m = free.size
        link = sp.coo_matrix(
            (np.concatenate([-lg[ff], -lg[ff]]), (np.concatenate([ra, rb]), np.concatenate([rb, ra]))),
            shape=(m, m),
        ).tocsr()
        matrix = (matrix + link).tocsr()
        matrix.sort_indices()

    stencil = None
    if keep_stencil:
        sground = ground.reshape(shape).copy()
        if fixed.size:
            # a fixed cell keeps (as ground) its total former coupling: on coarse levels it pins its neighbours
            coupling = np.zeros(n)
            np.add.at(coupling, cross_fixed, cross_g)
            np.add.at(coupling, pairs[0], pairs[2])
            np.add.at(coupling, pairs[1], pairs[2])
            typical = float(np.median(diag.reshape(-1)[free])) if free.size else 1.0
            coupling[fixed] = np.maximum(coupling[fixed], typical)
            sground.reshape(-1)[fixed] = coupling[fixed]
        stencil = Stencil(gx=gx, gy=gy, gz=gz, ground=sground)

    parts = Assembly(
        matrix=matrix,
        shape=shape,
        free=free,
        fixed=fixed,
        face_terms=terms,
        cross_free=cross_free,
        cross_fixed=cross_fixed,
        cross_g=cross_g,
        fixed_pairs=pairs,
        stencil=stencil,
        link_pairs=_distinct_links(la[ff], lb[ff], lg[ff], n),
    )
    return matrix, rhs(problem, parts), parts


def _distinct_links(
    la: IndexArray, lb: IndexArray, lg: FloatArray, n: int
) -> tuple[IndexArray, IndexArray, FloatArray]:
    """Links as distinct pairs ``a < b`` with the conductances of repeated ones summed (self-links dropped)."""
    keep = la != lb
    lo, hi = np.minimum(la[keep], lb[keep]), np.maximum(la[keep], lb[keep])
    keys, inverse = np.unique(lo * n + hi, return_inverse=True)
    return keys // n, keys % n, np.bincount(inverse, weights=lg[keep], minlength=keys.size)


def _split_fixed(
    fixed_mask: np.ndarray, gx: FloatArray, gy: FloatArray, gz: FloatArray
) -> tuple[
    IndexArray,
    IndexArray,
    FloatArray,
    tuple[IndexArray, IndexArray, FloatArray],
    FloatArray,
    FloatArray,
    FloatArray,
]:
    """Split every face touching a fixed cell off the grid conductances.

    Returns the free-fixed crossings (free cell, fixed cell, g), the fixed-fixed pairs, and the face conductances
    with those faces zeroed.
    """
    shape = fixed_mask.shape
    flat = np.arange(fixed_mask.size, dtype=np.int64).reshape(shape)
    cf, cx, cg = [], [], []
    pa, pb, pg = [], [], []
    out = []
    for axis, g in enumerate((gx, gy, gz)):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(None, -1)
        hi[axis] = slice(1, None)
        f_lo, f_hi = fixed_mask[tuple(lo)], fixed_mask[tuple(hi)]
        i_lo, i_hi = flat[tuple(lo)], flat[tuple(hi)]
        a = f_lo & ~f_hi  # low cell fixed, high free
        cf.append(i_hi[a])
        cx.append(i_lo[a])
        cg.append(g[a])
        a = f_hi & ~f_lo
        cf.append(i_lo[a])
        cx.append(i_hi[a])
        cg.append(g[a])
        a = f_lo & f_hi
        pa.append(i_lo[a])
        pb.append(i_hi[a])
        pg.append(g[a])
        touched = f_lo | f_hi
        out.append(np.where(touched, 0.0, g))
    return (
        np.concatenate(cf),
        np.concatenate(cx),
        np.concatenate(cg),
        (np.concatenate(pa), np.concatenate(pb), np.concatenate(pg)),
        out[0],
        out[1],
        out[2],
    )


def rhs(problem: DiffusionProblem, parts: Assembly) -> FloatArray:
    """The right-hand side of ``parts``' system for ``problem``'s sources, face values and fixed values.

    ``problem`` must share the structure ``parts`` was assembled from (grid, k, faces' kinds, h and masks,
    fixed cells, links); only sources, face values and fixed values may differ.
    """
    n = parts.cells
    full = sources(problem).copy()
    if len(problem.faces) != len(parts.face_terms):
        raise ValueError("the problem's face conditions differ from the assembled ones")
    for cond, term in zip(problem.faces, parts.face_terms, strict=True):
        full[term.cells] += term.g * float(cond.value)
    if parts.fixed.size:
        held = np.zeros(n)
        held[parts.fixed] = fixed_values(problem, parts.fixed)
        np.add.at(full, parts.cross_free, parts.cross_g * held[parts.cross_fixed])
    return full[parts.free] if parts.fixed.size else full


def full_field(problem: DiffusionProblem, parts: Assembly, x: FloatArray) -> FloatArray:
    """The field on every cell (grid shape): the solution on free cells, the held values on fixed cells."""
    u = np.empty(parts.cells)
    u[parts.free] = x
    if parts.fixed.size:
        u[parts.fixed] = fixed_values(problem, parts.fixed)
    return u.reshape(parts.shape)


def face_flows(problem: DiffusionProblem, parts: Assembly, u: FloatArray) -> dict[str, float]:
    """The flow out through each face condition (positive leaving), summed by key (name, or face)."""
    flat = u.reshape(-1)
    out: dict[str, float] = {}
    for cond, term in zip(problem.faces, parts.face_terms, strict=True):
        q = float(np.dot(term.g, flat[term.cells] - float(cond.value)))
        out[term.key] = out.get(term.key, 0.0) + q
    return out


def absorbed(
    problem: DiffusionProblem, parts: Assembly, u: FloatArray, labels: IndexArray | None = None
) -> FloatArray:
    """The flow absorbed by the fixed cells (what their holder must remove), in total or per label.

    Absorbed = inflow from free cells and links + the cells' own sources - their outflow through face
    conditions (+ inflow from fixed cells with another label). ``labels``: an int per cell (grid shape or flat),
    ``>= 0`` on the fixed cells to group; returns one value per label ``0..max`` (one value without labels).
    """
    flat = u.reshape(-1)
    n = parts.cells
    lab = np.zeros(n, dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64).reshape(-1)
    size = int(lab[parts.fixed].max()) + 1 if parts.fixed.size else 1
    size = max(size, 1)
    out = np.zeros(size)
    if parts.fixed.size == 0:
        return out
    is_fixed = np.zeros(n, dtype=bool)
    is_fixed[parts.fixed] = True
    q = parts.cross_g * (flat[parts.cross_free] - flat[parts.cross_fixed])
    lx = lab[parts.cross_fixed]
    ok = lx >= 0
    out += np.bincount(lx[ok], weights=q[ok], minlength=size)
    src = sources(problem)
    lf = lab[parts.fixed]
    ok = lf >= 0
    out += np.bincount(lf[ok], weights=src[parts.fixed][ok], minlength=size)
    for cond, term in zip(problem.faces, parts.face_terms, strict=True):
        sel = is_fixed[term.cells]
        if sel.any():
            cells = term.cells[sel]
            qf = term.g[sel] * (flat[cells] - float(cond.value))
            lc = lab[cells]
            ok = lc >= 0
            out -= np.bincount(lc[ok], weights=qf[ok], minlength=size)
    a, b, g = parts.fixed_pairs
    if labels is not None and a.size:
        la, lb = lab[a], lab[b]
        diff = la != lb
        qab = g[diff] * (flat[a[diff]] - flat[b[diff]])  # from a to b
        for lbl, sign in ((lb[diff], 1.0), (la[diff], -1.0)):
            ok = lbl >= 0
            out += sign * np.bincount(lbl[ok], weights=qab[ok], minlength=size)
    return out


__all__ = [
    "UM",
    "Assembly",
    "FaceTerm",
    "Stencil",
    "absorbed",
    "assemble",
    "csr_7point",
    "face_conductances",
    "face_flows",
    "face_term",
    "fixed_values",
    "full_field",
    "rhs",
    "sources",
]
