"""Solid primitives the model is made of, in micrometres: z-axial prisms and swept wires.

Every primitive is a frozen value with its exact volume, its axis-aligned bounding box and a vectorised
signed distance (negative inside) used for interference and contact tests. Prisms (:class:`Box`,
:class:`Cylinder`, :class:`Tube`, :class:`Trace`) are a 2D section extruded along z; :class:`Wire` is a circle
swept along a polyline (a bond wire). Nothing here knows about packages, claims or the spec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import shapely
from numpy.typing import NDArray

Array = NDArray[np.float64]


class Primitive(Protocol):
    kind: str

    @property
    def volume(self) -> float: ...

    @property
    def bbox(self) -> tuple[float, float, float, float, float, float]: ...

    def signed_distance(self, points: Array) -> Array: ...

    def to_dict(self) -> dict[str, Any]: ...


def _z_interval_distance(z: Array, z0: float, z1: float) -> Array:
    """Signed distance of z values to the slab [z0, z1] (negative inside)."""
    return np.maximum(z0 - z, z - z1)


def _combine(d_xy: Array, d_z: Array) -> Array:
    """Signed distance to the extrusion of a 2D region (exact outside corners, exact inside)."""
    outside = np.hypot(np.maximum(d_xy, 0.0), np.maximum(d_z, 0.0))
    inside = np.minimum(np.maximum(d_xy, d_z), 0.0)
    return outside + inside


@dataclass(frozen=True)
class Prism:
    """Common behaviour of z-extruded solids: a 2D section between ``z0`` and ``z1``."""

    z0: float
    z1: float

    @property
    def height(self) -> float:
        return self.z1 - self.z0

    def section(self, resolution: int = 64) -> shapely.Geometry:
        raise NotImplementedError

    @property
    def area(self) -> float:
        raise NotImplementedError

    def xy_distance(self, x: Array, y: Array) -> Array:
        raise NotImplementedError

    @property
    def volume(self) -> float:
        return self.area * self.height

    def signed_distance(self, points: Array) -> Array:
        pts = np.atleast_2d(points)
        return _combine(
            self.xy_distance(pts[:, 0], pts[:, 1]), _z_interval_distance(pts[:, 2], self.z0, self.z1)
        )


@dataclass(frozen=True)
class Box(Prism):
    """Axis-aligned box [x0, x1] x [y0, y1] x [z0, z1]."""

    x0: float
    y0: float
    x1: float
    y1: float
    kind: str = "box"

    @classmethod
    def centred(cls, cx: float, cy: float, sx: float, sy: float, z0: float, z1: float) -> Box:
        return cls(z0=z0, z1=z1, x0=cx - sx / 2, y0=cy - sy / 2, x1=cx + sx / 2, y1=cy + sy / 2)

    @property
    def area(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)

    @property
    def bbox(self) -> tuple[float, float, float, float, float, float]:
        return (self.x0, self.y0, self.z0, self.x1, self.y1, self.z1)

    def section(self, resolution: int = 64) -> shapely.Geometry:
        return shapely.box(self.x0, self.y0, self.x1, self.y1)

    def xy_distance(self, x: Array, y: Array) -> Array:
        dx = np.maximum(self.x0 - x, x - self.x1)
        dy = np.maximum(self.y0 - y, y - self.y1)
        return np.hypot(np.maximum(dx, 0), np.maximum(dy, 0)) + np.minimum(np.maximum(dx, dy), 0)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "min": [self.x0, self.y0, self.z0], "max": [self.x1, self.y1, self.z1]}


@dataclass(frozen=True)
class Tube(Prism):
    """Annulus (``r_inner`` > 0) or disc (``r_inner`` = 0) about a vertical axis at (cx, cy)."""

    cx: float
    cy: float
    r: float
    r_inner: float = 0.0
    kind: str = "tube"

    @property
    def area(self) -> float:
        return math.pi * (self.r**2 - self.r_inner**2)

    @property
    def bbox(self) -> tuple[float, float, float, float, float, float]:
        return (self.cx - self.r, self.cy - self.r, self.z0, self.cx + self.r, self.cy + self.r, self.z1)

    def section(self, resolution: int = 64) -> shapely.Geometry:
        outer = shapely.Point(self.cx, self.cy).buffer(self.r, quad_segs=resolution)
        if self.r_inner > 0:
            return outer.difference(
                shapely.Point(self.cx, self.cy).buffer(self.r_inner, quad_segs=resolution)
            )
        return outer

    def xy_distance(self, x: Array, y: Array) -> Array:
        rho = np.hypot(x - self.cx, y - self.cy)
        d = rho - self.r
        return np.maximum(d, self.r_inner - rho) if self.r_inner > 0 else d

    def to_dict(self) -> dict[str, Any]:
        kind = "tube" if self.r_inner > 0 else "cylinder"
        data: dict[str, Any] = {
            "kind": kind,
            "axis": [self.cx, self.cy],
            "z": [self.z0, self.z1],
            "r": self.r,
        }
        if self.r_inner > 0:
            data["r_inner"] = self.r_inner
        return data


def Cylinder(cx: float, cy: float, r: float, z0: float, z1: float) -> Tube:  # noqa: N802 - reads as a shape
    """A solid vertical cylinder (a :class:`Tube` with no bore)."""
    return Tube(z0=z0, z1=z1, cx=cx, cy=cy, r=r)


@dataclass(frozen=True)
class Trace(Prism):
    """A straight flat conductor of ``width`` from (xa, ya) to (xb, yb), square-ended, between z0 and z1."""

    xa: float
    ya: float
    xb: float
    yb: float
    width: float
    kind: str = "trace"

    @property
    def length(self) -> float:
        return math.hypot(self.xb - self.xa, self.yb - self.ya)

    @property
    def area(self) -> float:
        return self.length * self.width

    def section(self, resolution: int = 64) -> shapely.Geometry:
        line = shapely.LineString([(self.xa, self.ya), (self.xb, self.yb)])
        return line.buffer(self.width / 2, cap_style="flat")

    @property
    def bbox(self) -> tuple[float, float, float, float, float, float]:
        x0, y0, x1, y1 = self.section().bounds
        return (x0, y0, self.z0, x1, y1, self.z1)

    def xy_distance(self, x: Array, y: Array) -> Array:
        ux, uy = (self.xb - self.xa) / self.length, (self.yb - self.ya) / self.length
        along = (x - self.xa) * ux + (y - self.ya) * uy
        across = -(x - self.xa) * uy + (y - self.ya) * ux
        da = np.maximum(-along, along - self.length)
        dc = np.abs(across) - self.width / 2
        return np.hypot(np.maximum(da, 0), np.maximum(dc, 0)) + np.minimum(np.maximum(da, dc), 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "from": [self.xa, self.ya],
            "to": [self.xb, self.yb],
            "width": self.width,
            "z": [self.z0, self.z1],
        }


@dataclass(frozen=True)
class Wire:
    """A round wire of ``diameter`` swept along a 3D polyline.

    Its volume is that of the disc swept along the centre line (flat ends); its distances (``signed_distance``,
    ``closest_centrelines``) are those of the union of balls along the centre line (round ends). The two differ
    only by the end caps, 2/3 pi r^3 each, well inside the tolerances the checks use.
    """

    path: tuple[tuple[float, float, float], ...]
    diameter: float
    kind: str = "wire"

    @property
    def points(self) -> Array:
        return np.asarray(self.path, dtype=float)

    @property
    def length(self) -> float:
        return float(np.linalg.norm(np.diff(self.points, axis=0), axis=1).sum())

    @property
    def radius(self) -> float:
        return self.diameter / 2

    @property
    def volume(self) -> float:
        """Pappus: a disc swept along the centre line (exact for bend radii larger than the wire radius)."""
        return math.pi * self.radius**2 * self.length

    @property
    def bbox(self) -> tuple[float, float, float, float, float, float]:
        p = self.points
        lo, hi = p.min(axis=0) - self.radius, p.max(axis=0) + self.radius
        return (lo[0], lo[1], lo[2], hi[0], hi[1], hi[2])

    def centreline_distance(self, points: Array) -> Array:
        """Distance from each point to the centre polyline."""
        pts = np.atleast_2d(points)
        a, b = self.points[:-1], self.points[1:]
        ab = b - a
        denom = np.maximum((ab * ab).sum(axis=1), 1e-30)
        ap = pts[:, None, :] - a[None, :, :]
        t = np.clip((ap * ab[None]).sum(axis=2) / denom[None], 0.0, 1.0)
        closest = a[None] + t[..., None] * ab[None]
        return np.linalg.norm(pts[:, None, :] - closest, axis=2).min(axis=1)

    def signed_distance(self, points: Array) -> Array:
        return self.centreline_distance(points) - self.radius

    def closest_centrelines(self, other: Wire) -> tuple[float, Array]:
        """Least distance between this wire's centre line and ``other``'s, and the midpoint of that closest pair.

        Exact: the closest points of every pair of segments (Ericson, Real-Time Collision Detection, 5.1.9),
        vectorised over all pairs.
        """
        p1, q1 = self.points[:-1, None, :], self.points[1:, None, :]
        p2, q2 = other.points[None, :-1, :], other.points[None, 1:, :]
        d1, d2, r = q1 - p1, q2 - p2, p1 - p2
        a = np.maximum((d1 * d1).sum(-1), 1e-30)
        e = np.maximum((d2 * d2).sum(-1), 1e-30)
        f = (d2 * r).sum(-1)
        c = (d1 * r).sum(-1)
        b = (d1 * d2).sum(-1)
        denom = a * e - b * b
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(denom > 1e-12 * a * e, np.clip((b * f - c * e) / denom, 0.0, 1.0), 0.0)
        t = (b * s + f) / e
        s = np.where(t < 0, np.clip(-c / a, 0.0, 1.0), np.where(t > 1, np.clip((b - c) / a, 0.0, 1.0), s))
        t = np.clip(t, 0.0, 1.0)
        c1 = p1 + d1 * s[..., None]
        c2 = p2 + d2 * t[..., None]
        dist = np.linalg.norm(c1 - c2, axis=-1)
        k = np.unravel_index(int(np.argmin(dist)), dist.shape)
        return float(dist[k]), 0.5 * (c1[k] + c2[k])

    def samples(self, step: float) -> Array:
        """Points along the centre line no further apart than ``step`` (both ends included)."""
        p = self.points
        seg = np.diff(p, axis=0)
        counts = np.maximum(np.ceil(np.linalg.norm(seg, axis=1) / step).astype(int), 1)
        which = np.repeat(np.arange(len(seg)), counts)
        starts = np.cumsum(counts) - counts
        t = (np.arange(counts.sum()) - np.repeat(starts, counts)) / np.repeat(counts, counts)
        return np.vstack([p[which] + t[:, None] * seg[which], p[-1:]])

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": [list(p) for p in self.path], "diameter": self.diameter}


Shape = Box | Tube | Trace | Wire


def moved(shape: Shape, dx: float, dy: float, dz: float) -> Shape:
    """The same shape translated by (dx, dy, dz)."""
    if isinstance(shape, Wire):
        return replace(shape, path=tuple((x + dx, y + dy, z + dz) for x, y, z in shape.path))
    shift: dict[str, float] = {"z0": shape.z0 + dz, "z1": shape.z1 + dz}
    if isinstance(shape, Box):
        shift |= {"x0": shape.x0 + dx, "y0": shape.y0 + dy, "x1": shape.x1 + dx, "y1": shape.y1 + dy}
    elif isinstance(shape, Tube):
        shift |= {"cx": shape.cx + dx, "cy": shape.cy + dy}
    else:
        shift |= {"xa": shape.xa + dx, "ya": shape.ya + dy, "xb": shape.xb + dx, "yb": shape.yb + dy}
    return replace(shape, **shift)
