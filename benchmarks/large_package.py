"""The large package the benchmarks use: 14 x 14 mm, about 700 conductive units and 400 wire bonds.

A 9 mm logic die carries two contact rows: the outer 160 contacts are wire bonded to a ring of 160
pad-with-protrusion units, the inner 240 take the stitches of 240 wires from a 5 mm die stacked back-to-face on
it (claims 14-18). Three more rings of copper posts (about 530) surround the bonded ring, as a PoP bottom package
would carry pass-through and thermal units. Generated as plain spec data, validated like any spec.
"""

from __future__ import annotations

from typing import Any

EDGE_ORDER = ("north", "east", "south", "west")


def ring_contacts(
    prefix: str, half: float, inset: float, per_edge: int, pitch: float
) -> list[dict[str, Any]]:
    """Contacts along the four edges of a die of half-size ``half``, clockwise from north like rows layouts."""
    out: list[dict[str, Any]] = []
    along = [(i - (per_edge - 1) / 2) * pitch for i in range(per_edge)]
    line = half - inset
    for edge in EDGE_ORDER:
        for t in along:
            xy = {"north": (t, line), "east": (line, -t), "south": (-t, -line), "west": (-line, t)}[edge]
            out.append({"name": f"{prefix}{len(out) + 1}", "at_um": list(xy), "size_um": [70, 70]})
    return out


def large_package_spec() -> dict[str, Any]:
    """The spec data (validates with moldstack.loads(yaml.safe_dump(...)))."""
    outer = ring_contacts("C", 4500, 100, 40, 200)
    inner = ring_contacts("D", 4500, 300, 60, 130)
    pad_unit = {
        "shape": "pad_protrusion",
        "pad": {"shape": "square", "size_um": 200, "thickness_um": 40},
        "protrusion_diameter_um": 100,
    }
    return {
        "moldstack": 1,
        "name": "large-14mm-400-wires",
        "description": "14 mm package, 9 mm die + 5 mm stacked die, 400 wire bonds, about 700 units",
        "assemblies": [
            {
                "name": "pkg",
                "body": {"size_um": [14000, 14000], "thickness_um": 650},
                "dies": [
                    {
                        "name": "die1",
                        "size_um": [9000, 9000],
                        "thickness_um": 150,
                        "standoff_um": 100,
                        "attach": {"material": "die_attach", "thickness_um": 25},
                        "power_w": 3.0,
                        "contacts": {"pads": outer + inner},
                    },
                    {
                        "name": "die2",
                        "stacked_on": "die1",
                        "size_um": [5000, 5000],
                        "thickness_um": 100,
                        "attach": {"material": "film_attach", "thickness_um": 20},
                        "power_w": 0.5,
                        "contacts": {
                            "count_per_edge": 60,
                            "pitch_um": 75,
                            "inset_um": 80,
                            "size_um": [50, 50],
                        },
                    },
                ],
                "units": [
                    {"layout": "rows", "pitch_um": 250, "offset_um": 500, "unit": pad_unit},
                    {
                        "layout": "rows",
                        "rows": 3,
                        "pitch_um": 250,
                        "offset_um": 750,
                        "unit": {"shape": "post", "diameter_um": 150},
                    },
                ],
                "interconnects": [
                    {
                        "kind": "wire_bond",
                        "die": "die1",
                        "diameter_um": 25,
                        "loop_height_um": 150,
                        "unit_patterns": [0],
                    },
                    {
                        "kind": "wire_bond",
                        "die": "die2",
                        "diameter_um": 18,
                        "loop_height_um": 150,
                        "map": {f"C{k}": f"die1.D{k}" for k in range(1, 241)},
                    },
                ],
            }
        ],
    }
