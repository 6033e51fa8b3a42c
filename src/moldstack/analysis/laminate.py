"""Classical lamination theory for a stack of in-plane isotropic layers under a free thermal strain.

Model (Kirchhoff plate; e.g. R. M. Jones, *Mechanics of Composite Materials*, 2nd ed. (1999), ch. 4). Each
layer ``k`` spans ``z_k0 .. z_k1`` and has the plate modulus ``Q_k = E_k / (1 - nu_k)`` and a free thermal strain
``eps_th,k`` that is the same in every in-plane direction. For such layers a free plate away from its edges
deforms equally in x and y (spherical bending), so the in-plane strain is ``eps(z) = eps0 + z kappa`` with one
strain ``eps0`` at the reference plane ``z = 0`` and one curvature ``kappa``, and the stress is
``sigma_k(z) = Q_k (eps(z) - eps_th,k)``. With

    A = sum Q_k (z_k1 - z_k0),   B = sum Q_k (z_k1^2 - z_k0^2) / 2,   D = sum Q_k (z_k1^3 - z_k0^3) / 3,
    N_T = sum Q_k eps_th,k (z_k1 - z_k0),   M_T = sum Q_k eps_th,k (z_k1^2 - z_k0^2) / 2,

zero net force and moment give ``[A B; B D] [eps0; kappa] = [N_T; M_T]``, so

    kappa = (A M_T - B N_T) / (A D - B^2),   eps0 = (D N_T - B M_T) / (A D - B^2).

All four sums use the same ``z``; ``kappa`` does not depend on where ``z = 0`` is put (``eps0`` does: it is the
strain at that plane). Sign: z up, ``kappa = -d^2 w / dx^2``; positive ``kappa`` stretches the top more than the
bottom, so the plate bows convex upward (centre above the edges). Two layers reduce exactly to Timoshenko's
bimetal strip (:func:`moldstack.fields.closed_forms.bimetal_curvature`). SI units; knows nothing of packages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class LaminateError(ValueError):
    """The layers do not make a plate (no layers, a layer of no thickness, or no stiffness at all)."""


@dataclass(frozen=True)
class Ply:
    """One layer: thickness (m), plate modulus ``E/(1-nu)`` (Pa) and free thermal strain (equal in x and y)."""

    thickness_m: float
    q_pa: float
    eps_th: float


@dataclass(frozen=True)
class LaminateResponse:
    """The stiffness sums, thermal resultants and the free plate's deformation (z from the chosen reference).

    ``a`` (N/m), ``b`` (N), ``d`` (N m), ``n_t`` (N/m), ``m_t`` (N); ``eps0`` is the strain at ``z = 0``,
    ``kappa_1_m`` the curvature; ``z_bottom_m`` and ``z_top_m`` locate the laminate's faces.
    """

    a: float
    b: float
    d: float
    n_t: float
    m_t: float
    eps0: float
    kappa_1_m: float
    z_bottom_m: float
    z_top_m: float

    def strain_at(self, z_m: float) -> float:
        """Total in-plane strain at height ``z_m`` (same reference as the layers)."""
        return self.eps0 + z_m * self.kappa_1_m

    @property
    def midplane_strain(self) -> float:
        """Strain at the geometric mid-plane, half-way between the two faces."""
        return self.strain_at(0.5 * (self.z_bottom_m + self.z_top_m))


def laminate_response(plies: Sequence[Ply], z_bottom_m: float | None = None) -> LaminateResponse:
    """Solve the laminate ``plies`` (listed bottom to top) for its free thermal deformation.

    ``z_bottom_m`` is the height of the bottom face above the reference plane ``z = 0``; ``None`` puts the
    reference at the geometric mid-plane (``-h/2``), which keeps the sums well conditioned.
    """
    if not plies:
        raise LaminateError("a laminate needs at least one layer")
    for i, ply in enumerate(plies):
        if not ply.thickness_m > 0:
            raise LaminateError(f"layer {i}: thickness {ply.thickness_m} m must be positive")
        if ply.q_pa < 0:
            raise LaminateError(f"layer {i}: plate modulus {ply.q_pa} Pa must not be negative")
    total = sum(p.thickness_m for p in plies)
    z = -total / 2 if z_bottom_m is None else z_bottom_m
    z_bottom = z
    a = b = d = n_t = m_t = 0.0
    for ply in plies:
        z0, z1 = z, z + ply.thickness_m
        a += ply.q_pa * (z1 - z0)
        b += ply.q_pa * (z1**2 - z0**2) / 2
        d += ply.q_pa * (z1**3 - z0**3) / 3
        n_t += ply.q_pa * ply.eps_th * (z1 - z0)
        m_t += ply.q_pa * ply.eps_th * (z1**2 - z0**2) / 2
        z = z1
    det = a * d - b * b
    if not det > 0:
        raise LaminateError("the laminate has no bending stiffness (every layer has zero modulus)")
    return LaminateResponse(
        a=a,
        b=b,
        d=d,
        n_t=n_t,
        m_t=m_t,
        eps0=(d * n_t - b * m_t) / det,
        kappa_1_m=(a * m_t - b * n_t) / det,
        z_bottom_m=z_bottom,
        z_top_m=z,
    )


__all__ = ["LaminateError", "LaminateResponse", "Ply", "laminate_response"]
