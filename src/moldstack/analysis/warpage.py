"""Warpage over a reflow profile: each molded package, and the substrate, as a laminate of homogenised slabs.

Model.

- **Layer stack.** Each placed assembly (molded package) is cut at every z where one of its solids begins or
  ends, between the body's bottom and top faces; the substrate, where the model has one, likewise between its
  laminate's faces. Solids beyond those faces (protrusions, flanges, a die attach under an exposed back) are
  discrete bumps or local pads, not a layer of the plate, and are left out (``left_out_mm3`` lists them).
- **Plan fractions.** In each slab, the area fraction of each material over the body footprint is exact: every
  prism (box, disc, tube, trace) spans the whole slab, so its volume in the slab (:mod:`~moldstack.geometry.volumes`,
  closed form) over the slab's thickness is its area; matrix solids (mold, base, laminate) get what their box
  holds less the inclusions and the higher-rank matrices in it, as :meth:`Model.volumes_by` counts them. Bond
  wires, not prisms, are apportioned by their volume in the slab (centre line sampled at a tenth of the radius).
- **Homogenisation.** Each slab is a Voigt (iso-strain, rule-of-mixtures) mixture in plane: plate modulus
  ``Q = sum f_i Q_i`` with ``Q_i = E_i / (1 - nu_i)``, thermal force ``sum f_i Q_i eps_th,i``, so its CTE is
  ``sum f_i Q_i alpha_i / Q``. Iso-strain is exact for constituents loaded in parallel and an upper bound on the
  stiffness otherwise (R. Hill, Proc. Phys. Soc. A 65 (1952) 349); it spreads a die over the whole footprint.
- **Temperature.** A polymer with a ``tg_c`` expands at ``cte_ppm_k`` below Tg and ``cte_above_tg_ppm_k`` above,
  and has ``youngs_gpa`` below and ``youngs_above_tg_gpa`` (rubbery plateau) above; other properties are
  constant. The free thermal strain ``eps_th(T) = integral from T_ref to T of alpha(T') dT'`` is piecewise linear.
  The stress-free state is the mold cure temperature (``stress_free_c``, 175 C by default: the typical EMC
  schedule is transfer molding at 175 C for 90-120 s and a post-mold cure at 175 C for 4-8 h, as in EMC
  datasheets such as Sumitomo EME-G770H; CAPLINQ's EMC notes give 160-180 C molding and 175 C as the standard
  flow-test temperature).
- **Laminate.** Classical lamination theory (:mod:`~moldstack.analysis.laminate`) in rate form: on each interval
  of the profile between breakpoints (the samples, the stress-free temperature and every Tg) the tangent
  properties are constant and ``d kappa = kappa_CLT(Q(T), alpha(T) dT)``; the curvature and mid-plane strain at
  ``T`` are the sums of the increments from ``T_ref``. A stress built up while the mold was rubbery is thus carried
  at the rubbery modulus; the secant form ``Q(T) (eps - eps_th(T))`` would instead re-load the whole strain
  since cure at the glassy modulus the moment the mold drops below Tg, an unphysical jump in warpage at Tg. With
  constant properties the two forms agree.
- **Path independence.** Elastic and a function of temperature only (no creep, no viscoelastic relaxation,
  no cure shrinkage, no moisture, solder stays solid), so the heating and cooling legs coincide at each
  temperature; the profile samples both legs so that later, history-dependent models can be compared.

Profile: JEDEC J-STD-020-like Pb-free reflow from ``start_c`` (25 C) up to ``peak_c`` (260 C) and back,
sampled every ``step_c`` (5 C) on both legs, plus each Tg in range.

Sign (JEITA ED-7306 / JEDEC JEP95 SPP-024): positive warpage is convex, the body's centre above its corners with
the package top up. With z up and ``kappa = -d^2 w/dx^2``, the mid-surface is ``w(x, y) = -kappa (x^2 + y^2)/2``
about the body centre, the warpage over the body side ``L`` (the longer one) is ``kappa L^2 / 8`` (centre above
the mid-points of the edges) and over the diagonal ``kappa (Lx^2 + Ly^2) / 8`` (centre above the corners).

Accuracy: exact (to rounding) for the laminate as homogenised: two layers match Timoshenko's bimetal to 1e-12,
the slab volumes match :meth:`Model.volumes_by` (prisms to 1e-9, bond wires to 2e-3). The idealisation is the
larger error: the plate bends spherically, as CLT has a free plate do far from its edges, while a real package
with a die smaller than its body curves more over the die than outside it and has free-edge effects a 3D solution
would show; use these figures for trends and a first screen, not sign-off. Reads a
:class:`~moldstack.geometry.model.Model`; knows nothing of checks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moldstack.analysis.laminate import LaminateError, Ply, laminate_response
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box
from moldstack.geometry.volumes import intersection_volume
from moldstack.materials import LIBRARY, Material

UM = 1e-6
JOIN_UM = 1e-6  # z boundaries closer than this are one boundary
MAX_SAMPLES_PER_LEG = 10_000
ABSOLUTE_ZERO_C = -273.15
PACKAGE = "package"
SUBSTRATE = "substrate"

Array = NDArray[np.float64]


class WarpageInputError(ValueError):
    """The warpage analysis cannot run as asked (a bad profile setting, an unknown material)."""


@dataclass(frozen=True)
class WarpageSettings:
    """The reflow profile and the stress-free temperature (C).

    ``start_c`` -> ``peak_c`` -> ``start_c`` in steps of ``step_c`` (J-STD-020 Pb-free peak 260 C);
    ``stress_free_c``: where the packages are flat, the mold cure temperature.
    """

    peak_c: float = 260.0
    start_c: float = 25.0
    step_c: float = 5.0
    stress_free_c: float = 175.0

    def __post_init__(self) -> None:
        for name in ("peak_c", "start_c", "step_c", "stress_free_c"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise WarpageInputError(f"{name}: {value!r} must be a finite number of degrees C")
        if self.start_c <= ABSOLUTE_ZERO_C:
            raise WarpageInputError(f"start_c: {self.start_c:g} C must be above absolute zero (-273.15 C)")
        if self.peak_c <= self.start_c:
            raise WarpageInputError(
                f"peak_c: {self.peak_c:g} C must be above start_c ({self.start_c:g} C); the profile heats from "
                "start_c to peak_c and cools back"
            )
        if self.step_c <= 0:
            raise WarpageInputError(f"step_c: {self.step_c:g} C must be positive")
        samples = (self.peak_c - self.start_c) / self.step_c
        if samples > MAX_SAMPLES_PER_LEG:
            raise WarpageInputError(
                f"step_c: {self.step_c:g} C gives {samples:,.0f} samples from start_c to peak_c "
                f"(limit {MAX_SAMPLES_PER_LEG:,}); use a larger step"
            )
        if self.stress_free_c <= ABSOLUTE_ZERO_C:
            raise WarpageInputError(f"stress_free_c: {self.stress_free_c:g} C must be above absolute zero")

    def heating_c(self, extra: Sequence[float] = ()) -> Array:
        """The heating leg: every ``step_c`` from ``start_c``, the peak, and the ``extra`` temperatures in range."""
        grid = self.start_c + self.step_c * np.arange(math.ceil((self.peak_c - self.start_c) / self.step_c))
        inside = [t for t in extra if self.start_c < t < self.peak_c]
        points = np.unique(np.concatenate([grid, inside, [self.peak_c]]))
        keep = np.concatenate([[True], np.diff(points) > 1e-9])
        return points[keep]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_c": self.start_c,
            "peak_c": self.peak_c,
            "step_c": self.step_c,
            "stress_free_c": self.stress_free_c,
        }


@dataclass(frozen=True)
class Slab:
    """One homogenised layer: ``z0_um..z1_um``, plan-area fraction per material, and its Voigt properties
    at the profile's start (``q_gpa``, ``alpha_ppm_k``) and peak (``q_peak_gpa``, ``alpha_peak_ppm_k``)."""

    z0_um: float
    z1_um: float
    fractions: Mapping[str, float]
    q_gpa: float
    alpha_ppm_k: float
    q_peak_gpa: float
    alpha_peak_ppm_k: float

    @property
    def thickness_um(self) -> float:
        return self.z1_um - self.z0_um

    def to_dict(self) -> dict[str, Any]:
        return {
            "z_um": [self.z0_um, self.z1_um],
            "fractions": dict(self.fractions),
            "q_gpa": self.q_gpa,
            "alpha_ppm_k": self.alpha_ppm_k,
            "q_peak_gpa": self.q_peak_gpa,
            "alpha_peak_ppm_k": self.alpha_peak_ppm_k,
        }


@dataclass(frozen=True, eq=False)
class AssemblyWarpage:
    """One laminate (a package, or the substrate) over the profile; arrays follow ``temperatures_c``.

    ``curvature_1_m`` (positive convex), ``warpage_um`` over the longer body side and ``warpage_diagonal_um``
    over the diagonal (both ``kappa L^2 / 8``), ``midplane_strain`` (in-plane expansion of the mid-surface,
    ``z_mid_um``) since the stress-free temperature. ``centre_um`` and ``size_um`` are the body's plan centre and
    size in the model's frame.
    """

    name: str
    kind: str
    centre_um: tuple[float, float]
    size_um: tuple[float, float]
    z_mid_um: float
    layers: tuple[Slab, ...]
    temperatures_c: Array
    curvature_1_m: Array
    midplane_strain: Array
    left_out_mm3: Mapping[str, float]

    @property
    def side_um(self) -> float:
        return max(self.size_um)

    @property
    def diagonal_um(self) -> float:
        return math.hypot(*self.size_um)

    @property
    def warpage_um(self) -> Array:
        return self.curvature_1_m * (self.side_um * UM) ** 2 / 8 / UM

    @property
    def warpage_diagonal_um(self) -> Array:
        return self.curvature_1_m * (self.diagonal_um * UM) ** 2 / 8 / UM

    @property
    def peak_index(self) -> int:
        """Index of the profile's peak: ``[: peak_index + 1]`` is the heating leg, ``[peak_index:]`` cooling."""
        return int(np.argmax(self.temperatures_c))

    def curvature_at(self, temperature_c: float) -> float:
        """Curvature (1/m) at any temperature of the profile's range (linear between samples)."""
        heat = slice(0, self.peak_index + 1)
        return float(np.interp(temperature_c, self.temperatures_c[heat], self.curvature_1_m[heat]))

    def displacement_um(
        self, x_um: float | Array, y_um: float | Array, temperature_c: float | None = None
    ) -> Array:
        """Out-of-plane displacement (um, + up) of the mid-surface at plan points ``(x_um, y_um)`` of the model's
        frame, relative to the body centre: ``w = -kappa ((x - xc)^2 + (y - yc)^2) / 2``.

        With ``temperature_c`` the result has the shape of ``x`` and ``y`` broadcast; without, one row per
        profile temperature (shape ``(len(temperatures_c), *xy.shape)``).
        """
        dx = (np.asarray(x_um, dtype=float) - self.centre_um[0]) * UM
        dy = (np.asarray(y_um, dtype=float) - self.centre_um[1]) * UM
        r2 = dx * dx + dy * dy
        if temperature_c is not None:
            return -self.curvature_at(temperature_c) * r2 / 2 / UM
        kappa = self.curvature_1_m.reshape((-1,) + (1,) * r2.ndim)
        return -kappa * r2 / 2 / UM

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "centre_um": list(self.centre_um),
            "size_um": list(self.size_um),
            "z_mid_um": self.z_mid_um,
            "layers": [s.to_dict() for s in self.layers],
            "left_out_mm3": dict(self.left_out_mm3),
            "temperature_c": self.temperatures_c.tolist(),
            "curvature_1_m": self.curvature_1_m.tolist(),
            "warpage_um": self.warpage_um.tolist(),
            "warpage_diagonal_um": self.warpage_diagonal_um.tolist(),
            "midplane_strain": self.midplane_strain.tolist(),
        }


@dataclass(frozen=True, eq=False)
class WarpageResult:
    """Warpage of every molded package (``kind`` ``package``) and of the substrate (``substrate``), if any."""

    model: str
    settings: WarpageSettings
    assemblies: tuple[AssemblyWarpage, ...]
    tg_c: Mapping[str, float]

    def assembly(self, name: str) -> AssemblyWarpage:
        for a in self.assemblies:
            if a.name == name:
                return a
        known = ", ".join(a.name for a in self.assemblies)
        raise KeyError(f"no warpage for '{name}'; known: {known}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "units": {"curvature": "1/m", "warpage": "um", "temperature": "C"},
            "sign": "JEITA ED-7306 / JEDEC JEP95 SPP-024: positive = convex (centre above the corners, top up)",
            "method": "classical lamination theory over Voigt-homogenised slabs, rate form, elastic",
            "profile": self.settings.to_dict(),
            "tg_c": dict(self.tg_c),
            "assemblies": [a.to_dict() for a in self.assemblies],
        }


def _plate_modulus_pa(material: Material, t_c: float) -> float:
    """``E / (1 - nu)`` (Pa) at ``t_c``; the rubbery modulus strictly above Tg."""
    above = material.tg_c is not None and material.youngs_above_tg_gpa is not None and t_c > material.tg_c
    e_gpa = material.youngs_above_tg_gpa if above else material.youngs_gpa
    return float(e_gpa) * 1e9 / (1 - material.poisson)


def _cte_per_k(material: Material, t_c: float) -> float:
    above = material.tg_c is not None and material.cte_above_tg_ppm_k is not None and t_c > material.tg_c
    return (material.cte_above_tg_ppm_k if above else material.cte_ppm_k) * UM


def thermal_strain(material: Material, t_c: float, reference_c: float) -> float:
    """Free thermal strain ``integral from reference_c to t_c of alpha(T') dT'`` (alpha switching at Tg)."""

    def primitive(t: float) -> float:
        if material.tg_c is None or material.cte_above_tg_ppm_k is None:
            return material.cte_ppm_k * UM * t
        tg = material.tg_c
        return (material.cte_ppm_k * min(t, tg) + material.cte_above_tg_ppm_k * max(t - tg, 0.0)) * UM

    return primitive(t_c) - primitive(reference_c)


def _voigt(
    fractions: Mapping[str, float], materials: Mapping[str, Material], t_c: float
) -> tuple[float, float]:
    """A slab's plate modulus (Pa) and CTE (1/K) at ``t_c``: ``sum f Q`` and ``sum f Q alpha / sum f Q``."""
    q = sum(f * _plate_modulus_pa(materials[m], t_c) for m, f in fractions.items())
    force = sum(
        f * _plate_modulus_pa(materials[m], t_c) * _cte_per_k(materials[m], t_c) for m, f in fractions.items()
    )
    return q, (force / q if q > 0 else 0.0)


def _ply(
    za: float,
    zb: float,
    fractions: Mapping[str, float],
    materials: Mapping[str, Material],
    ta: float,
    tb: float,
) -> Ply:
    """A slab over ``ta..tb`` (no Tg inside): Voigt plate modulus and free strain increment ``sum f Q d_eps / Q``."""
    mid = 0.5 * (ta + tb)
    moduli = {m: _plate_modulus_pa(materials[m], mid) for m in fractions}
    q = sum(f * moduli[m] for m, f in fractions.items())
    force = sum(f * moduli[m] * thermal_strain(materials[m], tb, ta) for m, f in fractions.items())
    return Ply((zb - za) * UM, q, force / q if q > 0 else 0.0)


def _clip(box: Box, region: Box) -> Box | None:
    x0, y0, z0 = max(box.x0, region.x0), max(box.y0, region.y0), max(box.z0, region.z0)
    x1, y1, z1 = min(box.x1, region.x1), min(box.y1, region.y1), min(box.z1, region.z1)
    if x1 <= x0 or y1 <= y0 or z1 <= z0:
        return None
    return Box(z0=z0, z1=z1, x0=x0, y0=y0, x1=x1, y1=y1)


def _overlapping(bboxes: Array, region: Box) -> NDArray[np.intp]:
    return np.flatnonzero(
        (bboxes[:, 0] < region.x1)
        & (bboxes[:, 3] > region.x0)
        & (bboxes[:, 1] < region.y1)
        & (bboxes[:, 4] > region.y0)
        & (bboxes[:, 2] < region.z1)
        & (bboxes[:, 5] > region.z0)
    )


@dataclass(frozen=True)
class _Occupancy:
    """The solids of one laminate, split into inclusions and matrices, with the inclusions' boxes."""

    inclusions: tuple[Solid, ...]
    matrices: tuple[Solid, ...]
    bboxes: Array

    @classmethod
    def of(cls, solids: Sequence[Solid]) -> _Occupancy:
        inclusions = tuple(s for s in solids if not s.matrix)
        boxes = np.array([s.shape.bbox for s in inclusions]) if inclusions else np.zeros((0, 6))
        return cls(inclusions, tuple(s for s in solids if s.matrix), boxes)

    def inclusion_volumes(self, region: Box) -> dict[str, float]:
        """Volume (um^3) of each inclusion material inside ``region``."""
        out: dict[str, float] = {}
        for i in _overlapping(self.bboxes, region):
            s = self.inclusions[i]
            out[s.material] = out.get(s.material, 0.0) + intersection_volume(s.shape, region)
        return out

    def matrix_volume(self, matrix: Solid, region: Box) -> float:
        """What ``matrix`` holds inside ``region``: its box there, less the inclusions and higher-rank matrices."""
        assert isinstance(matrix.shape, Box)
        box = _clip(matrix.shape, region)
        if box is None:
            return 0.0
        taken = sum(self.inclusion_volumes(box).values())
        taken += sum(self.matrix_volume(h, box) for h in self.matrices if h.rank > matrix.rank)
        return box.volume - taken

    def fractions(self, region: Box) -> dict[str, float]:
        """Volume fraction of each material in ``region`` (= plan-area fraction for prisms spanning it)."""
        volumes = self.inclusion_volumes(region)
        for m in self.matrices:
            volumes[m.material] = volumes.get(m.material, 0.0) + self.matrix_volume(m, region)
        return {k: float(v / region.volume) for k, v in sorted(volumes.items()) if v > 1e-12 * region.volume}


def _z_cuts(solids: Sequence[Solid], z0: float, z1: float) -> list[float]:
    inner = sorted({v for s in solids for v in (s.shape.bbox[2], s.shape.bbox[5]) if z0 < v < z1})
    cuts = [z0]
    for z in [*inner, z1]:
        if z - cuts[-1] > JOIN_UM:
            cuts.append(z)
    cuts[-1] = z1
    return cuts


def _layer_fractions(solids: Sequence[Solid], footprint: Box) -> list[tuple[float, float, dict[str, float]]]:
    """``(z0, z1, fractions)`` of each slab between the footprint's faces."""
    occupancy = _Occupancy.of(solids)
    cuts = _z_cuts(solids, footprint.z0, footprint.z1)
    return [
        (
            za,
            zb,
            occupancy.fractions(
                Box(z0=za, z1=zb, x0=footprint.x0, y0=footprint.y0, x1=footprint.x1, y1=footprint.y1)
            ),
        )
        for za, zb in itertools.pairwise(cuts)
    ]


def _left_out(solids: Sequence[Solid], footprint: Box) -> dict[str, float]:
    """Volume (mm^3) per role of the solids that lie outside the laminate's box."""
    out: dict[str, float] = {}
    for s in solids:
        outside = s.shape.volume - intersection_volume(s.shape, footprint)
        if outside > 1e-6 * max(s.shape.volume, 1.0):
            out[s.role] = out.get(s.role, 0.0) + outside * 1e-9
    return dict(sorted(out.items()))


def _breakpoints(settings: WarpageSettings, heating: Array, tgs: Sequence[float]) -> Array:
    """Every temperature the rate-form integration must step to: the samples, the reference and each Tg."""
    return np.unique(np.concatenate([heating, [settings.stress_free_c], list(tgs)]))


def _integrate(
    slabs: Sequence[tuple[float, float, dict[str, float]]],
    materials: Mapping[str, Material],
    knots: Array,
    reference_c: float,
) -> tuple[Array, Array]:
    """Curvature (1/m) and mid-plane strain at each knot, zero at ``reference_c`` (one of the knots)."""
    dkappa = np.zeros(len(knots))
    dstrain = np.zeros(len(knots))
    for i in range(1, len(knots)):
        ta, tb = float(knots[i - 1]), float(knots[i])
        plies = [_ply(za, zb, fractions, materials, ta, tb) for za, zb, fractions in slabs]
        response = laminate_response(plies)
        dkappa[i] = response.kappa_1_m
        dstrain[i] = response.midplane_strain
    ref = int(np.flatnonzero(np.isclose(knots, reference_c, rtol=0, atol=1e-9))[0])
    kappa = np.cumsum(dkappa)
    strain = np.cumsum(dstrain)
    return kappa - kappa[ref], strain - strain[ref]


def _slab(
    za: float,
    zb: float,
    fractions: dict[str, float],
    materials: Mapping[str, Material],
    settings: WarpageSettings,
) -> Slab:
    q, alpha = _voigt(fractions, materials, settings.start_c)
    q_hot, alpha_hot = _voigt(fractions, materials, settings.peak_c)
    return Slab(za, zb, fractions, q / 1e9, alpha / UM, q_hot / 1e9, alpha_hot / UM)


def _laminate(
    name: str,
    kind: str,
    solids: Sequence[Solid],
    footprint: Box,
    materials: Mapping[str, Material],
    settings: WarpageSettings,
    heating: Array,
    knots: Array,
) -> AssemblyWarpage:
    slabs = _layer_fractions(solids, footprint)
    try:
        kappa, strain = _integrate(slabs, materials, knots, settings.stress_free_c)
    except LaminateError as exc:
        raise WarpageInputError(f"{name}: {exc}") from exc
    temperatures = np.concatenate([heating, heating[-2::-1]])
    at = np.searchsorted(knots, temperatures)
    return AssemblyWarpage(
        name=name,
        kind=kind,
        centre_um=((footprint.x0 + footprint.x1) / 2, (footprint.y0 + footprint.y1) / 2),
        size_um=(footprint.x1 - footprint.x0, footprint.y1 - footprint.y0),
        z_mid_um=(footprint.z0 + footprint.z1) / 2,
        layers=tuple(_slab(za, zb, f, materials, settings) for za, zb, f in slabs),
        temperatures_c=temperatures,
        curvature_1_m=kappa[at],
        midplane_strain=strain[at],
        left_out_mm3=_left_out(solids, footprint),
    )


def _laminates(model: Model) -> list[tuple[str, str, list[Solid], Box]]:
    """Each package (its solids and body box) and the substrate (its solids and laminate box), bottom to top."""
    out: list[tuple[str, str, list[Solid], Box]] = []
    if model.substrate_part is not None:
        laminate = next(
            (s for s in model.by_role("substrate") if s.matrix and isinstance(s.shape, Box)), None
        )
        if laminate is not None:
            assert isinstance(laminate.shape, Box)
            out.append((model.substrate_part, SUBSTRATE, model.by_role("substrate"), laminate.shape))
    for a in model.assemblies:
        body = Box(z0=a.z_bottom, z1=a.z_top, x0=a.x0, y0=a.y0, x1=a.x1, y1=a.y1)
        out.append((a.name, PACKAGE, [s for s in model.solids if s.assembly == a.name], body))
    return out


def warpage(model: Model, settings: WarpageSettings | None = None) -> WarpageResult:
    """Warpage of each molded package of ``model`` (and of its substrate) over the reflow profile.

    See the module docstring for the model, its assumptions, the sign convention and the sources.
    Raises :class:`WarpageInputError` when a solid's material is unknown or a laminate has no stiffness.
    """
    settings = settings or WarpageSettings()
    materials: Mapping[str, Material] = model.materials or LIBRARY
    laminates = _laminates(model)
    used = {s.material for _, _, solids, _ in laminates for s in solids}
    unknown = sorted(used - set(materials))
    if unknown:
        raise WarpageInputError(
            f"materials: {', '.join(repr(u) for u in unknown)} not in the model's materials; "
            f"known: {', '.join(sorted(materials))}"
        )
    tg = {
        m: float(materials[m].tg_c)
        for m in sorted(used)
        if materials[m].tg_c is not None
        and (materials[m].cte_above_tg_ppm_k is not None or materials[m].youngs_above_tg_gpa is not None)
    }
    heating = settings.heating_c(tuple(tg.values()))
    knots = _breakpoints(settings, heating, tuple(tg.values()))
    results = tuple(
        _laminate(name, kind, solids, box, materials, settings, heating, knots)
        for name, kind, solids, box in laminates
    )
    return WarpageResult(model.name, settings, results, tg)


__all__ = [
    "AssemblyWarpage",
    "Slab",
    "WarpageInputError",
    "WarpageResult",
    "WarpageSettings",
    "thermal_strain",
    "warpage",
]
