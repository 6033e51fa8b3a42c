"""Skin effect: the skin depth of a conductor and an AC resistance estimate per cross section.

- Skin depth ``delta = sqrt(rho / (pi f mu0))`` (copper 2.09 um at 1 GHz; physics.md).
- Round conductor of radius r, isolated: the exact internal impedance per length
  ``Z = (k rho / (2 pi r)) J0(k r) / J1(k r)`` with ``k = (1 - j) / delta`` (Ramo, Whinnery and Van Duzer,
  Fields and Waves in Communication Electronics, 3rd ed., 1994, sec. 5.12), so
  ``R_ac / R_dc = Re[(k r / 2) J0(k r) / J1(k r)]``, which tends to ``r / (2 delta) + 1/4`` at high frequency.
- Tube (r_outer, r_inner) and rectangle (w, t): the current taken to flow in a shell of depth delta under the
  surface, ``A_eff = P delta (1 - exp(-d / delta))`` with ``P`` the perimeter the current crowds to (the outer
  circle of a tube; all four sides of a rectangle) and ``d`` the depth available (the wall; half the thinner
  side); ``R_ac / R_dc = max(1, A / A_eff)``. An estimate (Wheeler's incremental-inductance rule in its simplest
  form), good to some 10 % where delta is well under the section and exact in both limits.

All of it is for an isolated conductor: the proximity effect of neighbouring nets and of the return path is
not in it, and neither is surface roughness. The resistance the electrical analysis reports as DC is the
quasi-static limit these tend to at low frequency.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

MU0 = 4e-7 * math.pi


def skin_depth_um(resistivity_ohm_m: float, frequency_hz: float) -> float:
    """Skin depth in um (non-magnetic conductor)."""
    if frequency_hz <= 0:
        return math.inf
    return math.sqrt(resistivity_ohm_m / (math.pi * frequency_hz * MU0)) * 1e6


def round_ac_ratio(radius_um: float, delta_um: float) -> float:
    """``R_ac / R_dc`` of an isolated round wire (exact, Bessel functions)."""
    if not math.isfinite(delta_um):
        return 1.0
    x = radius_um / delta_um
    if x > 400.0:  # the asymptote, to well under 1e-6 here
        return x / 2 + 0.25
    z = complex(1.0, -1.0) * x
    # exponentially scaled Bessel functions: the scale cancels in the ratio
    ratio = (z / 2) * special.jve(0, z) / special.jve(1, z)
    return float(np.real(ratio))


def shell_ac_ratio(section: str, dims: tuple[float, ...], delta_um: float) -> float:
    """``R_ac / R_dc`` of a tube (r_outer, r_inner) or a rectangle (w, t) by the skin-depth shell."""
    if not math.isfinite(delta_um):
        return 1.0
    if section == "tube":
        ro, ri = dims
        area = math.pi * (ro * ro - ri * ri)
        eff = 2 * math.pi * ro * delta_um * (1 - math.exp(-(ro - ri) / delta_um))
    elif section == "rect":
        w, t = dims
        area = w * t
        eff = 2 * (w + t) * delta_um * (1 - math.exp(-0.5 * min(w, t) / delta_um))
    else:
        raise ValueError(f"unknown cross section {section!r}")
    return max(1.0, area / eff)


def ac_ratio(section: str, dims: tuple[float, ...], delta_um: float) -> float:
    """``R_ac / R_dc`` for a ``round`` (r), ``tube`` (ro, ri) or ``rect`` (w, t) cross section."""
    if section == "round":
        return round_ac_ratio(dims[0], delta_um)
    return shell_ac_ratio(section, dims, delta_um)


__all__ = ["MU0", "ac_ratio", "round_ac_ratio", "shell_ac_ratio", "skin_depth_um"]
