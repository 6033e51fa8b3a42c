"""Benchmark: the field solver on the stacked example's thermal problem and on a synthetic package, at increasing
resolution.

``--problem stacked`` (:func:`stacked`): the thermal analysis of ``examples/pop_on_substrate.yaml`` in still air
on the JESD51-9 board, exactly as ``moldstack thermal`` sets it up (held ambient cells, films, wires as links,
the layer-resolved board), on grids scaled to the target cell counts. ``--problem synthetic`` (the default,
:func:`synthetic_package`): a 12 x 12 mm body on a 0.4 mm laminate with two 20 um copper planes,
an 8 x 8 mm, 200 um silicon die on a 25 um attach, 0.6 mm of mold compound over it and two rings of 150 um
copper posts through the mold around the die; 2 W in the die's top 10 um, h = 10 W/m2K to 25 C on top, the
bottom held at 25 C (Dirichlet). Plan cells 200 um graded (growth 1.3) to ``fine`` at die and post edges, z cells
5 to 50 um: thin, flat cells and a conductivity contrast of 0.6 to 400 W/mK, as on real package grids.

Per grid, on the same matrix: moldstack's solve (assembly, setup, solve, iterations, true residual, unknowns/s
end to end, peak memory of the process: each size runs in a fresh subprocess, ``ru_maxrss``), pyamg's
``smoothed_aggregation_solver`` with defaults + CG, and scipy's CG with a Jacobi preconditioner (iterations
capped, the residual it reached). The problem builder takes nothing package-specific: swap
:func:`synthetic_package` for any function returning a :class:`~moldstack.fields.problem.DiffusionProblem`.

Run: ``.venv/bin/python benchmarks/thermal_solver.py`` (``--sizes 0.25 2`` for target millions of cells,
``--no-peers`` to skip the peers, ``--method`` to pick moldstack's method: ``auto`` is gmg with the fallback
chain, the thermal analysis uses ``rs``; ``--problem stacked``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyamg
import scipy.sparse.linalg as spla

import moldstack
from moldstack.analysis.thermal import thermal_grid, thermal_problem
from moldstack.fields import assemble, solve
from moldstack.fields.problem import DiffusionProblem, FaceCondition
from moldstack.geometry.grid import Grid, Zone, graded_lines
from moldstack.geometry.model_grid import GridSettings

BODY_UM = 12_000.0
DIE_UM = 8_000.0
POST_UM = 150.0
POST_PITCH_UM = 400.0
# z stack (um): laminate with two copper planes, attach, die, mold
Z_LAMINATE = 400.0
Z_PLANES = ((100.0, 120.0), (280.0, 300.0))
Z_ATTACH = 25.0
Z_DIE = 200.0
Z_MOLD_OVER = 600.0
K_LAMINATE, K_CU, K_ATTACH, K_SI, K_MOLD = 0.6, 400.0, 2.0, 150.0, 0.9


def _post_centres_1d() -> np.ndarray:
    """Post centres along the ring sides (pitch 400 um) for one ring offset."""
    return np.arange(1_000.0, BODY_UM - 999.0, POST_PITCH_UM)


def synthetic_package(
    fine_um: float = 12.0, coarse_um: float = 200.0, dz_max_um: float = 50.0
) -> DiffusionProblem:
    """The synthetic package problem (see the module docstring) on a grid with the given cell sizes."""
    die0 = (BODY_UM - DIE_UM) / 2
    die1 = die0 + DIE_UM
    ring = [600.0, 1_000.0, BODY_UM - 1_000.0, BODY_UM - 600.0]  # post-ring centre lines
    posts = _post_centres_1d()
    breaks = [die0, die1]
    for c in ring:
        breaks += [c - POST_UM / 2, c + POST_UM / 2]
    zones = [Zone(b - fine_um, b + fine_um, fine_um) for b in breaks]
    plan = graded_lines(breaks, 0.0, BODY_UM, coarse_um, zones, growth=1.3)
    z_top = Z_LAMINATE + Z_ATTACH + Z_DIE + Z_MOLD_OVER
    die_z0 = Z_LAMINATE + Z_ATTACH
    die_z1 = die_z0 + Z_DIE
    zbreaks = [*[v for p in Z_PLANES for v in p], Z_LAMINATE, die_z0, die_z1 - 10.0, die_z1]
    zzones = [Zone(die_z1 - 10.0, die_z1, min(5.0, dz_max_um)), Zone(Z_LAMINATE, die_z0, 5.0)]
    zl = graded_lines(zbreaks, 0.0, z_top, dz_max_um, zzones, growth=1.5)
    grid = Grid(plan, plan.copy(), zl)
    cx, cz = grid.centres(0), grid.centres(2)
    k = np.full(grid.shape, K_MOLD)
    zl_ = cz < Z_LAMINATE
    k[:, :, zl_] = K_LAMINATE
    for z0, z1 in Z_PLANES:
        k[:, :, (cz > z0) & (cz < z1)] = K_CU
    in_die = (cx > die0) & (cx < die1)
    za = (cz > Z_LAMINATE) & (cz < die_z0)
    zd = (cz > die_z0) & (cz < die_z1)
    k[np.ix_(in_die, in_die, za)] = K_ATTACH
    k[np.ix_(in_die, in_die, zd)] = K_SI
    # posts: on the two rings' four sides, through mold from the laminate to the top
    on_post_x = np.zeros(grid.shape[0], dtype=bool)
    near_ring = np.zeros(grid.shape[0], dtype=bool)
    for c in ring:
        near_ring |= np.abs(cx - c) < POST_UM / 2
    for p in posts:
        on_post_x |= np.abs(cx - p) < POST_UM / 2
    col = (near_ring[:, None] & on_post_x[None, :]) | (on_post_x[:, None] & near_ring[None, :])
    zm = cz > Z_LAMINATE
    kk = k[:, :, zm]
    kk[col] = K_CU
    k[:, :, zm] = kk
    q = np.zeros(grid.shape)
    active = (cz > die_z1 - 10.0) & (cz < die_z1)
    vol = grid.cell_volumes()
    sel = in_die[:, None, None] & in_die[None, :, None] & active[None, None, :]
    q[sel] = 2.0 * vol[sel] / vol[sel].sum()
    faces = (
        FaceCondition("zmax", "robin", 25.0, h=10.0, name="top"),
        FaceCondition("zmin", "dirichlet", 25.0, name="bottom"),
    )
    return DiffusionProblem(grid=grid, k=k, source=q, faces=faces)


def sized(target_cells: float) -> Callable[[], DiffusionProblem]:
    """A builder of the synthetic package with about ``target_cells`` cells (sizes scaled together)."""
    lo, hi = 0.05, 20.0
    for _ in range(40):
        s = (lo * hi) ** 0.5
        n = _cells(s)
        if n > target_cells:
            lo = s
        else:
            hi = s
    s = lo if abs(_cells(lo) - target_cells) < abs(_cells(hi) - target_cells) else hi
    return lambda: _scaled(s)


def _scaled(s: float) -> DiffusionProblem:
    return synthetic_package(fine_um=12.0 * s, coarse_um=200.0 * s, dz_max_um=min(50.0 * s, 50.0))


def _cells(s: float) -> int:
    die0 = (BODY_UM - DIE_UM) / 2
    ring = [600.0, 1_000.0, BODY_UM - 1_000.0, BODY_UM - 600.0]
    breaks = [die0, die0 + DIE_UM]
    for c in ring:
        breaks += [c - POST_UM / 2, c + POST_UM / 2]
    zones = [Zone(b - 12.0 * s, b + 12.0 * s, 12.0 * s) for b in breaks]
    n = len(graded_lines(breaks, 0.0, BODY_UM, 200.0 * s, zones, growth=1.3)) - 1
    return n * n * _nz(s)


def _nz(s: float) -> int:
    return _scaled_z(min(50.0 * s, 50.0))


def _scaled_z(dz: float) -> int:
    z_top = Z_LAMINATE + Z_ATTACH + Z_DIE + Z_MOLD_OVER
    die_z0 = Z_LAMINATE + Z_ATTACH
    die_z1 = die_z0 + Z_DIE
    zbreaks = [*[v for p in Z_PLANES for v in p], Z_LAMINATE, die_z0, die_z1 - 10.0, die_z1]
    zzones = [Zone(die_z1 - 10.0, die_z1, min(5.0, dz)), Zone(Z_LAMINATE, die_z0, 5.0)]
    return len(graded_lines(zbreaks, 0.0, z_top, dz, zzones, growth=1.5)) - 1


STACKED = Path(__file__).resolve().parents[1] / "examples" / "pop_on_substrate.yaml"


def _stacked_settings(s: float) -> GridSettings:
    return GridSettings(
        max_cell_um=250.0 * s,
        max_cell_z_um=50.0 * s,
        min_cell_um=10.0 * min(s, 1.0),
        min_cell_z_um=5.0 * min(s, 1.0),
        max_cells=50_000_000,
    )


def stacked(target_cells: float) -> Callable[[], DiffusionProblem]:
    """A builder of the thermal problem of the stacked example (``examples/pop_on_substrate.yaml``, still air on
    the JESD51-9 2s2p board) on a grid scaled to about ``target_cells`` cells (plan and z cell sizes together)."""
    model = moldstack.build(STACKED)
    lo, hi = 0.3, 6.0
    for _ in range(14):
        s = (lo * hi) ** 0.5
        if thermal_grid(model, grid=_stacked_settings(s)).cells > target_cells:
            lo = s
        else:
            hi = s
    return lambda: thermal_problem(model, grid=_stacked_settings(hi)).problem


PROBLEMS: dict[str, Callable[[float], Callable[[], DiffusionProblem]]] = {
    "synthetic": sized,
    "stacked": stacked,
}
"""Problem builders by name: each takes a target cell count and returns a function building the problem."""

SOLVERS = ("moldstack", "pyamg-sa", "scipy-cg-jacobi")
JACOBI_MAXITER = 1000
SA_MAXITER = 400


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(problem: DiffusionProblem, solver: str, method: str) -> dict[str, Any]:
    """Solve ``problem`` with one solver in this process; times, iterations, true residual, peak memory."""
    if solver == "moldstack":
        sol = solve(problem, method=method)  # type: ignore[arg-type]
        st = sol.stats
        return {
            "cells": problem.grid.cells,
            "unknowns": st.unknowns,
            "assembly_s": st.assembly_s,
            "setup_s": st.setup_s,
            "solve_s": st.solve_s,
            "iterations": st.iterations,
            "residual": st.residual,
            "method": f"moldstack {method} ({'; '.join(st.tried)})"
            if len(st.tried) > 1
            else f"moldstack {st.method}",
            "peak_mb": _peak_mb(),
        }
    t0 = time.perf_counter()
    a, b, _ = assemble(problem, keep_stencil=False)
    assembly_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    if solver == "pyamg-sa":
        ml = pyamg.smoothed_aggregation_solver(a)
        setup_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        res: list[float] = []
        x = ml.solve(b, tol=1e-9, accel="cg", maxiter=SA_MAXITER, residuals=res)
        iterations = len(res) - 1
        method = "pyamg SA defaults + CG"
    elif solver == "scipy-cg-jacobi":
        dinv = 1.0 / a.diagonal()
        m = spla.LinearOperator(a.shape, matvec=lambda r: dinv * r, dtype=np.float64)
        setup_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        count = [0]

        def tick(_: np.ndarray) -> None:
            count[0] += 1

        x, _info = spla.cg(a, b, rtol=1e-9, maxiter=JACOBI_MAXITER, M=m, callback=tick)
        iterations = count[0]
        method = f"scipy CG + Jacobi (max {JACOBI_MAXITER})"
    else:
        raise ValueError(f"unknown solver {solver!r}")
    solve_s = time.perf_counter() - t0
    residual = float(np.linalg.norm(b - a @ x) / np.linalg.norm(b))
    return {
        "cells": problem.grid.cells,
        "unknowns": a.shape[0],
        "assembly_s": assembly_s,
        "setup_s": setup_s,
        "solve_s": solve_s,
        "iterations": iterations,
        "residual": residual,
        "method": method,
        "peak_mb": _peak_mb(),
    }


def _child(args: argparse.Namespace) -> None:
    problem = PROBLEMS[args.problem](args.one)()
    out = run_one(problem, args.solver, args.method)
    out["solver"] = args.solver
    print(json.dumps(out))


def _row(r: dict[str, Any]) -> str:
    total = r["assembly_s"] + r["setup_s"] + r["solve_s"]
    ups = r["unknowns"] / total
    return (
        f"| {r['cells']:,} | {r['method']} | {r['assembly_s']:.2f} | {r['setup_s']:.2f} | {r['solve_s']:.2f} | "
        f"{total:.2f} | {r['iterations']} | {r['residual']:.1e} | {ups:,.0f} | {r['peak_mb']:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0], help="millions of cells"
    )
    parser.add_argument("--no-peers", action="store_true", help="moldstack only")
    parser.add_argument("--method", default="auto", help="moldstack's method (auto, gmg, rs, sa, direct)")
    parser.add_argument("--problem", default="synthetic", choices=sorted(PROBLEMS))
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--solver", default="moldstack", choices=SOLVERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        _child(args)
        return
    solvers = ("moldstack",) if args.no_peers else SOLVERS
    rows = []
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)\n")
    print(
        "| cells | solver | assembly s | setup s | solve s | total s | iterations | residual | unknowns/s | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        for solver in solvers:
            cmd = [
                sys.executable,
                __file__,
                "--one",
                str(size * 1e6),
                "--solver",
                solver,
                "--method",
                args.method,
            ]
            cmd += ["--problem", args.problem]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"| {size}M | {solver} | failed: {done.stderr.strip().splitlines()[-1:]} |")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(_row(r), flush=True)
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
