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
multi-tool boolean cut. A large matrix is cut as parallel strips in worker processes, along planes that cross no
wire and no tool face, and the strips are sewn back into one solid (checked: one closed solid whose volume is
the box minus the tools; otherwise the single cut is done). Where a wire starts on a face it barely dips into
(the ball bond's top, entered by a fraction of a micrometre because the neck is not quite vertical), the cut
uses the wire extended along its axis into that solid, so the mold keeps no sub-micrometre wedge under the neck;
the exported wire itself is not changed, and the mold volume changes by less than ``r^3 / 10`` per wire.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from build123d import Color
from numpy.typing import NDArray
from OCP.APIHeaderSection import APIHeaderSection_MakeHeader
from OCP.BinTools import BinTools
from OCP.BRep import BRep_Builder
from OCP.BRepAdaptor import BRepAdaptor_Surface
from OCP.BRepAlgoAPI import BRepAlgoAPI_Cut
from OCP.BRepBuilderAPI import (
    BRepBuilderAPI_MakeEdge,
    BRepBuilderAPI_MakeFace,
    BRepBuilderAPI_MakePolygon,
    BRepBuilderAPI_MakeWire,
    BRepBuilderAPI_Sewing,
)
from OCP.BRepCheck import BRepCheck_Analyzer
from OCP.BRepGProp import BRepGProp
from OCP.BRepLib import BRepLib
from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox, BRepPrimAPI_MakePrism
from OCP.collections import Array1_double, Array1_gp_Pnt2d, Array1_int, List_TopoDS_Shape
from OCP.Geom import Geom_Circle, Geom_CylindricalSurface, Geom_Ellipse, Geom_Line
from OCP.Geom2d import Geom2d_BSplineCurve, Geom2d_Line
from OCP.GeomAbs import GeomAbs_SurfaceType
from OCP.gp import gp_Ax2, gp_Ax3, gp_Circ, gp_Dir, gp_Dir2d, gp_Elips, gp_Pln, gp_Pnt, gp_Pnt2d, gp_Trsf, gp_Vec
from OCP.GProp import GProp_GProps
from OCP.IFSelect import IFSelect_ReturnStatus
from OCP.Interface import Interface_Static
from OCP.Message import Message, Message_Gravity
from OCP.STEPCAFControl import STEPCAFControl_Controller, STEPCAFControl_Writer
from OCP.STEPControl import STEPControl_Controller, STEPControl_StepModelType
from OCP.TCollection import TCollection_ExtendedString, TCollection_HAsciiString
from OCP.TDataStd import TDataStd_Name
from OCP.TDF import TDF_Label
from OCP.TDocStd import TDocStd_Document
from OCP.TopAbs import TopAbs_FACE, TopAbs_Orientation, TopAbs_SHELL, TopAbs_SOLID
from OCP.TopExp import TopExp_Explorer
from OCP.TopLoc import TopLoc_Location
from OCP.TopoDS import TopoDS, TopoDS_Edge, TopoDS_Face, TopoDS_Shape, TopoDS_Shell, TopoDS_Solid, TopoDS_Wire
from OCP.TopoDS import TopoDS_Vertex
from OCP.XCAFApp import XCAFApp_Application
from OCP.XCAFDoc import XCAFDoc_ColorType, XCAFDoc_DocumentTool
from OCP.XSControl import XSControl_WorkSession
from scipy.interpolate import make_interp_spline

from moldstack.exporters.mesh import solid_tree
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Shape, Trace, Tube, Wire, moved
from moldstack.output import atomic_path

MM_PER_UM = 1e-3
TOLERANCE_MM = 1e-7  # OpenCascade's Precision::Confusion: edges, vertices and faces are built to it
SEW_TOLERANCE_MM = 1e-5  # 10 nm: strips of one matrix meet where two cuts met the same tools on one plane
TOOLS_PER_STRIP = 350  # a matrix holding more tools than this is cut as strips in parallel
MAX_STRIPS = 8
STRIP_CLEARANCE_UM = 2.0  # a strip plane keeps this far from any wire and from every tool's bounding planes
CARVE_VOLUME_RTOL = 1e-5  # sewn strips must give the box-minus-tools volume to this (else: one cut)

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
        return {"path": str(self.path), "solids": self.solids, "matrices": self.matrices, "seconds": self.seconds}


def export_step(model: Model, path: str | Path, *, workers: int | None = None) -> StepExport:
    """Write ``model`` as a STEP AP214 assembly (mm) to ``path`` atomically.

    The tree is ``model.name -> assembly instance -> part -> solid``; solids that belong to no assembly hang under
    ``substrate`` and ``joints``. Each solid is one B-rep solid named by its id and coloured by its material's
    colour; matrix solids are carved by what they hold, so the volume per material equals the model's net
    volumes. ``workers`` processes cut large matrices in parallel strips (default: the CPUs this process may
    use; 1 cuts everything here).
    """
    start = time.perf_counter()
    target = Path(path)
    shapes = ShapeFactory()
    solids = {s.id: shapes.solid(s.shape) for s in model.solids}
    carved = carve_matrices(model, workers=workers)
    solids.update(carved)
    document = _document(model, solids)
    with atomic_path(target) as temporary:
        _write(document, model.name, temporary)
    return StepExport(target, len(model.solids), len(carved), time.perf_counter() - start)


# --- primitives -------------------------------------------------------------------------------------------------


def _point(v: Sequence[float]) -> gp_Pnt:
    return gp_Pnt(float(v[0]), float(v[1]), float(v[2]))


def _direction(v: Sequence[float]) -> gp_Dir:
    return gp_Dir(float(v[0]), float(v[1]), float(v[2]))


def _translation(dx_mm: float, dy_mm: float, dz_mm: float) -> TopLoc_Location:
    trsf = gp_Trsf()
    trsf.SetTranslation(gp_Vec(dx_mm, dy_mm, dz_mm))
    return TopLoc_Location(trsf)


def _anchor(shape: Shape) -> tuple[float, float, float]:
    """The point a shape is built around: its first path point (wire) or its bounding box's low corner."""
    if isinstance(shape, Wire):
        return shape.path[0]
    b = shape.bbox
    return (b[0], b[1], b[2])


def _key(shape: Shape) -> Shape:
    """``shape`` moved so its anchor is the origin, rounded to 1e-6 um: equal keys are equal up to translation."""
    x, y, z = _anchor(shape)
    local = moved(shape, -x, -y, -z)
    if isinstance(local, Wire):
        return replace(local, path=tuple(tuple(round(c, 6) for c in p) for p in local.path))
    fields = {k: round(v, 6) for k, v in vars(local).items() if isinstance(v, float)}
    return replace(local, **fields)


class ShapeFactory:
    """B-rep solids (mm) for moldstack shapes; identical shapes are built once and placed by translation."""

    def __init__(self) -> None:
        self._made: dict[Shape, TopoDS_Shape] = {}

    def solid(self, shape: Shape) -> TopoDS_Shape:
        key = _key(shape)
        proto = self._made.get(key)
        if proto is None:
            proto = _build(key)
            self._made[key] = proto
        x, y, z = _anchor(shape)
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
_PCURVE_SAMPLES = 17  # interpolation points of cos and sin over one turn: error below 1e-6 of the amplitude


@cache
def _pcurve_basis() -> tuple[Array, Array, Array, list[float], list[int]]:
    """B-spline poles of U, cos U and sin U on [0, 2 pi] (shared knots), and the knots with multiplicities.

    The trace of a plane on a cylinder is ``V(U) = c + a cos U + b sin U`` in the cylinder's (U, V) parameters;
    B-splines are linear in their poles, so that trace's poles are ``c + a Pcos + b Psin``.
    """
    u = np.linspace(0.0, 2 * math.pi, _PCURVE_SAMPLES)
    cos = make_interp_spline(u, np.cos(u), k=_PCURVE_DEGREE)
    sin = make_interp_spline(u, np.sin(u), k=_PCURVE_DEGREE)
    knots = cos.t
    k = _PCURVE_DEGREE
    greville = np.array([knots[i + 1 : i + k + 1].mean() for i in range(len(cos.c))])
    distinct, counts = np.unique(np.round(knots, 12), return_counts=True)
    return greville, np.asarray(cos.c), np.asarray(sin.c), distinct.tolist(), counts.tolist()


def _plane_trace_pcurve(
    v_const: float, a: float, b: float, t0: float, knots: Array1_double
) -> Geom2d_BSplineCurve:
    """The pcurve ``U -> (U, v_const + a cos U + b sin U)`` parametrised by ``t = U + t0``."""
    greville, pc, ps, _, counts = _pcurve_basis()
    v = v_const + a * pc + b * ps
    poles = Array1_gp_Pnt2d(1, len(greville))
    for i, (uu, vv) in enumerate(zip(greville.tolist(), v.tolist(), strict=True), start=1):
        poles.SetValue(i, gp_Pnt2d(uu, vv))
    mults = Array1_int(1, len(counts))
    for i, m in enumerate(counts, start=1):
        mults.SetValue(i, m)
    return Geom2d_BSplineCurve(poles, knots, mults, _PCURVE_DEGREE)


def _shifted_knots(t0: float) -> Array1_double:
    distinct = _pcurve_basis()[3]
    knots = Array1_double(1, len(distinct))
    for i, k in enumerate(distinct, start=1):
        knots.SetValue(i, k + t0)
    return knots


def mitred_pipe(points_mm: Array, radius_mm: float) -> TopoDS_Solid:
    """A round wire along a polyline: one cylindrical face per segment, joined on the bisector planes.

    Built directly as a B-rep: the joint curves are the ellipses where neighbouring cylinders meet their
    bisector plane (circles at the flat ends and at straight joints), each cylinder's seam is carried from one
    joint to the next along the surface, and every edge gets its exact (ellipses, lines) or B-spline (the
    sinusoidal trace of a plane on a cylinder, within 1e-9 mm) curve on each face it bounds.
    """
    p = np.asarray(points_mm, dtype=float)
    seg = np.diff(p, axis=0)
    keep = np.linalg.norm(seg, axis=1) > 1e-9
    if not keep.all():  # repeated points make no segment
        p = np.vstack([p[:1], p[1:][keep]])
        seg = np.diff(p, axis=0)
    n_seg = len(seg)
    u = seg / np.linalg.norm(seg, axis=1)[:, None]
    normals = np.vstack([u[:1], _unit(u[:-1] + u[1:]), u[-1:]])
    r = float(radius_mm)

    # Seam points: start at angle 0 of the first cylinder and carry them along each segment to the next plane.
    helper = np.array([0.0, 0.0, 1.0]) if abs(u[0, 2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x_dir = _unit(np.cross(u[0], helper))
    seams = [p[0] + r * x_dir]
    frames = []
    for i in range(n_seg):
        q = seams[-1]
        radial = (q - p[i]) - np.dot(q - p[i], u[i]) * u[i]
        frames.append(radial / np.linalg.norm(radial))
        n = normals[i + 1]
        seams.append(q + np.dot(p[i + 1] - q, n) / np.dot(u[i], n) * u[i])

    builder = BRep_Builder()
    vertices = []
    for q in seams:
        v = TopoDS_Vertex()
        builder.MakeVertex(v, _point(q), TOLERANCE_MM)
        vertices.append(v)

    rings: list[TopoDS_Edge] = []
    ring_t0: list[float] = []
    for j in range(n_seg + 1):
        n = normals[j]
        d = seams[j] - p[j]
        bend = np.cross(u[j - 1], u[j]) if 0 < j < n_seg else np.zeros(3)
        if np.linalg.norm(bend) < 1e-12:
            x_axis = _unit(d - np.dot(d, n) * n)
            curve: Any = Geom_Circle(gp_Ax2(_point(p[j]), _direction(n), _direction(x_axis)), r)
            t0 = 0.0
        else:
            minor = _unit(bend)
            major = np.cross(n, minor)
            big = r / float(np.dot(u[j], n))
            curve = Geom_Ellipse(gp_Elips(gp_Ax2(_point(p[j]), _direction(n), _direction(major)), big, r))
            t0 = math.atan2(float(np.dot(d, np.cross(n, major))) / r, float(np.dot(d, major)) / big)
        edge = TopoDS_Edge()
        builder.MakeEdge(edge, curve, TOLERANCE_MM)
        builder.Add(edge, vertices[j].Oriented(_FORWARD))
        builder.Add(edge, vertices[j].Oriented(_REVERSED))
        builder.Range(edge, t0, t0 + 2 * math.pi)
        rings.append(edge)
        ring_t0.append(t0)

    faces: list[TopoDS_Face] = []
    for i in range(n_seg):
        x_i = frames[i]
        y_i = np.cross(u[i], x_i)
        face = TopoDS_Face()
        builder.MakeFace(face, Geom_CylindricalSurface(gp_Ax3(_point(p[i]), _direction(u[i]), _direction(x_i)), r), TOLERANCE_MM)
        s0, s1 = seams[i], seams[i + 1]
        seam = TopoDS_Edge()
        builder.MakeEdge(seam, Geom_Line(_point(s0), _direction(u[i])), TOLERANCE_MM)
        builder.Add(seam, vertices[i].Oriented(_FORWARD))
        builder.Add(seam, vertices[i + 1].Oriented(_REVERSED))
        builder.Range(seam, 0.0, float(np.linalg.norm(s1 - s0)))
        v0 = float(np.dot(s0 - p[i], u[i]))
        builder.UpdateEdge(
            seam,
            Geom2d_Line(gp_Pnt2d(2 * math.pi, v0), gp_Dir2d(0.0, 1.0)),
            Geom2d_Line(gp_Pnt2d(0.0, v0), gp_Dir2d(0.0, 1.0)),
            face,
            TOLERANCE_MM,
        )
        for j in (i, i + 1):
            n = normals[j]
            den = float(np.dot(u[i], n))
            c = float(np.dot(p[j] - p[i], n)) / den
            a = -r * float(np.dot(x_i, n)) / den
            b = -r * float(np.dot(y_i, n)) / den
            if abs(a) < 1e-15 and abs(b) < 1e-15:
                pcurve: Any = Geom2d_Line(gp_Pnt2d(-ring_t0[j], c), gp_Dir2d(1.0, 0.0))
            else:
                pcurve = _plane_trace_pcurve(c, a, b, ring_t0[j], _shifted_knots(ring_t0[j]))
            builder.UpdateEdge(rings[j], pcurve, face, TOLERANCE_MM)
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
        cap = BRepBuilderAPI_MakeFace(gp_Pln(_point(p[j]), _direction(normals[j])), loop, True).Face()
        faces.append(TopoDS.Face(cap.Oriented(orientation)))

    shell = TopoDS_Shell()
    builder.MakeShell(shell)
    for face in faces:
        builder.Add(shell, face)
    shell.Closed(True)
    solid = TopoDS_Solid()
    builder.MakeSolid(solid)
    builder.Add(solid, shell)
    BRepLib.OrientClosedSolid_s(solid)
    return solid


def _unit(v: Array) -> Array:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# --- carving the matrices --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarveJob:
    """One boolean cut: ``region`` (a box, um) minus ``tools`` (shapes, um, as the cut should see them)."""

    region: Box
    tools: tuple[Shape, ...]


def carve_tools(model: Model, matrix: Solid) -> list[Shape]:
    """What carves ``matrix``: every inclusion and every higher-rank matrix whose box overlaps it.

    Wires that start on a face they dip into by less than their radius are extended into that solid (see the
    module notes); everything else is used as it is.
    """
    box = matrix.shape
    assert isinstance(box, Box)
    hosts = [s for s in model.solids if not s.matrix and not isinstance(s.shape, Wire)]
    tools: list[Shape] = []
    for s in model.solids:
        if s.id == matrix.id or (s.matrix and s.rank <= matrix.rank) or not _overlaps(s.shape.bbox, box.bbox):
            continue
        tools.append(_embedded_start(s.shape, hosts) if isinstance(s.shape, Wire) else s.shape)
    return tools


def _overlaps(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[3] and a[3] > b[0] and a[1] < b[4] and a[4] > b[1] and a[2] < b[5] and a[5] > b[2]


def _cap_ring(centre: Array, axis: Array, radius: float, count: int = 24) -> Array:
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    a = _unit(np.cross(axis, helper))
    b = np.cross(axis, a)
    t = np.linspace(0.0, 2 * math.pi, count, endpoint=False)
    return centre + radius * (np.cos(t)[:, None] * a + np.sin(t)[:, None] * b)


def _embedded_start(wire: Wire, hosts: Sequence[Solid]) -> Wire:
    """``wire`` with its first segment lengthened backwards by one radius when that lands it inside a solid."""
    p = wire.points
    back = _unit(p[0] - p[1])
    depth = wire.radius
    centre = p[0]
    for host in hosts:
        b = host.shape.bbox
        if not (b[0] <= centre[0] <= b[3] and b[1] <= centre[1] <= b[4] and b[2] <= centre[2] <= b[5]):
            continue
        if host.shape.signed_distance(centre[None])[0] > 1e-9:
            continue
        moved_ring = _cap_ring(centre + depth * back, back, wire.radius)
        cap = _cap_ring(centre, back, wire.radius)
        if host.shape.signed_distance(moved_ring).max() < 0 and host.shape.signed_distance(cap).min() < 0:
            return replace(wire, path=(tuple((centre + depth * back).tolist()), *wire.path[1:]))
    return wire


def carve_matrices(model: Model, *, workers: int | None = None) -> dict[str, TopoDS_Shape]:
    """Each matrix solid minus what it holds, as one B-rep solid per matrix id (mm)."""
    matrices = [s for s in model.solids if s.matrix]
    plans: dict[str, list[CarveJob]] = {}
    tools_of: dict[str, list[Shape]] = {}
    for m in matrices:
        tools = carve_tools(model, m)
        tools_of[m.id] = tools
        assert isinstance(m.shape, Box)
        plans[m.id] = [CarveJob(region, _inside(tools, region)) for region in plan_strips(m.shape, tools)]
    jobs = [job for m in matrices for job in plans[m.id]]
    results = iter(_run_jobs(jobs, workers))
    carved: dict[str, TopoDS_Shape] = {}
    for m in matrices:
        pieces = [next(results) for _ in plans[m.id]]
        assert isinstance(m.shape, Box)
        solid = pieces[0] if len(pieces) == 1 else _sewn(pieces, plans[m.id])
        if solid is None or not _volume_matches(solid, model.net_volumes[m.id]):
            solid = _cut(CarveJob(m.shape, tuple(tools_of[m.id])))
        carved[m.id] = solid
    return carved


def _inside(tools: Sequence[Shape], region: Box) -> tuple[Shape, ...]:
    return tuple(t for t in tools if _overlaps(t.bbox, region.bbox))


def plan_strips(box: Box, tools: Sequence[Shape]) -> list[Box]:
    """Split ``box`` into strips along x for parallel cutting, at planes that cross no wire and no tool face.

    The number of strips grows with the number of tools (:data:`TOOLS_PER_STRIP`); each plane is the clear
    position nearest to an even split. A box with few tools, or no clear position, stays whole.
    """
    count = min(MAX_STRIPS, max(1, round(len(tools) / TOOLS_PER_STRIP)))
    if count == 1:
        return [box]
    blocked = []
    for t in tools:
        b = t.bbox
        if isinstance(t, Wire):
            blocked.append((b[0] - STRIP_CLEARANCE_UM, b[3] + STRIP_CLEARANCE_UM))
        else:
            blocked.extend(((b[0] - STRIP_CLEARANCE_UM, b[0] + STRIP_CLEARANCE_UM), (b[3] - STRIP_CLEARANCE_UM, b[3] + STRIP_CLEARANCE_UM)))
    free = _free_intervals(box.x0, box.x1, blocked)
    width = box.x1 - box.x0
    cuts: list[float] = []
    for k in range(1, count):
        want = box.x0 + width * k / count
        best = min(
            (float(np.clip(want, lo, hi)) for lo, hi in free),
            key=lambda x: abs(x - want),
            default=None,
        )
        if best is not None and abs(best - want) < width / (2 * count) and (not cuts or best > cuts[-1]):
            cuts.append(best)
    edges = [box.x0, *cuts, box.x1]
    return [replace(box, x0=a, x1=b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _free_intervals(lo: float, hi: float, blocked: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of (lo, hi) no blocked interval covers, each shrunk by the clearance at the box's own ends."""
    free: list[tuple[float, float]] = []
    cursor = lo + STRIP_CLEARANCE_UM
    for a, b in sorted(blocked):
        if a > cursor:
            free.append((cursor, min(a, hi - STRIP_CLEARANCE_UM)))
        cursor = max(cursor, b)
    if cursor < hi - STRIP_CLEARANCE_UM:
        free.append((cursor, hi - STRIP_CLEARANCE_UM))
    return [(a, b) for a, b in free if b > a]


def _run_jobs(jobs: Sequence[CarveJob], workers: int | None) -> list[TopoDS_Shape]:
    count = workers if workers is not None else _available_cpus()
    if count <= 1 or len(jobs) <= 1:
        return [_cut(job) for job in jobs]
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i].tools))  # largest first
    with ProcessPoolExecutor(max_workers=min(count, len(jobs)), mp_context=context) as pool:
        done = dict(zip(order, pool.map(_cut_to_bytes, [jobs[i] for i in order]), strict=True))
    return [_from_bytes(done[i]) for i in range(len(jobs))]


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cut_to_bytes(job: CarveJob) -> bytes:
    stream = io.BytesIO()
    BinTools.Write_s(_cut(job), stream)
    return stream.getvalue()


def _from_bytes(data: bytes) -> TopoDS_Shape:
    shape = TopoDS_Shape()
    BinTools.Read_s(shape, io.BytesIO(data))
    return shape


def _cut(job: CarveJob) -> TopoDS_Shape:
    """``job.region`` minus all its tools in one boolean; the single solid of the result."""
    factory = ShapeFactory()
    arguments = List_TopoDS_Shape()
    arguments.Append(factory.solid(job.region))
    tools = List_TopoDS_Shape()
    for t in job.tools:
        tools.Append(factory.solid(t))
    cut = BRepAlgoAPI_Cut()
    cut.SetArguments(arguments)
    cut.SetTools(tools)
    cut.SetUseOBB(True)
    cut.SetCheckInverted(False)
    cut.SetToFillHistory(False)
    cut.SetRunParallel(False)
    cut.Build()
    if not cut.IsDone():
        raise RuntimeError("OpenCascade could not carve a matrix solid")
    solids = list(_explore(cut.Shape(), TopAbs_SOLID))
    if len(solids) != 1:
        raise RuntimeError(f"carving a matrix solid left {len(solids)} solids, expected one")
    return solids[0]


def _explore(shape: TopoDS_Shape, kind: Any) -> Iterator[TopoDS_Shape]:
    explorer = TopExp_Explorer(shape, kind)
    while explorer.More():
        yield explorer.Current()
        explorer.Next()


def _sewn(pieces: Sequence[TopoDS_Shape], jobs: Sequence[CarveJob]) -> TopoDS_Shape | None:
    """The strips sewn into one solid without the faces on the planes between them; None if that fails."""
    planes = [job.region.x1 * MM_PER_UM for job in jobs[:-1]]
    sewing = BRepBuilderAPI_Sewing(SEW_TOLERANCE_MM)
    for piece in pieces:
        for face in _explore(piece, TopAbs_FACE):
            if not _on_planes(TopoDS.Face(face), planes):
                sewing.Add(face)
    sewing.Perform()
    if sewing.NbFreeEdges() or sewing.NbMultipleEdges():
        return None
    shells = [TopoDS.Shell(s) for s in _explore(sewing.SewedShape(), TopAbs_SHELL)]
    if not shells:
        return None
    return _solid_from_shells(shells)


def _on_planes(face: TopoDS_Face, planes: Sequence[float]) -> bool:
    surface = BRepAdaptor_Surface(face, False)
    if surface.GetType() != GeomAbs_SurfaceType.GeomAbs_Plane:
        return False
    plane = surface.Plane()
    normal = plane.Axis().Direction()
    if abs(abs(normal.X()) - 1.0) > 1e-12:
        return False
    x = plane.Location().X()
    return any(abs(x - c) < SEW_TOLERANCE_MM for c in planes)


def _solid_from_shells(shells: Sequence[TopoDS_Shell]) -> TopoDS_Solid:
    """One solid: the shell with the largest volume outside, every other shell a void inside it."""
    oriented = []
    for shell in shells:
        alone = TopoDS_Solid()
        BRep_Builder().MakeSolid(alone)
        BRep_Builder().Add(alone, shell)
        BRepLib.OrientClosedSolid_s(alone)
        oriented.append((_volume(alone), TopoDS.Shell(next(_explore(alone, TopAbs_SHELL)))))
    oriented.sort(key=lambda item: -item[0])
    solid = TopoDS_Solid()
    builder = BRep_Builder()
    builder.MakeSolid(solid)
    builder.Add(solid, oriented[0][1])
    for _, void in oriented[1:]:
        builder.Add(solid, void.Reversed())
    return solid


def _volume(shape: TopoDS_Shape) -> float:
    props = GProp_GProps()
    BRepGProp.VolumeProperties_s(shape, props)
    return props.Mass()


def _volume_matches(solid: TopoDS_Shape, net_um3: float) -> bool:
    return abs(_volume(solid) / MM_PER_UM**3 - net_um3) <= CARVE_VOLUME_RTOL * abs(net_um3)


# --- the XCAF document and the writer -----------------------------------------------------------------------------


def _document(model: Model, shapes: dict[str, TopoDS_Shape]) -> TDocStd_Document:
    """An XCAF document: the assembly tree of named labels, each solid coloured by its material."""
    document = TDocStd_Document(TCollection_ExtendedString("XmlOcaf"))
    application = XCAFApp_Application.GetApplication_s()
    application.NewDocument(TCollection_ExtendedString("MDTV-XCAF"), document)
    application.InitDocument(document)
    XCAFDoc_DocumentTool.SetLengthUnit_s(document, 0.001)
    shape_tool = XCAFDoc_DocumentTool.ShapeTool_s(document.Main())
    color_tool = XCAFDoc_DocumentTool.ColorTool_s(document.Main())
    shape_tool.SetAutoNaming_s(False)
    colours = {name: Color(m.colour).wrapped for name, m in model.materials.items()}
    grey = Color("#999999").wrapped
    here = TopLoc_Location()

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
                label = shape_tool.AddShape(shapes[s.id], False, False)
                _name(label, s.id)
                color_tool.SetColor(label, colours.get(s.material, grey), XCAFDoc_ColorType.XCAFDoc_ColorGen)
                _name(shape_tool.AddComponent(part_label, label, here), s.id)
    shape_tool.UpdateAssemblies()
    return document


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
        header = APIHeaderSection_MakeHeader(writer.Writer().Model())
        header.SetName(TCollection_HAsciiString(name))
        header.SetOriginatingSystem(TCollection_HAsciiString("moldstack"))
        writer.Transfer(document, STEPControl_StepModelType.STEPControl_AsIs)
        status = writer.Write(str(path))
    finally:
        Interface_Static.SetIVal_s("write.surfacecurve.mode", saved)
    if status != IFSelect_ReturnStatus.IFSelect_RetDone:
        raise RuntimeError(f"OpenCascade could not write {path}")
