"""Benchmark: sign-off (DRC, LVS, warpage, stack compatibility) on the bundled examples and a 14 mm package.

Prints three tables:

1. seconds per check for every example and the generated large package (``large_package.py``: ~700 units,
   400 wire bonds), with the number of DRC violations, the LVS status and the stack verdict;
2. LVS extraction (moldstack's: R-tree broad phase, exact gaps, vectorised wire tests) against the peer, every
   pair of conductive solids tested with the same exact predicate and the components taken by scipy: same
   pieces, and the time of each;
3. laminate theory against Timoshenko's bimetal closed form (the peer) over a sweep of thickness and modulus
   ratios: largest relative difference and time per curvature.

Run: .venv/bin/python benchmarks/verification.py
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import moldstack
from moldstack.analysis.laminate import Ply, laminate_response
from moldstack.analysis.warpage import warpage
from moldstack.checks.drc import drc
from moldstack.checks.lvs import lvs
from moldstack.checks.stack import stack_compatibility
from moldstack.fields.closed_forms import bimetal_curvature
from moldstack.geometry.adjacency import connectivity, shapes_touch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from large_package import large_package_spec  # noqa: E402


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def checks_table() -> None:
    print("## Checks per design (seconds; 2-core machine)")
    print()
    print("| design | solids | build | DRC | LVS | warpage | stack | DRC violations | LVS | stack |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    designs = [(p.stem, moldstack.load(p)) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    designs.append(("large 14 mm (400 wires)", moldstack.loads(yaml.safe_dump(large_package_spec()))))
    for name, design in designs:
        model, t_build = _timed(moldstack.build, design)
        rules, t_drc = _timed(drc, model)
        nets, t_lvs = _timed(lvs, model)
        warp, t_warp = _timed(warpage, model)
        stack, t_stack = _timed(stack_compatibility, model, warp)
        print(
            f"| {name} | {len(model.solids)} | {t_build:.2f} | {t_drc:.2f} | {t_lvs:.2f} | {t_warp:.2f} | "
            f"{t_stack:.2f} | {len(rules.violations)} | {nets.status} | {stack.verdict} |"
        )
    print()


def _brute_pieces(model: moldstack.Model) -> tuple[set[frozenset[str]], float]:
    start = time.perf_counter()
    solids = [s for s in model.solids if not s.matrix and model.materials[s.material].conductor]
    rows, cols = [], []
    for i, j in itertools.combinations(range(len(solids)), 2):
        if shapes_touch(solids[i].shape, solids[j].shape):
            rows.append(i)
            cols.append(j)
    n = len(solids)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    pieces: dict[int, set[str]] = {}
    for s, label in zip(solids, labels, strict=True):
        pieces.setdefault(int(label), set()).add(s.id)
    return {frozenset(p) for p in pieces.values()}, time.perf_counter() - start


def extraction_table() -> None:
    print("## LVS extraction against all pairs (same exact predicate; scipy components)")
    print()
    print("| design | conductive solids | pairs tested by the peer | moldstack s | peer s | same pieces |")
    print("|---|---:|---:|---:|---:|---|")
    for name in ("claim21_plated_via", "pop_on_substrate"):
        model = moldstack.build(ROOT / "examples" / f"{name}.yaml")
        conn, t_ours = _timed(connectivity, model)
        ours = {frozenset(c) for c in conn.components}
        theirs, t_peer = _brute_pieces(model)
        n = sum(1 for s in model.solids if not s.matrix and model.materials[s.material].conductor)
        print(f"| {name} | {n} | {n * (n - 1) // 2:,} | {t_ours:.2f} | {t_peer:.1f} | {ours == theirs} |")
    print()


def laminate_table() -> None:
    print("## Laminate theory against Timoshenko's bimetal (two layers, dT = -150 K)")
    print()
    worst, t_clt, t_peer, count = 0.0, 0.0, 0.0, 0
    for m, n in itertools.product(np.geomspace(0.05, 20, 15), np.geomspace(0.02, 50, 15)):
        t1, t2 = 100e-6 * m, 100e-6
        q1, q2 = 20e9 * n, 20e9
        a1, a2 = 3e-6, 17e-6
        start = time.perf_counter()
        kappa = laminate_response([Ply(t1, q1, a1 * -150), Ply(t2, q2, a2 * -150)]).kappa_1_m
        t_clt += time.perf_counter() - start
        start = time.perf_counter()
        exact = bimetal_curvature(t1, t2, q1, q2, a1, a2, -150.0)
        t_peer += time.perf_counter() - start
        worst = max(worst, abs(kappa / exact - 1))
        count += 1
    print("| cases | largest relative difference | CLT us per curvature | closed form us |")
    print("|---:|---:|---:|---:|")
    print(f"| {count} | {worst:.1e} | {1e6 * t_clt / count:.1f} | {1e6 * t_peer / count:.2f} |")
    print()


if __name__ == "__main__":
    checks_table()
    extraction_table()
    laminate_table()
