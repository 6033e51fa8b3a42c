"""The view commands: ``moldstack section`` and ``moldstack export``, their files and their refusals."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.test_cli import REPO, run_cli

POSTS = REPO / "examples" / "claim1_posts.yaml"
STACKED = REPO / "examples" / "claim14_stacked_die.yaml"


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_section_writes_the_figure(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"cut{suffix}"
    code, stdout, stderr = run_cli("section", STACKED, "--plane", "y=4675", "-o", out)
    assert code == 0, stderr
    assert f"wrote {out}" in stdout and "plane y=4675" in stdout
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data[:2000]


def test_section_svg_names_the_solids_it_cuts(tmp_path: Path) -> None:
    out = tmp_path / "cut.svg"
    code, _, stderr = run_cli("section", POSTS, "--plane", "x=0", "-o", out, "--detail", "none")
    assert code == 0, stderr
    ids = {el.get("id") for el in ET.parse(out).iter() if el.get("id")}
    assert "pkg/die1/die" in ids and "pkg/body/mold" in ids


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--plane", "q=1"), "is not AXIS=VALUE"),
        (("--plane", "y=99999"), "cuts no solid"),
        (("--plane", "x=0", "--detail", "9:1"), "smaller to a larger"),
        (("--plane", "x=0", "--detail", "abc"), "is not U0:U1"),
    ],
)
def test_section_refuses_bad_options(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    out = tmp_path / "cut.svg"
    code, stdout, stderr = run_cli("section", STACKED, *args, "-o", out)
    assert code == 2
    assert words in stderr and "Traceback" not in stderr
    assert not out.exists() and stdout == ""


def test_section_refuses_other_suffixes(tmp_path: Path) -> None:
    code, _, stderr = run_cli("section", STACKED, "--plane", "x=0", "-o", tmp_path / "cut.pdf")
    assert code == 2 and "as .svg or .png" in stderr


def test_export_gds_writes_its_layer_map(tmp_path: Path) -> None:
    out = tmp_path / "art" / "layers.gds"
    code, stdout, stderr = run_cli("export", POSTS, "-o", out)
    assert code == 0, stderr
    assert out.exists() and (out.parent / "layers.txt").exists()
    assert "layers.txt" in stdout


def test_export_svg_is_the_die_centre_section(tmp_path: Path) -> None:
    out = tmp_path / "overview.svg"
    code, _, stderr = run_cli("export", POSTS, "--format", "svg", "-o", out)
    assert code == 0, stderr
    assert "y = 0" in out.read_text() or "y=0" in out.read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("-o", "model.xyz"), "cannot tell the format from the suffix '.xyz'"),
        (("-o", "model.step", "--format", "dwg"), "format 'dwg' is not one of step, glb"),
    ],
)
def test_export_refuses_unknown_formats(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    fixed = [str(tmp_path / a) if a.startswith("model.") else a for a in args]
    code, _, stderr = run_cli("export", POSTS, *fixed)
    assert code == 2 and words in stderr
