"""The plan-view (2D) design rules, run by KLayout's DRC engine on the model's GDS.

The model is written with :func:`~moldstack.exporters.gds.export_gds` into a temporary folder and read back with
``klayout.db.Layout``; each placed assembly is its own cell. Per cell, the layers of :data:`ROLE_LAYERS` give
three regions (every datatype of a layer taken):

- **units**: all ``conductive_unit.*`` layers merged, so each polygon is one unit's plan footprint (pad, column,
  flange and remnant together);
- **dies**: the ``die`` and ``second_die`` layers;
- **body**: the mold body's outline (``body``).

and three checks, Euclidean metrics, unshielded (the closest pair of two convex-ish footprints is never hidden
by a third, which would be closer still and reported itself), each reporting the edge pairs closer than the limit:

- ``unit_spacing``: ``units.isolated_check(d)``, the space between different unit polygons;
- ``unit_die_clearance``: ``units.separation_check(dies, d)``;
- ``unit_edge_clearance``: ``units.separation_check(outside, d)`` (unshielded), where ``outside`` is the body's
  box grown by ``d`` less the body, broken into pieces of at most four vertices: how far inside the body outline
  each unit stays. (The same as ``body.enclosing_check(units, d)``, which KLayout 0.30 runs in about a second on
  a package of 60 plated vias whatever ``d``; a ring around the body is as slow, its pieces take microseconds.)

Each edge is traced back to its unit by the footprint it lies on, and the closest edge pair per unit pair
(spacing) or per unit (clearances) becomes one violation, located at the midpoint of the shortest segment
between the two edges (model coordinates; z is the package's mid-plane, a plan rule having none). It knows the
model's placed assemblies, units and dies by name and position, and nothing of the 3D rules.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import klayout.db as kdb
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from moldstack.checks.drc_result import RuleOutcome, Violation, violation
from moldstack.checks.rule_deck import Rule, RuleDeck
from moldstack.exporters.gds import ROLE_LAYERS, export_gds
from moldstack.geometry.model import Model, PlacedAssembly
from moldstack.roles import UNIT_ROLES

GDS_TOLERANCE_UM = 0.05
"""Chord error of the circles in the GDS the checks read: measured distances are within about this of exact."""

UNIT_LAYERS = tuple(sorted({ROLE_LAYERS[r] for r in UNIT_ROLES}))
DIE_LAYERS = (ROLE_LAYERS["die"], ROLE_LAYERS["second_die"])
BODY_LAYERS = (ROLE_LAYERS["body"],)


@dataclass(frozen=True)
class _Cell:
    """One assembly's cell read back: its regions, its unit footprints (each with its unit's part name), and the
    offset that takes cell coordinates (um) to model coordinates."""

    assembly: PlacedAssembly
    origin: tuple[float, float]
    dbu: float
    units: kdb.Region
    dies: kdb.Region
    body: kdb.Region
    footprints: shapely.STRtree
    unit_parts: tuple[str, ...]

    @cached_property
    def order(self) -> dict[str, int]:
        """Each unit part's place in the assembly (U1, U2, ... U10), to name a pair in reading order."""
        return {u.part: k for k, u in enumerate(self.assembly.units)}

    def units_at(self, edges: NDArray[np.float64]) -> NDArray[np.intp]:
        """Index (into ``unit_parts``) of the unit footprint each edge ``(x1, y1, x2, y2)`` (um) lies on."""
        mids = shapely.points((edges[:, :2] + edges[:, 2:]) / 2)
        _, found = self.footprints.query_nearest(mids, return_distance=False, all_matches=False)
        return np.asarray(found, dtype=np.intp)

    def dies_at(self, edges: NDArray[np.float64]) -> NDArray[np.intp]:
        """Index (into the assembly's dies) of the die whose outline is nearest each edge's midpoint."""
        ox, oy = self.origin
        mids = shapely.points((edges[:, :2] + edges[:, 2:]) / 2 + (ox, oy))
        outlines = [shapely.box(d.x0, d.y0, d.x1, d.y1).exterior for d in self.assembly.dies]
        distances = np.stack([shapely.distance(mids, outline) for outline in outlines])
        return np.argmin(distances, axis=0)

    def place(self, first: NDArray[np.float64], second: NDArray[np.float64]) -> tuple[float, float, float]:
        """Model coordinates of the midpoint of the shortest segment between two edges (um, cell coordinates)."""
        a, b = (shapely.LineString([e[:2], e[2:]]) for e in (first, second))
        mid = shapely.shortest_line(a, b).interpolate(0.5, normalized=True)
        z = (self.assembly.z_bottom + self.assembly.z_top) / 2
        return (mid.x + self.origin[0], mid.y + self.origin[1], z)


def _region(layout: kdb.Layout, cell: kdb.Cell, layers: Iterable[int]) -> kdb.Region:
    wanted = set(layers)
    region = kdb.Region()
    for index in layout.layer_indexes():
        if layout.get_info(index).layer in wanted:
            region.insert(kdb.Region(cell.begin_shapes_rec(index)))
    return region.merged()


def _read_cell(layout: kdb.Layout, name: str, assembly: PlacedAssembly, origin: tuple[float, float]) -> _Cell:
    cell = layout.cell(name)
    dbu = layout.dbu
    units = _region(layout, cell, UNIT_LAYERS)
    polygons = [
        shapely.Polygon([(p.x * dbu, p.y * dbu) for p in poly.each_point_hull()]) for poly in units.each()
    ]
    parts: tuple[str, ...] = ()
    if polygons and assembly.units:
        centres = np.array([(u.x - origin[0], u.y - origin[1]) for u in assembly.units])
        middles = np.array([(p.centroid.x, p.centroid.y) for p in polygons])
        _, nearest = cKDTree(centres).query(middles)
        parts = tuple(assembly.units[int(i)].part for i in nearest)
    return _Cell(
        assembly,
        origin,
        dbu,
        units,
        _region(layout, cell, DIE_LAYERS),
        _region(layout, cell, BODY_LAYERS),
        shapely.STRtree(polygons),
        parts,
    )


@dataclass(frozen=True)
class _EdgePairs:
    """KLayout's edge pairs as arrays (um, cell coordinates): each row's first and second edge
    ``(x1, y1, x2, y2)`` and their distance."""

    first: NDArray[np.float64]
    second: NDArray[np.float64]
    distance: NDArray[np.float64]

    @classmethod
    def of(cls, pairs: kdb.EdgePairs, dbu: float) -> _EdgePairs:
        rows = np.array(
            [
                (a.x1, a.y1, a.x2, a.y2, b.x1, b.y1, b.x2, b.y2, ep.distance())
                for ep in pairs.each()
                for a, b in ((ep.first, ep.second),)
            ],
            dtype=float,
        ).reshape(-1, 9)
        rows *= dbu
        return cls(rows[:, :4], rows[:, 4:8], rows[:, 8])

    def closest(self, keys: NDArray[np.intp]) -> list[tuple[tuple[int, ...], int]]:
        """For each distinct row of ``keys`` (what a pair is between), that key and the row of its closest pair."""
        if len(keys) == 0:
            return []
        _, group = np.unique(keys, axis=0, return_inverse=True)
        group = group.ravel()
        order = np.lexsort((self.distance, group))
        first = order[np.r_[True, group[order][1:] != group[order][:-1]]]
        return sorted((tuple(int(k) for k in keys[i]), int(i)) for i in first)


def _dbu_limit(rule: Rule, dbu: float) -> int:
    return round(rule.limit / dbu)


def _unit_spacing(cell: _Cell, rule: Rule) -> list[Violation]:
    found = cell.units.isolated_check(
        _dbu_limit(rule, cell.dbu), False, kdb.Metrics.Euclidian, None, None, None, False
    )
    pairs = _EdgePairs.of(found, cell.dbu)
    keys = np.sort(np.column_stack([cell.units_at(pairs.first), cell.units_at(pairs.second)]), axis=1)
    out = []
    for (i, j), row in pairs.closest(keys):
        a, b = sorted((cell.unit_parts[i], cell.unit_parts[j]), key=cell.order.__getitem__)
        out.append(
            violation(
                "unit_spacing",
                rule,
                float(pairs.distance[row]),
                cell.place(pairs.first[row], pairs.second[row]),
                (a, b),
                cell.assembly.name,
                f"{a} and {b} are",
                " apart",
            )
        )
    return out


def _unit_die_clearance(cell: _Cell, rule: Rule) -> list[Violation]:
    found = cell.units.separation_check(
        cell.dies, _dbu_limit(rule, cell.dbu), False, kdb.Metrics.Euclidian, None, None, None, False
    )
    pairs = _EdgePairs.of(found, cell.dbu)
    keys = np.column_stack([cell.units_at(pairs.first), cell.dies_at(pairs.second)])
    out = []
    for (i, k), row in pairs.closest(keys):
        unit, die = cell.unit_parts[i], cell.assembly.dies[k].part
        out.append(
            violation(
                "unit_die_clearance",
                rule,
                float(pairs.distance[row]),
                cell.place(pairs.first[row], pairs.second[row]),
                (unit, die),
                cell.assembly.name,
                f"{unit} is",
                f" from the edge of {die}",
            )
        )
    return out


def _unit_edge_clearance(cell: _Cell, rule: Rule) -> list[Violation]:
    d = _dbu_limit(rule, cell.dbu)
    outside = (kdb.Region(cell.body.bbox().enlarged(d, d)) - cell.body).break_(4, 0.0)
    found = cell.units.separation_check(outside, d, False, kdb.Metrics.Euclidian, None, None, None, False)
    pairs = _EdgePairs.of(found, cell.dbu)
    out = []
    for (i,), row in pairs.closest(cell.units_at(pairs.first)[:, None]):
        unit = cell.unit_parts[i]
        out.append(
            violation(
                "unit_edge_clearance",
                rule,
                float(pairs.distance[row]),
                cell.place(pairs.first[row], pairs.second[row]),
                (unit,),
                cell.assembly.name,
                f"{unit} is",
                f" inside the edge of the {cell.assembly.name} body",
            )
        )
    return out


_CHECKS: Mapping[str, Callable[[_Cell, Rule], list[Violation]]] = {
    "unit_spacing": _unit_spacing,
    "unit_die_clearance": _unit_die_clearance,
    "unit_edge_clearance": _unit_edge_clearance,
}

LAYOUT_RULES = tuple(_CHECKS)
"""The rules this module checks, in the order it reports them."""


def layout_checks(model: Model, deck: RuleDeck) -> dict[str, RuleOutcome]:
    """Run the enabled plan-view rules of ``deck`` with KLayout on ``model``'s GDS: an outcome per rule run.

    ``checked`` counts the units of every package (each unit is checked against its neighbours, the dies and the
    body edge); ``worst`` is the worst violating value, None when KLayout found nothing within the limit.
    """
    wanted = [r for r in LAYOUT_RULES if deck.enabled(r)]
    if not wanted:
        return {}
    with tempfile.TemporaryDirectory(prefix="moldstack-drc-") as folder:
        export = export_gds(model, Path(folder) / "drc.gds", tolerance_um=GDS_TOLERANCE_UM)
        layout = kdb.Layout()
        layout.read(str(export.path))
    names = list(export.cells)[: len(model.assemblies)]
    cells = [
        _read_cell(layout, name, assembly, export.cells[name])
        for name, assembly in zip(names, model.assemblies, strict=True)
    ]
    checked = sum(len(c.unit_parts) for c in cells)
    outcomes = {}
    for rule_id in wanted:
        rule = deck.rule(rule_id)
        found = [
            v
            for cell in cells
            if cell.unit_parts
            for v in sorted(_CHECKS[rule_id](cell, rule), key=lambda v: cell.order.get(v.parts[0], -1))
        ]
        worst = min((v.value for v in found), default=None)
        outcomes[rule_id] = RuleOutcome(checked, worst, tuple(found))
    return outcomes
