"""Benchmark: ``moldstack build`` of an example end to end, first and again, against a sequential uncached peer.

Runs the real command (a subprocess, as a user runs it) into a fresh folder and reports the wall time of:

1. the first build (stages in parallel worker processes, one per core; the capacitance columns shared by one
   process per core);
2. an unchanged rebuild (every stage from the folder's record: load, build the model, hash, compare);
3. a rebuild after the die power changes (only the thermal analysis, the results and the report run again);
4. the peer: the same stages one after the other in one process with nothing reused (``--jobs 1 --force``),
   which is what a build cost before it ran stages in parallel or kept its outputs.

Then the slowest stages of the first build (from its ``results.json``).

Run: ``.venv/bin/python benchmarks/build.py`` (``--example``, ``--no-peer``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from moldstack.output import cores

ROOT = Path(__file__).resolve().parents[1]
MOLDSTACK = [sys.executable, "-m", "moldstack"]


def _build(spec: Path, out: Path, *extra: str) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(
        [*MOLDSTACK, "build", str(spec), "-o", str(out), *extra], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"build failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds


def _states(out: Path) -> dict[str, str]:
    data = json.loads((out / ".moldstack" / "build.json").read_text())
    return {name: entry["status"]["state"] for name, entry in data["stages"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="pop_on_substrate.yaml")
    parser.add_argument("--no-peer", action="store_true", help="skip the sequential uncached build")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="moldstack-bench-build-"))
    try:
        spec = work / args.example
        shutil.copy(ROOT / "examples" / args.example, spec)
        out = work / "out"
        print(f"# moldstack build of {args.example} ({cores()} cores)\n")
        rows: list[tuple[str, float, str]] = []

        first = _build(spec, out)
        results = json.loads((out / "results.json").read_text())
        ran = sum(1 for s in results["stages"].values() if s["state"] == "ran")
        rows.append(("first build (parallel stages)", first, f"{ran} stages ran"))

        again = _build(spec, out)
        cached = sum(1 for s in _states(out).values() if s in ("ran", "not applicable"))
        rows.append(("unchanged rebuild", again, f"{cached} stages from the record"))

        data = yaml.safe_load(spec.read_text())
        die = data["assemblies"][0]["dies"][0]
        die["power_w"] = float(die.get("power_w", 1.0)) * 1.5
        spec.write_text(yaml.safe_dump(data, sort_keys=False))
        changed = _build(spec, out)
        rows.append(("rebuild after a die power change", changed, "thermal, results, report ran again"))

        if not args.no_peer:
            peer_out = work / "peer"
            peer = _build(spec, peer_out, "--jobs", "1", "--force")
            rows.append(("peer: one process, nothing reused (--jobs 1 --force)", peer, ""))

        print("| run | wall s | note |")
        print("|---|---:|---|")
        for name, seconds, note in rows:
            print(f"| {name} | {seconds:.1f} | {note} |")
        if not args.no_peer:
            print(f"\nparallel first build vs the peer: {rows[-1][1] / first:.2f}x faster")

        print("\n## Stages of the first build (seconds, in worker processes)\n")
        print("| stage | s |")
        print("|---|---:|")
        stages = sorted(results["stages"].items(), key=lambda kv: -kv[1]["seconds"])
        for name, stage in stages:
            if stage["state"] == "ran":
                print(f"| {name} | {stage['seconds']:.1f} |")
        print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
