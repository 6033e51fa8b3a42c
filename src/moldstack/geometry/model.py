"""The built model: solids that each carry material, net, role (claim element) and part.

A :class:`Model` is what every later stage reads (exports, checks, grids, analyses). It holds only values:
the solids, and for each placed assembly the named things the claims speak of (dies and their contacts,
units, intended connections, body faces) with the ids of the solids that realise them.

Solids are of two kinds. *Matrix* solids (the mold body, the dielectric base, the substrate laminate) are
boxes that fill whatever the other solids leave: a matrix solid's material occupies its box minus every
inclusion and every higher-``rank`` matrix inside it. *Inclusions* (dies, units, wires, pads, joints ...) are
solid as given and do not overlap each other except where the structure intends it (a wire's stitch on its pad).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from moldstack.geometry.primitives import Shape
from moldstack.materials import Material

BBox = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class Solid:
    """One primitive solid with what it is: ``role`` names the claim element it realises."""

    id: str
    part: str
    role: str
    material: str
    shape: Shape
    net: str | None = None
    assembly: str | None = None
    matrix: bool = False
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "part": self.part,
            "role": self.role,
            "material": self.material,
            "net": self.net,
            "assembly": self.assembly,
            "matrix": self.matrix,
            "shape": self.shape.to_dict(),
        }


@dataclass(frozen=True)
class ContactInfo:
    """A die contact (or a second die's terminal): qualified name ``die.Cn``."""

    name: str
    die: str
    solid: str
    x: float
    y: float
    size: tuple[float, float]
    z_top: float
    net: str | None


@dataclass(frozen=True)
class DieInfo:
    """A placed die: outline, back and front face heights, and where it sits."""

    name: str
    part: str
    solid: str
    x0: float
    y0: float
    x1: float
    y1: float
    z_back: float
    z_front: float
    stacked_on: str | None
    back_exposed: bool
    attach_solid: str | None
    contacts: tuple[ContactInfo, ...]
    power_w: float = 0.0


@dataclass(frozen=True)
class UnitInfo:
    """A placed conductive unit: name ``Un``, centre, the die edge it lies along, and its solids."""

    name: str
    part: str
    shape: str
    x: float
    y: float
    edge: str
    outward: tuple[float, float]
    net: str | None
    solids: tuple[str, ...]


@dataclass(frozen=True)
class ConnectionInfo:
    """An intended connection by a conductive element: contact -> unit or contact -> another die's contact."""

    source: str
    target: str
    kind: str
    part: str
    net: str | None
    length_um: float


@dataclass(frozen=True)
class PlacedAssembly:
    """One molded assembly as placed in the design (global coordinates)."""

    name: str
    spec_name: str
    x0: float
    y0: float
    x1: float
    y1: float
    z_bottom: float
    z_top: float
    body_solid: str
    base_solids: tuple[str, ...]
    dies: tuple[DieInfo, ...]
    units: tuple[UnitInfo, ...]
    connections: tuple[ConnectionInfo, ...]

    def die(self, name: str) -> DieInfo:
        return next(d for d in self.dies if d.name == name)

    def unit(self, name: str) -> UnitInfo:
        return next(u for u in self.units if u.name == name)


@dataclass(frozen=True)
class JointInfo:
    """A solder joint between a unit of one level and a unit (or land) of the level below."""

    part: str
    solid: str
    upper: str
    lower: str


@dataclass(frozen=True)
class InterfaceInfo:
    """Where a level is meant to join the one below (claim 5) or the substrate (claim 6), as the spec asks.

    ``lower`` is the placed assembly below, or the substrate's part for the board-side interface; joints are
    placed only between units that align within ``tolerance_um``, so a misaligned map shows as units with no joint.
    """

    lower: str
    upper: str
    joint_material: str
    joint_height_um: float
    joint_diameter_um: float
    tolerance_um: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Model:
    """Everything built from a Design. Immutable; derived tallies are computed on demand."""

    name: str
    solids: tuple[Solid, ...]
    assemblies: tuple[PlacedAssembly, ...]
    joints: tuple[JointInfo, ...] = ()
    substrate_part: str | None = None
    materials: Mapping[str, Material] = field(default_factory=dict)
    interfaces: tuple[InterfaceInfo, ...] = ()

    def solid(self, solid_id: str) -> Solid:
        return self._index[solid_id]

    @property
    def _index(self) -> dict[str, Solid]:
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {s.id: s for s in self.solids}
            object.__setattr__(self, "_index_cache", cached)
        return cached

    def by_role(self, prefix: str) -> list[Solid]:
        """Solids whose role is ``prefix`` or starts with ``prefix.``."""
        return [s for s in self.solids if s.role == prefix or s.role.startswith(prefix + ".")]

    def by_part(self, part: str) -> list[Solid]:
        return [s for s in self.solids if s.part == part]

    @property
    def bbox(self) -> BBox:
        boxes = [s.shape.bbox for s in self.solids]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            min(b[2] for b in boxes),
            max(b[3] for b in boxes),
            max(b[4] for b in boxes),
            max(b[5] for b in boxes),
        )

    @property
    def net_volumes(self) -> dict[str, float]:
        """Volume each solid's material really occupies (um^3): matrices net of what they hold."""
        cached = self.__dict__.get("_net_volumes")
        if cached is None:
            from moldstack.geometry.volumes import net_volumes  # noqa: PLC0415 - keeps model.py a pure value

            cached = net_volumes(self.solids)
            object.__setattr__(self, "_net_volumes", cached)
        return cached

    def volumes_by(self, key: str) -> dict[str, float]:
        """Net volume summed by ``material``, ``role`` or ``part`` (um^3)."""
        totals: dict[str, float] = defaultdict(float)
        volumes = self.net_volumes
        for s in self.solids:
            totals[getattr(s, key)] += volumes[s.id]
        return dict(sorted(totals.items()))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: parts, solids per role and material, volumes in mm^3."""
        per_role: dict[str, int] = defaultdict(int)
        per_material: dict[str, int] = defaultdict(int)
        for s in self.solids:
            per_role[s.role] += 1
            per_material[s.material] += 1
        mm3 = 1e-9
        return {
            "name": self.name,
            "units": {"length": "um", "volume": "mm^3"},
            "bbox_um": list(self.bbox),
            "solid_count": len(self.solids),
            "part_count": len({s.part for s in self.solids}),
            "solids_per_role": dict(sorted(per_role.items())),
            "solids_per_material": dict(sorted(per_material.items())),
            "volume_per_material_mm3": {k: v * mm3 for k, v in self.volumes_by("material").items()},
            "volume_per_role_mm3": {k: v * mm3 for k, v in self.volumes_by("role").items()},
            "assemblies": [
                {
                    "name": a.name,
                    "body_um": [a.x0, a.y0, a.z_bottom, a.x1, a.y1, a.z_top],
                    "dies": [d.name for d in a.dies],
                    "contacts": sum(len(d.contacts) for d in a.dies),
                    "units": len(a.units),
                    "connections": len(a.connections),
                }
                for a in self.assemblies
            ],
            "joints": len(self.joints),
            "interfaces": [i.to_dict() for i in self.interfaces],
            "solids": [s.to_dict() for s in self.solids],
        }
