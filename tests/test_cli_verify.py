"""``moldstack check`` and ``moldstack warpage``: verdicts, exit codes, JSON and the files they write."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

import moldstack
from moldstack.cli import app
from tests.conftest import EXAMPLES, example_data

runner = CliRunner()
POP = EXAMPLES / "pop_on_substrate.yaml"


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_check_passes_the_bundled_stack_and_writes_its_files(tmp_path: Path) -> None:
    code, stdout, stderr = run_cli("check", POP, "-o", tmp_path)
    assert code == 0, stdout + stderr
    assert "passes its checks" in stdout
    assert "DRC: clean" in stdout and "LVS: CORRECT" in stdout and "stack: compatible" in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "drc.json",
        "drc.svg",
        "lvs.json",
        "lvs.txt",
        "stack.json",
    ]
    stack = json.loads((tmp_path / "stack.json").read_text())
    assert stack["verdict"] == "compatible"
    assert [i["upper"] for i in stack["interfaces"]] == ["logic", "memory"]
    assert "status: CORRECT" in (tmp_path / "lvs.txt").read_text()
    assert (tmp_path / "drc.svg").read_text().lstrip().startswith(("<?xml", "<svg"))


def test_check_fails_a_shifted_stack_with_exit_1(tmp_path: Path) -> None:
    data = copy.deepcopy(example_data("pop_on_substrate.yaml"))
    data["stack"]["levels"][1]["offset_um"] = [200, 0]
    spec = tmp_path / "shifted.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    code, stdout, _ = run_cli("check", spec)
    assert code == 1
    assert "stack: incompatible" in stdout
    assert "0.50 of the 400 um pitch" in stdout
    code, stdout, _ = run_cli("check", spec, "--json")
    assert code == 1
    data = json.loads(stdout)
    assert data["passed"] is False
    assert data["summary"]["stack"] == "incompatible"


def test_check_with_a_deck_override(tmp_path: Path) -> None:
    deck = tmp_path / "rules.yaml"
    deck.write_text("rules:\n  unit_spacing:\n    limit: 200\n")
    code, stdout, _ = run_cli("check", EXAMPLES / "claim1_posts.yaml", "--deck", deck, "--json")
    assert code == 1
    data = json.loads(stdout)
    assert {v["rule"] for v in data["drc"]["violations"]} == {"unit_spacing"}


def test_check_refuses_a_bad_deck_with_exit_2(tmp_path: Path) -> None:
    deck = tmp_path / "rules.yaml"
    deck.write_text("rules:\n  unit_spaceing:\n    limit: 50\n")
    code, _, stderr = run_cli("check", EXAMPLES / "claim1_posts.yaml", "--deck", deck)
    assert code == 2
    assert "unit_spaceing" in stderr and "unit_spacing" in stderr
    assert "Traceback" not in stderr
    code, _, stderr = run_cli("check", EXAMPLES / "claim1_posts.yaml", "--deck", tmp_path / "missing.yaml")
    assert code == 2 and "no such file" in stderr


def test_warpage_prints_each_package_and_writes_the_plot(tmp_path: Path) -> None:
    code, stdout, stderr = run_cli("warpage", POP, "-o", tmp_path)
    assert code == 0, stderr
    for name in ("logic", "memory", "substrate"):
        assert name in stdout
    assert "memory on logic" in stdout and "stack: compatible" in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warpage.json", "warpage.png"]
    data = json.loads((tmp_path / "warpage.json").read_text())
    logic = next(a for a in data["assemblies"] if a["name"] == "logic")
    assert logic["temperature_c"][0] == 25 and max(logic["temperature_c"]) == 260
    assert [i["upper"] for i in data["stack_interfaces"]] == ["logic", "memory"]
    assert (tmp_path / "warpage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_warpage_json_matches_the_library() -> None:
    code, stdout, _ = run_cli("warpage", EXAMPLES / "claim3_pad_protrusion.yaml", "--json", "--peak", "245")
    assert code == 0
    data = json.loads(stdout)
    direct = moldstack.warpage(EXAMPLES / "claim3_pad_protrusion.yaml").assemblies[0]
    assert max(data["assemblies"][0]["temperature_c"]) == 245
    assert data["assemblies"][0]["curvature_1_m"][0] == direct.curvature_1_m[0]
    assert data["stack"]["verdict"] == "not stacked"


def test_warpage_bad_options_exit_2() -> None:
    code, _, stderr = run_cli("warpage", POP, "--peak", "20")
    assert code == 2 and "peak_c: 20 C must be above start_c" in stderr
    code, _, stderr = run_cli("warpage", POP, "--profile", "wave")
    assert code == 2 and "--profile wave" in stderr
