"""Benchmark: virtual fabrication (claims 21-23) at increasing resolution, and the voxelisation it is checked with
against a named peer in the same run.

Table 1, per example the method makes and per grid: cells, the process run (all steps), voxelising the direct
build on the run's grid, the cell-by-cell comparison, the agreement, and cells per second end to end.

Table 2, the peer: the cells around a few plated vias (pad, via, flange, remnant, hollow, wire stitch, mold,
base) labelled two ways: moldstack's analytic cell-centre test (:func:`moldstack.geometry.voxelize.voxelize`)
and trimesh's point-in-mesh test (``Trimesh.contains``, ray casting) on each solid's triangle mesh, painted in
the same order. Same rule (a cell belongs to the solid holding its centre), two implementations: the table
gives both times and the fraction of cells they label alike (meshes are inscribed polygons, so a few cells at
curved surfaces may differ).

Run: ``.venv/bin/python benchmarks/process.py`` (``--quick`` for the coarse grids only, ``--no-peer``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import trimesh

import moldstack
from moldstack.exporters.mesh import shape_mesh
from moldstack.fab.agreement import assembly_model, compare
from moldstack.fab.generate import flow_for
from moldstack.fab.runner import run
from moldstack.fab.steps import GridSettings
from moldstack.geometry.grid import Grid
from moldstack.geometry.model import Model
from moldstack.geometry.voxelize import LabelTable, Voxels, paint_order, voxelize

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("claim21_plated_via.yaml", "claim23_filled_vias.yaml")
GRIDS = {
    "screening": GridSettings(fine_um=25.0, coarse_um=200.0, z_cell_um=50.0),
    "default": GridSettings(),
    "fine": GridSettings(fine_um=8.0, coarse_um=100.0, z_cell_um=15.0, max_cells=80_000_000),
}


def process_rows(grids: list[str]) -> list[tuple[str, ...]]:
    rows = []
    for name in EXAMPLES:
        design = moldstack.load(ROOT / "examples" / name)
        for label in grids:
            flow = flow_for(design, grid=GRIDS[label])
            t0 = time.perf_counter()
            result = run(flow)
            t1 = time.perf_counter()
            model = assembly_model(design, flow.assembly)
            voxels = voxelize(model, result.final.grid)
            t2 = time.perf_counter()
            found = compare(result.final, voxels)
            t3 = time.perf_counter()
            cells = result.final.grid.cells
            rows.append(
                (
                    name.removesuffix(".yaml"),
                    label,
                    f"{cells:,}",
                    f"{t1 - t0:.2f}",
                    f"{t2 - t1:.2f}",
                    f"{t3 - t2:.2f}",
                    f"{100 * found.fraction:.4f} %",
                    str(found.interior_differences),
                    f"{cells / (t3 - t0) / 1e6:.2f}",
                )
            )
    return rows


def _region(model: Model, count: int) -> tuple[float, float, float, float, float, float]:
    units = model.assemblies[0].units[:count]
    xs = [u.x for u in units]
    ys = [u.y for u in units]
    lo, hi = model.bbox[2], model.bbox[5]
    return (min(xs) - 250, min(ys) - 250, lo, max(xs) + 250, max(ys) + 250, hi)


def _trimesh_labels(model: Model, grid: Grid) -> tuple[np.ndarray, LabelTable]:
    """The peer: each solid's triangle mesh, point-in-mesh at the cell centres of its block, same paint order."""
    table = LabelTable()
    labels = np.zeros(grid.shape, dtype=np.uint16)
    for solid in paint_order(model.solids):
        block = grid.block(solid.shape.bbox)
        cx, cy, cz = grid.block_centres(block)
        pts = np.stack(np.broadcast_arrays(cx, cy, cz), axis=-1).reshape(-1, 3)
        if pts.size == 0:
            continue
        tm = shape_mesh(solid.shape)
        mesh = trimesh.Trimesh(tm.vertices, tm.faces, process=False)
        inside = mesh.contains(pts).reshape(tuple(s.stop - s.start for s in block))
        view = labels[block]
        view[inside] = table.id(solid.role, solid.material)
    return labels, table


def peer_rows(vias: int, h: float) -> list[tuple[str, ...]]:
    design = moldstack.load(ROOT / "examples" / EXAMPLES[0])
    full = assembly_model(design, None)
    region = _region(full, vias)
    solids = [s for s in full.solids if _overlaps(s.shape.bbox, region)]
    model = Model(full.name, tuple(solids), full.assemblies, materials=full.materials)
    x = np.arange(region[0], region[3] + h / 2, h)
    y = np.arange(region[1], region[4] + h / 2, h)
    z = np.unique(np.concatenate([np.arange(region[2], region[5], h / 2), [region[5]]]))
    grid = Grid(x, y, z)
    t0 = time.perf_counter()
    ours = voxelize(model, grid)
    t1 = time.perf_counter()
    labels, table = _trimesh_labels(model, grid)
    t2 = time.perf_counter()
    theirs = Voxels(grid, labels, table)
    found = compare(ours, theirs)
    return [
        (
            f"{len(solids)} solids around {vias} vias",
            f"{grid.cells:,}",
            f"{1e3 * (t1 - t0):.1f}",
            f"{1e3 * (t2 - t1):.0f}",
            f"{(t2 - t1) / max(t1 - t0, 1e-9):.0f}x",
            f"{100 * found.fraction:.3f} %",
        )
    ]


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(a[i] <= b[i + 3] and b[i] <= a[i + 3] for i in range(3))


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the screening grid only")
    parser.add_argument("--no-peer", action="store_true", help="skip the trimesh peer")
    args = parser.parse_args()
    grids = ["screening"] if args.quick else list(GRIDS)
    print(
        _table(
            (
                "example",
                "grid",
                "cells",
                "process s",
                "voxelise model s",
                "compare s",
                "agreement",
                "interior diffs",
                "Mcells/s end to end",
            ),
            process_rows(grids),
        )
    )
    if not args.no_peer:
        print()
        print(
            _table(
                ("region", "cells", "moldstack ms", "trimesh contains ms", "speed-up", "same label"),
                peer_rows(3, 15.0),
            )
        )


if __name__ == "__main__":
    main()
