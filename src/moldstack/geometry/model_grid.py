"""The analysis grid of a model: every solid boundary a grid line, then refinement to a largest cell with a
bounded growth ratio, optionally out to a larger domain (a test board) with cells growing away from the model.

Lines come from every solid's bounding box (and the bore of a tube) except wires: bond wires are sub-cell
conductors that the field analyses join as 1D links, so their boxes would only add lines. Reads a
:class:`~moldstack.geometry.model.Model`; knows nothing of physics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from moldstack.geometry.grid import Grid, Zone, check_cells, graded_lines
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Tube, Wire

Bounds = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class GridSettings:
    """Largest cells inside the model (plan and z), the growth ratio, the largest cell far out, the cell cap, and
    the closest two solid boundaries may be and still get a line each (plan and z): closer ones share a line."""

    max_cell_um: float = 250.0
    max_cell_z_um: float = 50.0
    min_cell_um: float = 10.0
    min_cell_z_um: float = 5.0
    growth: float = 1.35
    outer_cell_um: float = 4000.0
    max_cells: int = 6_000_000


GRID_PRESETS: dict[str, GridSettings] = {
    "coarse": GridSettings(max_cell_um=600.0, max_cell_z_um=100.0, growth=1.5, outer_cell_um=8000.0),
    "default": GridSettings(),
    "fine": GridSettings(max_cell_um=150.0, max_cell_z_um=30.0, growth=1.25, max_cells=12_000_000),
}
"""Named grids: ``coarse`` for a quick look, ``default``, and ``fine`` to check the default's discretisation
error (see BENCHMARKS.md for how much theta changes between them)."""


def solid_lines(solids: Iterable[Solid]) -> tuple[list[float], list[float], list[float]]:
    """x, y and z lines at every non-wire solid's box (and a tube's bore)."""
    lines: tuple[list[float], list[float], list[float]] = ([], [], [])
    for s in solids:
        if isinstance(s.shape, Wire):
            continue
        b = s.shape.bbox
        for a in range(3):
            lines[a].extend((b[a], b[a + 3]))
        if isinstance(s.shape, Tube) and s.shape.r_inner > 0:
            t = s.shape
            lines[0].extend((t.cx - t.r_inner, t.cx + t.r_inner))
            lines[1].extend((t.cy - t.r_inner, t.cy + t.r_inner))
    return lines


def model_grid(
    model: Model,
    settings: GridSettings = GridSettings(),
    *,
    domain: Bounds | None = None,
    extra_lines: Sequence[Sequence[float]] = ((), (), ()),
    fine: Bounds | None = None,
) -> Grid:
    """The grid over ``domain`` (default: the model's box) with the model's lines and graded cells.

    Inside the model's box (or ``fine``) cells are at most ``max_cell_um`` in plan and ``max_cell_z_um`` in z; outside it they
    grow by at most ``growth`` per cell up to ``outer_cell_um``. Raises
    :class:`~moldstack.geometry.grid.GridTooLargeError` above ``max_cells``.
    """
    box = fine or model.bbox
    dom = domain or model.bbox
    lines = solid_lines(model.solids)
    edges = []
    for a in range(3):
        size = settings.max_cell_z_um if a == 2 else settings.max_cell_um
        merge = settings.min_cell_z_um if a == 2 else settings.min_cell_um
        zone = Zone(box[a], box[a + 3], size)
        breaks = [*lines[a], *extra_lines[a], box[a], box[a + 3]]
        edges.append(
            graded_lines(
                breaks,
                dom[a],
                dom[a + 3],
                max(settings.outer_cell_um, size),
                [zone],
                settings.growth,
                merge_um=merge,
            )
        )
    cells = (len(edges[0]) - 1) * (len(edges[1]) - 1) * (len(edges[2]) - 1)
    check_cells(cells, settings.max_cells, f"analysis grid of {model.name}")
    return Grid(*edges)


__all__ = ["GRID_PRESETS", "GridSettings", "model_grid", "solid_lines"]
