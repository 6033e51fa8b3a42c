"""The ``moldstack`` command line, run in-process with Typer's runner and, for exit codes, as a real process.

Also the atomic writing every command's files go through (``moldstack.output``) and the templates ``new``
copies (``moldstack.templates``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import moldstack
from moldstack import output, templates
from moldstack.cli import Template, app

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "examples" / "claim3_pad_protrusion.yaml"
runner = CliRunner()


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def run_process(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moldstack", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
    )


# --- global behaviour ---------------------------------------------------------------------------------


def test_version() -> None:
    code, stdout, _ = run_cli("--version")
    assert code == 0
    assert stdout.strip() == f"moldstack {moldstack.__version__}"


def test_no_arguments_shows_the_commands() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code in (0, 2)
    for command in ("new", "validate", "schema", "claims", "build"):
        assert command in result.output


def test_bad_option_is_exit_2() -> None:
    code, _, stderr = run_cli("validate", SPEC, "--no-such-option")
    assert code == 2
    assert "--no-such-option" in stderr


def test_build_needs_an_output_folder() -> None:
    code, _, stderr = run_cli("build", SPEC)
    assert code == 2
    assert "--out" in stderr


def test_unexpected_error_is_exit_70_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(moldstack, "load", broken)
    code, stdout, stderr = run_cli("validate", SPEC)
    assert code == 70
    assert stdout == ""
    assert "internal error (RuntimeError: boom)" in stderr
    assert "--debug" in stderr
    assert "Traceback" not in stderr


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(moldstack, "load", broken)
    code, _, stderr = run_cli("--debug", "validate", SPEC)
    assert code == 70
    assert "Traceback" in stderr
    assert "RuntimeError: boom" in stderr


def test_real_process_exit_codes_and_no_traceback(tmp_path: Path) -> None:
    ok = run_process("validate", SPEC)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "ok"
    missing = tmp_path / "missing.yaml"
    bad = run_process("validate", missing)
    assert bad.returncode == 2
    assert f"{missing}: no such file" in bad.stderr
    assert "Traceback" not in bad.stderr
    debug = run_process("--debug", "validate", missing)
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr


# --- validate -----------------------------------------------------------------------------------------


def test_validate_ok_on_an_example() -> None:
    code, stdout, stderr = run_cli("validate", SPEC)
    assert (code, stdout, stderr) == (0, "ok\n", "")


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    text = SPEC.read_text()
    text = text.replace("pitch_um: 400", "pitch_um: -400", 1).replace(
        "loop_height_um: 150", "loop_heigth_um: 150"
    )
    spec = tmp_path / "broken.yaml"
    spec.write_text(text)
    code, stdout, stderr = run_cli("validate", spec)
    assert code == 2
    assert stdout == ""
    lines = stderr.splitlines()
    assert lines[0] == f"{spec}: 2 problems"
    assert any(line.startswith("assemblies[0].units[0].pitch_um (line ") for line in lines[1:])
    assert any("did you mean 'loop_height_um'?" in line for line in lines[1:])
    assert len(lines) == 3


# --- schema -------------------------------------------------------------------------------------------


def test_schema_is_json_with_the_spec_keys() -> None:
    code, stdout, _ = run_cli("schema")
    assert code == 0
    schema = json.loads(stdout)
    assert "assemblies" in schema["properties"]
    assert schema["$schema"].startswith("https://json-schema.org/")


# --- new ----------------------------------------------------------------------------------------------


def test_every_template_has_an_example() -> None:
    assert {t.value for t in Template} == set(templates.TEMPLATES)
    for name in templates.TEMPLATES:
        assert templates.template_path(name).is_file()


@pytest.mark.parametrize("template", [t.value for t in Template])
def test_new_writes_a_spec_that_validates(tmp_path: Path, template: str) -> None:
    spec = tmp_path / "design.yaml"
    code, stdout, _ = run_cli("new", spec, "--template", template)
    assert code == 0
    assert str(spec) in stdout
    text = spec.read_text()
    assert text.startswith("#"), "a starter spec is commented"
    assert text.endswith(templates.template_text(template))
    assert run_cli("validate", spec)[:2] == (0, "ok\n")


def test_new_defaults_to_the_claim1_template(tmp_path: Path) -> None:
    spec = tmp_path / "sub" / "design.yaml"
    assert run_cli("new", spec)[0] == 0
    assert spec.read_text().endswith(templates.template_text("claim1"))


def test_new_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    spec = tmp_path / "design.yaml"
    spec.write_text("mine\n")
    code, stdout, stderr = run_cli("new", spec)
    assert code == 2
    assert stdout == ""
    assert f"{spec}: already exists; pass --force" in stderr
    assert spec.read_text() == "mine\n"
    assert run_cli("new", spec, "--force")[0] == 0
    assert spec.read_text().endswith(templates.template_text("claim1"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.yaml"], "no temporary file is left"


def test_new_refuses_a_folder_and_unknown_templates(tmp_path: Path) -> None:
    code, _, stderr = run_cli("new", tmp_path)
    assert code == 2
    assert f"{tmp_path}: is a folder" in stderr
    code, _, stderr = run_cli("new", tmp_path / "x.yaml", "--template", "nonsense")
    assert code == 2
    assert "nonsense" in stderr
    assert not (tmp_path / "x.yaml").exists()


def test_a_missing_example_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(templates, "examples_dirs", lambda: [tmp_path / "nowhere"])
    code, _, stderr = run_cli("new", tmp_path / "x.yaml", "--template", "pop")
    assert code == 2
    assert "pop_on_substrate.yaml" in stderr
    assert not (tmp_path / "x.yaml").exists()


# --- claims and build ---------------------------------------------------------------------------------


def test_claims_json_is_one_json_document() -> None:
    code, stdout, _ = run_cli("claims", SPEC, "--json")
    assert code == 0
    chart = json.loads(stdout)
    claims = chart["claims"]
    assert {"1", "2", "3", "4"} <= set(claims)
    for number in ("1", "2", "3", "4"):
        assert claims[number]["holds"] is True
        assert isinstance(claims[number]["elements"], list)
    assert claims["10"]["holds"] is False


def test_claims_table_says_which_claims_hold() -> None:
    code, stdout, _ = run_cli("claims", SPEC)
    assert code == 0
    assert "Claim chart" in stdout
    assert "yes" in stdout
    assert "no" in stdout
    last = stdout.strip().splitlines()[-1]
    assert last.startswith(f"{SPEC}: claims that hold: 1, 2, 3, 4")


def test_build_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "out" / "demo"
    code, stdout, _ = run_cli("build", SPEC, "-o", out, "--skip", "electrical")  # in test_electrical.py
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".moldstack",
        "claims.json",
        "drc.json",
        "drc.svg",
        "footprint.kicad_mod",
        "footprint_top.kicad_mod",
        "layers.gds",
        "layers.txt",
        "lvs.json",
        "lvs.txt",
        "model.glb",
        "model.json",
        "model.png",
        "model.step",
        "report.html",
        "results.json",
        "sections",
        "stack.json",
        "thermal.json",
        "thermal.vtr",
        "thermal_die_plane.png",
        "thermal_section.png",
        "warpage.json",
        "warpage.png",
    ]
    thermal = json.loads((out / "thermal.json").read_text())
    assert set(thermal["resistances_k_per_w"]) == {"theta_ja_k_per_w", "theta_jc_k_per_w", "theta_jb_k_per_w"}
    assert set(thermal["environments"]) == {"jesd51-9", "cold-plate-top", "ring-cold-plate"}
    assert thermal["resistances_k_per_w"]["theta_jc_k_per_w"] < thermal["theta_ja_k_per_w"]
    assert thermal["energy_balance_error"] < 1e-6
    assert "thermal: Tj max" in stdout and "theta-JA" in stdout
    sections = sorted(p.name for p in (out / "sections").iterdir())
    assert sections == ["die_and_units_y-200.svg", "die_centre_y0.svg", "units_row_y4275.svg"]
    model = json.loads((out / "model.json").read_text())
    claims = json.loads((out / "claims.json").read_text())
    assert model["name"] == "claim3-pad-protrusion"
    assert model["solid_count"] == len(model["solids"]) > 0
    assert claims["claims"]["3"]["holds"] is True
    assert f"{model['solid_count']} solids" in stdout
    assert "80 conductive units" in stdout
    assert "claims that hold: 1, 2, 3, 4" in stdout
    assert "checks: DRC clean, LVS CORRECT" in stdout and "stack not stacked" in stdout
    assert "warpage over the diagonal, 25-260-25 C: pkg -48..+49 um" in stdout
    assert json.loads((out / "stack.json").read_text())["verdict"] == "not stacked"
    assert stdout.strip().splitlines()[-1] == f"open {out / 'report.html'}"


def test_build_skips_outputs_by_name(tmp_path: Path) -> None:
    code, _, stderr = run_cli(
        "build", SPEC, "-o", tmp_path, "--skip", "thermal", "--skip", "step", "--skip", "electrical"
    )
    assert code == 0, stderr
    names = {p.name for p in tmp_path.iterdir()}
    assert "thermal.json" not in names and "model.step" not in names and "model.glb" in names
    code, _, stderr = run_cli("build", SPEC, "-o", tmp_path, "--skip", "warp")
    assert code == 2
    assert "--skip warp: not a stage; stages are electrical, thermal, step" in stderr


def test_build_refuses_a_file_as_output_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("keep")
    code, _, stderr = run_cli("build", SPEC, "-o", target)
    assert code == 2
    assert f"{target}: is a file" in stderr
    assert target.read_text() == "keep"


# --- atomic output ------------------------------------------------------------------------------------


def test_write_text_replaces_whole_files_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    output.write_text(path, "first")
    path.chmod(0o640)
    output.write_text(path, "second")
    assert path.read_text() == "second"
    assert path.stat().st_mode & 0o777 == 0o640, "an existing file keeps its permissions"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_an_interrupted_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.json"
    output.write_json(path, {"version": 1})

    def power_cut(_fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "fsync", power_cut)
    with pytest.raises(KeyboardInterrupt):
        output.write_json(path, {"version": 2})
    assert json.loads(path.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_write_without_overwrite_never_clobbers(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    output.write_text(path, "one", overwrite=False)
    with pytest.raises(FileExistsError):
        output.write_text(path, "two", overwrite=False)
    assert path.read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["spec.yaml"]


def test_json_keeps_key_order_and_handles_numpy(tmp_path: Path) -> None:
    value = {
        "b": np.float32(1.5),
        "a": np.arange(3),
        "n": np.int64(7),
        "flag": np.bool_(True),
        "nan": float("nan"),
        "inf": np.inf,
        "t": (1, 2),
        "p": Path("x/y"),
    }
    path = output.write_json(tmp_path / "v.json", value)
    text = path.read_text()
    assert text.startswith('{\n  "b": 1.5,\n  "a": [\n')
    assert json.loads(text) == {
        "b": 1.5,
        "a": [0, 1, 2],
        "n": 7,
        "flag": True,
        "nan": None,
        "inf": None,
        "t": [1, 2],
        "p": "x/y",
    }
    with pytest.raises(TypeError, match="object"):
        output.json_text({"x": object()})


# --- the README shows what the code does --------------------------------------------------------------

README = REPO / "README.md"


def _readme_block(opening: str) -> str:
    return README.read_text().split(opening, 1)[1].split("```", 1)[0]


def test_readme_opens_with_make_demo_and_make_test() -> None:
    lines = README.read_text().splitlines()
    assert lines[0] == "# moldstack"
    opening = "\n".join(lines[1:6])
    assert opening.index("make demo") < opening.index("make test")


def test_readme_example_spec_builds() -> None:
    design = moldstack.loads(_readme_block("```yaml\n"), "README.md")
    assert len(moldstack.build(design).solids) > 0


def test_readme_error_example_is_what_validate_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO / "examples" / "claim1_posts.yaml").read_text()
    broken = text.replace("diameter_um: 250", "diameter_um: 450").replace(
        "material: emc\n", "material: emc_x\n"
    )
    (tmp_path / "broken.yaml").write_text(broken)
    monkeypatch.chdir(tmp_path)
    code, _, stderr = run_cli("validate", "broken.yaml")
    shown = _readme_block("$ moldstack validate broken.yaml\n")
    assert code == 2
    assert stderr == shown, "update the README's example of a broken spec"
