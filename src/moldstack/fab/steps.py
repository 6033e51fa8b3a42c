"""Process steps of the claimed method (claims 21-23) as plain data: a flow is an ordered list of these.

Each step is a small frozen pydantic model with its parameters in units (``_um``, ``_c``, ``_min``, ``_deg``) and
a docstring that draws what it does in cross section. The runner (:mod:`moldstack.fab.runner`) applies them
to a material state; what each step checks before it acts (its preconditions) is described with the step.

Heights are not parameters: each step finds them in the state it acts on (the base goes on whatever the first
sacrificial layer's top is, a pad on the base's top, a die on the sacrificial layer, a bond on the contact's
top). The datum z = 0 is the top face of the first sacrificial layer (the package's bottom face).

Nothing here acts; nothing here knows the design spec or the model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from moldstack.spec.base import XY, Coord, MaterialName, Name, NonNegUm, Size2, Spec, Um

Rect = tuple[Coord, Coord, Coord, Coord]
SacrificialName = Literal["first", "second"]


def _check_rect(rect: Rect | None, what: str) -> None:
    if rect is not None and not (rect[2] > rect[0] and rect[3] > rect[1]):
        raise ValueError(f"{what} [x0, y0, x1, y1] = {list(rect)} must have x1 > x0 and y1 > y0")


class StepBase(Spec):
    """What every step has besides its parameters: an optional label, a time for the traveler and a note."""

    label: str | None = Field(default=None, max_length=80, description="a name for the traveler")
    duration_min: float | None = Field(default=None, ge=0, allow_inf_nan=False, description="time, minutes")
    note: str | None = Field(default=None, max_length=400)


class SacrificialLayer(StepBase):
    """Provide a sacrificial metal layer over the whole panel.

    ``first`` is the carrier everything is built on; its top face is the datum z = 0::

        ==================  first sacrificial layer, z = -thickness .. 0

    ``second`` is laid over the contact-bearing surface at ``at_um`` (the cavity the mold will fill)::

        ==================  second sacrificial layer, z = at .. at + thickness
             (cavity)
        ___[die]___[pad]__
        ==================

    Preconditions: ``first`` comes first; ``second`` needs the first and nothing reaching above ``at_um``.
    """

    step: Literal["sacrificial_layer"] = "sacrificial_layer"
    layer: SacrificialName
    material: MaterialName = "aluminium"
    thickness_um: Um
    at_um: Um | None = Field(default=None, description="second layer: height of its bottom face above z = 0")

    @model_validator(mode="after")
    def _second_needs_height(self) -> SacrificialLayer:
        if self.layer == "second" and self.at_um is None:
            raise ValueError("the second sacrificial layer needs at_um, the height of its bottom face")
        if self.layer == "first" and self.at_um is not None:
            raise ValueError("the first sacrificial layer has no at_um: its top face is z = 0")
        return self


class DielectricBase(StepBase):
    """Provide the dielectric base on the first sacrificial layer, open over the central region::

        ▒▒▒▒▒▒▒        ▒▒▒▒▒▒▒  base (opening_um left open)
        =======================  first sacrificial layer

    Preconditions: the first sacrificial layer exists and nothing lies on it yet.
    """

    step: Literal["dielectric_base"] = "dielectric_base"
    material: MaterialName = "polyimide"
    thickness_um: Um
    opening_um: Rect | None = Field(
        default=None, description="[x0, y0, x1, y1] left open (the central region)"
    )

    @model_validator(mode="after")
    def _rect(self) -> DielectricBase:
        _check_rect(self.opening_um, "opening_um")
        return self


class PadSite(Spec):
    """One round pad of the array, named (the unit it will become)."""

    name: Name
    at_um: XY
    diameter_um: Um


class PadArray(StepBase):
    """Provide the array of conductive pads on the base; the pads define the central region between them::

        _##____        ____##_  pads on the base
        ▒▒▒▒▒▒▒        ▒▒▒▒▒▒▒
        =======================

    Preconditions: the base lies under the whole of every pad.
    """

    step: Literal["pad_array"] = "pad_array"
    material: MaterialName = "copper"
    thickness_um: Um
    pads: list[PadSite] = Field(min_length=1)


class ContactSite(Spec):
    """One contact on the die's front face, at package coordinates."""

    name: Name
    at_um: XY
    size_um: Size2


class DieAttach(StepBase):
    """Attach the chip's back surface to the first sacrificial layer within the central region, contacts up::

        _##___ [=die=] ___##_   contacts on top, facing away from the layer
        ▒▒▒▒▒▒         ▒▒▒▒▒▒
        =======================

    Preconditions: under the whole outline there is the first sacrificial layer and nothing else, and the
    outline lies in the central region the pads define.
    """

    step: Literal["die_attach"] = "die_attach"
    die: Name
    material: MaterialName = "silicon"
    outline_um: Rect
    thickness_um: Um
    contact_material: MaterialName = "aluminium"
    contact_thickness_um: Um = 1.0
    contacts: list[ContactSite] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rect(self) -> DieAttach:
        _check_rect(self.outline_um, "outline_um")
        return self


class Bond(Spec):
    """One wire bond: ball on ``contact`` (``die.Cn``), stitch on ``pad`` at ``stitch_um``."""

    contact: str = Field(min_length=1, max_length=130)
    pad: Name
    stitch_um: XY


class WireBond(StepBase):
    """Electrically connect each contact to a respective pad: ball-stitch wire bonds::

             .-----.
            /       `-.
        _##_o[=die=]   `##_    ball on the contact, loop, stitch on the pad

    The loop's top is ``loop_height_um`` above the contact surface. Preconditions: each bond's contact and pad
    exist and the stitch point lies on its pad.
    """

    step: Literal["wire_bond"] = "wire_bond"
    material: MaterialName = "gold"
    diameter_um: Um = 25.0
    loop_height_um: Um = 150.0
    ball_diameter_um: Um = 65.0
    ball_height_um: Um = 15.0
    bonds: list[Bond] = Field(min_length=1)


class Encapsulate(StepBase):
    """Deposit curable dielectric (mold compound) so the chip and the bonds are encapsulated::

        =======================  second sacrificial layer (bounds the cavity)
        %%%%%%%%%%%%%%%%%%%%%%%  uncured compound fills every empty cell of the outline
        %##%o[=die=]%%%%%%##%%%
        =======================

    It fills up to the second sacrificial layer if there is one, else to ``thickness_um``. Preconditions:
    something bounds the cavity from above; every bond ends up covered by at least ``min_cover_um``.
    """

    step: Literal["encapsulate"] = "encapsulate"
    material: MaterialName = "emc"
    outline_um: Rect
    thickness_um: Um | None = None
    min_cover_um: NonNegUm = 0.0

    @model_validator(mode="after")
    def _rect(self) -> Encapsulate:
        _check_rect(self.outline_um, "outline_um")
        return self


class Cure(StepBase):
    """Cure the deposited dielectric (post-mold cure). Preconditions: there is uncured dielectric."""

    step: Literal["cure"] = "cure"
    temperature_c: float = Field(default=175.0, gt=0, le=400, allow_inf_nan=False)


class ApertureSite(Spec):
    """One aperture to form: at a pad, of a (top) diameter."""

    name: Name
    at_um: XY
    diameter_um: Um


class Drill(StepBase):
    """Form apertures between the outer faces of the two sacrificial layers, through the cured dielectric, the
    pads and the base (laser drilling; ``taper_deg`` narrows the hole with depth)::

        ===   ===========
        %%%   %%%%%%%%%%%   the hole runs through layer 2, mold, pad, base and layer 1
        %#%   %%%%%%%%%%%
        ▒▒▒   ▒▒▒▒▒▒▒▒▒▒▒
        ===   ===========

    Preconditions: the dielectric is cured. Rules: each aperture passes through its pad and the base, and keeps
    ``wire_clearance_um`` from every wire bond.
    """

    step: Literal["drill"] = "drill"
    method: Literal["laser", "mechanical"] = "laser"
    apertures: list[ApertureSite] = Field(min_length=1)
    taper_deg: float = Field(default=0.0, ge=0, lt=30, allow_inf_nan=False)
    wire_clearance_um: NonNegUm = 20.0


class Plate(StepBase):
    """Deposit metal in the apertures: conformal (``thickness_um``, leaving hollow centres) or a full fill
    (``thickness_um: null``), with flanges ``flange_overhang_um`` beyond the aperture on the outer face of each
    sacrificial layer::

        __===__===========   flange over the second layer
        ==| |==
        %%| |%%%%%%%%%%%%%   plated wall, hollow centre
        ##| |##
        ==| |==
        __===__   flange over the first layer

    Rules: the metal touches each aperture's pad; the flanges overhang as asked and do not merge.
    """

    step: Literal["plate"] = "plate"
    material: MaterialName = "copper"
    thickness_um: Um | None = None
    flange_overhang_um: NonNegUm = 25.0
    flange_thickness_um: NonNegUm = 10.0


class FillHollows(StepBase):
    """Fill the plated vias' hollow centres with reflowable material (claim 12), ``recess_um`` short of each end.
    Preconditions: there are hollow centres."""

    step: Literal["fill_hollows"] = "fill_hollows"
    material: MaterialName = "sac305"
    recess_um: NonNegUm = 0.0


class RemoveSacrificial(StepBase):
    """Remove the sacrificial layers (selective etch): all of it but what the flanges cover (claim 23), all of
    it (``keep: nothing``), or only inside ``region_um`` (a chosen portion)::

        __===__===========          __===__
        ==| |==             ->        =| |=   the layer is kept only under the flanges
        %%| |%%%%%%%%%%%%%           %%| |%%%%%%%%%%%%%

    Preconditions: the named layers exist.
    """

    step: Literal["remove_sacrificial"] = "remove_sacrificial"
    layers: list[SacrificialName] = Field(default_factory=lambda: ["first", "second"], min_length=1)
    keep: Literal["under_flanges", "nothing"] = "under_flanges"
    region_um: Rect | None = Field(default=None, description="remove only inside [x0, y0, x1, y1]")

    @model_validator(mode="after")
    def _rect(self) -> RemoveSacrificial:
        _check_rect(self.region_um, "region_um")
        return self


Step = Annotated[
    SacrificialLayer
    | DielectricBase
    | PadArray
    | DieAttach
    | WireBond
    | Encapsulate
    | Cure
    | Drill
    | Plate
    | FillHollows
    | RemoveSacrificial,
    Field(discriminator="step"),
]

STEP_TITLES: dict[str, str] = {
    "sacrificial_layer": "provide a sacrificial layer",
    "dielectric_base": "provide the dielectric base",
    "pad_array": "provide the pad array",
    "die_attach": "attach the die",
    "wire_bond": "wire bond contacts to pads",
    "encapsulate": "deposit curable dielectric",
    "cure": "cure the dielectric",
    "drill": "form apertures",
    "plate": "deposit metal in the apertures",
    "fill_hollows": "fill the hollow centres",
    "remove_sacrificial": "remove the sacrificial layers",
}


class GridSettings(Spec):
    """The process grid: ``fine_um`` cells around pads and apertures, growing by at most ``growth`` per cell to
    ``coarse_um`` elsewhere in plan; ``z_cell_um`` the largest cell height."""

    fine_um: Um = 12.5
    coarse_um: Um = 100.0
    z_cell_um: Um = 25.0
    growth: float = Field(default=1.3, ge=1.0, le=3.0)
    max_cells: int = Field(default=40_000_000, gt=0)


class Flow(Spec):
    """A process flow: the panel it works on, the grid, and the ordered steps."""

    moldstack_flow: Literal[1] = 1
    name: Name
    design: str | None = Field(default=None, description="the design this flow was generated from")
    assembly: str | None = Field(default=None, description="the design's assembly this flow makes")
    panel_um: Rect = Field(description="[x0, y0, x1, y1] of the panel (one package site)")
    grid: GridSettings = GridSettings()
    frames: list[str] | None = Field(
        default=None,
        description="cut planes for the per-step frames ('y=-150'); default: chosen by the runner",
    )
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _rect(self) -> Flow:
        _check_rect(self.panel_um, "panel_um")
        return self


__all__ = [
    "STEP_TITLES",
    "ApertureSite",
    "Bond",
    "ContactSite",
    "Cure",
    "DieAttach",
    "DielectricBase",
    "Drill",
    "Encapsulate",
    "FillHollows",
    "Flow",
    "GridSettings",
    "PadArray",
    "PadSite",
    "Plate",
    "Rect",
    "RemoveSacrificial",
    "SacrificialLayer",
    "Step",
    "StepBase",
    "WireBond",
]
