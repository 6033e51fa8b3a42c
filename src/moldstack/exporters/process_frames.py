"""Process frames: each step's cut-plane slice of a process run drawn as a section figure.

Holds :func:`slice_section` (a grid :class:`~moldstack.fab.record.Slice` as a
:class:`~moldstack.geometry.section.Section`, one piece per label, so the section figure code draws a process
frame in the same style as an exact cut of a built model), :func:`write_frames` (one SVG and/or PNG per step
and frame plane, all at one vertical exaggeration, one detail window and one drawn extent, so a step slider
shows every frame at the same scale and place) and :class:`FrameFile` (what was written).

It reads a :class:`~moldstack.fab.record.ProcessRun` and draws with
:mod:`moldstack.exporters.section_figure`; it knows neither the model builder, nor the spec, nor how the
process computes its states. Files are written atomically; nothing here prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

from moldstack.exporters.section_figure import (
    SectionFigure,
    Window,
    auto_window,
    choose_exaggeration,
    write_section_png,
    write_section_svg,
)
from moldstack.fab.record import ProcessRun, Slice, StepRecord
from moldstack.geometry.section import Area, Dimension, Plane, Section, SectionPiece
from moldstack.materials import Material

Format = Literal["svg", "png"]
Bounds = tuple[float, float, float, float]

_WRITERS: dict[str, Callable[..., SectionFigure]] = {"svg": write_section_svg, "png": write_section_png}
_BODY_ROLES = ("body", "body.uncured")


# --- a slice as a section --------------------------------------------------------------------------------


def _runs(labels: NDArray[np.uint16]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Runs of equal label along u in every v row: (v row, first u cell, one past the last u cell)."""
    rows = labels.T  # (v, u)
    starts = np.ones(rows.shape, dtype=bool)
    starts[:, 1:] = rows[:, 1:] != rows[:, :-1]
    k, i0 = np.nonzero(starts)  # row-major: ordered by row, then along the row
    i1 = np.empty_like(i0)
    i1[:-1] = i0[1:]
    row_ends = np.ones(k.shape, dtype=bool)
    row_ends[:-1] = k[1:] != k[:-1]
    i1[row_ends] = rows.shape[1]
    return k, i0, i1


def _polygonal(geometry: shapely.Geometry) -> Area | None:
    """The polygons of a union, shells counter-clockwise and holes clockwise (the figure's non-zero rule)."""
    parts = [g for g in shapely.get_parts(geometry) if isinstance(g, Polygon) and g.area > 0]
    if not parts:
        return None
    oriented = [orient(p, 1.0) for p in parts]
    return oriented[0] if len(oriented) == 1 else MultiPolygon(oriented)


def _label_areas(slice_: Slice) -> dict[int, Area]:
    """Each non-ambient label present: the union of its cells, merged row by row into rectangles first."""
    labels = np.asarray(slice_.labels)
    if labels.size == 0:
        return {}
    k, i0, i1 = _runs(labels)
    ids = labels[i0, k]
    drawn = ids != 0
    k, i0, i1, ids = k[drawn], i0[drawn], i1[drawn], ids[drawn]
    u, v = np.asarray(slice_.u_edges, dtype=float), np.asarray(slice_.v_edges, dtype=float)
    boxes = shapely.box(u[i0], v[k], u[i1], v[k + 1])
    areas: dict[int, Area] = {}
    for label in np.unique(ids):
        # tolerance 0 only drops the collinear vertices the row rectangles leave along straight edges
        merged = shapely.simplify(shapely.union_all(boxes[ids == label]), 0.0)
        area = _polygonal(merged)
        if area is not None:
            areas[int(label)] = area
    return areas


def _extent(pieces: Sequence[SectionPiece], roles: Sequence[str]) -> Bounds | None:
    boxes = [p.bounds for p in pieces if p.role in roles]
    if not boxes:
        return None
    arr = np.array(boxes)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max()))


def _dimensions(pieces: Sequence[SectionPiece]) -> tuple[Dimension, ...]:
    """What the slice itself measures: the mold body's thickness and the die's, as the cells lie."""
    dims: list[Dimension] = []
    body = _extent(pieces, _BODY_ROLES)
    if body is not None:
        dims.append(Dimension("body_thickness", "body", "v", body[1], body[3], body[2]))
    die = _extent(pieces, ("die",))
    if die is not None:
        dims.append(Dimension("die_thickness", "die", "v", die[1], die[3], die[0]))
    return tuple(dims)


def slice_section(slice_: Slice, title: str, materials: Mapping[str, Material] | None = None) -> Section:
    """The grid slice as a :class:`Section` named ``title``: one piece per label present, ambient air left out.

    A piece's area is the union of the label's cells (exact: cell edges are its vertices); its solid id is
    ``label:<role>:<material>`` and its part the role. Dimensions: the thickness of the mold body and of the
    die where the slice cuts them, measured on the cells.
    """
    pieces = []
    for label, area in _label_areas(slice_).items():
        lab = slice_.table[label]
        pieces.append(
            SectionPiece(
                solid=f"label:{lab.role}:{lab.material}",
                part=lab.role,
                role=lab.role,
                material=lab.material,
                net=None,
                assembly=None,
                matrix=False,
                rank=0,
                area=area,
            )
        )
    return Section(
        model=title,
        plane=slice_.plane,
        pieces=tuple(pieces),
        dimensions=_dimensions(pieces),
        materials=dict(materials or {}),
    )


# --- frames ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FramedSection(Section):
    """A section whose drawn extent is fixed (``frame``, grown to its pieces), so frames line up step by step."""

    frame: Bounds | None = None

    @property
    def bounds(self) -> Bounds:
        u0, v0, u1, v1 = super().bounds
        if self.frame is None:
            return (u0, v0, u1, v1)
        f = self.frame
        return (min(u0, f[0]), min(v0, f[1]), max(u1, f[2]), max(v1, f[3]))


@dataclass(frozen=True)
class FrameFile:
    """One frame written: its file, the step (index from 1, kind) and the plane it cuts, the format."""

    path: Path
    step: int
    kind: str
    plane: Plane
    format: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "step": self.step,
            "kind": self.kind,
            "plane": str(self.plane),
            "format": self.format,
        }


def frame_title(run: ProcessRun, record: StepRecord) -> str:
    """``"<flow name> — step N: <title>"``."""
    return f"{run.flow.name} — step {record.index}: {record.title}"


def _union_bounds(sections: Sequence[Section]) -> Bounds | None:
    boxes = np.array([s.bounds for s in sections if s.pieces])
    if boxes.size == 0:
        return None
    return (
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    )


def _file_name(record: StepRecord, plane: Plane, planes: int, fmt: str) -> str:
    suffix = f"_{plane.slug}" if planes > 1 else ""
    return f"{record.index:02d}_{record.kind}{suffix}.{fmt}"


def _scale(sections: Sequence[_FramedSection]) -> tuple[float, Window | None]:
    """The one exaggeration and detail window of a plane's frames, from its last step that draws anything."""
    last = next(s for s in reversed(sections) if s.pieces)
    return choose_exaggeration(last), auto_window(last)


def write_frames(
    run: ProcessRun,
    directory: str | Path,
    formats: Sequence[Format] = ("svg", "png"),
    materials: Mapping[str, Material] | None = None,
) -> list[FrameFile]:
    """Draw every step's slice for every frame plane of ``run`` into ``directory`` (created if missing).

    Files are ``NN_<kind>.<fmt>`` (``NN`` the step index, two digits), with ``_<plane slug>`` before the
    suffix when the run has more than one frame plane. Per plane, every frame has the same vertical
    exaggeration and detail window (:func:`choose_exaggeration` and :func:`auto_window` of the last step's
    section) and the same drawn extent (that of all steps together). A step whose slice holds nothing but
    ambient air has no frame. Returns the files written, step by step.
    """
    unknown = [f for f in formats if f not in _WRITERS]
    if unknown:
        raise ValueError(f"frame formats must be among {sorted(_WRITERS)}, not {unknown}")
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_planes = max((len(r.slices) for r in run.records), default=0)
    written: list[tuple[int, int, int, FrameFile]] = []
    for p in range(n_planes):
        steps = [r for r in run.records if len(r.slices) > p]
        plain = [slice_section(r.slices[p], frame_title(run, r), materials) for r in steps]
        extent = _union_bounds(plain)
        if extent is None:
            continue
        sections = [_FramedSection(**_fields(s), frame=extent) for s in plain]
        exaggeration, window = _scale(sections)
        for record, section in zip(steps, sections, strict=True):
            if not section.pieces:
                continue
            for n, fmt in enumerate(formats):
                path = out_dir / _file_name(record, section.plane, n_planes, fmt)
                _WRITERS[fmt](section, path, exaggeration=exaggeration, window=window)
                frame = FrameFile(path, record.index, record.kind, section.plane, fmt)
                written.append((record.index, p, n, frame))
    return [w[-1] for w in sorted(written, key=lambda w: w[:3])]


def _fields(section: Section) -> dict[str, Any]:
    return {f.name: getattr(section, f.name) for f in dataclasses.fields(Section)}


__all__ = ["FrameFile", "frame_title", "slice_section", "write_frames"]
