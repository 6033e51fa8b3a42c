"""``moldstack build``: stages, the cache (what re-runs after which change), failures, atomicity, the CLI."""

from __future__ import annotations

import copy
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from moldstack import build_stages
from moldstack.build_cache import BuildRecord, file_digest
from moldstack.build_run import BuildOptions, BuildResult, run_build
from moldstack.build_stages import STAGE_NAMES, StageOutput
from moldstack.cli import app
from moldstack.output import staging, write_bytes
from tests.conftest import EXAMPLES, example_data

runner = CliRunner()
FAST_SKIP = (
    "electrical",
)  # the capacitance solve is the build's slow part; tests/test_electrical.py covers it

USER_EMC = {
    "description": "a mold compound of our own",
    "k_w_mk": 0.9,
    "cte_ppm_k": 10.0,
    "cte_above_tg_ppm_k": 36.0,
    "tg_c": 125.0,
    "youngs_gpa": 24.0,
    "youngs_above_tg_gpa": 1.0,
    "poisson": 0.3,
    "density_kg_m3": 1950.0,
    "eps_r": 3.8,
    "colour": "#303030",
    "source": "test data",
}


def _spec(tmp_path: Path, data: dict[str, Any], name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _claim1(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(example_data("claim1_posts.yaml"))
    data["materials"] = {"emc_own": copy.deepcopy(USER_EMC)}
    data["assemblies"][0]["body"]["material"] = "emc_own"
    if "power_w" in changes:
        data["assemblies"][0]["dies"][0]["power_w"] = changes["power_w"]
    if "cte" in changes:
        data["materials"]["emc_own"]["cte_ppm_k"] = changes["cte"]
    if "pitch" in changes:
        data["assemblies"][0]["units"][0]["pitch_um"] = changes["pitch"]
    return data


def _states(result: BuildResult) -> dict[str, str]:
    return {s.name: s.state for s in result.stages}


def _ran(result: BuildResult) -> set[str]:
    return {s.name for s in result.stages if s.state == "ran"}


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, BuildResult]:
    """claim-1 with a user mold compound, built once (without the capacitance) into a folder."""
    tmp = tmp_path_factory.mktemp("build")
    spec = _spec(tmp, _claim1())
    out = tmp / "out"
    result = run_build(spec, out, BuildOptions(skip=FAST_SKIP))
    return spec, out, result


def test_first_build_runs_every_stage_and_records_its_files(
    first_build: tuple[Path, Path, BuildResult],
) -> None:
    _, out, result = first_build
    states = _states(result)
    assert states["electrical"] == "skipped"
    assert states["process"] == "not applicable"  # claim 1 has no dielectric base: the method cannot make it
    assert "dielectric base" in (result.status("process").error or "")  # type: ignore[union-attr]
    done = {n for n, s in states.items() if s == "ran"}
    assert done == set(STAGE_NAMES) - {"electrical", "process"} | {"results", "report"}, result.failed
    record = BuildRecord.load(out)
    for status in result.stages:
        for rel in status.files:
            assert (out / rel).is_file(), rel
            assert record.stages[status.name].files[rel] == file_digest(out / rel)
    results = json.loads((out / "results.json").read_text())
    assert results["ok"] is True
    assert results["figures"]["thermal"]["tj_max_c"] > 25
    assert set(results["figures"]["claims"]["held"]) >= {"1", "2"}
    assert results["stages"]["electrical"]["state"] == "skipped"
    # nothing of the build's temporaries is left anywhere
    assert not list(out.rglob("*.tmp"))
    assert not (out.parent / f".{out.name}.moldstack-partial").exists()


def test_unchanged_rebuild_takes_every_stage_from_the_cache(
    first_build: tuple[Path, Path, BuildResult],
) -> None:
    spec, out, _ = first_build
    again = run_build(spec, out, BuildOptions(skip=FAST_SKIP))
    states = _states(again)
    assert _ran(again) == set(), states
    assert states["thermal"] == "cached" and states["report"] == "cached" and states["results"] == "cached"
    assert states["process"] == "not applicable"
    # figures come back from the record
    assert again.status("thermal").summary["tj_max_c"] > 25  # type: ignore[union-attr]


def test_a_change_reruns_only_what_depends_on_it(first_build: tuple[Path, Path, BuildResult]) -> None:
    spec, out, first = first_build
    tj = first.status("thermal").summary["tj_max_c"]  # type: ignore[union-attr]
    # the die's power: the thermal analysis (and the results and the report that gather it)
    _spec(spec.parent, _claim1(power_w=2.0), spec.name)
    power = run_build(spec, out, BuildOptions(skip=FAST_SKIP))
    assert _ran(power) == {"thermal", "results", "report"}
    assert power.status("thermal").summary["tj_max_c"] > tj  # type: ignore[union-attr]
    # the compound's CTE: warpage and the stack check (verification), not the geometry's exports nor thermal
    _spec(spec.parent, _claim1(power_w=2.0, cte=14.0), spec.name)
    cte = run_build(spec, out, BuildOptions(skip=FAST_SKIP))
    assert _ran(cte) == {"checks", "warpage", "results", "report"}
    # a rule deck: only the checks
    deck = spec.parent / "deck.yaml"
    deck.write_text("rules:\n  unit_spacing: {limit: 500}\n")
    checked = run_build(spec, out, BuildOptions(skip=FAST_SKIP, deck=deck))
    assert _ran(checked) == {"checks", "warpage", "results", "report"}
    assert checked.status("checks").summary["drc_violations"] > 0  # type: ignore[union-attr]
    # a file changed behind the build's back is made again
    (out / "layers.gds").write_bytes(b"not a gds file")
    mended = run_build(spec, out, BuildOptions(skip=FAST_SKIP, deck=deck))
    assert _ran(mended) == {"gds"}
    assert file_digest(out / "layers.gds") == BuildRecord.load(out).stages["gds"].files["layers.gds"]
    # --force runs everything again
    forced = run_build(spec, out, BuildOptions(skip=(*FAST_SKIP, "thermal"), deck=deck, force=True))
    assert "step" in _ran(forced) and "claims" in _ran(forced)


def test_a_failing_stage_is_reported_and_the_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_ctx: Any) -> StageOutput:
        raise RuntimeError("the section plane missed the model\nsecond line")

    stages = tuple(
        build_stages.Stage(s.name, s.description, s.facets, broken, s.group, s.cost)
        if s.name == "sections"
        else s
        for s in build_stages.STAGES
    )
    monkeypatch.setattr(build_stages, "STAGES", stages)
    monkeypatch.setattr("moldstack.build_run.STAGES", stages)
    spec = EXAMPLES / "claim1_posts.yaml"
    result = run_build(spec, tmp_path / "out", BuildOptions(skip=(*FAST_SKIP, "thermal", "step"), jobs=2))
    failed = result.status("sections")
    assert failed is not None and failed.state == "failed"
    assert failed.error == "RuntimeError: the section plane missed the model"
    assert "Traceback" in (tmp_path / "out" / ".moldstack" / "logs" / "sections.log").read_text()
    assert not result.ok
    assert result.status("gds").state == "ran"  # type: ignore[union-attr]
    assert result.status("report").state == "ran"  # type: ignore[union-attr]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["ok"] is False
    assert data["stages"]["sections"]["error"].startswith("RuntimeError")
    # a failed stage is not cached: the next build tries it again
    monkeypatch.undo()
    again = run_build(spec, tmp_path / "out", BuildOptions(skip=(*FAST_SKIP, "thermal", "step")))
    assert again.status("sections").state == "ran"  # type: ignore[union-attr]
    assert again.ok


def test_staging_keeps_temporaries_out_of_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    seen: list[Path] = []
    real_open = os.open

    def spy(path: Any, *args: Any, **kwargs: Any) -> int:
        seen.append(Path(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    with staging(out) as folder:
        assert folder is not None and folder.parent == out.parent
        write_bytes(out / "a.bin", b"x" * 100)
    temps = [p for p in seen if p.name.endswith(".tmp")]
    assert temps and all(p.parent == folder for p in temps)
    assert (out / "a.bin").read_bytes() == b"x" * 100
    assert not folder.exists()


def _whole(path: Path) -> None:
    """Fail unless ``path`` is a complete file of its kind."""
    data = path.read_bytes()
    suffix = path.suffix
    if suffix == ".json":
        json.loads(data)
    elif suffix in {".svg", ".vtr"}:
        ET.fromstring(data)
    elif suffix == ".html":
        assert data.rstrip().endswith(b"</html>")
    elif suffix == ".png":
        assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")
    elif suffix == ".step":
        assert data.rstrip().endswith(b"END-ISO-10303-21;")
    elif suffix == ".glb":
        assert data[:4] == b"glTF" and int.from_bytes(data[8:12], "little") == len(data)
    elif suffix == ".kicad_mod":
        assert data.count(b"(") == data.count(b")")
    else:
        assert data, path


def _files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file() and p.name != "lock"]


def test_a_killed_build_leaves_only_whole_files_and_the_next_one_finishes(tmp_path: Path) -> None:
    spec = _spec(tmp_path, _claim1())
    out = tmp_path / "out"
    command = [sys.executable, "-m", "moldstack", "build", str(spec), "-o", str(out), "--skip", "electrical"]
    kills = 0
    for wait_for in (2, 6):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            record = BuildRecord.load(out)
            if len(record.stages) >= wait_for:
                break
            time.sleep(0.05)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        time.sleep(0.3)  # the workers die with their parent
        for path in _files(out):
            assert not path.name.endswith(".tmp"), path
            _whole(path)
    assert kills >= 1, "the build finished before it could be killed"
    kept = {n for n, e in BuildRecord.load(out).stages.items() if e.status.state == "ran"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    final = BuildRecord.load(out)
    assert {n for n, e in final.stages.items() if e.status.state in ("ran", "not applicable")} >= set(
        STAGE_NAMES
    ) - {"electrical"}
    assert kept  # what finished before the kills was kept...
    assert "from cache" in done.stdout  # ...and reused
    for path in _files(out):
        _whole(path)


def test_build_cli_summary_json_and_exit_codes(tmp_path: Path) -> None:
    spec = EXAMPLES / "claim1_posts.yaml"
    out = tmp_path / "out"
    skips = ["--skip", "electrical", "--skip", "thermal", "--skip", "step"]
    result = runner.invoke(app, ["build", str(spec), "-o", str(out), *skips])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "claims that hold: 1, 2" in result.stdout
    assert "checks: DRC clean, LVS CORRECT" in result.stdout
    assert f"open {out / 'report.html'}" in result.stdout
    result = runner.invoke(app, ["build", str(spec), "-o", str(out), *skips, "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert {s["name"]: s["state"] for s in data["stages"]}["sections"] == "cached"
    # bad input: exit 2 with the reason
    result = runner.invoke(app, ["build", str(spec), "-o", str(out), "--skip", "nonsense"])
    assert result.exit_code == 2
    assert "--skip nonsense: not a stage" in result.stderr
    (tmp_path / "file").write_text("x")
    result = runner.invoke(app, ["build", str(spec), "-o", str(tmp_path / "file")])
    assert result.exit_code == 2
    assert "is a file" in result.stderr
    bad = _spec(tmp_path, example_data("claim1_posts.yaml") | {"moldstack": 99}, "bad.yaml")
    result = runner.invoke(app, ["build", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert "moldstack" in result.stderr


def test_a_second_build_into_the_same_folder_is_refused_while_one_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / ".moldstack").mkdir(parents=True)
    with (out / ".moldstack" / "lock").open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        result = runner.invoke(app, ["build", str(EXAMPLES / "claim1_posts.yaml"), "-o", str(out)])
    assert result.exit_code == 2
    assert "another moldstack build is writing into this folder" in result.stderr
