"""Closed forms the field solver is validated against (SI units throughout).

- :func:`slab_resistance`: a 1D stack of layers with contact resistances and convection, in series.
- :func:`spreading_resistance`: the exact series of Muzychka, Culham and Yovanovich for a rectangular heat
  source on a rectangular plate, adiabatic on its sides and on the source face outside the source, cooled by
  a uniform film coefficient ``h`` on the far face.
- :func:`bimetal_curvature`: Timoshenko's curvature of a two-layer strip under a uniform temperature change,
  which the laminate theory of :mod:`moldstack.analysis.laminate` must reproduce for two layers.

Source (spreading): Y. S. Muzychka, J. R. Culham, M. M. Yovanovich, "Thermal spreading resistance of eccentric heat
sources on rectangular flux channels", ASME J. Electronic Packaging 125 (2003) 178-185, eqs. (20)-(27) as
written in ``/work/shared/design/physics.md``. The series is summed directly; with 2000 x 2000 terms it
reproduces the reference values there to 5 digits.

Source (bimetal): S. Timoshenko, "Analysis of bi-metal thermostats", J. Opt. Soc. Am. 11 (1925) 233-255,
eq. (4) as written in ``/work/shared/design/physics.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def slab_resistance(
    thicknesses_m: Sequence[float],
    conductivities: Sequence[float],
    area_m2: float,
    h: float | None = None,
    contacts_m2k_w: Sequence[float] = (),
) -> float:
    """``R = sum(t_i / (k_i A)) + sum(R''_c / A) + 1 / (h A)`` (K/W); ``h=None`` for no convective film."""
    r = sum(t / (k * area_m2) for t, k in zip(thicknesses_m, conductivities, strict=True))
    r += sum(c / area_m2 for c in contacts_m2k_w)
    if h is not None:
        r += 1.0 / (h * area_m2)
    return float(r)


def _phi(zeta: np.ndarray, t: float, h_over_k: float) -> np.ndarray:
    th = np.tanh(zeta * t)
    return (zeta * th + h_over_k) / (zeta + h_over_k * th)


def _strip_sum(
    q: float, area: float, centre: float, width: float, zeta: np.ndarray, t: float, k: float, hk: float
) -> float:
    """One single series of MCY (2003): ``2 sum A_m cos(zeta X) sin(zeta w/2) / (zeta w)`` with
    ``A_m = 2 Q [sin((2X + w) zeta/2) - sin((2X - w) zeta/2)] / (a b w k zeta^2 phi(zeta))``."""
    coef = (
        2
        * q
        * (np.sin((2 * centre + width) * zeta / 2) - np.sin((2 * centre - width) * zeta / 2))
        / (area * width * k * zeta**2 * _phi(zeta, t, hk))
    )
    return float(2 * np.sum(coef * np.cos(zeta * centre) * np.sin(zeta * width / 2) / (zeta * width)))


def source_temperature_rise(
    a: float,
    b: float,
    c: float,
    d: float,
    t: float,
    k: float,
    h: float,
    q: float = 1.0,
    xc: float | None = None,
    yc: float | None = None,
    terms: int = 2000,
) -> float:
    """Mean temperature rise (K) of a ``c x d`` source carrying ``q`` (W) over the ambient (MCY 2003).

    Plate ``a x b`` (m), thickness ``t``, conductivity ``k``, film ``h`` on the far face; the source centre
    ``(xc, yc)`` is measured from a plate corner (``None``: centred). ``terms`` terms in each direction.
    """
    xc = a / 2 if xc is None else xc
    yc = b / 2 if yc is None else yc
    hk = h / k
    m = np.arange(1, terms + 1, dtype=float)
    lam = m * np.pi / a
    dlt = m * np.pi / b
    theta = q * (t / k + 1.0 / h) / (a * b)

    theta += _strip_sum(q, a * b, xc, c, lam, t, k, hk) + _strip_sum(q, a * b, yc, d, dlt, t, k, hk)

    fx = np.cos(lam * xc) * np.sin(lam * c / 2)  # (m,)
    fy = np.cos(dlt * yc) * np.sin(dlt * d / 2)  # (n,)
    keep_x, keep_y = np.abs(fx) > 1e-14, np.abs(fy) > 1e-14  # zero terms (odd m for a centred source)
    lx, ly, fx, fy = lam[keep_x], dlt[keep_y], fx[keep_x], fy[keep_y]
    beta = np.sqrt(lx[:, None] ** 2 + ly[None, :] ** 2)
    a_mn = (
        16
        * q
        * fx[:, None]
        * fy[None, :]
        / (a * b * c * d * k * beta * lx[:, None] * ly[None, :] * _phi(beta, t, hk))
    )
    theta += 4 * np.sum(a_mn * (fx / (lx * c))[:, None] * (fy / (ly * d))[None, :])
    return float(theta)


def spreading_resistance(
    a: float,
    b: float,
    c: float,
    d: float,
    t: float,
    k: float,
    h: float,
    xc: float | None = None,
    yc: float | None = None,
    terms: int = 2000,
) -> float:
    """Spreading resistance ``R_s = theta / Q - (t/k + 1/h) / (a b)`` (K/W) of MCY (2003); see the module doc."""
    theta = source_temperature_rise(a, b, c, d, t, k, h, 1.0, xc, yc, terms)
    return theta - (t / k + 1.0 / h) / (a * b)


def bimetal_curvature(
    t1_m: float,
    t2_m: float,
    q1_pa: float,
    q2_pa: float,
    alpha1_per_k: float,
    alpha2_per_k: float,
    dt_k: float,
) -> float:
    """Curvature (1/m) of a free two-layer strip, layer 1 below layer 2, after a uniform change ``dt_k``.

    Timoshenko (1925): ``kappa = 6 (alpha2 - alpha1) dT (1+m)^2 / (h [3(1+m)^2 + (1+mn)(m^2 + 1/(mn))])`` with
    ``m = t1/t2``, ``n = q1/q2`` and ``h = t1 + t2``. Pass plate moduli ``E/(1-nu)`` for a plate bent equally in
    both directions (the laminate case), Young's moduli for a narrow beam. Positive when the upper layer expands
    more, i.e. the strip bends convex upward (centre above the ends).
    """
    m = t1_m / t2_m
    n = q1_pa / q2_pa
    h = t1_m + t2_m
    denominator = h * (3 * (1 + m) ** 2 + (1 + m * n) * (m**2 + 1 / (m * n)))
    return 6 * (alpha2_per_k - alpha1_per_k) * dt_k * (1 + m) ** 2 / denominator


__all__ = ["bimetal_curvature", "slab_resistance", "source_temperature_rise", "spreading_resistance"]
