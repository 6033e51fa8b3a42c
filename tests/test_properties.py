"""Property tests: any spec that validates builds a model that is physically sound.

Specs are drawn from realistic ranges (domain.md). For every one that validates, the model's solids must stay
inside the body outline and between its faces, except for what the spec declares beyond them (protrusions,
flanges, an adhesive on an exposed back, top-surface traces), and no two solids may share volume except where
the structure intends it (a wire's stitch on its landing, a ball on its contact).

Overlap is checked independently of :mod:`moldstack.geometry.interference`: random points are drawn inside each
solid and tested against every other solid's signed distance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import yaml
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import moldstack
from moldstack.geometry.builder import build_model
from moldstack.geometry.model import Model
from moldstack.spec.io import design_from_data
from tests.conftest import example_data

INSIDE = -0.5  # um: a point this deep inside a solid counts as inside (touching faces do not)


@st.composite
def unit_specs(draw: st.DrawFn) -> tuple[dict[str, Any], float]:
    """A unit spec and its plan size."""
    shape = draw(st.sampled_from(["post", "pad_protrusion", "plated_via"]))
    if shape == "post":
        d = draw(st.integers(150, 350))
        unit: dict[str, Any] = {
            "shape": "post",
            "diameter_um": d,
            "protrude_top_um": draw(st.sampled_from([0, 20, 40])),
            "protrude_bottom_um": draw(st.sampled_from([0, 20])),
        }
        if draw(st.booleans()):
            through = draw(st.booleans())
            unit["hollow"] = {"diameter_um": round(d * draw(st.floats(0.25, 0.6)))}
            if not through:
                unit["hollow"].update(
                    through=False,
                    depth_um=draw(st.integers(50, 300)),
                    open_end=draw(st.sampled_from(["top", "bottom"])),
                )
            if draw(st.booleans()):
                unit["fill"] = {"material": "sac305", "recess_um": draw(st.sampled_from([0, 10]))}
        return unit, d
    if shape == "pad_protrusion":
        pad = draw(st.integers(200, 350))
        unit = {
            "shape": "pad_protrusion",
            "pad": {
                "shape": draw(st.sampled_from(["square", "round"])),
                "size_um": pad,
                "thickness_um": draw(st.integers(30, 80)),
            },
            "protrusion_diameter_um": round(pad * draw(st.floats(0.3, 0.6))),
            "protrusion_position": draw(st.sampled_from(["far", "center"])),
            "protrude_top_um": draw(st.sampled_from([0, 25])),
        }
        return unit, pad * 1.42
    d = draw(st.integers(100, 200))
    plating = draw(st.one_of(st.none(), st.integers(15, 30)))
    unit = {
        "shape": "plated_via",
        "diameter_um": d,
        "plating_thickness_um": plating,
        "pad": {"diameter_um": d + draw(st.integers(60, 150)), "thickness_um": 15},
        "flange_overhang_um": draw(st.sampled_from([0, 20, 40])),
        "flange_thickness_um": 10,
        "remnant_thickness_um": draw(st.sampled_from([0, 12])),
    }
    if plating is not None and draw(st.booleans()):
        unit["fill"] = {"material": "sac305"}
    return unit, d + 150


@st.composite
def designs(draw: st.DrawFn) -> dict[str, Any]:
    body = draw(st.integers(9000, 15000))
    die = draw(st.integers(3000, body - 4000))
    unit, size = draw(unit_specs())
    exposed = draw(st.booleans()) or (unit["shape"] == "plated_via" and draw(st.booleans()))
    die_spec: dict[str, Any] = {
        "name": "die1",
        "size_um": [die, die],
        "thickness_um": draw(st.integers(50, 300)),
        "back_exposed": exposed,
        "contacts": {"count_per_edge": draw(st.integers(1, 6)), "pitch_um": 200, "inset_um": 100},
    }
    if not exposed:
        die_spec["standoff_um"] = draw(st.integers(20, 150))
    if draw(st.booleans()):
        die_spec["attach"] = {
            "material": "thermal_adhesive" if exposed else "die_attach",
            "thickness_um": draw(st.integers(10, 50)),
        }
    pitch = round(size + draw(st.integers(60, 300)))
    offset = round(size / 2 + draw(st.integers(200, 800)))
    kind = "wire_bond" if unit["shape"] != "post" else draw(st.sampled_from(["via", "rdl"]))
    interconnect: dict[str, Any] = {"kind": kind}
    if kind == "wire_bond":
        interconnect["loop_height_um"] = draw(st.integers(100, 250))
    asm: dict[str, Any] = {
        "name": "pkg",
        "body": {"size_um": [body, body], "thickness_um": draw(st.integers(400, 1200))},
        "dies": [die_spec],
        "units": [
            {
                "layout": "rows",
                "pitch_um": pitch,
                "offset_um": offset,
                "rows": draw(st.integers(1, 2)),
                "count_per_edge": draw(st.one_of(st.none(), st.integers(4, 12))),
                "unit": unit,
            }
        ],
        "interconnects": [interconnect],
    }
    if unit["shape"] == "plated_via":
        asm["body"]["base"] = {"thickness_um": 25, "opening_margin_um": draw(st.integers(0, 150))}
    return {"moldstack": 1, "name": "generated", "assemblies": [asm]}


def allowed_z(model: Model, design: moldstack.Design) -> dict[str, tuple[float, float]]:
    """Per solid id, the z range the spec allows it (the body, widened by what the spec declares beyond it)."""
    asm = design.assemblies[0]
    t = asm.body.thickness_um
    out: dict[str, tuple[float, float]] = {}
    for s in model.solids:
        lo, hi = 0.0, t
        if s.role.startswith("conductive_unit"):
            u = asm.units[0].unit
            if u.shape == "plated_via":
                extra = u.remnant_thickness_um + (u.flange_thickness_um if u.flange_overhang_um > 0 else 0)
                lo, hi = -extra, t + extra
            else:
                lo, hi = -u.protrude_bottom_um, t + u.protrude_top_um
        elif s.role == "die.attach" and asm.dies[0].back_exposed:
            lo = -asm.dies[0].attach.thickness_um
        elif s.role == "conductive_element.trace":
            hi = t + asm.interconnects[0].trace_thickness_um
        out[s.id] = (lo, hi)
    return out


def intended(model: Model) -> set[frozenset[str]]:
    pairs = set()
    for a in model.assemblies:
        for c in a.connections:
            pairs.add(frozenset((c.part, f"{a.name}/{c.source}")))
            pairs.add(frozenset((c.part, f"{a.name}/{c.target}")))
    return pairs


def points_inside(shape: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    lo, hi = np.array(shape.bbox[:3]), np.array(shape.bbox[3:])
    pts = lo + rng.random((n * 8, 3)) * (hi - lo)
    return pts[shape.signed_distance(pts) < INSIDE][:n]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow]
)
@given(designs())
def test_valid_specs_build_sound_models(data: dict[str, Any]) -> None:
    try:
        design = moldstack.loads(yaml.safe_dump(data))
    except moldstack.SpecError as exc:
        note(str(exc))
        assume(False)
        return
    model = moldstack.build(design)
    body = design.assemblies[0].body
    hx, hy = body.size_um[0] / 2, body.size_um[1] / 2
    zr = allowed_z(model, design)
    for s in model.solids:
        x0, y0, z0, x1, y1, z1 = s.shape.bbox
        assert -hx - 1e-6 <= x0 and x1 <= hx + 1e-6 and -hy - 1e-6 <= y0 and y1 <= hy + 1e-6, s.id
        lo, hi = zr[s.id]
        assert lo - 1e-6 <= z0 and z1 <= hi + 1e-6, (s.id, (z0, z1), (lo, hi))

    assert shared_volume(model) == []


def shared_volume(model: Model, samples: int = 60) -> list[tuple[str, str]]:
    """Pairs of solids that share volume (other than intended pairs), found by random points inside each."""
    rng = np.random.default_rng(0)
    ok_pairs = intended(model)
    inclusions = [s for s in model.solids if not s.matrix]
    boxes = np.array([s.shape.bbox for s in inclusions])
    found = []
    for a in inclusions:
        pts = points_inside(a.shape, samples, rng)
        if len(pts) == 0:
            continue
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        near = np.flatnonzero(np.all(boxes[:, :3] <= hi, axis=1) & np.all(boxes[:, 3:] >= lo, axis=1))
        for k in near:
            b = inclusions[k]
            if b.part == a.part or frozenset((a.part, b.part)) in ok_pairs:
                continue
            if (b.shape.signed_distance(pts) < INSIDE).any():
                found.append((a.id, b.id))
    return found


def test_shared_volume_finds_wires_through_protrusions() -> None:
    """The checker above can fail: two unit rows put the outer row's wires through the inner protrusions."""
    data = example_data("claim3_pad_protrusion.yaml")
    data["assemblies"][0]["units"][0].update(rows=2, count_per_edge=None, row_pitch_um=450)
    model = build_model(design_from_data(yaml.safe_load(yaml.safe_dump(data))))
    pairs = shared_volume(model, samples=200)
    assert any("wire" in a + b and "protrusion" in a + b for a, b in pairs)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow]
)
@given(designs())
def test_generated_specs_round_trip(data: dict[str, Any]) -> None:
    try:
        design = moldstack.loads(yaml.safe_dump(data))
    except moldstack.SpecError:
        assume(False)
        return
    assert moldstack.loads(moldstack.dump(design)) == design
