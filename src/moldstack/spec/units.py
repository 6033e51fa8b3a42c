"""Conductive units (claims 1-4, 7, 10-13, 22-23) and the patterns that place them along die edges."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from moldstack.spec.base import ALL_EDGES, XY, Edge, MaterialName, Name, NonNegUm, Spec, Um


class Hollow(Spec):
    """A hollow centre (claim 10): through the unit (claim 11) or blind, open at one end."""

    diameter_um: Um
    through: bool = True
    open_end: Literal["top", "bottom"] = "top"
    depth_um: Um | None = Field(default=None, description="blind hollows only: depth from the open end")


class Fill(Spec):
    """Reflowable conductive material in the hollow centre (claim 12), exposed unless recessed (claim 13)."""

    material: MaterialName = "sac305"
    recess_um: NonNegUm = Field(default=0.0, description="depth below each open end of the hollow")


class PostUnit(Spec):
    """A cylindrical post through the body's full thickness, optionally hollow and protruding (claim 7)."""

    shape: Literal["post"] = "post"
    diameter_um: Um
    material: MaterialName = "copper"
    protrude_top_um: NonNegUm = 0.0
    protrude_bottom_um: NonNegUm = 0.0
    hollow: Hollow | None = None
    fill: Fill | None = None


class PadPortion(Spec):
    """The pad portion of a pad-with-protrusion unit, exposed at the bottom surface (claim 3)."""

    shape: Literal["round", "square"] = "square"
    size_um: Um = Field(description="diameter (round) or side (square)")
    thickness_um: Um = 50.0


class PadProtrusionUnit(Spec):
    """Pad portion at the bottom and a narrower protrusion up to the top surface (claims 3-4).

    ``protrusion_position: far`` puts the protrusion flush with the side of the pad furthest from the die
    (claim 4), which leaves the near side free for a wire bond.
    """

    shape: Literal["pad_protrusion"] = "pad_protrusion"
    pad: PadPortion
    protrusion_diameter_um: Um
    protrusion_position: Literal["far", "center"] = "far"
    material: MaterialName = "copper"
    protrude_top_um: NonNegUm = 0.0
    protrude_bottom_um: NonNegUm = 0.0


class RingPad(Spec):
    """A round pad on the dielectric base that the via is drilled through (claim 21)."""

    diameter_um: Um
    thickness_um: Um = 15.0
    material: MaterialName = "copper"


class PlatedViaUnit(Spec):
    """The unit the claimed method makes (claims 21-23): a via plated into an aperture through mold, pad and base.

    Conformal plating of ``plating_thickness_um`` leaves a hollow centre through the unit (claims 10-11);
    ``None`` fills it. Flanges of ``flange_overhang_um`` lie over both sacrificial layers (claim 22), and under
    each flange a ring of the sacrificial layer (``remnant_thickness_um``) is left by the removal (claim 23).
    """

    shape: Literal["plated_via"] = "plated_via"
    diameter_um: Um = Field(description="aperture (drilled hole) diameter")
    plating_thickness_um: Um | None = None
    material: MaterialName = "copper"
    pad: RingPad
    flange_overhang_um: NonNegUm = 25.0
    flange_thickness_um: NonNegUm = 10.0
    remnant_thickness_um: NonNegUm = 10.0
    remnant_material: MaterialName = "aluminium"
    fill: Fill | None = None


Unit = Annotated[PostUnit | PadProtrusionUnit | PlatedViaUnit, Field(discriminator="shape")]


class RowsPattern(Spec):
    """Units in rows parallel to chosen edges of a die, forming a ring around it.

    Row ``r`` lies ``offset_um + r * row_pitch_um`` outside the die edge. Units are centred on each edge; with no
    ``count_per_edge`` each row fills the ring around the die (north and south rows take the corners).
    """

    layout: Literal["rows"] = "rows"
    die: Name = "die1"
    edges: list[Edge] = Field(default_factory=lambda: list(ALL_EDGES), min_length=1)
    rows: int = Field(default=1, ge=1, le=6)
    pitch_um: Um
    row_pitch_um: Um | None = Field(default=None, description="defaults to pitch_um")
    offset_um: Um = Field(description="die edge to the centre line of the first row")
    count_per_edge: int | None = Field(default=None, gt=0, le=1000)
    unit: Unit


class ListPattern(Spec):
    """Units at explicit positions (package coordinates)."""

    layout: Literal["list"] = "list"
    at_um: list[XY] = Field(min_length=1)
    names: list[Name] | None = None
    unit: Unit


UnitPattern = Annotated[RowsPattern | ListPattern, Field(discriminator="layout")]
