"""Skin depth and the AC resistance estimate (moldstack.analysis.skin)."""

from __future__ import annotations

import math

import pytest

from moldstack.analysis.skin import ac_ratio, round_ac_ratio, shell_ac_ratio, skin_depth_um


def test_copper_skin_depth_at_1ghz() -> None:
    """physics.md: copper (1.72e-8 Ohm m) has a skin depth of 2.09 um at 1 GHz (0.5 %)."""
    assert skin_depth_um(1.72e-8, 1e9) == pytest.approx(2.09, rel=5e-3)
    assert math.isinf(skin_depth_um(1.72e-8, 0.0))


def test_round_wire_bessel_limits() -> None:
    """The exact round-wire ratio (Ramo, Whinnery and Van Duzer 1994, 5.12): 1 + x^4/48 at low frequency
    (x = r / delta; 1e-3), ``x / 2 + 1/4`` at high frequency (1e-3), and continuous across the asymptote switch."""
    for x in (0.2, 0.5):
        assert round_ac_ratio(x, 1.0) == pytest.approx(1 + x**4 / 48, rel=1e-3)
    for x in (50.0, 200.0):
        assert round_ac_ratio(x, 1.0) == pytest.approx(x / 2 + 0.25, rel=1e-3)
    assert round_ac_ratio(399.9, 1.0) == pytest.approx(round_ac_ratio(400.1, 1.0), rel=1e-3)


def test_shell_estimates_limits() -> None:
    """Tube and rectangle: 1 at low frequency, ``A / (P delta)`` at high frequency (thin shell)."""
    assert shell_ac_ratio("rect", (50.0, 15.0), 1e6) == pytest.approx(1.0)
    assert shell_ac_ratio("tube", (75.0, 50.0), 1e6) == pytest.approx(1.0)
    d = 0.1
    assert shell_ac_ratio("rect", (50.0, 15.0), d) == pytest.approx(750 / (130 * d), rel=1e-3)
    assert shell_ac_ratio("tube", (75.0, 50.0), d) == pytest.approx(
        math.pi * (75**2 - 50**2) / (2 * math.pi * 75 * d), rel=1e-3
    )
    # a round wire by the exact form and a thin-walled shell agree at high frequency within 2 %
    assert ac_ratio("round", (12.5,), 0.5) == pytest.approx(12.5 / 1.0 + 0.25, rel=1e-3)
    with pytest.raises(ValueError, match="cross section"):
        shell_ac_ratio("hexagon", (1.0,), 1.0)
