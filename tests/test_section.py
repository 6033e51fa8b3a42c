"""Cut-plane sections: exact cuts of each primitive, matrices carved by inclusions, default planes, and the
SVG figure read back through the affine it declares (polygons compared with the analytic cut)."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

import moldstack
from moldstack.exporters.section_figure import (
    SectionFigure,
    auto_window,
    choose_exaggeration,
    write_section_png,
    write_section_svg,
)
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Cylinder, Trace, Tube, Wire
from moldstack.geometry.section import (
    DEFAULT_TOLERANCE_UM,
    Plane,
    Section,
    cut,
    default_planes,
    section,
)
from tests.conftest import EXAMPLES

TOL = DEFAULT_TOLERANCE_UM
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def posts() -> Model:
    return moldstack.build(EXAMPLES / "claim1_posts.yaml")


@pytest.fixture(scope="module")
def wired() -> Model:
    return moldstack.build(EXAMPLES / "claim3_pad_protrusion.yaml")


def _rect(u0: float, v0: float, u1: float, v1: float) -> Polygon:
    return shapely.box(u0, v0, u1, v1)


def _same(a: Polygon | MultiPolygon | None, b: Polygon | MultiPolygon, area_tol: float = 1e-6) -> bool:
    assert a is not None
    return shapely.symmetric_difference(a, b).area <= area_tol


# --- planes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "axis", "at"),
    [("x=0", "x", 0.0), ("y=-4200", "y", -4200.0), ("z=300", "z", 300.0), (" Y = 12.5 um", "y", 12.5)],
)
def test_plane_text_is_read(text: str, axis: str, at: float) -> None:
    plane = Plane.parse(text)
    assert (plane.axis, plane.at_um) == (axis, at)
    assert Plane.parse(str(plane)) == plane


@pytest.mark.parametrize("text", ["w=3", "x=", "x=abc", "x 3", "x=nan", "x=1e999", "", "3=x", "xy=2"])
def test_bad_plane_text_names_the_value_and_the_rule(text: str) -> None:
    with pytest.raises(ValueError, match="plane") as err:
        Plane.parse(text)
    assert repr(text) in str(err.value)


def test_section_rejects_a_bad_plane_and_a_plane_that_misses(posts: Model) -> None:
    with pytest.raises(ValueError, match=r"AXIS=VALUE.*x, y, z"):
        section(posts, "q=1")
    with pytest.raises(ValueError, match=r"cuts no solid.*y runs from -6000 to 6000"):
        section(posts, "y=9000")


def test_plane_names_for_files() -> None:
    assert Plane("y", -4200).slug == "y-4200"
    assert Plane("z", 12.5).slug == "z12p5"
    assert Plane("x", 0).in_plane == ("y", "z")
    assert Plane("z", 0).in_plane == ("x", "y")


# --- exact cuts of the primitives ------------------------------------------------------------------------


def test_box_cuts_are_rectangles_and_half_open() -> None:
    box = Box(z0=0, z1=5, x0=0, y0=0, x1=10, y1=20)
    assert _same(cut(box, "x=3"), _rect(0, 0, 20, 5))
    assert _same(cut(box, "y=19.9"), _rect(0, 0, 10, 5))
    assert _same(cut(box, "z=0"), _rect(0, 0, 10, 20))
    assert cut(box, "x=10") is None  # [x0, x1): a shared face belongs to the solid above it
    assert cut(box, "z=5") is None
    assert cut(box, "x=-1") is None


def test_tube_through_the_bore_gives_two_chord_rectangles() -> None:
    tube = Tube(z0=0, z1=50, cx=0, cy=0, r=100, r_inner=40)
    w, wi = math.sqrt(100**2 - 10**2), math.sqrt(40**2 - 10**2)
    got = cut(tube, "y=10")
    assert isinstance(got, MultiPolygon) and len(got.geoms) == 2
    assert _same(got, shapely.union_all([_rect(-w, 0, -wi, 50), _rect(wi, 0, w, 50)]))
    assert got.area == pytest.approx(2 * (w - wi) * 50, rel=1e-12)


def test_tube_off_the_bore_gives_one_chord_rectangle() -> None:
    tube = Tube(z0=0, z1=50, cx=5, cy=-7, r=100, r_inner=40)
    assert _same(cut(tube, "x=65"), _rect(-7 - 80, 0, -7 + 80, 50))  # 60 from the axis: half-chord 80
    assert cut(tube, "x=105") is None  # tangent
    assert _same(cut(Cylinder(0, 0, 100, 0, 50), "y=0"), _rect(-100, 0, 100, 50))


def test_tube_in_a_z_plane_is_an_annulus_within_tolerance() -> None:
    tube = Tube(z0=0, z1=50, cx=3, cy=4, r=100, r_inner=40)
    got = cut(tube, "z=10")
    assert isinstance(got, Polygon) and len(got.interiors) == 1
    radii = [np.hypot(*(np.asarray(r.coords) - (3, 4)).T) for r in (got.exterior, got.interiors[0])]
    assert np.all(radii[0] <= 100 + 1e-9) and np.all(radii[0] >= 100 - TOL)
    assert np.all(radii[1] <= 40 + 1e-9) and np.all(radii[1] >= 40 - TOL)
    exact = math.pi * (100**2 - 40**2)
    # inscribed outer ring, inscribed hole: the area is within a perimeter times the tolerance
    assert abs(got.area - exact) <= 2 * math.pi * 140 * TOL
    assert shapely.hausdorff_distance(got.exterior, shapely.Point(3, 4).buffer(100, 1024).exterior) <= TOL


def test_trace_at_an_angle_is_cut_exactly() -> None:
    trace = Trace(z0=0, z1=10, xa=0, ya=0, xb=100, yb=100, width=20)
    s2 = math.sqrt(2)
    # (50, y) is inside where |y - 50| / sqrt 2 <= 10
    assert _same(cut(trace, "x=50"), _rect(50 - 10 * s2, 0, 50 + 10 * s2, 10), 1e-9)
    # at the start the square end cuts it: y / sqrt 2 >= 0 and y / sqrt 2 <= 10
    assert _same(cut(trace, "x=0"), _rect(0, 0, 10 * s2, 10), 1e-9)
    # a y plane past the corner (x, y) = (100, 100) + (7.07, -7.07) misses it
    assert cut(trace, "y=-10") is None
    top = cut(trace, "z=5")
    assert top is not None and top.area == pytest.approx(100 * s2 * 20, rel=1e-12)
    corners = {(round(x, 9), round(y, 9)) for x, y in top.exterior.coords}
    assert (round(-10 / s2, 9), round(10 / s2, 9)) in corners


def test_straight_wire_cut_across_is_a_disc() -> None:
    wire = Wire(path=((0.0, 0.0, 50.0), (100.0, 0.0, 50.0)), diameter=20.0)
    got = cut(wire, "x=50")
    disc = shapely.Point(0, 50).buffer(10, 2048)
    assert got is not None
    assert shapely.hausdorff_distance(got, disc) <= TOL
    assert got.area == pytest.approx(math.pi * 100, abs=2 * math.pi * 10 * TOL)
    assert got.bounds == pytest.approx((-10, 40, 10, 60), abs=TOL)


def test_straight_wire_cut_along_its_axis_is_a_band_with_round_ends() -> None:
    wire = Wire(path=((0.0, 0.0, 50.0), (100.0, 0.0, 50.0)), diameter=20.0)
    got = cut(wire, "y=0")
    assert got is not None
    # the union of balls: the band 0..100 x 40..60 plus a half disc of radius r beyond each flat end
    stadium = shapely.LineString([(0, 50), (100, 50)]).buffer(10, 2048)
    assert shapely.hausdorff_distance(got, stadium) <= TOL
    assert got.area == pytest.approx(100 * 20 + math.pi * 100, abs=2 * math.pi * 10 * TOL)
    off = cut(wire, "y=6")  # off the axis: half-width sqrt(10^2 - 6^2) = 8
    assert off is not None and off.bounds == pytest.approx((-8, 42, 108, 58), abs=TOL)
    assert cut(wire, "y=10") is None


def test_oblique_wire_cut_is_an_ellipse() -> None:
    wire = Wire(path=((0.0, 0.0, 0.0), (100.0, 0.0, 100.0)), diameter=20.0)
    got = cut(wire, "z=50")
    assert got is not None
    a, b = 10 * math.sqrt(2), 10.0  # r / cos 45 along x, r along y
    ellipse = shapely.affinity.scale(shapely.Point(0, 0).buffer(1, 4096), a, b)
    ellipse = shapely.affinity.translate(ellipse, 50, 0)
    assert shapely.hausdorff_distance(got, ellipse) <= TOL
    assert got.area == pytest.approx(math.pi * a * b, rel=2 * TOL / b)


def test_bent_wire_cut_agrees_with_the_union_of_balls_pointwise() -> None:
    """Every plane point deeper than the tolerance inside the wire is in the cut; none outside it is."""
    rng = np.random.default_rng(7)
    for trial in range(12):
        path = tuple(tuple(p) for p in np.cumsum(rng.uniform(-60, 60, size=(5, 3)), axis=0).tolist())
        wire = Wire(path=path, diameter=25.0)
        axis = "xyz"[trial % 3]
        k = "xyz".index(axis)
        at = float(np.mean([p[k] for p in path]))
        got = cut(wire, f"{axis}={at}")
        assert got is not None
        i, j = [n for n in range(3) if n != k]
        lo, hi = wire.bbox[:3], wire.bbox[3:]
        uu, vv = np.meshgrid(np.linspace(lo[i], hi[i], 160), np.linspace(lo[j], hi[j], 160))
        pts = np.zeros((uu.size, 3))
        pts[:, i], pts[:, j], pts[:, k] = uu.ravel(), vv.ravel(), at
        depth = wire.signed_distance(pts)
        inside = shapely.contains_xy(got, uu.ravel(), vv.ravel()) | shapely.intersects_xy(
            got.boundary, uu.ravel(), vv.ravel()
        )
        assert np.all(inside[depth < -TOL]), trial
        assert not np.any(inside[depth > 1e-9]), trial


# --- matrices --------------------------------------------------------------------------------------------


def _toy_model() -> Model:
    body = Solid(
        "pkg/body/mold", "pkg/body", "body", "emc", Box.centred(0, 0, 1000, 1000, 0, 500), matrix=True
    )
    base = Solid(
        "pkg/base/n",
        "pkg/base",
        "body.base",
        "polyimide",
        Box(z0=0, z1=25, x0=-500, y0=200, x1=500, y1=500),
        matrix=True,
        rank=1,
    )
    post = Solid("pkg/U1/column", "pkg/U1", "conductive_unit.post", "copper", Cylinder(100, 300, 50, 0, 500))
    ring = Solid(
        "pkg/U2/column",
        "pkg/U2",
        "conductive_unit.via",
        "copper",
        Tube(z0=0, z1=500, cx=-200, cy=300, r=60, r_inner=30),
    )
    return Model("toy", (body, base, post, ring), ())


def test_matrix_is_its_rectangle_minus_inclusions_and_higher_rank_matrices() -> None:
    sec = section(_toy_model(), "y=300")
    body, base = sec.piece("pkg/body/mold"), sec.piece("pkg/base/n")
    holes = [_rect(50, 0, 150, 500), _rect(-260, 0, -230, 500), _rect(-170, 0, -140, 500)]
    assert _same(sec.piece("pkg/U1/column").area, holes[0])
    assert _same(sec.piece("pkg/U2/column").area, shapely.union_all(holes[1:]))
    assert _same(base.area, _rect(-500, 0, 500, 25).difference(shapely.union_all(holes)))
    assert _same(body.area, _rect(-500, 25, 500, 500).difference(shapely.union_all(holes)))
    # the bore of the ring is mold here (the matrix fills what the solids leave)
    assert body.area.contains(shapely.Point(-200, 250))
    assert sum(p.area_um2 for p in sec.pieces) == pytest.approx(1000 * 500, rel=1e-12)
    assert default_planes(_toy_model()) == ()


def test_pieces_tile_a_real_section_without_overlap(wired: Model) -> None:
    for plane in ("y=-200", "z=300", "x=4275"):
        sec = section(wired, plane)
        union = shapely.union_all([p.area for p in sec.pieces])
        total = sum(p.area_um2 for p in sec.pieces)
        # only the wire ends dipping into their pads may overlap, by far less than a wire's cross-section
        assert total - union.area <= 25.0 * 25.0, plane
        body = sec.piece("pkg/body/mold")
        assert (body.role, body.material, body.matrix) == ("body", "emc", True)


# --- default planes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("example", "units_row", "count"),
    [("claim1_posts.yaml", "y=4200", 20), ("claim3_pad_protrusion.yaml", "y=4275", 20)],
)
def test_default_planes_cut_a_row_of_units_through_their_columns(
    example: str, units_row: str, count: int
) -> None:
    model = moldstack.build(EXAMPLES / example)
    planes = {p.name.split("_y")[0]: p for p in default_planes(model)}
    assert set(planes) >= {"units_row", "die_centre"}
    row = planes["units_row"]
    assert str(row.plane) == units_row and row.name == f"units_row_{row.plane.slug}"
    assert str(planes["die_centre"].plane) == "y=0"
    sec = section(model, row.plane)
    columns = [p for p in sec.pieces if p.role in {"conductive_unit.post", "conductive_unit.protrusion"}]
    assert len(columns) == count
    diameters = [d for d in sec.dimensions if d.kind == "unit_diameter"]
    assert len(diameters) == count
    for col in columns:  # cut through the axis: the chord is the full diameter
        u0, _, u1, _ = col.bounds
        assert u1 - u0 == pytest.approx(diameters[0].value_um)
    pitches = {round(d.value_um, 6) for d in sec.dimensions if d.kind == "unit_pitch"}
    assert pitches == {400.0}
    die_sec = section(model, planes["die_centre"].plane)
    kinds = {d.kind: d.value_um for d in die_sec.dimensions}
    assert kinds["die_thickness"] == pytest.approx(
        model.assemblies[0].dies[0].z_front - model.assemblies[0].dies[0].z_back
    )
    assert kinds["body_thickness"] == pytest.approx(model.assemblies[0].z_top - model.assemblies[0].z_bottom)


# --- figures ---------------------------------------------------------------------------------------------


def _svg_polygons(path: Path) -> tuple[dict[str, list[np.ndarray]], dict[str, Any]]:
    """The rings (SVG units) of the path in each ``<g id=...>`` that holds one; and the metadata JSON."""
    root = ET.parse(path).getroot()
    description = root.find(".//{http://purl.org/dc/elements/1.1/}description")
    assert description is not None and description.text
    meta = json.loads(description.text)["moldstack_section"]
    shapes: dict[str, list[np.ndarray]] = {}
    for group in root.iter(f"{SVG}g"):
        gid = group.get("id", "")
        paths = [c for c in group if c.tag == f"{SVG}path"]
        if not paths:
            continue
        rings: list[np.ndarray] = []
        for sub in re.split(r"\s*[zZ]\s*", paths[0].get("d", "")):
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", sub)]
            if len(numbers) >= 6:
                rings.append(np.array(numbers).reshape(-1, 2))
        shapes[gid] = rings
    return shapes, meta


def _to_model(rings: list[np.ndarray], matrix: list[float]) -> Polygon | MultiPolygon:
    """Map SVG rings back to micrometres; counter-clockwise rings are shells, clockwise ones holes."""
    a, b, c, d, e, f = matrix
    assert b == 0 and c == 0
    shells, holes = [], []
    for ring in rings:
        uv = np.column_stack([(ring[:, 0] - e) / a, (ring[:, 1] - f) / d])
        poly = Polygon(uv)
        (shells if shapely.is_ccw(poly.exterior) else holes).append(Polygon(uv))
    return (
        shapely.union_all(shells).difference(shapely.union_all(holes)) if holes else shapely.union_all(shells)
    )


def test_svg_polygons_map_back_to_the_analytic_cut(posts: Model, tmp_path: Path) -> None:
    sec = section(posts, "y=4200")
    out = tmp_path / "row.svg"
    result = write_section_svg(sec, out)
    assert isinstance(result, SectionFigure) and result.path == out and result.pieces == len(sec.pieces)
    assert result.exaggeration == choose_exaggeration(sec) and result.exaggeration > 1
    shapes, meta = _svg_polygons(out)
    assert meta["plane"] == "y=4200" and meta["coordinates"] == ["x", "z"] and meta["units"] == "um"
    main = next(p for p in meta["panels"] if p["name"] == "main")
    assert all(p.solid in shapes for p in sec.pieces), "every piece is a <g> named by its solid id"
    # the posts, by hand: 20 columns of diameter 250 on a 400 pitch from x = -3800, z 0..500
    for k in range(20):
        x = -3800 + 400 * k
        got = _to_model(shapes[f"pkg/U{k + 1}/column"], main["matrix"])
        assert got.bounds == pytest.approx((x - 125, 0, x + 125, 500), abs=0.01)
        assert got.area == pytest.approx(250 * 500, rel=1e-5)
    body = _to_model(shapes["pkg/body/mold"], main["matrix"])
    assert body.bounds == pytest.approx((-6000, 0, 6000, 500), abs=0.01)
    assert body.area == pytest.approx(12000 * 500 - 20 * 250 * 500, rel=1e-5)
    # and every polygon matches its section piece
    for piece in sec.pieces:
        got = _to_model(shapes[piece.solid], main["matrix"])
        assert shapely.symmetric_difference(got, piece.area).area <= 1e-4 * max(piece.area_um2, 1.0), (
            piece.solid
        )
    # the true-scale detail panel uses its own affine and prefixed ids
    detail = next(p for p in meta["panels"] if p["name"] == "detail")
    assert detail["exaggeration"] == 1.0 and detail["gid_prefix"] == "detail:"
    last = _to_model(shapes["detail:pkg/U20/column"], detail["matrix"])
    assert last.bounds == pytest.approx((3675, 0, 3925, 500), abs=0.01)
    (a, _, _, d, _, _) = detail["matrix"]
    assert -d == pytest.approx(a, rel=1e-9), "true scale: one micrometre is as long across as up"
    text = out.read_text()
    assert "body 500 µm" in text and "Ø250 µm" in text and "pitch 400 µm" in text


def test_die_centre_svg_labels_body_and_die_thickness(wired: Model, tmp_path: Path) -> None:
    sec = section(wired, "y=0")
    out = write_section_svg(sec, tmp_path / "die.svg", window=None).path
    shapes, meta = _svg_polygons(out)
    assert [p["name"] for p in meta["panels"]] == ["main"]
    die = _to_model(shapes["pkg/die1/die"], meta["panels"][0]["matrix"])
    assert die.bounds == pytest.approx((-3500, 125, 3500, 325), abs=0.01)
    text = out.read_text()
    assert "body 600 µm" in text and "die1 200 µm" in text and "vertical ×" in text


def test_png_is_written_atomically_and_nothing_prints(
    wired: Model, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sec = section(wired, "z=300")
    result = write_section_png(sec, tmp_path / "plan.png", dpi=60)
    assert result.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (result.exaggeration, result.window) == (1.0, None)  # a plan view is drawn to scale, in one panel
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.png"]
    assert capsys.readouterr() == ("", "")


def test_window_and_exaggeration_choices(wired: Model) -> None:
    sec: Section = section(wired, "y=-200")
    assert choose_exaggeration(sec) == 5.0  # 12 mm x 0.6 mm drawn a quarter as tall as wide
    window = auto_window(sec)
    assert window is not None
    die_edge = 3500.0
    assert window[0] < die_edge < window[1] and window[1] - window[0] < 0.5 * 12000
    with pytest.raises(ValueError, match="window"):
        write_section_svg(sec, "/nonexistent/never.svg", window=(10.0, 10.0))
    with pytest.raises(ValueError, match="exaggeration"):
        write_section_svg(sec, "/nonexistent/never.svg", exaggeration=0.5)
