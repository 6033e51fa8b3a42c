"""A static isometric picture of a built model (``model.png``): what the report shows without the 3D viewer.

Holds :func:`write_model_render`. Every solid becomes its closed triangle mesh (the tessellation of
:mod:`moldstack.exporters.mesh`, coarser: a chord error of a quarter pixel), projected isometrically (azimuth
-45 degrees, elevation 30 degrees, true scale) and drawn with flat shading in its material's colour by a small
numpy z-buffer rasteriser (supersampled 2 x 2). The mold body and the dielectric base (matrix boxes) are drawn
as translucent shells: their near faces blended over what lies behind them, their edges outlined, so the dies,
units and wires inside show; the substrate laminate stays opaque. Air (hollow cores) is left out. It knows the model and the mesh tessellation; nothing of the spec, the
analyses or the report page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from moldstack.exporters.mesh import MeshFactory, TriangleMesh, shape_mesh
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box
from moldstack.materials import library_with
from moldstack.output import write_figure

Array = NDArray[np.float64]

AZIMUTH_DEG = -45.0  # the camera looks from the -y, +x side: the front-right corner faces the viewer
ELEVATION_DEG = 30.0
SUPERSAMPLE = 2
MATRIX_ALPHA = 0.22  # opacity of a translucent shell's near faces
BACKGROUND = np.array([1.0, 1.0, 1.0])
LIGHT = np.array([-0.35, -0.55, 0.76])  # towards the light: from the upper left front


def _rgb(colour: str) -> Array:
    return np.array([int(colour[i : i + 2], 16) / 255.0 for i in (1, 3, 5)])


def _view_axes() -> tuple[Array, Array, Array]:
    """Right, up and towards-the-camera unit vectors of the isometric view (world coordinates)."""
    az, el = math.radians(AZIMUTH_DEG), math.radians(ELEVATION_DEG)
    toward = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    right = np.cross(np.array([0.0, 0.0, 1.0]), toward)
    right /= np.linalg.norm(right)
    up = np.cross(toward, right)
    return right, up, toward


def _box_mesh(bbox: Sequence[float]) -> TriangleMesh:
    x0, y0, z0, x1, y1, z1 = bbox
    return shape_mesh(Box(x0=x0, y0=y0, x1=x1, y1=y1, z0=z0, z1=z1))


def _triangles(meshes: Sequence[TriangleMesh]) -> Array:
    """All triangles of ``meshes`` as an (n, 3, 3) array of vertex coordinates (um)."""
    if not meshes:
        return np.zeros((0, 3, 3))
    return np.concatenate([m.vertices[m.faces] for m in meshes])


def _expand(counts: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For ``counts[i]`` items of each group i: each item's group and its place (0, 1, ...) in the group."""
    group = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return group, np.arange(len(group)) - starts[group]


class _Raster:
    """A z-buffer of ``width`` x ``height`` samples: the nearest triangle's colour and depth at each sample.

    Triangles are scan-converted all at once: the sample rows each covers, each row's span of samples (the
    centres between its edges), the depth on the triangle's plane (the projection is orthographic)."""

    CHUNK_SAMPLES = 4_000_000

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.depth = np.full(width * height, -np.inf, dtype=np.float32)
        self.nearest = np.full(width * height, -1, dtype=np.int32)
        self.colours: list[Array] = []
        self.count = 0

    def add(self, screen: Array, colours: Array) -> None:
        """Draw triangles given in sample coordinates ((n, 3, 3): x right, y down, depth towards the camera),
        of colour (n, 3). A sample is covered when its centre lies in the triangle (edges included)."""
        a, b, c = screen[:, 0], screen[:, 1], screen[:, 2]
        normal = np.cross(b - a, c - a)
        flat = np.abs(normal[:, 2]) > 1e-9  # seen edge-on, a triangle covers nothing
        screen, colours, normal = screen[flat], colours[flat], normal[flat]
        first = self.count
        self.colours.append(colours)
        self.count += len(colours)
        area = (
            np.abs(normal[:, 2]) / 2 + np.ptp(screen[:, :, 0], axis=1) + np.ptp(screen[:, :, 1], axis=1) + 1
        )
        chunk = np.floor(np.cumsum(area) / self.CHUNK_SAMPLES).astype(np.int64)
        ids = np.arange(first, self.count)
        for k in np.unique(chunk):
            pick = chunk == k
            self._fill(screen[pick], normal[pick], ids[pick])

    def _fill(self, tri: Array, normal: Array, ids: NDArray[np.int64]) -> None:
        ymin, ymax = tri[:, :, 1].min(axis=1), tri[:, :, 1].max(axis=1)
        row0 = np.maximum(np.ceil(ymin - 0.5), 0).astype(np.int64)
        row1 = np.minimum(np.floor(ymax - 0.5), self.height - 1).astype(np.int64)
        t, offset = _expand(np.maximum(row1 - row0 + 1, 0))
        row = row0[t] + offset
        y = row + 0.5
        x_lo = np.full(len(t), np.inf)
        x_hi = np.full(len(t), -np.inf)
        for i, j in ((0, 1), (1, 2), (2, 0)):
            xa, ya, xb, yb = tri[t, i, 0], tri[t, i, 1], tri[t, j, 0], tri[t, j, 1]
            dy = yb - ya
            u = (y - ya) / np.where(dy == 0, 1.0, dy)
            ok = (dy != 0) & (u >= 0) & (u <= 1)
            x = xa + u * (xb - xa)
            x_lo = np.where(ok, np.minimum(x_lo, x), x_lo)
            x_hi = np.where(ok, np.maximum(x_hi, x), x_hi)
        col0 = np.maximum(np.ceil(np.where(np.isfinite(x_lo), x_lo, 0) - 0.5), 0).astype(np.int64)
        col1 = np.minimum(np.floor(np.where(np.isfinite(x_hi), x_hi, -1) - 0.5), self.width - 1).astype(
            np.int64
        )
        # the depth along a row: base + slope * column (the plane through the triangle)
        n, v = normal[t], tri[t, 0]
        slope = -n[:, 0] / n[:, 2]
        base = v[:, 2] - (n[:, 0] * (0.5 - v[:, 0]) + n[:, 1] * (y - v[:, 1])) / n[:, 2]
        r, offset = _expand(np.maximum(col1 - col0 + 1, 0))
        if len(r) == 0:
            return
        col = col0[r] + offset
        depth = base[r] + slope[r] * col
        pixel = row[r] * self.width + col
        depth = depth.astype(np.float32)
        np.maximum.at(self.depth, pixel, depth)
        won = depth >= self.depth[pixel]
        self.nearest[pixel[won]] = ids[t[r[won]]]

    def resolve(self) -> tuple[Array, Array]:
        """The colour (height, width, 3; NaN where nothing was drawn) and depth (-inf there) of each sample."""
        palette = np.vstack([*self.colours, np.full((1, 3), np.nan)]).astype(np.float32)
        colour = palette[self.nearest]  # -1: the NaN row
        return colour.reshape(self.height, self.width, 3), self.depth.reshape(self.height, self.width)


def _shade(triangles: Array, base: Array) -> tuple[Array, Array]:
    """Each triangle's unit normal and its flat-shaded colour (ambient plus Lambert from :data:`LIGHT`)."""
    normal = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    normal = normal / np.where(length > 0, length, 1.0)
    light = LIGHT / np.linalg.norm(LIGHT)
    intensity = 0.45 + 0.55 * np.clip(normal @ light, 0.0, 1.0)
    return normal, np.clip(base * intensity[:, None] + 0.08 * (1 - intensity[:, None]), 0.0, 1.0)


def _translucent(solid: Solid) -> bool:
    """Whether a solid is drawn as a translucent shell: the mold body and the dielectric base (matrix boxes)."""
    return solid.matrix and solid.role.split(".")[0] == "body"


def write_model_render(model: Model, path: str | Path, *, width_px: int = 1200, height_px: int = 800) -> Path:
    """Write an isometric PNG of ``model`` to ``path`` atomically and return the path.

    Flat shading in each material's colour; the mold body and dielectric base translucent with their edges
    drawn, so the dies, units and wires inside show; a legend of the materials drawn. About a second for the
    claim-21 example, two for the package-on-package example's thousand solids.
    """
    import matplotlib  # noqa: PLC0415 - matplotlib only when a picture is made

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    library = library_with(model.materials)
    right, up, toward = _view_axes()
    drawn = [s for s in model.solids if s.material != "air"]
    bbox = np.array(model.bbox, dtype=float)
    corners = np.array([[bbox[i], bbox[j], bbox[k]] for i in (0, 3) for j in (1, 4) for k in (2, 5)])
    sx, sy = corners @ right, corners @ up
    margin = 0.04
    span_x, span_y = np.ptp(sx) * (1 + 2 * margin), np.ptp(sy) * (1 + 2 * margin)
    width, height = width_px * SUPERSAMPLE, height_px * SUPERSAMPLE
    scale = min(width / span_x, height / span_y)  # samples per um
    cx, cy = (sx.min() + sx.max()) / 2, (sy.min() + sy.max()) / 2

    def to_screen(points: Array) -> Array:
        x = (points @ right - cx) * scale + width / 2
        y = height / 2 - (points @ up - cy) * scale
        return np.stack([x, y, points @ toward], axis=-1)

    def colour_of(material: str) -> str:
        return library[material].colour if material in library else "#999999"

    factory = MeshFactory(chord_um=max(0.25 * SUPERSAMPLE / scale, 0.5))
    opaque = _Raster(width, height)
    shells = [s for s in drawn if _translucent(s)]
    by_material: dict[str, list[Solid]] = {}
    for s in drawn:
        if not _translucent(s):
            by_material.setdefault(s.material, []).append(s)
    for material, solids in by_material.items():
        triangles = _triangles([factory.mesh(s.shape) for s in solids])
        normal, shaded = _shade(triangles, _rgb(colour_of(material)))
        front = normal @ toward > 0  # closed solids: the faces turned away are hidden
        opaque.add(to_screen(triangles[front]), shaded[front])
    image, depth = opaque.resolve()
    image[np.isnan(image[..., 0])] = BACKGROUND
    # each shell's near faces over what lies behind them, the farthest shell first; drawn in the window of
    # samples the shell's box covers
    for s in sorted(shells, key=lambda s: float(np.array(s.shape.bbox).reshape(2, 3).mean(axis=0) @ toward)):
        triangles = _triangles([_box_mesh(s.shape.bbox)])
        normal, shaded = _shade(triangles, _rgb(colour_of(s.material)))
        front = normal @ toward > 0
        screen = to_screen(triangles[front])
        x0, y0 = (max(int(v), 0) for v in np.floor(screen[:, :, :2].reshape(-1, 2).min(axis=0)))
        x1, y1 = np.ceil(screen[:, :, :2].reshape(-1, 2).max(axis=0)).astype(int) + 1
        x1, y1 = min(x1, width), min(y1, height)
        if x1 <= x0 or y1 <= y0:
            continue
        shell = _Raster(x1 - x0, y1 - y0)
        shell.add(screen - np.array([x0, y0, 0.0]), shaded[front])
        cover, cover_depth = shell.resolve()
        window = image[y0:y1, x0:x1]
        over = ~np.isnan(cover[..., 0]) & (cover_depth >= depth[y0:y1, x0:x1])
        window[over] = (1 - MATRIX_ALPHA) * window[over] + MATRIX_ALPHA * cover[over]
    image = image.reshape(height_px, SUPERSAMPLE, width_px, SUPERSAMPLE, 3).mean(axis=(1, 3))

    dpi = 100
    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.imshow(image, extent=(0, width, height, 0), interpolation="antialiased")
    for s in shells:
        for a, b in to_screen(_box_edges(s.shape.bbox)):
            ax.plot([a[0], b[0]], [a[1], b[1]], color="#333333", linewidth=0.6, alpha=0.55)
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    materials = sorted({s.material for s in drawn})
    handles = [Patch(facecolor=colour_of(m), edgecolor="#555555", label=m) for m in materials]
    ax.legend(
        handles=handles, loc="lower left", frameon=False, fontsize=9, title="material", title_fontsize=9
    )
    ax.text(
        0.01,
        0.985,
        f"{model.name}: isometric view, mold translucent",
        transform=ax.transAxes,
        va="top",
        fontsize=11,
        color="#222222",
    )
    return write_figure(figure, path, "png", dpi=dpi)


def _box_edges(bbox: Sequence[float]) -> Array:
    """The 12 edges of a box as (12, 2, 3) end points."""
    x0, y0, z0, x1, y1, z1 = bbox
    c = np.array([[x, y, z] for z in (z0, z1) for y in (y0, y1) for x in (x0, x1)])
    pairs = [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7)]
    return np.array([[c[a], c[b]] for a, b in pairs])


__all__ = ["write_model_render"]
