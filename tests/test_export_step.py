"""STEP export: exact solids, carved matrices, and a round trip through build123d's STEP reader."""

from __future__ import annotations

import math
import re
from pathlib import Path

import build123d as bd
import numpy as np
import pytest
from anytree import PreOrderIter
from OCP.BRepCheck import BRepCheck_Analyzer
from OCP.BRepGProp import BRepGProp
from OCP.GProp import GProp_GProps
from OCP.TopAbs import TopAbs_SOLID
from OCP.TopExp import TopExp_Explorer

import moldstack
from moldstack.exporters.step import MM_PER_UM, ShapeFactory, carve_matrices, export_step, mitred_pipe
from moldstack.exporters.tree import solid_tree
from moldstack.geometry.model import Model
from moldstack.geometry.primitives import Wire
from tests.test_export_mesh import build_small, large_package_model

# The STEP volumes are exact up to OpenCascade's mass-property integration (a few parts in 1e7 for the curved
# faces of the wires); the task's bound is 0.1 %.
VOLUME_RTOL = 1e-5


@pytest.fixture(scope="module")
def pop() -> Model:
    """Two wire-bonded packages on a substrate whose copper planes split the laminate: 12 units a package."""
    return build_small("pop_on_substrate.yaml")


@pytest.fixture(scope="module")
def plated() -> Model:
    """Hollow plated vias with air cores, a dielectric base frame (a rank-1 matrix inside the mold)."""
    return build_small("claim21_plated_via.yaml")


def volume_um3(shape: bd.Shape) -> float:
    props = GProp_GProps()
    BRepGProp.VolumeProperties_s(shape.wrapped, props)
    return props.Mass() / MM_PER_UM**3


def count_solids(shape: bd.Shape) -> int:
    explorer, count = TopExp_Explorer(shape.wrapped, TopAbs_SOLID), 0
    while explorer.More():
        count += 1
        explorer.Next()
    return count


def reader_name(name: str) -> str:
    """A name as build123d's STEP reader returns it (it turns spaces, dots and brackets into underscores)."""
    return name.translate(str.maketrans(" .()", "____"))


def test_mitred_pipe_is_a_valid_solid_of_the_exact_volume() -> None:
    points = np.array(
        [
            [0.0, 0.0, 300.0],
            [2.0, 1.0, 380.0],
            [60.0, 20.0, 450.0],
            [400.0, 150.0, 420.0],
            [900.0, 300.0, 60.0],
        ]
    )
    wire = Wire(path=tuple(map(tuple, points)), diameter=25.0)
    solid = mitred_pipe(points * MM_PER_UM, wire.radius * MM_PER_UM)
    assert BRepCheck_Analyzer(solid).IsValid()
    assert volume_um3(bd.Solid(solid)) == pytest.approx(math.pi * wire.radius**2 * wire.length, rel=1e-6)


def test_every_solid_is_valid_and_matrices_keep_their_net_volume(pop: Model) -> None:
    factory = ShapeFactory()
    for s in pop.solids:
        if not s.matrix:
            assert BRepCheck_Analyzer(factory.solid(s.shape)).IsValid(), s.id
    carved = carve_matrices(pop, factory)
    assert set(carved) == {s.id for s in pop.solids if s.matrix}
    for solid_id, shape in carved.items():
        assert BRepCheck_Analyzer(shape).IsValid(), solid_id
        assert volume_um3(bd.Compound(shape)) == pytest.approx(pop.net_volumes[solid_id], rel=VOLUME_RTOL)
    # the two copper planes span the laminate: it is three slabs under one name
    assert count_solids(bd.Compound(carved["substrate/laminate"])) == 3


@pytest.mark.parametrize("name", ["pop", "plated"])
def test_step_round_trip(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    model: Model = request.getfixturevalue(name)
    result = export_step(model, tmp_path / f"{name}.step")
    assert result.solids == len(model.solids)
    text = result.path.read_text()
    assert "FILE_SCHEMA(('AUTOMOTIVE_DESIGN" in text  # AP214
    assert f"FILE_NAME('{model.name}'" in text
    products = set(re.findall(r"PRODUCT\('([^']*)'", text))
    assert {s.id for s in model.solids} <= products

    root = bd.import_step(result.path)
    assert root.label == model.name
    leaves = [node for node in PreOrderIter(root) if not node.children]
    by_name = {leaf.label: leaf for leaf in leaves}
    assert len(leaves) == len(by_name) == len(model.solids)
    solids = {s.id: by_name[reader_name(s.id)] for s in model.solids}

    # one B-rep solid per model solid, but a matrix split apart by its inclusions
    assert all(count_solids(leaf) == 1 for sid, leaf in solids.items() if not model.solid(sid).matrix)

    # the tree: model -> group -> part -> solid
    groups = {child.label for child in root.children}
    assert groups == {reader_name(g) for g, _ in solid_tree(model)}
    for sid, leaf in solids.items():
        s = model.solid(sid)
        holder = leaf.parent.label
        assert holder in {reader_name(s.part), reader_name(s.assembly or "")} | {"substrate", "joints"}

    # colours: the material's
    for sid, leaf in solids.items():
        hex_colour = model.materials[model.solid(sid).material].colour
        expected = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        assert leaf.color is not None
        assert list(tuple(leaf.color)[:3]) == pytest.approx(expected, abs=1.5 / 255), sid

    # volume per material, against the model's net volumes
    totals: dict[str, float] = {}
    for sid, leaf in solids.items():
        material = model.solid(sid).material
        totals[material] = totals.get(material, 0.0) + volume_um3(leaf)
    expected_volumes = model.volumes_by("material")
    assert set(totals) == set(expected_volumes)
    for material, volume in expected_volumes.items():
        assert totals[material] == pytest.approx(volume, rel=VOLUME_RTOL), material

    # placement: a unit's pad is where the model puts it (mm in the file)
    pad = next(s for s in model.solids if s.role == "conductive_unit.pad")
    box = solids[pad.id].bounding_box()
    assert pytest.approx([v * MM_PER_UM for v in pad.shape.bbox[:3]], abs=1e-6) == [
        box.min.X,
        box.min.Y,
        box.min.Z,
    ]


def test_export_through_the_library_call(tmp_path: Path) -> None:
    model = build_small("claim7_protruding.yaml", per_edge=2)
    written = moldstack.export(model, tmp_path / "small.stp")
    assert written == [tmp_path / "small.stp"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


@pytest.mark.heavy
def test_large_package_step_keeps_every_volume(tmp_path: Path) -> None:
    model = large_package_model()
    result = export_step(model, tmp_path / "large.step")
    leaves = [node for node in PreOrderIter(bd.import_step(result.path)) if not node.children]
    assert len(leaves) == len(model.solids)
    materials = {reader_name(s.id): s.material for s in model.solids}
    totals: dict[str, float] = {}
    for leaf in leaves:
        totals[materials[leaf.label]] = totals.get(materials[leaf.label], 0.0) + volume_um3(leaf)
    for material, volume in model.volumes_by("material").items():
        assert totals[material] == pytest.approx(volume, rel=VOLUME_RTOL), material
