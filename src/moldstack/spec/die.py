"""The microelectronic elements (claims 1, 14-20): dies, their contacts or terminals, attach layers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag

from moldstack.spec.base import ALL_EDGES, XY, Edge, MaterialName, Name, NonNegUm, Size2, Spec, Um


class ContactPad(Spec):
    """One contact (or terminal) at an explicit position on the die's front face."""

    name: Name
    at_um: XY = Field(description="centre, relative to the die centre")
    size_um: Size2 = (70.0, 70.0)


class ContactRows(Spec):
    """Contacts in rows along chosen die edges, centred on each edge, named C1, C2, ... clockwise from north."""

    edges: list[Edge] = Field(default_factory=lambda: list(ALL_EDGES), min_length=1)
    count_per_edge: int = Field(gt=0, le=2000)
    pitch_um: Um
    rows: int = Field(default=1, ge=1, le=4)
    row_pitch_um: Um = 100.0
    inset_um: Um = Field(default=100.0, description="die edge to the centre of the outer contact row")
    size_um: Size2 = (70.0, 70.0)
    thickness_um: Um = 2.0
    material: MaterialName = "aluminium"


class ContactList(Spec):
    """Contacts given one by one."""

    pads: list[ContactPad] = Field(min_length=1)
    thickness_um: Um = 2.0
    material: MaterialName = "aluminium"


def _contacts_layout(value: Any) -> str:
    if isinstance(value, dict):
        return "list" if "pads" in value else "rows"
    return "list" if isinstance(value, ContactList) else "rows"


Contacts = Annotated[
    Annotated[ContactRows, Tag("rows")] | Annotated[ContactList, Tag("list")],
    Discriminator(_contacts_layout),
]


class AttachLayer(Spec):
    """Adhesive under a die: die attach, thermally conductive adhesive (claims 9, 19) or die attach film."""

    material: MaterialName = "die_attach"
    thickness_um: Um = 25.0


class Die(Spec):
    """A microelectronic element: front face with contacts (+z), back surface, edges.

    The first die (no ``stacked_on``) sits with its back towards the body's bottom surface: flush with
    it when ``back_exposed`` (claim 8; an ``attach`` layer then lies on the exposed back, claim 9), else
    ``standoff_um`` of mold below its attach layer. A die with ``stacked_on`` is a second element placed
    back-to-face on the front face of that die (claims 14-17): on its ``attach`` layer (attached, claim 17)
    or ``gap_um`` above it in the mold (facing, claim 16).
    """

    name: Name = "die1"
    size_um: Size2
    thickness_um: Um
    center_um: XY = (0.0, 0.0)
    material: MaterialName = "silicon"
    contacts: Contacts
    power_w: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    back_exposed: bool = False
    standoff_um: NonNegUm = 0.0
    attach: AttachLayer | None = None
    stacked_on: Name | None = None
    gap_um: NonNegUm = 0.0
