"""Benchmark: the capacitance matrix of an example's nets, and the grid convergence of its entries.

For 10 and 50 nets of an example (the first nets in model order: neighbours along the package's edges) on the
``default`` capacitance grid: cells, unknowns, the set-up time (grid, cells, surface couplings, assembly and
multigrid hierarchy, once), the solves (one per net: iterations, time per net), the total and the asymmetry of
the Maxwell matrix before symmetrising. Then the first net's column on the ``screen`` (the build's), ``coarse``,
``default`` and ``fine`` grids (:data:`~moldstack.analysis.capacitance.CAPACITANCE_PRESETS`): its C_ii, its coupling to the next net and
to the one after, with the change from the previous grid and a Richardson estimate of the limit from the last
three (the order fitted from the two changes).

Run: ``.venv/bin/python benchmarks/capacitance.py`` (``--example``, ``--nets 10 50``, ``--grid``,
``--no-convergence``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import time
from pathlib import Path

import numpy as np

import moldstack
from moldstack.analysis.capacitance import (
    CAPACITANCE_PRESETS,
    CapacitanceResult,
    capacitance,
    capacitance_problem,
    conductors,
)
from moldstack.fields.assembly import absorbed
from moldstack.fields.solve import prepare

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PF = 1e-12


def _matrix_row(name: str, grid: str, result: CapacitanceResult) -> str:
    its = result.iterations
    solve = sum(result.solve_s)
    n = len(result.conductors)
    return (
        f"| {name} | {grid} | {n} | {result.cells:,} | {result.unknowns:,} | {result.setup_s:.1f} | "
        f"{solve:.1f} | {solve / n:.2f} | {min(its)}-{max(its)} ({np.mean(its):.1f}) | {result.total_s:.1f} | "
        f"{result.asymmetry:.1e} | {', '.join(sorted(set(result.methods)))} |"
    )


def _column(model: moldstack.Model, grid: str) -> dict[str, float]:
    """The first conductor's column of the Maxwell matrix on one grid (one solve)."""
    settings = CAPACITANCE_PRESETS[grid]
    t0 = time.perf_counter()
    setup = capacitance_problem(model, [conductors(model)[0].name], settings=settings)
    prepared = prepare(setup.problem, tol=settings.tol, method=settings.method)
    labels = setup.cells.conductor
    held = labels.reshape(-1)[prepared.parts.fixed]
    variant = dataclasses.replace(setup.problem, fixed_value=(held == 0).astype(np.float64))
    sol = prepared.solve(variant)
    q = -absorbed(variant, prepared.parts, sol.u, labels) / PF
    return {
        "cells": setup.grid.cells,
        "c00": q[0],
        "c01": q[1],
        "c02": q[2],
        "iterations": sol.stats.iterations,
        "s": time.perf_counter() - t0,
    }


def _richardson(values: list[float]) -> tuple[float, float]:
    """The limit and order fitted to the last three values of a sequence refined by a constant ratio."""
    a, b, c = values[-3:]
    d1, d2 = b - a, c - b
    if d1 == 0 or d2 == 0 or d2 / d1 <= 0:
        return c, float("nan")
    ratio = d2 / d1
    return c + d2 * ratio / (1 - ratio), -math.log2(ratio)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="claim1_posts")
    parser.add_argument("--nets", nargs="*", type=int, default=[10, 50])
    parser.add_argument("--grid", default="default", choices=sorted(CAPACITANCE_PRESETS))
    parser.add_argument("--no-convergence", action="store_true")
    args = parser.parse_args()
    model = moldstack.build(EXAMPLES / f"{args.example}.yaml")
    names = [c.name for c in conductors(model)]
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)\n")
    print(f"## Capacitance matrix, {args.example}, {args.grid} grid\n")
    print(
        "| example | grid | nets | cells | unknowns | set-up s | solves s | s per net | iterations per solve "
        "(mean) | total s | asymmetry | method |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
    for n in args.nets:
        result = capacitance(model, names[:n], settings=CAPACITANCE_PRESETS[args.grid])
        print(_matrix_row(args.example, args.grid, result), flush=True)
    if not args.no_convergence:
        print(f"\n## Grid convergence, {args.example}, the column of {names[0]}\n")
        print("| grid | cells | C11 pF | change | C12 pF | change | C13 pF | change | iterations | s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        rows: list[dict[str, float]] = []
        for grid in ("screen", "coarse", "default", "fine"):
            r = _column(model, grid)
            changes = [
                f"{100 * (r[k] / rows[-1][k] - 1):+.2f} %" if rows else "" for k in ("c00", "c01", "c02")
            ]
            rows.append(r)
            print(
                f"| {grid} | {int(r['cells']):,} | {r['c00']:.5f} | {changes[0]} | {r['c01']:.5f} | {changes[1]} | "
                f"{r['c02']:.5f} | {changes[2]} | {int(r['iterations'])} | {r['s']:.1f} |",
                flush=True,
            )
        for key, label in (("c00", "C11"), ("c01", "C12"), ("c02", "C13")):
            limit, order = _richardson([r[key] for r in rows])
            errors = ", ".join(f"{100 * (r[key] / limit - 1):+.1f} %" for r in rows)
            print(
                f"\n{label}: Richardson limit {limit:.5f} pF (order {order:.2f}, from coarse, default, fine); "
                f"screen, coarse, default, fine: {errors}"
            )
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
