"""``moldstack process``: the outputs it writes, its JSON, its exit codes, and ``claims`` with a flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import moldstack
from moldstack.cli import app
from moldstack.fab.flow_io import dump_flow, load_flow
from moldstack.fab.steps import GridSettings

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "examples" / "claim21_plated_via.yaml"
runner = CliRunner()


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def coarse_flow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated flow on the screening grid, written as a user would edit it."""
    flow = moldstack.flow(SPEC)
    flow = flow.model_copy(update={"grid": GridSettings(fine_um=25.0, coarse_um=200.0, z_cell_um=50.0)})
    path = tmp_path_factory.mktemp("flow") / "flow.yaml"
    path.write_text(dump_flow(flow))
    return path


def _edited(coarse_flow: Path, tmp_path: Path, edit) -> Path:
    flow = load_flow(coarse_flow)
    path = tmp_path / "edited.yaml"
    path.write_text(dump_flow(flow.model_copy(update={"steps": edit(list(flow.steps))})))
    return path


def test_process_writes_the_traveler_frames_flow_and_json(coarse_flow, tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("process", SPEC, "-o", out, "--flow", coarse_flow, "--json")
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert doc["agreement"] >= 0.999
    assert doc["comparison"]["interior_differences"] == 0
    assert {n: c["holds"] for n, c in doc["claims"].items()} == {"21": True, "22": True, "23": True}
    assert doc["violations"] == []
    assert [s["kind"] for s in doc["steps"]][-1] == "remove_sacrificial"
    for name in ("traveler.html", "traveler.md", "process.json", "flow.yaml"):
        assert (out / name).is_file(), name
    assert len(list((out / "frames").glob("*.svg"))) == 11
    assert len(list((out / "frames").glob("*.png"))) == 11
    assert load_flow(out / "flow.yaml") == load_flow(coarse_flow)
    saved = json.loads((out / "process.json").read_text())
    assert saved["agreement"] == doc["agreement"]
    assert len(saved["run"]["steps"]) == 11


def test_a_flow_that_skips_the_plating_fails_claim_21_with_the_reason(coarse_flow, tmp_path):
    flow = _edited(coarse_flow, tmp_path, lambda steps: [s for s in steps if s.step != "plate"])
    code, stdout, stderr = run_cli("process", SPEC, "-o", tmp_path / "out", "--flow", flow, "--json")
    assert code == 0, stderr
    doc = json.loads(stdout)
    claim = doc["claims"]["21"]
    assert not claim["holds"]
    failing = [e for e in claim["elements"] if not e["holds"]]
    assert [e["element"].split()[0] for e in failing] == ["depositing"]
    assert "no step deposits metal into the apertures" in failing[0]["reason"]
    assert not doc["claims"]["22"]["holds"]
    assert doc["agreement"] < 0.999
    code, stdout, _ = run_cli("claims", SPEC, "--flow", flow, "--json")
    assert code == 0
    assert not json.loads(stdout)["claims"]["21"]["holds"]


def test_a_broken_rule_exits_1_and_names_the_step_and_place(coarse_flow, tmp_path):
    def closer(steps):
        return [s.model_copy(update={"wire_clearance_um": 40.0}) if s.step == "drill" else s for s in steps]

    flow = _edited(coarse_flow, tmp_path, closer)
    code, stdout, stderr = run_cli("process", SPEC, "-o", tmp_path / "out", "--flow", flow)
    assert code == 1
    assert "step 9 (drill): aperture U" in stderr
    assert "closer than 40 um" in stderr
    assert " at (" in stderr
    assert "traveler.html" in stdout


def test_a_design_the_method_does_not_make_is_bad_input(tmp_path):
    code, _, stderr = run_cli("process", REPO / "examples" / "claim1_posts.yaml", "-o", tmp_path)
    assert code == 2
    assert "assemblies[0].body.base" in stderr
    assert "plated_via" in stderr
    assert "Traceback" not in stderr


def test_a_bad_flow_file_names_the_field_and_line(coarse_flow, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(coarse_flow.read_text().replace("taper_deg: 0.0", "taper_deg: 45.0"))
    code, _, stderr = run_cli("process", SPEC, "-o", tmp_path / "out", "--flow", bad)
    assert code == 2
    assert "steps[8].taper_deg" in stderr
    assert "45.0" in stderr
    assert "line" in stderr
    assert not (tmp_path / "out").exists()


def test_claims_include_the_method_when_the_design_is_made_by_it():
    code, stdout, _ = run_cli("claims", SPEC, "--json")
    assert code == 0
    claims = json.loads(stdout)["claims"]
    assert all(claims[n]["holds"] for n in ("21", "22", "23"))
    code, stdout, _ = run_cli("claims", REPO / "examples" / "claim1_posts.yaml", "--json")
    note = json.loads(stdout)["claims"]["21"]["note"]
    assert note.startswith("the claimed method does not make this design")


def test_a_grid_too_fine_is_bad_input_with_the_cell_count(coarse_flow, tmp_path):
    fine = tmp_path / "fine.yaml"
    text = (
        coarse_flow.read_text()
        .replace("fine_um: 25.0", "fine_um: 0.5")
        .replace("max_cells: 40000000", "max_cells: 2000000")
    )
    fine.write_text(text)
    code, _, stderr = run_cli("process", SPEC, "-o", tmp_path / "out", "--flow", fine)
    assert code == 2
    assert "more than the limit of 2,000,000" in stderr


def test_build_of_a_design_the_method_makes_writes_the_process_too(tmp_path):
    code, _, stderr = run_cli(
        "build",
        REPO / "examples" / "claim23_filled_vias.yaml",
        "-o",
        tmp_path,
        "--skip",
        "thermal",
        "--skip",
        "electrical",
        "--skip",
        "checks",
        "--skip",
        "warpage",
    )
    assert code == 0, stderr
    assert (tmp_path / "process" / "traveler.html").is_file()
    assert len(list((tmp_path / "process" / "frames").glob("*.svg"))) == 12
    chart = json.loads((tmp_path / "claims.json").read_text())
    assert all(chart["claims"][n]["holds"] for n in ("21", "22", "23"))
    saved = json.loads((tmp_path / "process" / "process.json").read_text())
    assert saved["agreement"] >= 0.999
