"""Benchmark: the design-rule check (DRC) and its two engines against brute-force peers.

Prints three tables:

1. DRC time per bundled example and for the large package (``large_package.py``) and a synthetic one (below):
   the 2D part (GDS written, read by KLayout, three plan-view checks) and the 3D part (the model rules), with the
   number of violations;
2. the unit-spacing check: KLayout's ``Region.isolated_check`` (what DRC runs) against the peer, shapely's
   ``distance`` over every pair of the same unit polygons (read back from the same GDS), on claim1 (80 round
   posts), the large package and a synthetic package of thousands of square-pad units at a 60 um space (every
   neighbour pair breaks the 75 um rule); both must find the same pairs at the same distances;
3. wire-to-wire clearance: the rule's R-tree broad phase plus exact segment-pair distances against the peer, the
   same exact distance over every pair of wires; both must give the same least gap.

Run: .venv/bin/python benchmarks/drc.py (about a minute).
"""

from __future__ import annotations

import copy
import itertools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import klayout.db as kdb
import numpy as np
import shapely
import yaml

import moldstack
from moldstack.checks.drc import drc
from moldstack.checks.drc_layout import GDS_TOLERANCE_UM, UNIT_LAYERS
from moldstack.checks.drc_model import wire_clearance
from moldstack.checks.rule_deck import load_deck
from moldstack.exporters.gds import export_gds
from moldstack.geometry.model import Model
from moldstack.geometry.primitives import Wire

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from large_package import large_package_spec  # noqa: E402

SYNTHETIC_ROWS = 9
"""Rings of square-pad units in the synthetic package (about 2,900 units)."""


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def synthetic_spec(rows: int = SYNTHETIC_ROWS) -> dict[str, Any]:
    """claim3's package scaled up: a 20 mm die in ``rows`` rings of 300 um square pads at a 360 um pitch (60 um
    apart, under the 75 um rule), 470 um between rings, wire bonded to the inner ring."""
    data = copy.deepcopy(yaml.safe_load((ROOT / "examples" / "claim3_pad_protrusion.yaml").read_text()))
    asm = data["assemblies"][0]
    die = 20000
    asm["dies"][0].update(size_um=[die, die])
    asm["dies"][0]["contacts"].update(count_per_edge=55, pitch_um=250)
    unit = asm["units"][0]["unit"]
    asm["units"] = [
        {
            "layout": "rows",
            "pitch_um": 360,
            "offset_um": 700 + 470 * k,
            "count_per_edge": int((die + 2 * (700 + 470 * k)) / 360) - 2,
            "unit": unit,
        }
        for k in range(rows)
    ]
    asm["interconnects"][0]["unit_patterns"] = [0]
    reach = die / 2 + 700 + 470 * rows + 1000
    asm["body"]["size_um"] = [2 * reach, 2 * reach]
    data["name"] = "synthetic-rows"
    return data


def _designs() -> list[tuple[str, Model]]:
    out = [(p.stem, moldstack.build(p)) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    for name, spec in (("large_package", large_package_spec()), ("synthetic_rows", synthetic_spec())):
        out.append((name, moldstack.build(moldstack.loads(yaml.safe_dump(spec, sort_keys=False)))))
    return out


def drc_table(designs: list[tuple[str, Model]]) -> None:
    print("## DRC per design (shipped deck; seconds)")
    print(f"| {'design':22s} | units | wires | 2D KLayout | 3D model | total | violations |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, model in designs:
        result = drc(model)
        units = sum(len(a.units) for a in model.assemblies)
        wires = sum(isinstance(s.shape, Wire) for s in model.solids)
        print(
            f"| {name:22s} | {units} | {wires} | {result.seconds_layout:.3f} | {result.seconds_model:.3f} | "
            f"{result.seconds:.3f} | {len(result.violations)} |"
        )
    print()


def _unit_polygons(model: Model) -> tuple[kdb.Region, list[shapely.Polygon], float]:
    """The first package's merged unit footprints as KLayout reads them from the GDS, and as shapely polygons."""
    with tempfile.TemporaryDirectory() as folder:
        export = export_gds(model, Path(folder) / "units.gds", tolerance_um=GDS_TOLERANCE_UM)
        layout = kdb.Layout()
        layout.read(str(export.path))
    cell = layout.cell(next(iter(export.cells)))
    region = kdb.Region()
    for index in layout.layer_indexes():
        if layout.get_info(index).layer in UNIT_LAYERS:
            region.insert(kdb.Region(cell.begin_shapes_rec(index)))
    region = region.merged()
    dbu = layout.dbu
    polygons = [
        shapely.Polygon([(p.x * dbu, p.y * dbu) for p in poly.each_point_hull()]) for poly in region.each()
    ]
    return region, polygons, dbu


def _klayout_pairs(region: kdb.Region, polygons: list[shapely.Polygon], dbu: float, limit: float) -> dict:
    found = region.isolated_check(round(limit / dbu), False, kdb.Metrics.Euclidian, None, None, None, False)
    tree = shapely.STRtree(polygons)
    pairs: dict[tuple[int, int], float] = {}
    for ep in found.each():
        mids = shapely.points(
            [((e.x1 + e.x2) * dbu / 2, (e.y1 + e.y2) * dbu / 2) for e in (ep.first, ep.second)]
        )
        i, j = sorted(int(k) for k in tree.query_nearest(mids, all_matches=False)[1])
        pairs[(i, j)] = min(pairs.get((i, j), np.inf), ep.distance() * dbu)
    return pairs


def _shapely_pairs(polygons: list[shapely.Polygon], limit: float) -> dict:
    """Every pair, in chunks of a million: the brute-force peer."""
    n = len(polygons)
    left, right = np.triu_indices(n, k=1)
    geoms = np.array(polygons, dtype=object)
    pairs: dict[tuple[int, int], float] = {}
    for start in range(0, len(left), 1_000_000):
        i, j = left[start : start + 1_000_000], right[start : start + 1_000_000]
        d = shapely.distance(geoms[i], geoms[j])
        for a, b, gap in zip(i[d < limit], j[d < limit], d[d < limit], strict=True):
            pairs[(int(a), int(b))] = float(gap)
    return pairs


def spacing_table(designs: dict[str, Model]) -> None:
    limit = load_deck().rule("unit_spacing").limit
    print(f"## Unit spacing (< {limit:g} um): KLayout isolated_check vs shapely over every pair (seconds)")
    print(
        "| design | unit polygons | vertices | pairs checked by the peer | violating pairs | KLayout | shapely all pairs | same pairs | largest difference (um) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for name in ("claim1_posts", "large_package", "synthetic_rows"):
        region, polygons, dbu = _unit_polygons(designs[name])
        ours, t_ours = _timed(_klayout_pairs, region, polygons, dbu, limit)
        peer, t_peer = _timed(_shapely_pairs, polygons, limit)
        same = ours.keys() == peer.keys()
        diff = max((abs(ours[k] - peer[k]) for k in peer if k in ours), default=0.0)
        n = len(polygons)
        vertices = sum(len(p.exterior.coords) - 1 for p in polygons)
        print(
            f"| {name} | {n} | {vertices} | {n * (n - 1) // 2} | {len(peer)} | {t_ours:.3f} | {t_peer:.3f} | "
            f"{'yes' if same else 'NO'} | {diff:.4f} |"
        )
    print()


def _all_pairs_least_gap(model: Model) -> float:
    wires = [s for s in model.solids if isinstance(s.shape, Wire)]
    best = np.inf
    for a, b in itertools.combinations(wires, 2):
        if a.part != b.part and (a.net is None or b.net is None or a.net != b.net):
            distance, _ = a.shape.closest_centrelines(b.shape)
            best = min(best, distance - a.shape.radius - b.shape.radius)
    return float(best)


def wire_table(designs: dict[str, Model]) -> None:
    rule = load_deck().rule("wire_clearance")
    print("## Wire-to-wire clearance: R-tree broad phase + exact segment pairs vs every wire pair (seconds)")
    print(
        "| design | wires | wire pairs | least gap, rule (um) | least gap, all pairs (um) | rule | all pairs |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in ("claim3_pad_protrusion", "pop_on_substrate", "large_package"):
        model = designs[name]
        wires = sum(isinstance(s.shape, Wire) for s in model.solids)
        outcome, t_ours = _timed(wire_clearance, model, rule)
        peer, t_peer = _timed(_all_pairs_least_gap, model)
        ours = outcome.worst if outcome.worst is not None else np.inf
        print(
            f"| {name} | {wires} | {wires * (wires - 1) // 2} | {ours:.3f} | {peer:.3f} | {t_ours:.3f} | "
            f"{t_peer:.3f} |"
        )
    print()


def main() -> None:
    designs = _designs()
    drc_table(designs)
    by_name = dict(designs)
    spacing_table(by_name)
    wire_table(by_name)


if __name__ == "__main__":
    main()
