"""The JEDEC 2s2p thermal test board (JESD51-9 size, JESD51-7 layup) and its conductivity on a grid.

The board is 101.5 x 114.5 mm of 1.6 mm FR-4 with two continuous 35 um (1 oz) internal copper planes, here at
one and two thirds of its thickness; the outer layers' signal traces are left out (the lands under the package
are placed by :mod:`~moldstack.analysis.mounting`). The thermal analysis resolves the layers on its grid (a
line at every layer face); :func:`homogenised` gives each cell layer the conductivity of the laminate it spans,
which is each layer's own where the cell layers follow the layers, and an exact orthotropic mean where a cell
layer spans several (a coarser board):

- in plane, the layers conduct in parallel: ``k_in = sum(k_i t_i) / sum(t_i)``;
- through the thickness, in series: ``k_through = sum(t_i) / sum(t_i / k_i)``.

Both are exact for heat flowing purely in plane or purely through the layers (tests/test_board.py checks the
solver on both against the layer-resolved laminate). Smearing the planes over thick cell layers lets heat spread
before it has crossed the laminate above them: on the claim-8 example a two-cell board gave theta-JA 6 % and
theta-JB 10 % below the resolved one, which is why the analysis resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

BOARD_SIZE_MM = (101.5, 114.5)  # JESD51-9 2s2p test board
BOARD_THICKNESS_UM = 1600.0
BOARD_PLANE_UM = 35.0  # 1 oz internal copper planes (JESD51-7)
BOARD_PLANE_FRACTIONS = (1 / 3, 2 / 3)  # plane centres, as fractions of the thickness from the bottom
BOARD_MATERIAL = "fr4"
BOARD_PLANE_MATERIAL = "copper"


@dataclass(frozen=True)
class Layer:
    """One layer of a laminate: bottom and top (um, from the laminate's bottom) and conductivity (W/mK)."""

    z0: float
    z1: float
    k: float


def board_layers(k_laminate: float, k_copper: float) -> tuple[Layer, ...]:
    """The 2s2p board, bottom to top, as layers from its bottom face."""
    cuts = [0.0]
    for frac in BOARD_PLANE_FRACTIONS:
        zc = frac * BOARD_THICKNESS_UM
        cuts += [zc - BOARD_PLANE_UM / 2, zc + BOARD_PLANE_UM / 2]
    cuts.append(BOARD_THICKNESS_UM)
    return tuple(Layer(cuts[i], cuts[i + 1], k_copper if i % 2 else k_laminate) for i in range(len(cuts) - 1))


def homogenised(
    layers: tuple[Layer, ...], z_edges: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """In-plane and through-thickness conductivity of each interval ``z_edges[i]..z_edges[i+1]`` (um, in the
    layers' frame) from the layers it spans (see the module docstring). Intervals must lie within the layers."""
    z = np.asarray(z_edges, dtype=np.float64)
    lo, hi = z[:-1], z[1:]
    thick = hi - lo
    if np.any(thick <= 0):
        raise ValueError("z intervals must be increasing")
    k_t = np.zeros(lo.size)
    r = np.zeros(lo.size)
    covered = np.zeros(lo.size)
    for layer in layers:
        t = np.clip(np.minimum(hi, layer.z1) - np.maximum(lo, layer.z0), 0.0, None)
        k_t += layer.k * t
        r += t / layer.k
        covered += t
    if not np.allclose(covered, thick, rtol=1e-9, atol=1e-9):
        raise ValueError("every z interval must lie within the laminate")
    return k_t / thick, thick / r


__all__ = [
    "BOARD_MATERIAL",
    "BOARD_PLANE_MATERIAL",
    "BOARD_PLANE_UM",
    "BOARD_SIZE_MM",
    "BOARD_THICKNESS_UM",
    "Layer",
    "board_layers",
    "homogenised",
]
