"""Thermal analysis: junction temperatures and JEDEC-like thermal resistances of a built model.

Model. Steady conduction ``div(k grad T) + q = 0`` solved by :mod:`moldstack.fields` on the model's grid
(:func:`~moldstack.geometry.model_grid.model_grid`). In the board environments the package is soldered to the
2s2p test board (:mod:`~moldstack.analysis.mounting`: lands, joints, the claim-9 adhesive down to the board),
and the board's laminate is resolved layer by layer (:mod:`~moldstack.analysis.board`). Each
other cell takes the conductivity of the material holding its centre. Each die's power is injected in its
active layer: the cells of its top (front-face) layer within its outline. Bond wires are 1D conductances
``k pi r^2 / L`` between the cells at their two ends (:class:`~moldstack.fields.problem.Links`), not cells. The
air outside the solids (every empty cell connected to the domain's boundary, the standoff under the package
included) is the ambient: those cells are held at the ambient (or plate) temperature, and each face between a
solid cell and an ambient cell carries the film resistance ``1/h`` of its direction (surfaces facing up, down,
sideways), the plate's contact (none), or an adiabatic wall. Empty cells enclosed by solids (hollow vias,
pockets) conduct as still air.

Assumptions: constant properties (no temperature dependence), no radiation (h is the combined coefficient the
user states), the board's copper as two continuous planes (no traces, no thermal vias), solid contact
everywhere solids touch (no interface resistance unless a material says so).

Results per die: Tj max and mean; for the design: the environment's resistance (theta-JA, theta-JC or
theta-JB), Psi-JT, the heat leaving the package through its top, bottom and sides, and the energy balance.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from moldstack.analysis.board import (
    BOARD_MATERIAL,
    BOARD_PLANE_MATERIAL,
    BOARD_SIZE_MM,
    BOARD_THICKNESS_UM,
    Layer,
    board_layers,
    homogenised,
)
from moldstack.analysis.environment import Environment
from moldstack.analysis.mounting import BOARD_ROLE, Mounted, mount
from moldstack.analysis.wire_links import wire_links
from moldstack.fields.assembly import face_conductances
from moldstack.fields.problem import DiffusionProblem, FieldSolution
from moldstack.fields.solve import Method, Progress, solve
from moldstack.geometry.grid import Grid
from moldstack.geometry.model import DieInfo, Model, Solid
from moldstack.geometry.model_grid import GridSettings, model_grid, solid_lines
from moldstack.geometry.primitives import Box, Wire
from moldstack.geometry.voxelize import Voxels, voxelize
from moldstack.materials import Material, library_with

UM = 1e-6
AIR_K = 0.026  # W/(m K), still air near room temperature (Incropera, table A.4)
HELD_K = 1e12  # conductivity given to held (ambient, plate) cells: their half-cell adds no resistance
ADIABATIC_R = 1e12  # m^2 K/W on a face that passes no heat
MARGIN_UM = 200.0  # air kept around the solids so their outer faces meet the ambient
BOARD_MAX_CELL_Z_UM = 300.0  # laminate cells across the board's thickness
TB_OFFSET_UM = 1000.0  # JESD51-8: board temperature 1 mm out from the package body


class ThermalInputError(ValueError):
    """The thermal analysis cannot run as asked (no power, a bad environment); the message says why."""


@dataclass(frozen=True)
class DieTemperature:
    name: str
    power_w: float
    tj_max_c: float
    tj_mean_c: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "die": self.name,
            "power_w": self.power_w,
            "tj_max_c": self.tj_max_c,
            "tj_mean_c": self.tj_mean_c,
        }


@dataclass(frozen=True, eq=False)
class ThermalResult:
    """The field and the figures of one thermal solve (temperatures in C, resistances in K/W)."""

    environment: Environment
    power_w: float
    dies: tuple[DieTemperature, ...]
    resistance_k_per_w: float
    psi_jt_k_per_w: float
    reference_c: float
    top_c: float
    heat_split_w: dict[str, float]
    solution: FieldSolution
    voxels: Voxels
    die_plane_k: int
    held: NDArray[np.bool_]  # cells held at the ambient or a plate (not solved for)
    board_top_um: float | None = None
    extras: dict[str, float] = field(default_factory=dict)

    @property
    def tj_max_c(self) -> float:
        return max(d.tj_max_c for d in self.dies)

    @property
    def grid(self) -> Grid:
        return self.voxels.grid

    def to_dict(self) -> dict[str, Any]:
        stats = self.solution.stats
        return {
            "environment": self.environment.to_dict(),
            "power_w": self.power_w,
            "tj_max_c": self.tj_max_c,
            self.environment.resistance_name: self.resistance_k_per_w,
            "psi_jt_k_per_w": self.psi_jt_k_per_w,
            "reference_c": self.reference_c,
            "top_centre_c": self.top_c,
            "dies": [d.to_dict() for d in self.dies],
            "heat_split_w": self.heat_split_w,
            "energy_balance_error": self.solution.energy_balance_error,
            "grid": self.grid.to_dict(),
            "solver": {
                "unknowns": stats.unknowns,
                "iterations": stats.iterations,
                "residual": stats.residual,
                "assembly_s": stats.assembly_s,
                "setup_s": stats.setup_s,
                "solve_s": stats.solve_s,
                "method": stats.method,
            },
            **self.extras,
        }


def _board_solid(top_um: float) -> Solid:
    sx, sy = (v * 1e3 for v in BOARD_SIZE_MM)
    box = Box.centred(0, 0, sx, sy, top_um - BOARD_THICKNESS_UM, top_um)
    return Solid("board/laminate", "board", BOARD_ROLE, BOARD_MATERIAL, box)


def _layup(materials: dict[str, Material]) -> tuple[Layer, ...]:
    return board_layers(materials[BOARD_MATERIAL].k_w_mk, materials[BOARD_PLANE_MATERIAL].k_w_mk)


def _conductivity(
    voxels: Voxels, materials: dict[str, Material], board_bottom_um: float | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """kx, ky, kz per cell: each material's k; the board's cells take the laminate's layers they span
    (homogenised: exact per layer when the cell layers follow the layers, as :func:`_under_board` makes them)."""
    labels = voxels.table.labels
    per_label = np.array(
        [AIR_K if lab.material == "air" else materials[lab.material].k_w_mk for lab in labels]
    )
    k = per_label[voxels.labels]
    kz = k.copy()
    board_ids = [i for i, lab in enumerate(labels) if lab.role == BOARD_ROLE]
    if board_bottom_um is None or not board_ids:
        return k, k, k
    board = np.isin(voxels.labels, board_ids)
    layers_k = np.nonzero(board.any(axis=(0, 1)))[0]
    edges = voxels.grid.edges[2]
    z_local = np.append(edges[layers_k], edges[layers_k[-1] + 1]) - board_bottom_um
    k_in, k_through = homogenised(_layup(materials), z_local)
    for i, kk in enumerate(layers_k):
        sel = board[:, :, kk]
        k[:, :, kk][sel] = k_in[i]
        kz[:, :, kk][sel] = k_through[i]
    return k, k, kz


def _ambient(labels: NDArray[np.uint16]) -> NDArray[np.bool_]:
    """Empty cells connected to the domain's boundary."""
    empty = labels == 0
    comp, _ = ndimage.label(empty)
    border = np.unique(
        np.concatenate(
            [
                comp[0].ravel(),
                comp[-1].ravel(),
                comp[:, 0].ravel(),
                comp[:, -1].ravel(),
                comp[:, :, 0].ravel(),
                comp[:, :, -1].ravel(),
            ]
        )
    )
    border = border[border > 0]
    return np.isin(comp, border)


def _box_mask(
    grid: Grid, x0: float, y0: float, z0: float, x1: float, y1: float, z1: float
) -> NDArray[np.bool_]:
    out = np.zeros(grid.shape, dtype=bool)
    out[grid.block((x0, y0, z0, x1, y1, z1))] = True
    return out


def _die_cells(grid: Grid, die: DieInfo) -> NDArray[np.bool_]:
    return _box_mask(grid, die.x0, die.y0, die.z_back, die.x1, die.y1, die.z_front)


def _active_layer(grid: Grid, die: DieInfo) -> NDArray[np.bool_]:
    """The die's top layer of cells (its front face) within its outline."""
    mask = _die_cells(grid, die)
    ks = np.nonzero(mask.any(axis=(0, 1)))[0]
    if not ks.size:
        raise ThermalInputError(f"die {die.name} is thinner than the grid resolves; refine the grid")
    top = np.zeros_like(mask)
    top[:, :, ks[-1]] = mask[:, :, ks[-1]]
    return top


def _film(
    env: Environment, held: NDArray[np.bool_], plate: NDArray[np.bool_], shape: tuple[int, int, int]
) -> tuple[NDArray[np.float64], ...]:
    """Per-axis face resistances: 1/h between solid and ambient, 0 against the plate, adiabatic where none."""
    out = []
    for axis in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(0, shape[axis] - 1)
        hi[axis] = slice(1, shape[axis])
        a_held, b_held = held[tuple(lo)], held[tuple(hi)]
        a_plate, b_plate = plate[tuple(lo)], plate[tuple(hi)]
        r = np.zeros(a_held.shape)
        if axis == 2:
            up = 1.0 / env.h("up") if env.kind in ("jesd51-9", "custom") else ADIABATIC_R
            down = 1.0 / env.h("down") if env.kind in ("jesd51-9", "custom") else ADIABATIC_R
            r[~a_held & b_held] = up  # the solid cell below faces up into the air
            r[a_held & ~b_held] = down
        else:
            side = 1.0 / env.h("side") if env.kind in ("jesd51-9", "custom") else ADIABATIC_R
            r[a_held != b_held] = side
        r[(~a_held & b_plate) | (a_plate & ~b_held)] = 0.0
        out.append(r)
    return tuple(out)


def _domain(model: Model, env: Environment) -> tuple[tuple[float, ...], Mounted | None, list[list[float]]]:
    b = model.bbox
    if env.has_board:
        mounted = mount(model, env.mounting)
        bx, by = (v * 1e3 / 2 for v in BOARD_SIZE_MM)
        top = mounted.board_top_um
        domain = (
            -bx - MARGIN_UM,
            -by - MARGIN_UM,
            top,
            bx + MARGIN_UM,
            by + MARGIN_UM,
            b[5] + MARGIN_UM,
        )
        lines = solid_lines(mounted.solids)
        return (
            domain,
            mounted,
            [[-bx, bx, *lines[0]], [-by, by, *lines[1]], lines[2]],
        )
    domain = (
        b[0] - MARGIN_UM,
        b[1] - MARGIN_UM,
        b[2] - MARGIN_UM,
        b[3] + MARGIN_UM,
        b[4] + MARGIN_UM,
        b[5] + MARGIN_UM,
    )
    return domain, None, [[], [], []]


def _under_board(grid: Grid, top_um: float, layup: tuple[Layer, ...]) -> Grid:
    """``grid`` (from the board's top up) with the board's cell layers and a layer of air under it added.

    The board is resolved layer by layer: a line at every face of every layer, each laminate layer cut into
    cells of at most :data:`BOARD_MAX_CELL_Z_UM`. (A homogenised board of two cell layers was tried: its
    theta-JA came out 6 % and its theta-JB 10 % low on the claim-8 example, because it lets the heat spread in
    the planes before it has crossed the top laminate.)
    """
    bottom = top_um - BOARD_THICKNESS_UM
    edges: list[float] = []
    for layer in layup:
        n = max(math.ceil((layer.z1 - layer.z0) / BOARD_MAX_CELL_Z_UM - 1e-9), 1)
        edges.extend(bottom + np.linspace(layer.z0, layer.z1, n + 1)[:-1])
    z = np.concatenate([[bottom - MARGIN_UM], edges, grid.edges[2]])
    return Grid(grid.edges[0], grid.edges[1], z)


def _standoff(grid: Grid, model: Model, mounted: Mounted) -> NDArray[np.bool_]:
    """The cells between the board and the lowest assembly, within its outline: the air in that gap (a few
    hundred micrometres) is still and conducts (``k / gap``, about 100 W/m2K), it is not the ambient."""
    asm = min(model.assemblies, key=lambda a: a.z_bottom)
    return _box_mask(grid, asm.x0, asm.y0, mounted.board_top_um, asm.x1, asm.y1, asm.z_bottom)


def _fine_box(model: Model, mounted: Mounted | None) -> tuple[float, ...]:
    """The region meshed at the finest cells: the model, and the joints under it down to the board."""
    b = model.bbox
    if mounted is None:
        return b
    return (b[0], b[1], min(b[2], mounted.board_top_um), b[3], b[4], b[5])


def _package_outline(model: Model) -> tuple[float, float, float, float, float]:
    """x0, y0, x1, y1 of the bodies, and the top of the highest body."""
    asms = model.assemblies
    return (
        min(a.x0 for a in asms),
        min(a.y0 for a in asms),
        max(a.x1 for a in asms),
        max(a.y1 for a in asms),
        max(a.z_top for a in asms),
    )


def _powers(model: Model, power_w: float | None) -> list[tuple[DieInfo, float]]:
    dies = [d for a in model.assemblies for d in a.dies]
    given = sum(d.power_w for d in dies)
    if power_w is not None:
        if not power_w > 0:
            raise ThermalInputError(f"--power {power_w!r}: the power must be > 0 W")
        if given > 0:
            return [(d, power_w * d.power_w / given) for d in dies]
        return [(d, power_w / len(dies)) for d in dies]
    if given <= 0:
        raise ThermalInputError(
            "no power: give dies[].power_w in the spec or the total power (--power W / power_w=)"
        )
    return [(d, d.power_w) for d in dies]


def _face_flows(
    u: NDArray[np.float64], problem: DiffusionProblem, inside: NDArray[np.bool_]
) -> dict[str, float]:
    """Heat leaving the region ``inside`` through faces facing up, down and sideways (W), with the solver's own
    face conductances (:func:`~moldstack.fields.assembly.face_conductances`)."""
    out = {"top": 0.0, "bottom": 0.0, "sides": 0.0}
    for axis, g in enumerate(face_conductances(problem)):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(0, -1)
        hi[axis] = slice(1, None)
        lo_t, hi_t = tuple(lo), tuple(hi)
        flow = g * (u[lo_t] - u[hi_t])  # positive towards +axis
        leaving_up = inside[lo_t] & ~inside[hi_t]
        leaving_down = ~inside[lo_t] & inside[hi_t]
        if axis == 2:
            out["top"] += float(flow[leaving_up].sum())
            out["bottom"] += float(-flow[leaving_down].sum())
        else:
            out["sides"] += float(flow[leaving_up].sum() - flow[leaving_down].sum())
    return out


def _is_board(role: str) -> bool:
    return role == BOARD_ROLE or role.startswith(BOARD_ROLE + ".")


def _grid(
    model: Model, env: Environment, settings: GridSettings, materials: dict[str, Material]
) -> tuple[Grid, tuple[float, ...], Mounted | None]:
    domain, mounted, extra = _domain(model, env)
    g = model_grid(model, settings, domain=domain, extra_lines=extra, fine=_fine_box(model, mounted))
    if mounted is not None:
        g = _under_board(g, mounted.board_top_um, _layup(materials))
    return g, domain, mounted


def thermal_grid(
    model: Model, environment: Environment | None = None, grid: GridSettings | None = None
) -> Grid:
    """The analysis grid :func:`thermal` would solve on (to size a problem before building it)."""
    g, _, _ = _grid(
        model, environment or Environment(), grid or GridSettings(), library_with(model.materials)
    )
    return g


@dataclass(frozen=True, eq=False)
class ThermalProblem:
    """One thermal analysis set up: the field problem (for the rise over ambient) and what reading its solution
    needs. :func:`thermal_problem` makes it; :func:`thermal` solves it; benchmarks take ``problem`` alone."""

    model: Model
    environment: Environment
    powers: tuple[tuple[DieInfo, float], ...]
    problem: DiffusionProblem
    voxels: Voxels
    held: NDArray[np.bool_]
    mounted: Mounted | None


def thermal_problem(
    model: Model,
    environment: Environment | None = None,
    *,
    power_w: float | None = None,
    grid: GridSettings | None = None,
) -> ThermalProblem:
    """The grid, materials, mounting, environment and sources of a thermal analysis, as a field problem for the
    temperature rise over the ambient (see the module docstring)."""
    env = environment or Environment()
    materials = library_with(model.materials)
    powers = _powers(model, power_w)
    g, domain, mounted = _grid(model, env, grid or GridSettings(), materials)
    solids = [s for s in model.solids if not isinstance(s.shape, Wire)]
    if mounted is not None:
        solids += [*mounted.solids, _board_solid(mounted.board_top_um)]
    vox = voxelize(model, g, solids)
    board_bottom = None if mounted is None else mounted.board_top_um - BOARD_THICKNESS_UM
    kx, ky, kz = _conductivity(vox, materials, board_bottom)
    ambient = _ambient(vox.labels)
    if mounted is not None:
        ambient &= ~_standoff(g, model, mounted)
    x0, y0, x1, y1, top = _package_outline(model)
    plate = np.zeros_like(ambient)
    held_value = np.full(g.shape, env.ambient_c)
    if env.kind == "cold-plate-top":
        zc = g.centres(2)
        plate = ambient & (zc > top)[None, None, :] & _box_mask(g, x0, y0, top, x1, y1, domain[5])
        held_value[plate] = env.plate_c
    elif env.kind == "ring-cold-plate":
        gap = env.ring_gap_mm * 1e3
        zc = g.centres(2)
        outside = ~_box_mask(g, x0 - gap, y0 - gap, domain[2], x1 + gap, y1 + gap, domain[5])
        assert mounted is not None
        board_top = mounted.board_top_um
        board_bottom = board_top - BOARD_THICKNESS_UM
        near = (zc > board_top) & (zc < board_top + MARGIN_UM) | (zc < board_bottom) & (
            zc > board_bottom - MARGIN_UM
        )
        plate = ambient & outside & near[None, None, :]
        held_value[plate] = env.plate_c
    held = ambient | plate
    k = tuple(np.where(held, HELD_K, ka) for ka in (kx, ky, kz))
    resist = _film(env, ambient & ~plate, plate, g.shape)
    source = np.zeros(g.shape)
    vol = g.cell_volumes()
    for die, p in powers:
        layer = _active_layer(g, die)
        source[layer] += p * vol[layer] / vol[layer].sum()
    problem = DiffusionProblem(
        grid=g,
        k=k,
        source=source,
        fixed=held,
        fixed_value=held_value - env.ambient_c,
        links=wire_links(g, model.solids, lambda s: materials[s.material].k_w_mk),
        interface=resist,
    )
    return ThermalProblem(model, env, tuple(powers), problem, vox, held, mounted)


def thermal(
    model: Model,
    environment: Environment | None = None,
    *,
    power_w: float | None = None,
    grid: GridSettings | None = None,
    method: Method = "auto",
    progress: Progress | None = None,
) -> ThermalResult:
    """Solve the model's temperature field in ``environment`` (default: still air on the 2s2p board).

    ``method`` is the field solver's (:func:`moldstack.fields.solve`); the default ``auto`` runs the structured
    multigrid (``gmg``) and hands over to Ruge-Stuben AMG if it stalls. On the examples' package-on-board grids
    (films to a floating ambient, conductivity contrasts of 10^4, cells from 10 um to 8 mm) gmg converged in
    43-69 iterations in half RS's time or less (benchmarks/thermal_solver.py ``--problem stacked``).
    """
    setup = thermal_problem(model, environment, power_w=power_w, grid=grid)
    # solved for the rise over ambient, so that the residual measures the injected power, not the ambient
    rise = solve(setup.problem, method=method, progress=progress)
    env, powers, mounted = setup.environment, setup.powers, setup.mounted
    g, vox, held = setup.voxels.grid, setup.voxels, setup.held
    x0, y0, x1, y1, top = _package_outline(model)
    sol = dataclasses.replace(rise, u=rise.u + env.ambient_c)
    u = sol.u
    dies = tuple(
        DieTemperature(d.name, p, float(u[_die_cells(g, d)].max()), float(u[_die_cells(g, d)].mean()))
        for d, p in powers
    )
    total = sum(p for _, p in powers)
    tj = max(d.tj_max_c for d in dies)
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    kt = g.index(2, top - 1e-6)
    top_c = float(u[g.index(0, cx), g.index(1, cy), kt])
    if env.kind == "ring-cold-plate":
        longest_x = (x1 - x0) >= (y1 - y0)
        px, py = (cx, y1 + TB_OFFSET_UM) if longest_x else (x1 + TB_OFFSET_UM, cy)
        assert mounted is not None
        reference = float(u[g.index(0, px), g.index(1, py), g.index(2, mounted.board_top_um - 1e-6)])
    elif env.kind == "cold-plate-top":
        reference = env.plate_c
    else:
        reference = env.ambient_c
    package = ~held & (
        np.isin(
            vox.labels, [i for i, lab in enumerate(vox.table.labels) if i > 0 and not _is_board(lab.role)]
        )
    )
    split = _face_flows(u, setup.problem, package)
    layer_k = int(np.nonzero(_active_layer(g, powers[0][0]).any(axis=(0, 1)))[0][-1])
    return ThermalResult(
        environment=env,
        power_w=total,
        dies=dies,
        resistance_k_per_w=(tj - reference) / total,
        psi_jt_k_per_w=(tj - top_c) / total,
        reference_c=reference,
        top_c=top_c,
        heat_split_w=split,
        solution=sol,
        voxels=vox,
        die_plane_k=layer_k,
        held=held,
        board_top_um=None if mounted is None else mounted.board_top_um,
    )


__all__ = [
    "DieTemperature",
    "ThermalInputError",
    "ThermalProblem",
    "ThermalResult",
    "thermal",
    "thermal_problem",
]
