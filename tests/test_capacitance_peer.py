"""The capacitance matrix of a short via pair against FastCap2, an independent multipole BEM solver."""

from __future__ import annotations

import numpy as np
import pytest

from moldstack.analysis.capacitance import AIR_EPS_R, CapacitanceSettings, capacitance
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Tube

pytest.importorskip("fastcap2")

from moldstack.fields.fastcap import via_pair


def _pair() -> Model:
    solids = (
        Solid("a", "A", "conductive_unit.post", "copper", Tube(z0=0, z1=300, cx=-200, cy=0, r=75), net="A"),
        Solid("b", "B", "conductive_unit.post", "copper", Tube(z0=0, z1=300, cx=200, cy=0, r=75), net="B"),
    )
    return Model("via-pair", solids, ())


def test_short_via_pair_matches_fastcap2() -> None:
    """Two copper posts r 75 um, h 300 um, pitch 400 um in a homogeneous medium (air, so both solvers see
    the same thing; a uniform permittivity only scales C): the field solver's Maxwell matrix against FastCap2's
    (Nabors and White 1991; panels converged to 0.2 %, see test_fastcap_peer.py), computed in this run.

    Tolerance: 5 % on C11 and C12 with cells of 1/8 of the post's diameter, 2.5 % with 1/16; and the error
    must shrink with the cells (first order: the posts' sharp rims). A short post pair is far from the 2D
    formula (1.8x), which is why the issue asks for a 3D peer here.
    """
    reference = via_pair(75.0, 300.0, 400.0, AIR_EPS_R, refine=2)
    errors = []
    for fraction, tol in ((0.125, 0.05), (0.0625, 0.025)):
        settings = CapacitanceSettings(
            margin_um=(1500.0, 1500.0), cell_fraction=fraction, min_cell_um=5.0, min_cell_z_um=5.0
        )
        c = capacitance(_pair(), settings=settings).maxwell_f
        assert np.allclose(c, c.T, rtol=0, atol=1e-6 * c[0, 0])
        rel = np.abs(c / reference - 1)
        assert rel[0, 0] < tol and rel[0, 1] < tol, (fraction, c, reference)
        errors.append(rel.max())
    assert errors[1] < errors[0]
