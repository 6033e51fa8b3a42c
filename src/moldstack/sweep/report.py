"""The sweep's HTML page (``results.html``): one self-contained file in the build report's style.

It shows the sweep definition (spec, factors, design, analyses), the summary (counts by status, times, the
range of every numeric output), the Pareto front (its plot inlined as a data URI and its table) and the first
:data:`ROWS_SHOWN` variants. The build report's stylesheet (``moldstack/report/templates/report.css``) is
inlined, so the page needs no other file. It knows the rows, the sweep's identity and the summary as plain data;
nothing of Dask, Parquet or the analyses.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from moldstack.output import write_text

ROWS_SHOWN = 200

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="moldstack">
<title>{{ design }} — moldstack sweep</title>
<style>
{{ css }}
</style>
</head>
<body>
<header class="masthead"><div class="inner">
  <div class="kicker">moldstack design sweep</div>
  <h1>{{ design }}</h1>
  <div class="meta"><span>spec {{ spec_name }}</span><span>generated {{ generated }}</span>
  <span>moldstack {{ identity.moldstack }}</span></div>
</div></header>
<nav class="toc" aria-label="sections"><div class="inner">
<a href="#summary">Summary</a>{% if objectives %}<a href="#pareto">Pareto front</a>{% endif %}
<a href="#variants">Variants</a><a href="#definition">Sweep definition</a>
</div></nav>
<main>
<section id="summary">
<h2><span class="no">1</span>Summary</h2>
<table>
<tr><th>variants</th><td>{{ summary.total }} ({{ summary.skipped }} stored earlier, {{ summary.ran }} run now)</td></tr>
<tr><th>by status</th><td>{% for k in ('ok', 'invalid', 'failed') %}<span class="badge {{ {'ok': 'ok', 'invalid': 'warn', 'failed': 'bad'}[k] }}">{{ k }} {{ summary.counts.get(k, 0) }}</span> {% endfor %}</td></tr>
<tr><th>workers</th><td>{{ summary.workers }} on {{ summary.scheduler }}</td></tr>
<tr><th>wall time</th><td>{{ fmt(summary.wall_s) }} s</td></tr>
{% if summary.variant_s_mean is not none %}<tr><th>per variant</th><td>{{ fmt(summary.variant_s_mean) }} s on a worker</td></tr>{% endif %}
</table>
{% if summary.ranges %}
<h3>Outputs over the ok variants</h3>
<table><thead><tr><th>output</th><th>min</th><th>max</th></tr></thead><tbody>
{% for r in summary.ranges %}<tr><td><code>{{ r.output }}</code></td><td>{{ fmt(r.min) }}</td><td>{{ fmt(r.max) }}</td></tr>
{% endfor %}</tbody></table>
{% endif %}
</section>
{% if objectives %}
<section id="pareto">
<h2><span class="no">2</span>Pareto front</h2>
<p>Objectives: {% for name, sense in objectives.items() %}<code>{{ name }}</code> ({{ sense }}){% if not loop.last %}, {% endif %}{% endfor %};
{{ front|length }} non-dominated variants.</p>
{% if pareto_png %}<figure><img src="{{ pareto_png }}" alt="Pareto front" style="max-width:100%"></figure>{% endif %}
<table><thead><tr><th>variant</th>{% for c in inputs %}<th>{{ c }}</th>{% endfor %}{% for c in objectives if c not in inputs %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in front %}<tr><td>{{ row.variant }}</td>{% for c in inputs %}<td>{{ fmt(row.get(c)) }}</td>{% endfor %}{% for c in objectives if c not in inputs %}<td>{{ fmt(row.get(c)) }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
</section>
{% endif %}
<section id="variants">
<h2><span class="no">{{ 3 if objectives else 2 }}</span>Variants</h2>
<p>{% if rows|length > shown|length %}The first {{ shown|length }} of {{ rows|length }} variants; all are in the results folder.{% else %}All {{ rows|length }} variants.{% endif %}</p>
<div style="overflow-x:auto"><table><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in shown %}<tr>{% for c in columns %}<td>{% if c == 'status' %}<span class="badge {{ {'ok': 'ok', 'invalid': 'warn', 'failed': 'bad'}.get(row.status, 'neutral') }}">{{ row.status }}</span>{% else %}{{ fmt(row.get(c)) }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
</section>
<section id="definition">
<h2><span class="no">{{ 4 if objectives else 3 }}</span>Sweep definition</h2>
<table>
<tr><th>spec</th><td>{{ spec_name }} (SHA-256 <code>{{ identity.spec_sha256 }}</code>)</td></tr>
<tr><th>design</th><td>{{ identity.design }}{% if identity.samples %}, {{ identity.samples }} samples, seed {{ identity.seed }}{% endif %}</td></tr>
<tr><th>settings</th><td><code>{{ identity.settings }}</code></td></tr>
</table>
<h3>Factors</h3>
<table><thead><tr><th>path</th><th>definition</th></tr></thead><tbody>
{% for f in identity.factors %}<tr><td><code>{{ f.path }}</code></td><td><code>{{ f }}</code></td></tr>
{% endfor %}</tbody></table>
</section>
</main>
</body>
</html>
"""


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.4g}"
    if isinstance(value, dt.datetime):
        return value.strftime("%H:%M:%S")
    return str(value)


def _png_uri(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def sweep_report_html(
    *,
    rows: Sequence[Mapping[str, Any]],
    identity: Mapping[str, Any],
    summary: Mapping[str, Any],
    spec_name: str,
    objectives: Mapping[str, Any] | None = None,
    front: Sequence[Mapping[str, Any]] = (),
    pareto_png: Path | None = None,
) -> str:
    """The sweep page as HTML text (see the module docstring); ``rows`` are the stored rows, in variant order."""
    css = resources.files("moldstack.report").joinpath("templates/report.css").read_text(encoding="utf-8")
    inputs = [str(f["path"]) for f in identity.get("factors", [])]
    columns = list(rows[0].keys()) if rows else ["variant", *inputs, "status"]
    columns = [c for c in columns if c != "finished_at"]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
    return env.from_string(_TEMPLATE).render(
        css=jinja2.utils.markupsafe.Markup(css),
        design=Path(spec_name).stem,
        spec_name=spec_name,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        identity=identity,
        summary=summary,
        objectives=dict(objectives or {}),
        front=list(front),
        pareto_png=_png_uri(pareto_png),
        inputs=inputs,
        rows=list(rows),
        shown=list(rows[:ROWS_SHOWN]),
        columns=columns,
        fmt=_fmt,
    )


def write_sweep_report(path: str | Path, **page: Any) -> Path:
    """Write the sweep page (:func:`sweep_report_html` with ``page``) to ``path`` atomically; its path."""
    return write_text(path, sweep_report_html(**page))


__all__ = ["ROWS_SHOWN", "sweep_report_html", "write_sweep_report"]
