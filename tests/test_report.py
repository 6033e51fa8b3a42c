"""The build report (``report.html``), its static render and the 3D viewer installer, without a browser.

The page is made from a real build folder (``claim21_build`` in conftest: the claim-21 example, with its process
frames); hostile text, failed stages and missing outputs are fed in by hand. The installer is pointed at a local
"registry" (a ``file://`` folder) holding a tarball of the right name.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import shutil
import tarfile
import time
import urllib.error
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

import moldstack
from moldstack.build_status import StageStatus
from moldstack.report import viewer
from moldstack.report.page import SECTION_IDS, count, num, report_html, write_report
from moldstack.report.render import write_model_render
from tests.conftest import EXAMPLES, REPORT_NETS

HOSTILE = "</script><script>alert(1)</script>"
SPEC_NAME = "examples/claim21_plated_via.yaml"


@pytest.fixture(autouse=True)
def _no_installed_viewer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages here do not depend on whether this machine has the viewer installed (an empty path: none)."""
    monkeypatch.setenv(viewer.ASSET_ENV, "")


@pytest.fixture(scope="module")
def spec_text() -> str:
    return (EXAMPLES / "claim21_plated_via.yaml").read_text()


def section(page: str, section_id: str) -> str:
    """The HTML of one ``<section id=...>`` of the page."""
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', page, flags=re.S)
    assert match, f"no section {section_id}"
    return match.group(1)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each script."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def test_every_section_is_there_with_a_heading_and_a_nav_link(
    claim21_build: tuple[Path, list[StageStatus]], spec_text: str
) -> None:
    out, stages = claim21_build
    path = write_report(out, stages, spec_text=spec_text, spec_name=SPEC_NAME)
    assert path == out / "report.html"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    page = path.read_text(encoding="utf-8")
    for sid in SECTION_IDS:
        assert f'href="#{sid}"' in page
        assert re.search(r"<h2>.*?</h2>", section(page, sid)), sid
    summary = section(page, "summary")
    assert "claim21-plated-via" in page
    for claim in ("1", "2", "21", "22", "23"):  # the method claims hold on this example
        assert re.search(rf"\b{claim}\b", summary)
    assert "CORRECT" in summary and "not stacked" in summary and "pass" in summary
    assert "θ<sub>JA</sub>" in summary and "°C" in summary
    # the process frames and their step slider, one figure per step
    process = section(page, "process")
    assert 'type="range"' in process and 'class="prev"' in process and 'class="next"' in process
    frames = sorted((out / "process" / "frames").glob("*.svg"))
    assert process.count('<figure class="frame"') == len(frames) >= 10
    assert "provide a sacrificial layer" in process and "deposit metal in the apertures" in process
    # checks: a row per DRC rule with its limit, LVS counts, the stack verdict
    checks = section(page, "checks")
    drc = json.loads((out / "drc.json").read_text())
    for rule in drc["rules"]:
        assert rule in checks
    assert "matched nets" in checks and "stack.json" in checks
    # electrical: the two nets, their loop and the SPICE link
    electrical = section(page, "electrical")
    assert all(n in electrical for n in REPORT_NETS)
    assert "Loop inductance" in electrical and 'href="interconnect.sp"' in electrical
    # the skipped STEP stage says so; every file is linked relatively
    summary = section(page, "summary")
    assert re.search(r">step<.*?skipped", summary, re.S)
    files = section(page, "files")
    for name in (
        "claims.json",
        "model.glb",
        "thermal.vtr",
        "process/traveler.html",
        "sections/die_centre_y0.svg",
    ):
        assert f'href="{name}"' in files
    assert section(page, "inputs").count("plated_via") >= 1


def test_the_page_is_self_contained(claim21_build: tuple[Path, list[StageStatus]], spec_text: str) -> None:
    out, stages = claim21_build
    page = report_html(out, stages, spec_text=spec_text, spec_name=SPEC_NAME)
    tags = parse(page).tags
    for tag, attrs in tags:
        assert not (tag == "script" and attrs.get("src")), "no external scripts"
        assert not (tag == "link" and attrs.get("rel") == "stylesheet"), "no external style sheets"
        for key in ("src", "href", "poster"):
            value = attrs.get(key) or ""
            assert not re.match(r"(https?:)?//", value), f"{tag} {key}={value[:60]} reaches the network"
    images = [a["src"] for t, a in tags if t == "img"]
    assert images and all(str(src).startswith("data:image/") for src in images)
    assert "thermal.vtr" in page and "data:application/octet-stream" not in page  # linked, not inlined
    assert len(page) < 20_000_000


def test_hostile_text_is_escaped(claim21_build: tuple[Path, list[StageStatus]], tmp_path: Path) -> None:
    out, stages = claim21_build
    for name in ("claims.json", "model.json", "lvs.json"):
        shutil.copy(out / name, tmp_path / name)
    data = json.loads((out / "electrical.json").read_text())
    data["nets"][0]["name"] = HOSTILE
    (tmp_path / "electrical.json").write_text(json.dumps(data))
    spec = f"name: demo\n# {HOSTILE}\nassemblies:\n  - name: pkg\n    nets: {{die1.C1: '{HOSTILE}'}}\n"
    failed = StageStatus("thermal", "thermal", "failed", 1.0, error=f"boom {HOSTILE}")
    page = report_html(tmp_path, [*stages, failed], spec_text=spec, spec_name=f"{HOSTILE}.yaml")
    assert "<script>alert(1)" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    tags = parse(page)
    assert all("alert(1)" not in script for script in tags.scripts)
    assert HOSTILE in html.unescape(section(page, "electrical"))  # the net is shown, as text
    assert HOSTILE in html.unescape(section(page, "inputs"))


def test_a_failed_stage_says_why_in_its_section(
    claim21_build: tuple[Path, list[StageStatus]], spec_text: str
) -> None:
    out, stages = claim21_build
    reason = "thermal: the solver did not converge (tried pyamg RS, SA and the geometric hierarchy)"
    replaced = {
        "thermal": StageStatus("thermal", "thermal", "failed", 3.0, error=reason),
        "footprint": StageStatus(
            "footprint", "KiCad footprints", "not applicable", 0.0, error="no units on the bottom face"
        ),
    }
    changed = [replaced.get(s.name, s) for s in stages]
    page = report_html(out, changed, spec_text=spec_text, spec_name=SPEC_NAME)
    thermal = section(page, "thermal")
    assert "failed" in thermal and html.escape(reason) in thermal
    assert "thermal_die_plane" not in thermal  # no figures from a failed stage
    assert html.escape(reason) in section(page, "summary")
    footprints = section(page, "footprints")
    assert "not applicable" in footprints and "no units on the bottom face" in footprints


def test_a_design_the_method_does_not_make_says_why(tmp_path: Path) -> None:
    """The pop example: no process frames; the process section gives the stage's reason and the claim chart's."""
    design = moldstack.load(EXAMPLES / "pop_on_substrate.yaml")
    (tmp_path / "claims.json").write_text(json.dumps(moldstack.claims(design).to_dict()))
    why = "the claimed method does not make this design: assemblies[0].body.base: is missing"
    stages = [StageStatus("process", "virtual fabrication", "not applicable", 0.0, error=why)]
    page = report_html(tmp_path, stages, spec_text="name: pop", spec_name="pop.yaml")
    process = section(page, "process")
    assert "not applicable" in process and why in process
    assert "the method builds the body on a dielectric base" in process  # claims.json's note
    assert 'type="range"' not in process


def test_missing_outputs_leave_notices_not_errors(tmp_path: Path) -> None:
    page = report_html(tmp_path, [], spec_text="", spec_name="empty.yaml")
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in page
    assert "did not write claims.json" in section(page, "claims")
    assert "did not write thermal.json" in section(page, "thermal")
    (tmp_path / "drc.json").write_text("{not json")
    page = report_html(tmp_path, [], spec_text="", spec_name="empty.yaml")
    assert "drc.json could not be read" in section(page, "summary")


def test_without_the_viewer_the_static_render_and_the_hint_show(
    claim21_build: tuple[Path, list[StageStatus]], spec_text: str
) -> None:
    out, stages = claim21_build
    page = report_html(out, stages, spec_text=spec_text, spec_name=SPEC_NAME)
    view = section(page, "view3d")
    assert "make viewer" in view and "python -m moldstack.report.viewer install" in view
    assert "<model-viewer" not in page and 'id="model-glb"' not in page
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', view)
    version = dict(re.findall(r"<tr><th>(.*?)</th><td[^>]*>(.*?)</td></tr>", section(page, "versions")))
    assert version["@google/model-viewer (3D viewer)"] == "not installed"
    for name in ("python", "moldstack", "numpy", "scipy", "build123d", "klayout", "trimesh"):
        assert version[name] and version[name] != "—", name


def test_with_a_viewer_the_glb_is_embedded_whole_and_the_script_inlined_safely(
    claim21_build: tuple[Path, list[StageStatus]], spec_text: str, tmp_path: Path
) -> None:
    out, stages = claim21_build
    script = tmp_path / "viewer.js"
    script.write_text('window.x = "</script><!-- <script>"; customElements.define("model-viewer", class {});')
    page = report_html(out, stages, spec_text=spec_text, spec_name=SPEC_NAME, viewer=script)
    tags = parse(page)
    # the viewer is one whole script: nothing in it closed the element early or opened a comment state
    assert len(tags.scripts) == page.count("</script>")
    assert any(
        s.startswith("\nwindow.x") and 'customElements.define("model-viewer"' in s for s in tags.scripts
    )
    assert r"<\/script>" in page and r"<\!--" in page
    [(attrs)] = [a for t, a in tags.tags if t == "model-viewer"]
    assert "camera-controls" in attrs and attrs.get("camera-orbit")
    embedded = re.search(r'<script type="application/octet-stream" id="model-glb">([^<]*)</script>', page)
    assert embedded
    assert base64.b64decode(embedded.group(1)) == (out / "model.glb").read_bytes()


def test_number_formatting() -> None:
    assert num(142.2634) == "142"
    assert num(0.0599, 3) == "0.0599"
    assert num(-73.64) == "−73.6"
    assert num(2.142e6) == "2.14e6"
    assert num(None) == "—" and num(float("nan")) == "—" and num(True) == "—"
    assert count(10852812) == "10,852,812" and count(None) == "—"


def test_static_render_is_a_picture_of_the_model(claim21_build: tuple[Path, list[StageStatus]]) -> None:
    out, _ = claim21_build
    image = imread(out / "model.png")
    assert image.shape[0] >= 600 and image.shape[1] >= 900
    colours = np.unique((image[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 500  # shaded dies, units, wires, translucent mold: not a flat image


def test_static_render_of_the_stack_is_quick(tmp_path: Path) -> None:
    model = moldstack.build(moldstack.load(EXAMPLES / "pop_on_substrate.yaml"))
    start = time.perf_counter()
    path = write_model_render(model, tmp_path / "pop.png")
    seconds = time.perf_counter() - start
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert seconds < 6.0, f"{seconds:.1f} s for {len(model.solids)} solids"


# --- the viewer installer -----------------------------------------------------------------------------------


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _registry(root: Path, data: bytes) -> str:
    """A local registry folder serving ``data`` as the pinned release's tarball; its ``file://`` URL."""
    path = Path(viewer.tarball_url(str(root)).removeprefix(str(root)).lstrip("/"))
    (root / path).parent.mkdir(parents=True)
    (root / path).write_bytes(data)
    return root.as_uri()


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


PACKAGE_FILES = {
    "package/dist/model-viewer-umd.min.js": b"/* viewer */",
    "package/dist/model-viewer.min.js": b"/* module build: not wanted */",
    "package/LICENSE": b"Apache License 2.0",
    "package/package.json": b"{}",
}


def test_the_installer_refuses_a_tampered_tarball(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(viewer.REGISTRY_ENV, _registry(tmp_path / "registry", _tarball(PACKAGE_FILES)))
    with pytest.raises(viewer.ViewerInstallError, match="integrity check failed"):
        viewer.install(tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_the_installer_keeps_only_the_script_and_licence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _tarball(PACKAGE_FILES)
    monkeypatch.setenv(viewer.REGISTRY_ENV, _registry(tmp_path / "registry", data))
    monkeypatch.setattr(viewer, "INTEGRITY", _sri(data))
    path = viewer.install(tmp_path / "dest")
    assert path == tmp_path / "dest" / "model-viewer-umd.min.js"
    assert path.read_bytes() == b"/* viewer */"
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["LICENSE", "VERSION", path.name]
    monkeypatch.setenv(viewer.ASSET_ENV, str(path))
    assert viewer.asset_path() == path and viewer.installed_version() == viewer.VERSION


def test_the_installer_says_why_a_download_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*_args: Any, **_kwargs: Any) -> Any:
        raise urllib.error.URLError("no network here")

    monkeypatch.setattr(viewer.urllib.request, "urlopen", offline)
    with pytest.raises(viewer.ViewerInstallError, match=r"download of .* failed: no network here"):
        viewer.install(tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_the_install_command_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(viewer.REGISTRY_ENV, _registry(tmp_path / "registry", b"not the release"))
    monkeypatch.setattr(viewer, "install_dir", lambda: tmp_path / "installed")
    assert viewer.main(["install"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "integrity check failed" in err[0]
    assert not (tmp_path / "installed").exists()


def test_the_pinned_integrity_is_an_npm_sha512() -> None:
    assert viewer.VERSION == "4.4.0"
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", viewer.INTEGRITY)
    viewer.verify_integrity(b"abc", _sri(b"abc"))
    with pytest.raises(viewer.ViewerInstallError):
        viewer.verify_integrity(b"abd", _sri(b"abc"))
    assert viewer.tarball_url("https://r.example/").endswith("/@google/model-viewer/-/model-viewer-4.4.0.tgz")
