"""FastCap2 as an independent peer for the capacitance matrix: panel meshes of simple conductors and the solve.

FastCap2 (K. Nabors and J. White, "FastCap: a multipole accelerated 3-D capacitance extraction program",
IEEE Trans. CAD 10 (1991) 1447-1459) is a boundary-element solver: the conductor surfaces are cut into flat
panels carrying a uniform charge, the potential is collocated at the panel centroids, and the dense system is
solved by GMRES with the far interactions approximated by multipole expansions. It solves the exterior problem
in an unbounded homogeneous dielectric (or piecewise homogeneous, not used here) and returns the Maxwell
capacitance matrix. Its method and its errors are unrelated to those of moldstack's own finite-volume field
solve, which is what makes it a useful peer.

This module is used only by validation tests and benchmarks, never by the analysis: the ``fastcap2`` package
(PyPI ``fastcap2``, the Python port of FastCap2) is imported inside the functions, so moldstack does not need it
to import. It knows nothing of specs, stacks or nets: it builds panel surfaces for cylinders, boxes and spheres
and solves a list of them.

Units: every coordinate argument is in micrometres (``*_um``) and written to FastCap2 in metres, because
FastCap2 reads its geometry as metres and returns farads (checked by the sphere ``C = 4 pi eps r`` test).

Panels are graded toward edges, where the surface charge is singular (for a right-angle edge it grows as
``d^(-1/3)`` with the distance ``d`` to the edge): :func:`graded_nodes` starts at an eighth of the panel size at
an edge and grows by 25 % per panel up to the uniform size, which defaults to square panels.

Quirks of ``fastcap2`` 2.1 worked around or avoided here:

- ``Surface.add_tri`` passes its three points to ``_add_quad`` and raises ``TypeError``; triangles go through
  the core ``Surface._add_tri``.
- ``Problem.expansion_order = 0`` (documented as automatic) crashes the process: a segmentation fault on a
  320-panel sphere, tens of GB of memory on a few thousand panels. Only orders >= 1 are accepted here.
- ``Problem.iter_tol`` defaults to 1e-2 (about 1 % in the matrix); 1e-4 here.
- The multipole error grows with panels longer than the partitioning cubes (FastCap2 assigns a panel to the
  cube of its centroid): elongated panels on long conductors cost up to 1 % at the default order 2, hence the
  square default panels. Forcing a shallow ``partitioning_depth`` instead makes the solve nearly dense
  (minutes for 10^4 panels); the automatic depth is kept.
- ``verbose`` output goes to the C stdout; it stays off.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import gamma

if TYPE_CHECKING:
    import fastcap2

_M_PER_UM = 1e-6
_GROWTH = 0.25  # panel size grows by this fraction of the distance to the edge

Point = tuple[float, float, float]


def _m(x_um: float, y_um: float, z_um: float) -> Point:
    return (x_um * _M_PER_UM, y_um * _M_PER_UM, z_um * _M_PER_UM)


def _new_surface(name: str) -> fastcap2.Surface:
    import fastcap2  # noqa: PLC0415 - optional peer, imported only where used

    if not name or "%" in name or "," in name:
        raise ValueError(f"conductor name {name!r} must be non-empty and hold neither '%' nor ','")
    return fastcap2.Surface(name=name)


def _add_tri(surface: fastcap2.Surface, p1: Point, p2: Point, p3: Point) -> None:
    """Add a triangle panel through the core method (``Surface.add_tri`` of fastcap2 2.1 raises)."""
    surface._add_tri(p1, p2, p3)


def polygon_capacity_ratio(sides: int) -> float:
    """Logarithmic capacity of a regular ``sides``-gon over its circumradius (a 2D conformal radius).

    ``cap = a Gamma(1/n) / (2^(1 + 2/n) sqrt(pi) Gamma(1/2 + 1/n))`` for side ``a = 2 R sin(pi/n)``
    (G. Polya and G. Szego, *Isoperimetric Inequalities in Mathematical Physics*, Princeton 1951, table of
    transfinite diameters). It tends to 1 as ``n -> inf``; 0.99447 for 24 sides.
    """
    if sides < 3:
        raise ValueError(f"a polygon needs at least 3 sides, got {sides}")
    n = float(sides)
    side = 2.0 * math.sin(math.pi / n)
    return float(side * gamma(1.0 / n) / (2.0 ** (1.0 + 2.0 / n) * math.sqrt(math.pi) * gamma(0.5 + 1.0 / n)))


def graded_nodes(
    length_um: float,
    panel_um: float,
    edge_panel_um: float,
    *,
    at_start: bool = True,
    at_end: bool = True,
) -> np.ndarray:
    """Nodes from 0 to ``length_um``, ``edge_panel_um`` apart at a graded end, growing by 25 % per panel.

    The panel size follows ``h(d) = min(panel_um, edge_panel_um + 0.25 d)``, ``d`` the distance to the nearest
    graded end (``at_start`` at 0, ``at_end`` at ``length_um``): geometric growth away from the edge up to
    ``panel_um``, uniform beyond. The nodes are equally spaced in ``s(z) = integral dz / h``, with as many
    panels as ``s(length)`` rounded up: a panel spans at most one unit of ``s``, so it is no longer than the
    largest ``h`` over it, and the first panel at a graded end is at most ``edge_panel_um (e^0.25 - 1) / 0.25``
    (1.14 ``edge_panel_um``).
    """
    if not (length_um > 0.0 and panel_um > 0.0 and edge_panel_um > 0.0):
        raise ValueError(
            f"length and panel sizes must be positive, got {length_um}, {panel_um}, {edge_panel_um}"
        )
    z = np.linspace(0.0, length_um, 4097)
    inf = np.full_like(z, np.inf)
    d = np.minimum(z if at_start else inf, length_um - z if at_end else inf)
    density = 1.0 / np.minimum(panel_um, edge_panel_um + _GROWTH * d)
    s = np.concatenate(([0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(z))))
    count = max(1, math.ceil(s[-1] - 1e-9))
    return np.interp(np.linspace(0.0, s[-1], count + 1), s, z)


def _cylinder_grid(
    length_um: float, r_um: float, sides: int, panel_um: float | None, edge_panel_um: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Axial nodes (from 0, graded at both ends) and cap radial nodes (from the axis, graded at the rim)."""
    if sides < 3:
        raise ValueError(f"a cylinder needs at least 3 sides, got {sides}")
    if not length_um > 0.0:
        raise ValueError(f"cylinder needs a positive length, got {length_um}")
    if not r_um > 0.0:
        raise ValueError(f"cylinder radius must be positive, got {r_um}")
    panel = 2.0 * math.pi * r_um / sides if panel_um is None else panel_um
    edge = panel / 8.0 if edge_panel_um is None else edge_panel_um
    return graded_nodes(length_um, panel, edge), graded_nodes(r_um, panel, edge, at_start=False)


def cylinder_surface(
    name: str,
    cx_um: float,
    cy_um: float,
    z0_um: float,
    z1_um: float,
    r_um: float,
    *,
    sides: int = 24,
    panel_um: float | None = None,
    edge_panel_um: float | None = None,
    caps: bool = True,
    match_capacity: bool = True,
) -> fastcap2.Surface:
    """A closed vertical cylinder (axis along z) as a prism of flat panels.

    The mantle is ``sides`` columns of planar rectangles whose heights follow :func:`graded_nodes`: at most
    ``panel_um`` (default ``2 pi r / sides``, square panels) and ``edge_panel_um`` (default ``panel_um / 8``) at
    both ends. Each end cap is a fan of ``sides`` triangles around the axis and rings of planar trapezoids graded
    the same way toward the rim. ``caps=False`` leaves an open tube.

    With ``match_capacity`` the polygon's vertices sit at ``r / polygon_capacity_ratio(sides)`` rather than on
    the circle, so that the prism's cross section has the circle's logarithmic capacity: this removes the
    first-order faceting error of a long cylinder (0.55 % in radius for 24 sides; 0.4 % of the via pair's C11
    and 0.7 % of its C12 at 24 sides) and leaves the panel refinement as the only error. The polygon's area then equals the
    circle's to within 0.02 %.
    """
    z_rel, rho_rel = _cylinder_grid(z1_um - z0_um, r_um, sides, panel_um, edge_panel_um)
    surface = _new_surface(name)
    scale = 1.0 / polygon_capacity_ratio(sides) if match_capacity else 1.0
    phi = 2.0 * math.pi * np.arange(sides + 1) / sides
    ux, uy = scale * np.cos(phi), scale * np.sin(phi)
    z = z0_um + z_rel
    x, y = cx_um + r_um * ux, cy_um + r_um * uy
    for j in range(len(z) - 1):
        for i in range(sides):
            surface.add_quad(
                _m(x[i], y[i], z[j]),
                _m(x[i + 1], y[i + 1], z[j]),
                _m(x[i + 1], y[i + 1], z[j + 1]),
                _m(x[i], y[i], z[j + 1]),
            )
    if not caps:
        return surface
    for zc in (z0_um, z1_um):
        for i in range(sides):
            rim = [(cx_um + rho * ux[i], cy_um + rho * uy[i]) for rho in rho_rel]
            nxt = [(cx_um + rho * ux[i + 1], cy_um + rho * uy[i + 1]) for rho in rho_rel]
            _add_tri(surface, _m(cx_um, cy_um, zc), _m(*rim[1], zc), _m(*nxt[1], zc))
            for k in range(1, len(rho_rel) - 1):
                surface.add_quad(_m(*rim[k], zc), _m(*rim[k + 1], zc), _m(*nxt[k + 1], zc), _m(*nxt[k], zc))
    return surface


def cylinder_panel_count(
    length_um: float,
    r_um: float,
    *,
    sides: int = 24,
    panel_um: float | None = None,
    edge_panel_um: float | None = None,
    caps: bool = True,
) -> int:
    """Number of panels :func:`cylinder_surface` makes with the same arguments."""
    z, rho = _cylinder_grid(length_um, r_um, sides, panel_um, edge_panel_um)
    return sides * (len(z) - 1) + (2 * sides * (len(rho) - 1) if caps else 0)


def box_surface(
    name: str,
    x0_um: float,
    y0_um: float,
    z0_um: float,
    x1_um: float,
    y1_um: float,
    z1_um: float,
    *,
    panel_um: float | None = None,
    edge_panel_um: float | None = None,
) -> fastcap2.Surface:
    """A closed axis-aligned box; each face a grid of rectangles graded toward its edges.

    Along every edge direction the nodes follow :func:`graded_nodes`: at most ``panel_um`` (default a tenth of
    the longest edge) and ``edge_panel_um`` (default ``panel_um / 8``) at the face edges.
    """
    lo = np.array([x0_um, y0_um, z0_um], dtype=float)
    hi = np.array([x1_um, y1_um, z1_um], dtype=float)
    if not np.all(hi > lo):
        raise ValueError(f"box needs x1 > x0, y1 > y0, z1 > z0, got {lo.tolist()} to {hi.tolist()}")
    panel = float(np.max(hi - lo)) / 10.0 if panel_um is None else panel_um
    edge = panel / 8.0 if edge_panel_um is None else edge_panel_um
    nodes = [lo[k] + graded_nodes(hi[k] - lo[k], panel, edge) for k in range(3)]
    surface = _new_surface(name)
    for axis in range(3):
        a, b = (k for k in range(3) if k != axis)
        for level in (lo[axis], hi[axis]):
            for ua, va in itertools.pairwise(nodes[a]):
                for ub, vb in itertools.pairwise(nodes[b]):
                    corners = [np.empty(3) for _ in range(4)]
                    for corner, (pa, pb) in zip(
                        corners, ((ua, ub), (va, ub), (va, vb), (ua, vb)), strict=True
                    ):
                        corner[[axis, a, b]] = (level, pa, pb)
                    surface.add_quad(*(_m(*c) for c in corners))
    return surface


def _icosphere(subdivisions: int) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Unit-sphere vertices and triangles of the icosahedron split in four ``subdivisions`` times."""
    t = (1.0 + math.sqrt(5.0)) / 2.0
    vertices = [
        np.array(v, dtype=float) / math.hypot(1.0, t)
        for v in (
            (-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0),
            (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
            (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1),
        )
    ]  # fmt: skip
    faces = [
        (0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11),
        (1, 5, 9), (5, 11, 4), (11, 10, 2), (10, 7, 6), (7, 1, 8),
        (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9),
        (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1),
    ]  # fmt: skip
    for _ in range(subdivisions):
        midpoint: dict[tuple[int, int], int] = {}

        def mid(i: int, j: int, cache: dict[tuple[int, int], int] = midpoint) -> int:
            key = (min(i, j), max(i, j))
            if key not in cache:
                v = vertices[i] + vertices[j]
                vertices.append(v / np.linalg.norm(v))
                cache[key] = len(vertices) - 1
            return cache[key]

        faces = [
            new
            for i, j, k in faces
            for new in (
                (i, mid(i, j), mid(k, i)),
                (j, mid(j, k), mid(i, j)),
                (k, mid(k, i), mid(j, k)),
                (mid(i, j), mid(j, k), mid(k, i)),
            )
        ]
    return np.array(vertices), faces


def sphere_surface(
    name: str, cx_um: float, cy_um: float, cz_um: float, r_um: float, *, subdivisions: int = 3
) -> fastcap2.Surface:
    """A sphere as an icosphere: the icosahedron's triangles split in four ``subdivisions`` times.

    ``20 * 4**subdivisions`` triangles with their vertices on the sphere (1280 for the default 3).
    """
    vertices, faces = _icosphere(subdivisions)
    centre = np.array([cx_um, cy_um, cz_um])
    surface = _new_surface(name)
    for face in faces:
        _add_tri(surface, *(_m(*(centre + r_um * vertices[i])) for i in face))
    return surface


def capacitance_matrix(
    conductors: Sequence[tuple[str, fastcap2.Surface]],
    eps_r: float,
    *,
    iter_tol: float = 1e-4,
    expansion_order: int = 2,
) -> tuple[list[str], np.ndarray]:
    """Maxwell capacitance matrix (F) of the conductors in an unbounded homogeneous dielectric ``eps_r``.

    Each ``(name, surface)`` is added with ``group=name``; entries sharing a name (and the surface's own name)
    are one connected conductor. Rows and columns follow the names in order of first appearance. ``iter_tol``
    is FastCap2's GMRES tolerance (its default, 1e-2, is too loose for a reference); the matrix is returned as
    solved, so its asymmetry measures that tolerance. ``expansion_order`` is the multipole order (FastCap2's
    default 2; 4 cuts the multipole error from about 0.3 % to 0.1 % on long cylinders at 1.5-3 times the time).
    """
    import fastcap2  # noqa: PLC0415 - optional peer, imported only where used

    if not conductors:
        raise ValueError("no conductors to solve")
    if not eps_r > 0.0:
        raise ValueError(f"eps_r must be positive, got {eps_r}")
    if expansion_order < 1:
        raise ValueError(f"expansion_order must be >= 1 (0 crashes fastcap2 2.1), got {expansion_order}")
    problem = fastcap2.Problem(title="moldstack peer")
    problem.iter_tol = iter_tol
    problem.expansion_order = expansion_order
    names: list[str] = []
    ids: dict[str, str] = {}
    for name, surface in conductors:
        if "%" in name or "," in name:
            raise ValueError(f"conductor name {name!r} must hold neither '%' nor ','")
        key = f"{surface.name}%{name}"
        if ids.setdefault(name, key) != key:
            raise ValueError(f"conductor {name!r} is given surfaces named {ids[name]!r} and {key!r}")
        if name not in names:
            names.append(name)
        problem.add(surface, group=name, outside_perm=eps_r)
    solved = np.asarray(problem.solve(), dtype=float)
    order = [problem.conductors().index(ids[name]) for name in names]
    return names, solved[np.ix_(order, order)]


def via_pair(r_um: float, h_um: float, pitch_um: float, eps_r: float, *, refine: int = 1) -> np.ndarray:
    """2x2 Maxwell capacitance matrix (F) of two parallel vertical cylinders (a short via pair).

    Radius ``r_um``, height ``h_um``, axes ``pitch_um`` apart, closed ends, in an unbounded homogeneous dielectric
    of ``eps_r``: no ground plane, no other conductor. ``refine`` multiplies the sides (24 at 1) and divides
    the panel sizes of :func:`cylinder_surface`'s defaults, so the panel count grows about as ``refine**2``;
    compare ``refine`` 1 and 2 for the discretisation error.
    """
    if refine < 1:
        raise ValueError(f"refine must be >= 1, got {refine}")
    if not pitch_um > 2.0 * r_um:
        raise ValueError(f"pitch {pitch_um} um must exceed the diameter {2.0 * r_um} um")
    pair = [
        (name, cylinder_surface(name, x, 0.0, 0.0, h_um, r_um, sides=24 * refine))
        for name, x in (("a", -0.5 * pitch_um), ("b", 0.5 * pitch_um))
    ]
    return capacitance_matrix(pair, eps_r)[1]
