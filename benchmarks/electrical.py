"""Electrical analysis benchmarks: the L matrix, the C matrix, the via pair against FastCap2, every example.

Run: ``.venv/bin/python benchmarks/electrical.py`` (options: ``--skip-examples``, ``--c-nets 10 50``).

1. Partial inductance matrix of 100 / 1000 / 5000 filaments taken from a real package (the pop example's
   branches, copied side by side for 5000), against a plain 8 x 8 Gauss-Legendre double quadrature of the
   Neumann integral (no closed forms) on the same filaments, up to 1000.
2. Capacitance matrix of 10 / 50 nets of claim1_posts (default grid): set-up, per-net solve, total.
3. The short via pair (r 75 um, h 300 um, pitch 400 um): moldstack's field solve against FastCap2 in the same
   run (time and value; FastCap2 is the independent multipole BEM solver from the registry).
4. ``electrical()`` on every example (capacitance on the coarse grid, as ``build`` runs it): time per stage.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import moldstack
from moldstack.analysis.capacitance import AIR_EPS_R, CAPACITANCE_PRESETS, CapacitanceSettings, capacitance
from moldstack.analysis.electrical import ElectricalSettings, electrical
from moldstack.analysis.nets import extract_nets
from moldstack.fields.inductance import partial_inductance
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Tube

sys.path.insert(0, str(Path(__file__).parent))
from inductance_kernel import gauss_peer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _filaments(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    model = moldstack.build(moldstack.load(EXAMPLES / "pop_on_substrate.yaml"))
    segs = [s for n in extract_nets(model) for b in n.branches for s in b.segments]
    start = np.array([s.start for s in segs])
    end = np.array([s.end for s in segs])
    gmd = np.array([s.gmd_um for s in segs])
    copies = -(-count // len(segs))
    span = float(start[:, 0].max() - start[:, 0].min()) + 2000.0
    shift = np.repeat(np.arange(copies), len(segs))[:, None] * np.array([span, 0.0, 0.0])
    return (
        (np.tile(start, (copies, 1)) + shift)[:count],
        (np.tile(end, (copies, 1)) + shift)[:count],
        np.tile(gmd, copies)[:count],
    )


def bench_inductance(sizes: list[int]) -> None:
    print("\n## Partial inductance matrix (filaments of the pop example)\n")
    print(
        "| filaments | moldstack s | peer 8x8 Gauss s | max rel. diff (separated pairs) | positive definite |"
    )
    print("|---:|---:|---:|---:|---|")
    for n in sizes:
        start, end, gmd = _filaments(n)
        partial_inductance(start[:10], end[:10], gmd[:10])  # compiled once, outside the timing
        t = time.perf_counter()
        lm = partial_inductance(start, end, gmd)
        dt = time.perf_counter() - t
        pd = bool(np.all(np.linalg.eigvalsh(lm) > 0))
        if n <= 1000:
            t = time.perf_counter()
            peer = gauss_peer(start, end, gmd)
            dp = time.perf_counter() - t
            d = np.linalg.norm(
                0.5 * (start[:, None] + end[:, None]) - 0.5 * (start[None] + end[None]), axis=-1
            )
            length = np.linalg.norm(end - start, axis=1)
            far = d > 2 * np.maximum(length[:, None], length[None])
            rel = np.abs(lm - peer)[far] / np.sqrt(np.outer(np.diag(lm), np.diag(lm)))[far]
            print(f"| {n} | {dt:.3f} | {dp:.3f} | {rel.max():.1e} | {pd} |")
        else:
            print(f"| {n} | {dt:.3f} | - | - | {pd} |")


def bench_capacitance(counts: list[int]) -> None:
    print("\n## Capacitance matrix (claim1_posts, default grid)\n")
    print("| nets | cells | unknowns | set-up s | mean s per net | iterations | total s |")
    print("|---:|---:|---:|---:|---:|---|---:|")
    model = moldstack.build(moldstack.load(EXAMPLES / "claim1_posts.yaml"))
    names = [n.name for n in extract_nets(model)]
    for count in counts:
        r = capacitance(model, names[:count])
        its = f"{min(r.iterations)}-{max(r.iterations)}"
        print(
            f"| {count} | {r.cells:,} | {r.unknowns:,} | {r.setup_s:.1f} | {np.mean(r.solve_s):.2f} | {its} |"
            f" {r.total_s:.1f} |"
        )


def bench_via_pair() -> None:
    from moldstack.fields.fastcap import via_pair  # noqa: PLC0415

    print("\n## Via pair (r 75, h 300, pitch 400 um, in air) against FastCap2, same run\n")
    print("| solver | cells / panels | C11 fF | C12 fF | vs FastCap2 C11 | C12 | s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for refine in (1, 2):
        t = time.perf_counter()
        fc = via_pair(75.0, 300.0, 400.0, AIR_EPS_R, refine=refine)
        dt = time.perf_counter() - t
        if refine == 2:
            ref = fc
        print(
            f"| FastCap2 refine {refine} | - | {fc[0, 0] * 1e15:.3f} | {fc[0, 1] * 1e15:.3f} | | | {dt:.2f} |"
        )
    solids = (
        Solid("a", "A", "conductive_unit.post", "copper", Tube(z0=0, z1=300, cx=-200, cy=0, r=75), net="A"),
        Solid("b", "B", "conductive_unit.post", "copper", Tube(z0=0, z1=300, cx=200, cy=0, r=75), net="B"),
    )
    model = Model("via-pair", solids, ())
    for fraction in (0.25, 0.125, 0.0625, 0.03125):
        s = CapacitanceSettings(
            margin_um=(1500.0, 1500.0), cell_fraction=fraction, min_cell_um=4.0, min_cell_z_um=4.0
        )
        t = time.perf_counter()
        r = capacitance(model, settings=s)
        dt = time.perf_counter() - t
        c = r.maxwell_f
        print(
            f"| moldstack cells {fraction:g} d | {r.cells:,} | {c[0, 0] * 1e15:.3f} | {c[0, 1] * 1e15:.3f} |"
            f" {100 * (c[0, 0] / ref[0, 0] - 1):+.2f} % | {100 * (c[0, 1] / ref[0, 1] - 1):+.2f} % | {dt:.2f} |"
        )


def bench_examples() -> None:
    print("\n## electrical() on every example (capacitance on the coarse grid, as build runs it)\n")
    print("| example | nets | filaments | R s | L s | C s | C cells | total s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    settings = ElectricalSettings(capacitance_grid=CAPACITANCE_PRESETS["coarse"])
    for path in sorted(EXAMPLES.glob("*.yaml")):
        model = moldstack.build(moldstack.load(path))
        t = time.perf_counter()
        r = electrical(model, settings=settings)
        total = time.perf_counter() - t
        s = r.seconds
        filaments = sum(len(b.segments) for n in extract_nets(model) for b in n.branches)
        cells = r.capacitance.cells if r.capacitance is not None else 0
        print(
            f"| {path.stem} | {len(r.nets)} | {filaments} | {s['resistance']:.1f} | {s['inductance']:.2f} |"
            f" {s.get('capacitance', 0.0):.1f} | {cells:,} | {total:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l-sizes", type=int, nargs="*", default=[100, 1000, 5000])
    parser.add_argument("--c-nets", type=int, nargs="*", default=[10, 50])
    parser.add_argument("--skip-examples", action="store_true")
    args = parser.parse_args()
    bench_inductance(args.l_sizes)
    bench_via_pair()
    bench_capacitance(args.c_nets)
    if not args.skip_examples:
        bench_examples()


if __name__ == "__main__":
    main()
