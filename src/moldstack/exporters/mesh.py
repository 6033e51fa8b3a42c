"""Triangle-mesh views of a model: glTF binary (metres) and STL (millimetres), one closed mesh per model solid.

Holds the tessellation of moldstack's primitives (boxes, traces and tubes as prisms of polygons, bond wires as
mitred sweeps of a polygon), the carving of matrix solids with manifold3d (box minus every inclusion and
higher-rank matrix overlapping it), and the two writers (the tree and the shape keys
they share with the STEP writer are in :mod:`moldstack.exporters.tree`). It must not know the spec, the claims or any analysis.

Tolerance. A circle of radius r becomes a polygon of n sides, the fewest (at least 8) whose inscribed chord error
``r (1 - cos(pi / n))`` is within ``chord_um``; the polygon is then scaled by ``sqrt((2 pi / n) / sin(2 pi / n))``
so that its area is the circle's. Every vertex and edge then lies within ``chord_um`` of the true circle (vertices
about 2/3 of it outside, edge midpoints 1/3 inside), and the volume of every prism, and of every wire (a section
swept with mitred joints has volume ``area x centre-line length``), equals the model's to rounding. A mitre
corner stands ``r (1 / cos(theta / 2) - 1)`` outside the round-jointed tube at a bend of theta (0.06 um for a
25 um wire bent 11 degrees); a joint so close to the next that the mitres would fold is dropped
(:func:`mitre_path`). The carved matrices are exact mesh booleans (manifold3d, float64), so the volume per
material matches the model's net volumes up to rounding and the tiny overlap of a wire's neck with its ball,
which the model counts twice: a few parts in 1e8. glTF stores positions as float32 metres: 1 nm at 7 mm.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import manifold3d
import numpy as np
import trimesh
from numpy.typing import NDArray

from moldstack.exporters.tree import anchor, mitre_path, solid_tree, translation_key
from moldstack.geometry.model import Model
from moldstack.geometry.primitives import Box, Shape, Trace, Tube, Wire
from moldstack.materials import Material
from moldstack.output import write_bytes

CHORD_UM = 0.5  # default chord tolerance of circles (um)
MIN_SEGMENTS = 8
M_PER_UM = 1e-6
MM_PER_UM = 1e-3

Array = NDArray[np.float64]
Faces = NDArray[np.int64]


@dataclass(frozen=True)
class MeshExport:
    """A written mesh file: its format, the solids and triangles it holds, the chord tolerance, the time taken."""

    path: Path
    format: str
    solids: int
    triangles: int
    chord_um: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "solids": self.solids,
            "triangles": self.triangles,
            "chord_um": self.chord_um,
            "seconds": self.seconds,
        }


# --- tessellation -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriangleMesh:
    """A closed, outward-oriented triangle mesh (um)."""

    vertices: Array
    faces: Faces

    @property
    def volume(self) -> float:
        a, b, c = (self.vertices[self.faces[:, k]] for k in range(3))
        return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)

    def moved(self, offset: Sequence[float]) -> TriangleMesh:
        return TriangleMesh(self.vertices + np.asarray(offset, dtype=float), self.faces)


def segments(radius_um: float, chord_um: float = CHORD_UM) -> int:
    """Sides of the polygon standing for a circle of ``radius_um``: chord error within ``chord_um``."""
    if chord_um <= 0:
        raise ValueError(f"chord tolerance must be positive, got {chord_um} um")
    if radius_um <= chord_um:
        return MIN_SEGMENTS
    return max(MIN_SEGMENTS, math.ceil(math.pi / math.acos(1.0 - chord_um / radius_um)))


def area_polygon(radius_um: float, sides: int) -> Array:
    """``sides`` vertices (counter-clockwise) of a regular polygon with the area of the circle of ``radius_um``."""
    step = 2 * math.pi / sides
    scale = math.sqrt(step / math.sin(step))
    t = np.arange(sides) * step
    return radius_um * scale * np.column_stack([np.cos(t), np.sin(t)])


def _walls(start: int, n: int, upper: int) -> Faces:
    """Outward quads between a counter-clockwise ring of ``n`` vertices at ``start`` and its copy at ``upper``."""
    ring = np.arange(n)
    nxt = (ring + 1) % n
    return np.vstack(
        [
            np.column_stack([start + ring, start + nxt, upper + nxt]),
            np.column_stack([start + ring, upper + nxt, upper + ring]),
        ]
    )


def _band(outer: int, n: int, inner: int, m: int) -> Faces:
    """Triangles (facing +z) between a counter-clockwise outer ring of ``n`` and inner ring of ``m`` vertices
    that both start at angle 0, zipped in order of angle."""
    faces = []
    i = j = 0
    while i < n or j < m:
        if j >= m or (i < n and (i + 1) * m <= (j + 1) * n):
            faces.append((outer + i, outer + (i + 1) % n, inner + j % m))
            i += 1
        else:
            faces.append((outer + i % n, inner + (j + 1) % m, inner + j))
            j += 1
    return np.array(faces, dtype=np.int64)


def _prism(outer: Array, z0: float, z1: float, inner: Array | None = None) -> TriangleMesh:
    """A counter-clockwise polygon extruded from z0 to z1, with an optional counter-clockwise hole (rings that
    both start at angle 0 when there is a hole)."""
    n = len(outer)
    if inner is None:
        vertices = np.vstack([np.column_stack([outer, np.full(n, z)]) for z in (z0, z1)])
        fan = np.arange(1, n - 1)
        faces = [
            _walls(0, n, n),
            np.column_stack([np.zeros_like(fan), fan + 1, fan]),
            np.column_stack([np.full_like(fan, n), n + fan, n + fan + 1]),
        ]
    else:
        m = len(inner)
        level = n + m
        vertices = np.vstack(
            [np.column_stack([ring, np.full(len(ring), z)]) for z in (z0, z1) for ring in (outer, inner)]
        )
        faces = [
            _walls(0, n, level),
            _walls(n, m, level + n)[:, ::-1],  # the bore's wall faces the axis
            _band(0, n, n, m)[:, ::-1],  # bottom faces down
            _band(level, n, level + n, m),
        ]
    return TriangleMesh(vertices, np.vstack(faces).astype(np.int64))


def _ccw(polygon: Array) -> Array:
    x, y = polygon[:, 0], polygon[:, 1]
    signed = 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))
    return polygon if signed > 0 else polygon[::-1]


def wire_mesh(points: Array, radius_um: float, sides: int) -> TriangleMesh:
    """An area-true polygon swept along a polyline with mitred joints (the section of each joint is the ring
    where neighbouring prisms meet the plane bisecting their bend)."""
    p = mitre_path(points, radius_um)
    seg = np.diff(p, axis=0)
    u = seg / np.linalg.norm(seg, axis=1)[:, None]
    normals = np.vstack([u[:1], _unit(u[:-1] + u[1:]), u[-1:]])
    helper = np.array([0.0, 0.0, 1.0]) if abs(u[0, 2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    a = _unit(np.cross(u[0], helper))
    b = np.cross(u[0], a)
    poly = area_polygon(radius_um, sides)
    ring = p[0] + poly[:, :1] * a + poly[:, 1:] * b
    rings = [ring]
    for i in range(len(u)):
        n = normals[i + 1]
        t = ((p[i + 1] - ring) @ n) / float(u[i] @ n)
        ring = ring + t[:, None] * u[i]
        rings.append(ring)
    k = len(rings)
    vertices = np.vstack(rings)
    idx = np.arange(sides)
    nxt = (idx + 1) % sides
    level = (np.arange(k - 1) * sides)[:, None]
    lo, lo_n, hi, hi_n = level + idx, level + nxt, level + sides + idx, level + sides + nxt
    sides_faces = np.vstack(
        [
            np.column_stack([lo.ravel(), lo_n.ravel(), hi_n.ravel()]),
            np.column_stack([lo.ravel(), hi_n.ravel(), hi.ravel()]),
        ]
    )
    fan = np.arange(1, sides - 1)
    last = (k - 1) * sides
    caps = np.vstack(
        [
            np.column_stack([np.zeros_like(fan), fan + 1, fan]),
            np.column_stack([last + np.zeros_like(fan), last + fan, last + fan + 1]),
        ]
    )
    return TriangleMesh(vertices, np.vstack([sides_faces, caps]).astype(np.int64))


def _unit(v: Array) -> Array:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def shape_mesh(shape: Shape, chord_um: float = CHORD_UM) -> TriangleMesh:
    """The closed triangle mesh (um) standing for one primitive."""
    if isinstance(shape, Wire):
        return wire_mesh(shape.points, shape.radius, segments(shape.radius, chord_um))
    if isinstance(shape, Box):
        square = np.array(
            [[shape.x0, shape.y0], [shape.x1, shape.y0], [shape.x1, shape.y1], [shape.x0, shape.y1]]
        )
        return _prism(square, shape.z0, shape.z1)
    if isinstance(shape, Trace):
        corners = np.asarray(shape.section().exterior.coords)[:-1]
        return _prism(_ccw(corners), shape.z0, shape.z1)
    if isinstance(shape, Tube):
        # The polygon depends on the radius alone, so circles the model makes coincide (a fill in a bore) still do.
        centre = np.array([shape.cx, shape.cy])
        outer = centre + area_polygon(shape.r, segments(shape.r, chord_um))
        inner = (
            centre + area_polygon(shape.r_inner, segments(shape.r_inner, chord_um))
            if shape.r_inner > 0
            else None
        )
        return _prism(outer, shape.z0, shape.z1, inner)
    raise TypeError(f"no mesh for {type(shape).__name__}")


class MeshFactory:
    """Meshes of shapes; identical shapes (up to translation) are tessellated once and moved."""

    def __init__(self, chord_um: float = CHORD_UM) -> None:
        self.chord_um = chord_um
        self._made: dict[Shape, TriangleMesh] = {}

    def prototype(self, shape: Shape) -> tuple[Shape, TriangleMesh]:
        """The shape's translation key and its mesh at the anchor-free position."""
        key = translation_key(shape)
        mesh = self._made.get(key)
        if mesh is None:
            mesh = shape_mesh(key, self.chord_um)
            self._made[key] = mesh
        return key, mesh

    def mesh(self, shape: Shape) -> TriangleMesh:
        return self.prototype(shape)[1].moved(anchor(shape))


# --- carving with manifold3d --------------------------------------------------------------------------------------


def _manifold(mesh: TriangleMesh) -> manifold3d.Manifold:
    solid = manifold3d.Manifold(
        manifold3d.Mesh64(
            vert_properties=np.ascontiguousarray(mesh.vertices), tri_verts=mesh.faces.astype(np.uint64)
        )
    )
    if solid.status() != manifold3d.Error.NoError:
        raise RuntimeError(f"a mesh is not a closed manifold ({solid.status()})")
    return solid


def carved_meshes(model: Model, factory: MeshFactory) -> dict[str, TriangleMesh]:
    """Each matrix solid's mesh: its box minus every inclusion and higher-rank matrix overlapping it (um)."""
    cache: dict[Shape, manifold3d.Manifold] = {}

    def placed(shape: Shape) -> manifold3d.Manifold:
        key, mesh = factory.prototype(shape)
        solid = cache.get(key)
        if solid is None:
            solid = _manifold(mesh)
            cache[key] = solid
        return solid.translate(anchor(shape))

    carved: dict[str, TriangleMesh] = {}
    for m in (s for s in model.solids if s.matrix):
        box = m.shape.bbox
        tools = [
            placed(s.shape)
            for s in model.solids
            if s.id != m.id and (not s.matrix or s.rank > m.rank) and _overlaps(s.shape.bbox, box)
        ]
        result = manifold3d.Manifold.batch_boolean([placed(m.shape), *tools], manifold3d.OpType.Subtract)
        out = result.to_mesh64()
        carved[m.id] = TriangleMesh(
            np.asarray(out.vert_properties, dtype=float)[:, :3], np.asarray(out.tri_verts, dtype=np.int64)
        )
    return carved


def _overlaps(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[3] and a[3] > b[0] and a[1] < b[4] and a[4] > b[1] and a[2] < b[5] and a[5] > b[2]


def model_meshes(model: Model, chord_um: float = CHORD_UM) -> dict[str, TriangleMesh]:
    """Every solid's closed mesh (um), matrices carved."""
    factory = MeshFactory(chord_um)
    meshes = {s.id: factory.mesh(s.shape) for s in model.solids if not s.matrix}
    meshes.update(carved_meshes(model, factory))
    return {s.id: meshes[s.id] for s in model.solids}


# --- writers ------------------------------------------------------------------------------------------------------


def _linear(channel: float) -> float:
    """sRGB to linear (glTF colour factors are linear)."""
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def pbr_material(name: str, material: Material | None) -> trimesh.visual.material.PBRMaterial:
    """A glTF metallic-roughness material from a material's colour: metallic if it conducts."""
    colour = material.colour if material is not None else "#999999"
    rgb = [_linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5)]
    metal = material is not None and material.conductor
    return trimesh.visual.material.PBRMaterial(
        name=name,
        baseColorFactor=[*rgb, 1.0],
        metallicFactor=1.0 if metal else 0.0,
        roughnessFactor=0.35 if metal else 0.7,
    )


def export_glb(model: Model, path: str | Path, *, chord_um: float = CHORD_UM) -> MeshExport:
    """Write ``model`` as a binary glTF scene in metres to ``path`` atomically.

    Nodes follow :func:`solid_tree` under a node named after the model; every solid is one mesh node named by its
    id, with a PBR material per model material (its name, its colour; metallic for conductors). Identical
    inclusions share one mesh, placed by their node's translation.
    """
    start = time.perf_counter()
    factory = MeshFactory(chord_um)
    carved = carved_meshes(model, factory)
    materials = {
        name: pbr_material(name, model.materials.get(name)) for name in {s.material for s in model.solids}
    }
    scene = trimesh.Scene()
    used: set[str] = {str(scene.graph.base_frame)}
    geometry_names: dict[tuple[Any, str], str] = {}
    triangles = 0

    def node(
        parent: str, name: str, geometry: str | None = None, offset: Sequence[float] = (0.0, 0.0, 0.0)
    ) -> str:
        unique = _unique(name, used)
        matrix = np.eye(4)
        matrix[:3, 3] = np.asarray(offset, dtype=float) * M_PER_UM
        scene.graph.update(frame_from=parent, frame_to=unique, matrix=matrix, geometry=geometry)
        return unique

    def geometry(key: Any, mesh: TriangleMesh, material: str) -> str:
        name = geometry_names.get((key, material))
        if name is None:
            name = f"mesh{len(geometry_names)}"
            visual = trimesh.visual.TextureVisuals(material=materials[material])
            scene.geometry[name] = trimesh.Trimesh(
                mesh.vertices * M_PER_UM, mesh.faces, visual=visual, process=False
            )
            geometry_names[(key, material)] = name
        return name

    root = node(str(scene.graph.base_frame), model.name)
    for group, parts in solid_tree(model):
        group_node = node(root, group)
        for part, solids in parts:
            part_node = group_node if part == group else node(group_node, part)
            for s in solids:
                if s.id in carved:
                    mesh, offset, key = carved[s.id], (0.0, 0.0, 0.0), s.id
                else:
                    key, mesh = factory.prototype(s.shape)
                    offset = anchor(s.shape)
                node(part_node, s.id, geometry(key, mesh, s.material), offset)
                triangles += len(mesh.faces)
    data = trimesh.exchange.gltf.export_glb(scene)
    written = write_bytes(path, data)
    return MeshExport(written, "glb", len(model.solids), triangles, chord_um, time.perf_counter() - start)


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name} ({n})"
    used.add(candidate)
    return candidate


def export_stl(model: Model, path: str | Path, *, chord_um: float = CHORD_UM) -> MeshExport:
    """Write every solid's closed mesh into one binary STL in millimetres, to ``path`` atomically.

    STL has no names or units: the file holds the solids one after the other, each a closed shell (matrices
    carved), so the signed volume of the whole file is the model's total volume.
    """
    start = time.perf_counter()
    meshes = model_meshes(model, chord_um)
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes.values()])[:-1]
    vertices = np.vstack([m.vertices for m in meshes.values()]) * MM_PER_UM
    faces = np.vstack([m.faces + o for m, o in zip(meshes.values(), offsets, strict=True)])
    data = trimesh.exchange.stl.export_stl(trimesh.Trimesh(vertices, faces, process=False))
    written = write_bytes(path, data)
    return MeshExport(written, "stl", len(meshes), len(faces), chord_um, time.perf_counter() - start)
