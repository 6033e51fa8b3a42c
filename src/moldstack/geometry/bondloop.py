"""The shape of a ball-stitch bond wire: vertical neck from the ball, rounded crown, long span to the stitch.

The centre line is a cubic Bezier with a vertical start tangent (the neck the capillary draws up from the ball)
and a horizontal tangent over the first third of the span (the kink and crown of a JEDEC-style forward loop),
descending to the stitch. Its control height is solved in closed form so the top of the wire sits exactly ``loop_height`` above
the contact surface. Sampled into a polyline for the :class:`~moldstack.geometry.primitives.Wire` sweep.
"""

from __future__ import annotations

import numpy as np

CROWN_FRACTION = 0.3
SEGMENTS = 24


def _bezier(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    u = 1 - t
    return (
        (u**3)[:, None] * p[0]
        + (3 * u * u * t)[:, None] * p[1]
        + (3 * u * t * t)[:, None] * p[2]
        + (t**3)[:, None] * p[3]
    )


def bond_loop(
    start: tuple[float, float, float],
    end: tuple[float, float, float],
    crown_z: float,
    segments: int = SEGMENTS,
) -> tuple[tuple[float, float, float], ...]:
    """Centre-line polyline from ``start`` (top of the ball) to ``end`` (stitch), peaking at ``crown_z``.

    ``crown_z`` must be above both ends. The highest point of the curve (sampled at 401 parameters) equals
    ``crown_z``.
    """
    s = np.asarray(start, dtype=float)
    e = np.asarray(end, dtype=float)
    if crown_z <= max(s[2], e[2]):
        raise ValueError(f"crown {crown_z:.1f} um is not above both wire ends ({s[2]:.1f}, {e[2]:.1f} um)")
    t = np.linspace(0.0, 1.0, 401)
    horizontal = e[:2] - s[:2]

    def controls(zc: float) -> np.ndarray:
        return np.array(
            [
                s,
                [s[0], s[1], zc],
                [*(s[:2] + CROWN_FRACTION * horizontal), zc],
                e,
            ]
        )

    # z(t) = f(t) + zc g(t) with g = 3t(1-t) > 0 inside (0, 1): the crown equals crown_z exactly when
    # zc = min over t of (crown_z - f(t)) / g(t).
    inner = t[1:-1]
    f = s[2] * (1 - inner) ** 3 + e[2] * inner**3
    g = 3 * inner * (1 - inner)
    zc = float(np.min((crown_z - f) / g))
    ctrl = controls(zc)
    peak_t = t[int(np.argmax(_bezier(ctrl, t)[:, 2]))]
    # Sample densely near the neck and crown where the curvature is, always including the crown itself.
    ts = np.unique(np.concatenate([(np.linspace(0, 1, segments + 1)) ** 1.5, [peak_t]]))
    pts = _bezier(ctrl, ts)
    return tuple((float(x), float(y), float(z)) for x, y, z in pts)
