"""Benchmark: a design sweep on Dask, one local worker against two, and the engine's own cost per variant.

Prints two markdown tables:

1. 200 coarse variants of claim1 (body thickness 400-600 um in 20 levels x die power 0.5-2 W in 10 levels, full
   factorial), each validated, built and analysed for warpage over reflow and the sign-off checks (DRC, LVS,
   stack), on a LocalCluster of 1 and of 2 single-threaded worker processes: the sweep's wall time (from the
   first submission to the last stored row; the cluster's start-up is given apart), the mean time of a variant
   on its worker, and the speed-up of 2 workers over 1 (the same variants, the same results);
2. the engine's overhead: the same 200 variants through the same path (submit, schedule, run, return, store in
   Parquet parts) with a task that does nothing (:func:`moldstack.sweep.engine.echo_variant`), so the wall time
   per variant is what the engine adds to every variant.

Run: .venv/bin/python benchmarks/sweep.py (about a minute and a half on 2 cores).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from moldstack.output import cores
from moldstack.sweep.engine import SweepResult, echo_variant, run_sweep
from moldstack.sweep.evaluate import EvalSettings

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "claim1_posts.yaml"
FACTORS = ["assemblies[0].body.thickness_um=400:600:20", "assemblies[0].dies[0].power_w=0.5:2:10"]
SETTINGS = EvalSettings(analyses=("warpage", "check"), coarse=True)


def _sweep(folder: Path, workers: int, *, echo: bool = False) -> tuple[SweepResult, float]:
    start = time.perf_counter()
    result = run_sweep(
        SPEC,
        FACTORS,
        settings=SETTINGS,
        out=folder / f"{'echo' if echo else 'real'}-{workers}.parquet",
        workers=workers,
        evaluate=echo_variant if echo else None,
    )
    return result, time.perf_counter() - start


def main() -> None:
    print(f"# moldstack sweep benchmark ({cores()} cores, {os.uname().machine})\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        real = {n: _sweep(folder, n) for n in (1, 2)}
        echo = {n: _sweep(folder, n, echo=True) for n in (1, 2)}
    base = real[1][0].seconds
    print(f"## 200 coarse variants (warpage + check on {SPEC.name})\n")
    print(
        "| workers | variants ok/invalid/failed | sweep wall s | cluster start s | variant s (mean) | speed-up |"
    )
    print("|---:|---|---:|---:|---:|---:|")
    for n, (result, total) in real.items():
        c = result.counts
        counts = f"{c.get('ok', 0)}/{c.get('invalid', 0)}/{c.get('failed', 0)}"
        print(
            f"| {n} | {counts} | {result.seconds:.1f} | {total - result.seconds:.1f} | "
            f"{result.task_seconds / max(result.ran, 1):.3f} | {base / result.seconds:.2f}x |"
        )
    print("\n## Engine overhead per variant (a task that does nothing, 200 variants)\n")
    print("| workers | sweep wall s | per variant ms | variants/s |")
    print("|---:|---:|---:|---:|")
    for n, (result, _total) in echo.items():
        print(
            f"| {n} | {result.seconds:.2f} | {1000 * result.seconds / result.ran:.1f} | "
            f"{result.ran / result.seconds:.0f} |"
        )


if __name__ == "__main__":
    main()
