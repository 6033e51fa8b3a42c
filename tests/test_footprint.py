"""KiCad footprints (claim 6): the board land pattern under the bottom package and the one on its top.

Every written file is read back twice, with ``sexpdata`` (a plain s-expression reader) and with ``kiutils`` (an
independent reader of KiCad's footprint model), and compared with what the model and the spec say: one pad per
exposed unit at the unit's (x, -y), sized as the unit's exposed end, the NSMD mask margin, a courtyard around body
and pads with the IPC-7351B excess, and the IPC-7351B name. Expected pad names are worked out here from the unit
positions (rows lettered from the top, JEDEC letters), not taken from the exporter.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from functools import cache
from pathlib import Path

import pytest
import sexpdata
import yaml
from kiutils.footprint import Footprint as KiFootprint

import moldstack
from moldstack.exporters.kicad import (
    COURTYARD_EXCESS_MM,
    MASK_MARGIN_MM,
    FootprintError,
    footprint,
    footprint_text,
    write_footprint,
    write_footprints,
)
from moldstack.geometry.model import Model, PlacedAssembly
from tests.test_cli import REPO, run_cli

EXAMPLES = REPO / "examples"
POSTS = EXAMPLES / "claim1_posts.yaml"
PAD_PROTRUSION = EXAMPLES / "claim3_pad_protrusion.yaml"
POP = EXAMPLES / "pop_on_substrate.yaml"
PLATED_VIA = EXAMPLES / "claim21_plated_via.yaml"
JEDEC_ROWS = [*"ABCDEFGHJKLMNPRTUVWY", "AA", "AB", "AC"]

SCATTERED = """
moldstack: 1
name: scattered-units
assemblies:
  - name: pkg
    body: {size_um: [8000, 6000], thickness_um: 400}
    dies:
      - name: die1
        size_um: [3000, 3000]
        thickness_um: 150
        standoff_um: 50
        attach: {material: die_attach, thickness_um: 20}
        contacts: {count_per_edge: 1, pitch_um: 200, inset_um: 100}
    units:
      - layout: list
        at_um: [[-3000, 2000], [2500, 2300], [2900, -1700], [-2600, -2200], [300, 2500]]
        unit: {shape: post, diameter_um: 300}
    interconnects:
      - kind: via
        diameter_um: 60
        trace_width_um: 50
        trace_thickness_um: 15
"""


@cache
def built(path: Path) -> Model:
    return moldstack.build(moldstack.load(path))


@cache
def pop_with_centred_protrusions() -> Model:
    """The PoP example with the logic package's protrusions on its pads' centres (claim 3 without claim 4)."""
    data = yaml.safe_load(POP.read_text())
    data["assemblies"][0]["units"][0]["unit"]["protrusion_position"] = "center"
    return moldstack.build(moldstack.loads(yaml.safe_dump(data)))


def lowest(model: Model) -> PlacedAssembly:
    return min(model.assemblies, key=lambda a: a.z_bottom)


def grid_names(points: list[tuple[float, float]], pitch_um: float) -> list[str]:
    """JEDEC ball names of points (um, y up) on a grid of ``pitch_um``: row A at the top, column 1 at the left."""
    x_min = min(p[0] for p in points)
    y_max = max(p[1] for p in points)
    return [
        f"{JEDEC_ROWS[round((y_max - y) / pitch_um)]}{round((x - x_min) / pitch_um) + 1}" for x, y in points
    ]


def write(model: Model, side: str, tmp_path: Path) -> Path:
    return write_footprint(model, tmp_path / f"{model.name}_{side}.kicad_mod", side)  # type: ignore[arg-type]


def heads(tree: list, name: str) -> list[list]:
    return [item for item in tree if isinstance(item, list) and item and item[0] == sexpdata.Symbol(name)]


def child(item: list, name: str) -> list:
    found = heads(item, name)
    assert len(found) == 1, (name, item)
    return found[0]


def read_pads(path: Path) -> dict[str, dict]:
    """Pads as kiutils reads them: number -> position (mm, KiCad frame), size, shape, layers, mask margin."""
    fp = KiFootprint.from_file(str(path))
    pads = {
        p.number: {
            "at": (p.position.X, p.position.Y),
            "size": (p.size.X, p.size.Y),
            "shape": p.shape,
            "type": p.type,
            "layers": list(p.layers),
            "mask": p.solderMaskMargin,
        }
        for p in fp.pads
    }
    assert len(pads) == len(fp.pads), "pad numbers must be unique"
    return pads


def unit_end_centre(model: Model, unit_part: str, top: bool) -> tuple[float, float]:
    """Where the unit's end is, from its solids (um): the centre of the conductor solids reaching that face."""
    unit = next(u for a in model.assemblies for u in a.units if u.part == unit_part)
    boxes = [
        model.solid(s).shape.bbox for s in unit.solids if model.materials[model.solid(s).material].conductor
    ]
    z = max(b[5] for b in boxes) if top else min(b[2] for b in boxes)
    at = [b for b in boxes if abs((b[5] if top else b[2]) - z) < 1e-6]
    return (
        (min(b[0] for b in at) + max(b[3] for b in at)) / 2,
        (min(b[1] for b in at) + max(b[4] for b in at)) / 2,
    )


# --- the board side: one pad per unit at (x, -y), named on the ball grid ----------------------------------


CASES = [
    # (spec, IPC name, pad shape, pad size mm): 80 units, 0.40 mm pitch, a 22 x 22 perimeter matrix, 12 x 12 mm
    # body; height = body (+ the 0.15 mm substrate joint under the PoP's logic package, a collapsing SAC305 joint)
    (POSTS, "BGA80N40P22X22_1200X1200X50", "circle", 0.25),
    (PAD_PROTRUSION, "BGA80N40P22X22_1200X1200X60", "rect", 0.3),
    (POP, "BGA80C40P22X22_1200X1200X75", "rect", 0.3),
]


@pytest.mark.parametrize(("spec", "name", "shape", "size"), CASES, ids=lambda v: getattr(v, "stem", None))
def test_board_side_pads_are_the_units_bottom_ends(
    tmp_path: Path, spec: Path, name: str, shape: str, size: float
) -> None:
    model = built(spec)
    asm = lowest(model)
    path = write(model, "bottom", tmp_path)
    pads = read_pads(path)
    assert len(pads) == len(asm.units) == 80
    cx, cy = (asm.x0 + asm.x1) / 2, (asm.y0 + asm.y1) / 2
    centres = [(u.x - cx, u.y - cy) for u in asm.units]
    expected = dict(zip(grid_names(centres, 400.0), centres, strict=True))
    assert set(pads) == set(expected)
    for number, (x_um, y_um) in expected.items():
        pad = pads[number]
        assert pad["at"][0] == pytest.approx(x_um / 1000, abs=1e-6)
        assert pad["at"][1] == pytest.approx(-y_um / 1000, abs=1e-6)
        assert pad["type"] == "smd" and pad["shape"] == shape
        assert pad["size"] == pytest.approx((size, size), abs=1e-9)
        assert pad["mask"] == pytest.approx(MASK_MARGIN_MM)
        assert pad["layers"] == ["F.Cu", "F.Paste", "F.Mask"]
    fp = KiFootprint.from_file(str(path))
    assert fp.libId == name
    assert fp.properties["Value"] == name and fp.properties["Reference"] == "REF**"


def test_pad_sizes_come_from_the_spec(tmp_path: Path) -> None:
    """Post diameter, the pad portion's square, and a plated via's flange (aperture + 2 x overhang)."""
    posts = moldstack.load(POSTS).assemblies[0].units[0].unit
    pp = moldstack.load(PAD_PROTRUSION).assemblies[0].units[0].unit
    via = moldstack.load(PLATED_VIA).assemblies[0].units[0].unit
    sizes = {
        POSTS: ("circle", posts.diameter_um / 1000),  # type: ignore[union-attr]
        PAD_PROTRUSION: ("rect", pp.pad.size_um / 1000),  # type: ignore[union-attr]
        PLATED_VIA: ("circle", (via.diameter_um + 2 * via.flange_overhang_um) / 1000),  # type: ignore[union-attr]
    }
    for spec, (shape, size) in sizes.items():
        pads = read_pads(write(built(spec), "bottom", tmp_path))
        assert {p["shape"] for p in pads.values()} == {shape}, spec.stem
        assert all(p["size"] == pytest.approx((size, size), abs=1e-9) for p in pads.values()), spec.stem


def test_the_file_is_kicad_8_with_every_layer(tmp_path: Path) -> None:
    path = write(built(POP), "bottom", tmp_path)
    tree = sexpdata.loads(path.read_text(encoding="utf-8"))
    assert tree[0] == sexpdata.Symbol("footprint") and tree[1] == "BGA80C40P22X22_1200X1200X75"
    assert child(tree, "version")[1] == 20240108
    assert child(tree, "generator")[1] == "moldstack"
    assert child(tree, "generator_version")[1] == moldstack.__version__
    assert child(tree, "layer")[1] == "F.Cu"
    assert child(tree, "attr")[1] == sexpdata.Symbol("smd")
    descr = child(tree, "descr")[1]
    assert "moldstack" in descr and "pop-on-substrate" in descr and "0.4 mm grid" in descr
    assert "0.3 x 0.3 mm square" in descr and "IPC-7351B" in descr
    assert "BGA" in child(tree, "tags")[1]
    properties = {p[1]: p for p in heads(tree, "property")}
    assert properties["Reference"][2] == "REF**" and child(properties["Reference"], "layer")[1] == "F.SilkS"
    assert child(properties["Value"], "layer")[1] == "F.Fab"
    user_texts = [t for t in heads(tree, "fp_text") if t[1] == sexpdata.Symbol("user")]
    assert [(t[2], child(t, "layer")[1]) for t in user_texts] == [("${REFERENCE}", "F.Fab")]
    drawn = {
        child(item, "layer")[1] for kind in ("fp_line", "fp_rect", "fp_circle") for item in heads(tree, kind)
    }
    assert drawn == {"F.Fab", "F.SilkS", "F.CrtYd"}
    for line in heads(tree, "fp_line"):
        stroke = child(line, "stroke")
        assert child(stroke, "type")[1] == sexpdata.Symbol("solid") and child(stroke, "width")[1] > 0
    fp = KiFootprint.from_file(str(path))
    assert fp.generator == "moldstack" and fp.version == 20240108 and fp.attributes.type == "smd"


def test_fab_outline_is_the_body_with_a_pin1_chamfer(tmp_path: Path) -> None:
    model = built(PAD_PROTRUSION)
    path = write(model, "bottom", tmp_path)
    fab = [
        item
        for item in KiFootprint.from_file(str(path)).graphicItems
        if type(item).__name__ == "FpLine" and item.layer == "F.Fab"
    ]
    points = {(round(p.X, 6), round(p.Y, 6)) for line in fab for p in (line.start, line.end)}
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert (min(xs), max(xs), min(ys), max(ys)) == (-6, 6, -6, 6)  # the 12 mm body
    assert (-6, -6) not in points and {(-5, -6), (-6, -5)} <= points  # top-left (pin 1) corner cut by 1 mm
    assert (6, -6) in points and (6, 6) in points and (-6, 6) in points


def shrunk_body(model: Model) -> Model:
    """The claim-1 model with its body outline cut to 8 mm, inside the 8.4 mm ring of posts: pads set the courtyard."""
    asm = model.assemblies[0]
    small = dataclasses.replace(asm, x0=-4000.0, y0=-4000.0, x1=4000.0, y1=4000.0)
    return dataclasses.replace(model, assemblies=(small,))


@pytest.mark.parametrize(
    "spec", [POSTS, PAD_PROTRUSION, POP, PLATED_VIA, None], ids=lambda p: p.stem if p else "pads-outside-body"
)
@pytest.mark.parametrize("side", ["bottom", "top"])
def test_courtyard_holds_body_and_pads_with_the_ipc_excess(
    tmp_path: Path, spec: Path | None, side: str
) -> None:
    model = built(spec) if spec is not None else shrunk_body(built(POSTS))
    asm = lowest(model)
    path = write(model, side, tmp_path)
    rects = [
        item
        for item in KiFootprint.from_file(str(path)).graphicItems
        if type(item).__name__ == "FpRect" and item.layer == "F.CrtYd"
    ]
    assert len(rects) == 1
    x0, x1 = sorted((rects[0].start.X, rects[0].end.X))
    y0, y1 = sorted((rects[0].start.Y, rects[0].end.Y))
    pads = read_pads(path).values()
    hx, hy = (asm.x1 - asm.x0) / 2000, (asm.y1 - asm.y0) / 2000
    need = (
        min([-hx, *(p["at"][0] - p["size"][0] / 2 for p in pads)]) - COURTYARD_EXCESS_MM,
        min([-hy, *(p["at"][1] - p["size"][1] / 2 for p in pads)]) - COURTYARD_EXCESS_MM,
        max([hx, *(p["at"][0] + p["size"][0] / 2 for p in pads)]) + COURTYARD_EXCESS_MM,
        max([hy, *(p["at"][1] + p["size"][1] / 2 for p in pads)]) + COURTYARD_EXCESS_MM,
    )
    got = (x0, y0, x1, y1)
    for value, bound, outward in zip(got, need, (-1, -1, 1, 1), strict=True):
        assert (value - bound) * outward >= -1e-9  # encloses
        assert (value - bound) * outward < 0.01  # by no more than the 0.01 mm grid
        assert abs(value * 100 - round(value * 100)) < 1e-6  # on the grid
    assert COURTYARD_EXCESS_MM == 1.0


# --- the top side ----------------------------------------------------------------------------------------


def test_top_side_of_pad_protrusion_units_is_the_protrusions(tmp_path: Path) -> None:
    """Claim 3: 300 um square pads below, 150 um round protrusions above, at the pad's far side (claim 4)."""
    model = built(PAD_PROTRUSION)
    asm = lowest(model)
    bottom = read_pads(write(model, "bottom", tmp_path))
    top = read_pads(write(model, "top", tmp_path))
    assert set(top) == set(bottom) and len(top) == len(asm.units)
    assert {(p["shape"], p["size"]) for p in bottom.values()} == {("rect", (0.3, 0.3))}
    assert {(p["shape"], p["size"]) for p in top.values()} == {("circle", (0.15, 0.15))}
    names = grid_names([(u.x, u.y) for u in asm.units], 400.0)
    for name, unit in zip(names, asm.units, strict=True):
        ex, ey = unit_end_centre(model, unit.part, top=True)
        assert top[name]["at"] == pytest.approx((ex / 1000, -ey / 1000), abs=1e-6)
        # (300 - 150) / 2 = 75 um outwards from the die, on the pad's far side
        shift = (top[name]["at"][0] - bottom[name]["at"][0], -(top[name]["at"][1] - bottom[name]["at"][1]))
        assert shift == pytest.approx((unit.outward[0] * 0.075, unit.outward[1] * 0.075), abs=1e-6)
    assert footprint(model, "top").name == "BGA80N40P22X22_1200X1200X60_TOP"


def test_pop_top_side_lands_where_the_memory_package_joins(tmp_path: Path) -> None:
    """With centred protrusions the logic package's top lands coincide with the memory package's units."""
    model = pop_with_centred_protrusions()
    logic, memory = sorted(model.assemblies, key=lambda a: a.z_bottom)
    top = read_pads(write(model, "top", tmp_path))
    assert len(top) == len(memory.units) == 80
    cx, cy = (logic.x0 + logic.x1) / 2, (logic.y0 + logic.y1) / 2
    placed = [p["at"] for p in top.values()]
    for unit in memory.units:
        ux, uy = (unit.x - cx) / 1000, -(unit.y - cy) / 1000
        assert min(math.hypot(x - ux, y - uy) for x, y in placed) <= 1e-6, unit.part
    # the pads the memory package's joints sit on, by name
    names = dict(
        zip(
            [(u.x, u.y) for u in logic.units],
            grid_names([(u.x, u.y) for u in logic.units], 400.0),
            strict=True,
        )
    )
    for joint in model.joints:
        if joint.upper.startswith("memory/"):
            solid = model.solid(joint.solid).shape.bbox
            jx, jy = (solid[0] + solid[3]) / 2, (solid[1] + solid[4]) / 2
            lower = logic.unit(joint.lower.split("/", 1)[1])
            assert top[names[(lower.x, lower.y)]]["at"] == pytest.approx(
                ((jx - cx) / 1000, -(jy - cy) / 1000), abs=1e-6
            )
    fp = footprint(model, "top")
    assert fp.name == "BGA80C40P22X22_1200X1200X75_TOP" and fp.collapsing and fp.ball_mm == 0.25


def test_pop_top_side_with_far_protrusions_stays_under_the_memory_pads(tmp_path: Path) -> None:
    """In the shipped PoP the protrusions sit 75 um outwards (claim 4): each top land lies inside the memory
    package's 300 um pad above it, and carries the same ball name as that memory unit."""
    model = built(POP)
    memory = max(model.assemblies, key=lambda a: a.z_bottom)
    top = read_pads(write(model, "top", tmp_path))
    memory_bottom = {
        n: (u.x / 1000, -u.y / 1000)
        for n, u in zip(grid_names([(u.x, u.y) for u in memory.units], 400.0), memory.units, strict=True)
    }
    assert set(top) == set(memory_bottom)
    half_pad = moldstack.load(POP).assemblies[1].units[0].unit.pad.size_um / 2000  # type: ignore[union-attr]
    for name, (mx, my) in memory_bottom.items():
        (px, py), (d, _) = top[name]["at"], top[name]["size"]
        assert abs(px - mx) + d / 2 <= half_pad + 1e-9 and abs(py - my) + d / 2 <= half_pad + 1e-9
        assert math.hypot(px - mx, py - my) == pytest.approx(0.075, abs=1e-6)


def test_ipc_land_cross_check_is_recorded() -> None:
    """SAC305 joint 0.28 mm: IPC-7351B's 0.30 mm row (20 %) gives 0.20-0.25 mm; the 0.30 mm land is outside."""
    fp = footprint(built(POP), "bottom")
    assert fp.collapsing and fp.ball_mm == 0.28
    assert fp.ipc_land is not None
    assert (fp.ipc_land.row_ball_mm, fp.ipc_land.reduction_pct) == (0.30, 20.0)
    assert (fp.ipc_land.least_mm, fp.ipc_land.greatest_mm) == (0.20, 0.25)
    assert not fp.ipc_land.within and any("outside the IPC-7351B range" in n for n in fp.notes)
    single = footprint(built(POSTS), "bottom")
    assert not single.collapsing and single.ball_mm is None and single.ipc_land is None


# --- not on a grid, errors, text -----------------------------------------------------------------------------


def test_scattered_units_are_numbered_in_unit_order(tmp_path: Path) -> None:
    model = moldstack.build(moldstack.loads(SCATTERED))
    asm = lowest(model)
    pads = read_pads(write(model, "bottom", tmp_path))
    assert sorted(pads, key=int) == [str(k) for k in range(1, len(asm.units) + 1)]
    for k, unit in enumerate(asm.units, start=1):
        assert pads[str(k)]["at"] == pytest.approx((unit.x / 1000, -unit.y / 1000), abs=1e-6)
        assert pads[str(k)]["size"] == pytest.approx((0.3, 0.3))
    fp = footprint(model)
    # least spacing U2 (2500, 2300) - U5 (300, 2500): 2209 um -> 221; 5 distinct x and y; body 8 x 6 mm, 0.4 mm
    assert fp.name == "BGA5N221P5X5_800X600X40" and not fp.on_grid
    assert any("not on a regular grid" in n for n in fp.notes)


def test_a_package_with_no_exposed_units_is_refused() -> None:
    model = built(POSTS)
    asm = model.assemblies[0]
    bare = dataclasses.replace(model, assemblies=(dataclasses.replace(asm, units=()),))
    with pytest.raises(FootprintError, match="has no conductive units"):
        footprint(bare)
    # units that stop 100 um under the top surface: nothing to land on there, the board side is still fine
    buried = dataclasses.replace(model, assemblies=(dataclasses.replace(asm, z_top=asm.z_top + 100),))
    with pytest.raises(ValueError, match=r"none of its 80 conductive units is exposed at its top surface"):
        footprint(buried, "top")
    assert len(footprint(buried, "bottom").pads) == 80
    with pytest.raises(FootprintError, match="side must be"):
        footprint(model, "left")  # type: ignore[arg-type]


def test_strings_are_quoted_and_numbers_plain() -> None:
    fp = footprint(built(POP))
    tricky = 'a "quoted" word, a back\\slash\\ and\na new line'
    text = footprint_text(dataclasses.replace(fp, description=tricky))
    assert child(sexpdata.loads(text), "descr")[1] == tricky
    plain = footprint_text(fp)
    numbers = re.findall(r"(?<=[ (])-?\d[\d.eE+-]*(?=[ )])", re.sub(r'"(?:[^"\\]|\\.)*"', '""', plain))
    assert numbers and all(re.fullmatch(r"-?\d+(\.\d{1,6})?", n) for n in numbers), numbers
    assert "(size 0.3 0.3)" in plain and "(solder_mask_margin 0.075)" in plain and "-0 " not in plain


def test_write_footprints_writes_both_sides_the_same_each_time(tmp_path: Path) -> None:
    model = built(POP)
    first = write_footprints(model, tmp_path / "a")
    second = write_footprints(model, tmp_path / "b")
    assert [p.name for p in first] == ["footprint.kicad_mod", "footprint_top.kicad_mod"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert json.loads(json.dumps(footprint(model, "top").to_dict()))["pads"][0]["unit"] == "logic/U1"
    names = [KiFootprint.from_file(str(p)).libId for p in first]
    assert names == ["BGA80C40P22X22_1200X1200X75", "BGA80C40P22X22_1200X1200X75_TOP"]


# --- through the library's export and the command line ---------------------------------------------------


def test_export_by_suffix_writes_the_board_side(tmp_path: Path) -> None:
    written = moldstack.export(built(POSTS), tmp_path / "fp.kicad_mod")
    assert written == [tmp_path / "fp.kicad_mod"]
    assert KiFootprint.from_file(str(written[0])).libId == "BGA80N40P22X22_1200X1200X50"


@pytest.mark.parametrize("args", [("-o", "tmp/x.kicad_mod"), ("--format", "kicad", "-o", "tmp/x.kicad_mod")])
def test_cli_export_writes_a_footprint(tmp_path: Path, args: tuple[str, ...]) -> None:
    fixed = [str(tmp_path / a) if a.endswith(".kicad_mod") else a for a in args]
    out = tmp_path / "tmp" / "x.kicad_mod"
    code, stdout, stderr = run_cli("export", POSTS, *fixed)
    assert code == 0, stderr
    assert f"wrote {out}" in stdout
    tree = sexpdata.loads(out.read_text(encoding="utf-8"))
    assert len(heads(tree, "pad")) == 80
    assert len(KiFootprint.from_file(str(out)).pads) == 80
