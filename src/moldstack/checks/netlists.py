"""The two netlists LVS compares (:mod:`moldstack.checks.lvs`): the layout's, from geometry, and the schematic's,
from intent.

**Layout** (:func:`extract_pieces`; geometry only, the solids' ``net`` labels are not read): the connected
components of :func:`~moldstack.geometry.adjacency.connectivity` are the **pieces**. A piece's **pins** are the die
contacts and second-die terminals in it (``logic/die1.C2``), the unit ends at an outer face of their package that
no joint covers (``memory/U2.top``, ``pkg/U7.bottom``) and the substrate lands (``substrate/land:U2``). All but
contacts are *exterior* pins: where the package meets what is outside it.

**Schematic** (:func:`intended_nets`; the model's intent records only, never geometry nor ``net`` labels):

- **members** are what a net joins: die contacts and second-die terminals (``logic/die1.C2``, from
  :class:`~moldstack.geometry.model.ContactInfo`), conductive units (``logic/U2``, from
  :class:`~moldstack.geometry.model.UnitInfo`) and substrate lands (``substrate/land:U2``, the lower end of a
  :class:`~moldstack.geometry.model.JointInfo` that is not a unit);
- **names** come from the contacts' and units' records. A name is *declared* when the user gave it in the spec's
  ``nets:`` map (``VDD``), *automatic* when the builder named it after its contact (``logic/die1.C2``). A contact
  whose record carries no net is no-connect (``NC``): meant to touch nothing;
- **links** join members: each conductive element (``ConnectionInfo`` source -> target) and each stack or
  substrate joint (``JointInfo`` upper -> lower).

An **intended net** is the set of members joined by sharing a name or by links. A link between members of two
different *declared* names is not followed (it is a conflict: a short by intent, reported as such); a link
between an automatic name and another name makes the names **aliases** of one net. A net's **islands** are its
members grouped by links alone: what the package itself is meant to join. A declared net of several islands
(``VDD`` on two contacts wired to two units) is meant to be joined outside the package.

It reads a :class:`~moldstack.geometry.model.Model`; it knows nothing of the spec, nor of how the two are compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from moldstack.geometry.adjacency import Connectivity, role_matches
from moldstack.geometry.model import BBox, Model, PlacedAssembly, Solid

PinKind = Literal["contact", "top", "bottom", "land"]
CONTACT_ROLES = ("die.contact", "second_die.terminal")
LAND_ROLES = ("substrate.land",)
JOINT_ROLES = ("joint",)

Point = tuple[float, float, float]


def centre(box: BBox) -> Point:
    """The centre of a bounding box."""
    return ((box[0] + box[3]) / 2, (box[1] + box[4]) / 2, (box[2] + box[5]) / 2)


@dataclass(frozen=True)
class Pin:
    """A terminal of the layout: a contact, an exposed unit end (``top``/``bottom``) or a substrate land."""

    name: str
    kind: PinKind
    solids: tuple[str, ...]

    @property
    def exterior(self) -> bool:
        return self.kind != "contact"


@dataclass(frozen=True)
class Piece:
    """One extracted conductor: touching conductive solids, the pins among them and the parts they belong to."""

    id: str
    solids: tuple[str, ...]
    pins: tuple[Pin, ...]
    parts: tuple[str, ...]

    @property
    def exterior(self) -> bool:
        return any(p.exterior for p in self.pins)

    @property
    def contacts(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.pins if p.kind == "contact")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "solids": len(self.solids),
            "pins": [p.name for p in self.pins],
            "parts": list(self.parts),
        }


def _unit_pins(
    part: str, column: Sequence[Solid], asm: PlacedAssembly, model: Model, conn: Connectivity, tol: float
) -> list[Pin]:
    """The ends of a unit at its package's outer faces that no joint covers."""
    z_lo = min(s.shape.bbox[2] for s in column)
    z_hi = max(s.shape.bbox[5] for s in column)
    lows = [s.id for s in column if s.shape.bbox[2] <= z_lo + tol]
    highs = [s.id for s in column if s.shape.bbox[5] >= z_hi - tol]

    def covered(ends: list[str], below: bool) -> bool:
        for sid in ends:
            for n in conn.neighbours[sid]:
                if role_matches(conn.roles[n], JOINT_ROLES):
                    z = centre(model.solid(n).shape.bbox)[2]
                    if (z < z_lo) if below else (z > z_hi):
                        return True
        return False

    pins = []
    if z_lo <= asm.z_bottom + tol and not covered(lows, below=True):
        pins.append(Pin(f"{part}.bottom", "bottom", tuple(lows)))
    if z_hi >= asm.z_top - tol and not covered(highs, below=False):
        pins.append(Pin(f"{part}.top", "top", tuple(highs)))
    return pins


def extract_pieces(model: Model, conn: Connectivity) -> tuple[Piece, ...]:
    """The layout netlist: one :class:`Piece` per connected component of ``conn``, with its pins and parts."""
    pins: list[Pin] = []
    by_part: dict[str, list[Solid]] = defaultdict(list)
    for sid in conn.solids:
        s = model.solid(sid)
        by_part[s.part].append(s)
        if role_matches(s.role, CONTACT_ROLES):
            pins.append(Pin(s.part, "contact", (s.id,)))
        elif role_matches(s.role, LAND_ROLES):
            pins.append(Pin(s.part, "land", (s.id,)))
    for asm in model.assemblies:
        for unit in asm.units:
            column = by_part.get(unit.part)
            if column:
                pins += _unit_pins(unit.part, column, asm, model, conn, conn.tolerance_um)
    pins_of: dict[int, list[Pin]] = defaultdict(list)
    for pin in pins:
        pins_of[conn.component_of[pin.solids[0]]].append(pin)
    return tuple(
        Piece(
            f"P{k + 1}",
            comp,
            tuple(pins_of[k]),
            tuple(dict.fromkeys(model.solid(s).part for s in comp)),
        )
        for k, comp in enumerate(conn.components)
    )


MemberKind = Literal["contact", "unit", "land"]


@dataclass(frozen=True)
class Member:
    """A thing an intended net joins, with the solids its record lists and the net name the record carries."""

    name: str
    kind: MemberKind
    solids: tuple[str, ...]
    net: str | None


@dataclass(frozen=True)
class Link:
    """An intended join of two members by a conductive element or a joint (``part`` names it)."""

    part: str
    a: str
    b: str


@dataclass(frozen=True)
class IntendedNet:
    """One intended net: its names (the primary first: declared before automatic, then in model order)."""

    names: tuple[str, ...]
    declared: bool
    members: tuple[str, ...]
    islands: tuple[tuple[str, ...], ...]
    aliasing_links: tuple[Link, ...]

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class Intent:
    """The intended netlist: its nets, every member by name, and which net (primary name) owns each solid.

    ``owner`` maps the solids of members, of conductive elements and of joints to their net's primary name;
    ``spare`` maps the solids of members no net holds (spare units and their lands) to their member's name;
    ``conflicts`` are links between two different declared names, left unfollowed.
    """

    nets: tuple[IntendedNet, ...]
    members: Mapping[str, Member]
    no_connect: tuple[str, ...]
    owner: Mapping[str, str]
    spare: Mapping[str, str]
    conflicts: tuple[tuple[Link, str, str], ...]

    def net(self, name: str) -> IntendedNet:
        return next(n for n in self.nets if name in n.names)


class _Sets:
    """Disjoint sets over names, each set keeping the declared net names it holds."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.declared: dict[str, frozenset[str]] = {}

    def add(self, key: str, declared: frozenset[str] = frozenset()) -> None:
        self.parent.setdefault(key, key)
        root = self.find(key)
        self.declared[root] = self.declared.get(root, frozenset()) | declared

    def find(self, key: str) -> str:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def can_join(self, a: str, b: str) -> bool:
        da, db = self.declared[self.find(a)], self.declared[self.find(b)]
        return not (da and db and da != db)

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.declared[ra] = self.declared[ra] | self.declared.pop(rb)


def _members(model: Model) -> tuple[dict[str, Member], list[Link]]:
    """Every member in model order (assemblies bottom to top: contacts, then units; lands last) and every link."""
    members: dict[str, Member] = {}
    links: list[Link] = []
    for a in model.assemblies:
        for d in a.dies:
            for c in d.contacts:
                key = f"{a.name}/{c.name}"
                members[key] = Member(key, "contact", (c.solid,), c.net)
        for u in a.units:
            members[u.part] = Member(u.part, "unit", u.solids, u.net)
        links += [Link(c.part, f"{a.name}/{c.source}", f"{a.name}/{c.target}") for c in a.connections]
    by_part: dict[str, list[str]] = defaultdict(list)
    for s in model.solids:
        by_part[s.part].append(s.id)
    for j in model.joints:
        if j.lower not in members:
            members[j.lower] = Member(j.lower, "land", tuple(by_part.get(j.lower, ())), None)
        links.append(Link(j.part, j.upper, j.lower))
    return members, links


def intended_nets(model: Model) -> Intent:
    """The intended netlist of ``model`` from its intent records (see the module notes for the rules)."""
    members, links = _members(model)
    # The builder names an automatic net after its contact, qualified with the level: the contact's member name.
    automatic = {m.name for m in members.values() if m.kind == "contact"}
    sets, islands = _Sets(), _Sets()
    for m in members.values():
        islands.add(m.name)
        sets.add(m.name)
        if m.net is not None:
            sets.add(f"net:{m.net}", frozenset() if m.net in automatic else frozenset({m.net}))
            sets.join(f"net:{m.net}", m.name)
    conflicts: list[tuple[Link, str, str]] = []
    aliasing: list[Link] = []
    for link in links:
        if link.a not in members or link.b not in members:
            continue
        if not sets.can_join(link.a, link.b):
            na, nb = (sorted(sets.declared[sets.find(k)])[0] for k in (link.a, link.b))
            conflicts.append((link, na, nb))
            continue
        na, nb = members[link.a].net, members[link.b].net
        if na is not None and nb is not None and na != nb and sets.find(link.a) != sets.find(link.b):
            aliasing.append(link)
        sets.join(link.a, link.b)
        islands.join(link.a, link.b)
    groups: dict[str, list[str]] = defaultdict(list)
    for name in members:
        groups[sets.find(name)].append(name)
    nets: list[IntendedNet] = []
    spare: dict[str, str] = {}
    owner: dict[str, str] = {}
    net_of_member: dict[str, str] = {}
    for root, names in groups.items():
        net_names = list(dict.fromkeys(n for n in (members[k].net for k in names) if n is not None))
        if not net_names:
            spare.update({s: k for k in names for s in members[k].solids})
            continue
        net_names.sort(key=lambda n: n in automatic)
        by_island: dict[str, list[str]] = defaultdict(list)
        for k in names:
            by_island[islands.find(k)].append(k)
        member_set = set(names)
        nets.append(
            IntendedNet(
                names=tuple(net_names),
                declared=bool(sets.declared[root]),
                members=tuple(names),
                islands=tuple(tuple(v) for v in by_island.values()),
                aliasing_links=tuple(lk for lk in aliasing if lk.a in member_set),
            )
        )
        for k in names:
            net_of_member[k] = net_names[0]
            owner.update(dict.fromkeys(members[k].solids, net_names[0]))
    link_of_part = {link.part: link for link in links}
    for s in model.solids:
        link = link_of_part.get(s.part)
        if link is not None and s.id not in owner:
            link_net = net_of_member.get(link.a) or net_of_member.get(link.b)
            if link_net is not None:
                owner[s.id] = link_net
    no_connect = tuple(m.name for m in members.values() if m.kind == "contact" and m.net is None)
    return Intent(tuple(nets), members, no_connect, owner, spare, tuple(conflicts))


__all__ = [
    "IntendedNet",
    "Intent",
    "Link",
    "Member",
    "MemberKind",
    "Piece",
    "Pin",
    "PinKind",
    "Point",
    "centre",
    "extract_pieces",
    "intended_nets",
]
