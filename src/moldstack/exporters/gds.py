"""Mask artwork of a built model: GDSII or OASIS in plan view, one layer per role, and the layer map naming them.

Holds the role -> GDS layer table (:data:`ROLE_LAYERS`), the per-model layer map (:class:`LayerMap`: layer,
datatype, material and the z range each layer's solids occupy per cell), the plan geometry of each primitive,
and the writer :func:`export_gds` with its result :class:`GdsExport`.

Layout of the file (library unit 1 um, precision 1 nm):

- one cell per placed assembly, holding its solids in plan relative to its body centre; a ``substrate`` cell
  (relative to the laminate's centre) when the design has one, and a ``joints`` cell (model coordinates) for the
  stack's joints, which belong to no assembly;
- a top cell named after the model that places each of those cells at its offset and holds nothing else.

Plan geometry per solid (one polygon each): a box is its rectangle; a tube its circle or annulus
(:func:`gdstk.ellipse`, vertices on the circle, chord error at most ``tolerance_um``); a trace its rectangle; a
wire the plan projection of its centre line stroked to the wire's diameter with flush ends (a straight projection,
which every bond wire has since its loop lies in a vertical plane, is the exact rectangle between the extreme
points; a bent one is stroked by :class:`gdstk.FlexPath` with natural joins and written as a polygon; a wire seen
end-on is the disc of its cross section). Matrix solids (mold body, dielectric base, laminate) are drawn as their
outlines: the carving by their inclusions is a 3D notion and is not subtracted in plan. Each polygon carries GDS
property 1 = the solid's id and, where it has one, property 2 = its net, so a shape picked in KLayout names the
solid it came from.

It must not know the spec, the builder or the claims: it reads a :class:`~moldstack.geometry.model.Model` only.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import gdstk
import numpy as np

from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Shape, Trace, Tube, Wire
from moldstack.output import atomic_path, write_text
from moldstack.roles import ROLES

UNIT_M = 1e-6
"""Library unit: coordinates in the file are micrometres."""
PRECISION_M = 1e-9
"""Database unit: 1 nm."""
MAX_POLYGON_POINTS = 8190
"""Most vertices a GDSII boundary may hold (8191 points with the repeated first one); larger ones are fractured."""

ROLE_LAYERS: Mapping[str, int] = MappingProxyType(
    {
        "body": 1,
        "body.base": 2,
        "die": 10,
        "die.contact": 11,
        "die.attach": 12,
        "second_die": 20,
        "second_die.terminal": 21,
        "second_die.attach": 22,
        "conductive_unit.post": 30,
        "conductive_unit.pad": 31,
        "conductive_unit.protrusion": 32,
        "conductive_unit.via": 33,
        "conductive_unit.fill": 34,
        "conductive_unit.flange": 35,
        "conductive_unit.remnant": 36,
        "conductive_unit.hollow": 37,
        "conductive_element.wire_bond": 40,
        "conductive_element.via": 41,
        "conductive_element.trace": 42,
        "conductive_element.rdl": 43,
        "joint": 50,
        "substrate": 60,
        "substrate.copper": 61,
        "substrate.land": 62,
    }
)
"""The GDS layer of each role, grouped in decades by claim part (body, dies, units, elements, joints, substrate).

Numbers are fixed so that a layer means the same role in every design moldstack writes."""

PROPERTY_SOLID_ID = 1
PROPERTY_NET = 2

SUBSTRATE_CELL = "substrate"
JOINTS_CELL = "joints"

LayerKey = tuple[int, int]
ZRange = tuple[float, float]


@dataclass(frozen=True)
class LayerEntry:
    """One GDS layer/datatype: the role it draws, the material of its solids and where they lie in z.

    ``datatype`` is 0 when all of the role's solids are of one material; when a role mixes materials (gold and
    copper wire bonds), each material gets its own datatype, its index in the model's material list, and the
    layer ``name`` gains the material. ``z_ranges_um`` gives, per cell, the lowest and highest z of the layer's
    solids in model coordinates (um).
    """

    role: str
    layer: int
    datatype: int
    material: str
    name: str
    description: str
    z_ranges_um: Mapping[str, ZRange]

    @property
    def key(self) -> LayerKey:
        return (self.layer, self.datatype)

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "layer": self.layer,
            "datatype": self.datatype,
            "material": self.material,
            "name": self.name,
            "description": self.description,
            "z_ranges_um": {cell: list(z) for cell, z in self.z_ranges_um.items()},
        }


@dataclass(frozen=True)
class LayerMap:
    """The layers a model's GDS uses, in layer/datatype order, as data; :meth:`to_text` is KLayout's syntax."""

    model: str
    entries: tuple[LayerEntry, ...]

    def entry(self, role: str, material: str) -> LayerEntry:
        """The entry that draws solids of ``role`` and ``material``."""
        return self._index[(role, material)]

    def of(self, solid: Solid) -> LayerEntry:
        """The entry a solid is drawn on."""
        return self._index[(solid.role, solid.material)]

    @property
    def _index(self) -> dict[tuple[str, str], LayerEntry]:
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {(e.role, e.material): e for e in self.entries}
            object.__setattr__(self, "_index_cache", cached)
        return cached

    def to_text(self) -> str:
        """The map in KLayout's layer-map syntax (``LayerMap.from_string``, ``LoadLayoutOptions.layer_map``).

        One line ``layer/datatype : name (layer/datatype)`` per entry, so a layout read with it shows each
        layer under its role's name; the role's words, its material and its z range per cell are the comment
        lines above it.
        """
        lines = [
            f"# moldstack layer map of '{_one_line(self.model)}': one GDS layer per role (the claim element its",
            "# solids realise), one datatype per material where a role mixes materials. Plan view, lengths in um;",
            "# z is where the layer's solids lie, per cell, in model coordinates (z up, 0 = bottom of the body).",
            "# KLayout: the reader options' layer map, or LoadLayoutOptions.layer_map = LayerMap.from_string(text).",
        ]
        for e in self.entries:
            zs = ", ".join(f"{cell} {_num(z0)} .. {_num(z1)}" for cell, (z0, z1) in e.z_ranges_um.items())
            lines += [
                "#",
                f"# {e.role}: {_one_line(e.description)}",
                f"#   material {_one_line(e.material)}; z [um]: {zs}",
                f"{e.layer}/{e.datatype} : {e.name} ({e.layer}/{e.datatype})",
            ]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "entries": [e.to_dict() for e in self.entries]}


@dataclass(frozen=True)
class GdsExport:
    """What :func:`export_gds` wrote.

    ``cells`` maps each cell below the top to its offset in the top cell (um); ``polygons_per_cell`` counts the
    polygons of each cell per (layer, datatype), and ``polygons_per_layer`` sums them over the cells (each cell
    is placed once, so these are also the counts of the flattened layout).
    """

    path: Path
    format: str
    top: str
    cells: Mapping[str, tuple[float, float]]
    polygons_per_cell: Mapping[str, Mapping[LayerKey, int]]
    polygons_per_layer: Mapping[LayerKey, int]
    tolerance_um: float
    layer_map: LayerMap

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "top": self.top,
            "unit_m": UNIT_M,
            "precision_m": PRECISION_M,
            "tolerance_um": self.tolerance_um,
            "cells": {name: list(offset) for name, offset in self.cells.items()},
            "polygons_per_cell": {
                cell: {f"{k[0]}/{k[1]}": n for k, n in counts.items()}
                for cell, counts in self.polygons_per_cell.items()
            },
            "polygons_per_layer": {f"{k[0]}/{k[1]}": n for k, n in self.polygons_per_layer.items()},
            "layer_map": self.layer_map.to_dict(),
        }


@dataclass(frozen=True)
class _CellPlan:
    """The solids one cell holds and where its origin lies in model coordinates."""

    name: str
    origin: tuple[float, float]
    solids: tuple[Solid, ...]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _num(value: float) -> str:
    """A length in um to the database unit, without trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _layer_name_part(text: str) -> str:
    """``text`` as a word KLayout's layer-map parser reads without quotes."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_.-") else "_" for c in text) or "_"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def _cell_plans(model: Model) -> tuple[_CellPlan, ...]:
    """Assembly cells (by body centre), then the substrate cell and the joints cell where they have solids."""
    taken = {model.name}
    by_assembly: dict[str | None, list[Solid]] = defaultdict(list)
    for s in model.solids:
        by_assembly[s.assembly].append(s)
    plans = [
        _CellPlan(
            _unique(a.name, taken), ((a.x0 + a.x1) / 2, (a.y0 + a.y1) / 2), tuple(by_assembly.get(a.name, ()))
        )
        for a in model.assemblies
    ]
    placed = {a.name for a in model.assemblies}
    loose = [s for key, solids in by_assembly.items() if key not in placed for s in solids]
    sub = model.substrate_part
    in_substrate = [sub is not None and (s.part == sub or s.part.startswith(sub + "/")) for s in loose]
    substrate = [s for s, inside in zip(loose, in_substrate, strict=True) if inside]
    joints = [s for s, inside in zip(loose, in_substrate, strict=True) if not inside]
    if substrate:
        boxes = np.array([s.shape.bbox for s in ([s for s in substrate if s.matrix] or substrate)])
        centre = (
            float(boxes[:, 0].min() + boxes[:, 3].max()) / 2,
            float(boxes[:, 1].min() + boxes[:, 4].max()) / 2,
        )
        plans.append(_CellPlan(_unique(SUBSTRATE_CELL, taken), centre, tuple(substrate)))
    if joints:
        plans.append(_CellPlan(_unique(JOINTS_CELL, taken), (0.0, 0.0), tuple(joints)))
    return tuple(plans)


def _layer_map(model: Model, plans: Sequence[_CellPlan]) -> LayerMap:
    unknown = sorted({s.role for s in model.solids} - set(ROLE_LAYERS))
    if unknown:
        raise ValueError(f"no GDS layer for role(s) {', '.join(unknown)}: add them to ROLE_LAYERS")
    order = {name: i for i, name in enumerate(model.materials)}
    extra = sorted({s.material for s in model.solids} - set(order))
    order |= {name: len(model.materials) + i for i, name in enumerate(extra)}
    materials: dict[str, set[str]] = defaultdict(set)
    z_ranges: dict[tuple[str, str], dict[str, ZRange]] = defaultdict(dict)
    for plan in plans:
        for s in plan.solids:
            materials[s.role].add(s.material)
            bbox = s.shape.bbox
            ranges = z_ranges[(s.role, s.material)]
            lo, hi = ranges.get(plan.name, (bbox[2], bbox[5]))
            ranges[plan.name] = (min(lo, bbox[2]), max(hi, bbox[5]))
    entries = []
    for (role, material), ranges in z_ranges.items():
        mixed = len(materials[role]) > 1
        entries.append(
            LayerEntry(
                role=role,
                layer=ROLE_LAYERS[role],
                datatype=order[material] if mixed else 0,
                material=material,
                name=f"{role}.{_layer_name_part(material)}" if mixed else role,
                description=ROLES.get(role, role),
                z_ranges_um=dict(ranges),
            )
        )
    return LayerMap(model.name, tuple(sorted(entries, key=lambda e: e.key)))


def layer_map(model: Model) -> LayerMap:
    """The layers :func:`export_gds` uses for ``model``: role, layer, datatype, material, z range per cell."""
    return _layer_map(model, _cell_plans(model))


def write_layer_map(model: Model, path: str | Path) -> Path:
    """Write ``model``'s layer map in KLayout's layer-map syntax (see :meth:`LayerMap.to_text`) atomically."""
    return write_text(path, layer_map(model).to_text())


def _ellipse_tolerance(radius: float, tolerance_um: float) -> float:
    """The tolerance to hand :func:`gdstk.ellipse` so that no chord of a circle of ``radius`` strays more than
    ``tolerance_um`` from it.

    A chord spanning angle 2 pi / n stands r (1 - cos(pi / n)) off the circle, so n = ceil(pi / acos(1 - t / r))
    segments suffice. gdstk rounds its own count to the nearest integer (and a ring closes on a repeated vertex,
    one segment fewer), which lets a chord exceed ``t`` by a few per cent; asking for the tolerance of n + 1/2
    segments makes its rounding land on n or n + 1.
    """
    n = math.ceil(math.pi / math.acos(max(-1.0, 1.0 - tolerance_um / radius)))
    return radius * (1.0 - math.cos(math.pi / (n + 0.5)))


def _wire_polygons(
    wire: Wire, dx: float, dy: float, tolerance_um: float, layer: int, datatype: int
) -> list[gdstk.Polygon]:
    """The plan projection of the centre line, stroked to the wire's diameter with flush ends."""
    xy = wire.points[:, :2] - (dx, dy)
    eps = 1e-6  # um: far below the 1 nm database unit
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.hypot(*np.diff(xy, axis=0).T) > eps
    xy = xy[keep]
    if len(xy) < 2:  # seen end-on: the wire's cross section
        return [
            gdstk.ellipse(tuple(xy[0]), wire.radius, tolerance=tolerance_um, layer=layer, datatype=datatype)
        ]
    far = xy[np.argmax(np.hypot(*(xy - xy[0]).T))]
    u = (far - xy[0]) / math.hypot(*(far - xy[0]))
    rel = xy - xy[0]
    across = rel[:, 0] * u[1] - rel[:, 1] * u[0]
    if np.abs(across).max() <= tolerance_um:
        along = rel @ u
        a, b = xy[0] + along.min() * u, xy[0] + along.max() * u
        n = np.array([-u[1], u[0]]) * wire.radius
        corners = [tuple(a - n), tuple(b - n), tuple(b + n), tuple(a + n)]
        return [gdstk.Polygon(corners, layer=layer, datatype=datatype)]
    path = gdstk.FlexPath(
        [tuple(p) for p in xy],
        wire.diameter,
        joins="natural",
        ends="flush",
        tolerance=tolerance_um,
        layer=layer,
        datatype=datatype,
    )
    return path.to_polygons()


def plan_polygons(
    shape: Shape,
    *,
    origin: tuple[float, float] = (0.0, 0.0),
    tolerance_um: float = 0.01,
    layer: int = 0,
    datatype: int = 0,
) -> list[gdstk.Polygon]:
    """The plan view of one primitive relative to ``origin``, as gdstk polygons (one, unless fractured)."""
    dx, dy = origin
    if isinstance(shape, Box):
        polygons = [
            gdstk.rectangle(
                (shape.x0 - dx, shape.y0 - dy), (shape.x1 - dx, shape.y1 - dy), layer=layer, datatype=datatype
            )
        ]
    elif isinstance(shape, Tube):
        polygons = [
            gdstk.ellipse(
                (shape.cx - dx, shape.cy - dy),
                shape.r,
                inner_radius=shape.r_inner if shape.r_inner > 0 else None,
                tolerance=_ellipse_tolerance(shape.r, tolerance_um),
                layer=layer,
                datatype=datatype,
            )
        ]
    elif isinstance(shape, Trace):
        ux, uy = (shape.xb - shape.xa) / shape.length, (shape.yb - shape.ya) / shape.length
        nx, ny = -uy * shape.width / 2, ux * shape.width / 2
        ax, ay, bx, by = shape.xa - dx, shape.ya - dy, shape.xb - dx, shape.yb - dy
        corners = [(ax - nx, ay - ny), (bx - nx, by - ny), (bx + nx, by + ny), (ax + nx, ay + ny)]
        polygons = [gdstk.Polygon(corners, layer=layer, datatype=datatype)]
    else:
        polygons = _wire_polygons(shape, dx, dy, tolerance_um, layer, datatype)
    if any(p.size > MAX_POLYGON_POINTS for p in polygons):
        polygons = [
            piece
            for p in polygons
            for piece in (
                p.fracture(max_points=MAX_POLYGON_POINTS, precision=PRECISION_M / UNIT_M)
                if p.size > MAX_POLYGON_POINTS
                else [p]
            )
        ]
    return polygons


def export_gds(
    model: Model, path: str | Path, *, tolerance_um: float = 0.01, oasis: bool = False
) -> GdsExport:
    """Write ``model``'s mask artwork to ``path`` (GDSII, or OASIS with ``oasis=True``) atomically.

    ``tolerance_um`` is the largest chord error of circles (and of bends of a wire's stroke): every vertex lies
    on the true circle and no edge departs from it by more than this, so a disc's polygon falls short of
    pi r^2 by at most perimeter x tolerance. It must be at least the 1 nm database unit. The layout and the
    geometry drawn per solid are described in the module docstring; the layers are :func:`layer_map`'s.
    """
    if not (math.isfinite(tolerance_um) and tolerance_um >= PRECISION_M / UNIT_M):
        raise ValueError(f"tolerance_um must be at least the 0.001 um database unit, got {tolerance_um!r}")
    plans = _cell_plans(model)
    layers = _layer_map(model, plans)
    library = gdstk.Library(model.name, unit=UNIT_M, precision=PRECISION_M)
    top = gdstk.Cell(model.name)
    per_cell: dict[str, Mapping[LayerKey, int]] = {}
    for plan in plans:
        cell = gdstk.Cell(plan.name)
        polygons: list[gdstk.Polygon] = []
        for s in plan.solids:
            entry = layers.of(s)
            for p in plan_polygons(
                s.shape,
                origin=plan.origin,
                tolerance_um=tolerance_um,
                layer=entry.layer,
                datatype=entry.datatype,
            ):
                p.set_gds_property(PROPERTY_SOLID_ID, s.id)
                if s.net is not None:
                    p.set_gds_property(PROPERTY_NET, s.net)
                polygons.append(p)
        cell.add(*polygons)
        counts = Counter((p.layer, p.datatype) for p in polygons)
        per_cell[plan.name] = dict(sorted(counts.items()))
        top.add(gdstk.Reference(cell, plan.origin))
        library.add(cell)
    library.add(top)
    target = Path(path)
    with atomic_path(target) as temporary:
        if oasis:
            library.write_oas(temporary)
        else:
            library.write_gds(temporary, max_points=MAX_POLYGON_POINTS)
    totals: Counter[LayerKey] = Counter()
    for counts in per_cell.values():
        totals.update(counts)
    return GdsExport(
        path=target,
        format="oas" if oasis else "gds",
        top=model.name,
        cells={plan.name: plan.origin for plan in plans},
        polygons_per_cell=per_cell,
        polygons_per_layer=dict(sorted(totals.items())),
        tolerance_um=tolerance_um,
        layer_map=layers,
    )
