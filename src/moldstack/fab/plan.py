"""The process grid's plan lines, from the flow's masks: every edge a step draws is a line, and cells are
``fine_um`` around pads and apertures, growing to ``coarse_um`` elsewhere (:func:`~moldstack.geometry.grid.graded_lines`).

Reads a :class:`~moldstack.fab.steps.Flow` only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from moldstack.fab.steps import (
    DieAttach,
    DielectricBase,
    Drill,
    Encapsulate,
    Flow,
    PadArray,
    Plate,
    Rect,
    RemoveSacrificial,
)
from moldstack.geometry.grid import Zone, check_cells, graded_lines

Lines = NDArray[np.float64]


class _Axes:
    def __init__(self) -> None:
        self.breaks: tuple[list[float], list[float]] = ([], [])
        self.zones: tuple[list[Zone], list[Zone]] = ([], [])

    def rect(self, rect: Rect) -> None:
        self.breaks[0].extend((rect[0], rect[2]))
        self.breaks[1].extend((rect[1], rect[3]))

    def disc(self, x: float, y: float, r: float) -> None:
        self.breaks[0].extend((x - r, x + r))
        self.breaks[1].extend((y - r, y + r))

    def zone(self, x: float, y: float, r: float, size: float) -> None:
        self.zones[0].append(Zone(x - r, x + r, size))
        self.zones[1].append(Zone(y - r, y + r, size))


def plan_lines(flow: Flow) -> tuple[Lines, Lines]:
    """The x and y lines of the process grid for ``flow``."""
    axes = _Axes()
    g = flow.grid
    axes.rect(flow.panel_um)
    sites: list[tuple[float, float, float]] = []
    for step in flow.steps:
        if isinstance(step, DielectricBase) and step.opening_um is not None:
            axes.rect(step.opening_um)
        elif isinstance(step, PadArray):
            for pad in step.pads:
                axes.disc(*pad.at_um, pad.diameter_um / 2)
                axes.zone(*pad.at_um, pad.diameter_um / 2, g.fine_um)
        elif isinstance(step, DieAttach):
            axes.rect(step.outline_um)
            for c in step.contacts:
                x, y = c.at_um
                w, h = c.size_um
                axes.rect((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
        elif isinstance(step, Encapsulate):
            axes.rect(step.outline_um)
        elif isinstance(step, Drill):
            for ap in step.apertures:
                sites.append((*ap.at_um, ap.diameter_um / 2))
                axes.disc(*ap.at_um, ap.diameter_um / 2)
                axes.zone(*ap.at_um, ap.diameter_um / 2, g.fine_um)
        elif isinstance(step, Plate):
            for x, y, r in sites:
                reach = r + step.flange_overhang_um
                axes.disc(x, y, reach)
                axes.zone(x, y, reach, g.fine_um)
                if step.thickness_um is not None and step.thickness_um < r:
                    axes.disc(x, y, r - step.thickness_um)
        elif isinstance(step, RemoveSacrificial) and step.region_um is not None:
            axes.rect(step.region_um)
    x0, y0, x1, y1 = flow.panel_um
    x = graded_lines(axes.breaks[0], x0, x1, g.coarse_um, axes.zones[0], g.growth)
    y = graded_lines(axes.breaks[1], y0, y1, g.coarse_um, axes.zones[1], g.growth)
    check_cells((len(x) - 1) * (len(y) - 1), g.max_cells, f"process grid of flow '{flow.name}' in plan")
    return x, y


__all__ = ["plan_lines"]
