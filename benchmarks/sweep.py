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

With ``--thermal``, a third table: 20 variants whose analysis is a field solve (the coarse thermal grid), where a
single worker's solver may use both cores on its own threads, on 1 and 2 workers.

Run: .venv/bin/python benchmarks/sweep.py [--thermal] (about a minute and a half on 2 cores; 3 with --thermal).
"""

from __future__ import annotations

import argparse
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


THERMAL_FACTORS = ["assemblies[0].body.thickness_um=400:600:4", "assemblies[0].dies[0].power_w=0.5:2:5"]
THERMAL_SETTINGS = EvalSettings(analyses=("thermal",), coarse=True)


def _thermal_table(folder: Path) -> None:
    """20 variants whose analysis is a field solve (coarse thermal grid, 2-3 s each): the solver's own threads
    against the engine's worker processes."""
    rows = {}
    for n in (1, 2):
        rows[n] = run_sweep(
            SPEC, THERMAL_FACTORS, settings=THERMAL_SETTINGS, out=folder / f"thermal-{n}.parquet", workers=n
        )
    base = rows[1].seconds
    print(f"\n## 20 coarse thermal variants ({SPEC.name}: Tj and theta-JA on the coarse grid)\n")
    print("| workers | variants ok | sweep wall s | variant s (mean) | speed-up |")
    print("|---:|---:|---:|---:|---:|")
    for n, result in rows.items():
        print(
            f"| {n} | {result.counts.get('ok', 0)} | {result.seconds:.1f} | "
            f"{result.task_seconds / max(result.ran, 1):.2f} | {base / result.seconds:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--thermal", action="store_true", help="also 20 coarse thermal variants, 1 vs 2 workers"
    )
    args = parser.parse_args()
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
    if args.thermal:
        with tempfile.TemporaryDirectory() as tmp:
            _thermal_table(Path(tmp))


if __name__ == "__main__":
    main()
