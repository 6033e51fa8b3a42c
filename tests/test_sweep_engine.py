"""The sweep engine on Dask and its Parquet store: a real scheduler and two worker processes on loopback, one of
them killed mid-sweep; an interrupted sweep resumed; the store's parts, schema and refusals; the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from moldstack.cli import app
from moldstack.sweep.engine import SweepProgress, run_sweep
from moldstack.sweep.evaluate import EvalSettings
from moldstack.sweep.store import (
    IDENTITY_NAME,
    ResultStore,
    SweepStoreError,
    part_paths,
    read_identity,
    read_results,
)

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "claim1_posts.yaml"
BIN = Path(sys.executable).parent
THICKNESS = "assemblies[0].body.thickness_um"
POWER = "assemblies[0].dies[0].power_w"
CHEAP = EvalSettings(analyses=("warpage", "check"), coarse=True, capacitance=False)
"""Cheap but real analyses per variant."""
STATUSES = {"ok", "invalid", "failed"}
CTRL_C_ABLE = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from moldstack.cli import main; main()"
)
"""``moldstack`` with Ctrl-C turned on (a job started in the background inherits SIGINT ignored)."""


def _wait_for(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A real ``dask scheduler`` and two single-threaded ``dask worker`` processes (no nanny, so a SIGKILL ends
    the worker for good) on 127.0.0.1; yields the address and the worker processes."""
    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    env = os.environ | {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    log = (folder / "scheduler.log").open("w")
    scheduler = subprocess.Popen(
        [
            BIN / "dask",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--scheduler-file",
            file,
            "--no-dashboard",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    _wait_for(file.exists, 30, "the scheduler file")
    _wait_for(lambda: "address" in file.read_text(), 30, "the scheduler address")
    workers = [
        subprocess.Popen(
            [
                *(BIN / "dask", "worker", "--scheduler-file", file, "--nthreads", "1", "--no-dashboard"),
                *("--no-nanny", "--name", f"w{i}"),
            ],
            stdout=(folder / f"worker{i}.log").open("w"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        for i in range(2)
    ]
    address = json.loads(file.read_text())["address"]
    from distributed import Client  # noqa: PLC0415

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
    try:
        yield {"address": address, "workers": workers, "file": file}
    finally:
        for process in [*workers, scheduler]:
            if process.poll() is None:
                process.kill()
            process.wait(10)
        log.close()


def _ids(folder: Path) -> list[int]:
    return sorted(read_results(folder).column("variant").to_pylist())


# --- the store ------------------------------------------------------------------------------------------------


def _identity(n: int, seed: int = 0) -> dict:
    return {
        "spec_sha256": "x",
        "factors": [{"path": "a.b"}],
        "design": "full",
        "samples": None,
        "seed": seed,
        "settings": {},
        "variants": [{"variant": i, "values": {"a.b": float(i)}} for i in range(n)],
    }


def test_store_writes_whole_parts_with_one_schema(tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    store = ResultStore(
        out, _identity(5), ["a.b"], ["tj_max_c", "lvs_status"], flush_rows=2, flush_seconds=60
    )
    store.add({"variant": 0, "a.b": 0.0, "status": "invalid", "reason": "too thin"})  # outputs all null ...
    store.add({"variant": 1, "a.b": 1.0, "status": "invalid", "reason": "too thin"})
    assert len(part_paths(out)) == 1
    store.add(
        {"variant": 2, "a.b": 2.0, "status": "ok", "tj_max_c": 71.5, "lvs_status": "pass", "seconds": 0.4}
    )
    store.add({"variant": 2, "a.b": 2.0, "status": "ok"})  # a task that ran twice: stored once
    store.add({"variant": 3, "a.b": 3.0, "status": "ok", "tj_max_c": 80.0, "lvs_status": "pass", "drc": 2})
    store.close()
    (out / ".part-00009.parquet.tmp").write_bytes(b"half a part")  # what a killed writer leaves
    parts = part_paths(out)
    assert [p.name for p in parts] == ["part-00000.parquet", "part-00001.parquet"]
    for part in parts:
        assert pq.ParquetFile(part).metadata.num_row_groups == 1
    table = pq.read_table(out)  # all parts as one table; _sweep.json and the temporary are skipped
    assert table.num_rows == 4
    assert sorted(table.column("variant").to_pylist()) == [0, 1, 2, 3]
    schema = table.schema
    assert schema.field("variant").type == pa.int64()
    assert schema.field("a.b").type == pa.float64()
    assert (
        schema.field("tj_max_c").type == pa.float64()
    )  # learnt after part 0 was written all-null: rewritten
    assert schema.field("lvs_status").type == pa.string()
    assert schema.field("finished_at").type == pa.timestamp("us", tz="UTC")
    assert schema.names[-5:] == ["status", "reason", "seconds", "worker", "finished_at"]
    assert all(pq.read_schema(p) == pq.read_schema(parts[0]) for p in parts)
    assert read_identity(out)["variants"][4] == {"variant": 4, "values": {"a.b": 4.0}}

    with pytest.raises(SweepStoreError, match=r"--resume .* or --force"):
        ResultStore(out, _identity(5), ["a.b"], [])
    with pytest.raises(SweepStoreError, match="differs from the asked one in seed"):
        ResultStore(out, _identity(5, seed=1), ["a.b"], [], resume=True)
    resumed = ResultStore(out, _identity(5), ["a.b"], [], resume=True)
    assert resumed.done == {0, 1, 2, 3}
    assert not (out / ".part-00009.parquet.tmp").exists()
    resumed.add({"variant": 4, "a.b": 4.0, "status": "failed", "reason": "boom"})
    resumed.close()
    assert _ids(out) == [0, 1, 2, 3, 4]
    fresh = ResultStore(out, _identity(2), ["a.b"], [], force=True)
    assert fresh.done == set() and not part_paths(out) and (out / IDENTITY_NAME).is_file()


# --- Dask -----------------------------------------------------------------------------------------------------


def test_resume_completes_an_interrupted_sweep(dask_cluster: dict, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    args = [*("--vary", f"{THICKNESS}=400:600:6", "--vary", f"{POWER}=0.5:2:10")]
    args += [*("--analyses", "warpage,check", "--coarse", "-o", str(out))]
    process = subprocess.Popen(
        [BIN / "moldstack", "sweep", SPEC, *args, "--workers", "1", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its LocalCluster's workers die with it
    )
    try:
        _wait_for(lambda: len(read_results(out)) >= 1 if part_paths(out) else False, 60, "a stored part")
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # a crash: no flush, no goodbye
        process.wait(10)
    before = _ids(out)
    parts_before = {p.name: p.stat().st_mtime_ns for p in part_paths(out)}
    assert 0 < len(before) < 60
    runner = CliRunner()
    refused = runner.invoke(app, ["sweep", str(SPEC), *args, "--scheduler", dask_cluster["address"]])
    assert refused.exit_code == 2 and "--resume" in refused.output
    mismatched = [a.replace("0.5:2:10", "0.5:2:9") for a in args]
    refused = runner.invoke(
        app, ["sweep", str(SPEC), *mismatched, "--resume", "--scheduler", dask_cluster["address"]]
    )
    assert refused.exit_code == 2 and "differs from the asked one in factors" in refused.output
    done = runner.invoke(
        app, ["sweep", str(SPEC), *args, "--resume", "--scheduler", dask_cluster["address"], "--json"]
    )
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["skipped"] == len(before) and doc["ran"] == 60 - len(before)
    assert _ids(out) == list(range(60))  # complete, no duplicates
    assert {p.name: p.stat().st_mtime_ns for p in part_paths(out) if p.name in parts_before} == parts_before


def test_ctrl_c_stores_what_finished_and_exits_130(dask_cluster: dict, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    process = subprocess.Popen(
        [
            *(sys.executable, "-c", CTRL_C_ABLE, "sweep", SPEC, "--vary", f"{THICKNESS}=400:600:6"),
            *("--vary", f"{POWER}=0.5:2:10", "--analyses", "warpage,check", "--coarse"),
            *("--scheduler", dask_cluster["address"], "-o", out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: bool(part_paths(out)), 60, "a stored part")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "run the same sweep with --resume to complete it" in err
    ids = _ids(out)
    assert 0 < len(ids) < 60 and len(set(ids)) == len(ids)


# --- the command line -----------------------------------------------------------------------------------------


def test_cli_sweep_json_pareto_report_and_bad_input(dask_cluster: dict, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    runner = CliRunner()
    base = ["sweep", str(SPEC), "--vary", f"{THICKNESS}=400:600:8", "--design", "lhs", "--samples", "5"]
    base += [
        "--analyses",
        "warpage,check",
        "--coarse",
        "--scheduler",
        dask_cluster["address"],
        "-o",
        str(out),
    ]
    ok = runner.invoke(app, [*base, "--pareto", "warpage_max_um:min", "--report", "--json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["total"] == 5 and sum(doc["counts"].values()) == 5
    values = read_results(out).column(THICKNESS).to_pylist()
    assert len(values) == 5 and all(400 <= v <= 600 for v in values)  # lhs: N samples within the bounds
    assert doc["pareto"]["front"]
    for name in ("pareto.png", "pareto.csv", "results.html"):
        assert (tmp_path / name).is_file(), name
    html = (tmp_path / "results.html").read_text()
    assert "Pareto front" in html and "<style>" in html and THICKNESS in html

    again = runner.invoke(app, base)
    assert again.exit_code == 2 and "already holds results" in again.output
    for extra, words in [
        (["--analyses", "thermal,magic"], "--analyses thermal,magic: magic is not an analysis"),
        (["--scheduler", "localhost"], "--scheduler localhost: not a scheduler address"),
        (["--vary", "assemblies[0].nope=1,2"], "nope"),
        (["--pareto", "nonsense"], "--pareto"),
    ]:
        bad = runner.invoke(app, [*base, "--force", *extra])
        assert bad.exit_code == 2, (extra, bad.output)
        assert words in bad.output, (extra, bad.output)
    text = runner.invoke(app, [*base, "--force"])
    assert text.exit_code == 0, text.output
    assert "Sweep summary" in text.output and "wrote" in text.output


# --- last: it kills one of the two workers of the module's cluster ---------------------------------------------


def test_a_worker_killed_mid_sweep_loses_nothing(dask_cluster: dict, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    victim = dask_cluster["workers"][0]
    killed: list[int] = []

    def kill_once(state: SweepProgress) -> None:
        if not killed and part_paths(out):
            victim.send_signal(signal.SIGKILL)
            killed.append(state.done)

    result = run_sweep(
        SPEC,
        [f"{THICKNESS}=200,400,450,500,550,600", f"{POWER}=0.5:2:3"],
        settings=CHEAP,
        out=out,
        scheduler=dask_cluster["address"],
        progress=kill_once,
        flush_rows=2,
    )
    assert killed, "the worker was not killed mid-sweep"
    assert killed[0] < result.total
    assert victim.wait(10) == -signal.SIGKILL
    table = read_results(out)
    ids = table.column("variant").to_pylist()
    assert sorted(ids) == list(range(18))  # every variant has exactly one row
    statuses = table.column("status").to_pylist()
    assert set(statuses) <= STATUSES
    rows = table.to_pylist()
    thin = [r for r in rows if r[THICKNESS] == 200]
    assert len(thin) == 3 and all(r["status"] == "invalid" and r["reason"] for r in thin)
    assert any(r["status"] == "ok" for r in rows)
    assert all(r["worker"].startswith("tcp://127.0.0.1:") for r in rows if r["status"] == "ok")
    assert result.counts == {k: statuses.count(k) for k in set(statuses)}
