"""glTF and STL export: polygons within the chord tolerance, exact volumes, and round trips through trimesh."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trimesh
import yaml

import moldstack
from moldstack.exporters.mesh import (
    CHORD_UM,
    M_PER_UM,
    MM_PER_UM,
    area_polygon,
    export_glb,
    export_stl,
    model_meshes,
    segments,
    shape_mesh,
)
from moldstack.exporters.tree import mitre_path, solid_tree
from moldstack.geometry.model import Model
from moldstack.geometry.primitives import Box, Cylinder, Trace, Tube, Wire
from tests.conftest import example_data

# Volumes of the meshes equal the model's up to float rounding and the overlap of a wire's neck with its ball
# (a fraction of a micrometre deep, counted twice by the model): a few parts in 1e8 of the mold.
VOLUME_RTOL = 1e-6


def small_example(name: str, per_edge: int = 3) -> dict[str, Any]:
    """A bundled example with ``per_edge`` contacts and units per edge (and its nets dropped), for fast tests."""
    data = example_data(name)

    def shrink(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("nets", None)
            for key, value in node.items():
                if key == "count_per_edge":
                    node[key] = per_edge
                else:
                    shrink(value)
        elif isinstance(node, list):
            for value in node:
                shrink(value)

    shrink(data)
    return data


def build_small(name: str, per_edge: int = 3) -> Model:
    return moldstack.build(moldstack.loads(yaml.safe_dump(small_example(name, per_edge))))


def large_package_model() -> Model:
    """The benchmarks' large package (14 x 14 mm, about 700 units, 400 wire bonds); skip where it is missing."""
    module = Path(__file__).resolve().parents[1] / "benchmarks" / "large_package.py"
    if not module.exists():
        pytest.skip("benchmarks/large_package.py is not there")
    spec = importlib.util.spec_from_file_location("large_package", module)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return moldstack.build(moldstack.loads(yaml.safe_dump(loaded.large_package_spec())))


@pytest.fixture(scope="module")
def pop() -> Model:
    """Two wire-bonded packages on a substrate whose copper planes split the laminate: 12 units a package."""
    return build_small("pop_on_substrate.yaml")


@pytest.fixture(scope="module")
def plated() -> Model:
    """Hollow plated vias with air cores, flanges and remnants, a dielectric base frame (a rank-1 matrix)."""
    return build_small("claim21_plated_via.yaml")


def by_material(model: Model, volumes: dict[str, float]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for s in model.solids:
        totals[s.material] = totals.get(s.material, 0.0) + volumes[s.id]
    return totals


def assert_volumes_match(model: Model, volumes: dict[str, float], rtol: float = VOLUME_RTOL) -> None:
    expected = model.volumes_by("material")
    got = by_material(model, volumes)
    assert set(got) == set(expected)
    for material, volume in expected.items():
        assert got[material] == pytest.approx(volume, rel=rtol), material


@pytest.mark.parametrize("radius", [9.0, 12.5, 75.0, 150.0, 1000.0])
def test_polygon_keeps_the_circle_area_and_the_chord_tolerance(radius: float) -> None:
    n = segments(radius)
    poly = area_polygon(radius, n)
    x, y = poly[:, 0], poly[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))
    assert area == pytest.approx(math.pi * radius**2, rel=1e-12)
    vertex_error = np.hypot(x, y) - radius
    midpoints = 0.5 * (poly + np.roll(poly, -1, axis=0))
    edge_error = radius - np.hypot(midpoints[:, 0], midpoints[:, 1])
    assert vertex_error.max() <= CHORD_UM
    assert edge_error.max() <= CHORD_UM
    if n > 8:  # the fewest sides: one fewer would break the tolerance for an inscribed polygon
        assert radius * (1 - math.cos(math.pi / (n - 1))) > CHORD_UM


WIRE = Wire(
    path=(
        (0.0, 0.0, 300.0),
        (2.0, 1.0, 380.0),
        (60.0, 20.0, 450.0),
        (400.0, 150.0, 420.0),
        (900.0, 300.0, 60.0),
    ),
    diameter=25.0,
)
SHAPES = [
    Box(z0=0.0, z1=50.0, x0=-150.0, y0=-150.0, x1=150.0, y1=150.0),
    Cylinder(10.0, -20.0, 75.0, 0.0, 600.0),
    Tube(z0=-22.0, z1=522.0, cx=0.0, cy=0.0, r=75.0, r_inner=50.0),
    Trace(z0=300.0, z1=310.0, xa=-100.0, ya=40.0, xb=800.0, yb=-400.0, width=40.0),
    WIRE,
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.kind)
def test_each_primitive_mesh_is_closed_exact_in_volume_and_within_tolerance(shape: Any) -> None:
    mesh = shape_mesh(shape)
    tri = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    assert tri.is_watertight
    assert tri.is_winding_consistent
    assert mesh.volume == pytest.approx(shape.volume, rel=1e-9)
    # every vertex lies on the surface to within the chord tolerance; a wire's mitre corner stands out from the
    # round-jointed tube the signed distance measures by r (1 / cos(theta / 2) - 1) at a bend of theta
    bound = CHORD_UM
    if isinstance(shape, Wire):
        u = np.diff(shape.points, axis=0)
        u /= np.linalg.norm(u, axis=1)[:, None]
        theta = np.arccos(np.clip(np.einsum("ij,ij->i", u[:-1], u[1:]), -1, 1)).max()
        bound += shape.radius * (1 / math.cos(theta / 2) - 1)
    assert np.abs(shape.signed_distance(mesh.vertices)).max() <= bound


def test_mitre_path_drops_a_joint_that_would_fold_the_sweep() -> None:
    folded = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0], [100.8, 0.0, 0.06], [200.0, 0.0, 14.0]])
    kept = mitre_path(folded, 12.5)
    assert len(kept) == 3
    assert np.abs(shape_mesh(Wire(path=tuple(map(tuple, folded)), diameter=25.0)).volume) > 0
    straight = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0], [200.0, 10.0, 0.0]])
    assert len(mitre_path(straight, 12.5)) == 3


@pytest.mark.parametrize("name", ["pop", "plated"])
def test_carved_meshes_give_the_model_volume_per_material(name: str, request: pytest.FixtureRequest) -> None:
    model: Model = request.getfixturevalue(name)
    meshes = model_meshes(model)
    for s in model.solids:
        if s.matrix:
            tri = trimesh.Trimesh(meshes[s.id].vertices, meshes[s.id].faces, process=False)
            assert tri.is_watertight, s.id
    assert_volumes_match(model, {k: m.volume for k, m in meshes.items()})


def test_glb_round_trip(pop: Model, tmp_path: Path) -> None:
    result = export_glb(pop, tmp_path / "pop.glb")
    assert result.solids == len(pop.solids)
    scene = trimesh.load(result.path, force="scene")
    graph = scene.graph
    solid_nodes = {node: graph[node][1] for node in graph.nodes_geometry}
    assert set(solid_nodes) == {s.id for s in pop.solids}

    # the tree: model -> group -> part -> solid
    parents = graph.transforms.parents
    for group, parts in solid_tree(pop):
        assert parents[group] == pop.name
        for part, solids in parts:
            holder = group if part == group else part
            if part != group:
                assert parents[part] == group
            assert all(parents[s.id] == holder for s in solids)

    # volumes per material, from the reloaded file (metres), each node placed by its transform
    volumes = {}
    for node, geometry_name in solid_nodes.items():
        geometry = scene.geometry[geometry_name]
        assert geometry.is_watertight, node
        volumes[node] = geometry.volume / M_PER_UM**3
    assert_volumes_match(pop, volumes)

    materials = {s.id: s.material for s in pop.solids}
    for node, geometry_name in solid_nodes.items():
        material = scene.geometry[geometry_name].visual.material
        assert material.name == materials[node]
        assert material.metallicFactor == (1.0 if pop.materials[materials[node]].conductor else 0.0)
    # placement: a unit's pad sits where the model puts it
    pad = next(s for s in pop.solids if s.role == "conductive_unit.pad")
    transform, geometry_name = graph[pad.id]
    bounds = trimesh.transform_points(scene.geometry[geometry_name].bounds, transform) / M_PER_UM
    assert np.allclose(bounds.ravel(), np.array(pad.shape.bbox).reshape(2, 3).ravel(), atol=1e-3)


def test_stl_holds_every_solid_in_millimetres(plated: Model, tmp_path: Path) -> None:
    result = export_stl(plated, tmp_path / "plated.stl")
    mesh = trimesh.load(result.path, process=False)
    assert len(mesh.faces) == result.triangles
    total = sum(plated.net_volumes.values())
    assert mesh.volume / MM_PER_UM**3 == pytest.approx(total, rel=VOLUME_RTOL)
    # millimetres: the body is 12 mm wide
    assert mesh.bounds[1][0] - mesh.bounds[0][0] == pytest.approx(12.0, rel=1e-6)


@pytest.mark.heavy
def test_large_package_glb_keeps_every_volume(tmp_path: Path) -> None:
    model = large_package_model()
    result = export_glb(model, tmp_path / "large.glb")
    scene = trimesh.load(result.path, force="scene")
    volumes = {
        node: scene.geometry[scene.graph[node][1]].volume / M_PER_UM**3 for node in scene.graph.nodes_geometry
    }
    assert set(volumes) == {s.id for s in model.solids}
    assert_volumes_match(model, volumes)
