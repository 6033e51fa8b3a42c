"""Section figures: a :class:`~moldstack.geometry.section.Section` drawn to SVG or PNG for a slide.

How the aspect ratio is shown. A package is very wide and thin (12 mm by 0.6 mm, 20:1), so a vertical
section drawn to scale is a dark line. The figure therefore has, for an x or y plane:

- a **main panel** with the whole section under a stated *vertical exaggeration* (a round factor chosen so
  the section is about a quarter as tall as it is wide, or the one given), saying so in the subtitle and in
  its scale bars: one horizontal (x or y) and one vertical (z) bar, each labelled with its true length;
- a **true-scale detail panel** (vertical exaggeration 1) of a window ``(u0, u1)`` in the plane's horizontal
  coordinate, marked by a dashed frame on the main panel; by default the window starts just inside the first
  die's edge and runs out over the first units (or covers the right end of a section that cuts no die). The
  units' diameter and pitch are labelled there, where they are large enough to read.

A z plane (a plan view) is drawn to scale in one panel. Fills are the materials' colours
(:attr:`Material.colour`) with a thin darker edge; the legend, below the panels so it never covers the
geometry, names each claim role present (:data:`moldstack.roles.ROLE_WORDS`) with its material. The body, die and
substrate thicknesses are dimensioned beside the main panel.

The SVG is made to be read back: each section polygon is one ``<path>`` in a ``<g>`` whose id is the solid id
(prefixed ``detail:`` in the detail panel), drawn with its vertices in SVG user units, and the document's
``<dc:description>`` holds JSON with, per panel, the affine ``matrix`` (SVG convention ``a b c d e f``:
``X = a u + c v + e``, ``Y = b u + d v + f``) from plane coordinates in micrometres to SVG coordinates.

Outputs are written atomically (:func:`moldstack.output.write_bytes`). Nothing here prints, and nothing here
knows the model or the spec: only the Section.
"""

from __future__ import annotations

import io
import json
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from shapely.geometry import MultiPolygon, Polygon

from moldstack.geometry.section import Dimension, Section, SectionPiece
from moldstack.output import write_bytes
from moldstack.roles import ROLE_WORDS

Window = tuple[float, float]

WIDTH_IN = 10.0
PNG_DPI = 200
_NICE_EXAGGERATIONS = (1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0)
_TARGET_ASPECT = 0.25  # main panel: section height / width as drawn
_DETAIL_HEIGHT_IN = 2.2  # detail panel: drawn height of the section
_MARGIN_IN = 0.25
_TITLE_IN = 0.75
_GAP_IN = 0.25
_FONT = 8.0
_LEGEND_CHARS = 62
_LEGEND_BESIDE_IN = 3.0
_PLAN_HEIGHT_IN = 5.6
_DIM_COLOUR = "#1a1a1a"
_EXTENSION_COLOUR = "#9a9a9a"
_WINDOW_COLOUR = "#d6392b"
_HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]


@dataclass(frozen=True)
class SectionFigure:
    """What was written: the file, how many section pieces it draws, the vertical exaggeration, the window."""

    path: Path
    pieces: int
    exaggeration: float
    window: Window | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "pieces": self.pieces,
            "exaggeration": self.exaggeration,
            "window_um": list(self.window) if self.window else None,
        }


@dataclass(frozen=True)
class _Panel:
    """One axes: the core range of plane coordinates drawn, its exaggeration and its pads (inches)."""

    name: str
    u: tuple[float, float]
    v: tuple[float, float]
    exaggeration: float
    pads: tuple[float, float, float, float]  # left, right, bottom, top
    width_in: float

    @property
    def um_per_in_u(self) -> float:
        return (self.u[1] - self.u[0]) / (self.width_in - self.pads[0] - self.pads[1])

    @property
    def um_per_in_v(self) -> float:
        return self.um_per_in_u / self.exaggeration

    @property
    def height_in(self) -> float:
        return (self.v[1] - self.v[0]) / self.um_per_in_v + self.pads[2] + self.pads[3]

    @property
    def xlim(self) -> tuple[float, float]:
        s = self.um_per_in_u
        return (self.u[0] - self.pads[0] * s, self.u[1] + self.pads[1] * s)

    @property
    def ylim(self) -> tuple[float, float]:
        s = self.um_per_in_v
        return (self.v[0] - self.pads[2] * s, self.v[1] + self.pads[3] * s)

    @property
    def gid_prefix(self) -> str:
        return "" if self.name == "main" else f"{self.name}:"


def _nice_length(limit: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``limit``."""
    power = 10 ** math.floor(math.log10(limit))
    return max(f * power for f in (1.0, 2.0, 5.0) if f * power <= limit)


def _length_text(um: float) -> str:
    if um >= 1000:
        return f"{um / 1000:g} mm"
    return f"{um:.4g} µm"


def choose_exaggeration(section: Section) -> float:
    """The vertical exaggeration of the main panel: 1 for a z plane; else the round factor (1, 2, 2.5, 3, 4,
    5, ...) nearest, on a log scale, to the one that draws the section a quarter as tall as it is wide."""
    if not section.plane.vertical:
        return 1.0
    u0, v0, u1, v1 = section.bounds
    target = max(_TARGET_ASPECT * (u1 - u0) / max(v1 - v0, 1e-9), 1.0)
    return min(_NICE_EXAGGERATIONS, key=lambda e: abs(math.log(e / target)))


def auto_window(section: Section) -> Window | None:
    """A true-scale detail window: the die's edge and the first units, or the right end of the section.

    Its width makes the section about 2.2 in tall at true scale across the figure, at most 45 % of the
    section's width; it starts 30 % of its width inside the rightmost die edge, or, where no die is cut, ends
    20 % of its width beyond the rightmost unit. None for a z plane, or when the window would show nearly the
    whole section anyway.
    """
    if not section.plane.vertical:
        return None
    u0, v0, u1, v1 = section.bounds
    span = u1 - u0
    width = min((v1 - v0) * (WIDTH_IN - 2 * _MARGIN_IN) / _DETAIL_HEIGHT_IN, 0.45 * span)
    if width >= 0.7 * span:
        return None
    dies = [p for p in section.pieces if p.role == "die"]
    units = [p for p in section.pieces if p.role.startswith("conductive_unit.")]
    if dies:
        start = max(p.bounds[2] for p in dies) - 0.3 * width
    elif units:
        start = max(p.bounds[2] for p in units) - 0.8 * width
    else:
        start = u1 - width
    start = min(max(start, u0), u1 - width)
    return (start, start + width)


def _darker(colour: str, factor: float = 0.55) -> tuple[float, float, float]:
    r, g, b = to_rgb(colour)
    return (r * factor, g * factor, b * factor)


def _mpl_path(area: Polygon | MultiPolygon) -> MplPath:
    """A compound path of every ring (shells counter-clockwise, holes clockwise: the non-zero rule)."""
    vertices: list[tuple[float, float]] = []
    codes: list[int] = []
    polygons = area.geoms if isinstance(area, MultiPolygon) else [area]
    for poly in polygons:
        for ring in (poly.exterior, *poly.interiors):
            coords = list(ring.coords)[:-1]
            vertices += [*coords, coords[0]]
            codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(coords) - 1) + [MplPath.CLOSEPOLY]
    return MplPath(vertices, codes)


def _role_words(role: str) -> str:
    return ROLE_WORDS.get(role, role)


def _legend_handles(section: Section, beside: bool) -> list[Patch]:
    order = {role: i for i, role in enumerate(ROLE_WORDS)}
    present = sorted(
        {(p.role, p.material) for p in section.pieces}, key=lambda rm: (order.get(rm[0], len(order)), rm)
    )
    return [
        Patch(
            facecolor=section.colour(material),
            edgecolor=_darker(section.colour(material)),
            linewidth=0.5,
            label=textwrap.fill(f"{_role_words(role)}  [{material}]", 44 if beside else _LEGEND_CHARS),
        )
        for role, material in present
    ]


def _draw_pieces(ax: Axes, pieces: Sequence[SectionPiece], section: Section, prefix: str) -> None:
    for z, piece in enumerate(pieces):
        colour = section.colour(piece.material)
        patch = PathPatch(
            _mpl_path(piece.area),
            facecolor=colour,
            edgecolor=_darker(colour),
            linewidth=0.3,
            zorder=1 + (0 if piece.matrix else 1) + z * 1e-6,
        )
        patch.set_gid(prefix + piece.solid)
        ax.add_patch(patch)


def _line(ax: Axes, us: Sequence[float], vs: Sequence[float], **style: Any) -> None:
    ax.plot(us, vs, solid_capstyle="butt", zorder=5, **style)


def _arrow(ax: Axes, a: tuple[float, float], b: tuple[float, float], gid: str) -> None:
    arrow = ax.annotate(
        "",
        xy=b,
        xytext=a,
        arrowprops={
            "arrowstyle": "<|-|>,head_length=0.35,head_width=0.15",
            "color": _DIM_COLOUR,
            "lw": 0.7,
            "shrinkA": 0,
            "shrinkB": 0,
            "path_effects": _HALO,
        },
        zorder=6,
    )
    arrow.set_gid(gid)


def _text(ax: Axes, u: float, v: float, text: str, gid: str, **style: Any) -> None:
    backing = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
    label = ax.text(u, v, text, fontsize=_FONT, color=_DIM_COLOUR, zorder=7, bbox=backing, **style)
    label.set_gid(gid)


def _dimension_text(dim: Dimension, single_assembly: bool) -> str:
    subject = dim.subject.split("/", 1)[-1] if single_assembly and "/" in dim.subject else dim.subject
    value = f"{dim.value_um:.4g} µm"
    if dim.kind == "body_thickness":
        return f"body {value}" if single_assembly else f"{subject} body\n{value}"
    if dim.kind == "substrate_thickness":
        return f"substrate\n{value}"
    return f"{subject} {value}" if single_assembly else f"{subject}\n{value}"


def _vertical_dimensions(ax: Axes, panel: _Panel, section: Section) -> None:
    """Thicknesses: bodies and substrate on the right, dies on the left, with extension lines."""
    dims = [d for d in section.dimensions if d.axis == "v"]
    single = len({d.subject for d in dims if d.kind == "body_thickness"}) <= 1
    su = panel.um_per_in_u
    for dim in dims:
        gid = f"dim:{dim.kind}:{dim.subject}"
        text = _dimension_text(dim, single)
        if dim.kind == "die_thickness":
            line_u = panel.u[0] - 0.22 * su
            for v in (dim.start, dim.end):
                _line(
                    ax, [dim.at, line_u - 0.06 * su], [v, v], color=_EXTENSION_COLOUR, lw=0.5, ls=(0, (3, 2))
                )
            _arrow(ax, (line_u, dim.start), (line_u, dim.end), gid)
            _text(
                ax,
                line_u - 0.08 * su,
                0.5 * (dim.start + dim.end),
                text,
                gid + ":text",
                ha="right",
                va="center",
            )
        else:
            line_u = panel.u[1] + 0.22 * su
            for v in (dim.start, dim.end):
                _line(ax, [dim.at, line_u + 0.06 * su], [v, v], color=_EXTENSION_COLOUR, lw=0.5)
            _arrow(ax, (line_u, dim.start), (line_u, dim.end), gid)
            _text(
                ax,
                line_u + 0.08 * su,
                0.5 * (dim.start + dim.end),
                text,
                gid + ":text",
                ha="left",
                va="center",
            )


def _unit_dimensions(ax: Axes, panel: _Panel, section: Section, anchor: float) -> None:
    """Diameter of the unit nearest ``anchor`` inside the panel, and its pitch to the next unit, above them."""
    lo, hi = panel.u
    diameters = [d for d in section.dimensions if d.kind == "unit_diameter" and lo <= d.start and d.end <= hi]
    if not diameters:
        return
    top = max(d.at for d in diameters)
    diameters = [d for d in diameters if d.at == top]
    unit = min(diameters, key=lambda d: (abs(0.5 * (d.start + d.end) - anchor), d.start))
    centre = 0.5 * (unit.start + unit.end)
    sv = panel.um_per_in_v
    base = panel.v[1] if section.plane.vertical else unit.at
    v_dia = base + 0.14 * sv
    for u in (unit.start, unit.end):
        _line(ax, [u, u], [unit.at, v_dia + 0.05 * sv], color=_EXTENSION_COLOUR, lw=0.5)
    gid = f"dim:unit_diameter:{unit.subject}"
    _arrow(ax, (unit.start, v_dia), (unit.end, v_dia), gid)
    _text(
        ax, unit.end + 0.06 * panel.um_per_in_u, v_dia, f"Ø{unit.value_um:.4g} µm", gid + ":text", va="center"
    )
    pitches = [
        d
        for d in section.dimensions
        if d.kind == "unit_pitch"
        and lo <= d.start
        and d.end <= hi
        and d.at == top
        and (abs(d.start - centre) < 1e-6 or abs(d.end - centre) < 1e-6)
    ]
    if not pitches:
        return
    pitch = min(pitches, key=lambda d: abs(0.5 * (d.start + d.end) - anchor))
    v_pitch = base + 0.36 * sv
    for u in (pitch.start, pitch.end):
        _line(ax, [u, u], [top, v_pitch + 0.05 * sv], color=_EXTENSION_COLOUR, lw=0.5, ls=(0, (3, 2)))
    gid = f"dim:unit_pitch:{pitch.subject}"
    _arrow(ax, (pitch.start, v_pitch), (pitch.end, v_pitch), gid)
    _text(
        ax,
        0.5 * (pitch.start + pitch.end),
        v_pitch + 0.05 * sv,
        f"pitch {pitch.value_um:.4g} µm",
        gid + ":text",
        ha="center",
        va="bottom",
    )


def _scale_bars(ax: Axes, panel: _Panel, section: Section) -> None:
    """A horizontal bar, and under exaggeration a vertical one, in the pad below the section."""
    u_name, v_name = section.plane.in_plane
    su, sv = panel.um_per_in_u, panel.um_per_in_v
    length = _nice_length(0.2 * (panel.u[1] - panel.u[0]))
    v_bar = panel.v[0] - 0.4 * sv
    u0 = panel.u[0] + 0.05 * su
    _line(ax, [u0, u0 + length], [v_bar, v_bar], color=_DIM_COLOUR, lw=2.0)
    true = ", true scale" if panel.exaggeration == 1 and section.plane.vertical else ""
    _text(
        ax, u0 + length + 0.08 * su, v_bar, f"{_length_text(length)} ({u_name}){true}", "scale:u", va="center"
    )
    if panel.exaggeration == 1:
        return
    height = _nice_length(0.3 * sv)
    u_v = u0 + length + 1.3 * su
    _line(ax, [u_v, u_v], [v_bar - 0.04 * sv, v_bar - 0.04 * sv + height], color=_DIM_COLOUR, lw=2.0)
    _text(
        ax,
        u_v + 0.08 * su,
        v_bar,
        f"{_length_text(height)} ({v_name}), vertical ×{panel.exaggeration:g}",
        "scale:v",
        va="center",
    )


@dataclass(frozen=True)
class _Layout:
    """Where everything goes, in inches: the panels (top to bottom), the legend, the figure size."""

    panels: tuple[_Panel, ...]
    legend_beside: bool
    height_in: float
    legend_in: float


def _layout(
    section: Section, exaggeration: float, window: Window | None, handles: Sequence[Patch]
) -> _Layout:
    u0, v0, u1, v1 = section.bounds
    width = WIDTH_IN - 2 * _MARGIN_IN
    if section.plane.vertical:
        main_top = 0.2 if window is not None else 0.62
        panels = [_Panel("main", (u0, u1), (v0, v1), exaggeration, (1.1, 1.25, 0.6, main_top), width)]
        if window is not None:
            panels.append(_Panel("detail", window, (v0, v1), 1.0, (0.0, 0.0, 0.6, 0.62), width))
    else:
        pads = (0.1, 0.1, 0.6, 0.1)
        core = min(width - pads[0] - pads[1], _PLAN_HEIGHT_IN * (u1 - u0) / max(v1 - v0, 1e-9))
        panels = [_Panel("main", (u0, u1), (v0, v1), 1.0, pads, core + pads[0] + pads[1])]
    beside = WIDTH_IN - 2 * _MARGIN_IN - panels[0].width_in >= _LEGEND_BESIDE_IN
    lines = [h.get_label().count("\n") + 1 for h in handles]
    if beside:
        legend_in = 0.19 * sum(lines) + 0.15
        body = max(panels[0].height_in, legend_in)
        return _Layout(tuple(panels), True, _TITLE_IN + body + _MARGIN_IN, legend_in)
    per_column = math.ceil(len(handles) / 2)
    legend_in = 0.19 * max(sum(lines[:per_column]), sum(lines[per_column:])) + 0.15
    height = _TITLE_IN + sum(p.height_in for p in panels) + _GAP_IN * len(panels) + legend_in
    return _Layout(tuple(panels), False, height, legend_in)


def _subtitle(section: Section, ex: float, window: Window | None) -> str:
    u_name, v_name = section.plane.in_plane
    if not section.plane.vertical:
        return f"plan view, {u_name} across, {v_name} up; true scale"
    scale = f"vertical scale ×{ex:g} (exaggerated)" if ex != 1 else "true scale"
    text = f"{u_name} across, {v_name} up; {scale}"
    if window is not None:
        text += f"; dashed frame: true-scale detail below ({u_name} {window[0]:.0f} to {window[1]:.0f} µm)"
    return text


def _window_frame(ax: Axes, panel: _Panel, window: Window) -> None:
    sv = panel.um_per_in_v
    frame = Rectangle(
        (window[0], panel.v[0] - 0.06 * sv),
        window[1] - window[0],
        panel.v[1] - panel.v[0] + 0.12 * sv,
        fill=False,
        edgecolor=_WINDOW_COLOUR,
        linewidth=1.0,
        linestyle=(0, (4, 2)),
        zorder=8,
    )
    frame.set_gid("window")
    ax.add_patch(frame)


def _anchor(section: Section, panel: _Panel) -> float:
    """Where the unit dimensions go: the rightmost die edge, or the panel's right end."""
    dies = [p for p in section.pieces if p.role == "die"]
    return max(p.bounds[2] for p in dies) if dies else panel.u[1]


def _draw_panel(ax: Axes, panel: _Panel, section: Section, window: Window | None) -> None:
    ax.set_xlim(*panel.xlim)
    ax.set_ylim(*panel.ylim)
    ax.set_aspect(panel.exaggeration, adjustable="box")
    ax.set_axis_off()
    shown = [p for p in section.pieces if p.bounds[2] > panel.u[0] and p.bounds[0] < panel.u[1]]
    _draw_pieces(ax, shown, section, panel.gid_prefix)
    _scale_bars(ax, panel, section)
    if panel.name == "main" and section.plane.vertical:
        _vertical_dimensions(ax, panel, section)
    if panel.name == "detail" or window is None:
        _unit_dimensions(ax, panel, section, _anchor(section, panel))
    if panel.name == "main" and window is not None:
        _window_frame(ax, panel, window)
    if panel.name == "detail":
        _text(ax, panel.u[0], panel.ylim[1], "detail, true scale", "detail:title", ha="left", va="top")


def _draw(
    section: Section, exaggeration: float | None, window: Window | Literal["auto"] | None
) -> tuple[Figure, list[tuple[_Panel, Axes]], float, Window | None]:
    if not section.pieces:
        raise ValueError(f"section {section.plane} of {section.model!r} has no pieces to draw")
    ex = choose_exaggeration(section) if exaggeration is None else float(exaggeration)
    if not ex >= 1:
        raise ValueError(f"vertical exaggeration must be at least 1, not {exaggeration!r}")
    if not section.plane.vertical:
        ex = 1.0
    win = auto_window(section) if window == "auto" else window
    if win is not None:
        lo, hi = float(win[0]), float(win[1])
        if not hi > lo:
            raise ValueError(f"window {win!r} must be (u0, u1) with u1 > u0, in micrometres")
        win = (lo, hi)
    handles = _legend_handles(section, beside=not section.plane.vertical)
    layout = _layout(section, ex, win, handles)
    height = layout.height_in
    fig = Figure(figsize=(WIDTH_IN, height))
    left = _MARGIN_IN / WIDTH_IN
    title = f"{section.model}: section {section.plane.axis} = {section.plane.at_um:g} µm"
    fig.text(left, 1 - 0.12 / height, title, fontsize=12, fontweight="bold", va="top")
    fig.text(left, 1 - 0.42 / height, _subtitle(section, ex, win), fontsize=9, color="#444444", va="top")
    top = height - _TITLE_IN
    placed: list[tuple[_Panel, Axes]] = []
    for panel in layout.panels:
        bottom = top - panel.height_in
        ax = fig.add_axes((left, bottom / height, panel.width_in / WIDTH_IN, panel.height_in / height))
        _draw_panel(ax, panel, section, win)
        placed.append((panel, ax))
        top = bottom - _GAP_IN
    if layout.legend_beside:
        anchor = ((_MARGIN_IN + layout.panels[0].width_in + 0.3) / WIDTH_IN, 1 - _TITLE_IN / height)
    else:
        anchor = (left, (layout.legend_in - 0.05) / height)
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=anchor,
        ncol=1 if layout.legend_beside else 2,
        fontsize=_FONT,
        frameon=False,
        handlelength=1.6,
        columnspacing=1.5,
        borderaxespad=0.0,
    )
    return fig, placed, ex, win


def _metadata(section: Section, fig: Figure, placed: list[tuple[_Panel, Axes]], ex: float) -> dict[str, Any]:
    """Per panel, the affine from plane coordinates (um) to SVG user units, as SVG's ``matrix(a b c d e f)``."""
    fig.draw_without_rendering()
    height_pt = fig.get_figheight() * 72.0
    panels = []
    for panel, ax in placed:
        m = ax.transData.get_affine().get_matrix()
        panels.append(
            {
                "name": panel.name,
                "gid_prefix": panel.gid_prefix,
                "exaggeration": panel.exaggeration,
                "u_range_um": list(panel.u),
                "v_range_um": list(panel.v),
                "matrix": [
                    float(m[0, 0]),
                    0.0,
                    0.0,
                    float(-m[1, 1]),
                    float(m[0, 2]),
                    float(height_pt - m[1, 2]),
                ],
            }
        )
    u_name, v_name = section.plane.in_plane
    return {
        "moldstack_section": {
            "model": section.model,
            "plane": str(section.plane),
            "coordinates": [u_name, v_name],
            "units": "um",
            "exaggeration": ex,
            "tolerance_um": section.tolerance_um,
            "panels": panels,
        }
    }


def _render(
    section: Section,
    fmt: Literal["svg", "png"],
    exaggeration: float | None,
    window: Window | Literal["auto"] | None,
    dpi: float,
) -> tuple[bytes, float, Window | None]:
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "moldstack-section", "font.size": _FONT}):
        fig, placed, ex, win = _draw(section, exaggeration, window)
        fig.set_dpi(72.0)
        description = json.dumps(_metadata(section, fig, placed, ex))
        title = f"{section.model}: section {section.plane}"
        if fmt == "svg":
            metadata: dict[str, Any] = {"Title": title, "Description": description, "Date": None}
        else:
            metadata = {"Title": title, "Description": description, "Software": "moldstack"}
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=72.0 if fmt == "svg" else dpi, metadata=metadata)
    return buffer.getvalue(), ex, win


def write_section_svg(
    section: Section,
    path: str | Path,
    *,
    exaggeration: float | None = None,
    window: Window | Literal["auto"] | None = "auto",
) -> SectionFigure:
    """Draw ``section`` to an SVG file (atomically); see the module docstring for the figure and its metadata.

    ``exaggeration``: vertical exaggeration of the main panel (default: :func:`choose_exaggeration`).
    ``window``: ``(u0, u1)`` in micrometres for the true-scale detail panel, ``"auto"`` (:func:`auto_window`)
    or None for the main panel alone.
    """
    data, ex, win = _render(section, "svg", exaggeration, window, 72.0)
    return SectionFigure(write_bytes(path, data), len(section.pieces), ex, win)


def write_section_png(
    section: Section,
    path: str | Path,
    *,
    exaggeration: float | None = None,
    window: Window | Literal["auto"] | None = "auto",
    dpi: float = PNG_DPI,
) -> SectionFigure:
    """Draw ``section`` to a PNG file (atomically) at ``dpi``; the same figure as :func:`write_section_svg`."""
    data, ex, win = _render(section, "png", exaggeration, window, dpi)
    return SectionFigure(write_bytes(path, data), len(section.pieces), ex, win)


__all__ = ["SectionFigure", "auto_window", "choose_exaggeration", "write_section_png", "write_section_svg"]
