"""Process outputs: grid slices as sections, the per-step frames, and the traveler (Markdown and HTML)."""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

import moldstack
from moldstack.exporters.process_frames import FrameFile, slice_section, write_frames
from moldstack.exporters.traveler import (
    step_summary,
    traveler_html,
    traveler_markdown,
    violation_text,
    write_traveler,
)
from moldstack.fab.generate import flow_for
from moldstack.fab.record import ProcessRun, Slice
from moldstack.fab.runner import run
from moldstack.fab.steps import Flow
from moldstack.geometry.section import Plane
from moldstack.geometry.voxelize import Label
from tests.conftest import EXAMPLES

DC = "{http://purl.org/dc/elements/1.1/}"
CLEARANCE_UM = 5000.0


def _coarse_flow() -> Flow:
    flow = flow_for(moldstack.load(EXAMPLES / "claim21_plated_via.yaml"))
    grid = flow.grid.model_copy(update={"fine_um": 25, "coarse_um": 200, "z_cell_um": 50})
    return flow.model_copy(update={"grid": grid})


@pytest.fixture(scope="module")
def clean_run() -> ProcessRun:
    return run(_coarse_flow())


@pytest.fixture(scope="module")
def seeded_run() -> ProcessRun:
    """The same flow with a wire clearance no aperture can keep: the drill step breaks its rule."""
    flow = _coarse_flow()
    steps = list(flow.steps)
    i = next(i for i, s in enumerate(steps) if s.step == "drill")
    steps[i] = steps[i].model_copy(update={"wire_clearance_um": CLEARANCE_UM})
    return run(flow.model_copy(update={"steps": steps}))


@pytest.fixture(scope="module")
def written(clean_run: ProcessRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[FrameFile]]:
    out = tmp_path_factory.mktemp("process_outputs")
    frames = write_frames(clean_run, out / "frames", formats=("svg",))
    write_traveler(clean_run, out, frames)
    return out, frames


# --- slice_section ---------------------------------------------------------------------------------------


def _cell_areas(s: Slice) -> np.ndarray:
    return np.outer(np.diff(s.u_edges), np.diff(s.v_edges))


def test_slice_section_areas_match_the_cells(clean_run: ProcessRun) -> None:
    for record in clean_run.records:
        s = record.slices[0]
        sec = slice_section(s, record.title)
        cells = _cell_areas(s)
        present = {int(i) for i in np.unique(s.labels)} - {0}
        assert len(sec.pieces) == len(present)
        assert sum(p.area_um2 for p in sec.pieces) == pytest.approx(
            float(cells[s.labels != 0].sum()), rel=1e-9
        )
        by_id = {f"label:{s.table[i].role}:{s.table[i].material}": i for i in present}
        for piece in sec.pieces:
            label = by_id[piece.solid]
            assert (piece.role, piece.material, piece.part) == (
                s.table[label].role,
                s.table[label].material,
                s.table[label].role,
            )
            assert piece.area_um2 == pytest.approx(float(cells[s.labels == label].sum()), rel=1e-9)
            assert piece.area.is_valid
        assert sec.model == record.title
        assert sec.plane == s.plane
        # the pieces tile the non-ambient cells: no two overlap
        union = shapely.union_all([p.area for p in sec.pieces])
        assert union.area == pytest.approx(sum(p.area_um2 for p in sec.pieces), rel=1e-9)


def _tiny(labels: list[list[int]], u: list[float], v: list[float]) -> Slice:
    table = (Label("ambient", "air"), Label("body", "emc"), Label("die", "silicon"))
    return Slice(
        Plane("y", 0.0), np.array(u, float), np.array(v, float), np.array(labels, dtype=np.uint16), table
    )


def test_tiny_slice_gives_the_expected_polygons() -> None:
    # labels[i, k]: u cells [0,1] [1,3] [3,6], v cells [0,2] [2,5]
    s = _tiny([[1, 0], [1, 1], [2, 1]], [0, 1, 3, 6], [0, 2, 5])
    sec = slice_section(s, "tiny")
    assert [p.solid for p in sec.pieces] == ["label:body:emc", "label:die:silicon"]
    body, die = sec.pieces
    expected_body = shapely.union_all([shapely.box(0, 0, 3, 2), shapely.box(1, 2, 6, 5)])
    assert body.area.equals(expected_body)
    assert body.area_um2 == pytest.approx(21.0)
    assert isinstance(body.area, Polygon)
    assert len(body.area.exterior.coords) == 9  # a step: eight corners
    assert body.area.exterior.is_ccw
    assert die.area.equals(shapely.box(3, 0, 6, 2))
    assert (body.net, body.assembly, body.matrix, body.rank) == (None, None, False, 0)
    # an L whose left edge spans two rows: the vertex between the rows' rectangles is dropped
    ell = slice_section(_tiny([[1, 1], [1, 1], [2, 1]], [0, 1, 3, 6], [0, 2, 5]), "L").pieces[0].area
    assert ell.equals(shapely.union_all([shapely.box(0, 0, 3, 2), shapely.box(0, 2, 6, 5)]))
    assert len(ell.exterior.coords) == 7
    assert sec.dimensions[0].kind == "body_thickness"
    assert (sec.dimensions[0].start, sec.dimensions[0].end) == (0.0, 5.0)


def test_tiny_slice_keeps_holes_and_separate_parts() -> None:
    ring = [[1, 1, 1], [1, 2, 1], [1, 1, 1]]
    sec = slice_section(_tiny(ring, [0, 1, 2, 3], [0, 1, 2, 3]), "ring")
    body = sec.piece("label:body:emc").area
    assert isinstance(body, Polygon) and len(body.interiors) == 1
    assert not body.interiors[0].is_ccw  # holes clockwise: the figure's non-zero fill rule
    assert body.area == pytest.approx(8.0)
    apart = slice_section(_tiny([[1], [0], [1]], [0, 1, 2, 3], [0, 1]), "apart")
    assert isinstance(apart.pieces[0].area, MultiPolygon)
    assert apart.pieces[0].area_um2 == pytest.approx(2.0)
    empty = slice_section(_tiny([[0, 0]], [0, 1], [0, 1, 2]), "empty")
    assert empty.pieces == () and empty.dimensions == ()


# --- frames ----------------------------------------------------------------------------------------------


def _svg_meta(path: Path) -> dict[str, Any]:
    description = ET.parse(path).getroot().find(f".//{DC}description")
    assert description is not None and description.text
    return json.loads(description.text)["moldstack_section"]


def test_frames_one_svg_per_step_at_one_scale(
    clean_run: ProcessRun, written: tuple[Path, list[FrameFile]]
) -> None:
    _, frames = written
    assert [f.step for f in frames] == [r.index for r in clean_run.records]
    for frame, record in zip(frames, clean_run.records, strict=True):
        assert frame.path.name == f"{record.index:02d}_{record.kind}.svg"
        assert frame.path.is_file()
        assert frame.to_dict()["plane"] == str(clean_run.frames[0])
    metas = [_svg_meta(f.path) for f in frames]
    assert len({m["exaggeration"] for m in metas}) == 1
    assert metas[0]["exaggeration"] > 1
    panels = [{p["name"]: p for p in m["panels"]} for m in metas]
    assert all(set(p) == {"main", "detail"} for p in panels)
    for key in ("main", "detail"):  # the same scale and place at every step
        for p in panels[1:]:
            assert p[key]["matrix"] == pytest.approx(panels[0][key]["matrix"], rel=1e-9, abs=1e-9)
            assert p[key]["u_range_um"] == pytest.approx(panels[0][key]["u_range_um"], rel=1e-12)
    first = metas[0]["model"]
    assert first == f"{clean_run.flow.name} — step 1: {clean_run.records[0].title}"


def test_frames_png_and_plane_suffix(clean_run: ProcessRun, tmp_path: Path) -> None:
    last = clean_run.records[-1]
    second = dataclasses.replace(last.slices[0], plane=Plane("x", 0.0))
    two_planes = dataclasses.replace(last, slices=(last.slices[0], second))
    small = dataclasses.replace(clean_run, records=(two_planes,))
    frames = write_frames(small, tmp_path, formats=("png",))
    names = [f.path.name for f in frames]
    slug = clean_run.frames[0].slug
    assert names == [f"{last.index:02d}_{last.kind}_{slug}.png", f"{last.index:02d}_{last.kind}_x0.png"]
    assert all(f.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in frames)
    with pytest.raises(ValueError, match="formats"):
        write_frames(small, tmp_path, formats=("gif",))  # type: ignore[arg-type]


# --- traveler --------------------------------------------------------------------------------------------


def test_markdown_has_one_row_per_step(clean_run: ProcessRun, written: tuple[Path, list[FrameFile]]) -> None:
    out, _ = written
    md = (out / "traveler.md").read_text()
    assert md == traveler_markdown(clean_run)
    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert [int(r.split("|")[1]) for r in rows] == [r.index for r in clean_run.records]
    for row, record in zip(rows, clean_run.records, strict=True):
        assert record.title in row and f"`{record.kind}`" in row
        assert row.rstrip().endswith("| ok |")
    assert clean_run.flow.name in md and f"{clean_run.final.grid.cells:,} cells" in md
    assert "first sacrificial layer (aluminium) −12…0 µm" in rows[0]
    assert "None: every step" in md


def test_summaries_are_short(clean_run: ProcessRun) -> None:
    pads = clean_run.records_of("pad_array")[0]
    text = step_summary(pads)
    assert text.startswith("60 pads, Ø320 µm") and "15 µm thick" in text
    assert "U17" not in text and len(text) < 100
    assert "175 °C" in step_summary(clean_run.records_of("cure")[0])
    assert all(len(step_summary(r)) < 160 for r in clean_run.records)


class _Page(HTMLParser):
    """Collects attributes, text and nesting errors of an HTML page."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input", "source", "col", "area", "base", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    return parser


def test_html_is_self_contained_and_links_the_frames(
    clean_run: ProcessRun, written: tuple[Path, list[FrameFile]]
) -> None:
    out, frames = written
    page = _parse((out / "traveler.html").read_text())
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "style" in tags
    for _, attrs in page.tags:
        for value in attrs.values():
            assert not re.search(r"(?i)\b(?:https?:)?//", value or "")
    imgs = [a["src"] for t, a in page.tags if t == "img"]
    assert imgs == [f"frames/{f.path.name}" for f in frames]
    assert all((out / src).is_file() for src in imgs if src)
    text = "".join(page.text)
    for record in clean_run.records:
        assert record.title in text
    assert tags.count("tr") == len(clean_run.records) + 1  # the head row and one per step


def test_html_escapes_text(clean_run: ProcessRun) -> None:
    flow = clean_run.flow.model_copy(update={"name": "a<b>&c"})
    page = traveler_html(dataclasses.replace(clean_run, flow=flow))
    assert "<b>" not in page and "a&lt;b&gt;&amp;c" in page
    _parse(page)


def test_seeded_violation_shows_in_both(seeded_run: ProcessRun, tmp_path: Path) -> None:
    drill = seeded_run.records_of("drill")[0]
    assert drill.violations and {v.rule for v in drill.violations} == {"wire_clearance"}
    first = drill.violations[0]
    assert f"{CLEARANCE_UM:g} um" in str(first)
    paths = write_traveler(seeded_run, tmp_path)
    assert [p.name for p in paths] == ["traveler.md", "traveler.html"]
    md = paths[0].read_text()
    row = next(line for line in md.splitlines() if line.startswith(f"| {drill.index} |"))
    assert violation_text(first) in row and "| ok |" not in row
    assert f"and {len(drill.violations) - 3} more" in row
    for v in seeded_run.violations:
        assert f"- {v}" in md
    page = _parse(paths[1].read_text())
    text = "".join(page.text)
    assert violation_text(first) in text
    assert all(str(v) in text for v in seeded_run.violations)
    assert f"{len(drill.violations)} violations" in text
