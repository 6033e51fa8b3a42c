"""The top of the spec: body, assembly, stack, substrate, user materials and the ``Design`` itself."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from moldstack.materials import Material
from moldstack.spec.base import XY, MaterialName, Name, NonNegUm, Size2, Spec, Um
from moldstack.spec.die import Die
from moldstack.spec.interconnects import Interconnect
from moldstack.spec.units import UnitPattern


class MaterialSpec(Spec):
    """A user material; every value needs a ``source`` so the report can cite it."""

    description: str = ""
    k_w_mk: float = Field(gt=0, allow_inf_nan=False)
    cte_ppm_k: float = Field(allow_inf_nan=False)
    youngs_gpa: float = Field(gt=0, allow_inf_nan=False)
    poisson: float = Field(ge=0, lt=0.5)
    density_kg_m3: float = Field(gt=0, allow_inf_nan=False)
    conductor: bool = False
    resistivity_ohm_m: float | None = Field(default=None, gt=0)
    eps_r: float | None = Field(default=None, ge=1)
    cte_above_tg_ppm_k: float | None = None
    tg_c: float | None = None
    youngs_above_tg_gpa: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="modulus above tg_c (rubbery plateau); None: as below",
    )
    melting_c: float | None = None
    colour: str = Field(default="#999999", pattern=r"^#[0-9a-fA-F]{6}$")
    source: str = Field(min_length=3, description="where the values come from (datasheet, handbook, paper)")

    def to_material(self, name: str) -> Material:
        return Material(name=name, **self.model_dump())


class BaseLayer(Spec):
    """The dielectric base at the bottom of the body (claim 21), open over the die's central region."""

    material: MaterialName = "polyimide"
    thickness_um: Um = 25.0
    opening_margin_um: NonNegUm = Field(default=100.0, description="opening = die footprint grown by this")


class Body(Spec):
    """The mass of dielectric material: a rectangular mold body, bottom face at z = 0."""

    size_um: Size2
    thickness_um: Um
    material: MaterialName = "emc"
    wire_cover_um: NonNegUm = Field(default=50.0, description="least mold above the highest wire or die")
    base: BaseLayer | None = None


class Assembly(Spec):
    """One molded package: body, dies, conductive units, interconnects, net names."""

    name: Name = "pkg"
    body: Body
    dies: list[Die] = Field(min_length=1, max_length=4)
    units: list[UnitPattern] = Field(min_length=1)
    interconnects: list[Interconnect] = Field(default_factory=list)
    nets: dict[str, str] = Field(
        default_factory=dict, description="die.contact -> net name; NC marks a contact left unconnected"
    )


class Joint(Spec):
    """Solder joints between stacked levels (claim 5) or onto the substrate (claim 6)."""

    material: MaterialName = "sac305"
    height_um: Um = 200.0
    diameter_um: Um = 250.0


class Level(Spec):
    """One assembly placed in the stack."""

    assembly: Name
    name: Name | None = Field(default=None, description="defaults to the assembly's name")
    offset_um: XY = (0.0, 0.0)


class Stack(Spec):
    """Assemblies stacked package-on-package, listed bottom to top; each joins the one below through joints."""

    levels: list[Level] = Field(min_length=2, max_length=8)
    joint: Joint = Field(default_factory=Joint)
    position_tolerance_um: Um = 5.0


class Substrate(Spec):
    """A laminate under the lowest assembly, with a land and a joint under each of its bottom units (claim 6)."""

    size_um: Size2
    thickness_um: Um = 400.0
    material: MaterialName = "bt"
    copper_layers: int = Field(default=2, ge=0, le=12)
    copper_thickness_um: Um = 15.0
    land_diameter_um: Um = 300.0
    land_thickness_um: Um = 15.0
    land_material: MaterialName = "copper"
    joint: Joint = Field(default_factory=Joint)


class Design(Spec):
    """A whole moldstack design: one assembly, or several stacked, optionally on a substrate."""

    moldstack: Literal[1] = Field(default=1, description="spec format version")
    name: Name = "design"
    description: str = ""
    materials: dict[str, MaterialSpec] = Field(default_factory=dict)
    assemblies: list[Assembly] = Field(min_length=1, max_length=8)
    stack: Stack | None = None
    substrate: Substrate | None = None
