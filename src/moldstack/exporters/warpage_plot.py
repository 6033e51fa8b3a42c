"""The warpage figure: each laminate's warpage over the body diagonal against temperature through reflow.

One line per package (the substrate, where there is one, in grey): the heating leg as a solid line, the cooling
leg as open markers on it (an elastic model gives the same value on both legs, so the markers sit on the line);
each Tg and the stress-free temperature marked; optional +-limit lines (e.g. JEITA ED-7306's 0.17 mm at 0.8 mm
pitch). The y label states the sign convention. PNG or SVG by the path's suffix, written atomically. Reads a
:class:`~moldstack.analysis.warpage.WarpageResult`; knows no physics.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from moldstack.analysis.warpage import SUBSTRATE, WarpageResult
from moldstack.output import write_figure

_FORMATS = {".png": "png", ".svg": "svg"}
_COOLING_MARKERS = 12  # open markers along the cooling leg


def write_warpage_plot(result: WarpageResult, path: str | Path, limit_um: float | None = None) -> Path:
    """Write the warpage-vs-temperature figure of ``result`` to ``path`` (``.png`` or ``.svg``)."""
    target = Path(path)
    fmt = _FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(f"{target.name}: the warpage plot is written as .png or .svg, not '{target.suffix}'")
    with mpl.rc_context({"font.size": 9, "svg.fonttype": "none"}):
        fig = Figure(figsize=(9.0, 4.6))
        ax = fig.add_subplot()
        colours = iter(mpl.colormaps["tab10"].colors)
        keys: list[Line2D] = []
        for a in result.assemblies:
            colour = "0.45" if a.kind == SUBSTRATE else next(colours)
            k = a.peak_index
            t, w = a.temperatures_c, a.warpage_diagonal_um
            ax.plot(t[: k + 1], w[: k + 1], "-", color=colour, lw=1.8)
            cooling = np.unique(np.linspace(k, len(t) - 1, _COOLING_MARKERS + 1).round().astype(int))
            ax.plot(t[cooling], w[cooling], "o", mfc="none", mec=colour, ms=6, mew=1.2)
            keys.append(
                Line2D(
                    [],
                    [],
                    color=colour,
                    lw=1.8,
                    label=f"{a.name}: {a.size_um[0] / 1e3:g} x {a.size_um[1] / 1e3:g} mm {a.kind}",
                )
            )
        keys += [
            Line2D([], [], color="0.2", lw=1.8, label="heating leg"),
            Line2D([], [], color="0.2", ls="none", marker="o", mfc="none", ms=6, label="cooling leg"),
        ]
        ax.axhline(0.0, color="black", lw=0.6)
        settings = result.settings
        ax.axvline(settings.stress_free_c, color="0.6", lw=0.8, ls="--")
        ax.annotate(
            f"stress-free {settings.stress_free_c:g} C",
            (settings.stress_free_c, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            va="top",
            fontsize=7,
            color="0.4",
        )
        for name, tg in result.tg_c.items():
            ax.axvline(tg, color="tab:purple", lw=0.8, ls=":")
            ax.annotate(
                f"Tg {name} {tg:g} C",
                (tg, 0.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=7,
                color="tab:purple",
            )
        if limit_um is not None:
            for sign in (1, -1):
                ax.axhline(sign * limit_um, color="tab:red", lw=1.0, ls="--")
            ax.annotate(
                f"limit +-{limit_um:g} um",
                (0.0, limit_um),
                xycoords=("axes fraction", "data"),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=7,
                color="tab:red",
            )
            ax.set_ylim(min(ax.get_ylim()[0], -1.1 * limit_um), max(ax.get_ylim()[1], 1.1 * limit_um))
        pad = 0.02 * (settings.peak_c - settings.start_c)
        ax.set_xlim(settings.start_c - pad, settings.peak_c + pad)
        ax.set_xlabel("temperature (C)")
        ax.set_ylabel("warpage over the body diagonal (um)\n+ convex (centre up), - concave; JEITA ED-7306")
        ax.set_title(
            f"{result.model}: warpage over reflow {settings.start_c:g} -> {settings.peak_c:g} -> "
            f"{settings.start_c:g} C (laminate theory, elastic: legs coincide)",
            fontsize=9,
        )
        ax.grid(True, lw=0.3, alpha=0.6)
        ax.legend(handles=keys, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return write_figure(fig, target, fmt, dpi=160, tight=True)


__all__ = ["write_warpage_plot"]
