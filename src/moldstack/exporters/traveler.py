"""The process traveler: a process run as a document a process engineer reads, in Markdown and in HTML.

Holds :func:`traveler_markdown`, :func:`traveler_html` and :func:`write_traveler`. The traveler has a header
(flow, design, grid, times), one table row per step (what it does with its key parameters in units, the layer
stack it leaves, its time, the rules it broke or "ok"), and every violation listed at the end. The HTML is
self-contained (inline CSS, no scripts, nothing fetched from a network) and, given the frames
(:func:`moldstack.exporters.process_frames.write_frames`), shows each step's cross-section under its own
heading, linked by a relative path.

It reads a :class:`~moldstack.fab.record.ProcessRun` (its records' ``params``, ``stack`` and
``violations``) and nothing else: it does not know how the process computes a state, nor the model or spec.
Files are written atomically (:func:`moldstack.output.write_text`); nothing here prints.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from moldstack.exporters.process_frames import FrameFile
from moldstack.fab.record import LayerEntry, ProcessRun, StepRecord, Violation
from moldstack.output import write_text
from moldstack.roles import ROLE_WORDS

Params = dict[str, Any]
UM = "µm"
ROW_VIOLATIONS = 3
"""How many of a step's violations its table row shows in full (the Violations section lists all)."""
_CLAIM_NOTE = re.compile(r"\s*\([^()]*\bclaims?\b[^()]*\)")


# --- numbers and words -----------------------------------------------------------------------------------


def _num(value: float | None) -> str:
    """A number as short text with a true minus sign: ``-12.0`` -> ``−12``, ``12.5`` -> ``12.5``."""
    if value is None:
        return "?"
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    if text in {"-0", ""}:
        text = "0"
    return text.replace("-", "−")


def _um(value: float | None) -> str:
    return f"{_num(value)} {UM}"


def _spread(values: Iterable[float], unit: str = UM) -> str:
    """One value (``320 µm``) or the range of several (``300–320 µm``)."""
    vals = sorted({float(v) for v in values})
    if not vals:
        return "—"
    if len(vals) == 1:
        return f"{_num(vals[0])} {unit}"
    return f"{_num(vals[0])}–{_num(vals[-1])} {unit}"


def _size(rect: Sequence[float] | None) -> str:
    """``[x0, y0, x1, y1]`` as ``6300 × 6300 µm``."""
    if not rect:
        return "—"
    return f"{_num(rect[2] - rect[0])} × {_num(rect[3] - rect[1])} {UM}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def role_words(role: str) -> str:
    """A role's words for a traveler: the claim words without the claim numbers, the process's alternative."""
    words = ROLE_WORDS.get(role, role)
    words = words.split(" / ")[-1]
    return _CLAIM_NOTE.sub("", words).strip()


def duration_text(minutes: float | None) -> str:
    """``240 min (4 h)``, ``30 min``, or ``—`` where the step gives no time."""
    if minutes is None:
        return "—"
    if minutes >= 90:
        return f"{_num(minutes)} min ({_num(round(minutes / 60, 2))} h)"
    return f"{_num(minutes)} min"


# --- what each step does, in a line ----------------------------------------------------------------------


def _sacrificial(p: Params) -> str:
    text = f"{p.get('layer', '?')} layer, {p.get('material', '?')}, {_um(p.get('thickness_um'))} thick"
    if p.get("at_um") is not None:
        text += f", bottom face at z = {_um(p['at_um'])}"
    return text


def _base(p: Params) -> str:
    opening = p.get("opening_um")
    where = f"opening {_size(opening)}" if opening else "no opening"
    return f"{p.get('material', '?')}, {_um(p.get('thickness_um'))} thick, {where}"


def _pads(p: Params) -> str:
    pads = p.get("pads") or []
    dia = _spread(pad["diameter_um"] for pad in pads)
    return f"{_count(len(pads), 'pad')}, Ø{dia}, {p.get('material', '?')} {_um(p.get('thickness_um'))} thick"


def _die(p: Params) -> str:
    contacts = p.get("contacts") or []
    text = f"{p.get('die', '?')}: {p.get('material', '?')}, {_size(p.get('outline_um'))}, "
    text += f"{_um(p.get('thickness_um'))} thick"
    if contacts:
        sizes = sorted({f"{_num(c['size_um'][0])} × {_num(c['size_um'][1])}" for c in contacts})
        size = sizes[0] if len(sizes) == 1 else f"{sizes[0]} … {sizes[-1]}"
        text += f"; {_count(len(contacts), 'contact')} {size} {UM}, "
        text += f"{p.get('contact_material', '?')} {_um(p.get('contact_thickness_um'))}"
    return text


def _bonds(p: Params) -> str:
    return (
        f"{_count(len(p.get('bonds') or []), 'bond')}, {p.get('material', '?')} Ø{_um(p.get('diameter_um'))}, "
        f"loop {_um(p.get('loop_height_um'))} above the contact, "
        f"ball Ø{_num(p.get('ball_diameter_um'))} × {_um(p.get('ball_height_um'))}"
    )


def _encapsulate(p: Params) -> str:
    height = (
        f"{_um(p['thickness_um'])} thick"
        if p.get("thickness_um") is not None
        else "up to the second sacrificial layer"
    )
    return (
        f"{p.get('material', '?')} over {_size(p.get('outline_um'))}, {height}, "
        f"wire cover ≥ {_um(p.get('min_cover_um'))}"
    )


def _cure(p: Params) -> str:
    return f"{_num(p.get('temperature_c'))} °C"


def _drill(p: Params) -> str:
    holes = p.get("apertures") or []
    return (
        f"{_count(len(holes), 'aperture')}, {p.get('method', '?')}, Ø{_spread(h['diameter_um'] for h in holes)}, "
        f"taper {_num(p.get('taper_deg'))}°, wire clearance {_um(p.get('wire_clearance_um'))}"
    )


def _plate(p: Params) -> str:
    wall = f"conformal {_um(p['thickness_um'])}" if p.get("thickness_um") is not None else "full fill"
    return (
        f"{p.get('material', '?')}, {wall}; flanges {_um(p.get('flange_overhang_um'))} overhang, "
        f"{_um(p.get('flange_thickness_um'))} thick"
    )


def _fill(p: Params) -> str:
    return f"{p.get('material', '?')}, recess {_um(p.get('recess_um'))}"


def _remove(p: Params) -> str:
    layers = " and ".join(p.get("layers") or []) or "?"
    keep = {"under_flanges": "kept under the flanges", "nothing": "all removed"}.get(
        p.get("keep", ""), str(p.get("keep"))
    )
    text = f"{layers} {'layers' if len(p.get('layers') or []) > 1 else 'layer'}, {keep}"
    if p.get("region_um"):
        text += f", only inside {_size(p['region_um'])}"
    return text


def _generic(p: Params) -> str:
    """Any other step: scalars as ``name = value``, lists by their length."""
    parts = []
    for key, value in p.items():
        if isinstance(value, list):
            parts.append(f"{key}: {_count(len(value), 'item')}")
        elif isinstance(value, dict):
            parts.append(f"{key}: {len(value)} entries")
        elif value is not None:
            parts.append(f"{key} = {value}")
    return ", ".join(parts) or "—"


_SUMMARIES: dict[str, Callable[[Params], str]] = {
    "sacrificial_layer": _sacrificial,
    "dielectric_base": _base,
    "pad_array": _pads,
    "die_attach": _die,
    "wire_bond": _bonds,
    "encapsulate": _encapsulate,
    "cure": _cure,
    "drill": _drill,
    "plate": _plate,
    "fill_hollows": _fill,
    "remove_sacrificial": _remove,
}


def step_summary(record: StepRecord) -> str:
    """The step's key parameters in a line, in units; long lists summarised (``64 pads, Ø320 µm, …``)."""
    summarise = _SUMMARIES.get(record.kind, _generic)
    try:
        return summarise(record.params)
    except (KeyError, TypeError, IndexError, ValueError):
        return _generic(record.params)


def layer_text(entry: LayerEntry) -> str:
    """``first sacrificial layer (aluminium) −12…0 µm``; ``microelectronic element (first, silicon) 0…200 µm``."""
    words = role_words(entry.role)
    named = f"{words[:-1]}, {entry.material})" if words.endswith(")") else f"{words} ({entry.material})"
    spans = entry.intervals or ((entry.z0, entry.z1),)
    return f"{named} " + ", ".join(f"{_num(a)}…{_num(b)}" for a, b in spans) + f" {UM}"


def stack_changes(
    record: StepRecord, before: StepRecord | None
) -> tuple[list[tuple[LayerEntry, bool]], list[LayerEntry]]:
    """The stack after ``record``, each layer marked True where the step made or changed it (its z extent
    or volume), and the layers of ``before`` that are gone."""
    old = {(e.role, e.material): e for e in (before.stack if before else ())}
    new_keys = {(e.role, e.material) for e in record.stack}
    marked = []
    for e in record.stack:
        prev = old.get((e.role, e.material))
        changed = (
            prev is None or (prev.z0, prev.z1) != (e.z0, e.z1) or not _close(prev.volume_um3, e.volume_um3)
        )
        marked.append((e, changed))
    gone = [e for key, e in old.items() if key not in new_keys]
    return marked, gone


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def violation_text(v: Violation) -> str:
    """A violation without its step prefix (for the step's own row)."""
    text = str(v)
    prefix = f"step {v.step} ({v.kind}): "
    return text.removeprefix(prefix)


def step_violations(record: StepRecord, shown: int = ROW_VIOLATIONS) -> list[str]:
    """The step's violations for its row: the first ``shown`` in full, then how many more and of which rules."""
    texts = [violation_text(v) for v in record.violations]
    if len(texts) <= shown + 1:
        return texts
    rest = record.violations[shown:]
    rules = sorted({v.rule for v in rest})
    return [*texts[:shown], f"… and {len(rest)} more ({', '.join(rules)}): see Violations"]


def _header_facts(run: ProcessRun) -> list[tuple[str, str]]:
    grid = run.final.grid
    shape = " × ".join(str(n) for n in grid.shape)
    given = [r.duration_min for r in run.records if r.duration_min is not None]
    process_time = (
        f"{duration_text(sum(given))}; {len(given)} of {len(run.records)} steps give a time"
        if given
        else "— (no step gives a time)"
    )
    settings = run.flow.grid
    return [
        ("flow", run.flow.name),
        ("design", run.flow.design or "—"),
        ("assembly", run.flow.assembly or "—"),
        ("panel", _size(run.flow.panel_um)),
        (
            "grid",
            f"{grid.cells:,} cells ({shape}); cells {_um(settings.fine_um)} fine, {_um(settings.coarse_um)} "
            f"coarse, ≤ {_um(settings.z_cell_um)} in z",
        ),
        ("frame planes", ", ".join(str(p) for p in run.frames) or "—"),
        ("steps", str(len(run.records))),
        ("process time", process_time),
        ("simulated in", f"{run.seconds:.1f} s"),
        ("violations", str(len(run.violations)) if run.violations else "none"),
    ]


# --- Markdown --------------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text safe in a Markdown table cell (no pipes, no line breaks, no raw HTML)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _stack_md(record: StepRecord, before: StepRecord | None) -> str:
    """The layers, bottom to top, those the step made or changed in bold, those it removed struck out."""
    marked, gone = stack_changes(record, before)
    lines = [f"**{_md(layer_text(e))}**" if changed else _md(layer_text(e)) for e, changed in marked]
    lines += [f"~~{_md(layer_text(e))}~~ removed" for e in gone]
    return "<br>".join(lines) or "—"


def traveler_markdown(run: ProcessRun) -> str:
    """The traveler as GitHub-flavoured Markdown (see the module docstring)."""
    lines = [f"# Process traveler: {_md(run.flow.name)}", ""]
    lines += [f"- **{k}**: {_md(v)}" for k, v in _header_facts(run)]
    lines += [
        "",
        "## Steps",
        "",
        "| # | step | parameters | layer stack after the step (bottom → top, z in µm) | time | check |",
        "|---:|---|---|---|---|---|",
    ]
    before: StepRecord | None = None
    for r in run.records:
        stack = _stack_md(r, before)
        before = r
        check = "<br>".join(_md(t) for t in step_violations(r)) or "ok"
        step = f"**{_md(r.title)}**<br>`{r.kind}`"
        lines.append(
            f"| {r.index} | {step} | {_md(step_summary(r))} | {stack} | {_md(duration_text(r.duration_min))} "
            f"| {check} |"
        )
    lines += ["", "Bold: layers the step made or changed; struck out: layers it removed.", ""]
    lines += ["## Violations", ""]
    if run.violations:
        lines += [f"- {_md(str(v))}" for v in run.violations]
    else:
        lines.append("None: every step's preconditions and rules held.")
    return "\n".join(lines) + "\n"


# --- HTML ------------------------------------------------------------------------------------------------

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1a1a1a;
       margin: 2em auto; max-width: 1200px; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin-bottom: .3em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
h3 { font-size: 1.1em; margin: 0 0 .4em; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .15em 1.2em; margin: 1em 0; }
dl.facts dt { font-weight: 600; color: #555; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; }
th, td { border: 1px solid #d0d0d0; padding: .35em .55em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; white-space: nowrap; }
td.time { white-space: nowrap; }
ul.stack { margin: 0; padding-left: 1.1em; }
ul.stack li.changed { font-weight: 600; }
ul.stack li.gone { color: #888; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #555; }
.ok { color: #2e7d32; font-weight: 600; }
.bad { color: #b3261e; font-weight: 600; }
tr.broken td { background: #fdf0ef; }
section.step { border: 1px solid #ddd; border-radius: 6px; padding: 1em 1.2em; margin: 1.2em 0; }
section.step.broken { border-color: #e4a29c; }
figure { margin: .8em 0; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #666; font-size: .9em; }
p.note { color: #666; font-size: .9em; }
details pre { background: #f7f7f7; padding: .6em; font-size: 12px; white-space: pre-wrap;
              overflow-wrap: anywhere; }
div.what ul { margin: .3em 0; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _stack_html(record: StepRecord, before: StepRecord | None) -> str:
    marked, gone = stack_changes(record, before)
    if not marked and not gone:
        return "—"
    items = [
        f'<li class="changed">{_e(layer_text(e))}</li>' if changed else f"<li>{_e(layer_text(e))}</li>"
        for e, changed in marked
    ]
    items += [f'<li class="gone"><s>{_e(layer_text(e))}</s> removed</li>' for e in gone]
    return f'<ul class="stack">{"".join(items)}</ul>'


def _check_html(record: StepRecord) -> str:
    if not record.violations:
        return '<span class="ok">ok</span>'
    items = "".join(f"<li>{_e(t)}</li>" for t in step_violations(record))
    return f'<span class="bad">{_count(len(record.violations), "violation")}</span><ul>{items}</ul>'


def _frame_src(frame: FrameFile, relative_to: Path | None) -> str:
    path = frame.path
    if relative_to is not None:
        path = Path(os.path.relpath(path, relative_to))
    return quote(path.as_posix())


def _frames_by_step(frames: Sequence[FrameFile] | None) -> dict[int, list[FrameFile]]:
    """Each step's frames to show: the SVG of each plane, or the PNG where a plane has no SVG."""
    chosen: dict[tuple[int, str], FrameFile] = {}
    for f in frames or ():
        key = (f.step, str(f.plane))
        if key not in chosen or (f.format == "svg" and chosen[key].format != "svg"):
            chosen[key] = f
    out: dict[int, list[FrameFile]] = {}
    for (step, _), f in chosen.items():
        out.setdefault(step, []).append(f)
    return out


def _figure_html(run: ProcessRun, record: StepRecord, frame: FrameFile, relative_to: Path | None) -> str:
    alt = f"{run.flow.name}, step {record.index} ({record.title}): section {frame.plane}"
    return (
        f'<figure><img src="{_e(_frame_src(frame, relative_to))}" alt="{_e(alt)}" loading="lazy">'
        f"<figcaption>section {_e(frame.plane)} after step {record.index}</figcaption></figure>"
    )


def _json_lines(title: str, data: dict[str, Any]) -> str:
    lines = [f"{title}:"] + [f"  {k}: {json.dumps(v, default=str)}" for k, v in data.items()]
    return "\n".join(lines)


def _details_html(record: StepRecord) -> str:
    text = _json_lines("parameters", record.params) + "\n" + _json_lines("observations", record.observations)
    return f"<details><summary>all parameters and observations</summary><pre>{_e(text)}</pre></details>"


def _step_section(
    run: ProcessRun, record: StepRecord, frames: Sequence[FrameFile], relative_to: Path | None
) -> str:
    broken = " broken" if record.violations else ""
    parts = [
        f'<section class="step{broken}" id="step-{record.index}">',
        f"<h3>Step {record.index}: {_e(record.title)} <code>{_e(record.kind)}</code></h3>",
        f'<div class="what">{_e(step_summary(record))}. Time: {_e(duration_text(record.duration_min))}. '
        f"Check: {_check_html(record)}</div>",
    ]
    parts += [_figure_html(run, record, f, relative_to) for f in frames]
    parts += [_details_html(record), "</section>"]
    return "\n".join(parts)


def _row_html(record: StepRecord, before: StepRecord | None) -> str:
    broken = ' class="broken"' if record.violations else ""
    return (
        f"<tr{broken}>"
        f'<td class="num"><a href="#step-{record.index}">{record.index}</a></td>'
        f"<td>{_e(record.title)}<br><code>{_e(record.kind)}</code></td>"
        f"<td>{_e(step_summary(record))}</td>"
        f"<td>{_stack_html(record, before)}</td>"
        f'<td class="time">{_e(duration_text(record.duration_min))}</td>'
        f"<td>{_check_html(record)}</td>"
        "</tr>"
    )


def traveler_html(
    run: ProcessRun, frames: Sequence[FrameFile] | None = None, *, relative_to: str | Path | None = None
) -> str:
    """The traveler as one self-contained HTML page (inline CSS, no scripts, no network references).

    With ``frames``, each step's section (its SVG, else its PNG) is shown under the step's own heading;
    image paths are made relative to ``relative_to`` (the directory the page will be written to), or used
    as given when it is None.
    """
    base = Path(relative_to) if relative_to is not None else None
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in _header_facts(run))
    rows = "\n".join(_row_html(r, run.records[i - 1] if i else None) for i, r in enumerate(run.records))
    by_step = _frames_by_step(frames)
    steps = "\n".join(_step_section(run, r, by_step.get(r.index, []), base) for r in run.records)
    if run.violations:
        violations = "<ul>" + "".join(f"<li>{_e(v)}</li>" for v in run.violations) + "</ul>"
    else:
        violations = '<p class="ok">None: every step\'s preconditions and rules held.</p>'
    title = f"Process traveler: {run.flow.name}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{_e(title)}</h1>
<dl class="facts">{facts}</dl>
<h2>Steps</h2>
<table>
<thead><tr><th>#</th><th>step</th><th>parameters</th><th>layer stack after the step (bottom → top, z in µm)</th><th>time</th><th>check</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<p class="note">Bold: layers the step made or changed; struck out: layers it removed.</p>
<h2>Violations</h2>
{violations}
<h2>Step by step</h2>
{steps}
</body>
</html>
"""


def write_traveler(
    run: ProcessRun, directory: str | Path, frames: Sequence[FrameFile] | None = None
) -> list[Path]:
    """Write ``traveler.md`` and ``traveler.html`` into ``directory`` (created if missing), atomically.

    The HTML's frame images link to the frame files by paths relative to ``directory``.
    """
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_text(out_dir / "traveler.md", traveler_markdown(run)),
        write_text(out_dir / "traveler.html", traveler_html(run, frames, relative_to=out_dir)),
    ]


__all__ = [
    "duration_text",
    "layer_text",
    "role_words",
    "step_summary",
    "traveler_html",
    "traveler_markdown",
    "violation_text",
    "write_traveler",
]
