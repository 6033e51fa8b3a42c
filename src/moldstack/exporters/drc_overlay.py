"""The DRC overlay: a plan view of each package with every design-rule violation marked where it is.

One panel per placed assembly, in model coordinates (mm): the body outline, the dies (grey), the conductive units
(copper), the vias and traces, the bond wires drawn thin; each violation a red ring with a cross at its location
and a short label (rule and value) at the worst few of each rule, kept apart, a legend with the count per rule, and
the full messages of the worst :data:`MAX_MESSAGES` violations under the panels.
A joint's violation (between packages) is drawn on the panel of the package above it. SVG or PNG by the path's
suffix, written atomically. Reads a :class:`~moldstack.geometry.model.Model` and a
:class:`~moldstack.checks.drc_result.DrcResult`; measures nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib as mpl
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from moldstack.checks.drc_result import DrcResult, Violation, fmt
from moldstack.geometry.model import Model, PlacedAssembly
from moldstack.geometry.primitives import Prism, Wire
from moldstack.output import write_figure

_FORMATS = {".png": "png", ".svg": "svg"}
LABELS_PER_RULE = 4
"""Violations of one rule labelled per panel (the worst first); the rest are marked without a label."""
LABEL_SPACING = 0.1
"""Least height between two labels, as a fraction of the panel's size (three times that across, labels being wide);
a marker closer to a labelled one is left unlabelled."""
MAX_MESSAGES = 12
"""Violations whose full message is listed under the panels (the worst of each rule in turn); ``drc.json`` has
them all."""

_MM = 1e-3
_COLOURS = {
    "body": "0.35",
    "die": "0.82",
    "unit": "#c87533",
    "element": "#b8860b",
    "wire": "#d4a017",
    "violation": "#d62728",
}


def _shape_patch(geometry: shapely.Geometry, **style: object) -> PathPatch:
    """A filled patch of a shapely polygon (holes kept), in mm."""
    polygons = getattr(geometry, "geoms", [geometry])
    vertices: list[tuple[float, float]] = []
    codes: list[int] = []
    for poly in polygons:
        for ring in (poly.exterior, *poly.interiors):
            coords = [(x * _MM, y * _MM) for x, y in ring.coords]
            vertices += coords
            codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(coords) - 2) + [MplPath.CLOSEPOLY]
    return PathPatch(MplPath(vertices, codes), **style)


def _panel_of(v: Violation, names: list[str]) -> str:
    """The panel a violation is drawn on: its package, or for a joint the package above it."""
    if v.assembly is not None:
        return v.assembly
    level = v.parts[0].removeprefix("joint:").split("/")[0]
    return level if level in names else names[0]


def _short(v: Violation) -> str:
    unit = "" if v.unit == "ratio" else f" {v.unit}"
    return f"{v.rule} {fmt(v.value)}{unit}"


def _draw_package(ax: Axes, model: Model, a: PlacedAssembly) -> None:
    ax.add_patch(
        _shape_patch(
            shapely.box(a.x0, a.y0, a.x1, a.y1), facecolor="white", edgecolor=_COLOURS["body"], lw=1.2
        )
    )
    for d in a.dies:
        ax.add_patch(
            _shape_patch(
                shapely.box(d.x0, d.y0, d.x1, d.y1), facecolor=_COLOURS["die"], edgecolor="0.5", lw=0.6
            )
        )
    footprints = [
        model.solid(sid).shape.section(32)
        for u in a.units
        for sid in u.solids
        if isinstance(model.solid(sid).shape, Prism)
    ]
    if footprints:
        ax.add_patch(
            _shape_patch(
                shapely.union_all(footprints), facecolor=_COLOURS["unit"], edgecolor="none", alpha=0.8
            )
        )
    for s in model.solids:
        if s.assembly != a.name or not s.role.startswith("conductive_element."):
            continue
        if isinstance(s.shape, Wire):
            p = s.shape.points * _MM
            ax.plot(p[:, 0], p[:, 1], color=_COLOURS["wire"], lw=0.5, solid_capstyle="round")
        elif s.role != "conductive_element.wire_bond":
            ax.add_patch(_shape_patch(s.shape.section(16), facecolor=_COLOURS["element"], edgecolor="none"))


def _mark(ax: Axes, violations: list[Violation], spacing_mm: float) -> None:
    """A red ring and cross at each violation; a label at the worst few of each rule that keep clear of the labels
    placed before them."""
    red = _COLOURS["violation"]
    labelled: list[tuple[float, float]] = []
    per_rule: Counter[str] = Counter()
    for v in sorted(violations, key=lambda v: (v.rule, -abs(v.value - v.limit))):
        x, y = v.location[0] * _MM, v.location[1] * _MM
        ax.plot(x, y, "o", ms=8, mfc="none", mec=red, mew=1.2)
        ax.plot(x, y, "x", ms=4.5, color=red, mew=0.9)
        clear = all(abs(x - p) >= 3 * spacing_mm or abs(y - q) >= spacing_mm for p, q in labelled)
        if per_rule[v.rule] < LABELS_PER_RULE and clear:
            per_rule[v.rule] += 1
            labelled.append((x, y))
            ax.annotate(
                _short(v),
                (x, y),
                xytext=(6, 6),
                textcoords="offset points",
                fontsize=6.5,
                color=red,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            )


def _worst_messages(violations: tuple[Violation, ...]) -> list[str]:
    """Up to :data:`MAX_MESSAGES` messages: the worst of each rule in turn, in the deck's order."""
    by_rule: dict[str, list[Violation]] = {}
    for v in violations:
        by_rule.setdefault(v.rule, []).append(v)
    ranked = [sorted(vs, key=lambda v: -abs(v.value - v.limit)) for vs in by_rule.values()]
    shown: list[str] = []
    depth = 0
    while len(shown) < min(MAX_MESSAGES, len(violations)):
        shown += [vs[depth].message for vs in ranked if depth < len(vs)][: MAX_MESSAGES - len(shown)]
        depth += 1
    return shown


def write_drc_overlay(model: Model, result: DrcResult, path: str | Path) -> Path:
    """Write the plan-view overlay of ``result`` on ``model`` to ``path`` (``.svg`` or ``.png``)."""
    target = Path(path)
    fmt_name = _FORMATS.get(target.suffix.lower())
    if fmt_name is None:
        raise ValueError(f"{target.name}: the DRC overlay is written as .svg or .png, not '{target.suffix}'")
    names = [a.name for a in model.assemblies]
    per_panel: dict[str, list[Violation]] = {n: [] for n in names}
    for v in result.violations:
        per_panel[_panel_of(v, names)].append(v)
    with mpl.rc_context({"font.size": 8, "svg.fonttype": "none"}):
        fig = Figure(figsize=(6.2 * len(names) + 1.0, 6.6))
        axes = fig.subplots(1, len(names), squeeze=False)[0]
        for ax, a in zip(axes, model.assemblies, strict=True):
            _draw_package(ax, model, a)
            size_mm = max(a.x1 - a.x0, a.y1 - a.y0) * _MM
            _mark(ax, per_panel[a.name], LABEL_SPACING * size_mm)
            pad = 0.04 * size_mm
            ax.set_xlim(a.x0 * _MM - pad, a.x1 * _MM + pad)
            ax.set_ylim(a.y0 * _MM - pad, a.y1 * _MM + pad)
            ax.set_aspect("equal")
            ax.set_xlabel("x (mm)")
            ax.set_ylabel("y (mm)")
            count = len(per_panel[a.name])
            verdict = "clean" if count == 0 else f"{count} violation{'s' if count != 1 else ''}"
            ax.set_title(f"{a.name}: {verdict}", fontsize=9)
        counts = Counter(v.rule for v in result.violations)
        keys: list[Line2D | Patch] = [
            Patch(facecolor="white", edgecolor=_COLOURS["body"], label="mold body"),
            Patch(facecolor=_COLOURS["die"], edgecolor="0.5", label="die"),
            Patch(facecolor=_COLOURS["unit"], label="conductive unit"),
            Patch(facecolor=_COLOURS["element"], label="via / trace"),
            Line2D([], [], color=_COLOURS["wire"], lw=0.8, label="bond wire"),
        ]
        keys += [
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                ms=8,
                mfc="none",
                mec=_COLOURS["violation"],
                label=f"{rule}: {n} ({result.limits[rule].kind} {result.limits[rule].limit:g} "
                f"{result.limits[rule].unit})",
            )
            for rule, n in counts.items()
        ]
        fig.legend(handles=keys, loc="upper left", bbox_to_anchor=(0.99, 0.92), fontsize=7, frameon=False)
        status = "passed" if result.passed else f"{len(result.violations)} violations"
        fig.suptitle(f"{result.model}: DRC {status} (deck: {result.deck_source})", fontsize=10)
        if result.violations:
            shown = _worst_messages(result.violations)
            more = len(result.violations) - len(shown)
            if more:
                shown.append(f"... and {more} more (all in drc.json)")
            fig.text(0.01, 0.0, "\n".join(shown), va="top", ha="left", fontsize=6.5, family="monospace")
        return write_figure(fig, target, fmt_name, dpi=150, tight=True)


__all__ = ["write_drc_overlay"]
