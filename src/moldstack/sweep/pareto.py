"""Pareto fronts of a sweep's results: the variants no other variant beats on every objective.

A row ``a`` dominates ``b`` when ``a`` is at least as good on every objective and strictly better on one (smaller
for ``min``, larger for ``max``); the front is the rows nothing dominates. Rows with a missing (None or NaN)
objective are never on it, and do not dominate others. Rows are a list of dicts or a table as a dict of
columns (plain lists or arrays); rows whose ``status`` is not ``ok`` are left out. :func:`write_pareto` draws the
front and writes it as a CSV table. Of specs it knows only the top keys (to tell a sweep's inputs, spec paths,
from its outputs); nothing of Dask or Parquet.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from moldstack.output import write_figure, write_text
from moldstack.spec.design import Design
from moldstack.sweep.variants import SweepInputError, parse_path

Sense = Literal["min", "max"]
SENSES: tuple[Sense, ...] = ("min", "max")
Rows = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]
_CHUNK_CELLS = 4_000_000  # comparisons held at once by pareto_mask (rows x rows x objectives)


def parse_objectives(text: str) -> dict[str, Sense]:
    """Read ``column:sense`` pairs joined by commas (``tj_max_c:min,warpage_max_um:min``); the sense is ``min``
    (the default when left out) or ``max``. Raises :class:`SweepInputError` naming the text and the part."""

    def fail(part: str, rule: str) -> SweepInputError:
        return SweepInputError(f"--objectives '{text}': {part}: {rule}")

    out: dict[str, Sense] = {}
    if not text.strip():
        raise fail("empty", "give COLUMN[:min|max] joined by commas, e.g. tj_max_c:min,warpage_max_um:min")
    for i, item in enumerate(text.split(",")):
        column, sep, sense = (p.strip() for p in item.partition(":"))
        if not column:
            raise fail(f"objective {i + 1} '{item.strip()}'", "has no column name (COLUMN[:min|max])")
        sense = sense.lower() if sep else "min"
        if sense not in SENSES:
            raise fail(f"'{item.strip()}'", f"sense '{sense}' is not min or max")
        if column in out:
            raise fail(f"'{column}'", "is given twice; give each objective once")
        out[column] = sense  # type: ignore[assignment]
    return out


def pareto_mask(values: NDArray[np.float64], senses: Sequence[Sense]) -> NDArray[np.bool_]:
    """True for each non-dominated row of ``values`` (n rows, k objectives), ``senses[j]`` of column j.

    Exact: every pair is compared (O(n^2 k), vectorised in blocks of rows; thousands of rows take well under
    a second). Rows equal on every objective do not dominate each other, so ties are all on the front. A row
    with a NaN is never on it and dominates nothing.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError(f"values: give a 2-D array (rows x objectives), not shape {v.shape}")
    k = v.shape[1]
    if len(senses) != k:
        raise ValueError(f"senses: {len(senses)} given for {k} objective columns")
    bad = [s for s in senses if s not in SENSES]
    if bad:
        raise ValueError(f"senses: {bad[0]!r} is not min or max")
    sign = np.array([1.0 if s == "min" else -1.0 for s in senses])
    cost = v * sign  # to minimise
    finite = ~np.isnan(cost).any(axis=1)
    mask = finite.copy()
    others = cost[finite]
    if not len(others) or k == 0:
        return mask
    block = max(1, _CHUNK_CELLS // max(1, len(others) * k))
    rows = np.flatnonzero(finite)
    for first in range(0, len(rows), block):
        idx = rows[first : first + block]
        a = cost[idx][:, None, :]  # the rows tested
        b = others[None, :, :]  # every row that might dominate them
        dominated = ((b <= a).all(axis=2) & (b < a).any(axis=2)).any(axis=1)
        mask[idx] = ~dominated
    return mask


def _column(rows: Rows, name: str) -> list[Any]:
    if isinstance(rows, Mapping):
        if name not in rows:
            raise SweepInputError(
                f"objective '{name}': no such column (columns: {', '.join(map(str, rows))})"
            )
        return list(rows[name])
    if rows and all(name not in r for r in rows):
        raise SweepInputError(f"objective '{name}': no such column (columns: {', '.join(map(str, rows[0]))})")
    return [r.get(name) for r in rows]


def _count(rows: Rows) -> int:
    if isinstance(rows, Mapping):
        return len(next(iter(rows.values()))) if rows else 0
    return len(rows)


def _names(rows: Rows) -> list[str]:
    if isinstance(rows, Mapping):
        return [str(c) for c in rows]
    seen: dict[str, None] = {}
    for r in rows:
        seen.update(dict.fromkeys(map(str, r)))
    return list(seen)


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool | str):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _ok(rows: Rows) -> NDArray[np.bool_]:
    n = _count(rows)
    if "status" not in _names(rows):
        return np.ones(n, dtype=bool)
    return np.array([s == "ok" for s in _column(rows, "status")], dtype=bool)


def _matrix(rows: Rows, objectives: Mapping[str, Sense]) -> NDArray[np.float64]:
    """The objective values of every row (NaN where missing, not a number, or the row not ``ok``)."""
    if not objectives:
        raise SweepInputError("objectives: give at least one column to minimise or maximise")
    n = _count(rows)
    table = np.array([[_number(v) for v in _column(rows, name)] for name in objectives], dtype=float).reshape(
        len(objectives), n
    )
    values = table.T.copy()
    values[~_ok(rows)] = math.nan
    return values


def pareto_front(rows: Rows, objectives: Mapping[str, Sense]) -> list[int]:
    """The indices (ascending) of the rows on the Pareto front of ``objectives`` (column -> ``min``/``max``)."""
    mask = pareto_mask(_matrix(rows, objectives), list(objectives.values()))
    return [int(i) for i in np.flatnonzero(mask)]


def _input_columns(rows: Rows) -> list[str]:
    """Columns that are spec paths (a sweep's inputs): a key of the spec's top followed by a dot or a bracket."""
    out = []
    for name in _names(rows):
        try:
            steps = parse_path(name)
        except SweepInputError:
            continue
        if len(steps) > 1 and steps[0].text in Design.model_fields:
            out.append(name)
    return out


def _label(name: str, sense: Sense) -> str:
    return f"{name} ({sense})"


def _draw(
    values: NDArray[np.float64], ok: NDArray[np.bool_], front: list[int], objectives: Mapping[str, Sense]
) -> Any:
    import matplotlib as mpl  # noqa: PLC0415 - matplotlib only when a figure is asked for
    from matplotlib.figure import Figure  # noqa: PLC0415

    names = list(objectives)
    senses = list(objectives.values())
    k = len(names)
    grey, colour = "0.7", "tab:red"
    shown = ok & ~np.isnan(values).any(axis=1)
    title = f"Pareto front: {len(front)} of {int(shown.sum())} variants"
    with mpl.rc_context({"font.size": 9}):
        if k <= 2:
            fig = Figure(figsize=(6.4, 4.8))
            ax = fig.add_subplot()
            if k == 1:
                x_all, y_all = np.flatnonzero(shown), values[shown, 0]
                x_front, y_front = np.array(front), values[front, 0]
                ax.set_xlabel("variant")
                ax.set_ylabel(_label(names[0], senses[0]))
            else:
                x_all, y_all = values[shown, 0], values[shown, 1]
                order = sorted(front, key=lambda i: (values[i, 0], values[i, 1]))
                x_front, y_front = values[order, 0], values[order, 1]
                ax.set_xlabel(_label(names[0], senses[0]))
                ax.set_ylabel(_label(names[1], senses[1]))
            ax.scatter(x_all, y_all, s=14, color=grey, label="variants (ok)", zorder=1)
            ax.plot(x_front, y_front, "-o", color=colour, ms=5, lw=1.2, label="Pareto front", zorder=2)
            ax.grid(True, lw=0.3, color="0.85")
            ax.legend(loc="best", frameon=False)
            ax.set_title(title)
            fig.tight_layout()
            return fig
        fig = Figure(figsize=(2.6 * k, 2.6 * k))
        axes = fig.subplots(k, k, squeeze=False)
        for r in range(k):
            for c in range(k):
                ax = axes[r][c]
                if r == c:
                    edges = np.histogram_bin_edges(values[shown, c], bins=20)
                    ax.hist(values[shown, c], bins=edges, color=grey)
                    ax.hist(values[front, c], bins=edges, color=colour, alpha=0.8)
                else:
                    ax.scatter(values[shown, c], values[shown, r], s=6, color=grey)
                    ax.scatter(values[front, c], values[front, r], s=10, color=colour)
                if r == k - 1:
                    ax.set_xlabel(_label(names[c], senses[c]))
                if c == 0:
                    ax.set_ylabel(_label(names[r], senses[r]))
        fig.suptitle(title + " (red: on the front)")
        fig.tight_layout()
        return fig


def _csv_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def write_pareto(
    rows: Rows,
    objectives: Mapping[str, Sense],
    png_path: str | Path,
    csv_path: str | Path,
    *,
    inputs: Sequence[str] | None = None,
) -> list[Path]:
    """Draw the Pareto front of ``objectives`` and write it as a table; return the two paths.

    The PNG: for one or two objectives a scatter of every ``ok`` variant (grey) with the front highlighted and
    joined in order of the first objective, axes named by their columns; for three or more a scatter matrix
    (histograms on the diagonal). The CSV: one line per front variant, in order of the first objective, with
    ``variant`` (the rows' ``variant`` column, else the row index), the ``inputs`` (default: the columns that are
    spec paths) and the objectives. Both written atomically.
    """
    values = _matrix(rows, objectives)
    ok = _ok(rows)
    front = pareto_front(rows, objectives)
    order = sorted(front, key=lambda i: tuple(values[i]))
    names = _names(rows)
    ids = _column(rows, "variant") if "variant" in names else list(range(_count(rows)))
    columns = list(inputs) if inputs is not None else _input_columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["variant", *columns, *objectives])
    data = {c: _column(rows, c) for c in [*columns, *objectives]}
    for i in order:
        writer.writerow([_csv_value(ids[i]), *(_csv_value(data[c][i]) for c in [*columns, *objectives])])
    figure = _draw(values, ok, front, objectives)
    return [write_figure(figure, png_path, "png"), write_text(csv_path, buffer.getvalue())]


__all__ = ["SENSES", "Sense", "pareto_front", "pareto_mask", "parse_objectives", "write_pareto"]
