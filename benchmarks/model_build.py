"""Benchmark: spec -> validated Design -> Model on the bundled examples and a generated 14 mm package.

Prints one table: solids, time to parse and validate (including the 3D interference check), time to build, and
the interference broad phase (moldstack's: shapely's STRtree, a packed R-tree, on the plan boxes, then a z filter)
against the peer, an all-pairs numpy broadcast sweep, which must find the same candidate pairs.

Run: .venv/bin/python benchmarks/model_build.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import moldstack
from moldstack.geometry.builder import build_model
from moldstack.geometry.interference import candidate_pairs

ROOT = Path(__file__).resolve().parents[1]


def large_package(rows: int = 4) -> dict[str, Any]:
    """14 x 14 mm, 9 mm die with 152 contacts fanned out by RDL to the inner of ``rows`` rings of posts."""
    return {
        "moldstack": 1,
        "name": "large-14mm",
        "assemblies": [
            {
                "name": "pkg",
                "body": {"size_um": [14000, 14000], "thickness_um": 500},
                "dies": [
                    {
                        "size_um": [9000, 9000],
                        "thickness_um": 150,
                        "standoff_um": 100,
                        "contacts": {
                            "count_per_edge": 38,
                            "pitch_um": 200,
                            "inset_um": 100,
                            "size_um": [60, 60],
                        },
                    }
                ],
                "units": [
                    {
                        "layout": "rows",
                        "pitch_um": 250,
                        "offset_um": 450,
                        "unit": {"shape": "post", "diameter_um": 150},
                    },
                    {
                        "layout": "rows",
                        "rows": rows - 1,
                        "pitch_um": 250,
                        "offset_um": 700,
                        "unit": {"shape": "post", "diameter_um": 150},
                    },
                ],
                "interconnects": [{"kind": "rdl", "width_um": 30, "thickness_um": 10, "unit_patterns": [0]}],
            }
        ],
    }


def best_of(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def sweep_pairs(solids: list[moldstack.Solid], margin: float) -> set[tuple[int, int]]:
    """The peer: every pair of boxes compared at once with numpy broadcasting, in row chunks."""
    b = np.array([s.shape.bbox for s in solids])
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(b), 512):
        rows = b[start : start + 512]
        hit = np.ones((len(rows), len(b)), dtype=bool)
        for axis in range(3):
            lo = np.maximum(rows[:, None, axis], b[None, :, axis])
            hi = np.minimum(rows[:, None, axis + 3], b[None, :, axis + 3])
            hit &= hi - lo > margin
        i, j = np.nonzero(hit)
        i = i + start
        keep = i < j
        pairs.update(zip(i[keep].tolist(), j[keep].tolist(), strict=True))
    return pairs


def main() -> int:
    cases: list[tuple[str, str]] = [
        (p.name, p.read_text()) for p in sorted((ROOT / "examples").glob("*.yaml"))
    ]
    cases.append(("generated 14 mm, 152 RDL, 4 post rings", yaml.safe_dump(large_package())))
    header = f"{'design':40} {'solids':>7} {'load+validate s':>16} {'build s':>8} {'R-tree ms':>10} {'all-pairs ms':>13}"
    print(header)
    print("-" * len(header))
    for name, text in cases:
        design = moldstack.loads(text)
        t_load = best_of(lambda text=text: moldstack.loads(text))
        t_build = best_of(lambda design=design: build_model(design))
        model = build_model(design)
        inclusions = [s for s in model.solids if not s.matrix]
        t_tree = best_of(lambda inc=inclusions: candidate_pairs(inc, 0.1))
        t_sweep = best_of(lambda inc=inclusions: sweep_pairs(inc, 0.1))
        if set(candidate_pairs(inclusions, 0.1)) != sweep_pairs(inclusions, 0.1):
            print(f"{name}: broad phases disagree", file=sys.stderr)
            return 1
        print(
            f"{name:40} {len(model.solids):7d} {t_load:16.3f} {t_build:8.3f} {t_tree * 1e3:10.1f} {t_sweep * 1e3:13.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
