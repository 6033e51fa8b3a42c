"""Benchmark: the exports (STEP, glb, GDS) of the large package, one row per format, each against a named peer in the same run.

The package is ``benchmarks/large_package.py``'s ``large_package_spec()`` (14 x 14 mm, about 700 units, 400 wire
bonds); where that module is missing, ``examples/pop_on_substrate.yaml``. One function per format makes its row
(:data:`ROWS`); another format adds its function there.

Peers, and why:

- STEP: the same solids carved and written the way build123d's documentation does it: ``Solid.cut(*tools)`` (one
  multi-tool OpenCascade cut on OpenCascade's threads, the matrix box whole) and ``build123d.export_step`` of a
  labelled, coloured ``Compound`` tree (surface curves written). It isolates what moldstack adds: matrix boxes and
  large box tools cut as glued tiles, an XCAF document written without pcurves.
- GDS: the same cells, placements, polygons (same vertex counts) and properties written through KLayout's own
  Python API (``klayout.db``) instead of gdstk.
- glb: the same meshes carved with ``trimesh.boolean.difference`` (trimesh's manifold3d front end: float32
  vertices, volume checks, a pairwise cascade of unions) and one mesh per node in a ``trimesh.Scene``; moldstack
  uses manifold3d directly (float64, one batch boolean, one mesh per distinct shape placed by translation).

Run: ``.venv/bin/python benchmarks/exports.py`` (``--no-peers`` to time moldstack alone).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import build123d as bd
import klayout.db as kdb
import numpy as np
import trimesh
import yaml

import moldstack
from moldstack.exporters.gds import _cell_plans, export_gds, layer_map
from moldstack.exporters.mesh import M_PER_UM, export_glb, pbr_material, shape_mesh
from moldstack.exporters.step import ShapeFactory, carve_tools, export_step
from moldstack.exporters.tree import solid_tree
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Trace, Tube

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    """One format: moldstack's time and the peer's on the same model, in the same run."""

    format: str
    solids: int
    seconds: float
    peer: str
    peer_seconds: float | None


def large_model() -> tuple[Model, str]:
    """The benchmark package and where it came from."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from large_package import large_package_spec  # noqa: PLC0415 - the lead's module, when it exists
    except ImportError:
        return moldstack.build(ROOT / "examples" / "pop_on_substrate.yaml"), "examples/pop_on_substrate.yaml"
    spec = large_package_spec()
    return moldstack.build(moldstack.loads(yaml.safe_dump(spec))), f"large_package_spec() '{spec['name']}'"


def timed(work: Callable[[], object]) -> float:
    """Wall-clock seconds of one call, freeing what it made included."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def step_peer(model: Model, path: Path) -> None:
    """build123d as documented: Solid.cut with every tool, export_step of a labelled Compound tree."""
    factory = ShapeFactory()
    solids: dict[str, bd.Shape] = {}
    for s in model.solids:
        if s.matrix:
            tools = [bd.Solid(factory.solid(t)) for t in carve_tools(model, s)]
            solids[s.id] = bd.Solid(factory.solid(s.shape)).cut(*tools)
        else:
            solids[s.id] = bd.Solid(factory.solid(s.shape))
        solids[s.id].label = s.id
        solids[s.id].color = bd.Color(model.materials[s.material].colour)
    groups = [
        bd.Compound(
            label=group,
            children=[
                bd.Compound(label=part, children=[solids[s.id] for s in members]) for part, members in parts
            ],
        )
        for group, parts in solid_tree(model)
    ]
    bd.export_step(bd.Compound(label=model.name, children=groups), path)


def step_row(model: Model, folder: Path, peers: bool) -> Row:
    seconds = timed(lambda: export_step(model, folder / "model.step"))
    peer = timed(lambda: step_peer(model, folder / "peer.step")) if peers else None
    return Row("STEP", len(model.solids), seconds, "build123d Solid.cut + export_step", peer)


def matrix_tools(model: Model, matrix: Solid) -> list[Solid]:
    """The solids that carve ``matrix``: inclusions and higher-rank matrices whose boxes overlap its box."""
    box = np.array(matrix.shape.bbox)
    return [
        s
        for s in model.solids
        if s.id != matrix.id
        and (not s.matrix or s.rank > matrix.rank)
        and np.all(np.array(s.shape.bbox[:3]) < box[3:])
        and np.all(np.array(s.shape.bbox[3:]) > box[:3])
    ]


def glb_peer(model: Model, path: Path) -> None:
    """trimesh as documented: boolean.difference per matrix, one mesh node per solid."""
    meshes = {s.id: shape_mesh(s.shape) for s in model.solids}
    as_trimesh = {k: trimesh.Trimesh(m.vertices, m.faces, process=False) for k, m in meshes.items()}
    for s in model.solids:
        if s.matrix:
            tools = [as_trimesh[t.id] for t in matrix_tools(model, s)]
            as_trimesh[s.id] = trimesh.boolean.difference([as_trimesh[s.id], *tools])
    scene = trimesh.Scene()
    for s in model.solids:
        mesh = as_trimesh[s.id]
        mesh.apply_scale(M_PER_UM)
        mesh.visual = trimesh.visual.TextureVisuals(
            material=pbr_material(s.material, model.materials[s.material])
        )
        scene.add_geometry(mesh, node_name=s.id, geom_name=s.id)
    path.write_bytes(trimesh.exchange.gltf.export_glb(scene))


def glb_row(model: Model, folder: Path, peers: bool) -> Row:
    seconds = timed(lambda: export_glb(model, folder / "model.glb"))
    peer = timed(lambda: glb_peer(model, folder / "peer.glb")) if peers else None
    return Row("glb", len(model.solids), seconds, "trimesh.boolean.difference + Scene", peer)


def gds_peer(model: Model, path: Path, tolerance_um: float = 0.01) -> None:
    """The same cells, placements, polygons and properties written through KLayout's own Python API."""
    layers = layer_map(model)
    layout = kdb.Layout()
    layout.dbu = 0.001
    top = layout.create_cell(model.name)
    index = {e.key: layout.layer(e.layer, e.datatype) for e in layers.entries}
    for plan in _cell_plans(model):
        cell = layout.create_cell(plan.name)
        ox, oy = plan.origin
        for solid in plan.solids:
            shapes = cell.shapes(index[layers.of(solid).key])
            shape = solid.shape
            if isinstance(shape, Box):
                geo = kdb.DPolygon(kdb.DBox(shape.x0 - ox, shape.y0 - oy, shape.x1 - ox, shape.y1 - oy))
            elif isinstance(shape, Tube):
                n = math.ceil(math.pi / math.acos(max(-1.0, 1 - tolerance_um / shape.r)))
                cx, cy = shape.cx - ox, shape.cy - oy
                geo = kdb.DPolygon.ellipse(
                    kdb.DBox(cx - shape.r, cy - shape.r, cx + shape.r, cy + shape.r), n
                )
                if shape.r_inner > 0:
                    ri = shape.r_inner
                    hole = kdb.DPolygon.ellipse(kdb.DBox(cx - ri, cy - ri, cx + ri, cy + ri), n)
                    geo.insert_hole(list(hole.each_point_hull()))
            elif isinstance(shape, Trace):
                ends = [kdb.DPoint(shape.xa - ox, shape.ya - oy), kdb.DPoint(shape.xb - ox, shape.yb - oy)]
                geo = kdb.DPath(ends, shape.width).polygon()
            else:
                xy = shape.points[:, :2]
                ends = [kdb.DPoint(xy[0, 0] - ox, xy[0, 1] - oy), kdb.DPoint(xy[-1, 0] - ox, xy[-1, 1] - oy)]
                geo = kdb.DPath(ends, shape.diameter).polygon()
            props = {1: solid.id} if solid.net is None else {1: solid.id, 2: solid.net}
            shapes.insert(geo, layout.properties_id(props))
        top.insert(kdb.DCellInstArray(cell.cell_index(), kdb.DTrans(kdb.DVector(ox, oy))))
    layout.write(str(path))


def gds_row(model: Model, folder: Path, peers: bool) -> Row:
    seconds = timed(lambda: export_gds(model, folder / "layers.gds"))
    peer = timed(lambda: gds_peer(model, folder / "peer.gds")) if peers else None
    return Row("GDS", len(model.solids), seconds, "KLayout klayout.db, same polygons", peer)


ROWS: tuple[Callable[[Model, Path, bool], Row], ...] = (step_row, glb_row, gds_row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-peers", action="store_true", help="time moldstack's exporters only")
    args = parser.parse_args()
    model, source = large_model()
    print(
        f"model: {source}, {len(model.solids)} solids, {sum(s.shape.kind == 'wire' for s in model.solids)} wires"
    )
    header = f"{'format':8} {'solids':>7} {'moldstack s':>12}  {'peer':36} {'peer s':>7} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as folder:
        for make_row in ROWS:
            row = make_row(model, Path(folder), not args.no_peers)
            peer = (
                f"{row.peer_seconds:7.2f} {row.peer_seconds / row.seconds:8.1f}x"
                if row.peer_seconds
                else "      -         -"
            )
            print(f"{row.format:8} {row.solids:7d} {row.seconds:12.2f}  {row.peer:36} {peer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
