"""The shape of a molten solder joint between two wetted circular ends: the truncated-sphere model.

A molten joint of volume ``V`` wets a lower end of radius ``a`` and an upper end of radius ``b``; with surface
tension dominant (the joints of a package-on-package stack carry grams, not newtons) its free surface is a
sphere cut by the two end planes. The volume of a spherical zone of height ``h`` between circles of radii
``a`` and ``b`` is

    V = pi h (3 a^2 + 3 b^2 + h^2) / 6

(CRC Standard Mathematical Tables, spherical zone), so the unloaded, *equilibrium* height is the one real root of
``h^3 + 3 (a^2 + b^2) h - 6 V / pi = 0``; squeezed or stretched to another height ``h`` the joint keeps its volume
and bulges to the sphere's diameter where its equator lies between the ends. This is the truncated-sphere model
of S. M. Heinrich, M. Schaefer, S. A. Schroeder and P. S. Lee, "Prediction of solder joint geometries in
array-type interconnects", ASME J. Electron. Packag. 118 (1996) 114-121, exact for zero load and gravity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def zone_volume(a: float, b: float, h: float) -> float:
    """Volume of the spherical zone of height ``h`` between circles of radii ``a`` and ``b`` (um^3)."""
    return math.pi * h * (3 * a * a + 3 * b * b + h * h) / 6


def equilibrium_height(volume: float, a: float, b: float) -> float:
    """Height (um) at which a truncated sphere of ``volume`` spans ends of radii ``a`` and ``b`` unloaded."""
    if volume <= 0 or a < 0 or b < 0:
        raise ValueError(f"a joint needs a positive volume and radii, got V={volume}, a={a}, b={b}")
    roots = np.roots([1.0, 0.0, 3 * (a * a + b * b), -6 * volume / math.pi])
    real = [float(r.real) for r in roots if abs(r.imag) < 1e-9 * max(1.0, abs(r.real)) and r.real > 0]
    return max(real)


def _arc(a: float, b: float, h: float, sagitta: float) -> tuple[float, float, float]:
    """Centre (z, r) and radius of the circular meridian through (0, a) and (h, b) bulging ``sagitta`` outwards."""
    chord = math.hypot(h, b - a)
    rho = (chord * chord / 4 + sagitta * sagitta) / (2 * sagitta)
    mz, mr = h / 2, (a + b) / 2
    # unit normal to the chord pointing outwards (towards larger r)
    nz, nr = -(b - a) / chord, h / chord
    if nr < 0:
        nz, nr = -nz, -nr
    return mz - (rho - sagitta) * nz, mr - (rho - sagitta) * nr, rho


def _meridian(a: float, b: float, h: float, sagitta: float, zs: np.ndarray) -> np.ndarray:
    if sagitta <= 0:
        return a + (b - a) * zs / h
    cz, cr, rho = _arc(a, b, h, sagitta)
    return cr + np.sqrt(np.maximum(rho * rho - (zs - cz) ** 2, 0.0))


def bulge_diameter(volume: float, a: float, b: float, h: float) -> float:
    """Widest plan diameter (um) of a joint of ``volume`` held at height ``h`` between ends ``a`` and ``b``.

    The contact lines stay pinned at the wetted ends and the meridian is taken as the circular arc through them
    that holds the volume: the truncated sphere itself at the equilibrium height, and the usual circular-arc
    barrel of a joint squeezed or stretched by its package. Less solder than the straight (frustum) joint
    holds makes a waisted joint, no wider than its larger end.
    """
    if h <= 0 or volume <= 0:
        raise ValueError(f"a joint needs a positive height and volume, got h={h}, V={volume}")
    frustum = math.pi * h * (a * a + a * b + b * b) / 3
    if volume <= frustum:
        return 2 * max(a, b)
    zs = np.linspace(0.0, h, 2001)

    def held(sagitta: float) -> float:
        r = _meridian(a, b, h, sagitta, zs)
        return float(np.trapezoid(math.pi * r * r, zs))

    lo, hi = 0.0, max(h, a, b)
    while held(hi) < volume:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if held(mid) < volume:
            lo = mid
        else:
            hi = mid
    return 2 * float(_meridian(a, b, h, (lo + hi) / 2, zs).max())


@dataclass(frozen=True)
class JointShape:
    """A molten joint: its volume, wetted end radii, unloaded height and widest diameter there (um, um^3)."""

    volume_um3: float
    lower_radius_um: float
    upper_radius_um: float
    equilibrium_height_um: float
    equilibrium_diameter_um: float


def joint_shape(volume: float, a: float, b: float) -> JointShape:
    """The unloaded molten joint of ``volume`` between ends of radii ``a`` (lower) and ``b`` (upper)."""
    h = equilibrium_height(volume, a, b)
    c = (b * b - a * a + h * h) / (2 * h)
    r = math.sqrt(a * a + c * c)
    diameter = 2 * r if 0 < c < h else 2 * max(a, b)
    return JointShape(volume, a, b, h, diameter)
