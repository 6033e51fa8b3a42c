"""Placement: where an assembly's contacts and units are, and which contact each conductive element joins.

Resolves the spec's patterns (rows along die edges, explicit lists) into named positions in the
assembly's own frame (body bottom face at z = 0, centred on the origin), works out the heights of dies and
contacts, and assigns contacts to units: explicitly from a map, or automatically by the assignment of least
total length (``scipy.optimize.linear_sum_assignment``; in the plane, a minimum-length matching never crosses
itself, so automatic wires do not cross in plan). Problems found on the way are collected, not raised, so
validation can report them all. It knows the spec, not the solids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from moldstack.spec.base import ALL_EDGES
from moldstack.spec.design import Assembly
from moldstack.spec.die import ContactList, Die
from moldstack.spec.errors import Problem
from moldstack.spec.interconnects import Interconnect
from moldstack.spec.units import ListPattern, PadProtrusionUnit, PlatedViaUnit, PostUnit, RowsPattern, Unit

NO_CONNECT = "NC"
OUTWARD: dict[str, tuple[float, float]] = {
    "north": (0.0, 1.0),
    "east": (1.0, 0.0),
    "south": (0.0, -1.0),
    "west": (-1.0, 0.0),
}


@dataclass(frozen=True)
class PlacedContact:
    name: str  # qualified: die.Cn
    die: str
    x: float
    y: float
    size: tuple[float, float]
    z0: float
    z1: float


@dataclass(frozen=True)
class PlacedDie:
    spec: Die
    index: int
    x0: float
    y0: float
    x1: float
    y1: float
    z_back: float
    z_front: float
    attach_z: tuple[float, float] | None
    contacts: tuple[PlacedContact, ...]

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class PlacedUnit:
    name: str
    spec: Unit
    x: float
    y: float
    edge: str
    path: str  # spec path of the pattern that made it
    index: int

    @property
    def outward(self) -> tuple[float, float]:
        return OUTWARD[self.edge]

    @property
    def radius(self) -> float:
        """Radius of the unit's footprint (half the largest plan dimension)."""
        s = self.spec
        if isinstance(s, PostUnit):
            return s.diameter_um / 2
        if isinstance(s, PadProtrusionUnit):
            half = s.pad.size_um / 2
            return half * math.sqrt(2) if s.pad.shape == "square" else half
        return max(s.pad.diameter_um / 2, s.diameter_um / 2 + s.flange_overhang_um)


@dataclass(frozen=True)
class Connection:
    """Contact -> target (unit name or qualified contact), realised by interconnect ``spec``."""

    source: str
    target: str
    spec: Interconnect
    path: str
    index: int


@dataclass
class AssemblyLayout:
    """Everything placed in one assembly, plus the problems found while placing."""

    spec: Assembly
    dies: list[PlacedDie] = field(default_factory=list)
    units: list[PlacedUnit] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    nets: dict[str, str | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def die(self, name: str) -> PlacedDie | None:
        return next((d for d in self.dies if d.name == name), None)

    def contact(self, qualified: str) -> PlacedContact | None:
        for d in self.dies:
            for c in d.contacts:
                if c.name == qualified:
                    return c
        return None

    def unit(self, name: str) -> PlacedUnit | None:
        return next((u for u in self.units if u.name == name), None)

    @property
    def contacts(self) -> list[PlacedContact]:
        return [c for d in self.dies for c in d.contacts]


def _edge_line_positions(count: int, pitch: float) -> list[float]:
    return [(i - (count - 1) / 2) * pitch for i in range(count)]


def _rows_contacts(die: Die, cx: float, cy: float) -> list[tuple[str, float, float]]:
    """Contacts of a rows layout, named C1.. clockwise from the north edge (left to right)."""
    spec = die.contacts
    assert not isinstance(spec, ContactList)
    hx, hy = die.size_um[0] / 2, die.size_um[1] / 2
    out: list[tuple[str, float, float]] = []
    along = _edge_line_positions(spec.count_per_edge, spec.pitch_um)
    for edge in (e for e in ALL_EDGES if e in spec.edges):
        for row in range(spec.rows):
            inset = spec.inset_um + row * spec.row_pitch_um
            for t in along:
                if edge == "north":
                    x, y = cx + t, cy + hy - inset
                elif edge == "east":
                    x, y = cx + hx - inset, cy - t
                elif edge == "south":
                    x, y = cx - t, cy - hy + inset
                else:
                    x, y = cx - hx + inset, cy + t
                out.append((f"C{len(out) + 1}", x, y))
    return out


def _place_dies(asm: Assembly, path: str, layout: AssemblyLayout) -> None:
    by_name = {d.name: d for d in asm.dies}
    placed: dict[str, PlacedDie] = {}
    for i, die in enumerate(asm.dies):
        dpath = f"{path}.dies[{i}]"
        if die.stacked_on is None:
            if die.back_exposed:
                z_back = 0.0
                attach = (-die.attach.thickness_um, 0.0) if die.attach else None
            else:
                attach = (die.standoff_um, die.standoff_um + die.attach.thickness_um) if die.attach else None
                z_back = attach[1] if attach else die.standoff_um
        else:
            lower = placed.get(die.stacked_on)
            if lower is None:
                known = ", ".join(n for n in by_name if n != die.name)
                msg = (
                    f"'{die.stacked_on}' is not a die listed before this one (known: {known or 'none'})"
                    if die.stacked_on not in by_name
                    else f"'{die.stacked_on}' must be listed before the die stacked on it"
                )
                layout.problems.append(Problem(f"{dpath}.stacked_on", msg))
                continue
            if die.attach:
                attach = (lower.z_front, lower.z_front + die.attach.thickness_um)
                z_back = attach[1]
            else:
                attach = None
                z_back = lower.z_front + die.gap_um
        cx, cy = die.center_um
        hx, hy = die.size_um[0] / 2, die.size_um[1] / 2
        z_front = z_back + die.thickness_um
        spec = die.contacts
        if isinstance(spec, ContactList):
            raw = [(p.name, cx + p.at_um[0], cy + p.at_um[1], p.size_um) for p in spec.pads]
        else:
            raw = [(n, x, y, spec.size_um) for n, x, y in _rows_contacts(die, cx, cy)]
        contacts = tuple(
            PlacedContact(f"{die.name}.{n}", die.name, x, y, size, z_front, z_front + spec.thickness_um)
            for n, x, y, size in raw
        )
        pd = PlacedDie(die, i, cx - hx, cy - hy, cx + hx, cy + hy, z_back, z_front, attach, contacts)
        placed[die.name] = pd
        layout.dies.append(pd)


def _ring_positions(pattern: RowsPattern, die: PlacedDie) -> list[tuple[str, float, float]]:
    """(edge, x, y) of every unit of a rows pattern around ``die``."""
    row_pitch = pattern.row_pitch_um or pattern.pitch_um
    p = pattern.pitch_um
    cx, cy = (die.x0 + die.x1) / 2, (die.y0 + die.y1) / 2
    out: list[tuple[str, float, float]] = []
    for row in range(pattern.rows):
        off = pattern.offset_um + row * row_pitch
        hx, hy = (die.x1 - die.x0) / 2 + off, (die.y1 - die.y0) / 2 + off
        for edge in (e for e in ALL_EDGES if e in pattern.edges):
            horizontal = edge in ("north", "south")
            span = 2 * (hx if horizontal else hy)
            if pattern.count_per_edge is not None:
                along = _edge_line_positions(pattern.count_per_edge, p)
            else:
                # North and south rows take the corners; east and west stop a pitch short of a present corner row.
                corners = [e for e in ("north", "south") if e in pattern.edges] if not horizontal else []
                usable = span - p * len(corners)
                n = max(math.floor(usable / p + 1e-9) + 1, 1)
                shift = 0.0
                if len(corners) == 1:
                    shift = -p / 2 if corners[0] == "north" else p / 2
                along = [t + shift for t in _edge_line_positions(n, p)]
            for t in along:
                if edge == "north":
                    out.append((edge, cx + t, cy + hy))
                elif edge == "east":
                    out.append((edge, cx + hx, cy - t))
                elif edge == "south":
                    out.append((edge, cx - t, cy - hy))
                else:
                    out.append((edge, cx - hx, cy + t))
    return out


def nearest_edge(x: float, y: float, die: PlacedDie) -> str:
    """The die edge a point outside the die lies along (the side whose band it is furthest out of)."""
    cx, cy = (die.x0 + die.x1) / 2, (die.y0 + die.y1) / 2
    dx = abs(x - cx) - (die.x1 - die.x0) / 2
    dy = abs(y - cy) - (die.y1 - die.y0) / 2
    if dx > dy:
        return "east" if x > cx else "west"
    return "north" if y > cy else "south"


def _place_units(asm: Assembly, path: str, layout: AssemblyLayout) -> None:
    first = layout.dies[0] if layout.dies else None
    for i, pattern in enumerate(asm.units):
        ppath = f"{path}.units[{i}]"
        if isinstance(pattern, RowsPattern):
            die = layout.die(pattern.die)
            if die is None:
                known = ", ".join(d.name for d in layout.dies)
                layout.problems.append(
                    Problem(f"{ppath}.die", f"'{pattern.die}' is not a die here (known: {known})")
                )
                continue
            spots = _ring_positions(pattern, die)
            names: list[str] = []
        else:
            assert isinstance(pattern, ListPattern)
            if first is None:
                continue
            spots = [(nearest_edge(x, y, first), x, y) for x, y in pattern.at_um]
            names = list(pattern.names or [])
            if names and len(names) != len(spots):
                layout.problems.append(
                    Problem(
                        f"{ppath}.names", f"{len(names)} names for {len(spots)} positions; give one name each"
                    )
                )
                names = []
        for j, (edge, x, y) in enumerate(spots):
            name = names[j] if names else f"U{len(layout.units) + 1}"
            layout.units.append(PlacedUnit(name, pattern.unit, x, y, edge, ppath, j))
    seen: set[str] = set()
    for u in layout.units:
        if u.name in seen:
            layout.problems.append(Problem(f"{u.path}.names", f"unit name '{u.name}' is used twice"))
        seen.add(u.name)


def landing_point(unit: PlacedUnit, base_um: float = 0.0) -> tuple[float, float, float] | None:
    """Where a wire bond lands on a unit (x, y, surface z), or None if the unit has no landing surface.

    ``base_um`` is the dielectric base thickness (plated-via pads sit on the base).
    """
    s = unit.spec
    nx, ny = unit.outward
    if isinstance(s, PadProtrusionUnit):
        half = s.pad.size_um / 2
        pr = s.protrusion_diameter_um / 2
        shift = half - pr if s.protrusion_position == "far" else 0.0
        near_pad = -half
        near_protrusion = shift - pr
        t = 0.5 * (near_pad + near_protrusion)
        return (unit.x + nx * t, unit.y + ny * t, s.pad.thickness_um)
    if isinstance(s, PlatedViaUnit):
        t = -0.5 * (s.diameter_um / 2 + s.pad.diameter_um / 2)
        return (unit.x + nx * t, unit.y + ny * t, base_um + s.pad.thickness_um)
    return None


def column_point(unit: PlacedUnit) -> tuple[float, float]:
    """Centre of the part of the unit that runs through the full body height (where traces end)."""
    s = unit.spec
    if isinstance(s, PadProtrusionUnit) and s.protrusion_position == "far":
        shift = s.pad.size_um / 2 - s.protrusion_diameter_um / 2
        return (unit.x + unit.outward[0] * shift, unit.y + unit.outward[1] * shift)
    return (unit.x, unit.y)


def _target_xy(unit: PlacedUnit, kind: str) -> tuple[float, float] | None:
    if kind == "wire_bond":
        land = landing_point(unit)
        return None if land is None else (land[0], land[1])
    return column_point(unit)


def _assign(asm: Assembly, path: str, layout: AssemblyLayout) -> None:
    nets = asm.nets
    explicit_contacts: set[str] = set()
    used_units: set[str] = set()
    auto_by_die: dict[str, tuple[int, Interconnect]] = {}
    die_names = {d.name for d in layout.dies}
    for i, ic in enumerate(asm.interconnects):
        ipath = f"{path}.interconnects[{i}]"
        if ic.die not in die_names:
            known = ", ".join(sorted(die_names))
            layout.problems.append(Problem(f"{ipath}.die", f"'{ic.die}' is not a die here (known: {known})"))
            continue
        if ic.map is None:
            if ic.die in auto_by_die:
                other = auto_by_die[ic.die][0]
                layout.problems.append(
                    Problem(
                        ipath,
                        f"interconnects[{other}] already joins die '{ic.die}' automatically; give one a map",
                    )
                )
            else:
                auto_by_die[ic.die] = (i, ic)
            continue
        for contact, target in ic.map.items():
            mpath = f"{ipath}.map.{contact}"
            qualified = f"{ic.die}.{contact}"
            if layout.contact(qualified) is None:
                names = [c.name.split(".", 1)[1] for c in layout.contacts if c.die == ic.die]
                from moldstack.spec.errors import did_you_mean  # noqa: PLC0415

                layout.problems.append(
                    Problem(mpath, f"'{contact}' is not a contact of {ic.die}{did_you_mean(contact, names)}")
                )
                continue
            if qualified in explicit_contacts:
                layout.problems.append(Problem(mpath, f"contact {qualified} is mapped twice"))
                continue
            if "." in target:
                other_contact = layout.contact(target)
                if other_contact is None:
                    layout.problems.append(Problem(mpath, f"'{target}' is not a contact of any die here"))
                    continue
                if other_contact.die == ic.die:
                    layout.problems.append(Problem(mpath, f"'{target}' is on the same die as {qualified}"))
                    continue
                if ic.kind != "wire_bond":
                    layout.problems.append(
                        Problem(mpath, f"a {ic.kind} joins a contact to a unit; die-to-die needs a wire_bond")
                    )
                    continue
            else:
                unit = layout.unit(target)
                if unit is None:
                    layout.problems.append(
                        Problem(
                            mpath,
                            f"'{target}' is not a unit or a die contact (units are U1..U{len(layout.units)})",
                        )
                    )
                    continue
                if _target_xy(unit, ic.kind) is None:
                    layout.problems.append(
                        Problem(
                            mpath,
                            f"unit {target} is a {unit.spec.shape} with no pad to land a wire on; "
                            "use shape pad_protrusion or plated_via, or interconnect kind via or rdl",
                        )
                    )
                    continue
                used_units.add(target)
            explicit_contacts.add(qualified)
            if "." in target:
                explicit_contacts.add(target)  # its pad now carries the stitch: no automatic wire from it
            layout.connections.append(Connection(qualified, target, ic, mpath, i))
    failed_dies: set[str] = set()  # dies whose automatic assignment already reported its contacts
    for die_name, (i, ic) in auto_by_die.items():
        ipath = f"{path}.interconnects[{i}]"
        contacts = [
            c
            for c in layout.contacts
            if c.die == die_name and c.name not in explicit_contacts and nets.get(c.name) != NO_CONNECT
        ]
        allowed = None
        if ic.unit_patterns is not None:
            bad = [k for k in ic.unit_patterns if not 0 <= k < len(asm.units)]
            if bad:
                layout.problems.append(
                    Problem(
                        f"{ipath}.unit_patterns",
                        f"{bad} are not pattern indices; units: has patterns 0..{len(asm.units) - 1}",
                    )
                )
            allowed = {f"{path}.units[{k}]" for k in ic.unit_patterns}
        units = [
            u
            for u in layout.units
            if u.name not in used_units
            and _target_xy(u, ic.kind) is not None
            and (allowed is None or u.path in allowed)
        ]
        if not contacts:
            continue
        if not units:
            layout.problems.append(
                Problem(
                    ipath,
                    f"no free unit can take a {ic.kind} from {die_name}'s {len(contacts)} contacts "
                    "(wire bonds need units with a pad: pad_protrusion or plated_via)",
                )
            )
            failed_dies.add(die_name)
            continue
        cxy = np.array([(c.x, c.y) for c in contacts])
        uxy = np.array([_target_xy(u, ic.kind) for u in units])
        dist = np.linalg.norm(cxy[:, None, :] - uxy[None, :, :], axis=2)
        cost = np.where(dist <= ic.max_length_um, dist, 1e3 * ic.max_length_um + dist)
        rows, cols = linear_sum_assignment(cost)
        assigned = dict(zip(rows.tolist(), cols.tolist(), strict=True))
        unassigned, too_far = [], []
        for k, c in enumerate(contacts):
            j = assigned.get(k)
            if j is None:
                unassigned.append(c.name)
            elif dist[k, j] > ic.max_length_um:
                nearest = int(np.argmin(dist[k]))
                too_far.append(
                    f"{c.name} (nearest free unit {units[nearest].name} at {dist[k, nearest]:.0f} um)"
                )
            else:
                layout.connections.append(Connection(c.name, units[j].name, ic, ipath, i))
                used_units.add(units[j].name)
        if unassigned:
            layout.problems.append(
                Problem(
                    ipath,
                    f"{len(unassigned)} contacts have no conductive unit within reach: {len(contacts)} contacts of "
                    f"{die_name} for {len(units)} free units ({', '.join(unassigned[:6])}"
                    f"{', ...' if len(unassigned) > 6 else ''}); add units or map contacts explicitly",
                )
            )
        if too_far:
            layout.problems.append(
                Problem(
                    ipath,
                    f"{len(too_far)} contacts have no conductive unit within max_length_um {ic.max_length_um:g}: "
                    f"{'; '.join(too_far[:4])}{'; ...' if len(too_far) > 4 else ''}; add units or raise max_length_um",
                )
            )
        failed_dies.add(die_name)
    connected = {c.source for c in layout.connections} | {c.target for c in layout.connections}
    lonely = [
        c.name
        for c in layout.contacts
        if c.name not in connected and nets.get(c.name) != NO_CONNECT and c.die not in failed_dies
    ]
    if lonely:
        layout.problems.append(
            Problem(
                f"{path}.interconnects",
                f"{len(lonely)} contacts have no conductive element to a unit ({', '.join(lonely[:6])}"
                f"{', ...' if len(lonely) > 6 else ''}); add an interconnect for their die, map them explicitly, "
                f"or mark them no-connect (nets: {{{lonely[0]}: NC}})",
            )
        )


def _nets(asm: Assembly, path: str, layout: AssemblyLayout) -> None:
    """Net of every contact and unit: the contact's net name (default its own name) flows along connections."""
    qualified = {c.name for c in layout.contacts}
    for key in asm.nets:
        if key not in qualified:
            from moldstack.spec.errors import did_you_mean  # noqa: PLC0415

            layout.problems.append(
                Problem(f"{path}.nets.{key}", f"'{key}' is not a die contact{did_you_mean(key, qualified)}")
            )
    nets: dict[str, str | None] = {}
    for c in layout.contacts:
        given = asm.nets.get(c.name)
        nets[c.name] = None if given == NO_CONNECT else (given or c.name)
    for conn in layout.connections:
        src = nets.get(conn.source)
        if conn.target in nets:  # die to die: both contacts must agree
            dst = nets[conn.target]
            explicit = conn.target in asm.nets and conn.source in asm.nets
            if explicit and src != dst:
                layout.problems.append(
                    Problem(
                        conn.path, f"{conn.source} is on net {src} but is wired to {conn.target} on net {dst}"
                    )
                )
            elif conn.target not in asm.nets:
                nets[conn.target] = src
            else:
                nets[conn.source] = dst
    for conn in layout.connections:
        if conn.target in nets:
            continue
        src = nets.get(conn.source)
        previous = nets.get(conn.target)
        if previous is not None and previous != src:
            layout.problems.append(
                Problem(conn.path, f"unit {conn.target} would join nets {previous} and {src}")
            )
        nets[conn.target] = src
    for u in layout.units:
        nets.setdefault(u.name, None)
    layout.nets = nets


def place(asm: Assembly, path: str = "assemblies[0]") -> AssemblyLayout:
    """Resolve one assembly's dies, contacts, units, connections and nets, collecting problems."""
    layout = AssemblyLayout(spec=asm)
    _place_dies(asm, path, layout)
    if not layout.dies:
        return layout
    _place_units(asm, path, layout)
    _assign(asm, path, layout)
    _nets(asm, path, layout)
    return layout
