"""Stack compatibility (claims 5-6): does the upper package land on the lower one, and stay landed through reflow?

For every interface of the model (each level on the one below, and the lowest level on the substrate) it judges:

- **interface map**: the same number of units, each upper unit within the stack's ``position_tolerance_um`` of a
  lower one; when they do not align, the median offset of the nearest neighbours says by how much, and as a
  fraction of the pitch;
- **nets**: a matched pair whose two units carry different *declared* nets (names the user gave) is a short
  through the stack;
- **joint height vs the gap**: the molten joint's unloaded height by the truncated-sphere model
  (:mod:`moldstack.analysis.solder_joint`), the collapse from the joint as placed, the bodies' clearance after
  collapse, and whether the as-built gaps differ by more than the collapse can take up;
- **warpage mismatch over reflow**: from each package's curvature (:mod:`moldstack.analysis.warpage`), the gap
  change at every joint, ``dg = w_upper(x, y) - w_lower(x, y)`` with ``w = -kappa r^2 / 2`` about each body's
  centre. While the solder is molten (at or above its liquidus on the profile) the upper package floats on its
  joints and settles where the deviations from the unloaded height balance (their mean is zero); a joint then
  opened by more than the collapse margin ``h - h_eq`` cannot have been reached by its ball (a **non-wet open**),
  and a joint squeezed until its barrel is wider than the pitch less ``bridge_clearance_um`` touches its
  neighbour (a **bridge**). The mismatch (largest minus smallest gap change) and each package's own warpage are
  also held against a JEITA-style limit for the pitch: 0.17 mm at 0.8 mm pitch (JEITA ED-7306, as quoted in
  the design notes), scaled in proportion to the pitch unless given;
- **stack height** as built and after the joints collapse, against an optional maximum.

One verdict, ``compatible`` or ``incompatible``, with the reasons. A design with no interface (one package, no
substrate) is ``not stacked``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from moldstack.analysis.solder_joint import JointShape, bulge_diameter, joint_shape
from moldstack.geometry.builder import match_units
from moldstack.geometry.model import InterfaceInfo, Model, PlacedAssembly, Solid

if TYPE_CHECKING:
    from moldstack.analysis.warpage import AssemblyWarpage, WarpageResult

JEITA_LIMIT_UM = 170.0
"""JEITA ED-7306-style permissible warpage at 0.8 mm pitch (design notes, physics.md), scaled with pitch."""
JEITA_PITCH_UM = 800.0
ALIGNED_UM = 1e-6


@dataclass(frozen=True)
class StackSettings:
    """Limits of the stack verdict; every one is a setting, with the default's basis in its comment."""

    bridge_clearance_um: float = 0.0  # least gap between neighbouring molten joints (0: touching is a bridge)
    min_body_clearance_um: float = 0.0  # least gap between the bodies after the joints collapse
    jeita_limit_um: float | None = None  # None: 170 um x pitch / 800 um (JEITA ED-7306 at 0.8 mm pitch)
    max_stack_height_um: float | None = None  # None: report only


@dataclass(frozen=True)
class Finding:
    """One judgement: ``fail`` findings make the verdict incompatible, ``warn`` and ``info`` do not."""

    rule: str
    severity: str
    interface: str
    message: str
    value: float | None = None
    limit: float | None = None
    unit: str = "um"
    temperatures_c: tuple[float, ...] = ()
    location_um: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "interface": self.interface,
            "message": self.message,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
            "temperatures_c": list(self.temperatures_c),
            "location_um": list(self.location_um) if self.location_um else None,
        }


@dataclass(frozen=True)
class InterfaceResult:
    """What was measured at one interface; arrays follow ``temperatures_c`` of the warpage profile."""

    lower: str
    upper: str
    upper_units: int
    lower_units: int
    matched: int
    unmatched_upper: tuple[str, ...]
    unmatched_lower: tuple[str, ...]
    offset_um: tuple[float, float]
    pitch_um: float | None
    net_mismatches: tuple[tuple[str, str, str, str], ...]
    joint_height_um: float
    joint_diameter_um: float
    joint_volume_um3: float
    lower_end_radius_um: float
    upper_end_radius_um: float
    equilibrium_height_um: float
    equilibrium_diameter_um: float
    gap_range_um: tuple[float, float]
    body_clearance_um: float | None
    body_clearance_after_reflow_um: float | None
    liquidus_c: float | None
    jeita_limit_um: float | None
    temperatures_c: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mismatch_um: np.ndarray = field(default_factory=lambda: np.zeros(0))
    max_open_um: np.ndarray = field(default_factory=lambda: np.zeros(0))
    max_close_um: np.ndarray = field(default_factory=lambda: np.zeros(0))
    widest_joint_um: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def name(self) -> str:
        return f"{self.upper} on {self.lower}"

    @property
    def open_margin_um(self) -> float:
        """How far a joint may open beyond the settled height and still have been reached by its ball."""
        return max(self.joint_height_um - self.equilibrium_height_um, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lower": self.lower,
            "upper": self.upper,
            "units": {"upper": self.upper_units, "lower": self.lower_units, "matched": self.matched},
            "unmatched_upper": list(self.unmatched_upper),
            "unmatched_lower": list(self.unmatched_lower),
            "offset_um": list(self.offset_um),
            "pitch_um": self.pitch_um,
            "net_mismatches": [
                {"upper_unit": u, "upper_net": un, "lower_unit": lo, "lower_net": ln}
                for u, un, lo, ln in self.net_mismatches
            ],
            "joint": {
                "height_um": self.joint_height_um,
                "diameter_um": self.joint_diameter_um,
                "volume_um3": self.joint_volume_um3,
                "lower_end_radius_um": self.lower_end_radius_um,
                "upper_end_radius_um": self.upper_end_radius_um,
                "equilibrium_height_um": self.equilibrium_height_um,
                "equilibrium_diameter_um": self.equilibrium_diameter_um,
                "open_margin_um": self.open_margin_um,
                "model": "truncated sphere (Heinrich et al. 1996)",
            },
            "gap_range_um": list(self.gap_range_um),
            "body_clearance_um": self.body_clearance_um,
            "body_clearance_after_reflow_um": self.body_clearance_after_reflow_um,
            "liquidus_c": self.liquidus_c,
            "jeita_limit_um": self.jeita_limit_um,
            "profile": {
                "temperature_c": self.temperatures_c.tolist(),
                "mismatch_um": self.mismatch_um.tolist(),
                "max_open_um": self.max_open_um.tolist(),
                "max_close_um": self.max_close_um.tolist(),
                "widest_joint_um": self.widest_joint_um.tolist(),
            },
        }


@dataclass(frozen=True)
class StackResult:
    """The stack-compatibility verdict with its reasons, the findings and the measurements per interface."""

    verdict: str
    findings: tuple[Finding, ...]
    interfaces: tuple[InterfaceResult, ...]
    height_um: float
    height_after_reflow_um: float
    settings: StackSettings
    seconds: float

    @property
    def passed(self) -> bool:
        return self.verdict != "incompatible"

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings if f.severity == "fail")

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "passed": self.passed,
            "reasons": list(self.reasons),
            "height_um": self.height_um,
            "height_after_reflow_um": self.height_after_reflow_um,
            "findings": [f.to_dict() for f in self.findings],
            "interfaces": [i.to_dict() for i in self.interfaces],
            "settings": {
                "bridge_clearance_um": self.settings.bridge_clearance_um,
                "min_body_clearance_um": self.settings.min_body_clearance_um,
                "jeita_limit_um": self.settings.jeita_limit_um,
                "max_stack_height_um": self.settings.max_stack_height_um,
            },
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class _End:
    """A joint's wetting end: unit (or land) name, plan position, z of the face and equivalent radius."""

    name: str
    x: float
    y: float
    z: float
    radius: float
    net: str | None


def _f(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 10 else f"{x:.3g}"


def _end(
    model: Model, name: str, x: float, y: float, net: str | None, solids: Sequence[str], top: bool
) -> _End:
    """The face a joint wets: the conductor solids reaching the unit's top (or bottom), as one equivalent disc."""
    shapes = [model.solid(s) for s in solids]
    conductors = [s for s in shapes if _conducts(model, s)] or shapes
    z = max(s.shape.bbox[5] for s in conductors) if top else min(s.shape.bbox[2] for s in conductors)
    at_face = [s for s in conductors if abs((s.shape.bbox[5] if top else s.shape.bbox[2]) - z) < 1e-6]
    area = sum(float(getattr(s.shape, "area", 0.0)) for s in at_face)
    return _End(name, x, y, z, math.sqrt(area / math.pi), net)


def _conducts(model: Model, solid: Solid) -> bool:
    material = model.materials.get(solid.material)
    return bool(material and material.conductor)


def _is_declared(net: str | None, assembly: PlacedAssembly) -> bool:
    """Whether ``net`` is a name the user gave (not one moldstack made from a contact's name)."""
    if net is None:
        return False
    prefix = f"{assembly.name}/"
    contacts = {c.name for d in assembly.dies for c in d.contacts}
    return not (net.startswith(prefix) and net[len(prefix) :] in contacts)


def _pitch(points: np.ndarray) -> float | None:
    if len(points) < 2:
        return None
    d = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(d, np.inf)
    return float(np.median(d.min(axis=1)))


def _warp(warpage: WarpageResult | None, name: str) -> AssemblyWarpage | None:
    """The warpage of package (or substrate) ``name`` over the profile, if the result has it."""
    if warpage is None:
        return None
    return next((a for a in warpage.assemblies if a.name == name), None)


def _lower_ends(model: Model, iface: InterfaceInfo) -> tuple[list[_End], float | None]:
    """The lower side's wetting ends and the top of its body (None where it has none to collide with)."""
    if iface.lower == model.substrate_part:
        lands = model.by_role("substrate.land")
        ends = [
            _End(
                s.part,
                (s.shape.bbox[0] + s.shape.bbox[3]) / 2,
                (s.shape.bbox[1] + s.shape.bbox[4]) / 2,
                s.shape.bbox[5],
                math.sqrt(float(getattr(s.shape, "area", 0.0)) / math.pi),
                s.net,
            )
            for s in lands
        ]
        body = [s.shape.bbox[5] for s in model.solids if s.part == iface.lower and s.matrix]
        return ends, max(body) if body else None
    below = next(a for a in model.assemblies if a.name == iface.lower)
    ends = [_end(model, f"{below.name}/{u.name}", u.x, u.y, u.net, u.solids, top=True) for u in below.units]
    return ends, below.z_top


def _interface(
    model: Model,
    iface: InterfaceInfo,
    warpage: WarpageResult | None,
    temperatures: np.ndarray,
    settings: StackSettings,
    findings: list[Finding],
) -> InterfaceResult:
    above = next(a for a in model.assemblies if a.name == iface.upper)
    label = f"{iface.upper} on {iface.lower}"
    uppers = [
        _end(model, f"{above.name}/{u.name}", u.x, u.y, u.net, u.solids, top=False) for u in above.units
    ]
    lowers, lower_body_top = _lower_ends(model, iface)
    tolerance = max(iface.tolerance_um, ALIGNED_UM)
    pairs, lonely_up, lonely_low = match_units(
        [(e.name, e.x, e.y) for e in uppers], [(e.name, e.x, e.y) for e in lowers], tolerance
    )
    up_by = {e.name: e for e in uppers}
    low_by = {e.name: e for e in lowers}
    pu = np.array([(e.x, e.y) for e in uppers]) if uppers else np.zeros((0, 2))
    pl = np.array([(e.x, e.y) for e in lowers]) if lowers else np.zeros((0, 2))
    pitch = _pitch(pu)
    offset = (0.0, 0.0)
    if len(pu) and len(pl):
        nearest = pl[np.linalg.norm(pu[:, None] - pl[None], axis=2).argmin(axis=1)]
        d = pu - nearest
        offset = (float(np.median(d[:, 0])), float(np.median(d[:, 1])))
    _map_findings(label, iface, uppers, lowers, lonely_up, lonely_low, offset, pitch, findings)

    mismatches: list[tuple[str, str, str, str]] = []
    if iface.lower != model.substrate_part:
        below = next(a for a in model.assemblies if a.name == iface.lower)
        for up, low in pairs:
            a, b = up_by[up], low_by[low]
            if _is_declared(a.net, above) and _is_declared(b.net, below) and a.net != b.net:
                mismatches.append((up, str(a.net), low, str(b.net)))
        if mismatches:
            listed = "; ".join(f"{u} ({un}) on {lo} ({ln})" for u, un, lo, ln in mismatches[:4])
            findings.append(
                Finding(
                    "interface_nets",
                    "fail",
                    label,
                    f"{label}: {len(mismatches)} joint(s) join units of different nets: {listed}",
                    value=float(len(mismatches)),
                    limit=0.0,
                    unit="joints",
                )
            )

    h = iface.joint_height_um
    volume = math.pi * (iface.joint_diameter_um / 2) ** 2 * h
    matched = [(up_by[u], low_by[w]) for u, w in pairs]
    a_low = float(np.median([lo.radius for _, lo in matched])) if matched else iface.joint_diameter_um / 2
    b_up = float(np.median([up.radius for up, _ in matched])) if matched else iface.joint_diameter_um / 2
    shape = joint_shape(volume, a_low, b_up)
    gaps = [up.z - lo.z for up, lo in matched] or [h]
    gap_range = (float(min(gaps)), float(max(gaps)))
    margin = max(h - shape.equilibrium_height_um, 0.0)
    collapse = h - shape.equilibrium_height_um
    clearance = None if lower_body_top is None else above.z_bottom - lower_body_top
    after = None if clearance is None else clearance - collapse
    _joint_findings(label, iface, shape, gap_range, margin, pitch, after, settings, findings)

    material = model.materials.get(iface.joint_material)
    liquidus = material.melting_c if material else None
    jeita = settings.jeita_limit_um
    if jeita is None and pitch is not None:
        jeita = JEITA_LIMIT_UM * pitch / JEITA_PITCH_UM

    warp_up, warp_low = _warp(warpage, iface.upper), _warp(warpage, iface.lower)
    nt = len(temperatures)
    mismatch = np.zeros(nt)
    max_open = np.zeros(nt)
    max_close = np.zeros(nt)
    widest = np.full(nt, shape.equilibrium_diameter_um)
    if warpage is not None and matched:
        xy = np.array([(up.x, up.y) for up, _ in matched])
        dg = np.zeros((nt, len(matched)))  # gap change at each joint, (temperatures, joints)
        for warp, sign in ((warp_up, 1.0), (warp_low, -1.0)):
            if warp is not None:
                dg += sign * warp.displacement_um(xy[:, 0], xy[:, 1])
        for name, warp in ((iface.upper, warp_up), (iface.lower, warp_low)):
            if warp is None:
                findings.append(
                    Finding("warpage", "info", label, f"{label}: no warpage for '{name}'; taken as flat")
                )
            elif warp.kind == "package" and jeita is not None:
                _own_warpage(label, warp, jeita, findings)
        mismatch = dg.max(axis=1) - dg.min(axis=1)
        settled = dg - dg.mean(axis=1, keepdims=True)
        max_open = settled.max(axis=1)
        max_close = -settled.min(axis=1)
        for k in range(nt):
            g = shape.equilibrium_height_um - max_close[k]
            widest[k] = bulge_diameter(volume, a_low, b_up, g) if g > 0 else math.inf
        molten = temperatures >= liquidus if liquidus is not None else np.zeros(nt, dtype=bool)
        _warpage_findings(
            label,
            temperatures,
            molten,
            settled,
            xy,
            margin,
            widest,
            pitch,
            settings,
            jeita,
            mismatch,
            findings,
        )
    return InterfaceResult(
        lower=iface.lower,
        upper=iface.upper,
        upper_units=len(uppers),
        lower_units=len(lowers),
        matched=len(pairs),
        unmatched_upper=tuple(lonely_up),
        unmatched_lower=tuple(lonely_low),
        offset_um=offset,
        pitch_um=pitch,
        net_mismatches=tuple(mismatches),
        joint_height_um=h,
        joint_diameter_um=iface.joint_diameter_um,
        joint_volume_um3=volume,
        lower_end_radius_um=a_low,
        upper_end_radius_um=b_up,
        equilibrium_height_um=shape.equilibrium_height_um,
        equilibrium_diameter_um=shape.equilibrium_diameter_um,
        gap_range_um=gap_range,
        body_clearance_um=clearance,
        body_clearance_after_reflow_um=after,
        liquidus_c=liquidus,
        jeita_limit_um=jeita,
        temperatures_c=temperatures,
        mismatch_um=mismatch,
        max_open_um=max_open,
        max_close_um=max_close,
        widest_joint_um=widest,
    )


def _map_findings(
    label: str,
    iface: InterfaceInfo,
    uppers: Sequence[_End],
    lowers: Sequence[_End],
    lonely_up: Sequence[str],
    lonely_low: Sequence[str],
    offset: tuple[float, float],
    pitch: float | None,
    findings: list[Finding],
) -> None:
    if len(uppers) != len(lowers):
        findings.append(
            Finding(
                "interface_count",
                "fail",
                label,
                f"{label}: '{iface.upper}' has {len(uppers)} units on its bottom face but '{iface.lower}' has "
                f"{len(lowers)} on its top face; the interface maps must match in count",
                value=float(len(uppers)),
                limit=float(len(lowers)),
                unit="units",
            )
        )
    if not lonely_up and not lonely_low:
        return
    shift = math.hypot(*offset)
    of_pitch = f" ({shift / pitch:.2f} of the {_f(pitch)} um pitch)" if pitch else ""
    first = next(e for e in uppers if e.name == lonely_up[0]) if lonely_up else None
    findings.append(
        Finding(
            "interface_position",
            "fail",
            label,
            f"{label}: {len(uppers) - len(lonely_up)} of {len(uppers)} units of '{iface.upper}' align with a unit "
            f"of '{iface.lower}' within {_f(iface.tolerance_um)} um (position_tolerance_um); '{iface.upper}' sits "
            f"({_f(offset[0])}, {_f(offset[1])}) um off them{of_pitch}"
            + (f"; first unaligned: {lonely_up[0]} at ({_f(first.x)}, {_f(first.y)}) um" if first else ""),
            value=shift,
            limit=iface.tolerance_um,
            location_um=(first.x, first.y) if first else None,
        )
    )


def _joint_findings(
    label: str,
    iface: InterfaceInfo,
    shape: JointShape,
    gap_range: tuple[float, float],
    margin: float,
    pitch: float | None,
    after: float | None,
    settings: StackSettings,
    findings: list[Finding],
) -> None:
    h_eq = shape.equilibrium_height_um
    findings.append(
        Finding(
            "joint_height",
            "info",
            label,
            f"{label}: joints {_f(iface.joint_height_um)} um high as placed settle to {_f(h_eq)} um molten "
            f"(truncated sphere between ends of {_f(2 * shape.lower_radius_um)} and "
            f"{_f(2 * shape.upper_radius_um)} um), {_f(shape.equilibrium_diameter_um)} um wide",
            value=h_eq,
            limit=iface.joint_height_um,
        )
    )
    spread = gap_range[1] - gap_range[0]
    if spread > margin + 1e-9:
        findings.append(
            Finding(
                "joint_gap",
                "fail",
                label,
                f"{label}: the gaps the joints must span differ by {_f(spread)} um, more than the "
                f"{_f(margin)} um the joints collapse; the longest gaps would not be reached",
                value=spread,
                limit=margin,
            )
        )
    if after is not None and after < settings.min_body_clearance_um:
        findings.append(
            Finding(
                "body_clearance",
                "fail",
                label,
                f"{label}: after the joints collapse to {_f(h_eq)} um the bodies are {_f(after)} um apart "
                f"(min {_f(settings.min_body_clearance_um)} um); the packages would rest on each other",
                value=after,
                limit=settings.min_body_clearance_um,
            )
        )
    if pitch is not None and shape.equilibrium_diameter_um > pitch - settings.bridge_clearance_um:
        findings.append(
            Finding(
                "joint_bridge",
                "fail",
                label,
                f"{label}: molten joints {_f(shape.equilibrium_diameter_um)} um wide at {_f(pitch)} um pitch "
                f"leave {_f(pitch - shape.equilibrium_diameter_um)} um between neighbours "
                f"(min {_f(settings.bridge_clearance_um)} um): bridges",
                value=pitch - shape.equilibrium_diameter_um,
                limit=settings.bridge_clearance_um,
            )
        )


def _warpage_findings(
    label: str,
    temperatures: np.ndarray,
    molten: np.ndarray,
    settled: np.ndarray,
    xy: np.ndarray,
    margin: float,
    widest: np.ndarray,
    pitch: float | None,
    settings: StackSettings,
    jeita: float | None,
    mismatch: np.ndarray,
    findings: list[Finding],
) -> None:
    opens = molten & (settled.max(axis=1) > margin + 1e-9)
    if opens.any():
        k = int(np.argmax(np.where(opens, settled.max(axis=1), -np.inf)))
        j = int(settled[k].argmax())
        findings.append(
            Finding(
                "non_wet_open",
                "fail",
                label,
                f"{label}: at {_f(temperatures[k])} C (solder molten) the joint at ({_f(xy[j, 0])}, "
                f"{_f(xy[j, 1])}) um opens {_f(settled[k, j])} um beyond the settled height, more than the "
                f"{_f(margin)} um its ball collapses: risk of a non-wet open",
                value=float(settled[k, j]),
                limit=margin,
                temperatures_c=tuple(float(t) for t in temperatures[opens]),
                location_um=(float(xy[j, 0]), float(xy[j, 1])),
            )
        )
    if pitch is not None:
        room = pitch - settings.bridge_clearance_um
        bridges = molten & (widest > room)
        if bridges.any():
            k = int(np.argmax(np.where(bridges, widest, -np.inf)))
            j = int(settled[k].argmin())
            findings.append(
                Finding(
                    "warpage_bridge",
                    "fail",
                    label,
                    f"{label}: at {_f(temperatures[k])} C the joint at ({_f(xy[j, 0])}, {_f(xy[j, 1])}) um is "
                    f"squeezed {_f(-settled[k, j])} um and bulges to {_f(widest[k])} um, wider than the "
                    f"{_f(room)} um the {_f(pitch)} um pitch leaves: risk of a bridge",
                    value=float(widest[k]),
                    limit=room,
                    temperatures_c=tuple(float(t) for t in temperatures[bridges]),
                    location_um=(float(xy[j, 0]), float(xy[j, 1])),
                )
            )
    if jeita is not None:
        over = mismatch > jeita + 1e-9
        if over.any():
            k = int(mismatch.argmax())
            findings.append(
                Finding(
                    "warpage_mismatch",
                    "fail",
                    label,
                    f"{label}: the warpage mismatch reaches {_f(mismatch[k])} um at {_f(temperatures[k])} C, over "
                    f"the {_f(jeita)} um JEITA-style limit for the {_f(pitch or 0)} um pitch",
                    value=float(mismatch[k]),
                    limit=jeita,
                    temperatures_c=tuple(float(t) for t in temperatures[over]),
                )
            )


def _own_warpage(label: str, warp: AssemblyWarpage, limit: float, findings: list[Finding]) -> None:
    """A package's own coplanarity over its body diagonal against the JEITA-style limit."""
    name, temperatures = warp.name, np.asarray(warp.temperatures_c)
    w = np.abs(warp.warpage_diagonal_um)
    over = w > limit + 1e-9
    if over.any():
        k = int(w.argmax())
        findings.append(
            Finding(
                "package_warpage",
                "fail",
                label,
                f"'{name}' warps {_f(w[k])} um over its diagonal at {_f(temperatures[k])} C, over the {_f(limit)} um "
                "JEITA-style limit for its pitch",
                value=float(w[k]),
                limit=limit,
                temperatures_c=tuple(float(t) for t in temperatures[over]),
            )
        )


def stack_compatibility(
    model: Model, warpage: WarpageResult | None = None, settings: StackSettings | None = None
) -> StackResult:
    """Judge every interface of ``model`` (claims 5-6); warpage over reflow is computed when not given."""
    settings = settings or StackSettings()
    start = time.perf_counter()
    if model.interfaces and warpage is None:
        from moldstack.analysis.warpage import warpage as compute_warpage  # noqa: PLC0415 - only when stacked

        warpage = compute_warpage(model)
    temperatures = (
        np.asarray(warpage.assemblies[0].temperatures_c, dtype=float)
        if warpage is not None and warpage.assemblies
        else np.zeros(0)
    )
    findings: list[Finding] = []
    results = tuple(
        _interface(model, iface, warpage, temperatures, settings, findings) for iface in model.interfaces
    )
    _, _, z0, _, _, z1 = model.bbox
    height = z1 - z0
    collapse = sum(r.joint_height_um - r.equilibrium_height_um for r in results)
    after = height - collapse
    if settings.max_stack_height_um is not None and after > settings.max_stack_height_um:
        findings.append(
            Finding(
                "stack_height",
                "fail",
                "stack",
                f"the stack stands {_f(after)} um after reflow ({_f(height)} um as placed), over the "
                f"{_f(settings.max_stack_height_um)} um allowed",
                value=after,
                limit=settings.max_stack_height_um,
            )
        )
    if not results:
        verdict = "not stacked"
    else:
        verdict = "incompatible" if any(f.severity == "fail" for f in findings) else "compatible"
    return StackResult(
        verdict, tuple(findings), results, height, after, settings, time.perf_counter() - start
    )
