"""GDSII/OASIS export: read back with KLayout, compare cells, offsets, shape counts and areas with the model."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import klayout.db as kdb
import pytest
import yaml

import moldstack
from moldstack.exporters.gds import (
    PROPERTY_NET,
    PROPERTY_SOLID_ID,
    ROLE_LAYERS,
    export_gds,
    layer_map,
    write_layer_map,
)
from moldstack.geometry.model import Model
from moldstack.geometry.primitives import Box, Tube, Wire
from moldstack.roles import ROLES
from tests.conftest import EXAMPLES, example_data

DBU_UM = 0.001
OFFSET = (500.0, -300.0)


def _offset_pop() -> Model:
    """The PoP example with both levels moved off the origin, so that cell offsets are not all zero."""
    data = example_data("pop_on_substrate.yaml")
    for level in data["stack"]["levels"]:
        level["offset_um"] = list(OFFSET)
    return moldstack.build(moldstack.loads(yaml.safe_dump(data)))


def _mixed_wires() -> Model:
    """Claim 14 with the second die bonded in copper: one role, two materials."""
    data = example_data("claim14_stacked_die.yaml")
    data["assemblies"][0]["interconnects"][1]["material"] = "copper"
    return moldstack.build(moldstack.loads(yaml.safe_dump(data)))


@pytest.fixture(scope="module")
def pop() -> Model:
    return _offset_pop()


@pytest.fixture(scope="module")
def pop_gds(pop: Model, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, kdb.Layout]:
    path = tmp_path_factory.mktemp("gds") / "layers.gds"
    export_gds(pop, path)
    layout = kdb.Layout()
    layout.read(str(path))
    return path, layout


def _read(path: Path) -> kdb.Layout:
    layout = kdb.Layout()
    layout.read(str(path))
    return layout


def _shapes_by_solid(layout: kdb.Layout, cell: kdb.Cell) -> dict[str, tuple[kdb.LayerInfo, kdb.Shape]]:
    """Each shape of ``cell`` keyed by the solid id its property 1 names."""
    out: dict[str, tuple[kdb.LayerInfo, kdb.Shape]] = {}
    for index in layout.layer_indexes():
        for shape in cell.shapes(index).each():
            solid_id = shape.properties()[PROPERTY_SOLID_ID]
            assert solid_id not in out, f"{solid_id} drawn twice"
            out[solid_id] = (layout.get_info(index), shape)
    return out


def _cell_of(model: Model, solid: moldstack.Solid) -> str:
    if solid.assembly is not None:
        return solid.assembly
    return "joints" if solid.role == "joint" else "substrate"


def _centre(model: Model, cell: str) -> tuple[float, float]:
    for a in model.assemblies:
        if a.name == cell:
            return ((a.x0 + a.x1) / 2, (a.y0 + a.y1) / 2)
    if cell == "substrate":
        lam = next(s.shape for s in model.solids if s.role == "substrate" and s.matrix)
        assert isinstance(lam, Box)
        return ((lam.x0 + lam.x1) / 2, (lam.y0 + lam.y1) / 2)
    return (0.0, 0.0)


def test_every_role_has_its_own_layer() -> None:
    assert set(ROLE_LAYERS) == set(ROLES)
    assert len(set(ROLE_LAYERS.values())) == len(ROLE_LAYERS)


def test_top_cell_places_one_cell_per_assembly_at_its_body_centre(
    pop: Model, pop_gds: tuple[Path, kdb.Layout]
) -> None:
    _, layout = pop_gds
    top = layout.top_cell()
    assert top.name == pop.name == "pop-on-substrate"
    assert [c.name for c in layout.top_cells()] == [pop.name]
    placed = {
        (layout.cell(inst.cell_index).name, inst.trans.disp.x * DBU_UM, inst.trans.disp.y * DBU_UM)
        for inst in top.each_inst()
    }
    assert placed == {
        ("logic", *OFFSET),
        ("memory", *OFFSET),
        ("substrate", 0.0, 0.0),
        ("joints", 0.0, 0.0),
    }
    assert all(inst.trans.rot == 0 and not inst.trans.is_mirror() for inst in top.each_inst())
    assert all(top.shapes(i).is_empty() for i in layout.layer_indexes())


def test_flattened_layout_lies_where_the_model_does(pop: Model, pop_gds: tuple[Path, kdb.Layout]) -> None:
    """Cell geometry is relative to the body centre; placed at the offset it must land on the model's plan."""
    _, layout = pop_gds
    top = layout.top_cell()
    tolerance = 0.01  # a circle's extreme vertices may fall short of its bounding box by this
    for role in ("body", "conductive_unit.pad", "substrate.land", "joint"):
        entry = layer_map(pop).entry(role, pop.by_role(role)[0].material)
        index = layout.find_layer(entry.layer, entry.datatype)
        region = kdb.Region(top.begin_shapes_rec(index))
        solids = [s for s in pop.solids if s.role == role]
        x0 = min(s.shape.bbox[0] for s in solids)
        y0 = min(s.shape.bbox[1] for s in solids)
        x1 = max(s.shape.bbox[3] for s in solids)
        y1 = max(s.shape.bbox[4] for s in solids)
        box = region.bbox()
        got = (box.left * DBU_UM, box.bottom * DBU_UM, box.right * DBU_UM, box.top * DBU_UM)
        assert got == pytest.approx((x0, y0, x1, y1), abs=tolerance + DBU_UM), role
    assert pop.assemblies[0].x0 == -6000 + OFFSET[0]


@pytest.mark.parametrize(
    "model_of",
    [
        _offset_pop,
        _mixed_wires,
        lambda: moldstack.build(EXAMPLES / "claim21_plated_via.yaml"),
        lambda: moldstack.build(EXAMPLES / "claim10_hollow_fill.yaml"),
    ],
    ids=["pop-offset", "claim14-mixed-wires", "claim21", "claim10"],
)
def test_one_shape_per_solid_on_its_roles_layer_per_cell(
    model_of: Callable[[], Model], tmp_path: Path
) -> None:
    model: Model = model_of()
    result = export_gds(model, tmp_path / "m.gds")
    layout = _read(tmp_path / "m.gds")
    expected: dict[str, Counter[tuple[int, int]]] = {}
    for s in model.solids:
        entry = result.layer_map.of(s)
        assert entry.layer == ROLE_LAYERS[s.role]
        expected.setdefault(_cell_of(model, s), Counter())[entry.key] += 1
    got: dict[str, Counter[tuple[int, int]]] = {}
    for cell in layout.each_cell():
        counts = Counter(
            {
                (layout.get_info(i).layer, layout.get_info(i).datatype): cell.shapes(i).size()
                for i in layout.layer_indexes()
                if cell.shapes(i).size()
            }
        )
        if counts:
            got[cell.name] = counts
    assert got == expected
    assert {c: dict(v) for c, v in result.polygons_per_cell.items()} == {
        c: dict(v) for c, v in expected.items()
    }
    assert sum(result.polygons_per_layer.values()) == len(model.solids)
    by_solid: dict[str, tuple[kdb.LayerInfo, kdb.Shape]] = {}
    for cell in layout.each_cell():
        by_solid |= _shapes_by_solid(layout, cell)
    assert set(by_solid) == {s.id for s in model.solids}
    for s in model.solids:
        info, shape = by_solid[s.id]
        assert (info.layer, info.datatype) == result.layer_map.of(s).key
        assert shape.properties().get(PROPERTY_NET) == s.net


def test_mixed_materials_split_a_role_by_datatype() -> None:
    model = _mixed_wires()
    entries = [e for e in layer_map(model).entries if e.role == "conductive_element.wire_bond"]
    assert {e.material for e in entries} == {"gold", "copper"}
    assert {e.layer for e in entries} == {40}
    assert len({e.datatype for e in entries}) == 2
    assert {e.name for e in entries} == {
        "conductive_element.wire_bond.gold",
        "conductive_element.wire_bond.copper",
    }
    single = layer_map(moldstack.build(EXAMPLES / "claim3_pad_protrusion.yaml"))
    assert single.entry("conductive_element.wire_bond", "gold").datatype == 0


@pytest.mark.parametrize("tolerance", [0.01, 0.5])
def test_circles_within_the_chord_bound_and_boxes_exact(pop: Model, tmp_path: Path, tolerance: float) -> None:
    """Every vertex of a circle's polygon lies on the circle and no chord strays more than ``tolerance`` from it.

    So 0 <= pi r^2 - A <= P * tolerance (P = 2 pi r; the sum over the n segments of chord x sagitta x 2/3 is
    about 2/3 of that), widened by the rounding of the vertices to the 1 nm grid (|dA| <= P * dbu). For an
    annulus the hole falls short too, so the area may exceed pi (r^2 - r_i^2) by up to P_i * tolerance.
    """
    claim21 = moldstack.build(EXAMPLES / "claim21_plated_via.yaml")
    annuli = 0
    for model in (pop, claim21):
        path = tmp_path / f"{model.name}.gds"
        export_gds(model, path, tolerance_um=tolerance)
        layout = _read(path)
        shapes: dict[str, tuple[kdb.LayerInfo, kdb.Shape]] = {}
        for cell in layout.each_cell():
            shapes |= _shapes_by_solid(layout, cell)
        for s in model.solids:
            _, shape = shapes[s.id]
            origin = _centre(model, _cell_of(model, s))
            if isinstance(s.shape, Tube):
                t = s.shape
                area = shape.polygon.area() * DBU_UM**2
                outer, inner = 2 * math.pi * t.r, 2 * math.pi * t.r_inner
                deficit = math.pi * (t.r**2 - t.r_inner**2) - area
                slack = (outer + inner) * DBU_UM
                assert -inner * tolerance - slack <= deficit <= outer * tolerance + slack, s.id
                annuli += t.r_inner > 0
                # the tolerance is used, not exceeded nor ignored: the worst chord sits between tol/4 and tol
                cx, cy = (t.cx - origin[0]) / DBU_UM, (t.cy - origin[1]) / DBU_UM
                hull = list(shape.polygon.each_point_hull())
                sagittas = []
                for a, b in zip(hull, hull[1:] + hull[:1], strict=True):
                    on_outer = [
                        abs(math.hypot(p.x - cx, p.y - cy) * DBU_UM - t.r) <= 2 * DBU_UM for p in (a, b)
                    ]
                    if all(on_outer):
                        mid = math.hypot((a.x + b.x) / 2 - cx, (a.y + b.y) / 2 - cy) * DBU_UM
                        sagittas.append(t.r - mid)
                assert tolerance / 4 <= max(sagittas) <= tolerance + 2 * DBU_UM, s.id
            elif isinstance(s.shape, Box):
                b = s.shape
                assert shape.is_box(), s.id
                expected = kdb.Box(
                    round((b.x0 - origin[0]) / DBU_UM),
                    round((b.y0 - origin[1]) / DBU_UM),
                    round((b.x1 - origin[0]) / DBU_UM),
                    round((b.y1 - origin[1]) / DBU_UM),
                )
                assert shape.box == expected, s.id
    assert annuli > 0


def test_wires_are_their_plan_projection_stroked_to_their_width(
    pop: Model, pop_gds: tuple[Path, kdb.Layout]
) -> None:
    _, layout = pop_gds
    wires = [s for s in pop.solids if isinstance(s.shape, Wire)]
    assert len(wires) == 160
    for cell_name in ("logic", "memory"):
        cell = layout.cell(cell_name)
        shapes = _shapes_by_solid(layout, cell)
        ox, oy = _centre(pop, cell_name)
        for s in (w for w in wires if w.assembly == cell_name):
            assert isinstance(s.shape, Wire)
            _, shape = shapes[s.id]
            xy = s.shape.points[:, :2]
            plan_length = math.hypot(*(xy[-1] - xy[0]))
            area = shape.polygon.area() * DBU_UM**2
            assert area == pytest.approx(plan_length * s.shape.diameter, rel=1e-4), s.id
            region = kdb.Region(shape.polygon)
            for x, y in xy[:: max(1, len(xy) // 6)]:
                px, py = round((x - ox) / DBU_UM), round((y - oy) / DBU_UM)
                probe = kdb.Box(px - 1, py - 1, px + 1, py + 1)
                assert not (region & kdb.Region(probe)).is_empty(), s.id


def test_layer_map_file_parses_in_klayout_and_names_every_layer(
    pop: Model, pop_gds: tuple[Path, kdb.Layout], tmp_path: Path
) -> None:
    gds_path, layout = pop_gds
    map_path = write_layer_map(pop, tmp_path / "layers.txt")
    text = map_path.read_text()
    kmap = kdb.LayerMap.from_string(text)
    entries = layer_map(pop).entries
    assert len(kmap.to_string().splitlines()) == len(entries)
    used = {(layout.get_info(i).layer, layout.get_info(i).datatype) for i in layout.layer_indexes()}
    assert used == {e.key for e in entries}
    assert all(kmap.is_mapped(kdb.LayerInfo(layer, datatype)) for layer, datatype in used)
    options = kdb.LoadLayoutOptions()
    options.layer_map = kmap
    options.create_other_layers = False
    named = kdb.Layout()
    named.read(str(gds_path), options)
    names = {
        (named.get_info(i).layer, named.get_info(i).datatype): named.get_info(i).name
        for i in named.layer_indexes()
    }
    assert names == {e.key: e.name for e in entries}
    body = layer_map(pop).entry("body", "emc")
    assert dict(body.z_ranges_um) == {"logic": (0.0, 600.0), "memory": (800.0, 1300.0)}
    assert "#   material emc; z [um]: logic 0 .. 600, memory 800 .. 1300\n1/0 : body (1/0)\n" in text


def test_oasis_round_trip_matches_gds(pop: Model, pop_gds: tuple[Path, kdb.Layout], tmp_path: Path) -> None:
    _, gds = pop_gds
    result = export_gds(pop, tmp_path / "layers.oas", oasis=True)
    assert result.format == "oas"
    assert (tmp_path / "layers.oas").read_bytes().startswith(b"%SEMI-OASIS\r\n")
    oas = _read(tmp_path / "layers.oas")

    def summary(layout: kdb.Layout) -> dict[tuple[str, int, int], tuple[int, int]]:
        out = {}
        for cell in layout.each_cell():
            for i in layout.layer_indexes():
                if cell.shapes(i).size():
                    info = layout.get_info(i)
                    out[(cell.name, info.layer, info.datatype)] = (
                        cell.shapes(i).size(),
                        kdb.Region(cell.shapes(i)).area(),
                    )
        return out

    assert summary(oas) == summary(gds)
    assert oas.top_cell().name == pop.name
    assert {
        (oas.cell(i.cell_index).name, i.trans.disp.x, i.trans.disp.y) for i in oas.top_cell().each_inst()
    } == {(gds.cell(i.cell_index).name, i.trans.disp.x, i.trans.disp.y) for i in gds.top_cell().each_inst()}


def test_result_reports_what_was_written_and_leaves_no_temporary(pop: Model, tmp_path: Path) -> None:
    result = export_gds(pop, tmp_path / "layers.gds", tolerance_um=0.02)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layers.gds"]
    assert result.path == tmp_path / "layers.gds"
    assert result.top == pop.name
    assert dict(result.cells) == {
        "logic": OFFSET,
        "memory": OFFSET,
        "substrate": (0.0, 0.0),
        "joints": (0.0, 0.0),
    }
    assert result.polygons_per_layer[(40, 0)] == len(pop.by_role("conductive_element.wire_bond"))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["tolerance_um"] == 0.02
    assert data["polygons_per_layer"]["1/0"] == 2


def test_cell_names_stay_unique_when_an_assembly_is_named_like_another_cell(tmp_path: Path) -> None:
    data = example_data("pop_on_substrate.yaml")
    data["assemblies"][0]["name"] = "substrate"
    data["stack"]["levels"][0]["assembly"] = "substrate"
    model = moldstack.build(moldstack.loads(yaml.safe_dump(data)))
    result = export_gds(model, tmp_path / "m.gds")
    layout = _read(tmp_path / "m.gds")
    names = [c.name for c in layout.each_cell()]
    assert len(names) == len(set(names)) == 5
    assert set(result.cells) == {"substrate", "memory", "substrate_2", "joints"}


def test_bad_tolerance_and_unknown_roles_are_refused(pop: Model, tmp_path: Path) -> None:
    for bad in (0.0, -1.0, 1e-4, math.nan):
        with pytest.raises(ValueError, match="tolerance_um"):
            export_gds(pop, tmp_path / "m.gds", tolerance_um=bad)
    odd = replace(pop, solids=(replace(pop.solids[0], role="heat_spreader"), *pop.solids[1:]))
    with pytest.raises(ValueError, match="heat_spreader"):
        export_gds(odd, tmp_path / "m.gds")
    assert not (tmp_path / "m.gds").exists()
