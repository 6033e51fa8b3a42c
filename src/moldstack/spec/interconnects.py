"""Conductive elements through the mass that join contacts to units or to other dies' contacts (claims 1, 14, 18)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from moldstack.spec.base import MaterialName, Name, Spec, Um

BALL_DIAMETER_FACTOR = 2.6  # free-air ball / wire diameter, a common ball-bond ratio
BALL_HEIGHT_FACTOR = 0.6  # squashed ball height / wire diameter

_PATTERNS_DOC = (
    "automatic assignment only: indices into units: of the patterns whose units may be used (default: all)"
)
_MAP_DOC = (
    "contact name -> unit name (U7) or another die's contact (die1.C3); without a map, every contact of the die "
    "not mapped elsewhere is joined to a unit by the assignment of least total length"
)


class WireBondSpec(Spec):
    """Ball-stitch wire bonds with a JEDEC-style loop: ball on the contact, rise, kink, span, stitch."""

    kind: Literal["wire_bond"] = "wire_bond"
    die: Name = "die1"
    map: dict[str, str] | None = Field(default=None, description=_MAP_DOC)
    unit_patterns: list[int] | None = Field(default=None, description=_PATTERNS_DOC)
    diameter_um: Um = 25.0
    material: MaterialName = "gold"
    loop_height_um: Um = Field(default=150.0, description="top of the wire above the contact surface")
    ball_diameter_um: Um | None = Field(default=None, description="defaults to 2.6 x wire diameter")
    max_length_um: Um = 5000.0

    @property
    def ball_diameter(self) -> float:
        """The bonded ball's diameter (um): as given, else 2.6 x the wire diameter."""
        return self.ball_diameter_um or BALL_DIAMETER_FACTOR * self.diameter_um

    @property
    def ball_height(self) -> float:
        """The bonded ball's height on the contact (um): 0.6 x the wire diameter."""
        return BALL_HEIGHT_FACTOR * self.diameter_um


class ViaSpec(Spec):
    """A via from the contact straight up through the mold to the top surface, and a trace there to the unit."""

    kind: Literal["via"] = "via"
    die: Name = "die1"
    map: dict[str, str] | None = Field(default=None, description=_MAP_DOC)
    unit_patterns: list[int] | None = Field(default=None, description=_PATTERNS_DOC)
    diameter_um: Um = 60.0
    material: MaterialName = "copper"
    trace_width_um: Um = 50.0
    trace_thickness_um: Um = 15.0
    max_length_um: Um = 5000.0


class RdlSpec(Spec):
    """A redistribution trace on the die's front-face level, from the contact out to the unit (fan-out)."""

    kind: Literal["rdl"] = "rdl"
    die: Name = "die1"
    map: dict[str, str] | None = Field(default=None, description=_MAP_DOC)
    unit_patterns: list[int] | None = Field(default=None, description=_PATTERNS_DOC)
    width_um: Um = 30.0
    thickness_um: Um = 10.0
    material: MaterialName = "copper"
    max_length_um: Um = 5000.0


Interconnect = Annotated[WireBondSpec | ViaSpec | RdlSpec, Field(discriminator="kind")]
