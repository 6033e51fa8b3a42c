"""The model builder: ``Design -> Model``. Deterministic: the same design gives the same solids in the same order.

Each assembly is built in its own frame (body bottom face at z = 0, centred on the origin) from its
:mod:`~moldstack.placement` layout, then moved to its place in the stack: the lowest level's body bottom at
z = 0, each level above it lifted so the joints between facing unit ends have the stack's joint height, and the
substrate below with a land and a joint under each unit of the lowest level. The builder does not validate;
:func:`moldstack.validation.validate` does, and :func:`moldstack.build` calls it first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from moldstack.geometry.bondloop import bond_loop
from moldstack.geometry.model import (
    ConnectionInfo,
    ContactInfo,
    DieInfo,
    InterfaceInfo,
    JointInfo,
    Model,
    PlacedAssembly,
    Solid,
    UnitInfo,
)
from moldstack.geometry.primitives import Box, Cylinder, Shape, Trace, Tube, Wire, moved
from moldstack.materials import library_with
from moldstack.placement import AssemblyLayout, PlacedUnit, column_point, landing_point, place
from moldstack.spec.design import Assembly, Design
from moldstack.spec.interconnects import RdlSpec, ViaSpec, WireBondSpec
from moldstack.spec.units import Fill, PadProtrusionUnit, PlatedViaUnit, PostUnit

VOID_MATERIAL = "air"


@dataclass
class _Piece:
    """A solid in the assembly frame, before it gets its instance prefix and offset."""

    part: str
    piece: str
    role: str
    material: str
    shape: Shape
    net: str | None = None
    matrix: bool = False
    rank: int = 2


@dataclass
class _Built:
    pieces: list[_Piece] = field(default_factory=list)
    unit_pieces: dict[str, list[str]] = field(default_factory=dict)
    unit_shapes: dict[str, list[Shape]] = field(default_factory=dict)
    unit_z: dict[str, tuple[float, float]] = field(default_factory=dict)

    def add(self, piece: _Piece) -> None:
        self.pieces.append(piece)


def base_thickness(asm: Assembly) -> float:
    return asm.body.base.thickness_um if asm.body.base else 0.0


def _hollow_axis(
    built: _Built,
    part: str,
    net: str | None,
    unit: PlacedUnit,
    z0: float,
    z1: float,
    r: float,
    material: str,
    r_hole: float,
    through: bool,
    open_end: str,
    depth: float | None,
    fill: Fill | None,
    role: str,
) -> None:
    """A vertical conductor of radius r over [z0, z1], with a hollow (through or blind) and optional fill."""
    x, y = unit.x, unit.y
    if r_hole <= 0:
        built.add(_Piece(part, "column", role, material, Cylinder(x, y, r, z0, z1), net))
        return
    if through:
        h0, h1 = z0, z1
    elif open_end == "top":
        h0, h1 = z1 - (depth or 0.0), z1
    else:
        h0, h1 = z0, z0 + (depth or 0.0)
    if h0 > z0:
        built.add(_Piece(part, "column.closed", role, material, Cylinder(x, y, r, z0, h0), net))
    built.add(
        _Piece(part, "column", role, material, Tube(z0=h0, z1=h1, cx=x, cy=y, r=r, r_inner=r_hole), net)
    )
    if h1 < z1:
        built.add(_Piece(part, "column.closed", role, material, Cylinder(x, y, r, h1, z1), net))
    empty = [(h0, h1)]
    if fill is not None:
        f0 = h0 + (fill.recess_um if through or open_end == "bottom" else 0.0)
        f1 = h1 - (fill.recess_um if through or open_end == "top" else 0.0)
        built.add(
            _Piece(part, "fill", "conductive_unit.fill", fill.material, Cylinder(x, y, r_hole, f0, f1), net)
        )
        empty = [(h0, f0), (f1, h1)]
    # What no fill occupies stays empty: an air void, so the mold around the unit does not flow into it.
    for k, (e0, e1) in enumerate((a, b) for a, b in empty if b > a):
        name = "hollow" if k == 0 else f"hollow{k + 1}"
        built.add(_Piece(part, name, "conductive_unit.hollow", VOID_MATERIAL, Cylinder(x, y, r_hole, e0, e1)))


def _unit_pieces(built: _Built, unit: PlacedUnit, net: str | None, thickness: float, base_um: float) -> None:
    s = unit.spec
    part = unit.name
    start = len(built.pieces)
    if isinstance(s, PostUnit):
        h = s.hollow
        _hollow_axis(
            built,
            part,
            net,
            unit,
            -s.protrude_bottom_um,
            thickness + s.protrude_top_um,
            s.diameter_um / 2,
            s.material,
            h.diameter_um / 2 if h else 0.0,
            h.through if h else True,
            h.open_end if h else "top",
            h.depth_um if h else None,
            s.fill,
            "conductive_unit.post",
        )
    elif isinstance(s, PadProtrusionUnit):
        pad_z = (-s.protrude_bottom_um, s.pad.thickness_um)
        if s.pad.shape == "square":
            pad: Shape = Box.centred(unit.x, unit.y, s.pad.size_um, s.pad.size_um, *pad_z)
        else:
            pad = Cylinder(unit.x, unit.y, s.pad.size_um / 2, *pad_z)
        built.add(_Piece(part, "pad", "conductive_unit.pad", s.material, pad, net))
        px, py = column_point(unit)
        prot = Cylinder(
            px, py, s.protrusion_diameter_um / 2, s.pad.thickness_um, thickness + s.protrude_top_um
        )
        built.add(_Piece(part, "protrusion", "conductive_unit.protrusion", s.material, prot, net))
    else:
        assert isinstance(s, PlatedViaUnit)
        r = s.diameter_um / 2
        sac = s.remnant_thickness_um
        flange = s.flange_thickness_um if s.flange_overhang_um > 0 else 0.0
        r_hole = r - s.plating_thickness_um if s.plating_thickness_um is not None else 0.0
        pad = Tube(
            z0=base_um,
            z1=base_um + s.pad.thickness_um,
            cx=unit.x,
            cy=unit.y,
            r=s.pad.diameter_um / 2,
            r_inner=r,
        )
        built.add(_Piece(part, "pad", "conductive_unit.pad", s.pad.material, pad, net))
        _hollow_axis(
            built,
            part,
            net,
            unit,
            -sac - flange,
            thickness + sac + flange,
            r,
            s.material,
            r_hole,
            True,
            "top",
            None,
            s.fill,
            "conductive_unit.via",
        )
        # The column above runs through the flanges; the flange rings add only the overhang.
        if flange > 0:
            rf = r + s.flange_overhang_um
            for name, z0, z1 in (
                ("flange.bottom", -sac - flange, -sac),
                ("flange.top", thickness + sac, thickness + sac + flange),
            ):
                ring = Tube(z0=z0, z1=z1, cx=unit.x, cy=unit.y, r=rf, r_inner=r)
                built.add(_Piece(part, name, "conductive_unit.flange", s.material, ring, net))
            if sac > 0:
                for name, z0, z1 in (
                    ("remnant.bottom", -sac, 0.0),
                    ("remnant.top", thickness, thickness + sac),
                ):
                    ring = Tube(z0=z0, z1=z1, cx=unit.x, cy=unit.y, r=rf, r_inner=r)
                    built.add(_Piece(part, name, "conductive_unit.remnant", s.remnant_material, ring, net))
    pieces = built.pieces[start:]
    built.unit_pieces[unit.name] = [p.piece for p in pieces]
    built.unit_shapes[unit.name] = [p.shape for p in pieces]
    built.unit_z[unit.name] = (min(p.shape.bbox[2] for p in pieces), max(p.shape.bbox[5] for p in pieces))


def _exit_distance(shape: Shape, px: float, py: float, ux: float, uy: float) -> float:
    """How far from (px, py) along the unit direction (ux, uy) the plan section of ``shape`` ends (0 if missed)."""
    if isinstance(shape, Tube):
        dx, dy = px - shape.cx, py - shape.cy
        b = dx * ux + dy * uy
        disc = b * b - (dx * dx + dy * dy - shape.r**2)
        return max(-b + math.sqrt(disc), 0.0) if disc >= 0 else 0.0
    if isinstance(shape, Box):
        exits = [
            ((hi if u > 0 else lo) - p) / u
            for p, u, lo, hi in ((px, ux, shape.x0, shape.x1), (py, uy, shape.y0, shape.y1))
            if abs(u) > 1e-12
        ]
        return max(min(exits), 0.0) if exits else 0.0
    return 0.0


def _trace_end(
    built: _Built, unit: PlacedUnit, start: tuple[float, float], z0: float, z1: float
) -> tuple[float, float]:
    """Where a trace from ``start`` towards the unit's column meets the unit: at the surface of whatever part of the
    unit spans the trace's height (the column, a protrusion, a flange), else on the column's axis (the trace then
    lies on the unit's exposed end)."""
    cx, cy = column_point(unit)
    length = math.hypot(start[0] - cx, start[1] - cy)
    if length == 0:
        return (cx, cy)
    ux, uy = (start[0] - cx) / length, (start[1] - cy) / length
    reach = max(
        (
            _exit_distance(shape, cx, cy, ux, uy)
            for shape in built.unit_shapes[unit.name]
            if min(shape.bbox[5], z1) - max(shape.bbox[2], z0) > 1e-9
        ),
        default=0.0,
    )
    return (cx + ux * reach, cy + uy * reach)


def _assembly_pieces(layout: AssemblyLayout) -> tuple[_Built, list[ConnectionInfo]]:
    asm = layout.spec
    body = asm.body
    sx, sy, t = body.size_um[0], body.size_um[1], body.thickness_um
    built = _Built()
    built.add(
        _Piece("body", "mold", "body", body.material, Box.centred(0, 0, sx, sy, 0, t), matrix=True, rank=0)
    )
    tb = base_thickness(asm)
    if body.base:
        base_dies = [d for d in layout.dies if d.spec.stacked_on is None]
        m = body.base.opening_margin_um
        ox0 = min(d.x0 for d in base_dies) - m
        oy0 = min(d.y0 for d in base_dies) - m
        ox1 = max(d.x1 for d in base_dies) + m
        oy1 = max(d.y1 for d in base_dies) + m
        bx0, by0, bx1, by1 = -sx / 2, -sy / 2, sx / 2, sy / 2
        frame = (
            ("south", Box(z0=0, z1=tb, x0=bx0, y0=by0, x1=bx1, y1=oy0)),
            ("north", Box(z0=0, z1=tb, x0=bx0, y0=oy1, x1=bx1, y1=by1)),
            ("west", Box(z0=0, z1=tb, x0=bx0, y0=oy0, x1=ox0, y1=oy1)),
            ("east", Box(z0=0, z1=tb, x0=ox1, y0=oy0, x1=bx1, y1=oy1)),
        )
        for name, box in frame:
            if box.area > 0:
                built.add(_Piece("base", name, "body.base", body.base.material, box, matrix=True, rank=1))
    for d in layout.dies:
        second = d.spec.stacked_on is not None
        prefix = "second_die" if second else "die"
        built.add(
            _Piece(
                d.name,
                "die",
                prefix,
                d.spec.material,
                Box(z0=d.z_back, z1=d.z_front, x0=d.x0, y0=d.y0, x1=d.x1, y1=d.y1),
            )
        )
        if d.attach_z and d.spec.attach:
            a = Box(z0=d.attach_z[0], z1=d.attach_z[1], x0=d.x0, y0=d.y0, x1=d.x1, y1=d.y1)
            built.add(_Piece(f"{d.name}.attach", "attach", f"{prefix}.attach", d.spec.attach.material, a))
        role = "second_die.terminal" if second else "die.contact"
        material = d.spec.contacts.material
        for c in d.contacts:
            pad = Box.centred(c.x, c.y, c.size[0], c.size[1], c.z0, c.z1)
            built.add(_Piece(c.name, "pad", role, material, pad, layout.nets.get(c.name)))
    for u in layout.units:
        _unit_pieces(built, u, layout.nets.get(u.name), t, tb)
    connections: list[ConnectionInfo] = []
    for conn in layout.connections:
        src = layout.contact(conn.source)
        assert src is not None
        net = layout.nets.get(conn.source)
        ic = conn.spec
        part = f"{ic.kind}:{conn.source}"
        if isinstance(ic, WireBondSpec):
            d = ic.diameter_um
            ball_d = ic.ball_diameter
            ball_top = src.z1 + ic.ball_height
            built.add(
                _Piece(
                    part,
                    "ball",
                    "conductive_element.wire_bond",
                    ic.material,
                    Cylinder(src.x, src.y, ball_d / 2, src.z1, ball_top),
                    net,
                )
            )
            target_contact = layout.contact(conn.target)
            if target_contact is not None:
                end = (target_contact.x, target_contact.y, target_contact.z1 + d / 2)
            else:
                unit = layout.unit(conn.target)
                assert unit is not None
                land = landing_point(unit, tb)
                assert land is not None
                end = (land[0], land[1], land[2] + d / 2)
            crown = src.z1 + ic.loop_height_um - d / 2
            path = bond_loop((src.x, src.y, ball_top), end, crown)
            wire = Wire(path=path, diameter=d)
            built.add(_Piece(part, "wire", "conductive_element.wire_bond", ic.material, wire, net))
            length = wire.length
        elif isinstance(ic, ViaSpec):
            unit = layout.unit(conn.target)
            assert unit is not None
            ux, uy = _trace_end(built, unit, (src.x, src.y), t, t + ic.trace_thickness_um)
            built.add(
                _Piece(
                    part,
                    "via",
                    "conductive_element.via",
                    ic.material,
                    Cylinder(src.x, src.y, ic.diameter_um / 2, src.z1, t),
                    net,
                )
            )
            trace = Trace(
                z0=t, z1=t + ic.trace_thickness_um, xa=src.x, ya=src.y, xb=ux, yb=uy, width=ic.trace_width_um
            )
            built.add(_Piece(part, "trace", "conductive_element.trace", ic.material, trace, net))
            length = (t - src.z1) + trace.length
        else:
            assert isinstance(ic, RdlSpec)
            unit = layout.unit(conn.target)
            assert unit is not None
            # On the passivation, on top of the contact it starts from.
            ux, uy = _trace_end(built, unit, (src.x, src.y), src.z1, src.z1 + ic.thickness_um)
            trace = Trace(
                z0=src.z1, z1=src.z1 + ic.thickness_um, xa=src.x, ya=src.y, xb=ux, yb=uy, width=ic.width_um
            )
            built.add(_Piece(part, "trace", "conductive_element.rdl", ic.material, trace, net))
            length = trace.length
        connections.append(ConnectionInfo(conn.source, conn.target, ic.kind, part, net, length))
    return built, connections


@dataclass(frozen=True)
class _Level:
    name: str
    layout: AssemblyLayout
    built: _Built
    connections: list[ConnectionInfo]
    dx: float
    dy: float


def _levels(design: Design, layouts: dict[str, AssemblyLayout]) -> list[tuple[str, str, float, float]]:
    """(instance name, assembly name, dx, dy), bottom to top."""
    if design.stack is None:
        a = design.assemblies[0]
        return [(a.name, a.name, 0.0, 0.0)]
    counts: dict[str, int] = {}
    for lv in design.stack.levels:
        counts[lv.assembly] = counts.get(lv.assembly, 0) + 1
    out = []
    for i, lv in enumerate(design.stack.levels):
        name = lv.name or (lv.assembly if counts[lv.assembly] == 1 else f"{lv.assembly}{i + 1}")
        out.append((name, lv.assembly, lv.offset_um[0], lv.offset_um[1]))
    return out


def match_units(
    upper: list[tuple[str, float, float]], lower: list[tuple[str, float, float]], tolerance: float
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Pair units by position: (pairs, unmatched upper names, unmatched lower names)."""
    if not upper or not lower:
        return [], [u[0] for u in upper], [w[0] for w in lower]
    a = np.array([(x, y) for _, x, y in upper])
    b = np.array([(x, y) for _, x, y in lower])
    dist = np.linalg.norm(a[:, None] - b[None], axis=2)
    pairs, used = [], set()
    for i in np.argsort(dist.min(axis=1), kind="stable"):
        j = int(np.argmin(np.where([k in used for k in range(len(lower))], np.inf, dist[i])))
        if dist[i, j] <= tolerance and j not in used:
            pairs.append((upper[i][0], lower[j][0]))
            used.add(j)
    paired_upper = {p[0] for p in pairs}
    return (
        pairs,
        [u[0] for u in upper if u[0] not in paired_upper],
        [w[0] for k, w in enumerate(lower) if k not in used],
    )


def build_model(design: Design) -> Model:
    """Build the solids of a (validated) design. See :func:`moldstack.build` for the checked entry point."""
    layouts = {a.name: place(a, f"assemblies[{i}]") for i, a in enumerate(design.assemblies)}
    levels = [
        _Level(inst, layouts[asm], *_assembly_pieces(layouts[asm]), dx, dy)
        for inst, asm, dx, dy in _levels(design, layouts)
    ]
    solids: list[Solid] = []
    placed: list[PlacedAssembly] = []
    joints: list[JointInfo] = []
    interfaces: list[InterfaceInfo] = []
    z_offset = 0.0
    previous: tuple[_Level, float] | None = None
    joint = design.stack.joint if design.stack else None
    tolerance = design.stack.position_tolerance_um if design.stack else 0.0
    for level in levels:
        if previous is not None and joint is not None:
            below, below_dz = previous
            top_end = below_dz + max(z[1] for z in below.built.unit_z.values())
            z_offset = top_end + joint.height_um - min(z[0] for z in level.built.unit_z.values())
            upper = [(u.name, u.x + level.dx, u.y + level.dy) for u in level.layout.units]
            lower = [(u.name, u.x + below.dx, u.y + below.dy) for u in below.layout.units]
            pairs, _, _ = match_units(upper, lower, tolerance)
            interfaces.append(
                InterfaceInfo(
                    below.name, level.name, joint.material, joint.height_um, joint.diameter_um, tolerance
                )
            )
            upper_pos = {n: (x, y) for n, x, y in upper}
            for up, low in pairs:
                x, y = upper_pos[up]
                z0 = below_dz + below.built.unit_z[low][1]
                z1 = z_offset + level.built.unit_z[up][0]
                part = f"joint:{level.name}/{up}"
                sid = f"{part}/solder"
                net = _net(level, level.layout.nets.get(up)) or _net(below, below.layout.nets.get(low))
                solids.append(
                    Solid(
                        sid, part, "joint", joint.material, Cylinder(x, y, joint.diameter_um / 2, z0, z1), net
                    )
                )
                joints.append(JointInfo(part, sid, f"{level.name}/{up}", f"{below.name}/{low}"))
        solids.extend(_instance_solids(level, z_offset))
        placed.append(_placed_assembly(level, z_offset))
        previous = (level, z_offset)
    substrate_part = None
    if design.substrate is not None:
        substrate_part = "substrate"
        solids_sub, joints_sub = _substrate(design, levels[0])
        solids = solids_sub + solids
        joints = joints_sub + joints
        sj = design.substrate.joint
        interfaces.insert(
            0, InterfaceInfo(substrate_part, levels[0].name, sj.material, sj.height_um, sj.diameter_um, 0.0)
        )
    materials = library_with({k: v.to_material(k) for k, v in design.materials.items()})
    return Model(
        design.name, tuple(solids), tuple(placed), tuple(joints), substrate_part, materials, tuple(interfaces)
    )


def _net(level: _Level, net: str | None) -> str | None:
    """Model-wide net name: a default net (named after its contact) is qualified with the level's name."""
    if net is not None and level.layout.contact(net) is not None:
        return f"{level.name}/{net}"
    return net


def _instance_solids(level: _Level, dz: float) -> list[Solid]:
    out = []
    for p in level.built.pieces:
        part = f"{level.name}/{p.part}"
        out.append(
            Solid(
                id=f"{part}/{p.piece}",
                part=part,
                role=p.role,
                material=p.material,
                shape=moved(p.shape, level.dx, level.dy, dz),
                net=_net(level, p.net),
                assembly=level.name,
                matrix=p.matrix,
                rank=p.rank,
            )
        )
    return out


def _placed_assembly(level: _Level, dz: float) -> PlacedAssembly:
    lay = level.layout
    body = lay.spec.body
    n = level.name
    dx, dy = level.dx, level.dy
    dies = tuple(
        DieInfo(
            name=d.name,
            part=f"{n}/{d.name}",
            solid=f"{n}/{d.name}/die",
            x0=d.x0 + dx,
            y0=d.y0 + dy,
            x1=d.x1 + dx,
            y1=d.y1 + dy,
            z_back=d.z_back + dz,
            z_front=d.z_front + dz,
            stacked_on=d.spec.stacked_on,
            back_exposed=d.spec.back_exposed,
            attach_solid=f"{n}/{d.name}.attach/attach" if d.attach_z and d.spec.attach else None,
            contacts=tuple(
                ContactInfo(
                    c.name,
                    d.name,
                    f"{n}/{c.name}/pad",
                    c.x + dx,
                    c.y + dy,
                    c.size,
                    c.z1 + dz,
                    _net(level, lay.nets.get(c.name)),
                )
                for c in d.contacts
            ),
            power_w=d.spec.power_w,
        )
        for d in lay.dies
    )
    units = tuple(
        UnitInfo(
            name=u.name,
            part=f"{n}/{u.name}",
            shape=u.spec.shape,
            x=u.x + dx,
            y=u.y + dy,
            edge=u.edge,
            outward=u.outward,
            net=_net(level, lay.nets.get(u.name)),
            solids=tuple(f"{n}/{u.name}/{piece}" for piece in level.built.unit_pieces[u.name]),
        )
        for u in lay.units
    )
    connections = tuple(
        ConnectionInfo(c.source, c.target, c.kind, f"{n}/{c.part}", _net(level, c.net), c.length_um)
        for c in level.connections
    )
    base = tuple(f"{n}/base/{p.piece}" for p in level.built.pieces if p.role == "body.base")
    return PlacedAssembly(
        name=n,
        spec_name=lay.spec.name,
        x0=-body.size_um[0] / 2 + dx,
        y0=-body.size_um[1] / 2 + dy,
        x1=body.size_um[0] / 2 + dx,
        y1=body.size_um[1] / 2 + dy,
        z_bottom=dz,
        z_top=dz + body.thickness_um,
        body_solid=f"{n}/body/mold",
        base_solids=base,
        dies=dies,
        units=units,
        connections=connections,
    )


def _substrate(design: Design, lowest: _Level) -> tuple[list[Solid], list[JointInfo]]:
    sub = design.substrate
    assert sub is not None
    bottom_end = min(z[0] for z in lowest.built.unit_z.values())
    land_top = bottom_end - sub.joint.height_um
    land_bottom = land_top - sub.land_thickness_um
    lam_top = land_bottom
    lam_bottom = lam_top - sub.thickness_um
    sx, sy = sub.size_um
    solids = [
        Solid(
            "substrate/laminate",
            "substrate",
            "substrate",
            sub.material,
            Box.centred(0, 0, sx, sy, lam_bottom, lam_top),
            matrix=True,
            rank=0,
        )
    ]
    n = sub.copper_layers
    for k in range(n):
        zc = lam_bottom + sub.thickness_um * (k + 1) / (n + 1)
        plane = Box.centred(0, 0, sx, sy, zc - sub.copper_thickness_um / 2, zc + sub.copper_thickness_um / 2)
        solids.append(Solid(f"substrate/copper{k + 1}", "substrate", "substrate.copper", "copper", plane))
    joints = []
    for u in lowest.layout.units:
        net = _net(lowest, lowest.layout.nets.get(u.name))
        x, y = u.x + lowest.dx, u.y + lowest.dy
        unit_bottom = lowest.built.unit_z[u.name][0]
        land_part = f"substrate/land:{u.name}"
        solids.append(
            Solid(
                f"{land_part}/land",
                land_part,
                "substrate.land",
                sub.land_material,
                Cylinder(x, y, sub.land_diameter_um / 2, land_bottom, land_top),
                net,
            )
        )
        part = f"joint:substrate/{u.name}"
        sid = f"{part}/solder"
        solids.append(
            Solid(
                sid,
                part,
                "joint",
                sub.joint.material,
                Cylinder(x, y, sub.joint.diameter_um / 2, land_top, unit_bottom),
                net,
            )
        )
        joints.append(JointInfo(part, sid, f"{lowest.name}/{u.name}", land_part))
    return solids, joints


def unit_height_extent(model: Model, unit: UnitInfo) -> tuple[float, float]:
    """Lowest and highest z of a unit's solids."""
    shapes = [model.solid(s).shape.bbox for s in unit.solids]
    return (min(b[2] for b in shapes), max(b[5] for b in shapes))


__all__ = ["build_model", "match_units", "unit_height_extent"]
