"""How a built package sits on the thermal test board: lands, solder joints and the claim-9 adhesive.

- A model with a substrate (claim 6) rests with the substrate's bottom on the board (the substrate's own
  ball array to the board is not modelled: the substrate is taken as soldered down flat).
- Otherwise the lowest assembly stands on solder joints: one per unit of that assembly, a cylinder of
  ``joint_diameter_um`` from the unit's bottom end down to a copper land of ``land_thickness_um`` on the board's
  top face. The board's top lies ``joint_height_um + land_thickness_um`` below the lowest unit end (lower if a
  solid of the package reaches further down, the joints then being longer), as after reflow.
- A die whose back is exposed (claim 8) and carries a thermally conductive adhesive (claim 9) is attached to the
  board by that adhesive: the adhesive fills the standoff under the die's outline down to the board. An exposed
  back without adhesive faces the air in the standoff.

Values in micrometres. Nothing here solves; the board's conductivity is :mod:`~moldstack.analysis.board`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moldstack.geometry.builder import unit_height_extent
from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Box, Cylinder
from moldstack.spec.design import Joint

BOARD_ROLE = "board"
LAND_ROLE = "board.land"
JOINT_ROLE = "board.joint"
ADHESIVE_ROLE = "board.adhesive"
_JOINT = Joint()


@dataclass(frozen=True)
class Mounting:
    """The board-level joints: height after reflow, diameter, solder, and the copper lands under them."""

    joint_height_um: float = _JOINT.height_um
    joint_diameter_um: float = _JOINT.diameter_um
    joint_material: str = _JOINT.material
    land_thickness_um: float = 35.0
    land_diameter_um: float | None = None  # default: the joint's diameter
    land_material: str = "copper"

    def __post_init__(self) -> None:
        for name in ("joint_height_um", "joint_diameter_um", "land_thickness_um"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} = {value!r} must be > 0 um")
        if self.land_diameter_um is not None and not self.land_diameter_um > 0:
            raise ValueError(f"land_diameter_um = {self.land_diameter_um!r} must be > 0 um")

    def to_dict(self) -> dict[str, Any]:
        return {
            "joint_height_um": self.joint_height_um,
            "joint_diameter_um": self.joint_diameter_um,
            "joint_material": self.joint_material,
            "land_thickness_um": self.land_thickness_um,
            "land_diameter_um": self.land_diameter_um or self.joint_diameter_um,
            "land_material": self.land_material,
        }


@dataclass(frozen=True)
class Mounted:
    """Where the board's top face is and the solids that join the package to it."""

    board_top_um: float
    solids: tuple[Solid, ...]
    joints: int
    adhesive_dies: tuple[str, ...]


def mount(model: Model, mounting: Mounting) -> Mounted:
    """The board's top and the lands, joints and adhesive that carry ``model`` on it (module docstring)."""
    lowest_z = model.bbox[2]
    if model.substrate_part is not None:
        return Mounted(lowest_z, (), 0, ())
    asm = min(model.assemblies, key=lambda a: a.z_bottom)
    ends = {u.name: unit_height_extent(model, u)[0] for u in asm.units}
    land_t = mounting.land_thickness_um
    board_top = min(min(ends.values()) - mounting.joint_height_um, lowest_z) - land_t
    land_top = board_top + land_t
    land_r = (mounting.land_diameter_um or mounting.joint_diameter_um) / 2
    solids: list[Solid] = []
    for u in asm.units:
        part = f"board/joint:{asm.name}/{u.name}"
        solids.append(
            Solid(
                f"{part}/land",
                part,
                LAND_ROLE,
                mounting.land_material,
                Cylinder(u.x, u.y, land_r, board_top, land_top),
                u.net,
            )
        )
        solids.append(
            Solid(
                f"{part}/solder",
                part,
                JOINT_ROLE,
                mounting.joint_material,
                Cylinder(u.x, u.y, mounting.joint_diameter_um / 2, land_top, ends[u.name]),
                u.net,
            )
        )
    glued = []
    for die in asm.dies:
        if not (die.back_exposed and die.attach_solid):
            continue
        attach = model.solid(die.attach_solid)
        b = attach.shape.bbox
        if b[2] > board_top:
            solids.append(
                Solid(
                    f"board/adhesive:{asm.name}/{die.name}",
                    f"board/adhesive:{asm.name}/{die.name}",
                    ADHESIVE_ROLE,
                    attach.material,
                    Box(z0=board_top, z1=b[2], x0=b[0], y0=b[1], x1=b[3], y1=b[4]),
                )
            )
            glued.append(die.name)
    return Mounted(board_top, tuple(solids), len(asm.units), tuple(glued))


__all__ = ["ADHESIVE_ROLE", "BOARD_ROLE", "JOINT_ROLE", "LAND_ROLE", "Mounted", "Mounting", "mount"]
