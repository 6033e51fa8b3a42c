"""STEP AP214 export: one OpenCascade B-rep solid per model solid, named, coloured, in an assembly tree.

Holds the conversion of moldstack's primitives to exact B-rep solids in millimetres (boxes, traces and tubes as
prisms, bond wires as mitred sweeps built face by face), the carving of matrix solids (the mold, the dielectric
base, the substrate laminate) by the inclusions they hold, and the XCAF document the STEP writer reads:
``model -> assembly instance ("substrate", "joints" for the rest) -> part -> solid``, each solid named by its id
and coloured by its material. It must not know the spec, the claims or any analysis: it reads a
:class:`~moldstack.geometry.model.Model` only.

Accuracy. Boxes, traces and tubes are exact (planes and cylinders). A wire is the model's polyline swept with
mitred joints: one cylinder per segment, cut at each joint by the plane bisecting the bend. A cylinder cut by two
planes through points of its axis has the volume ``pi r^2 |AB|`` whatever the tilt of the planes, so the swept
wire's volume is ``pi r^2 L`` exactly, the model's own value (mass properties of the written solids agree to a
few parts in a million, the integration tolerance). Its surface lies within ``r (1 / cos(theta / 2) - 1)`` of
the model's round-jointed tube at a bend of ``theta`` (0.06 um for a 25 um wire bent 11 degrees).

Carving. A matrix solid is its box minus every inclusion (and higher-rank matrix) overlapping it, in one
multi-tool boolean cut per matrix on OpenCascade's threads. The box, and every box tool wider than
:data:`TILE_UM`, enters the cut as tiles glued into one solid: OpenCascade's cut and its STEP writer both slow
down with the square of the holes in one face, and a mold's top face has one per unit. The carved solid's faces
are split along those tile lines; the geometry is exact. A matrix its inclusions split apart (a laminate
between copper planes that span it) is a compound of its pieces under its one name.

Speed. Solids equal up to a translation (units, contacts, joints) are built once and placed by translation (each
solid still gets its own product, named by its id, since a reader names a shared product once). Surface curves
(pcurves) are not written: readers rebuild them, and they would double the file and the write time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from OCP.APIHeaderSection import APIHeaderSection_MakeHeader
from OCP.BOPAlgo import BOPAlgo_GlueEnum
from OCP.BRep import BRep_Builder
from OCP.BRepAlgoAPI import BRepAlgoAPI_Cut, BRepAlgoAPI_Fuse
from OCP.BRepBuilderAPI import (
    BRepBuilderAPI_Copy,
    BRepBuilderAPI_MakeEdge,
    BRepBuilderAPI_MakeFace,
    BRepBuilderAPI_MakePolygon,
    BRepBuilderAPI_MakeWire,
)
from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox, BRepPrimAPI_MakePrism
from OCP.collections import Array1_double, Array1_gp_Pnt2d, Array1_int, List_TopoDS_Shape
from OCP.Geom import Geom_Circle, Geom_CylindricalSurface, Geom_Ellipse, Geom_Line
from OCP.Geom2d import Geom2d_BSplineCurve, Geom2d_Line
from OCP.gp import (
    gp_Ax2,
    gp_Ax3,
    gp_Circ,
    gp_Dir,
    gp_Dir2d,
    gp_Elips,
    gp_Pln,
    gp_Pnt,
    gp_Pnt2d,
    gp_Trsf,
    gp_Vec,
)
from OCP.IFSelect import IFSelect_ReturnStatus
from OCP.Interface import Interface_Static
from OCP.Message import Message, Message_Gravity
from OCP.Quantity import Quantity_Color, Quantity_ColorRGBA, Quantity_TypeOfColor
from OCP.STEPCAFControl import STEPCAFControl_Controller, STEPCAFControl_Writer
from OCP.STEPControl import STEPControl_Controller, STEPControl_StepModelType
from OCP.TCollection import TCollection_ExtendedString, TCollection_HAsciiString
from OCP.TDataStd import TDataStd_Name
from OCP.TDF import TDF_Label
from OCP.TDocStd import TDocStd_Document
from OCP.TopAbs import TopAbs_FACE, TopAbs_Orientation, TopAbs_ShapeEnum, TopAbs_SOLID
from OCP.TopExp import TopExp_Explorer
from OCP.TopLoc import TopLoc_Location
from OCP.TopoDS import (
    TopoDS,
    TopoDS_Compound,
    TopoDS_Edge,
    TopoDS_Face,
    TopoDS_Shape,
    TopoDS_Shell,
    TopoDS_Solid,
    TopoDS_Vertex,
    TopoDS_Wire,
)
from OCP.XCAFApp import XCAFApp_Application
from OCP.XCAFDoc import XCAFDoc_ColorTool, XCAFDoc_ColorType, XCAFDoc_DocumentTool, XCAFDoc_ShapeTool
from OCP.XSControl import XSControl_WorkSession
from scipy.interpolate import make_interp_spline

from moldstack.exporters.tree import anchor, mitre_path, solid_tree, translation_key
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Shape, Trace, Tube, Wire
from moldstack.output import atomic_path

MM_PER_UM = 1e-3
TOLERANCE_MM = 1e-7  # OpenCascade's Precision::Confusion: edges, vertices and faces are built to it
TILE_UM = 3500.0  # matrix boxes and box tools wider than this enter the cut as glued tiles

Array = NDArray[np.float64]
_FORWARD = TopAbs_Orientation.TopAbs_FORWARD
_REVERSED = TopAbs_Orientation.TopAbs_REVERSED


@dataclass(frozen=True)
class StepExport:
    """A written STEP file: how many solids it holds, how many matrices were carved, and how long it took."""

    path: Path
    solids: int
    matrices: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "solids": self.solids,
            "matrices": self.matrices,
            "seconds": self.seconds,
        }


def export_step(model: Model, path: str | Path) -> StepExport:
    """Write ``model`` as a STEP AP214 assembly (mm) to ``path`` atomically.

    The tree is ``model.name -> assembly instance -> part -> solid``; solids that belong to no assembly hang under
    ``substrate`` and ``joints``. Each solid is one B-rep solid named by its id and coloured by its material's
    colour; matrix solids are carved by what they hold, so the volume per material equals the model's net
    volumes.
    """
    start = time.perf_counter()
    target = Path(path)
    factory = ShapeFactory()
    shapes = {s.id: factory.solid(s.shape) for s in model.solids if not s.matrix}
    carved = carve_matrices(model, factory)
    shapes.update(carved)
    document = _document(model, shapes)
    with atomic_path(target) as temporary:
        _write(document, model.name, temporary)
    return StepExport(target, len(model.solids), len(carved), time.perf_counter() - start)


# --- primitives -------------------------------------------------------------------------------------------------


def _translation(dx_mm: float, dy_mm: float, dz_mm: float) -> TopLoc_Location:
    trsf = gp_Trsf()
    trsf.SetTranslation(gp_Vec(dx_mm, dy_mm, dz_mm))
    return TopLoc_Location(trsf)


class ShapeFactory:
    """B-rep solids (mm) for moldstack shapes; identical shapes are built once and placed by translation."""

    def __init__(self) -> None:
        self._made: dict[Shape, TopoDS_Shape] = {}

    def solid(self, shape: Shape) -> TopoDS_Shape:
        key = translation_key(shape)
        proto = self._made.get(key)
        if proto is None:
            proto = _build(key)
            self._made[key] = proto
        x, y, z = anchor(shape)
        return proto.Moved(_translation(x * MM_PER_UM, y * MM_PER_UM, z * MM_PER_UM))

    @property
    def distinct(self) -> int:
        """How many different shapes (up to translation) have been built."""
        return len(self._made)


def _build(shape: Shape) -> TopoDS_Shape:
    if isinstance(shape, Wire):
        return mitred_pipe(shape.points * MM_PER_UM, shape.radius * MM_PER_UM)
    if isinstance(shape, Box):
        lo = gp_Pnt(shape.x0 * MM_PER_UM, shape.y0 * MM_PER_UM, shape.z0 * MM_PER_UM)
        hi = gp_Pnt(shape.x1 * MM_PER_UM, shape.y1 * MM_PER_UM, shape.z1 * MM_PER_UM)
        return BRepPrimAPI_MakeBox(lo, hi).Shape()
    if isinstance(shape, Tube):
        return _tube(shape)
    if isinstance(shape, Trace):
        return _trace(shape)
    raise TypeError(f"no STEP solid for {type(shape).__name__}")


def _extrude(face: TopoDS_Face, height_mm: float) -> TopoDS_Shape:
    return BRepPrimAPI_MakePrism(face, gp_Vec(0.0, 0.0, height_mm)).Shape()


def _tube(tube: Tube) -> TopoDS_Shape:
    """A disc or annulus extruded along z (no boolean: the bore is a hole in the section)."""
    s = MM_PER_UM
    axis = gp_Ax2(gp_Pnt(tube.cx * s, tube.cy * s, tube.z0 * s), gp_Dir(0.0, 0.0, 1.0))
    outer = BRepBuilderAPI_MakeWire(_circle_edge(gp_Circ(axis, tube.r * s))).Wire()
    maker = BRepBuilderAPI_MakeFace(outer, True)
    if tube.r_inner > 0:
        inner = BRepBuilderAPI_MakeWire(_circle_edge(gp_Circ(axis, tube.r_inner * s))).Wire()
        maker.Add(TopoDS.Wire(inner.Reversed()))
    return _extrude(maker.Face(), tube.height * s)


def _circle_edge(circle: gp_Circ) -> TopoDS_Edge:
    return BRepBuilderAPI_MakeEdge(circle).Edge()


def _trace(trace: Trace) -> TopoDS_Shape:
    s = MM_PER_UM
    corners = list(trace.section().exterior.coords)[:-1]
    polygon = BRepBuilderAPI_MakePolygon()
    for x, y in corners:
        polygon.Add(gp_Pnt(x * s, y * s, trace.z0 * s))
    polygon.Close()
    return _extrude(BRepBuilderAPI_MakeFace(polygon.Wire(), True).Face(), trace.height * s)


# --- the mitred wire sweep ----------------------------------------------------------------------------------------

_PCURVE_DEGREE = 5
_PCURVE_SAMPLES = 25  # interpolation points of cos and sin over one turn: error 4e-6 of the amplitude


@dataclass(frozen=True)
class _PcurveBasis:
    """B-spline poles of U, cos U and sin U on [0, 2 pi] over shared knots, with the knots' multiplicities.

    The trace of a plane on a cylinder is ``V(U) = c + a cos U + b sin U`` in the cylinder's (U, V) parameters;
    B-splines are linear in their poles, so that trace's poles are ``(U_k, c + a Pcos_k + b Psin_k)``.
    """

    u_poles: list[float]
    cos_poles: Array
    sin_poles: Array
    knots: list[float]
    multiplicities: Array1_int
    cos_error: float
    sin_error: float


@cache
def _pcurve_basis() -> _PcurveBasis:
    u = np.linspace(0.0, 2 * math.pi, _PCURVE_SAMPLES)
    cos = make_interp_spline(u, np.cos(u), k=_PCURVE_DEGREE)
    sin = make_interp_spline(u, np.sin(u), k=_PCURVE_DEGREE)
    k = _PCURVE_DEGREE
    greville = [float(cos.t[i + 1 : i + k + 1].mean()) for i in range(len(cos.c))]
    distinct, counts = np.unique(np.round(cos.t, 12), return_counts=True)
    multiplicities = Array1_int(1, len(counts))
    for index, m in enumerate(counts.tolist(), start=1):
        multiplicities.SetValue(index, m)
    dense = np.linspace(0.0, 2 * math.pi, 64 * _PCURVE_SAMPLES)
    return _PcurveBasis(
        u_poles=greville,
        cos_poles=np.asarray(cos.c),
        sin_poles=np.asarray(sin.c),
        knots=distinct.tolist(),
        multiplicities=multiplicities,
        cos_error=float(np.abs(cos(dense) - np.cos(dense)).max()),
        sin_error=float(np.abs(sin(dense) - np.sin(dense)).max()),
    )


def _trace_pcurve(v_poles: Sequence[float], knots: Array1_double) -> Geom2d_BSplineCurve:
    basis = _pcurve_basis()
    poles = Array1_gp_Pnt2d(1, len(v_poles))
    set_pole = poles.SetValue
    for index, uu, vv in zip(range(1, len(v_poles) + 1), basis.u_poles, v_poles, strict=True):
        set_pole(index, gp_Pnt2d(uu, vv))
    return Geom2d_BSplineCurve(poles, knots, basis.multiplicities, _PCURVE_DEGREE)


def _shifted_knots(t0: float) -> Array1_double:
    """The basis knots moved by ``t0``: the pcurve's parameter is the joint curve's, which is U + t0."""
    distinct = _pcurve_basis().knots
    knots = Array1_double(1, len(distinct))
    for index, k in enumerate(distinct, start=1):
        knots.SetValue(index, k + t0)
    return knots


@dataclass(frozen=True)
class _PipeGeometry:
    """The numbers of a mitred pipe (mm): joints, seam points and frames, joint curves, and the traces of the
    joint planes on each segment's cylinder."""

    points: list[list[float]]
    axes: list[list[float]]
    normals: list[list[float]]
    seams: list[list[float]]
    frames: list[list[float]]
    seam_v0: list[float]
    seam_length: list[float]
    ellipse: list[bool]
    majors: list[list[float]]
    major_radii: list[float]
    t0: list[float]
    start_traces: list[list[float]]
    end_traces: list[list[float]]
    tolerances: list[float]


def _pipe_geometry(points_mm: Array, r: float) -> _PipeGeometry:
    p = mitre_path(points_mm, r)
    seg = np.diff(p, axis=0)
    n_seg = len(seg)
    u = seg / np.linalg.norm(seg, axis=1)[:, None]
    normals = np.vstack([u[:1], _unit(u[:-1] + u[1:]), u[-1:]])

    # Seam points: angle 0 of the first cylinder, carried along each segment's generator to the next plane.
    helper = np.array([0.0, 0.0, 1.0]) if abs(u[0, 2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    seams = np.empty((n_seg + 1, 3))
    seams[0] = p[0] + r * _unit(np.cross(u[0], helper))
    along_u = np.einsum("ij,ij->i", u, normals[1:])
    for i in range(n_seg):
        q = seams[i]
        seams[i + 1] = q + float((p[i + 1] - q) @ normals[i + 1]) / along_u[i] * u[i]
    offset = seams[:-1] - p[:-1]
    seam_v0 = np.einsum("ij,ij->i", offset, u)
    frames = _unit(offset - seam_v0[:, None] * u)
    ys = np.cross(u, frames)

    # Joint curves: ellipses (major axis in the bend plane) where the segments bend, circles elsewhere.
    bends = np.zeros((n_seg + 1, 3))
    bends[1:-1] = np.cross(u[:-1], u[1:])
    ellipse = np.linalg.norm(bends, axis=1) > 1e-12
    minors = np.where(ellipse[:, None], _unit(np.where(ellipse[:, None], bends, 1.0)), 0.0)
    majors = np.cross(normals, minors)
    to_seam = seams - p
    circle_x = _unit(to_seam - np.einsum("ij,ij->i", to_seam, normals)[:, None] * normals)
    majors = np.where(ellipse[:, None], majors, circle_x)
    cos_half = np.einsum("ij,ij->i", np.vstack([u[:1], u]), normals)
    major_radii = r / cos_half
    t0 = np.where(
        ellipse,
        np.arctan2(
            np.einsum("ij,ij->i", to_seam, np.cross(normals, majors)) / r,
            np.einsum("ij,ij->i", to_seam, majors) / major_radii,
        ),
        0.0,
    )

    # Trace of joint plane j on cylinder i (j = i, i + 1): V(U) = c + a cos U + b sin U.
    # The B-spline pcurve departs from the trace by at most |a| e_cos + |b| e_sin: a sharp bend (a large
    # amplitude) gets an edge tolerance that covers it, a bond wire's gentle bends stay at TOLERANCE_MM.
    basis = _pcurve_basis()
    traces: list[list[list[float]]] = [[], []]  # [start, end] trace of each segment
    tolerances = np.full(n_seg + 1, TOLERANCE_MM)
    for end, planes, offsets in (
        (0, normals[:-1], np.zeros(n_seg)),
        (1, normals[1:], np.einsum("ij,ij->i", seg, normals[1:])),
    ):
        den = np.einsum("ij,ij->i", u, planes)
        a = -r * np.einsum("ij,ij->i", frames, planes) / den
        b = -r * np.einsum("ij,ij->i", ys, planes) / den
        c = offsets / den
        poles = c[:, None] + a[:, None] * basis.cos_poles + b[:, None] * basis.sin_poles
        flat = (np.abs(a) < 1e-15) & (np.abs(b) < 1e-15)
        traces[end] = [
            [ci] if f else row for ci, f, row in zip(c.tolist(), flat.tolist(), poles.tolist(), strict=True)
        ]
        error = 2.0 * (np.abs(a) * basis.cos_error + np.abs(b) * basis.sin_error)
        np.maximum.at(tolerances, np.arange(n_seg) + end, error)
    return _PipeGeometry(
        points=p.tolist(),
        axes=u.tolist(),
        normals=normals.tolist(),
        seams=seams.tolist(),
        frames=frames.tolist(),
        seam_v0=seam_v0.tolist(),
        seam_length=np.linalg.norm(np.diff(seams, axis=0), axis=1).tolist(),
        ellipse=ellipse.tolist(),
        majors=majors.tolist(),
        major_radii=major_radii.tolist(),
        t0=t0.tolist(),
        start_traces=traces[0],
        end_traces=traces[1],
        tolerances=tolerances.tolist(),
    )


def mitred_pipe(points_mm: Array, radius_mm: float) -> TopoDS_Solid:
    """A round wire along a polyline: one cylindrical face per segment, joined on the bisector planes.

    Built directly as a B-rep: the joint curves are the ellipses where neighbouring cylinders meet their
    bisector plane (circles at the flat ends and at straight joints), each cylinder's seam is carried from one
    joint to the next along the surface, and every edge gets its exact (ellipses, lines) or B-spline (the
    sinusoidal trace of a plane on a cylinder, within 1e-9 mm) curve on each face it bounds.
    """
    r = float(radius_mm)
    g = _pipe_geometry(points_mm, r)
    n_seg = len(g.axes)
    builder = BRep_Builder()
    vertices = []
    for q, tolerance in zip(g.seams, g.tolerances, strict=True):
        v = TopoDS_Vertex()
        builder.MakeVertex(v, gp_Pnt(*q), tolerance)
        vertices.append(v)

    rings: list[TopoDS_Edge] = []
    knots: list[Array1_double] = []
    for j in range(n_seg + 1):
        frame = gp_Ax2(gp_Pnt(*g.points[j]), gp_Dir(*g.normals[j]), gp_Dir(*g.majors[j]))
        curve = Geom_Ellipse(gp_Elips(frame, g.major_radii[j], r)) if g.ellipse[j] else Geom_Circle(frame, r)
        edge = TopoDS_Edge()
        builder.MakeEdge(edge, curve, g.tolerances[j])
        builder.Add(edge, vertices[j].Oriented(_FORWARD))
        builder.Add(edge, vertices[j].Oriented(_REVERSED))
        builder.Range(edge, g.t0[j], g.t0[j] + 2 * math.pi)
        rings.append(edge)
        knots.append(_shifted_knots(g.t0[j]))

    up = gp_Dir2d(0.0, 1.0)
    along = gp_Dir2d(1.0, 0.0)
    faces: list[TopoDS_Face] = []
    for i in range(n_seg):
        face = TopoDS_Face()
        axis = gp_Ax3(gp_Pnt(*g.points[i]), gp_Dir(*g.axes[i]), gp_Dir(*g.frames[i]))
        builder.MakeFace(face, Geom_CylindricalSurface(axis, r), TOLERANCE_MM)
        seam = TopoDS_Edge()
        builder.MakeEdge(seam, Geom_Line(gp_Pnt(*g.seams[i]), gp_Dir(*g.axes[i])), TOLERANCE_MM)
        builder.Add(seam, vertices[i].Oriented(_FORWARD))
        builder.Add(seam, vertices[i + 1].Oriented(_REVERSED))
        builder.Range(seam, 0.0, g.seam_length[i])
        v0 = g.seam_v0[i]
        builder.UpdateEdge(
            seam,
            Geom2d_Line(gp_Pnt2d(2 * math.pi, v0), up),
            Geom2d_Line(gp_Pnt2d(0.0, v0), up),
            face,
            TOLERANCE_MM,
        )
        for j, trace in ((i, g.start_traces[i]), (i + 1, g.end_traces[i])):
            if len(trace) == 1:  # a plane square to the axis: V is constant
                pcurve: Any = Geom2d_Line(gp_Pnt2d(-g.t0[j], trace[0]), along)
            else:
                pcurve = _trace_pcurve(trace, knots[j])
            builder.UpdateEdge(rings[j], pcurve, face, g.tolerances[j])
        wire = TopoDS_Wire()
        builder.MakeWire(wire)
        builder.Add(wire, rings[i].Oriented(_FORWARD))
        builder.Add(wire, seam.Oriented(_FORWARD))
        builder.Add(wire, rings[i + 1].Oriented(_REVERSED))
        builder.Add(wire, seam.Oriented(_REVERSED))
        builder.Add(face, wire)
        faces.append(face)

    for j, orientation in ((0, _REVERSED), (n_seg, _FORWARD)):
        loop = TopoDS_Wire()
        builder.MakeWire(loop)
        builder.Add(loop, rings[j])
        cap = BRepBuilderAPI_MakeFace(gp_Pln(gp_Pnt(*g.points[j]), gp_Dir(*g.normals[j])), loop, True).Face()
        faces.append(TopoDS.Face(cap.Oriented(orientation)))

    shell = TopoDS_Shell()
    builder.MakeShell(shell)
    for face in faces:
        builder.Add(shell, face)
    shell.Closed(True)
    solid = TopoDS_Solid()  # oriented by construction: every face's normal points out of the wire
    builder.MakeSolid(solid)
    builder.Add(solid, shell)
    return solid


def _unit(v: Array) -> Array:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# --- carving the matrices --------------------------------------------------------------------------------------


def carve_tools(model: Model, matrix: Solid) -> list[Shape]:
    """What carves ``matrix``: every inclusion and every higher-rank matrix whose box overlaps it."""
    box = matrix.shape.bbox
    return [
        s.shape
        for s in model.solids
        if s.id != matrix.id and (not s.matrix or s.rank > matrix.rank) and _overlaps(s.shape.bbox, box)
    ]


def _overlaps(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[3] and a[3] > b[0] and a[1] < b[4] and a[4] > b[1] and a[2] < b[5] and a[5] > b[2]


def carve_matrices(model: Model, shapes: ShapeFactory | None = None) -> dict[str, TopoDS_Shape]:
    """Each matrix solid minus what it holds (mm): a solid, or a compound of the pieces the tools split it into.

    One boolean cut per matrix, all tools at once, run on OpenCascade's threads. The matrix box and every box
    tool wider than :data:`TILE_UM` enter the cut as tiles glued into one solid, so no face of the cut carries
    hundreds of holes (the cut and the STEP writer both slow down with the square of the holes in a face); the
    result's faces are split along those tile lines, which changes nothing of the geometry.
    """
    factory = shapes if shapes is not None else ShapeFactory()
    carved: dict[str, TopoDS_Shape] = {}
    for m in (s for s in model.solids if s.matrix):
        assert isinstance(m.shape, Box)
        tools = [
            _tiled(t, factory) if isinstance(t, Box) else factory.solid(t) for t in carve_tools(model, m)
        ]
        carved[m.id] = _cut(_tiled(m.shape, factory), tools)
    return carved


def _tiled(box: Box, factory: ShapeFactory) -> TopoDS_Shape:
    """``box`` as one solid glued from tiles no wider than :data:`TILE_UM` (the box itself when small)."""
    nx = math.ceil((box.x1 - box.x0) / TILE_UM)
    ny = math.ceil((box.y1 - box.y0) / TILE_UM)
    if nx * ny == 1:
        return factory.solid(box)
    xs = np.linspace(box.x0, box.x1, nx + 1).tolist()
    ys = np.linspace(box.y0, box.y1, ny + 1).tolist()
    tiles = [
        factory.solid(replace(box, x0=xs[i], x1=xs[i + 1], y0=ys[j], y1=ys[j + 1]))
        for i in range(nx)
        for j in range(ny)
    ]
    glue = BRepAlgoAPI_Fuse()
    glue.SetArguments(_shape_list(tiles[:1]))
    glue.SetTools(_shape_list(tiles[1:]))
    glue.SetGlue(BOPAlgo_GlueEnum.BOPAlgo_GlueShift)
    glue.SetToFillHistory(False)
    glue.Build()
    solids = list(_explore(glue.Shape(), TopAbs_SOLID)) if glue.IsDone() else []
    return solids[0] if len(solids) == 1 else factory.solid(box)


def _shape_list(shapes: Sequence[TopoDS_Shape]) -> List_TopoDS_Shape:
    out = List_TopoDS_Shape()
    for shape in shapes:
        out.Append(shape)
    return out


def _cut(argument: TopoDS_Shape, tools: Sequence[TopoDS_Shape]) -> TopoDS_Shape:
    """``argument`` minus all ``tools`` in one boolean: a solid, or a compound of the pieces when the tools split
    it apart (a laminate between copper planes that span it)."""
    cut = BRepAlgoAPI_Cut()
    cut.SetArguments(_shape_list([argument]))
    cut.SetTools(_shape_list(tools))
    cut.SetUseOBB(True)
    cut.SetCheckInverted(False)
    cut.SetToFillHistory(False)
    cut.SetRunParallel(True)
    cut.Build()
    if not cut.IsDone():
        raise RuntimeError("OpenCascade could not carve a matrix solid")
    solids = list(_explore(cut.Shape(), TopAbs_SOLID))
    if len(solids) == 1:
        return solids[0]
    pieces = TopoDS_Compound()
    builder = BRep_Builder()
    builder.MakeCompound(pieces)
    for solid in solids:
        builder.Add(pieces, solid)
    return pieces


def _explore(shape: TopoDS_Shape, kind: Any) -> Iterator[TopoDS_Shape]:
    explorer = TopExp_Explorer(shape, kind)
    while explorer.More():
        yield explorer.Current()
        explorer.Next()


# --- the XCAF document and the writer -----------------------------------------------------------------------------


def _document(model: Model, shapes: dict[str, TopoDS_Shape]) -> TDocStd_Document:
    """An XCAF document: the assembly tree of named labels, each solid coloured by its material.

    Every solid is a product of its own, named by its id and coloured by its material; its shape sits at its
    built position and the assembly component places it (the translation of a unit built once).
    """
    document = TDocStd_Document(TCollection_ExtendedString("XmlOcaf"))
    application = XCAFApp_Application.GetApplication_s()
    application.NewDocument(TCollection_ExtendedString("MDTV-XCAF"), document)
    application.InitDocument(document)
    XCAFDoc_DocumentTool.SetLengthUnit_s(document, 0.001)
    shape_tool = XCAFDoc_DocumentTool.ShapeTool_s(document.Main())
    color_tool = XCAFDoc_DocumentTool.ColorTool_s(document.Main())
    shape_tool.SetAutoNaming_s(False)
    colours = {name: _colour(m.colour) for name, m in model.materials.items()}
    grey = _colour("#999999")
    here = TopLoc_Location()
    used: set[Any] = set()

    def node(parent: TDF_Label | None, name: str) -> TDF_Label:
        label = shape_tool.NewShape()
        _name(label, name)
        if parent is not None:
            _name(shape_tool.AddComponent(parent, label, here), name)
        return label

    root = node(None, model.name)
    for group, parts in solid_tree(model):
        group_label = node(root, group)
        for part, solids in parts:
            part_label = group_label if part == group else node(group_label, part)
            for s in solids:
                placed = shapes[s.id]
                shape = placed.Located(here)  # built at its anchor; the component places it
                if shape.TShape() in used:  # the STEP writer gives a shape one product: each solid its own
                    shape = BRepBuilderAPI_Copy(shape).Shape()
                used.add(shape.TShape())
                label = shape_tool.AddShape(shape, False, False)
                _name(label, s.id)
                _paint(shape_tool, color_tool, label, shape, colours.get(s.material, grey))
                _name(shape_tool.AddComponent(part_label, label, placed.Location()), s.id)
    shape_tool.UpdateAssemblies()
    return document


def _paint(
    shape_tool: XCAFDoc_ShapeTool,
    color_tool: XCAFDoc_ColorTool,
    label: TDF_Label,
    shape: TopoDS_Shape,
    colour: Any,
) -> None:
    """Colour a solid's label; a matrix in pieces (a compound) on its faces too, where readers look for it."""
    color_tool.SetColor(label, colour, XCAFDoc_ColorType.XCAFDoc_ColorGen)
    if shape.ShapeType() == TopAbs_ShapeEnum.TopAbs_COMPOUND:
        for face in _explore(shape, TopAbs_FACE):
            sub = shape_tool.AddSubShape(label, face)
            color_tool.SetColor(sub, colour, XCAFDoc_ColorType.XCAFDoc_ColorSurf)


def _colour(hex_colour: str) -> Quantity_ColorRGBA:
    """An sRGB ``#rrggbb`` colour as OpenCascade holds it (as build123d's ``Color`` makes it)."""
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return Quantity_ColorRGBA(Quantity_Color(r, g, b, Quantity_TypeOfColor.Quantity_TOC_sRGB), 1.0)


def _name(label: TDF_Label, name: str) -> None:
    TDataStd_Name.Set_s(label, TCollection_ExtendedString(name))


def _write(document: TDocStd_Document, name: str, path: Path) -> None:
    for printer in Message.DefaultMessenger_s().Printers():
        printer.SetTraceLevel(Message_Gravity.Message_Fail)
    STEPCAFControl_Controller.Init_s()
    STEPControl_Controller.Init_s()
    saved = Interface_Static.IVal_s("write.surfacecurve.mode")
    # Surface curves (pcurves) double the file and the write time; readers rebuild them from the 3D curves.
    Interface_Static.SetIVal_s("write.surfacecurve.mode", 0)
    try:
        writer = STEPCAFControl_Writer(XSControl_WorkSession(), False)
        writer.SetColorMode(True)
        writer.SetNameMode(True)
        writer.SetLayerMode(False)
        writer.Transfer(document, STEPControl_StepModelType.STEPControl_AsIs)
        header = APIHeaderSection_MakeHeader(writer.Writer().Model())  # after the transfer, which resets it
        header.SetName(TCollection_HAsciiString(name))
        header.SetOriginatingSystem(TCollection_HAsciiString("moldstack"))
        status = writer.Write(str(path))
    finally:
        Interface_Static.SetIVal_s("write.surfacecurve.mode", saved)
    if status != IFSelect_ReturnStatus.IFSelect_RetDone:
        raise RuntimeError(f"OpenCascade could not write {path}")
