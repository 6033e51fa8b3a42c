"""Capacitance matrix of a model's nets: Maxwell and SPICE (mutual) forms, by the electrostatic field solve.

Model. Electrostatics ``div(eps grad V) = 0`` solved by :mod:`moldstack.fields` (u = potential, k = permittivity
F/m) on a grid refined around the conductors (:func:`capacitance_grid`). The conductors (:func:`conductors`) are
the solids of conducting materials grouped by net, the conducting solids without a net (a substrate's copper
planes, dummy units) grouped by part and named after it, and groups whose solids touch
(:func:`~moldstack.geometry.adjacency.connectivity`) joined into one: a stacked package's net soldered to the one
below is one electrical conductor, named ``"a + b"``. Conductor cells are held (fixed cells); every other cell is
a dielectric with ``eps0 eps_r`` of its material: the mold, laminates, adhesives, silicon (11.7: a die is taken
as a dielectric, its substrate's conductivity and its circuits are not modelled) and the air (1.0006) around the
model, out to ``margin_um`` in plan and z. A dielectric without an ``eps_r`` in the library (die attach,
adhesives) takes ``fallback_eps_r`` (4.0, an epoxy); the result names those materials.

One set-up (grid, cells, assembly and multigrid hierarchy, :func:`~moldstack.fields.solve.prepare`), then one
solve per requested conductor at 1 V with every other at 0 V; the charge on each conductor by Gauss's law (the
displacement flux out of its cells, :func:`~moldstack.fields.assembly.absorbed`) is one column of the Maxwell
matrix ``C`` (F): ``Q_i = sum_j C_ij V_j``, ``C_ii > 0``, ``C_ij <= 0``. The discrete operator is symmetric, so
``C`` is symmetric to the solver's tolerance: it is symmetrised ``(C + C^T) / 2`` and the asymmetry before
(``max |C_ij - C_ji| / sqrt(C_ii C_jj)``, about 1e-6 at the default ``tol``) is reported. The SPICE (mutual)
form: ``C_ii(spice) = sum_j C_ij`` (to the reference), ``C_ij(spice) = -C_ij``. Asking for some nets gives their
rows and columns: the other conductors stay held at 0 V, so they belong to the reference node with the far field
(their couplings to a requested net are in its ``C_ii(spice)``). The grid does not depend on which nets are
asked for (every conductor is refined), so an entry is the same asked for alone or with all the others.

The outer boundary (``boundary``). ``"asymptotic"`` (default): the far reference is at infinity, and each outer
face cell holds the radiation condition of a charge at the model's centre, ``-dV/dn = V (r . n) / |r|^2``: a
Robin condition ``h = eps (r . n) / |r|^2`` (``eps / R`` at the foot of the face, less towards its corners). With
the single ``h = eps / R`` per face a net's capacitance to the reference (claim-1 VDD) came out 0.0125, 0.0105,
0.0096, 0.0093, 0.0091 pF at margins of 0.25, 0.5, 1, 2 and 4 times the model's size; with ``h`` per cell 0.0083,
0.0089, 0.0090, 0.0090, 0.0089 pF, hence the default margin of half the model's size (C_ii itself moved by
< 0.03 % in either). ``"ground"`` holds the faces at 0 V (a grounded box). ``margin_um = (plan, 0)`` puts the z
faces on the model's top and bottom, adiabatic: conductors through the full height are then infinitely long
(the 2D limit of the validation). Conductors touching an outer face exchange no flux through it.

Where the conductor surface sits (``surface``). A held cell coupled through the harmonic mean of the two half
cells puts the surface at the held cell's centre (``"centre"``: conductors shrink by half a cell); a very large
conductor permittivity puts it at the cell face (``"face"``: the staircase of the cells whose centres lie
inside). The default ``"distance"`` puts it where it is: the coupling of a dielectric cell to a held neighbour is
``A eps / delta``, ``delta`` the distance from the dielectric cell's centre to the held solid's surface along the
axis (bisection on the solid's signed distance; where the segment does not cross it, a sub-cell conductor, the
centre's distance to the surface), between 2 % and 100 % of the centre-to-centre distance: the symmetric
embedded Dirichlet scheme of Gibou, Fedkiw, Cheng and Kang (J. Comput. Phys. 176 (2002) 205). Measured on two
long cylinders (r = 75 um, s = 250 um, tests/test_capacitance.py) on cells of 1/2, 1/4 and 1/8 of the diameter:
``"distance"`` -3.7, -0.5, -0.6 %; ``"face"`` -9.4, +0.2, +3.0 %; ``"centre"`` -40.6, -17.3, -8.1 %. The grid
keeps lines only at planar faces (every z face, box sides): curved and slanted surfaces lie between lines.

Validation (2D limit, 18.75 um cells, 3 % asked): two cylinders r = 75 um at s = 400 and 250 um,
``pi eps / acosh(s / 2r)``: -0.75 %, -0.62 %; a cylinder over a grounded face, ``2 pi eps / acosh(h / r)``:
-0.43 % (h / r = 3), -0.21 % (6); over a conducting strip: -0.62 %. On a package the error is set by the cells:
the claim-1 example's VDD (benchmarks/capacitance.py) has C_ii -5.8, -2.5, -1.1 % and its coupling to the next
net -9, -4.3, -2.1 % (too small) on the ``coarse``, ``default`` and ``fine`` grids
(:data:`CAPACITANCE_PRESETS`) against the Richardson limit (first order: sharp edges).

Bond wires (18-25 um) are thinner than a conductor's cells: a wire is the face-connected chain of cells its
centre line passes through (:func:`~moldstack.geometry.voxelize.shape_mask`) plus those with their centre
inside it, held, each neighbour coupled at its distance to the wire's surface, with cells of its diameter
around it (``wire_cell_um``). Two long straight wires of 25 um at 200 um: -1.6, -3.2, -0.8 % on cells of 0.5, 1
and 2 diameters (the held chain through the harmonic mean: -11, -25, -24 %). On the claim-8 example (80 wire
bonds), against wires in 12.5 um cells: wires left in the cells around them (up to 200 um) give a wire-bonded
net's C_ii +6.7 % and its coupling to the next net +14 % (the chain of large cells is a fat wire); 50 um wire
cells +2.9 % and +6.4 %; the default (25 um) -0.5 % and +0.3 %. Other conductors thinner than a cell (a 2 um
contact pad) take the cells their box overlaps across that direction (listed as ``sub_cell_solids``): a thicker
conductor, a small positive bias.

Assumptions: quasi-static (frequency-independent permittivities, no loss), linear isotropic dielectrics, perfect
conductors, the model in air to infinity (or in a grounded box).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from moldstack.fields.assembly import FACE_AXIS_SIDE, absorbed
from moldstack.fields.fork_map import fork_map
from moldstack.fields.problem import FACES, DiffusionProblem, FaceCondition, Links
from moldstack.fields.solve import Method, Progress, prepare
from moldstack.geometry.adjacency import connectivity
from moldstack.geometry.grid import Grid, Zone, check_cells, graded_lines
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Shape, Trace, Tube, Wire
from moldstack.geometry.voxelize import paint_order, shape_mask
from moldstack.materials import Material, library_with

EPS0 = 8.8541878128e-12  # F/m, vacuum permittivity (CODATA 2018)
UM = 1e-6
PF = 1e-12
AIR_EPS_R = 1.0006  # dry air at room temperature
# held conductor cells get eps0 times this: their own grid couplings vanish, the surface couplings replace them
HELD_EPS_SCALE = 1e-20
MIN_FRACTION = 0.02  # the surface is never put closer than this share of the centre distance to a cell centre
BISECTIONS = 24
ROBIN_BINS = 16  # Robin conditions per outer face (cells binned by their h)

Boundary = Literal["asymptotic", "ground"]
Surface = Literal["distance", "face", "centre"]


@dataclass(frozen=True)
class CapacitanceSettings:
    """How the capacitance field problem is gridded and bounded (lengths in um).

    - ``margin_um``: air around the model's box, ``(plan, z)``; ``None``: ``margin_factor`` (0.5) times the
      model's largest extent on every side. A z margin of 0 leaves the z faces adiabatic on the model's top and
      bottom (the 2D limit: conductors through the full height are infinitely long).
    - ``boundary``: ``"asymptotic"`` (the radiation condition, the reference at infinity) or ``"ground"`` (the
      domain's faces at 0 V); ``surface``: where a conductor's surface sits between cells (module docstring).
    - Cells: around each conductor solid, cells of ``cell_fraction`` of its thickness along each axis (a disc's
      diameter, a trace's width measured along the axis, a box's side), no smaller than ``min_cell_um`` in plan
      and ``min_cell_z_um`` in z, over ``zone_cells`` such cells beyond it; around a bond wire, cells of
      ``wire_cell_um`` (``None``: its diameter, no smaller than ``min_cell_um``); elsewhere in the model at most
      ``max_cell_um`` / ``max_cell_z_um``; growing by ``growth`` per cell into the margin up to
      ``outer_cell_um`` (``None``: a quarter of the margin). Solid faces closer than half the smallest cell
      share a grid line. Above ``max_cells`` the grid is refused
      (:class:`~moldstack.geometry.grid.GridTooLargeError`); memory is about 0.3 kB per cell.
    - ``tol``: the solver's relative residual per solve (1e-6: the entries to about 1e-6 of C_ii, far below
      the grid's error); ``method`` its method.
    - ``workers``: processes solving the conductors' columns (forked after the solver is set up, so they share
      it; each then runs single-threaded). 1 solves them all here.

    :data:`CAPACITANCE_PRESETS` names four grids (``screen``, ``coarse``, ``default``, ``fine``).
    """

    margin_um: tuple[float, float] | None = None
    margin_factor: float = 0.5
    boundary: Boundary = "asymptotic"
    surface: Surface = "distance"
    cell_fraction: float = 0.5
    min_cell_um: float = 25.0
    min_cell_z_um: float = 10.0
    max_cell_um: float = 200.0
    max_cell_z_um: float = 50.0
    zone_cells: float = 2.0
    wire_cell_um: float | None = None
    growth: float = 1.3
    outer_cell_um: float | None = None
    max_cells: int = 32_000_000
    fallback_eps_r: float = 4.0
    tol: float = 1e-6
    method: Method = "auto"
    workers: int = 1

    def __post_init__(self) -> None:
        if self.boundary not in ("asymptotic", "ground"):
            raise ValueError(f"boundary {self.boundary!r}: choose 'asymptotic' or 'ground'")
        if self.surface not in ("distance", "face", "centre"):
            raise ValueError(f"surface {self.surface!r}: choose 'distance', 'face' or 'centre'")
        if self.margin_um is not None and (
            len(self.margin_um) != 2 or not all(math.isfinite(m) and m >= 0 for m in self.margin_um)
        ):
            raise ValueError(f"margin_um {self.margin_um!r}: give (plan, z), each finite and >= 0 um")
        positive = {
            "margin_factor": self.margin_factor,
            "cell_fraction": self.cell_fraction,
            "min_cell_um": self.min_cell_um,
            "min_cell_z_um": self.min_cell_z_um,
            "max_cell_um": self.max_cell_um,
            "max_cell_z_um": self.max_cell_z_um,
            "fallback_eps_r": self.fallback_eps_r,
            "tol": self.tol,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} = {value!r} must be finite and > 0")
        if not (self.zone_cells >= 0 and self.growth >= 1.0):
            raise ValueError(f"zone_cells {self.zone_cells} must be >= 0 and growth {self.growth} >= 1")
        for name, optional in (("outer_cell_um", self.outer_cell_um), ("wire_cell_um", self.wire_cell_um)):
            if optional is not None and not (math.isfinite(optional) and optional > 0):
                raise ValueError(f"{name} = {optional!r} must be finite and > 0 (or None)")
        if self.max_cells < 1:
            raise ValueError(f"max_cells = {self.max_cells!r} must be >= 1")
        if self.workers < 1:
            raise ValueError(f"workers = {self.workers!r} must be >= 1")

    def margins(self, model: Model) -> tuple[float, float]:
        """The (plan, z) margin for ``model`` (um)."""
        if self.margin_um is not None:
            return (float(self.margin_um[0]), float(self.margin_um[1]))
        b = model.bbox
        m = self.margin_factor * max(b[3] - b[0], b[4] - b[1], b[5] - b[2])
        return (m, m)


CAPACITANCE_PRESETS: dict[str, CapacitanceSettings] = {
    "screen": CapacitanceSettings(
        cell_fraction=1.0,
        min_cell_um=80.0,
        min_cell_z_um=30.0,
        max_cell_um=300.0,
        max_cell_z_um=80.0,
        wire_cell_um=150.0,
        tol=1e-3,
    ),
    "coarse": CapacitanceSettings(
        cell_fraction=1.0, min_cell_um=40.0, min_cell_z_um=15.0, wire_cell_um=100.0, tol=1e-4
    ),
    "default": CapacitanceSettings(),
    "fine": CapacitanceSettings(
        cell_fraction=0.25, min_cell_um=10.0, min_cell_z_um=5.0, max_cells=80_000_000
    ),
}
"""Named grids: ``screen`` (the build's quick look: cells of 80 um and more, 30 um in z, a looser solve; on the
claim-1 example C_ii -8 % and the coupling to the next net -14 % against the Richardson limit, where ``coarse``
gives -5.8 % and -9 %; see BENCHMARKS.md), ``coarse`` for a quick look,
``default``, and ``fine`` to check the default's discretisation error
(see the module docstring for how much the entries change between them)."""


@dataclass(frozen=True)
class Conductor:
    """One electrical conductor: the conducting solids of one or more nets (or parts, for solids without a net)
    that touch. ``members`` are those nets and parts; ``name`` is the first member, or the members joined by
    ``+`` when several are joined (a stacked package's net soldered to the one below)."""

    name: str
    members: tuple[str, ...]
    solids: tuple[Solid, ...]


def _material(materials: dict[str, Material], solid: Solid) -> Material:
    try:
        return materials[solid.material]
    except KeyError:
        raise ValueError(f"solid {solid.id}: material {solid.material!r} is not in the library") from None


def conductors(model: Model) -> tuple[Conductor, ...]:
    """The model's conductors: the conducting solids grouped by net (in model order), then by part for those
    without a net (named after the part), and the groups whose solids touch
    (:func:`~moldstack.geometry.adjacency.connectivity`, 0.5 um) joined into one."""
    materials = library_with(model.materials)
    groups: dict[str, list[Solid]] = {}
    nets = {s.net for s in model.solids if s.net is not None}
    for s in model.solids:
        if not _material(materials, s).conductor:
            continue
        key = s.net if s.net is not None else (s.part if s.part not in nets else f"{s.part} (no net)")
        groups.setdefault(key, []).append(s)
    names = list(groups)
    index = {name: i for i, name in enumerate(names)}
    group_of = {s.id: index[g] for g, ss in groups.items() for s in ss}
    parent = list(range(len(names)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joined = connectivity(dataclasses.replace(model, materials=materials))
    for a, b in joined.pairs:
        ra, rb = root(group_of[a]), root(group_of[b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for i in range(len(names)):
        members.setdefault(root(i), []).append(i)
    out = []
    for group in members.values():
        member_names = tuple(names[i] for i in group)
        solids = tuple(s for i in group for s in groups[names[i]])
        out.append(Conductor(" + ".join(member_names), member_names, solids))
    out.sort(key=lambda c: c.members[0] not in nets)  # the nets first, then the parts without one
    return tuple(out)


def _select(model: Model, all_conductors: tuple[Conductor, ...], nets: Sequence[str] | None) -> list[int]:
    """The conductors asked for, in the order first asked (a net joined to another asks for their conductor)."""
    if nets is None:
        return list(range(len(all_conductors)))
    if isinstance(nets, str):
        raise ValueError(f"nets must be a sequence of net names, not the string {nets!r}")
    index = {m: i for i, c in enumerate(all_conductors) for m in (*c.members, c.name)}
    out: list[int] = []
    for name in nets:
        if name in index:
            if index[name] not in out:
                out.append(index[name])
            continue
        solids = [s for s in model.solids if s.net == name]
        if solids:
            materials = sorted({s.material for s in solids})
            raise ValueError(
                f"net {name!r} has no conductor solids (its {len(solids)} solids are of "
                f"{', '.join(materials)}): it has no capacitance"
            )
        known = [c.name for c in all_conductors]
        shown = ", ".join(known[:8]) + (f" ... ({len(known)} in all)" if len(known) > 8 else "")
        raise ValueError(f"net {name!r} is not in model {model.name}; its conductors are: {shown}")
    if not out:
        raise ValueError("no nets asked for: give at least one net name, or None for all")
    return out


# ---------------------------------------------------------------------------------------------------------------
# Grid


def _thickness(shape: Shape, axis: int) -> float:
    """A solid's thickness along ``axis`` (um): what its cells there must resolve."""
    b = shape.bbox
    extent = b[axis + 3] - b[axis]
    if axis == 2 or isinstance(shape, Box):
        return extent
    if isinstance(shape, Tube):
        return 2 * shape.r if shape.r_inner <= 0 else min(2 * shape.r, shape.r - shape.r_inner)
    if isinstance(shape, Trace):
        if shape.length <= 0:
            return shape.width
        # the width of the trace measured along the axis: w / |sin| of its angle to the axis
        across = abs(shape.yb - shape.ya if axis == 0 else shape.xb - shape.xa) / shape.length
        return min(extent, shape.width / across) if across > 0 else extent
    return extent


def conductor_zones(solids: Sequence[Solid], settings: CapacitanceSettings) -> tuple[list[Zone], ...]:
    """Refinement zones around conducting solids, per axis (see :class:`CapacitanceSettings`)."""
    zones: tuple[dict[tuple[float, float], float], ...] = ({}, {}, {})
    for s in solids:
        wire = isinstance(s.shape, Wire)
        b = s.shape.bbox
        for a in range(3):
            floor = settings.min_cell_z_um if a == 2 else settings.min_cell_um
            cap = settings.max_cell_z_um if a == 2 else settings.max_cell_um
            if wire:
                size = settings.wire_cell_um or max(s.shape.diameter, floor)
            else:
                size = min(max(settings.cell_fraction * _thickness(s.shape, a), floor), cap)
            pad = settings.zone_cells * size
            key = (round(b[a] - pad, 3), round(b[a + 3] + pad, 3))
            zones[a][key] = min(size, zones[a].get(key, math.inf))
    return tuple(_merge_zones(z) for z in zones)


def _merge_zones(zones: dict[tuple[float, float], float]) -> list[Zone]:
    """Zones of one size that overlap merged into one (fewer zones to grade against, the same size field)."""
    out: list[Zone] = []
    by_size: dict[float, list[tuple[float, float]]] = {}
    for (lo, hi), size in zones.items():
        by_size.setdefault(size, []).append((lo, hi))
    for size, spans in sorted(by_size.items()):
        spans.sort()
        lo, hi = spans[0]
        for a, b in spans[1:]:
            if a <= hi:
                hi = max(hi, b)
            else:
                out.append(Zone(lo, hi, size))
                lo, hi = a, b
        out.append(Zone(lo, hi, size))
    return out


def _domain(model: Model, settings: CapacitanceSettings) -> tuple[float, float, float, float, float, float]:
    b = model.bbox
    pm, zm = settings.margins(model)
    return (b[0] - pm, b[1] - pm, b[2] - zm, b[3] + pm, b[4] + pm, b[5] + zm)


def grid_lines(model: Model) -> tuple[list[float], list[float], list[float]]:
    """The lines the capacitance grid keeps (um): every prism's z faces and every box's sides.

    A cylinder's or a trace's plan bounding box is no surface (it touches a circle at four points), and the
    surface couplings place curved and slanted conductor surfaces between lines, so those lines would only add
    cells (about a tenth of them on the examples)."""
    lines: tuple[list[float], list[float], list[float]] = ([], [], [])
    for s in model.solids:
        if isinstance(s.shape, Wire):
            continue
        b = s.shape.bbox
        for a in range(3):
            if a == 2 or isinstance(s.shape, Box):
                lines[a].extend((b[a], b[a + 3]))
    return lines


def capacitance_grid(model: Model, settings: CapacitanceSettings = CapacitanceSettings()) -> Grid:
    """The grid :func:`capacitance` solves on: :func:`grid_lines`, fine cells around every conductor
    (:func:`conductor_zones`), at most ``max_cell_um`` / ``max_cell_z_um`` elsewhere in the model, graded out to
    the margin (see :class:`CapacitanceSettings`).

    Raises :class:`~moldstack.geometry.grid.GridTooLargeError` above ``settings.max_cells``.
    """
    return _grid(model, conductors(model), settings)


def _grid(model: Model, all_conductors: Sequence[Conductor], settings: CapacitanceSettings) -> Grid:
    zones = conductor_zones([s for c in all_conductors for s in c.solids], settings)
    lines = grid_lines(model)
    b = model.bbox
    dom = _domain(model, settings)
    pm, zm = settings.margins(model)
    outer = settings.outer_cell_um or max(settings.max_cell_um, 0.25 * max(pm, zm))
    edges = []
    for a in range(3):
        size = settings.max_cell_z_um if a == 2 else settings.max_cell_um
        merge = 0.5 * (settings.min_cell_z_um if a == 2 else settings.min_cell_um)
        edges.append(
            graded_lines(
                [*lines[a], b[a], b[a + 3]],
                dom[a],
                dom[a + 3],
                max(outer, size),
                [Zone(b[a], b[a + 3], size), *zones[a]],
                settings.growth,
                merge_um=merge,
            )
        )
    check_cells(
        (len(edges[0]) - 1) * (len(edges[1]) - 1) * (len(edges[2]) - 1),
        settings.max_cells,
        f"capacitance grid of {model.name} (CapacitanceSettings.max_cells)",
    )
    return Grid(*edges)


# ---------------------------------------------------------------------------------------------------------------
# Cells: permittivity and conductors


def _overlap_block(grid: Grid, shape: Shape) -> tuple[slice, slice, slice]:
    """The cells whose boxes overlap ``shape``'s bounding box (at least one per axis)."""
    b = shape.bbox
    out = []
    for a in range(3):
        e = grid.edges[a]
        i0 = int(np.clip(np.searchsorted(e, b[a], side="right") - 1, 0, len(e) - 2))
        i1 = int(np.clip(np.searchsorted(e, b[a + 3], side="left"), i0 + 1, len(e) - 1))
        out.append(slice(i0, i1))
    return out[0], out[1], out[2]


def _thin_mask(grid: Grid, shape: Shape) -> tuple[tuple[slice, slice, slice], NDArray[np.bool_]]:
    """Cells for a prism no cell centre lies in: the cells its box overlaps whose plan centre lies in its
    section (all of them when none does)."""
    block = _overlap_block(grid, shape)
    cx, cy, _ = grid.block_centres(block)
    size = tuple(s.stop - s.start for s in block)
    if isinstance(shape, Box | Tube | Trace):
        plan = shape.xy_distance(cx[:, :, 0], cy[:, :, 0]) <= 0.0
        if plan.any():
            return block, np.broadcast_to(plan[:, :, None], size).copy()
    return block, np.ones(size, dtype=bool)


@dataclass(frozen=True, eq=False)
class Cells:
    """The painted grid: permittivity (F/m, held cells tiny), the conductor of each cell (-1: dielectric) and
    the conducting solid that painted it (index into ``solids``)."""

    eps: NDArray[np.float64]
    conductor: NDArray[np.int32]
    owner: NDArray[np.int32]
    solids: tuple[Solid, ...]
    fallback: tuple[str, ...]
    thin: tuple[str, ...]


def paint(model: Model, grid: Grid, all_conductors: Sequence[Conductor], fallback_eps_r: float) -> Cells:
    """Paint the model's solids in :func:`~moldstack.geometry.voxelize.paint_order` (as the voxeliser does):
    permittivity for dielectrics, conductor and solid index for conductors."""
    materials = library_with(model.materials)
    which = {s.id: i for i, c in enumerate(all_conductors) for s in c.solids}
    eps_r = np.full(grid.shape, AIR_EPS_R)
    cond = np.full(grid.shape, -1, dtype=np.int32)
    owner = np.full(grid.shape, -1, dtype=np.int32)
    solids: list[Solid] = []
    fallback: set[str] = set()
    thin: list[str] = []
    for solid in paint_order(model.solids):
        material = _material(materials, solid)
        block, mask = shape_mask(grid, solid.shape)
        if material.conductor:
            if not mask.any():
                block, mask = _thin_mask(grid, solid.shape)
                thin.append(solid.id)
            cond[block][mask] = which[solid.id]
            owner[block][mask] = len(solids)
            solids.append(solid)
            continue
        if not mask.any():
            continue
        value = material.eps_r
        if value is None:
            fallback.add(material.name)
            value = fallback_eps_r
        eps_r[block][mask] = value
        cond[block][mask] = -1
        owner[block][mask] = -1
    eps = EPS0 * np.where(cond >= 0, HELD_EPS_SCALE, eps_r)
    return Cells(eps, cond, owner, tuple(solids), tuple(sorted(fallback)), tuple(thin))


# ---------------------------------------------------------------------------------------------------------------
# Couplings to the conductor surfaces


def _crossing(shape: Shape, free: NDArray[np.float64], held: NDArray[np.float64]) -> NDArray[np.float64]:
    """Share of the way from each free centre to its held neighbour's centre at which the surface of ``shape``
    lies; where the segment does not cross it (a sub-cell conductor whose cells were forced), the free centre's
    distance to the surface over the centre distance. Clipped to [MIN_FRACTION, 1]."""
    span = np.linalg.norm(held - free, axis=1)
    phi_free = shape.signed_distance(free)
    phi_held = shape.signed_distance(held)
    crosses = (phi_free > 0) & (phi_held <= 0)
    t = np.where(phi_free > 0, phi_free / span, MIN_FRACTION)
    if crosses.any():
        lo = np.zeros(int(crosses.sum()))
        hi = np.ones_like(lo)
        a, d = free[crosses], held[crosses] - free[crosses]
        for _ in range(BISECTIONS):
            mid = 0.5 * (lo + hi)
            outside = shape.signed_distance(a + mid[:, None] * d) > 0
            lo = np.where(outside, mid, lo)
            hi = np.where(outside, hi, mid)
        t[crosses] = 0.5 * (lo + hi)
    return np.clip(t, MIN_FRACTION, 1.0)


def surface_links(grid: Grid, cells: Cells, surface: Surface) -> Links:
    """The coupling ``A eps / delta`` (F) of every dielectric cell to each held neighbour (see the module
    docstring for ``delta``), as links from the dielectric cell to the held one."""
    shape = grid.shape
    flat = np.arange(grid.cells, dtype=np.int64).reshape(shape)
    centres = [grid.centres(a) for a in range(3)]
    sizes = [grid.sizes(a) for a in range(3)]
    cond = cells.conductor
    a_out, b_out, g_out = [], [], []
    for axis in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(None, -1)
        hi[axis] = slice(1, None)
        for held_side, free_side in ((lo, hi), (hi, lo)):
            sel = (cond[tuple(held_side)] >= 0) & (cond[tuple(free_side)] < 0)
            if not sel.any():
                continue
            held = flat[tuple(held_side)][sel]
            free = flat[tuple(free_side)][sel]
            fi = np.unravel_index(free, shape)
            hi_ = np.unravel_index(held, shape)
            other = [b for b in range(3) if b != axis]
            area = sizes[other[0]][fi[other[0]]] * sizes[other[1]][fi[other[1]]] * UM**2
            d_free = 0.5 * sizes[axis][fi[axis]]
            d_held = 0.5 * sizes[axis][hi_[axis]]
            if surface == "centre":
                delta = d_free + d_held
            elif surface == "face":
                delta = d_free
            else:
                delta = (d_free + d_held) * _fractions(grid, cells, fi, hi_, held, centres)
            a_out.append(free)
            b_out.append(held)
            g_out.append(area * cells.eps.reshape(-1)[free] / (delta * UM))
    if not g_out:
        empty = np.zeros(0, dtype=np.int64)
        return Links(empty, empty, np.zeros(0))
    return Links(np.concatenate(a_out), np.concatenate(b_out), np.concatenate(g_out))


def _fractions(
    grid: Grid,
    cells: Cells,
    fi: tuple[NDArray[np.int64], ...],
    hi: tuple[NDArray[np.int64], ...],
    held: NDArray[np.int64],
    centres: list[NDArray[np.float64]],
) -> NDArray[np.float64]:
    """For each free/held pair, where the held cell's solid's surface lies between the two centres (0 at the
    free centre, 1 at the held one)."""
    p_free = np.stack([centres[a][fi[a]] for a in range(3)], axis=1)
    p_held = np.stack([centres[a][hi[a]] for a in range(3)], axis=1)
    owner = cells.owner.reshape(-1)[held]
    out = np.empty(held.size)
    order = np.argsort(owner, kind="stable")
    bounds = np.flatnonzero(np.diff(owner[order])) + 1
    for run in np.split(order, bounds):
        if run.size:
            shape = cells.solids[int(owner[run[0]])].shape
            out[run] = _crossing(shape, p_free[run], p_held[run])
    return out


# ---------------------------------------------------------------------------------------------------------------
# Problem


def _faces(
    model: Model, grid: Grid, cells: Cells, settings: CapacitanceSettings
) -> tuple[FaceCondition, ...]:
    """The outer faces: held at 0 V (``ground``), or the radiation condition of a charge at the model's centre
    (``asymptotic``): ``-dV/dn = V (r . n) / |r|^2`` at each face cell, a Robin ``h = eps (r . n) / |r|^2``,
    given as :data:`ROBIN_BINS` conditions per face of cells with nearly the same ``h`` (their mean)."""
    b = model.bbox
    centre = (0.5 * (b[0] + b[3]), 0.5 * (b[1] + b[4]), 0.5 * (b[2] + b[5]))
    _, zm = settings.margins(model)
    out = []
    for face in FACES:
        axis, side = FACE_AXIS_SIDE[face]
        if axis == 2 and zm == 0:
            continue  # the 2D limit: adiabatic top and bottom
        if settings.boundary == "ground":
            out.append(FaceCondition(face, "dirichlet", 0.0, name=face))
            continue
        sl: list[slice | int] = [slice(None)] * 3
        sl[axis] = 0 if side == 0 else grid.shape[axis] - 1
        u, v = (grid.centres(a) - centre[a] for a in range(3) if a != axis)
        normal = max(abs(grid.edges[axis][0 if side == 0 else -1] - centre[axis]), 1e-6)
        r2 = normal**2 + u[:, None] ** 2 + v[None, :] ** 2
        h = cells.eps[tuple(sl)] * normal / r2 / UM
        edges = np.geomspace(h.min(), h.max() * (1 + 1e-9), ROBIN_BINS + 1)
        which = np.clip(np.searchsorted(edges, h, side="right") - 1, 0, ROBIN_BINS - 1)
        for k in range(ROBIN_BINS):
            mask = which == k
            if mask.any():
                out.append(FaceCondition(face, "robin", 0.0, h=float(h[mask].mean()), mask=mask, name=face))
    return tuple(out)


def _grid_contacts(conductor: NDArray[np.int32]) -> list[tuple[int, int]]:
    """Pairs of distinct conductors with face-adjacent cells: a gap the grid does not resolve (the two are
    insulated by a zero-thickness gap there, and their mutual capacitance is underestimated)."""
    pairs: set[tuple[int, int]] = set()
    for axis in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(None, -1)
        hi[axis] = slice(1, None)
        a, b = conductor[tuple(lo)], conductor[tuple(hi)]
        sel = (a >= 0) & (b >= 0) & (a != b)
        if sel.any():
            found = np.unique(
                np.stack([np.minimum(a[sel], b[sel]), np.maximum(a[sel], b[sel])], axis=1), axis=0
            )
            pairs.update((int(x), int(y)) for x, y in found)
    return sorted(pairs)


@dataclass(frozen=True, eq=False)
class CapacitanceProblem:
    """A capacitance analysis set up: the field problem (every conductor held, at 0 V) and what reading its
    solutions needs. :func:`capacitance_problem` makes it; :func:`capacitance` solves it."""

    model: Model
    settings: CapacitanceSettings
    conductors: tuple[Conductor, ...]
    selected: tuple[int, ...]
    cells: Cells
    problem: DiffusionProblem
    contacts: tuple[tuple[str, str], ...]
    setup_s: float

    @property
    def grid(self) -> Grid:
        return self.problem.grid


def capacitance_problem(
    model: Model, nets: Sequence[str] | None = None, *, settings: CapacitanceSettings = CapacitanceSettings()
) -> CapacitanceProblem:
    """The grid, permittivities, conductors and surface couplings of a capacitance analysis (not solved)."""
    t0 = time.perf_counter()
    all_conductors = conductors(model)
    if not all_conductors:
        raise ValueError(f"model {model.name} has no conducting solids: there is no capacitance to compute")
    selected = _select(model, all_conductors, nets)
    grid = _grid(model, all_conductors, settings)
    cells = paint(model, grid, all_conductors, settings.fallback_eps_r)
    present = set(np.unique(cells.conductor[cells.conductor >= 0]).tolist())
    missing = [all_conductors[i].name for i in selected if i not in present]
    if missing:
        raise ValueError(f"conductor(s) {', '.join(missing)} occupy no cell of the grid")
    contacts = tuple(
        (all_conductors[a].name, all_conductors[b].name) for a, b in _grid_contacts(cells.conductor)
    )
    problem = DiffusionProblem(
        grid=grid,
        k=cells.eps,
        faces=_faces(model, grid, cells, settings),
        fixed=cells.conductor >= 0,
        fixed_value=0.0,
        links=surface_links(grid, cells, settings.surface),
    )
    return CapacitanceProblem(
        model, settings, all_conductors, tuple(selected), cells, problem, contacts, time.perf_counter() - t0
    )


# ---------------------------------------------------------------------------------------------------------------
# Result


def spice_form(maxwell: NDArray[np.float64]) -> NDArray[np.float64]:
    """The mutual (SPICE) form of a Maxwell matrix: row sums on the diagonal (to the reference), ``-C_ij`` off it."""
    out = -np.asarray(maxwell, dtype=np.float64).copy()
    np.fill_diagonal(out, maxwell.sum(axis=1))
    return out


def asymmetry(maxwell: NDArray[np.float64]) -> float:
    """``max |C_ij - C_ji| / sqrt(C_ii C_jj)`` over the pairs (0 for one conductor)."""
    d = np.sqrt(np.abs(np.diag(maxwell)))
    scale = np.outer(d, d)
    scale[scale == 0] = 1.0
    return float(np.max(np.abs(maxwell - maxwell.T) / scale)) if maxwell.size else 0.0


@dataclass(frozen=True, eq=False)
class CapacitanceResult:
    """The capacitance matrices of the requested conductors (F) and how the solves went.

    ``maxwell_f[i, j]``: the charge on conductor i with conductor j at 1 V and every other at 0 V (symmetrised);
    ``mutual_f``: the SPICE form (diagonal: to the reference; off-diagonal: between two conductors, >= 0).
    ``asymmetry``: of the matrix before symmetrising (see :func:`asymmetry`). ``members``: the nets (or parts)
    of each conductor. ``sub_cell_solids``: conducting solids no cell centre lies in (given the cells they
    overlap); ``unresolved_gaps``: pairs of conductors whose cells touch though the solids do not (their
    mutual capacitance is underestimated: refine). ``fallback_materials``: dielectrics that took
    ``fallback_eps_r``.
    """

    conductors: tuple[str, ...]
    members: tuple[tuple[str, ...], ...]
    maxwell_f: NDArray[np.float64]
    mutual_f: NDArray[np.float64]
    asymmetry: float
    grid: Grid
    unknowns: int
    iterations: tuple[int, ...]
    solve_s: tuple[float, ...]
    setup_s: float
    total_s: float
    methods: tuple[str, ...]
    settings: CapacitanceSettings
    fallback_materials: tuple[str, ...] = ()
    sub_cell_solids: tuple[str, ...] = ()
    unresolved_gaps: tuple[tuple[str, str], ...] = ()

    @property
    def cells(self) -> int:
        return self.grid.cells

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: capacitances in pF, lengths in um, times in s."""
        return {
            "units": {"capacitance": "pF", "length": "um", "time": "s"},
            "conductors": list(self.conductors),
            "members": {c: list(m) for c, m in zip(self.conductors, self.members, strict=True)},
            "maxwell_pf": (self.maxwell_f / PF).tolist(),
            "mutual_pf": (self.mutual_f / PF).tolist(),
            "to_reference_pf": dict(
                zip(self.conductors, (np.diag(self.mutual_f) / PF).tolist(), strict=True)
            ),
            "asymmetry": self.asymmetry,
            "reference": "infinity" if self.settings.boundary == "asymptotic" else "grounded box",
            "grid": self.grid.to_dict(),
            "solver": {
                "unknowns": self.unknowns,
                "iterations": list(self.iterations),
                "solve_s": list(self.solve_s),
                "methods": sorted(set(self.methods)),
                "setup_s": self.setup_s,
                "total_s": self.total_s,
            },
            "settings": dataclasses.asdict(self.settings),
            "fallback_eps_r_materials": list(self.fallback_materials),
            "sub_cell_solids": len(self.sub_cell_solids),
            "unresolved_gaps": [list(p) for p in self.unresolved_gaps],
        }


def capacitance(
    model: Model,
    nets: Sequence[str] | None = None,
    *,
    settings: CapacitanceSettings = CapacitanceSettings(),
    progress: Progress | None = None,
) -> CapacitanceResult:
    """The Maxwell and SPICE capacitance matrices of ``nets`` (default: every conductor) of ``model``.

    A net joined to another (their solids touch) asks for their conductor, once; the result's ``conductors`` are
    in the order first asked, with their ``members``. See the module docstring for the model, the assumptions
    and the accuracy. ``progress`` is called as the
    solver's (:data:`~moldstack.fields.solve.Progress`) with the net's name before the method.

    Raises ValueError for a net that is not in the model or has no conducting solid,
    :class:`~moldstack.geometry.grid.GridTooLargeError` for a grid above ``settings.max_cells`` and
    :class:`~moldstack.fields.problem.NotConvergedError` when a solve does not converge.
    """
    t0 = time.perf_counter()
    setup = capacitance_problem(model, nets, settings=settings)
    prepared = prepare(setup.problem, tol=settings.tol, method=settings.method)
    labels = setup.cells.conductor
    held_label = labels.reshape(-1)[prepared.parts.fixed]
    selected = np.array(setup.selected)
    n = selected.size

    def solve_columns(js: list[int]) -> tuple[list[int], np.ndarray, list[int], list[float], list[str]]:
        block = np.zeros((n, len(js)))
        its: list[int] = []
        secs: list[float] = []
        used: list[str] = []
        for k, j in enumerate(js):
            c = setup.selected[j]
            name = setup.conductors[c].name
            variant = dataclasses.replace(setup.problem, fixed_value=(held_label == c).astype(np.float64))
            report = _named(progress, name) if progress is not None else None
            sol = prepared.solve(variant, progress=report)
            if sol.stats.method in prepared.chain[1:]:
                # an earlier method stalled on this problem: the remaining nets start with the one that converged
                prepared.chain = prepared.chain[prepared.chain.index(sol.stats.method) :]
            charge = -absorbed(variant, prepared.parts, sol.u, labels)
            block[:, k] = charge[selected]
            its.append(sol.stats.iterations)
            secs.append(sol.stats.solve_s)
            used.append(sol.stats.method)
        return js, block, its, secs, used

    workers = min(settings.workers, n)
    if workers > 1:
        prepared.setup()  # once, here: the forked workers share it
        prepared.single_thread()
    shares = [[int(j) for j in share] for share in np.array_split(np.arange(n), workers)]
    columns = np.zeros((n, n))
    iterations: list[int] = [0] * n
    times: list[float] = [0.0] * n
    methods: list[str] = [""] * n
    for js, block, its, secs, used in fork_map(solve_columns, shares):
        columns[:, js] = block
        for k, j in enumerate(js):
            iterations[j], times[j], methods[j] = its[k], secs[k], used[k]
    maxwell = 0.5 * (columns + columns.T)
    return CapacitanceResult(
        conductors=tuple(setup.conductors[c].name for c in setup.selected),
        members=tuple(setup.conductors[c].members for c in setup.selected),
        maxwell_f=maxwell,
        mutual_f=spice_form(maxwell),
        asymmetry=asymmetry(columns),
        grid=setup.grid,
        unknowns=prepared.unknowns,
        iterations=tuple(iterations),
        solve_s=tuple(times),
        setup_s=setup.setup_s + prepared.assembly_s + prepared.setup_s,
        total_s=time.perf_counter() - t0,
        methods=tuple(methods),
        settings=settings,
        fallback_materials=setup.cells.fallback,
        sub_cell_solids=setup.cells.thin,
        unresolved_gaps=setup.contacts,
    )


def _named(progress: Progress, name: str) -> Callable[[str, int, float], None]:
    def report(method: str, iteration: int, residual: float) -> None:
        progress(f"{name}: {method}", iteration, residual)

    return report


__all__ = [
    "CAPACITANCE_PRESETS",
    "EPS0",
    "CapacitanceProblem",
    "CapacitanceResult",
    "CapacitanceSettings",
    "Conductor",
    "asymmetry",
    "capacitance",
    "capacitance_grid",
    "capacitance_problem",
    "conductor_zones",
    "conductors",
    "grid_lines",
    "paint",
    "spice_form",
    "surface_links",
]
