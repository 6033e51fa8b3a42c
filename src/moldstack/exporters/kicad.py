"""KiCad footprints (claim 6): the land pattern on the board under the bottom package, and the one on its top.

Two land patterns are read from a built :class:`~moldstack.geometry.model.Model`, both of the **bottom package**
of the stack (the lowest level, or the only assembly):

- ``side="bottom"`` (``footprint.kicad_mod``): the lands on the board or substrate under that package, one pad
  per conductive unit whose lower end is exposed at the package's bottom surface;
- ``side="top"`` (``footprint_top.kicad_mod``): the lands at the package's top surface, one pad per unit whose
  upper end is exposed there; for package-on-package this is where the upper package's joints land.

**Frame.** Millimetres, relative to the package centre (the centre of its mold body), both patterns **seen from
above**: the package lies face-up on the board with the model's x and y axes, so nothing is mirrored; only y is
flipped, because KiCad's y axis points down (a unit at model (x, y) um is a pad at (x/1000, -y/1000) mm).

**Pads.** Each pad sits at the centre of the unit's exposed end and has its size and shape: the end is read from
the unit's conductor solids that reach the face (a post's disc, a pad portion's square or round pad, a plated
via's flange ring, a protrusion's disc; a hollow end is taken whole, as its outer outline). Square ends give
``rect`` pads, round ends ``circle`` pads. The copper land equals the package-side land (a balanced joint, the
non-solder-mask-defined (NSMD) practice of IPC-7095). Where the design gives a solder joint on that side (the
substrate's joint under the bottom package, the stack's joint above it) its diameter is taken as the ball and the
land is cross-checked against the IPC-7351B land-approximation table for collapsing balls (clause 14, BGA; the
same table as IPC-7095): nominal ball 0.75-0.55 mm reduced 25 %, 0.50-0.25 mm 20 %, 0.20-0.15 mm 15 %, each row
with its land variation (:data:`IPC_7351B_COLLAPSING_BALL_LANDS`). A land outside the row's variation is said in
:attr:`Footprint.notes` and in the ``descr``; the land is not changed.

**Mask and paste.** NSMD: the mask opening is the land plus :data:`MASK_MARGIN_MM` (0.075 mm, IPC-7095's NSMD
clearance) on every side, written on each pad as ``(solder_mask_margin 0.075)``. The per-pad value is chosen over
the board's default because KiCad's board-level solder-mask expansion defaults to 0 and is set per board; the
footprint should carry its own NSMD clearance wherever it is placed. Pads are on ``F.Cu F.Paste F.Mask`` with the
paste aperture 1:1 with the land, as the KiCad library's NSMD BGA footprints are (KLC).

**Numbering.** When the units lie on a regular grid (one pitch in x and y, equal to the smallest spacing of
neighbouring units) pads take JEDEC/IPC-7351 ball-grid names: rows lettered from the top as seen from above (A, B,
... skipping I, O, Q, S, X and Z; then AA, AB, ...), columns numbered from the left, A1 at the top-left corner.
The grid is read from the units' centres, so a unit's top and bottom pads share a name even where its ends are
offset (a protrusion at the far side of its pad, claim 4). Otherwise pads are numbered 1, 2, ... in the model's
unit order (U1, U2, ...).

**Name.** IPC-7351B: ``BGA{pins}{C|N}{pitch}P{cols}X{rows}_{L}X{W}X{H}`` in 1/100 mm, ``C`` where the side's
joint is a collapsing solder joint (a material with a melting point), ``N`` otherwise (posts, pads with no ball);
cols x rows is the full ball matrix (a perimeter array's empty centre included); L and W are the body's x and y
sizes; H the seated height (package top above the seating plane, the joint under it included). A pattern that is
not on a grid takes the smallest unit spacing as its pitch and the counts of distinct x and y positions as cols x
rows. The top pattern adds ``_TOP``.

**Graphics.** ``F.Fab``: the body outline with its pin-1 corner chamfered (1 mm or a quarter of the shorter side,
KLC F5.2) and ``${REFERENCE}``; ``F.SilkS``: the outline 0.11 mm outside the body (the KiCad generators' silk-to-fab
offset), chamfered at pin 1, with a pin-1 dot outside that corner, and the reference ``REF**``; ``F.CrtYd``: a
rectangle around the body and every land plus :data:`COURTYARD_EXCESS_MM` (1.0 mm, the IPC-7351B courtyard excess
for BGA at the nominal density level, which the KiCad library convention also asks of BGAs), rounded outwards to a
0.01 mm grid. Line widths 0.10 (fab), 0.12 (silk), 0.05 (courtyard) mm (KLC F5.1-F5.3).

**File.** KiCad 8's footprint library format (``(version 20240108)``, dev-docs.kicad.org, "Footprint Library File
Format" and "S-Expression Format"), ``generator "moldstack"`` (the format asks third-party writers not to use
``pcbnew``), strings quoted with ``\\`` and ``"`` escaped, numbers in plain decimals with no float noise, and
deterministic uuids so the same model always writes the same bytes.

It knows the model (assemblies, units, solids, interfaces), not the spec, and writes nothing but the footprint.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.spatial import cKDTree

import moldstack
from moldstack.geometry.model import InterfaceInfo, Model, PlacedAssembly, Solid, UnitInfo
from moldstack.geometry.primitives import Box, Tube
from moldstack.output import write_text

Side = Literal["bottom", "top"]

KICAD_VERSION = 20240108
"""The footprint file format version written: KiCad 8."""

GENERATOR = "moldstack"

MASK_MARGIN_MM = 0.075
"""Solder-mask clearance around each land (per side): IPC-7095 NSMD, mask opening = land + 2 x 0.075 mm."""

COURTYARD_EXCESS_MM = 1.0
"""IPC-7351B courtyard excess for BGA at the nominal density level (B); the KiCad library convention asks the same."""

COURTYARD_GRID_MM = 0.01
FAB_WIDTH_MM = 0.10
SILK_WIDTH_MM = 0.12
COURTYARD_WIDTH_MM = 0.05
SILK_OFFSET_MM = 0.11
"""Silk outline outside the fab outline (the KiCad footprint generators' silk-to-fab offset)."""

PIN1_DOT_DIAMETER_MM = 0.4

IPC_7351B_COLLAPSING_BALL_LANDS: tuple[tuple[float, float, float, float, float], ...] = (
    (0.75, 25.0, 0.55, 0.50, 0.60),
    (0.65, 25.0, 0.50, 0.45, 0.55),
    (0.60, 25.0, 0.45, 0.40, 0.50),
    (0.55, 25.0, 0.40, 0.35, 0.45),
    (0.50, 20.0, 0.40, 0.35, 0.45),
    (0.45, 20.0, 0.35, 0.30, 0.40),
    (0.40, 20.0, 0.30, 0.25, 0.35),
    (0.35, 20.0, 0.30, 0.25, 0.35),
    (0.30, 20.0, 0.25, 0.20, 0.25),
    (0.25, 20.0, 0.20, 0.17, 0.20),
    (0.20, 15.0, 0.17, 0.14, 0.20),
    (0.17, 15.0, 0.15, 0.12, 0.18),
    (0.15, 15.0, 0.13, 0.10, 0.15),
)
"""IPC-7351B land approximation for collapsing solder balls (clause 14, BGA; as in IPC-7095), mm: (nominal ball,
reduction %, nominal land, least land, greatest land). The standard itself was not at hand: the 0.75, 0.60, 0.55,
0.50, 0.35, 0.30, 0.25, 0.20 and 0.15 mm rows were checked against public reproductions of the table (SMTnet forum
thread 514; MOKO Technology's BGA land note), the 0.65, 0.45, 0.40 and 0.17 mm rows are as commonly quoted."""

ROW_LETTERS = "ABCDEFGHJKLMNPRTUVWY"
"""JEDEC/IPC ball-grid row letters: A..Y without I, O, Q, S, X and Z."""

_TOL_UM = 1e-3
_NM = 6  # decimals of a millimetre written: 1 nm, KiCad's internal resolution


class FootprintError(ValueError):
    """A footprint cannot be made from this model (no unit exposed on the side asked for, an unknown side)."""


@dataclass(frozen=True)
class Pad:
    """One land, in the footprint's frame: mm from the package centre, y pointing down (KiCad's).

    ``number`` is the ball-grid name (``A2``) or a sequence number; ``size_mm`` is (width, height), the diameter
    twice for a circle; ``net`` is the net the model gives the unit (information only, not written: library
    footprints carry no nets); ``unit`` the unit's part (``logic/U1``).
    """

    number: str
    x_mm: float
    y_mm: float
    shape: Literal["circle", "rect"]
    size_mm: tuple[float, float]
    mask_margin_mm: float
    net: str | None
    unit: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IpcLand:
    """The IPC-7351B collapsing-ball row a land was checked against, and the verdict (mm)."""

    ball_mm: float
    row_ball_mm: float
    reduction_pct: float
    nominal_mm: float
    least_mm: float
    greatest_mm: float
    land_mm: float

    @property
    def within(self) -> bool:
        return self.least_mm - 1e-9 <= self.land_mm <= self.greatest_mm + 1e-9

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "within": self.within}


@dataclass(frozen=True)
class Footprint:
    """A land pattern, ready to write: pads, body, courtyard (x0, y0, x1, y1 in the KiCad frame) and what it says."""

    name: str
    side: Side
    assembly: str
    design: str
    pads: tuple[Pad, ...]
    body_mm: tuple[float, float]
    height_mm: float
    courtyard_mm: tuple[float, float, float, float]
    pitch_mm: float | None
    matrix: tuple[int, int]
    on_grid: bool
    collapsing: bool
    ball_mm: float | None
    ipc_land: IpcLand | None
    description: str
    tags: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pads"] = [p.to_dict() for p in self.pads]
        data["ipc_land"] = self.ipc_land.to_dict() if self.ipc_land else None
        return data


# --- reading the model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _End:
    unit: UnitInfo
    x_um: float
    y_um: float
    shape: Literal["circle", "rect"]
    size_um: tuple[float, float]
    z_um: float


def bottom_assembly(model: Model) -> PlacedAssembly:
    """The package at the bottom of the stack: the lowest level (the only assembly of a single package)."""
    return min(model.assemblies, key=lambda a: (a.z_bottom, model.assemblies.index(a)))


def _conducts(model: Model, solid: Solid) -> bool:
    material = model.materials.get(solid.material)
    return bool(material and material.conductor) and not solid.matrix


def _exposed_end(model: Model, asm: PlacedAssembly, unit: UnitInfo, side: Side) -> _End | None:
    """The unit's end at the ``side`` face: the outline of its conductor solids that reach it, or None if none do."""
    solids = [model.solid(s) for s in unit.solids]
    conductors = [s for s in solids if _conducts(model, s) and isinstance(s.shape, Box | Tube)]
    if not conductors:
        return None
    if side == "bottom":
        z = min(s.shape.bbox[2] for s in conductors)
        if z > asm.z_bottom + _TOL_UM:
            return None
        at_end = [s.shape for s in conductors if s.shape.bbox[2] <= z + _TOL_UM]
    else:
        z = max(s.shape.bbox[5] for s in conductors)
        if z < asm.z_top - _TOL_UM:
            return None
        at_end = [s.shape for s in conductors if s.shape.bbox[5] >= z - _TOL_UM]
    x0 = min(s.bbox[0] for s in at_end)
    y0 = min(s.bbox[1] for s in at_end)
    x1 = max(s.bbox[3] for s in at_end)
    y1 = max(s.bbox[4] for s in at_end)
    widest = max(at_end, key=lambda s: (s.bbox[3] - s.bbox[0]) * (s.bbox[4] - s.bbox[1]))
    envelope_is_widest = all(
        abs(a - b) <= _TOL_UM
        for a, b in zip((x0, y0, x1, y1), (*widest.bbox[:2], *widest.bbox[3:5]), strict=True)
    )
    round_end = isinstance(widest, Tube) and envelope_is_widest
    return _End(
        unit=unit,
        x_um=(x0 + x1) / 2,
        y_um=(y0 + y1) / 2,
        shape="circle" if round_end else "rect",
        size_um=(x1 - x0, y1 - y0),
        z_um=z,
    )


def _interface(model: Model, asm: PlacedAssembly, side: Side) -> InterfaceInfo | None:
    """The joint on ``side`` of the package: the substrate's under it, the stack's above it."""
    for iface in model.interfaces:
        if side == "bottom" and iface.upper == asm.name:
            return iface
        if side == "top" and iface.lower == asm.name:
            return iface
    return None


def _seating_plane_um(model: Model, asm: PlacedAssembly, bottom_ends: Sequence[_End]) -> float:
    """Where the package sits: its lowest unit end, less the joint under it when the design gives one."""
    lowest = min((e.z_um for e in bottom_ends), default=asm.z_bottom)
    lowest = min(lowest, asm.z_bottom)
    below = _interface(model, asm, "bottom")
    return lowest - (below.joint_height_um if below else 0.0)


def _package_top_um(model: Model, asm: PlacedAssembly) -> float:
    tops = [model.solid(s).shape.bbox[5] for u in asm.units for s in u.solids]
    return max([asm.z_top, *tops])


# --- the grid and the pad names ---------------------------------------------------------------------------


def row_name(index: int) -> str:
    """JEDEC/IPC ball-grid row ``index`` (0-based): A, B, ..., Y, then AA, AB, ..., AY, BA, ..."""
    n = len(ROW_LETTERS)
    if index < n:
        return ROW_LETTERS[index]
    return row_name(index // n - 1) + ROW_LETTERS[index % n]


def _distinct(values: Iterable[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _TOL_UM:
            out.append(v)
    return out


def _min_spacing(points: Sequence[tuple[float, float]]) -> float | None:
    """The least centre-to-centre distance of ``points`` (None for fewer than two)."""
    if len(points) < 2:
        return None
    distances, _ = cKDTree(np.asarray(points, dtype=float)).query(points, k=2)
    return float(distances[:, 1].min())


@dataclass(frozen=True)
class _Grid:
    pitch_um: float | None
    on_grid: bool
    cols: int
    rows: int
    names: tuple[str, ...]


def _grid(points: Sequence[tuple[float, float]]) -> _Grid:
    """Ball-grid names if ``points`` (um, y up) lie on one regular grid, else 1, 2, ... in the order given."""
    xs, ys = _distinct(p[0] for p in points), _distinct(p[1] for p in points)
    spacing = _min_spacing(points)
    steps = [b - a for values in (xs, ys) for a, b in pairwise(values)]
    pitch = min(steps) if steps else None
    regular = (
        pitch is not None
        and spacing is not None
        and abs(spacing - pitch) <= _TOL_UM
        and all(abs(s / pitch - round(s / pitch)) * pitch <= _TOL_UM for s in steps)
    )
    if not regular or pitch is None:
        numbers = tuple(str(k + 1) for k in range(len(points)))
        return _Grid(spacing, False, len(xs), len(ys), numbers)
    cols = round((xs[-1] - xs[0]) / pitch) + 1
    rows = round((ys[-1] - ys[0]) / pitch) + 1
    names = tuple(
        f"{row_name(round((ys[-1] - y) / pitch))}{round((x - xs[0]) / pitch) + 1}" for x, y in points
    )
    return _Grid(pitch, True, cols, rows, names)


# --- the footprint ----------------------------------------------------------------------------------------


def _mm(um: float) -> float:
    return round(um / 1000.0, _NM) + 0.0


def _hundredths(um: float) -> int:
    return round(um / 10.0)


def ipc_name(
    pins: int,
    collapsing: bool,
    pitch_um: float | None,
    cols: int,
    rows: int,
    body_um: tuple[float, float],
    height_um: float,
) -> str:
    """IPC-7351B BGA name: ``BGA{pins}{C|N}{pitch}P{cols}X{rows}_{L}X{W}X{H}``, dimensions in 1/100 mm."""
    pitch = _hundredths(pitch_um) if pitch_um is not None else 0
    return (
        f"BGA{pins}{'C' if collapsing else 'N'}{pitch}P{cols}X{rows}"
        f"_{_hundredths(body_um[0])}X{_hundredths(body_um[1])}X{_hundredths(height_um)}"
    )


def ipc_land_check(ball_mm: float, land_mm: float) -> IpcLand:
    """The IPC-7351B collapsing-ball row nearest ``ball_mm`` (on a tie, the smaller ball) and the land against it."""
    row = min(IPC_7351B_COLLAPSING_BALL_LANDS, key=lambda r: (abs(r[0] - ball_mm), r[0]))
    return IpcLand(ball_mm, row[0], row[1], row[2], row[3], row[4], land_mm)


def _is_solder(model: Model, iface: InterfaceInfo | None) -> bool:
    if iface is None:
        return False
    material = model.materials.get(iface.joint_material)
    return bool(material and material.melting_c is not None)


def _fmt(value: float) -> str:
    """A number as KiCad writes it: plain decimal, at most 1 nm (6 decimals of a mm), no trailing zeros, no -0."""
    text = f"{round(value, _NM):.{_NM}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _size_words(pads: Sequence[Pad]) -> str:
    kinds = sorted({(p.shape, p.size_mm) for p in pads})
    return ", ".join(
        f"{_fmt(s[0])} mm round" if shape == "circle" else f"{_fmt(s[0])} x {_fmt(s[1])} mm square"
        for shape, s in kinds
    )


def _courtyard(pads: Sequence[Pad], body_mm: tuple[float, float]) -> tuple[float, float, float, float]:
    """Body and lands grown by the IPC-7351B excess, rounded outwards to the courtyard grid (KiCad frame)."""
    hx, hy = body_mm[0] / 2, body_mm[1] / 2
    x0 = min([-hx, *(p.x_mm - p.size_mm[0] / 2 for p in pads)]) - COURTYARD_EXCESS_MM
    y0 = min([-hy, *(p.y_mm - p.size_mm[1] / 2 for p in pads)]) - COURTYARD_EXCESS_MM
    x1 = max([hx, *(p.x_mm + p.size_mm[0] / 2 for p in pads)]) + COURTYARD_EXCESS_MM
    y1 = max([hy, *(p.y_mm + p.size_mm[1] / 2 for p in pads)]) + COURTYARD_EXCESS_MM
    return (_snap(x0, math.floor), _snap(y0, math.floor), _snap(x1, math.ceil), _snap(y1, math.ceil))


def _snap(value: float, direction: Any) -> float:
    """``value`` on the courtyard grid, rounded outwards (``math.floor`` for a minimum, ``math.ceil`` for a maximum)."""
    steps = direction(round(value / COURTYARD_GRID_MM, 6))
    return round(steps * COURTYARD_GRID_MM, 2) + 0.0


def _describe(
    model: Model,
    asm: PlacedAssembly,
    side: Side,
    pads: Sequence[Pad],
    grid: _Grid,
    iface: InterfaceInfo | None,
    ipc: IpcLand | None,
    notes: Sequence[str],
) -> str:
    """The ``descr``: the source, the unit pitch, the land sizes and the joint, in one line."""
    role = (
        "board land pattern under"
        if side == "bottom"
        else "land pattern on the top surface (where a stacked package lands) of"
    )
    pitch_words = (
        f"{_fmt(grid.pitch_um / 1000)} mm grid {grid.cols} x {grid.rows}"
        if grid.on_grid and grid.pitch_um is not None
        else f"no regular grid (least spacing {_fmt((grid.pitch_um or 0) / 1000)} mm), pads numbered in unit order"
    )
    joint_words = (
        f"{iface.joint_material} joint {_fmt(ipc.ball_mm)} mm (collapsing, IPC-7351B land "
        f"{_fmt(ipc.least_mm)}-{_fmt(ipc.greatest_mm)} mm)"
        if iface is not None and ipc is not None
        else "no solder ball given (non-collapsing)"
    )
    text = (
        f"moldstack {moldstack.__version__}: {role} package '{asm.name}' of design '{model.name}', seen from above; "
        f"{len(pads)} conductive units, {pitch_words}; lands = exposed unit ends ({_size_words(pads)}), "
        f"NSMD mask +{_fmt(MASK_MARGIN_MM)} mm per side (IPC-7095); {joint_words}"
    )
    if notes:
        text += "; " + "; ".join(notes)
    return text


def footprint(model: Model, side: Side = "bottom") -> Footprint:
    """The land pattern of the bottom package's ``side`` ("bottom": on the board under it; "top": on its top).

    Pads at the centres of the exposed unit ends, sized and shaped as those ends (the package-side land, a
    balanced NSMD joint, IPC-7095), with a 0.075 mm mask margin; see the module docstring for the naming, the
    numbering, the graphics and the sources. Raises :class:`FootprintError` (a ValueError) when no unit of the
    bottom package is exposed on ``side``.
    """
    if side not in ("bottom", "top"):
        raise FootprintError(f"side must be 'bottom' or 'top', not {side!r}")
    asm = bottom_assembly(model)
    where = (
        f"bottom surface (z = {asm.z_bottom:g} um)"
        if side == "bottom"
        else f"top surface (z = {asm.z_top:g} um)"
    )
    if not asm.units:
        raise FootprintError(
            f"package '{asm.name}' of '{model.name}' has no conductive units, so no {side} land pattern: "
            "add units (assemblies[].units)"
        )
    ends = [e for u in asm.units if (e := _exposed_end(model, asm, u, side)) is not None]
    if not ends:
        raise FootprintError(
            f"package '{asm.name}' of '{model.name}': none of its {len(asm.units)} conductive units is exposed "
            f"at its {where}, so there is no {side} land pattern"
        )
    cx, cy = (asm.x0 + asm.x1) / 2, (asm.y0 + asm.y1) / 2
    grid = _grid([(e.unit.x - cx, e.unit.y - cy) for e in ends])
    pads = tuple(
        Pad(
            number=number,
            x_mm=_mm(e.x_um - cx),
            y_mm=_mm(-(e.y_um - cy)),
            shape=e.shape,
            size_mm=(_mm(e.size_um[0]), _mm(e.size_um[1])),
            mask_margin_mm=MASK_MARGIN_MM,
            net=e.unit.net,
            unit=e.unit.part,
        )
        for number, e in zip(grid.names, ends, strict=True)
    )
    bottom_ends = (
        ends
        if side == "bottom"
        else [e for u in asm.units if (e := _exposed_end(model, asm, u, "bottom")) is not None]
    )
    body_um = (asm.x1 - asm.x0, asm.y1 - asm.y0)
    height_um = _package_top_um(model, asm) - _seating_plane_um(model, asm, bottom_ends)
    iface = _interface(model, asm, side)
    collapsing = _is_solder(model, iface)
    ball_mm = _mm(iface.joint_diameter_um) if iface is not None and collapsing else None
    name = ipc_name(len(pads), collapsing, grid.pitch_um, grid.cols, grid.rows, body_um, height_um)
    if side == "top":
        name += "_TOP"

    notes: list[str] = []
    ipc: IpcLand | None = None
    if ball_mm is not None:
        land = min(min(p.size_mm) for p in pads)
        ipc = ipc_land_check(ball_mm, land)
        if not ipc.within:
            notes.append(
                f"land {_fmt(land)} mm is outside the IPC-7351B range {_fmt(ipc.least_mm)}-{_fmt(ipc.greatest_mm)} mm "
                f"for a {_fmt(ball_mm)} mm collapsing ball (row {_fmt(ipc.row_ball_mm)} mm, "
                f"{ipc.reduction_pct:g} % reduction); kept equal to the package-side land"
            )
    if not grid.on_grid:
        notes.append(
            "units not on a regular grid: pads numbered 1.. in unit order, pitch = least unit spacing"
        )

    courtyard = _courtyard(pads, (body_um[0] / 1000.0, body_um[1] / 1000.0))

    description = _describe(model, asm, side, pads, grid, iface, ipc, notes)
    tags = " ".join(
        [
            "BGA",
            "moldstack",
            "claim-6",
            "NSMD",
            "package-on-package" if len(model.assemblies) > 1 else "molded",
        ]
        + (["top-side"] if side == "top" else ["board-side"])
    )
    return Footprint(
        name=name,
        side=side,
        assembly=asm.name,
        design=model.name,
        pads=pads,
        body_mm=(_mm(body_um[0]), _mm(body_um[1])),
        height_mm=_mm(height_um),
        courtyard_mm=courtyard,
        pitch_mm=_mm(grid.pitch_um) if grid.pitch_um is not None else None,
        matrix=(grid.cols, grid.rows),
        on_grid=grid.on_grid,
        collapsing=collapsing,
        ball_mm=ball_mm,
        ipc_land=ipc,
        description=description,
        tags=tags,
        notes=tuple(notes),
    )


# --- writing the s-expression ------------------------------------------------------------------------------


def quote(text: str) -> str:
    """A KiCad s-expression string: double quotes, with ``\\`` and ``"`` escaped and line breaks as ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n")
    return f'"{escaped}"'


class _Writer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self._count = 0

    def uuid(self) -> str:
        self._count += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"moldstack:footprint:{self.name}:{self._count}"))

    def add(self, text: str) -> None:
        self.lines.append(f"\t{text}")

    def line(self, a: tuple[float, float], b: tuple[float, float], layer: str, width: float) -> None:
        self.add(
            f"(fp_line (start {_fmt(a[0])} {_fmt(a[1])}) (end {_fmt(b[0])} {_fmt(b[1])}) "
            f"(stroke (width {_fmt(width)}) (type solid)) (layer {quote(layer)}) (uuid {quote(self.uuid())}))"
        )

    def polyline(self, points: Sequence[tuple[float, float]], layer: str, width: float) -> None:
        for a, b in zip(points, [*points[1:], points[0]], strict=True):
            self.line(a, b, layer, width)

    def text_effects(self) -> str:
        return "(effects (font (size 1 1) (thickness 0.15)))"


def _chamfered(x0: float, y0: float, x1: float, y1: float, c: float) -> list[tuple[float, float]]:
    """A rectangle (KiCad frame, y down) with its top-left corner cut by ``c``: pin 1's corner."""
    return [(x0 + c, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0 + c)]


def footprint_text(fp: Footprint) -> str:
    """The ``.kicad_mod`` text of ``fp`` (KiCad 8 footprint library format)."""
    w = _Writer(fp.name)
    hx, hy = fp.body_mm[0] / 2, fp.body_mm[1] / 2
    cx0, cy0, cx1, cy1 = fp.courtyard_mm
    w.add(f"(version {KICAD_VERSION})")
    w.add(f"(generator {quote(GENERATOR)})")
    w.add(f"(generator_version {quote(moldstack.__version__)})")
    w.add(f"(layer {quote('F.Cu')})")
    w.add(f"(descr {quote(fp.description)})")
    w.add(f"(tags {quote(fp.tags)})")
    fields = (
        ("Reference", "REF**", cy0 - 1.0, "F.SilkS"),
        ("Value", fp.name, cy1 + 1.0, "F.Fab"),
    )
    for key, value, y, layer in fields:
        w.add(
            f"(property {quote(key)} {quote(value)} (at 0 {_fmt(y)} 0) (layer {quote(layer)}) "
            f"(uuid {quote(w.uuid())}) {w.text_effects()})"
        )
    w.add("(attr smd)")
    chamfer = min(1.0, min(fp.body_mm) / 4)
    w.polyline(_chamfered(-hx, -hy, hx, hy, chamfer), "F.Fab", FAB_WIDTH_MM)
    s = SILK_OFFSET_MM
    w.polyline(
        _chamfered(-hx - s, -hy - s, hx + s, hy + s, round(chamfer + s * (2 - math.sqrt(2)), 2)),
        "F.SilkS",
        SILK_WIDTH_MM,
    )
    dot = (-hx - s - PIN1_DOT_DIAMETER_MM, -hy - s - PIN1_DOT_DIAMETER_MM)
    w.add(
        f"(fp_circle (center {_fmt(dot[0])} {_fmt(dot[1])}) (end {_fmt(dot[0] + PIN1_DOT_DIAMETER_MM / 2)} "
        f"{_fmt(dot[1])}) (stroke (width {_fmt(SILK_WIDTH_MM)}) (type solid)) (fill solid) "
        f"(layer {quote('F.SilkS')}) (uuid {quote(w.uuid())}))"
    )
    w.add(
        f"(fp_rect (start {_fmt(cx0)} {_fmt(cy0)}) (end {_fmt(cx1)} {_fmt(cy1)}) "
        f"(stroke (width {_fmt(COURTYARD_WIDTH_MM)}) (type solid)) (fill none) (layer {quote('F.CrtYd')}) "
        f"(uuid {quote(w.uuid())}))"
    )
    w.add(
        f"(fp_text user {quote('${REFERENCE}')} (at 0 0 0) (layer {quote('F.Fab')}) "
        f"(uuid {quote(w.uuid())}) {w.text_effects()})"
    )
    layers = " ".join(quote(layer) for layer in ("F.Cu", "F.Paste", "F.Mask"))
    for p in fp.pads:
        w.add(
            f"(pad {quote(p.number)} smd {p.shape} (at {_fmt(p.x_mm)} {_fmt(p.y_mm)}) "
            f"(size {_fmt(p.size_mm[0])} {_fmt(p.size_mm[1])}) (layers {layers}) "
            f"(solder_mask_margin {_fmt(p.mask_margin_mm)}) (uuid {quote(w.uuid())}))"
        )
    return f"(footprint {quote(fp.name)}\n" + "\n".join(w.lines) + "\n)\n"


def write_footprint(model: Model, path: str | Path, side: Side = "bottom") -> Path:
    """Write the ``side`` land pattern of the bottom package to ``path`` atomically; returns the path."""
    return write_text(path, footprint_text(footprint(model, side)))


FOOTPRINT_FILES: dict[Side, str] = {"bottom": "footprint.kicad_mod", "top": "footprint_top.kicad_mod"}
"""The file names :func:`write_footprints` uses in its folder."""


def write_footprints(model: Model, out_dir: str | Path) -> list[Path]:
    """Write both land patterns into ``out_dir``: ``footprint.kicad_mod`` (board side), ``footprint_top.kicad_mod``."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_footprint(model, folder / FOOTPRINT_FILES[side], side) for side in ("bottom", "top")]


__all__ = [
    "COURTYARD_EXCESS_MM",
    "IPC_7351B_COLLAPSING_BALL_LANDS",
    "MASK_MARGIN_MM",
    "Footprint",
    "FootprintError",
    "IpcLand",
    "Pad",
    "bottom_assembly",
    "footprint",
    "footprint_text",
    "ipc_land_check",
    "ipc_name",
    "quote",
    "row_name",
    "write_footprint",
    "write_footprints",
]
