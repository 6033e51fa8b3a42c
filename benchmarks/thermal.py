"""Benchmark: the thermal analysis end to end on the bundled examples, and its grid convergence.

For each example in still air on the JESD51-9 2s2p board (``jesd51-9``): grid cells, unknowns, the time to build
the grid and problem, the solver's setup and solve times and iterations, theta-JA and Tj max, and the energy
balance. Then the claim-8 example on three grids (``coarse``: 600 um plan / 100 um z cells, growth 1.5;
``default``: 250 / 50, 1.35; ``fine``: 150 / 30, 1.25), theta-JA and theta-JB on each, with the change from
the previous grid: the discretisation error of the default grid is about the last change.

Run: ``.venv/bin/python benchmarks/thermal.py`` (``--examples`` to choose, ``--no-convergence`` to skip the
grid study).
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import moldstack
from moldstack.analysis.environment import Environment
from moldstack.analysis.thermal import thermal
from moldstack.geometry.model_grid import GRID_PRESETS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GRIDS = GRID_PRESETS


def _row(name: str, grid: str, kind: str, model: moldstack.Model) -> dict[str, float | str | int]:
    t0 = time.perf_counter()
    r = thermal(model, Environment(kind), grid=GRIDS[grid])
    total = time.perf_counter() - t0
    st = r.solution.stats
    return {
        "example": name,
        "grid": grid,
        "env": kind,
        "cells": r.grid.cells,
        "unknowns": st.unknowns,
        "prepare_s": total - st.total_s,
        "setup_s": st.assembly_s + st.setup_s,
        "solve_s": st.solve_s,
        "iterations": st.iterations,
        "total_s": total,
        "theta": r.resistance_k_per_w,
        "tj": r.tj_max_c,
        "balance": r.solution.energy_balance_error,
    }


def _print(rows: list[dict[str, float | str | int]]) -> None:
    print(
        "| example | grid | env | cells | unknowns | grid+problem s | assembly+setup s | solve s | iterations "
        "| total s | theta K/W | Tj max C | energy balance |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['example']} | {r['grid']} | {r['env']} | {r['cells']:,} | {r['unknowns']:,} | "
            f"{r['prepare_s']:.1f} | {r['setup_s']:.1f} | {r['solve_s']:.1f} | {r['iterations']} | "
            f"{r['total_s']:.1f} | {r['theta']:.2f} | {r['tj']:.1f} | {r['balance']:.1e} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", nargs="*", default=sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
    parser.add_argument("--no-convergence", action="store_true")
    args = parser.parse_args()
    print("## Examples, jesd51-9, default grid\n")
    rows = []
    for name in args.examples:
        model = moldstack.build(EXAMPLES / f"{name}.yaml")
        rows.append(_row(name, "default", "jesd51-9", model))
    _print(rows)
    if args.no_convergence:
        return
    print("\n## Grid convergence, claim8_exposed_back\n")
    model = moldstack.build(EXAMPLES / "claim8_exposed_back.yaml")
    study = [
        _row("claim8_exposed_back", g, kind, model) for kind in ("jesd51-9", "ring-cold-plate") for g in GRIDS
    ]
    _print(study)
    for kind in ("jesd51-9", "ring-cold-plate"):
        thetas = [float(r["theta"]) for r in study if r["env"] == kind]
        changes = ", ".join(f"{100 * (b - a) / a:+.2f} %" for a, b in itertools.pairwise(thetas))
        print(f"\n{kind}: theta {', '.join(f'{t:.3f}' for t in thetas)} K/W; change per refinement {changes}")


if __name__ == "__main__":
    main()
