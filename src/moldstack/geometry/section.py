"""Cut-plane sections of a built model: the exact 2D cut of every solid by an axis-aligned plane.

Holds :class:`Plane` (``"x=0"``, ``"y=-4200"``, ``"z=300"``), :func:`section` (a :class:`Section`: one
:class:`SectionPiece` per solid the plane cuts, a shapely polygon in the plane's own 2D coordinates, with the
solid's id, part, role, material and net), the :class:`Dimension` values a figure labels (body, die and
substrate thickness, unit diameter and pitch), and :func:`default_planes` (the planes a build draws).

Plane coordinates ``(u, v)``: for ``x=c`` they are ``(y, z)``, for ``y=c`` ``(x, z)``, for ``z=c`` ``(x, y)``;
micrometres, in the model's frame. It reads a :class:`~moldstack.geometry.model.Model` and knows nothing of
the spec, of figures or of file formats.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon

from moldstack.geometry.model import Model, PlacedAssembly, Solid
from moldstack.geometry.primitives import Box, Shape, Trace, Tube, Wire
from moldstack.materials import LIBRARY, Material

Axis = Literal["x", "y", "z"]
Area = Polygon | MultiPolygon

_AXES: tuple[Axis, ...] = ("x", "y", "z")
_INDEX: dict[str, int] = {"x": 0, "y": 1, "z": 2}
_IN_PLANE: dict[str, tuple[int, int]] = {"x": (1, 2), "y": (0, 2), "z": (0, 1)}
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_PLANE_RE = re.compile(rf"^\s*([xyzXYZ])\s*=\s*({_NUMBER})\s*(?:um|µm)?\s*$")
_MAX_ARC_VERTICES = 4096
DEFAULT_TOLERANCE_UM = 0.05


def _fmt(value: float) -> str:
    """A coordinate as short text: ``-4200``, ``12.5``."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


@dataclass(frozen=True)
class Plane:
    """The axis-aligned plane ``axis = at_um`` (micrometres, model frame)."""

    axis: Axis
    at_um: float

    def __post_init__(self) -> None:
        if self.axis not in _AXES:
            raise ValueError(f"plane axis {self.axis!r} must be one of x, y, z")
        if not math.isfinite(self.at_um):
            raise ValueError(f"plane position {self.at_um!r} must be a finite number of micrometres")

    @classmethod
    def parse(cls, text: str) -> Plane:
        """Read ``"x=0"``, ``"y=-4200"``, ``"z=300"`` (spaces and a trailing ``um`` allowed)."""
        match = _PLANE_RE.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f"plane {text!r} is not AXIS=VALUE: AXIS is one of x, y, z and VALUE a number in micrometres "
                "(for example 'x=0', 'y=-4200', 'z=300')"
            )
        value = float(match.group(2))
        if not math.isfinite(value):
            raise ValueError(f"plane {text!r}: the position must be a finite number of micrometres")
        axis: Axis = match.group(1).lower()  # type: ignore[assignment]
        return cls(axis, value)

    @property
    def index(self) -> int:
        """0, 1 or 2: the model coordinate the plane fixes."""
        return _INDEX[self.axis]

    @property
    def in_plane(self) -> tuple[Axis, Axis]:
        """Names of the plane's 2D coordinates (u, v): ``("y", "z")`` for an x plane."""
        i, j = _IN_PLANE[self.axis]
        return (_AXES[i], _AXES[j])

    @property
    def vertical(self) -> bool:
        """True for x and y planes, whose v coordinate is z."""
        return self.axis != "z"

    @property
    def slug(self) -> str:
        """For file names: ``y-4200``, ``x0``, ``z12p5``."""
        return f"{self.axis}{_fmt(self.at_um).replace('.', 'p')}"

    def __str__(self) -> str:
        return f"{self.axis}={_fmt(self.at_um)}"


def as_plane(plane: Plane | str) -> Plane:
    """A :class:`Plane` from itself or from its text (see :meth:`Plane.parse`)."""
    return plane if isinstance(plane, Plane) else Plane.parse(plane)


@dataclass(frozen=True)
class NamedPlane:
    """A plane with a short name for its file (``units_row_y4275``) and a sentence saying what it shows."""

    name: str
    plane: Plane
    description: str


@dataclass(frozen=True)
class SectionPiece:
    """The cut of one solid: ``area`` in the plane's (u, v) coordinates, with what the solid is."""

    solid: str
    part: str
    role: str
    material: str
    net: str | None
    assembly: str | None
    matrix: bool
    rank: int
    area: Area

    @property
    def area_um2(self) -> float:
        return float(self.area.area)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1)."""
        u0, v0, u1, v1 = self.area.bounds
        return (u0, v0, u1, v1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "solid": self.solid,
            "part": self.part,
            "role": self.role,
            "material": self.material,
            "net": self.net,
            "assembly": self.assembly,
            "matrix": self.matrix,
            "area_um2": self.area_um2,
            "bounds_um": list(self.bounds),
        }


@dataclass(frozen=True)
class Dimension:
    """A length a figure labels, in plane coordinates.

    It runs along ``axis`` (``"u"`` or ``"v"``) from ``start`` to ``end``; ``at`` is where, on the other
    axis, the measured feature ends (a unit's top, a body's right edge), so a figure draws the dimension line
    just beyond it. ``kind`` is ``body_thickness``, ``die_thickness``, ``substrate_thickness``,
    ``unit_diameter`` or ``unit_pitch``; ``subject`` names what is measured (an assembly, a die, a unit).
    """

    kind: str
    subject: str
    axis: Literal["u", "v"]
    start: float
    end: float
    at: float

    @property
    def value_um(self) -> float:
        return abs(self.end - self.start)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "axis": self.axis,
            "start_um": self.start,
            "end_um": self.end,
            "at_um": self.at,
            "value_um": self.value_um,
        }


@dataclass(frozen=True)
class Section:
    """The cut of a model by one plane: a piece per solid cut, the dimensions worth labelling, the colours.

    Pieces of inclusions are exact cuts; a matrix's piece is its rectangle minus every inclusion piece and
    every higher-rank matrix piece, so pieces tile the cut without overlapping (bar a wire's end dipping into
    its pad, as in the model). Curved boundaries are inscribed polygons within ``tolerance_um`` of the curve.
    """

    model: str
    plane: Plane
    pieces: tuple[SectionPiece, ...]
    dimensions: tuple[Dimension, ...]
    materials: Mapping[str, Material] = field(default_factory=dict)
    tolerance_um: float = DEFAULT_TOLERANCE_UM

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1) of all pieces."""
        boxes = np.array([p.bounds for p in self.pieces])
        return (
            float(boxes[:, 0].min()),
            float(boxes[:, 1].min()),
            float(boxes[:, 2].max()),
            float(boxes[:, 3].max()),
        )

    def piece(self, solid_id: str) -> SectionPiece:
        """The piece of the solid ``solid_id`` (KeyError if the plane does not cut it)."""
        for p in self.pieces:
            if p.solid == solid_id:
                return p
        raise KeyError(f"plane {self.plane} does not cut solid {solid_id!r}")

    def by_role(self, prefix: str) -> list[SectionPiece]:
        """Pieces whose role is ``prefix`` or starts with ``prefix.``."""
        return [p for p in self.pieces if p.role == prefix or p.role.startswith(prefix + ".")]

    def colour(self, material: str) -> str:
        """The fill colour of a material (grey for one the model does not describe)."""
        known = self.materials.get(material) or LIBRARY.get(material)
        return known.colour if known is not None else "#999999"

    def to_dict(self) -> dict[str, Any]:
        u, v = self.plane.in_plane
        return {
            "model": self.model,
            "plane": str(self.plane),
            "coordinates": [u, v],
            "units": "um",
            "tolerance_um": self.tolerance_um,
            "pieces": [p.to_dict() for p in self.pieces],
            "dimensions": [d.to_dict() for d in self.dimensions],
        }


# --- exact cuts of the primitives ------------------------------------------------------------------------


def _arc_step(radius: float, tolerance: float) -> float:
    """Angle step whose chords stay within ``tolerance`` of an arc of ``radius``."""
    if radius <= tolerance:
        return math.pi / 4
    return min(math.pi / 4, 2.0 * math.acos(1.0 - tolerance / radius))


def _circle_points(cu: float, cv: float, radius: float, tolerance: float) -> NDArray[np.float64]:
    """Vertices of a regular polygon inscribed in the circle, counter-clockwise, within ``tolerance``."""
    n = min(max(8, math.ceil(2 * math.pi / _arc_step(radius, tolerance))), _MAX_ARC_VERTICES)
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    return np.column_stack([cu + radius * np.cos(t), cv + radius * np.sin(t)])


def _polygon(points: NDArray[np.float64]) -> Area | None:
    """The convex hull of ``points`` as a polygon, or None when it has no area."""
    if len(points) < 3:
        return None
    hull = shapely.MultiPoint(points).convex_hull
    return hull if isinstance(hull, Polygon) and hull.area > 0 else None


def _rect(u0: float, v0: float, u1: float, v1: float) -> Polygon | None:
    return shapely.box(u0, v0, u1, v1) if u1 > u0 and v1 > v0 else None


def _box_cut(box: Box, plane: Plane) -> Area | None:
    lo = (box.x0, box.y0, box.z0)
    hi = (box.x1, box.y1, box.z1)
    k = plane.index
    if not lo[k] <= plane.at_um < hi[k]:
        return None
    i, j = _IN_PLANE[plane.axis]
    return _rect(lo[i], lo[j], hi[i], hi[j])


def _tube_cut(tube: Tube, plane: Plane, tolerance: float) -> Area | None:
    if plane.axis == "z":
        if not tube.z0 <= plane.at_um < tube.z1:
            return None
        shell = _circle_points(tube.cx, tube.cy, tube.r, tolerance)
        holes = [_circle_points(tube.cx, tube.cy, tube.r_inner, tolerance)[::-1]] if tube.r_inner > 0 else []
        return Polygon(shell, holes)
    # a vertical plane meets the tube in one chord rectangle, or two where it passes through the bore
    across, centre = (tube.cx, tube.cy) if plane.axis == "x" else (tube.cy, tube.cx)
    d = abs(plane.at_um - across)
    if d >= tube.r:
        return None
    w = math.sqrt(tube.r**2 - d**2)
    if tube.r_inner > 0 and d < tube.r_inner:
        wi = math.sqrt(tube.r_inner**2 - d**2)
        parts = [
            _rect(centre - w, tube.z0, centre - wi, tube.z1),
            _rect(centre + wi, tube.z0, centre + w, tube.z1),
        ]
        return MultiPolygon([p for p in parts if p is not None])
    return _rect(centre - w, tube.z0, centre + w, tube.z1)


def _trace_cut(trace: Trace, plane: Plane) -> Area | None:
    length = trace.length
    if length <= 0:
        return None
    ux, uy = (trace.xb - trace.xa) / length, (trace.yb - trace.ya) / length
    nx, ny = -uy, ux
    half = trace.width / 2
    if plane.axis == "z":
        if not trace.z0 <= plane.at_um < trace.z1:
            return None
        a, b = np.array([trace.xa, trace.ya]), np.array([trace.xb, trace.yb])
        n = np.array([nx, ny]) * half
        poly = Polygon([a - n, b - n, b + n, a + n])
        return poly if poly.area > 0 else None
    # points (x, y) on the line of the plane, by the free coordinate s: base + s * e
    base = np.array([plane.at_um, 0.0]) if plane.axis == "x" else np.array([0.0, plane.at_um])
    e = np.array([0.0, 1.0]) if plane.axis == "x" else np.array([1.0, 0.0])
    lo, hi = -math.inf, math.inf
    rel = base - np.array([trace.xa, trace.ya])
    for direction, low, high in (((ux, uy), 0.0, length), ((nx, ny), -half, half)):
        alpha = float(rel @ np.array(direction))
        beta = float(e @ np.array(direction))
        if abs(beta) < 1e-12:
            if not low <= alpha <= high:
                return None
            continue
        s0, s1 = sorted(((low - alpha) / beta, (high - alpha) / beta))
        lo, hi = max(lo, s0), min(hi, s1)
    return _rect(lo, trace.z0, hi, trace.z1) if hi > lo else None


def _capsule_points(
    a: NDArray[np.float64], b: NDArray[np.float64], r: float, plane: Plane, tolerance: float
) -> NDArray[np.float64]:
    """Boundary points of the cut of {q : dist(q, segment ab) <= r}, whose convex hull is the cut to tolerance.

    The capsule is the finite cylinder on ab joined with a ball at each end. The plane meets each ball in a
    disc and the infinite cylinder in an ellipse (semi-axes r / |cos phi| and r, phi the angle between ab and
    the plane's normal) of which the finite cylinder keeps a strip; the cut is convex, so it is the hull of
    these pieces. Every point returned lies on the exact boundary, so the hull is inscribed in the cut.
    """
    k = plane.index
    i, j = _IN_PLANE[plane.axis]
    c = plane.at_um
    ha, hb = a[k] - c, b[k] - c
    if min(ha, hb) >= r or max(ha, hb) <= -r:
        return np.empty((0, 2))
    pts: list[NDArray[np.float64]] = []
    for end, h in ((a, ha), (b, hb)):
        if abs(h) < r:
            pts.append(_circle_points(end[i], end[j], math.sqrt(r * r - h * h), tolerance))
    ab = b - a
    length = float(np.linalg.norm(ab))
    if length <= 0:
        return np.vstack(pts) if pts else np.empty((0, 2))
    d = ab / length
    dn = float(d[k])
    sin_phi = math.sqrt(max(1.0 - dn * dn, 0.0))
    if abs(dn) < 1e-12:
        # the axis runs in a plane parallel to the cut: the cylinder leaves a rectangle of half-width rho
        rho = math.sqrt(r * r - ha * ha)
        e1 = np.array([d[i], d[j]]) / sin_phi
        e2 = np.array([-e1[1], e1[0]]) * rho
        pa, pb = np.array([a[i], a[j]]), np.array([b[i], b[j]])
        pts.append(np.array([pa - e2, pa + e2, pb - e2, pb + e2]))
        return np.vstack(pts)
    t0 = (c - a[k]) / dn  # distance along ab where its line crosses the plane
    centre = a + t0 * d
    p0 = np.array([centre[i], centre[j]])
    if sin_phi < 1e-12:
        if 0.0 <= t0 <= length:
            pts.append(_circle_points(p0[0], p0[1], r, tolerance))
        return np.vstack(pts) if pts else np.empty((0, 2))
    major = r / abs(dn)
    e1 = np.array([d[i], d[j]]) / sin_phi
    e2 = np.array([-e1[1], e1[0]])
    x_lo = max(-t0 / sin_phi, -major)
    x_hi = min((length - t0) / sin_phi, major)
    if x_hi > x_lo:
        psi_lo = math.acos(min(max(x_hi / major, -1.0), 1.0))
        psi_hi = math.acos(min(max(x_lo / major, -1.0), 1.0))
        n = min(max(2, math.ceil((psi_hi - psi_lo) / _arc_step(major, tolerance)) + 1), _MAX_ARC_VERTICES)
        psi = np.linspace(psi_lo, psi_hi, n)
        x = major * np.cos(psi)
        y = r * np.sin(psi)
        for sign in (1.0, -1.0):
            pts.append(p0 + np.outer(x, e1) + np.outer(sign * y, e2))
    return np.vstack(pts) if pts else np.empty((0, 2))


def _wire_cut(wire: Wire, plane: Plane, tolerance: float) -> Area | None:
    path = wire.points
    r = wire.radius
    parts = []
    for a, b in itertools.pairwise(path):
        poly = _polygon(_capsule_points(a, b, r, plane, tolerance))
        if poly is not None:
            parts.append(poly)
    if not parts:
        return None
    return _clean(shapely.union_all(parts))


def _clean(geometry: shapely.Geometry) -> Area | None:
    """Only the polygons of a shapely result (boolean operations can leave stray lines and points)."""
    if geometry.is_empty:
        return None
    if isinstance(geometry, Polygon):
        return geometry if geometry.area > 0 else None
    polys = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon) and g.area > 0]
    polys += [
        p
        for g in getattr(geometry, "geoms", [])
        if isinstance(g, MultiPolygon)
        for p in g.geoms
        if p.area > 0
    ]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def cut(shape: Shape, plane: Plane | str, tolerance_um: float = DEFAULT_TOLERANCE_UM) -> Area | None:
    """The cut of one primitive by ``plane`` in plane coordinates, or None where the plane misses it.

    - :class:`Box`: a rectangle; :class:`Trace` (the prism of its oriented rectangle): a rectangle in a
      vertical plane, the oriented rectangle in a z plane; both exact.
    - :class:`Tube`: in a vertical plane the chord rectangle, or two where the plane passes through the bore
      (exact); in a z plane the disc or annulus (inscribed polygon within ``tolerance_um``).
    - :class:`Wire`: the wire is taken as the union of balls of its radius centred on its centre line, i.e.
      the union over segments of {q : dist(q, segment) <= r}; each segment's cut is convex and is computed
      exactly as a disc per end ball and a strip of the ellipse the segment's cylinder makes, then
      polygonised inside the curve within ``tolerance_um``. This differs from the swept disc of
      :class:`Wire` (flat ends, mitred bends) only by a hemispherical cap of radius r beyond each flat end
      and, at a bend of angle b, by at most r (1/cos(b/2) - 1) at the outside of the mitre.

    Intervals along the plane's axis are half-open, [low, high): a plane lying on a face two solids share
    cuts the solid on its positive side only, so pieces do not overlap there.
    """
    p = as_plane(plane)
    if isinstance(shape, Box):
        return _box_cut(shape, p)
    if isinstance(shape, Tube):
        return _tube_cut(shape, p, tolerance_um)
    if isinstance(shape, Trace):
        return _trace_cut(shape, p)
    if isinstance(shape, Wire):
        return _wire_cut(shape, p, tolerance_um)
    raise TypeError(f"no section rule for {type(shape).__name__}")


# --- the section of a model ------------------------------------------------------------------------------


def _piece(solid: Solid, area: Area) -> SectionPiece:
    return SectionPiece(
        solid=solid.id,
        part=solid.part,
        role=solid.role,
        material=solid.material,
        net=solid.net,
        assembly=solid.assembly,
        matrix=solid.matrix,
        rank=solid.rank,
        area=area,
    )


def _oriented(area: Area) -> Area:
    """Shells counter-clockwise, holes clockwise (the non-zero fill rule then draws the holes)."""
    if isinstance(area, MultiPolygon):
        return MultiPolygon([shapely.geometry.polygon.orient(g, 1.0) for g in area.geoms])
    return shapely.geometry.polygon.orient(area, 1.0)


def _reaches(solid: Solid, plane: Plane) -> bool:
    box = solid.shape.bbox
    k = plane.index
    return box[k] <= plane.at_um <= box[k + 3]


def section(model: Model, plane: Plane | str, tolerance_um: float = DEFAULT_TOLERANCE_UM) -> Section:
    """Cut ``model`` by an axis-aligned ``plane`` (a :class:`Plane` or text such as ``"y=-4200"``).

    Every solid the plane cuts gives one :class:`SectionPiece` (see :func:`cut` for the rule per primitive);
    matrix solids (mold body, base frame, substrate laminate) give their rectangle minus the union of the
    inclusion pieces and of the higher-rank matrix pieces. Curved boundaries are inscribed polygons within
    ``tolerance_um`` (default 0.05 um); boxes, traces and tubes cut by vertical planes are exact. Raises
    ValueError where the plane misses the model.
    """
    if not tolerance_um > 0:
        raise ValueError(f"tolerance_um must be positive, not {tolerance_um!r}")
    p = as_plane(plane)
    inclusions: list[tuple[Solid, Area]] = []
    matrices: list[tuple[Solid, Area]] = []
    for solid in model.solids:
        if not _reaches(solid, p):
            continue
        area = cut(solid.shape, p, tolerance_um)
        if area is not None:
            (matrices if solid.matrix else inclusions).append((solid, area))
    if not inclusions and not matrices:
        lo, hi = model.bbox[p.index], model.bbox[p.index + 3]
        raise ValueError(
            f"plane {p} cuts no solid of {model.name!r}: its {p.axis} runs from {_fmt(lo)} to {_fmt(hi)} um"
        )
    tree = shapely.STRtree([a for _, a in inclusions])
    pieces = [_piece(s, _oriented(a)) for s, a in inclusions]
    carved: list[SectionPiece] = []
    for solid, rect in matrices:
        holes = [inclusions[i][1] for i in tree.query(rect, predicate="intersects")]
        holes += [a for other, a in matrices if other.rank > solid.rank and a.intersects(rect)]
        rest = _clean(shapely.difference(rect, shapely.union_all(holes))) if holes else rect
        if rest is not None:
            carved.append(_piece(solid, _oriented(rest)))
    carved.sort(key=lambda piece: piece.rank)
    return Section(
        model=model.name,
        plane=p,
        pieces=(*carved, *pieces),
        dimensions=tuple(_dimensions(model, p, tolerance_um)),
        materials={m: model.materials[m] for m in {s.material for s in model.solids} if m in model.materials},
        tolerance_um=tolerance_um,
    )


# --- dimensions and default planes -----------------------------------------------------------------------


def _column(model: Model, solids: Iterable[str]) -> Tube | None:
    """The part of a unit that runs its full height (post, protrusion or via column): its tallest tube."""
    tubes = [s for s in (model.solid(sid).shape for sid in solids) if isinstance(s, Tube)]
    return max(tubes, key=lambda t: (t.z1 - t.z0, t.r), default=None)


def _uv(plane: Plane, x: float, y: float, z: float) -> tuple[float, float]:
    xyz = (x, y, z)
    i, j = _IN_PLANE[plane.axis]
    return (xyz[i], xyz[j])


def _body_dimensions(asm: PlacedAssembly, plane: Plane) -> list[Dimension]:
    lo = (asm.x0, asm.y0, asm.z_bottom)
    hi = (asm.x1, asm.y1, asm.z_top)
    k = plane.index
    if not plane.vertical or not lo[k] <= plane.at_um < hi[k]:
        return []
    u1 = hi[0] if plane.axis == "y" else hi[1]
    dims = [Dimension("body_thickness", asm.name, "v", asm.z_bottom, asm.z_top, u1)]
    for die in asm.dies:
        dlo, dhi = (die.x0, die.y0), (die.x1, die.y1)
        if dlo[k] <= plane.at_um < dhi[k]:
            u0 = die.x0 if plane.axis == "y" else die.y0
            dims.append(
                Dimension("die_thickness", f"{asm.name}/{die.name}", "v", die.z_back, die.z_front, u0)
            )
    return dims


def _unit_dimensions(model: Model, asm: PlacedAssembly, plane: Plane, tolerance: float) -> list[Dimension]:
    """Diameter of each unit column whose axis lies in the plane, and the pitch between neighbours in a row."""
    found: list[tuple[str, float, float, float, str]] = []  # (row, centre u, radius, top v, name)
    for unit in asm.units:
        col = _column(model, unit.solids)
        if col is None:
            continue
        if plane.vertical:
            across = col.cx if plane.axis == "x" else col.cy
            if abs(across - plane.at_um) > tolerance:
                continue
            centre, _ = _uv(plane, col.cx, col.cy, 0.0)
            found.append((unit.edge, centre, col.r, col.z1, unit.name))
        elif col.z0 <= plane.at_um < col.z1:
            found.append((f"{unit.edge}@{col.cy:.3f}", col.cx, col.r, col.cy + col.r, unit.name))
    dims: list[Dimension] = []
    rows: dict[str, list[tuple[str, float, float, float, str]]] = {}
    for item in found:
        rows.setdefault(item[0], []).append(item)
    for row in rows.values():
        row.sort(key=lambda item: item[1])
        for _, centre, radius, top, name in row:
            dims.append(
                Dimension("unit_diameter", f"{asm.name}/{name}", "u", centre - radius, centre + radius, top)
            )
        for left, right in itertools.pairwise(row):
            dims.append(
                Dimension(
                    "unit_pitch",
                    f"{asm.name}/{left[4]}-{right[4]}",
                    "u",
                    left[1],
                    right[1],
                    max(left[3], right[3]),
                )
            )
    return dims


def _dimensions(model: Model, plane: Plane, tolerance: float) -> list[Dimension]:
    dims: list[Dimension] = []
    for asm in model.assemblies:
        dims += _body_dimensions(asm, plane)
        dims += _unit_dimensions(model, asm, plane, tolerance)
    if plane.vertical and model.substrate_part is not None:
        for solid in model.by_role("substrate"):
            if solid.role == "substrate" and isinstance(solid.shape, Box) and _box_cut(solid.shape, plane):
                box = solid.shape
                u1 = box.x1 if plane.axis == "y" else box.y1
                dims.append(Dimension("substrate_thickness", solid.part, "v", box.z0, box.z1, u1))
    return dims


def _nearest_row(values: Sequence[float], target: float) -> float:
    """Of the distinct values (rounded to 1 nm), the one nearest ``target``; ties go to the commoner."""
    counts = Counter(round(v, 3) for v in values)
    return min(counts, key=lambda v: (abs(v - target), -counts[v]))


def default_planes(model: Model) -> tuple[NamedPlane, ...]:
    """The planes a build draws, for the first assembly's first die (the lowest package of a stack).

    - ``units_row_…``: through the axes of the row of units along the die's north edge (the row nearest the
      die), so every unit of the row is cut through its column (post, protrusion or via); without north
      units, the row along another edge; none without units.
    - ``die_centre_…``: the y plane through the die's centre.
    - ``die_and_units_…``: only when the die-centre plane cuts no unit column: the y plane through the
      east/west unit column nearest the die's centre, so the die and the units beside it show together.
    """
    if not model.assemblies or not model.assemblies[0].dies:
        return ()
    asm = model.assemblies[0]
    die = asm.dies[0]
    cy = 0.5 * (die.y0 + die.y1)
    columns = {u.name: _column(model, u.solids) for u in asm.units}
    planes: list[NamedPlane] = []
    by_edge: dict[str, list[Tube]] = {}
    for unit in asm.units:
        col = columns[unit.name]
        if col is not None:
            by_edge.setdefault(unit.edge, []).append(col)
    edge = next((e for e in ("north", "south", "east", "west") if by_edge.get(e)), None)
    if edge is not None:
        cols = by_edge[edge]
        if edge in {"north", "south"}:
            row = _nearest_row([c.cy for c in cols], die.y1 if edge == "north" else die.y0)
            row_plane = Plane("y", row)
        else:
            row = _nearest_row([c.cx for c in cols], die.x1 if edge == "east" else die.x0)
            row_plane = Plane("x", row)
        planes.append(
            NamedPlane(
                f"units_row_{row_plane.slug}",
                row_plane,
                f"through the row of units along the {edge} edge of {asm.name}/{die.name}",
            )
        )
    centre = Plane("y", cy)
    planes.append(
        NamedPlane(f"die_centre_{centre.slug}", centre, f"through the centre of {asm.name}/{die.name}")
    )
    side = [c for e in ("east", "west") for c in by_edge.get(e, [])]
    if side and not any(abs(c.cy - cy) <= DEFAULT_TOLERANCE_UM for c in side):
        nearest = min(side, key=lambda c: (abs(c.cy - cy), c.cy))
        beside = Plane("y", nearest.cy)
        planes.append(
            NamedPlane(
                f"die_and_units_{beside.slug}",
                beside,
                f"through {asm.name}/{die.name} and the unit columns beside it nearest its centre",
            )
        )
    return tuple(planes)


__all__ = [
    "Dimension",
    "NamedPlane",
    "Plane",
    "Section",
    "SectionPiece",
    "as_plane",
    "cut",
    "default_planes",
    "section",
]
