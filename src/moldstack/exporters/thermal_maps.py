"""Temperature maps of a thermal result: the die plane (plan view) and a vertical section, PNG with a colour bar.

Each map shows the package region only (the board, where there is one, is cropped away in plan), cells drawn
as they are (no interpolation), held ambient cells left white, the die outlines dashed, and the hottest cell
marked. Written atomically. Reads a :class:`~moldstack.analysis.thermal.ThermalResult`; knows no physics.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from moldstack.analysis.thermal import ThermalResult
from moldstack.geometry.model import Model
from moldstack.output import write_figure

_CMAP = "inferno"
_PAD_UM = 300.0


BOARD_VIEW_UM = 700.0  # how much of the board the section shows under its top face


def _window(model: Model) -> tuple[float, float, float, float]:
    asms = model.assemblies
    return (
        min(a.x0 for a in asms) - _PAD_UM,
        min(a.y0 for a in asms) - _PAD_UM,
        max(a.x1 for a in asms) + _PAD_UM,
        max(a.y1 for a in asms) + _PAD_UM,
    )


def die_plane_map(result: ThermalResult, model: Model, path: str | Path) -> Path:
    """Plan view of the temperature in the hottest die's active layer."""
    g = result.grid
    x0, y0, x1, y1 = _window(model)
    sx, sy = g.span(0, x0, x1), g.span(1, y0, y1)
    u = result.solution.u[sx, sy, result.die_plane_k]
    held = result.held[sx, sy, result.die_plane_k]
    field = np.ma.masked_array(u, mask=held)
    with mpl.rc_context({"font.size": 8}):
        fig = Figure(figsize=(6.4, 5.4))
        ax = fig.add_subplot()
        mesh = ax.pcolormesh(
            g.x[sx.start : sx.stop + 1] * 1e-3,
            g.y[sy.start : sy.stop + 1] * 1e-3,
            field.T,
            cmap=_CMAP,
            shading="flat",
        )
        fig.colorbar(mesh, ax=ax, label="temperature (C)")
        for asm in model.assemblies:
            for d in asm.dies:
                ax.add_patch(
                    Rectangle(
                        (d.x0 * 1e-3, d.y0 * 1e-3),
                        (d.x1 - d.x0) * 1e-3,
                        (d.y1 - d.y0) * 1e-3,
                        fill=False,
                        ls="--",
                        lw=0.8,
                        ec="white",
                    )
                )
        i, j = np.unravel_index(int(np.argmax(np.where(held, -np.inf, u))), u.shape)
        ax.plot(g.centres(0)[sx][i] * 1e-3, g.centres(1)[sy][j] * 1e-3, "c+", ms=9, mew=1.5)
        ax.set_aspect("equal")
        ax.set_xlabel("x (mm)")
        ax.set_ylabel("y (mm)")
        z = g.centres(2)[result.die_plane_k]
        ax.set_title(
            f"{model.name}: die plane (z = {z:.0f} um), {result.environment.kind}, {result.power_w:g} W\n"
            f"Tj max {result.tj_max_c:.2f} C (+), reference {result.reference_c:.2f} C",
            fontsize=9,
        )
        return write_figure(fig, path)


def section_map(result: ThermalResult, model: Model, path: str | Path, y_um: float | None = None) -> Path:
    """The temperature on the vertical plane ``y = y_um`` (default: through the hottest cell), true to scale in
    x and exaggerated in z so the package's thickness reads."""
    g = result.grid
    u_all = result.solution.u
    held_all = result.held
    if y_um is None:
        hot = np.unravel_index(int(np.argmax(np.where(held_all, -np.inf, u_all))), u_all.shape)
        y_um = float(g.centres(1)[hot[1]])
    j = g.index(1, y_um)
    x0, _, x1, _ = _window(model)
    b = model.bbox
    sx = g.span(0, x0, x1)
    bottom = b[2] - 400.0 if result.board_top_um is None else result.board_top_um - BOARD_VIEW_UM
    sz = g.span(2, bottom, b[5] + 50.0)
    u = u_all[sx, j, sz]
    held = held_all[sx, j, sz]
    field = np.ma.masked_array(u, mask=held)
    with mpl.rc_context({"font.size": 8}):
        fig = Figure(figsize=(8.0, 3.6))
        ax = fig.add_subplot()
        mesh = ax.pcolormesh(
            g.x[sx.start : sx.stop + 1] * 1e-3,
            g.z[sz.start : sz.stop + 1] * 1e-3,
            field.T,
            cmap=_CMAP,
            shading="flat",
        )
        fig.colorbar(mesh, ax=ax, label="temperature (C)")
        ax.set_xlabel("x (mm)")
        ax.set_ylabel("z (mm), exaggerated")
        if result.board_top_um is not None:
            ax.axhline(result.board_top_um * 1e-3, color="white", lw=0.6, ls=":")
        ax.set_title(
            f"{model.name}: section y = {y_um:.0f} um, {result.environment.kind}"
            + ("; board below the dotted line" if result.board_top_um is not None else ""),
            fontsize=9,
        )
        fig.tight_layout()
        return write_figure(fig, path)


__all__ = ["die_plane_map", "section_map"]
