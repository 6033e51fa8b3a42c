"""DC resistance of a net by the field solver on its conductors: terminals held, R = V / I.

The problem (physics.md, "Field solver"): ``div(sigma grad V) = 0`` on the net's conductors, one group of pins
held at 1 V and the other at 0 V, the rest of the net floating; ``R = 1 V / I`` with ``I`` the current into
the 0 V pins (Gauss: the flow absorbed by held cells, :func:`~moldstack.fields.assembly.absorbed`).

The grid covers the net's conductors only (a few thousand to a few hundred thousand cells), with lines at
every conductor boundary, fine cells over each conductor and coarse ones between. Conductivity per cell is
the **volume fraction** of each conductor in it times that conductor's conductivity (the fractions sampled
on a 16 x 16 sub-grid in plan, exact in z where the boundaries are lines): a round post whose axis runs along
z then conducts with its true cross section, not a staircase's, so a cylinder's ``rho l / (pi (ro^2 - ri^2))``
is met to the sampling error (well under 0.1 %) on any plan grid. Cells with no conductor are held (at 0 V,
through a conductance 1e-12 of the metal's, which the result ignores). Bond wires are links from the ball's
top to the pad under the stitch (:mod:`moldstack.analysis.wire_links`), exact for a round wire. A terminal is
a conductor's face: the 0.2 um layer of its cells there is held, with a conductivity 1e3 times the metal's so
the held potential starts at the face (what is lost is the 0.2 um layer's own resistance, under 0.1 % of a
100 um post). A die contact or a substrate land is held whole.

What the figure is: the DC (quasi-static) resistance. The current crowding into a wire's stitch, the spread
from a contact into a pad and a pad into its post are in it; skin effect is not (see
:mod:`moldstack.analysis.skin`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from moldstack.analysis.nets import Net, Pin
from moldstack.analysis.wire_links import wire_links
from moldstack.fields.assembly import absorbed
from moldstack.fields.problem import DiffusionProblem, Links
from moldstack.fields.solve import prepare
from moldstack.geometry.grid import Grid, Zone, check_cells, graded_lines
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.model_grid import solid_lines
from moldstack.geometry.primitives import Box, Trace, Tube, Wire
from moldstack.materials import Material, library_with

UM = 1e-6
TERMINAL_UM = 0.2
SUBSAMPLES = 16
MIN_FRACTION = 0.02
INSULATOR = 1e-12  # conductivity of a cell with no conductor, relative to the best metal
DIRECT_UNKNOWNS = 3000  # unknowns up to which a net's solve factorises; above, Ruge-Stuben AMG
HELD = 1e3  # conductivity of a held terminal cell, relative to the best metal


@dataclass(frozen=True)
class ResistanceSettings:
    """Cells over a conductor: at most ``fraction`` of its smallest plan dimension (within ``min_cell_um`` ..
    ``max_cell_um``) in plan and ``max_cell_z_um`` in z; ``growth`` between conductors; a cell cap per net."""

    fraction: float = 0.25
    min_cell_um: float = 4.0
    max_cell_um: float = 25.0
    max_cell_z_um: float = 20.0
    growth: float = 1.5
    coarse_um: float = 400.0
    max_cells: int = 3_000_000


@dataclass(frozen=True)
class DcResult:
    """One DC solve between two pin groups: R, the current, and the grid and solver figures."""

    source: tuple[str, ...]
    sink: tuple[str, ...]
    r_ohm: float
    current_a: float
    balance: float
    cells: int
    unknowns: int
    iterations: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": list(self.source),
            "to": list(self.sink),
            "r_mohm": self.r_ohm * 1e3,
            "current_balance": self.balance,
            "cells": self.cells,
            "unknowns": self.unknowns,
            "iterations": self.iterations,
            "seconds": self.seconds,
        }


def _plan_size(shape: Box | Tube | Trace) -> float:
    if isinstance(shape, Tube):
        return 2 * shape.r if shape.r_inner <= 0 else min(shape.r - shape.r_inner, 2 * shape.r)
    if isinstance(shape, Trace):
        return shape.width
    return min(shape.x1 - shape.x0, shape.y1 - shape.y0)


def _terminal_lines(pins: Sequence[Pin]) -> list[float]:
    out: list[float] = []
    for p in pins:
        if p.side == "low":
            out.append(p.z + TERMINAL_UM)
        elif p.side == "high":
            out.append(p.z - TERMINAL_UM)
    return out


def _is_oblique(solid: Solid) -> bool:
    """A trace neither along x nor along y: a staircase of cells would conduct it several % too poorly, so it
    is a link (:func:`_trace_link`), not cells."""
    tr = solid.shape
    if not isinstance(tr, Trace):
        return False
    return min(abs(tr.xb - tr.xa), abs(tr.yb - tr.ya)) > 1e-6 * tr.length


def net_grid(solids: Sequence[Solid], pins: Sequence[Pin], settings: ResistanceSettings) -> Grid:
    """The grid over ``solids`` (wires excluded): their lines, the terminal layers, fine cells over each."""
    prisms = [s for s in solids if not isinstance(s.shape, Wire) and not _is_oblique(s)]
    boxes = np.array([s.shape.bbox for s in prisms])
    lo, hi = boxes[:, :3].min(axis=0), boxes[:, 3:].max(axis=0)
    lines = solid_lines(prisms)
    lines[2].extend(_terminal_lines(pins))
    edges = []
    for a in range(3):
        zones = []
        for s in prisms:
            b = s.shape.bbox
            if a == 2:
                size = settings.max_cell_z_um
            else:
                assert isinstance(s.shape, Box | Tube | Trace)
                size = min(
                    max(settings.fraction * _plan_size(s.shape), settings.min_cell_um), settings.max_cell_um
                )
            zones.append(Zone(b[a], b[a + 3], size))
        edges.append(
            graded_lines(
                lines[a],
                float(lo[a]),
                float(hi[a]),
                settings.coarse_um,
                zones,
                settings.growth,
                merge_um=0.05,
            )
        )
    grid = Grid(*edges)
    check_cells(grid.cells, settings.max_cells, "resistance grid of a net")
    return grid


def _fractions(
    grid: Grid, shape: Box | Tube | Trace
) -> tuple[tuple[slice, slice, slice], NDArray[np.float64]]:
    """The block under the prism and the fraction of each of its cells the prism fills (16 x 16 in plan, exact
    in z)."""
    block = grid.block(shape.bbox)
    ex, ey, ez = (grid.edges[a][block[a].start : block[a].stop + 1] for a in range(3))
    t = (np.arange(SUBSAMPLES) + 0.5) / SUBSAMPLES
    xs = (ex[:-1, None] + np.diff(ex)[:, None] * t[None, :]).ravel()
    ys = (ey[:-1, None] + np.diff(ey)[:, None] * t[None, :]).ravel()
    inside = shape.xy_distance(xs[:, None], ys[None, :]) <= 0.0
    nx, ny = ex.size - 1, ey.size - 1
    plan = inside.reshape(nx, SUBSAMPLES, ny, SUBSAMPLES).mean(axis=(1, 3))
    zf = np.clip((np.minimum(ez[1:], shape.z1) - np.maximum(ez[:-1], shape.z0)) / np.diff(ez), 0.0, 1.0)
    return block, plan[:, :, None] * zf[None, None, :]


@dataclass(frozen=True, eq=False)
class _Conductors:
    grid: Grid
    sigma: NDArray[np.float64]  # S/m per cell (0 outside conductors)
    solid_cells: dict[str, NDArray[np.bool_]]  # per solid: where it has a fraction
    links: Any
    best: float


def _conductors(grid: Grid, solids: Sequence[Solid], materials: dict[str, Material]) -> _Conductors:
    sigma = np.zeros(grid.shape)
    total = np.zeros(grid.shape)
    cells: dict[str, NDArray[np.bool_]] = {}
    best = 0.0
    oblique = [s for s in solids if _is_oblique(s)]
    for s in solids:
        if isinstance(s.shape, Wire) or s in oblique:
            continue
        rho = materials[s.material].resistivity_ohm_m
        if not rho:
            raise ValueError(f"material {s.material!r} of {s.id} is a conductor without a resistivity_ohm_m")
        best = max(best, 1.0 / rho)
        block, frac = _fractions(grid, s.shape)
        sigma[block] += frac / rho
        total[block] += frac
        mask = np.zeros(grid.shape, dtype=bool)
        mask[block] = frac > 0
        cells[s.id] = mask
    over = total > 1.0
    sigma[over] /= total[over]
    sigma[total < MIN_FRACTION] = 0.0
    links = wire_links(grid, solids, lambda s: 1.0 / (materials[s.material].resistivity_ohm_m or math.inf))
    for s in oblique:
        link = _trace_link(grid, total >= 0.5, s, 1.0 / (materials[s.material].resistivity_ohm_m or math.inf))
        if link is not None:
            links = _join_links(links, link)
    wires = [s for s in solids if isinstance(s.shape, Wire)]
    if wires:
        best = max(best, *(1.0 / (materials[s.material].resistivity_ohm_m or math.inf) for s in wires))
    return _Conductors(grid, sigma, cells, links, best)


def _trace_link(grid: Grid, full: NDArray[np.bool_], solid: Solid, k: float) -> Links | None:
    """An oblique trace as links along its length between the conductors its two ends lie on.

    Three filaments across the width (at -w/3, 0, w/3), each sampled every 0.5 um along the centre line and
    two widths past each end (a trace may butt onto a post's side rather than lie on it):
    a filament runs from the last sample over a cell at least half full of another conductor at its start to
    the first such sample at its end (at the trace's height, or just under the trace where it lies on the
    conductor), each with a third of ``k w t / length``. The trace alone is exact; what is left out is the
    spreading where it meets its ends beyond a point contact per filament.
    """
    tr = solid.shape
    assert isinstance(tr, Trace)
    reach = 2 * tr.width / tr.length  # look past each end, where the trace butts onto a post's side
    n = max(math.ceil(tr.length * (1 + 2 * reach) / 0.5), 2)
    t = np.linspace(-reach, 1.0 + reach, n + 1)
    ux, uy = (tr.xb - tr.xa) / tr.length, (tr.yb - tr.ya) / tr.length
    zm = 0.5 * (tr.z0 + tr.z1)
    bounds = np.array(grid.bounds)
    ends_a, ends_b, g = [], [], []
    for offset in (-tr.width / 3, 0.0, tr.width / 3):
        x = tr.xa + t * (tr.xb - tr.xa) - offset * uy
        y = tr.ya + t * (tr.yb - tr.ya) + offset * ux
        hit = np.zeros(t.size, dtype=bool)
        cell = np.zeros((t.size, 3), dtype=np.int64)
        for z in (zm, tr.z0 - 1e-3):
            probe = np.stack([x, y, np.full_like(t, z)], axis=1)
            inside = np.all((probe >= bounds[:3]) & (probe <= bounds[3:]), axis=1) & ~hit
            c = grid.cell_of(probe[inside])
            now = np.zeros(t.size, dtype=bool)
            now[inside] = full[c[:, 0], c[:, 1], c[:, 2]]
            sel = np.zeros(t.size, dtype=bool)
            sel[inside] = now[inside]
            tmp = np.zeros((t.size, 3), dtype=np.int64)
            tmp[inside] = c
            cell[sel] = tmp[sel]
            hit |= sel
        idx = np.nonzero(hit)[0]
        if idx.size < 2:
            continue
        breaks = np.nonzero(np.diff(idx) > 1)[0]
        if breaks.size == 0:
            continue
        i0, i1 = int(idx[breaks[0]]), int(idx[breaks[-1] + 1])
        length = (min(t[i1], 1.0) - max(t[i0], 0.0)) * tr.length * UM
        ends_a.append(int(np.ravel_multi_index(tuple(cell[i0]), grid.shape)))
        ends_b.append(int(np.ravel_multi_index(tuple(cell[i1]), grid.shape)))
        g.append(k * tr.width * (tr.z1 - tr.z0) * UM * UM / (3 * max(length, 1e-12)))
    if not g:
        return None
    return Links(np.array(ends_a), np.array(ends_b), np.array(g), tuple(solid.id for _ in g))


def _join_links(a: Links | None, b: Links) -> Links:
    if a is None:
        return b
    return Links(
        np.concatenate([a.a, b.a]),
        np.concatenate([a.b, b.b]),
        np.concatenate([a.g, b.g]),
        (*a.names, *b.names),
    )


def _pin_cells(c: _Conductors, pin: Pin) -> NDArray[np.bool_]:
    mask = np.zeros(c.grid.shape, dtype=bool)
    for sid in pin.solids:
        mask |= c.solid_cells[sid]
    mask &= c.sigma > 0
    if pin.side != "whole":
        zc = c.grid.centres(2)
        lo, hi = (pin.z, pin.z + TERMINAL_UM) if pin.side == "low" else (pin.z - TERMINAL_UM, pin.z)
        mask &= ((zc > lo) & (zc < hi))[None, None, :]
    if not mask.any():
        raise ValueError(f"pin {pin.name} has no conductor cells on the grid")
    return mask


def _connected(c: _Conductors, held: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Conductor cells joined (face to face or by a wire) to a held cell."""
    conductor = c.sigma > 0
    comp, n = ndimage.label(conductor)
    if c.links is not None and n > 1:
        ca = comp.ravel()[c.links.a]
        cb = comp.ravel()[c.links.b]
        ok = (ca > 0) & (cb > 0)
        graph = coo_matrix((np.ones(int(ok.sum())), (ca[ok], cb[ok])), shape=(n + 1, n + 1))
        _, merged = connected_components(graph, directed=False)
        comp = np.where(conductor, merged[comp], -1)
    live = np.unique(comp[held & conductor])
    return conductor & np.isin(comp, live)


def terminal_resistance(
    model: Model,
    solids: Sequence[Solid],
    source: Sequence[Pin],
    sink: Sequence[Pin],
    settings: ResistanceSettings = ResistanceSettings(),
    *,
    floating: Sequence[Pin] = (),
) -> DcResult:
    """R between the ``source`` pins (held at 1 V, together) and the ``sink`` pins (0 V) through ``solids``."""
    if not source or not sink:
        raise ValueError("a resistance needs pins on both sides")
    t0 = time.perf_counter()
    materials = library_with(model.materials)
    grid = net_grid(solids, [*source, *sink, *floating], settings)
    c = _conductors(grid, solids, materials)
    src = np.zeros(grid.shape, dtype=bool)
    snk = np.zeros(grid.shape, dtype=bool)
    for p in source:
        src |= _pin_cells(c, p)
    for p in sink:
        snk |= _pin_cells(c, p)
    if (src & snk).any():
        raise ValueError(
            f"pins {source[0].name} and {sink[0].name} share conductor cells; the net is too short to measure"
        )
    live = _connected(c, src | snk)
    free = live & ~src & ~snk
    insulating = ~(live | src | snk)
    k = np.where(c.sigma > 0, c.sigma, INSULATOR * c.best)
    k = np.where(src | snk, HELD * c.best, k)
    links = c.links
    if links is not None:
        keep = ~insulating.ravel()[links.a] & ~insulating.ravel()[links.b]
        links = type(links)(links.a[keep], links.b[keep], links.g[keep], links.names) if keep.any() else None
    problem = DiffusionProblem(
        grid=grid,
        k=k,
        fixed=~free,
        fixed_value=np.where(src, 1.0, 0.0),
        links=links,
    )
    if not free.any():
        raise ValueError(f"no conductor joins {source[0].name} to {sink[0].name}")
    # Sparse LU fills in badly on thin-walled 3D conductors (3.6 s for 17k unknowns of a filled plated via);
    # algebraic multigrid takes 0.1 s there. Small nets factorise.
    prepared = prepare(problem, method="direct" if int(free.sum()) <= DIRECT_UNKNOWNS else "rs")
    solution = prepared.solve()
    labels = np.where(src, 1, np.where(snk, 2, 0)).astype(np.int64)
    flows = absorbed(problem, prepared.parts, solution.u, labels)
    i_in = -float(flows[1])
    i_out = float(flows[2])
    if i_out <= 0:
        raise ValueError(f"no current reaches {sink[0].name} from {source[0].name}: the net is open")
    balance = abs(i_in - i_out) / i_out
    return DcResult(
        source=tuple(p.name for p in source),
        sink=tuple(p.name for p in sink),
        r_ohm=1.0 / i_out,
        current_a=i_out,
        balance=balance,
        cells=grid.cells,
        unknowns=int(free.sum()),
        iterations=solution.stats.iterations,
        seconds=time.perf_counter() - t0,
    )


def net_resistance(model: Model, net: Net, settings: ResistanceSettings = ResistanceSettings()) -> DcResult:
    """The net's DC resistance between its :attr:`~moldstack.analysis.nets.Net.terminals`, other pins floating."""
    source, sink = net.terminals
    solids = [model.solid(s) for s in net.solids]
    others = [p for p in net.pins if p not in source and p not in sink]
    return terminal_resistance(model, solids, source, sink, settings, floating=others)


__all__ = ["DcResult", "ResistanceSettings", "net_grid", "net_resistance", "terminal_resistance"]
