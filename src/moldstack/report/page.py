"""The build's report page, ``OUT/report.html``: every output of a build gathered into one offline document.

Holds :func:`write_report` and :func:`report_html`. The page is read from the files the build wrote into ``OUT``
(``claims.json``, ``drc.json``, ``thermal.json`` ...), not from results in memory, so it can be made again from a
folder alone. It is one self-contained file that opens by double-click (``file://``) with no network: figures
inlined as data URIs (SVG and PNG), CSS and JavaScript inline, the 3D model (``model.glb``) embedded in base64
for the ``<model-viewer>`` script :mod:`moldstack.report.viewer` installs (inlined too; without it the page
shows the static picture ``model.png`` and says how to get the interactive view). Large files (``model.step``,
``thermal.vtr``) are linked by relative paths, not inlined.

Every value from the folder or the spec reaches the page through Jinja's autoescaping (attributes and text);
nothing from them is written into a script. A section whose stage did not complete says so, with the stage's
state and reason, instead of failing; missing keys in a JSON file show as a dash.

It knows the output files' names and JSON layouts and :class:`~moldstack.build_status.StageStatus`; it does not
run any analysis.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import yaml

from moldstack.build_status import StageStatus
from moldstack.output import write_text

REPORT_NAME = "report.html"
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("view3d", "3D view"),
    ("sections", "Cross sections"),
    ("process", "Process"),
    ("claims", "Claims"),
    ("checks", "Checks"),
    ("thermal", "Thermal"),
    ("electrical", "Electrical"),
    ("warpage", "Warpage"),
    ("footprints", "Footprints"),
    ("inputs", "Inputs"),
    ("versions", "Versions"),
    ("files", "Files"),
)
"""The page's sections in order: ``<section id=...>`` and the navigation label."""
SECTION_IDS: tuple[str, ...] = tuple(s for s, _ in SECTIONS)
STAGE_ORDER: tuple[str, ...] = (
    "claims",
    "model",
    "step",
    "glb",
    "gds",
    "sections",
    "render",
    "process",
    "checks",
    "warpage",
    "thermal",
    "electrical",
    "footprint",
    "results",
    "report",
)
MAX_EMBEDDED_GLB_BYTES = 48 * 1024 * 1024  # a larger model is linked, not embedded
MAX_PARTS_SHOWN = 8
VERSION_PACKAGES = ("moldstack", "numpy", "scipy", "build123d", "klayout", "trimesh", "matplotlib", "jinja2")
_MIME = {".svg": "image/svg+xml", ".png": "image/png"}
_STATE_WORDS = {
    "failed": "failed",
    "skipped": "was skipped",
    "not applicable": "is not applicable to this design",
    "ran": "ran",
    "cached": "was taken from the cache",
}


# --- reading the folder -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """Why a section (or part of one) has nothing to show: the stage's state and its reason, in words."""

    state: str
    message: str


@dataclass
class _Folder:
    """The output folder and the build's stages, with the JSON documents read once."""

    root: Path
    stages: dict[str, StageStatus]
    problems: list[str] = field(default_factory=list)
    _json: dict[str, Any] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.root / name

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def json(self, name: str) -> Any:
        """The JSON document ``name`` (relative), or None where it is missing or unreadable (noted)."""
        if name not in self._json:
            value = None
            if self.exists(name):
                try:
                    value = json.loads(self.path(name).read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    self.problems.append(f"{name} could not be read: {exc}")
            self._json[name] = value
        return self._json[name]

    def data_uri(self, name: str) -> str | None:
        """The file as a ``data:`` URI (SVG, PNG), or None where it is missing."""
        if not self.exists(name):
            return None
        mime = _MIME.get(self.path(name).suffix.lower(), "application/octet-stream")
        return f"data:{mime};base64,{base64.b64encode(self.path(name).read_bytes()).decode('ascii')}"

    def notice(self, stage: str, files: Sequence[str] = ()) -> Notice | None:
        """Why ``stage``'s outputs are not shown (it did not complete, or a file is missing), or None."""
        status = self.stages.get(stage)
        if status is not None and not status.done:
            reason = status.error or "no reason was given"
            return Notice(
                status.state, f"The {stage} stage {_STATE_WORDS.get(status.state, status.state)}: {reason}"
            )
        missing = [f for f in files if not self.exists(f)]
        if missing:
            if status is None:
                return Notice(
                    "missing", f"This build did not write {', '.join(missing)} (no {stage} stage ran)."
                )
            return Notice("missing", f"The {stage} stage {status.state} but {', '.join(missing)} is missing.")
        return None


def _get(data: Any, *keys: Any, default: Any = None) -> Any:
    """``data[k1][k2]...``, or ``default`` where any key or index is missing or the value is None."""
    for key in keys:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return default
    return default if data is None else data


def _finite(values: Any) -> list[float]:
    out = []
    for v in values if isinstance(values, list | tuple) else []:
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def _span(values: Any) -> tuple[float, float] | None:
    vals = _finite(values)
    return (min(vals), max(vals)) if vals else None


# --- formatting (Jinja filters) -----------------------------------------------------------------------------


def num(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, plainly written between 1e-3 and 1e6, with a true minus sign;
    ``—`` for a missing or non-numeric value."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if -3 <= magnitude < 6:
        text = f"{value:.{max(digits - 1 - magnitude, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")


def num_range(span: Any, digits: int = 3) -> str:
    """``lo … hi`` (one number where they agree), ``—`` where there is none."""
    if not span:
        return "—"
    lo, hi = span
    return num(lo, digits) if num(lo, digits) == num(hi, digits) else f"{num(lo, digits)} … {num(hi, digits)}"


def count(value: Any) -> str:
    """An integer with thousands separated (``10,852,812``); ``—`` where there is none."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    return f"{round(value):,}"


def unit_text(unit: Any) -> str:
    """A unit as the page writes it: ``um`` -> ``µm``, ``deg`` -> ``°``, ``ratio`` -> nothing."""
    return {"um": "µm", "deg": "°", "ratio": "", "C": "°C"}.get(str(unit or ""), str(unit or ""))


def _natural(name: str) -> list[Any]:
    """A sort key that orders ``C2`` before ``C10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def human_size(n_bytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{n_bytes} B"


def _href(relative: str) -> str:
    return quote(relative, safe="/")


# --- sections -----------------------------------------------------------------------------------------------


def _stage_rows(folder: _Folder) -> list[dict[str, Any]]:
    order = {name: i for i, name in enumerate(STAGE_ORDER)}
    stages = sorted(folder.stages.values(), key=lambda s: order.get(s.name, len(order)))
    return [
        {
            "name": s.name,
            "description": s.description,
            "state": s.state,
            "seconds": s.seconds,
            "files": [{"name": f, "href": _href(f), "exists": folder.exists(f)} for f in s.files],
            "error": s.error,
        }
        for s in stages
    ]


def _claims(folder: _Folder) -> dict[str, Any]:
    data = folder.json("claims.json")
    notice = folder.notice("claims", ["claims.json"])
    claims = []
    for number, claim in (_get(data, "claims", default={}) or {}).items():
        elements = []
        for element in _get(claim, "elements", default=[]) or []:
            parts = [str(p) for p in _get(element, "parts", default=[]) or []]
            elements.append(
                {
                    "element": _get(element, "element", default="—"),
                    "holds": bool(_get(element, "holds", default=False)),
                    "parts": parts[:MAX_PARTS_SHOWN],
                    "more_parts": parts[MAX_PARTS_SHOWN:],
                    "reason": _get(element, "reason"),
                }
            )
        claims.append(
            {
                "number": str(number),
                "title": _get(claim, "title", default=""),
                "holds": bool(_get(claim, "holds", default=False)),
                "depends_on": _get(claim, "depends_on"),
                "note": _get(claim, "note"),
                "elements": elements,
            }
        )
    held = [c["number"] for c in claims if c["holds"]]
    return {"notice": notice, "entries": claims, "held": held, "total": len(claims)}


def _method_note(claims: Mapping[str, Any]) -> str | None:
    for c in claims.get("entries", []):
        if c["number"] == "21" and c["note"]:
            return str(c["note"])
    return None


def _process(folder: _Folder, claims: Mapping[str, Any]) -> dict[str, Any]:
    notice = folder.notice("process", ["process/process.json"])
    if notice is not None:
        return {"notice": notice, "method_note": _method_note(claims), "frames": []}
    data = folder.json("process/process.json") or {}
    steps = {int(_get(s, "index", default=0)): s for s in _get(data, "run", "steps", default=[]) or []}
    frames_dir = folder.path("process/frames")
    files = sorted(frames_dir.glob("*.svg")) or sorted(frames_dir.glob("*.png"))
    frames = []
    for path in files:
        match = re.match(r"(\d+)_", path.name)
        index = int(match.group(1)) if match else 0
        step = steps.get(index, {})
        summary, changed = _step_words(step, steps.get(index - 1))
        violations = [
            str(_get(v, "text", default=_get(v, "message", default=""))) for v in step.get("violations", [])
        ]
        frames.append(
            {
                "src": folder.data_uri(f"process/frames/{path.name}"),
                "file": f"process/frames/{path.name}",
                "index": index,
                "kind": _get(step, "kind", default=path.stem.split("_", 1)[-1]),
                "title": _get(step, "title", default=path.stem),
                "summary": summary,
                "changed": changed,
                "duration_min": _get(step, "duration_min"),
                "violations": violations,
            }
        )
    method = {
        number: {
            "holds": bool(_get(claim, "holds", default=False)),
            "title": _get(claim, "title", default=""),
        }
        for number, claim in (_get(data, "claims", default={}) or {}).items()
    }
    return {
        "notice": None,
        "frames": frames,
        "flow": _get(data, "flow", default="—"),
        "agreement": _get(data, "agreement"),
        "comparison": _get(data, "comparison", default={}),
        "grid": _get(data, "run", "grid", default={}),
        "seconds": _get(data, "run", "seconds"),
        "method": method,
        "violations": [str(_get(v, "text", default=v)) for v in _get(data, "violations", default=[]) or []],
        "traveler": "process/traveler.html" if folder.exists("process/traveler.html") else None,
        "flow_file": "process/flow.yaml" if folder.exists("process/flow.yaml") else None,
    }


def _step_words(step: Mapping[str, Any], before: Mapping[str, Any] | None) -> tuple[str, list[str]]:
    """The step's parameters in a line and the layers it made or changed, as the traveler words them."""
    if not step:
        return "", []
    from moldstack.exporters.traveler import layer_text, stack_changes, step_summary  # noqa: PLC0415
    from moldstack.fab.record import LayerEntry, StepRecord  # noqa: PLC0415

    def record(s: Mapping[str, Any]) -> StepRecord:
        layers = tuple(
            LayerEntry(
                str(e.get("role", "?")),
                str(e.get("material", "?")),
                float(_get(e, "z_um", 0, default=0.0)),
                float(_get(e, "z_um", 1, default=0.0)),
                float(e.get("volume_mm3") or 0.0) * 1e9,
                tuple(tuple(i) for i in e.get("z_intervals_um") or ()),
            )
            for e in s.get("stack") or ()
        )
        return StepRecord(
            int(s.get("index") or 0),
            str(s.get("kind", "")),
            str(s.get("title", "")),
            dict(s.get("params") or {}),
            s.get("duration_min"),
            layers,
            {},
            (),
        )

    try:
        now = record(step)
        summary = step_summary(now)
        marked, gone = stack_changes(now, record(before) if before else None)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return "", []
    changed = [layer_text(e) for e, new in marked if new] + [f"removed: {layer_text(e)}" for e in gone]
    return summary, changed


def _drc(folder: _Folder) -> dict[str, Any]:
    data = folder.json("drc.json")
    rules = []
    for rule_id, rule in (_get(data, "rules", default={}) or {}).items():
        kind = _get(rule, "kind", default="")
        unit = _get(rule, "unit", default="")
        rules.append(
            {
                "id": rule_id,
                "description": _get(rule, "description", default=""),
                "source": _get(rule, "source", default=""),
                "engine": _get(rule, "engine", default=""),
                "enabled": bool(_get(rule, "enabled", default=True)),
                "limit": _get(rule, "limit"),
                "relation": {"min": "≥", "max": "≤"}.get(kind, kind),
                "unit": unit_text(unit),
                "worst": _get(rule, "worst"),
                "checked": _get(rule, "checked"),
                "violations": _get(rule, "violations", default=0),
            }
        )
    return {
        "notice": folder.notice("checks", ["drc.json"]),
        "passed": _get(data, "passed"),
        "count": _get(data, "violation_count", default=0),
        "deck": _get(data, "deck", default="—"),
        "rules": rules,
        "violations": _get(data, "violations", default=[]) or [],
        "figure": folder.data_uri("drc.svg"),
    }


def _lvs(folder: _Folder) -> dict[str, Any]:
    data = folder.json("lvs.json")
    lists = {}
    for key in ("opens", "shorts", "unconnected", "floating", "aliases"):
        lists[key] = [_lvs_line(key, item) for item in _get(data, key, default=[]) or []]
    return {
        "notice": folder.notice("checks", ["lvs.json"]),
        "status": _get(data, "status", default="—"),
        "passed": _get(data, "passed"),
        "counts": _get(data, "counts", default={}),
        "lists": lists,
        "warnings": [str(w) for w in _get(data, "warnings", default=[]) or []],
        "text": "lvs.txt" if folder.exists("lvs.txt") else None,
    }


def _lvs_line(kind: str, item: Any) -> str:
    """One LVS finding in a line (the JSON entries of :mod:`moldstack.checks.lvs`)."""
    if not isinstance(item, Mapping):
        return str(item)
    if kind == "opens":
        pieces = ", ".join(str(_get(p, "piece", default="?")) for p in item.get("pieces") or [])
        return (
            f"net {' = '.join(item.get('names') or [str(item.get('net'))])} in {pieces or '—'}: {item.get('reason', '')}"
            + ("" if item.get("fails", True) else " (joined outside: warning)")
        )
    if kind == "shorts":
        return f"{item.get('piece', '?')} joins nets {', '.join(item.get('nets') or [])}"
    if kind == "unconnected":
        return f"contact {item.get('contact', '?')} (net {item.get('net') or 'no-connect'})" + (
            f" touches {', '.join(item.get('touching') or [])}"
            if item.get("touching")
            else " touches no conductor"
        )
    if kind == "floating":
        return f"{item.get('piece', '?')}: {', '.join(item.get('parts') or [])} (solids {', '.join(item.get('solids') or [])})"
    if kind == "aliases":
        return f"{' = '.join(item.get('names') or [])} (through {', '.join(item.get('through') or [])})"
    return json.dumps(item)[:300]


def _stack(folder: _Folder) -> dict[str, Any]:
    data = folder.json("stack.json")
    interfaces = []
    for i in _get(data, "interfaces", default=[]) or []:
        interfaces.append(
            {
                "name": f"{_get(i, 'upper', default='?')} on {_get(i, 'lower', default='?')}",
                "units": _get(i, "units", default={}),
                "pitch_um": _get(i, "pitch_um"),
                "joint_height_um": _get(i, "joint", "height_um"),
                "equilibrium_height_um": _get(i, "joint", "equilibrium_height_um"),
                "open_margin_um": _get(i, "joint", "open_margin_um"),
                "gap_range_um": _get(i, "gap_range_um"),
                "body_clearance_um": _get(i, "body_clearance_after_reflow_um"),
                "max_mismatch_um": max(_finite(_get(i, "profile", "mismatch_um", default=[])), default=None),
                "jeita_limit_um": _get(i, "jeita_limit_um"),
                "net_mismatches": len(_get(i, "net_mismatches", default=[]) or []),
            }
        )
    return {
        "notice": folder.notice("checks", ["stack.json"]),
        "verdict": _get(data, "verdict", default="—"),
        "passed": _get(data, "passed"),
        "reasons": [str(r) for r in _get(data, "reasons", default=[]) or []],
        "height_um": _get(data, "height_um"),
        "height_after_reflow_um": _get(data, "height_after_reflow_um"),
        "findings": _get(data, "findings", default=[]) or [],
        "interfaces": interfaces,
    }


def _thermal(folder: _Folder) -> dict[str, Any]:
    notice = folder.notice("thermal", ["thermal.json"])
    data = folder.json("thermal.json") or {}
    resistances = _get(data, "resistances_k_per_w", default={}) or {}
    environments = []
    for kind, env in (_get(data, "environments", default={}) or {}).items():
        name = next((k for k in env if k.startswith("theta_") and k.endswith("_k_per_w")), None)
        environments.append(
            {
                "kind": kind,
                "resistance": _theta_label(name),
                "value": env.get(name) if name else None,
                "tj_max_c": _get(env, "tj_max_c"),
                "reference_c": _get(env, "reference_c"),
                "top_centre_c": _get(env, "top_centre_c"),
                "psi_jt": _get(env, "psi_jt_k_per_w"),
                "cells": _get(env, "grid", "cells"),
                "iterations": _get(env, "solver", "iterations"),
                "method": _get(env, "solver", "method", default="—"),
            }
        )
    return {
        "notice": notice,
        "power_w": _get(data, "power_w"),
        "tj_max_c": _get(data, "tj_max_c"),
        "environment": _get(data, "environment", default={}),
        "theta": {
            "ja": resistances.get("theta_ja_k_per_w", _get(data, "theta_ja_k_per_w")),
            "jc": resistances.get("theta_jc_k_per_w"),
            "jb": resistances.get("theta_jb_k_per_w"),
        },
        "psi_jt": _get(data, "psi_jt_k_per_w"),
        "dies": _get(data, "dies", default=[]) or [],
        "heat_split": _get(data, "heat_split_w", default={}) or {},
        "environments": environments,
        "die_map": folder.data_uri("thermal_die_plane.png"),
        "section_map": folder.data_uri("thermal_section.png"),
        "vtr": "thermal.vtr" if folder.exists("thermal.vtr") else None,
    }


def _theta_label(key: str | None) -> str:
    """``theta_ja_k_per_w`` -> ``θJA``."""
    if not key:
        return "—"
    return "θ" + key.removeprefix("theta_").removesuffix("_k_per_w").upper()


def _declared_names(spec_text: str) -> set[str]:
    """Net names the spec declares (``assemblies[].nets`` values); empty where the spec does not parse."""
    try:
        spec = yaml.safe_load(spec_text)
    except yaml.YAMLError:
        return set()
    names: set[str] = set()
    for assembly in _get(spec, "assemblies", default=[]) if isinstance(spec, Mapping) else []:
        nets = _get(assembly, "nets", default={})
        if isinstance(nets, Mapping):
            names.update(str(v) for v in nets.values())
    return names


def _electrical(folder: _Folder, spec_text: str) -> dict[str, Any]:
    notice = folder.notice("electrical", ["electrical.json"])
    data = folder.json("electrical.json") or {}
    cap = _get(data, "capacitance", default={}) or {}
    conductors = [str(c) for c in _get(cap, "conductors", default=[]) or []]
    maxwell = _get(cap, "maxwell_pf", default=[]) or []
    mutual = _get(cap, "mutual_pf", default=[]) or []
    index = {c: i for i, c in enumerate(conductors)}
    members = _get(cap, "members", default={}) or {}
    for conductor, names in members.items():
        for n in names or []:
            index.setdefault(str(n), index.get(str(conductor), -1))
    declared_spec = _declared_names(spec_text)
    nets = []
    for n in _get(data, "nets", default=[]) or []:
        name = str(_get(n, "name", default="?"))
        k = index.get(name, -1)
        c_self = _get(maxwell, k, k) if k >= 0 else None
        coupling, coupled_to = None, None
        if k >= 0 and isinstance(_get(mutual, k), list):
            row = [(float(v), j) for j, v in enumerate(mutual[k]) if j != k and isinstance(v, int | float)]
            if row:
                coupling, j = max(row)
                coupled_to = conductors[j] if j < len(conductors) else None
        nets.append(
            {
                "name": name,
                "declared": name in declared_spec
                or name.rsplit("/", maxsplit=1)[-1] in declared_spec
                or ("." not in name and "/" not in name),
                "from": ", ".join(str(x) for x in _get(n, "from", default=[]) or []),
                "to": ", ".join(str(x) for x in _get(n, "to", default=[]) or []),
                "r_dc_mohm": _get(n, "r_dc_mohm"),
                "r_formula_mohm": _get(n, "r_formula_mohm"),
                "r_ac_mohm": _get(n, "r_ac_mohm"),
                "l_partial_nh": _get(n, "l_partial_nh"),
                "c_self_pf": c_self,
                "coupling_pf": coupling,
                "coupled_to": coupled_to,
            }
        )
    nets.sort(key=lambda n: (not n["declared"], _natural(n["name"])))
    couplings = []
    for i, row in enumerate(mutual if isinstance(mutual, list) else []):
        for j, v in enumerate(row if isinstance(row, list) else []):
            if j > i and isinstance(v, int | float) and j < len(conductors) and i < len(conductors):
                couplings.append((float(v), conductors[i], conductors[j]))
    couplings.sort(reverse=True)
    loops = [
        {
            "signal": _get(lp, "signal", default="?"),
            "returns": ", ".join(str(r) for r in _get(lp, "returns", default=[]) or []),
            "l_loop_nh": _get(lp, "l_loop_nh"),
            "split": _get(lp, "return_split", default={}) or {},
        }
        for lp in _get(data, "loops", default=[]) or []
    ]
    return {
        "notice": notice,
        "nets": nets,
        "declared": [n for n in nets if n["declared"]],
        "ranges": {
            "r_dc_mohm": _span([n["r_dc_mohm"] for n in nets]),
            "l_partial_nh": _span([n["l_partial_nh"] for n in nets]),
            "c_self_pf": _span([n["c_self_pf"] for n in nets]),
        },
        "has_capacitance": bool(conductors),
        "couplings": couplings[:8],
        "loops": loops,
        "frequency_hz": _get(data, "frequency_hz"),
        "skin_depth_um": _get(data, "skin_depth_um", default={}) or {},
        "quasi_static": str(_get(data, "quasi_static", default=""))
        .replace("r_ac_mohm", "R AC")
        .replace("at frequency_hz", "at the frequency below"),
        "spice": _get(data, "spice", default={}) or {},
        "spice_file": _get(data, "spice_file", default="interconnect.sp")
        if folder.exists(str(_get(data, "spice_file", default="interconnect.sp")))
        else None,
    }


def _warpage(folder: _Folder) -> dict[str, Any]:
    notice = folder.notice("warpage", ["warpage.json"])
    data = folder.json("warpage.json") or {}
    rows = []
    all_values: list[float] = []
    all_diagonal: list[float] = []
    for a in _get(data, "assemblies", default=[]) or []:
        temps = _finite(_get(a, "temperature_c", default=[]))
        warp = _get(a, "warpage_um", default=[]) or []
        diag = _get(a, "warpage_diagonal_um", default=[]) or []
        peak = temps.index(max(temps)) if temps else None

        def at(values: list[Any], i: int | None) -> Any:
            return values[i] if i is not None and i < len(values) else None

        all_values += _finite(warp)
        all_diagonal += _finite(diag)
        rows.append(
            {
                "name": _get(a, "name", default="?"),
                "kind": _get(a, "kind", default=""),
                "size_um": _get(a, "size_um", default=[]),
                "start_c": at(temps, 0),
                "peak_c": at(temps, peak),
                "end_c": temps[-1] if temps else None,
                "w_start": at(warp, 0),
                "w_peak": at(warp, peak),
                "w_end": at(warp, len(warp) - 1) if warp else None,
                "d_start": at(diag, 0),
                "d_peak": at(diag, peak),
                "range": _span(warp),
                "d_range": _span(diag),
            }
        )
    interfaces = [
        {
            "name": f"{_get(i, 'upper', default='?')} on {_get(i, 'lower', default='?')}",
            "max_mismatch_um": max(_finite(_get(i, "mismatch_um", default=[])), default=None),
            "max_open_um": max(_finite(_get(i, "max_open_um", default=[])), default=None),
            "max_close_um": max(_finite(_get(i, "max_close_um", default=[])), default=None),
            "jeita_limit_um": _get(i, "jeita_limit_um"),
        }
        for i in _get(data, "stack_interfaces", default=[]) or []
    ]
    return {
        "notice": notice,
        "rows": rows,
        "interfaces": interfaces,
        "range": _span(all_values),
        "d_range": _span(all_diagonal),
        "sign": _get(data, "sign", default=""),
        "method": _get(data, "method", default=""),
        "profile": _get(data, "profile", default={}) or {},
        "tg_c": _get(data, "tg_c", default={}) or {},
        "plot": folder.data_uri("warpage.png"),
    }


def _footprints(folder: _Folder) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    notice = folder.notice("footprint")  # a stage that did not complete: its old files are not shown
    if notice is not None:
        return {"notice": notice, "entries": items}
    for name, side in (
        ("footprint.kicad_mod", "bottom (land pattern on the board)"),
        ("footprint_top.kicad_mod", "top (for a package stacked on this one)"),
    ):
        if not folder.exists(name):
            continue
        text = folder.path(name).read_text(encoding="utf-8", errors="replace")
        match = re.search(r'\((?:footprint|module)\s+("(?:[^"\\]|\\.)*"|\S+)', text)
        items.append(
            {
                "file": name,
                "side": side,
                "name": match.group(1).strip('"') if match else "—",
                "pads": len(re.findall(r"\(pad\s", text)),
                "size": human_size(folder.path(name).stat().st_size),
            }
        )
    notice = folder.notice("footprint", [] if items else ["footprint.kicad_mod"])
    return {"notice": notice, "entries": items}


def _sections(folder: _Folder) -> dict[str, Any]:
    directory = folder.path("sections")
    files = (sorted(directory.glob("*.svg")) or sorted(directory.glob("*.png"))) if directory.is_dir() else []
    figures = [
        {
            "name": p.stem.replace("_", " "),
            "file": f"sections/{p.name}",
            "src": folder.data_uri(f"sections/{p.name}"),
        }
        for p in files
    ]
    notice = folder.notice("sections", [] if figures else ["sections/"])
    if notice is None and not figures:
        notice = Notice("missing", "No cross sections were written.")
    return {"notice": notice, "figures": figures}


def _viewer_script(path: Path | None) -> str | None:
    """The viewer script made safe to inline in a classic ``<script>``: no ``</script`` or ``<!--`` left."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
    return text.replace("<!--", "<\\!--")


def _view3d(folder: _Folder, viewer: Path | None) -> dict[str, Any]:
    from moldstack.report.viewer import VERSION as PINNED  # noqa: PLC0415
    from moldstack.report.viewer import installed_version  # noqa: PLC0415

    glb_notice = folder.notice("glb", ["model.glb"])
    render_notice = folder.notice("render", ["model.png"])
    glb = None
    glb_too_large = False
    if glb_notice is None:
        size = folder.path("model.glb").stat().st_size
        if size <= MAX_EMBEDDED_GLB_BYTES:
            glb = base64.b64encode(folder.path("model.glb").read_bytes()).decode("ascii")
        else:
            glb_too_large = True
    script = _viewer_script(viewer) if glb is not None else None
    solids = _get(folder.json("model.json"), "solids", default=[]) or []
    mold = sorted(
        {str(_get(s, "material")) for s in solids if str(_get(s, "role", default="")).split(".")[0] == "body"}
    )
    return {
        "mold_materials": " ".join(mold),
        "script": script,
        "glb": glb,
        "glb_notice": glb_notice,
        "glb_too_large": glb_too_large,
        "viewer_missing": viewer is None,
        "viewer_version": installed_version() if viewer is not None else None,
        "pinned": PINNED,
        "render": folder.data_uri("model.png"),
        "render_notice": render_notice,
    }


def _versions(viewer: Path | None) -> list[tuple[str, str]]:
    from moldstack.report.viewer import PACKAGE, installed_version  # noqa: PLC0415

    rows = [
        ("python", f"{platform.python_version()} ({platform.python_implementation()}, {platform.system()})")
    ]
    for name in VERSION_PACKAGES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    version = (installed_version() or "not installed") if viewer is not None else "not installed"
    rows.append((f"{PACKAGE} (3D viewer)", version))
    return rows


def _files(folder: _Folder) -> list[dict[str, Any]]:
    owner = {f: s.name for s in folder.stages.values() for f in s.files}
    rows = []
    for path in sorted(p for p in folder.root.rglob("*") if p.is_file()):
        relative = path.relative_to(folder.root).as_posix()
        if any(part.startswith(".") for part in Path(relative).parts) or relative == REPORT_NAME:
            continue
        rows.append(
            {
                "name": relative,
                "href": _href(relative),
                "size": human_size(path.stat().st_size),
                "stage": owner.get(relative, ""),
            }
        )
    return rows


def _summary(context: Mapping[str, Any], folder: _Folder) -> dict[str, Any]:
    model = folder.json("model.json") or {}
    return {
        "solids": _get(model, "solid_count"),
        "parts": _get(model, "part_count"),
        "assemblies": [
            str(_get(a, "name", default="?")) for a in _get(model, "assemblies", default=[]) or []
        ],
        "bbox_um": _get(model, "bbox_um", default=[]),
        "failures": [s for s in context["stages"] if s["state"] == "failed"],
    }


# --- the page -----------------------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("moldstack.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2", "html.j2"], default=True),
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = num
    env.filters["num_range"] = num_range
    env.filters["count"] = count
    env.filters["unit"] = unit_text
    env.filters["href"] = _href
    return env


def report_html(
    out_dir: str | Path,
    stages: Sequence[StageStatus],
    *,
    spec_text: str,
    spec_name: str,
    viewer: Path | None = None,
    use_installed_viewer: bool = True,
) -> str:
    """The report page for the build in ``out_dir`` as HTML text (see the module docstring).

    ``viewer``: the ``<model-viewer>`` script to inline; by default the installed one
    (:func:`moldstack.report.viewer.asset_path`), none with ``use_installed_viewer=False``."""
    from moldstack.report.viewer import asset_path  # noqa: PLC0415

    if viewer is None and use_installed_viewer:
        viewer = asset_path()
    folder = _Folder(Path(out_dir), {s.name: s for s in stages})
    claims = _claims(folder)
    context: dict[str, Any] = {
        "sections": SECTIONS,
        "spec_name": spec_name,
        "spec_text": spec_text,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "stages": _stage_rows(folder),
        "claims": claims,
        "process": _process(folder, claims),
        "drc": _drc(folder),
        "lvs": _lvs(folder),
        "stack": _stack(folder),
        "thermal": _thermal(folder),
        "electrical": _electrical(folder, spec_text),
        "warpage": _warpage(folder),
        "footprints": _footprints(folder),
        "cross_sections": _sections(folder),
        "view3d": _view3d(folder, viewer),
        "versions": _versions(viewer),
        "files": _files(folder),
        "max_parts": MAX_PARTS_SHOWN,
    }
    claims_data = folder.json("claims.json") or {}
    model_data = folder.json("model.json") or {}
    context["design"] = _get(claims_data, "design") or _get(model_data, "name") or Path(spec_name).stem
    context["summary"] = _summary(context, folder)
    context["problems"] = folder.problems
    return _environment().get_template("report.html.j2").render(context)


def write_report(
    out_dir: str | Path, stages: Sequence[StageStatus], *, spec_text: str, spec_name: str
) -> Path:
    """Write ``OUT/report.html`` for the build in ``out_dir`` atomically and return its path.

    ``stages``: what became of each stage of the build (the page's stage table and the reason a section is
    empty); ``spec_text`` and ``spec_name``: the spec as given, shown under Inputs. The page reads every figure
    from the folder's files; it never fails for a missing or partial output (the section says what is missing).
    """
    folder = Path(out_dir)
    html = report_html(folder, stages, spec_text=spec_text, spec_name=spec_name)
    return write_text(folder / REPORT_NAME, html)


__all__ = ["REPORT_NAME", "SECTIONS", "SECTION_IDS", "Notice", "num", "report_html", "write_report"]
