"""Bond wires as 1D links of a field grid: the two cells a wire joins and its conductance ``k pi r^2 / L``.

A bond wire (18-25 um) is thinner than the cells of an analysis grid, so the field analyses do not rasterise
it: it joins the cell at the top of its ball to the cell of the pad under its stitch through the conductance
of its whole length (:class:`~moldstack.fields.problem.Links`). ``k`` is the thermal conductivity for heat and
the electrical conductivity (1 / resistivity) for current.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from moldstack.fields.problem import Links
from moldstack.geometry.grid import Grid
from moldstack.geometry.model import Solid
from moldstack.geometry.primitives import Wire

UM = 1e-6


def wire_end_cells(grid: Grid, wire: Wire) -> tuple[int, int]:
    """Flat indices of the cell just under the wire's first point (the ball's top) and of the pad cell just
    under its stitch (one wire radius below its last point)."""
    start = wire.points[0] - (0.0, 0.0, 1e-3)
    end = wire.points[-1] - (0.0, 0.0, wire.radius + 1e-3)
    cells = grid.cell_of(np.array([start, end]))
    a, b = (int(np.ravel_multi_index(tuple(c), grid.shape)) for c in cells)
    return a, b


def wire_links(grid: Grid, solids: Iterable[Solid], k_of: Callable[[Solid], float]) -> Links | None:
    """Links for every wire among ``solids`` whose two ends fall in different cells (None when there are none);
    ``k_of`` gives a wire's conductivity (SI)."""
    ends_a, ends_b, g, names = [], [], [], []
    for s in solids:
        shape = s.shape
        if not isinstance(shape, Wire):
            continue
        a, b = wire_end_cells(grid, shape)
        if a == b:
            continue
        ends_a.append(a)
        ends_b.append(b)
        g.append(k_of(s) * math.pi * (shape.radius * UM) ** 2 / (shape.length * UM))
        names.append(s.id)
    if not g:
        return None
    return Links(np.array(ends_a), np.array(ends_b), np.array(g), tuple(names))


__all__ = ["wire_end_cells", "wire_links"]
