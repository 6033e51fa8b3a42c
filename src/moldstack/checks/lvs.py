"""Layout versus schematic for a built model: the conductors its geometry makes against the nets its spec intends.

The two netlists are :mod:`moldstack.checks.netlists`'s: the layout's **pieces** (touching conductive solids, with
their pins; exterior pins are exposed unit ends and substrate lands) and the schematic's **intended nets** (members
joined by name and by intended links, with their islands and aliases). The comparison, in the manner of a KLayout
or Calibre LVS report:

- a net whose solids (members, conductive elements, joints) all lie in one piece that holds no other net is
  **matched**;
- **open**: a net in more than one piece, or with a member left without a conductor. It is a warning only, *joined
  outside the package*, when the net is declared, each of its islands (what the package is meant to join) lies
  whole in one piece and every piece reaches an exterior pin (the board joins them, as it joins VDD balls); it
  fails otherwise: an island cut (a missing wire or joint), a piece with a contact and no exterior pin, an
  automatic net split, a fragment with no member;
- **short**: a piece holding two or more nets. Each place two nets meet is named by the path of solids from one
  net's solid to the other's (through any solid no net owns, such as a solder bridge) and located at the centre of
  the solids in between, or of the overlap of the touching pair's boxes;
- **unconnected contact**: a contact that is not no-connect and touches no conductor, or a no-connect contact that
  touches one;
- **floating conductor** (info): a piece with no contact and no net's solid (spare units, substrate planes);
- **alias** (info): names joined into one net by intent (automatic nets of two levels joined through a joint).

It reads a :class:`~moldstack.geometry.model.Model`; it knows nothing of the spec or how the model was built.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from moldstack.checks.netlists import (
    IntendedNet,
    Intent,
    Piece,
    Point,
    centre,
    extract_pieces,
    intended_nets,
)
from moldstack.geometry.adjacency import DEFAULT_TOLERANCE_UM, Connectivity, connectivity
from moldstack.geometry.model import Model

TEXT_LIST_LIMIT = 20  # info sections (floating, aliases) list this many in the text report; to_dict has all


@dataclass(frozen=True)
class OpenPiece:
    """One piece an open net lies in: the net's members there, the piece's pins and parts."""

    piece: str
    members: tuple[str, ...]
    pins: tuple[str, ...]
    parts: tuple[str, ...]
    exterior: bool


@dataclass(frozen=True)
class Open:
    """A net in several pieces (or with members left without a conductor); ``fails`` False: joined outside."""

    net: str
    names: tuple[str, ...]
    declared: bool
    pieces: tuple[OpenPiece, ...]
    missing: tuple[str, ...]
    fails: bool
    reason: str


@dataclass(frozen=True)
class Meeting:
    """Where two nets of a short meet: the path of solids from the first net's solid to the second's."""

    nets: tuple[str, str]
    path: tuple[str, ...]
    location_um: Point


@dataclass(frozen=True)
class Short:
    """A piece holding several nets, and each place where two of them meet."""

    piece: str
    nets: tuple[str, ...]
    meetings: tuple[Meeting, ...]


@dataclass(frozen=True)
class Unconnected:
    """A contact that touches no conductor though it has a net, or a no-connect one (``net`` None) that does."""

    contact: str
    net: str | None
    touching: tuple[str, ...]
    location_um: Point

    @property
    def no_connect(self) -> bool:
        return self.net is None


@dataclass(frozen=True)
class Floating:
    """A piece with no contact and no net's solid: its parts, exterior pins and solids."""

    piece: str
    parts: tuple[str, ...]
    pins: tuple[str, ...]
    solids: tuple[str, ...]


@dataclass(frozen=True)
class Alias:
    """Several names of one intended net, and the parts (joints, elements) that join them."""

    net: str
    names: tuple[str, ...]
    through: tuple[str, ...]


@dataclass(frozen=True)
class LvsResult:
    """The LVS verdict: ``CORRECT`` when no open fails and there is no short and no unconnected contact."""

    design: str
    status: Literal["CORRECT", "INCORRECT"]
    tolerance_um: float
    matched: tuple[str, ...]
    opens: tuple[Open, ...]
    shorts: tuple[Short, ...]
    unconnected: tuple[Unconnected, ...]
    floating: tuple[Floating, ...]
    aliases: tuple[Alias, ...]
    warnings: tuple[str, ...]
    pieces: tuple[Piece, ...]
    counts: Mapping[str, int]
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "CORRECT"

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "status": self.status,
            "passed": self.passed,
            "tolerance_um": self.tolerance_um,
            "seconds": self.seconds,
            "counts": dict(self.counts),
            "matched": list(self.matched),
            "opens": [asdict(o) for o in self.opens],
            "shorts": [asdict(s) for s in self.shorts],
            "unconnected": [{**asdict(u), "no_connect": u.no_connect} for u in self.unconnected],
            "floating": [asdict(f) for f in self.floating],
            "aliases": [asdict(a) for a in self.aliases],
            "warnings": list(self.warnings),
            "pieces": [p.to_dict() for p in self.pieces],
        }

    def problem_lines(self) -> list[str]:
        """One line per problem (failing opens, shorts, unconnected contacts), then one per warning."""
        lines = [
            f"open: net {' = '.join(o.names)} in {', '.join(p.piece for p in o.pieces)}: {o.reason}"
            for o in self.opens
            if o.fails
        ]
        for s in self.shorts:
            where = "; ".join(f"{' / '.join(m.nets)} at {_at(m.location_um)}" for m in s.meetings)
            lines.append(f"short: {s.piece} joins nets {', '.join(s.nets)} ({where})")
        lines += [f"unconnected: {_unconnected_words(u)}" for u in self.unconnected]
        return lines + [f"warning: {w}" for w in self.warnings]

    def to_text(self) -> str:
        """A readable LVS report: the summary block, then every problem with nets, parts, solids and locations."""
        return "\n".join(_report_lines(self))


def _open(
    net: IntendedNet, intent: Intent, pieces: Sequence[Piece], conn: Connectivity, held: set[int]
) -> Open:
    """The open record of a net that lies in the pieces ``held`` (indices) or lacks a member's conductor."""
    comp = conn.component_of
    where = {m: {comp[s] for s in intent.members[m].solids if s in comp} for m in net.members}
    missing = tuple(m for m, ps in where.items() if not ps)
    held = held | {p for ps in where.values() for p in ps}
    reasons = []
    if missing:
        reasons.append(f"no conductor left for {', '.join(missing)}")
    for island in net.islands:
        spread = sorted({p for m in island for p in where[m]})
        if len(spread) > 1:
            reasons.append(
                f"intended connection of {', '.join(island)} broken into {', '.join(pieces[p].id for p in spread)}"
            )
    with_member = {p for ps in where.values() for p in ps}
    for p in sorted(held - with_member):
        reasons.append(
            f"{pieces[p].id} holds only conductive elements of the net ({', '.join(pieces[p].parts)})"
        )
    if len(held) > 1 and not net.declared and not reasons:
        reasons.append("an automatic net is not meant to be joined outside the package")
    for p in sorted(held):
        if not pieces[p].exterior and pieces[p].contacts:
            reasons.append(f"{pieces[p].id} holds {', '.join(pieces[p].contacts)} but no exterior pin")
    fails = bool(reasons)
    return Open(
        net=net.name,
        names=net.names,
        declared=net.declared,
        pieces=tuple(
            OpenPiece(
                pieces[p].id,
                tuple(m for m in net.members if p in where[m]),
                tuple(pin.name for pin in pieces[p].pins),
                pieces[p].parts,
                pieces[p].exterior,
            )
            for p in sorted(held)
        ),
        missing=missing,
        fails=fails,
        reason="; ".join(dict.fromkeys(reasons))
        if fails
        else "joined outside the package: every piece reaches an exterior pin",
    )


def _meetings(
    piece: Piece, owner: Mapping[str, str], conn: Connectivity, model: Model
) -> tuple[Meeting, ...]:
    """Where the nets of a piece meet: grow each net's solids over the solids no net owns (breadth first), then
    every touching pair of solids reached from two different nets is a meeting; one is kept per pair of nets."""
    label = {s: owner[s] for s in piece.solids if s in owner}
    parent: dict[str, str] = {}
    queue = deque(label)
    while queue:
        current = queue.popleft()
        for n in conn.neighbours[current]:
            if n not in label:
                label[n] = label[current]
                parent[n] = current
                queue.append(n)

    def to_source(sid: str) -> list[str]:
        chain = [sid]
        while chain[-1] in parent:
            chain.append(parent[chain[-1]])
        return chain

    found: dict[frozenset[str], Meeting] = {}
    for a in piece.solids:
        for b in conn.neighbours[a]:
            key = frozenset((label[a], label[b]))
            if len(key) < 2 or key in found:
                continue
            path = (*reversed(to_source(a)), *to_source(b))
            between = [s for s in path if s not in owner]
            if between:
                boxes = [model.solid(s).shape.bbox for s in between]
                box = (
                    *(min(bx[k] for bx in boxes) for k in range(3)),
                    *(max(bx[k] for bx in boxes) for k in range(3, 6)),
                )
            else:
                ba, bb = model.solid(a).shape.bbox, model.solid(b).shape.bbox
                lo = [max(ba[k], bb[k]) for k in range(3)]
                hi = [min(ba[k + 3], bb[k + 3]) for k in range(3)]
                box = (*lo, *(max(h, lo_k) for h, lo_k in zip(hi, lo, strict=True)))
            found[key] = Meeting((label[a], label[b]), path, centre(box))
    return tuple(found.values())


def lvs(model: Model, tolerance_um: float = DEFAULT_TOLERANCE_UM) -> LvsResult:
    """Compare the conductors ``model``'s geometry makes with the nets its intent records ask for.

    Solids touch within ``tolerance_um`` (see :mod:`moldstack.geometry.adjacency`). The rules are in the module
    notes; the result says ``CORRECT`` when no open fails and there is no short and no unconnected contact.
    """
    start = time.perf_counter()
    conn = connectivity(model, tolerance_um)
    pieces = extract_pieces(model, conn)
    intent = intended_nets(model)
    comp = conn.component_of
    nets_in: dict[int, list[str]] = defaultdict(list)
    pieces_of: dict[str, set[int]] = defaultdict(set)
    for sid, net in intent.owner.items():
        if sid in comp:
            if net not in nets_in[comp[sid]]:
                nets_in[comp[sid]].append(net)
            pieces_of[net].add(comp[sid])
    order = {n.name: i for i, n in enumerate(intent.nets)}
    shorts = tuple(
        Short(
            pieces[k].id,
            tuple(sorted(nets, key=order.__getitem__)),
            _meetings(pieces[k], intent.owner, conn, model),
        )
        for k, nets in sorted(nets_in.items())
        if len(nets) > 1
    )
    opens = []
    for net in intent.nets:
        held = pieces_of[net.name]
        missing = any(not any(s in comp for s in intent.members[m].solids) for m in net.members)
        if len(held) > 1 or missing:
            opens.append(_open(net, intent, pieces, conn, held))
    unconnected = []
    for m in intent.members.values():
        if m.kind != "contact" or m.solids[0] not in comp:
            continue
        pad = m.solids[0]
        touching = conn.neighbours[pad]
        if (m.net is None) == (not touching):
            continue
        where = centre(model.solid(pad).shape.bbox)
        unconnected.append(Unconnected(m.name, intent.owner.get(pad), touching, where))
    floating = tuple(
        Floating(p.id, p.parts, tuple(pin.name for pin in p.pins), p.solids)
        for k, p in enumerate(pieces)
        if not p.contacts and k not in nets_in
    )
    aliases = tuple(
        Alias(n.name, n.names, tuple(dict.fromkeys(lk.part for lk in n.aliasing_links)))
        for n in intent.nets
        if len(n.names) > 1
    )
    warnings = [
        f"net {o.net} is {o.reason} ({', '.join(p.piece for p in o.pieces)})" for o in opens if not o.fails
    ]
    warnings += [
        f"{link.part} joins declared nets {a} and {b} (between {link.a} and {link.b}): a short by intent"
        for link, a, b in intent.conflicts
    ]
    spare_in: dict[int, list[str]] = defaultdict(list)
    for sid, member in intent.spare.items():
        if sid in comp and comp[sid] in nets_in and member not in spare_in[comp[sid]]:
            spare_in[comp[sid]].append(member)
    warnings += [
        f"{pieces[k].id} joins {', '.join(members)} (no intended net) to net {', '.join(nets_in[k])}"
        for k, members in sorted(spare_in.items())
    ]
    failing = [o for o in opens if o.fails]
    in_trouble = {o.net for o in failing} | {n for s in shorts for n in s.nets}
    matched = tuple(n.name for n in intent.nets if n.name not in in_trouble)
    members = list(intent.members.values())
    all_pins = [pin for p in pieces for pin in p.pins]
    counts = {
        "intended_nets": len(intent.nets),
        "declared_nets": sum(n.declared for n in intent.nets),
        "contacts": sum(m.kind == "contact" for m in members),
        "no_connect": len(intent.no_connect),
        "units": sum(m.kind == "unit" for m in members),
        "lands": sum(m.kind == "land" for m in members),
        "pieces": len(pieces),
        "conductive_solids": len(conn.solids),
        "pins": len(all_pins),
        "exterior_pins": sum(pin.exterior for pin in all_pins),
        "matched": len(matched),
        "opens": len(failing),
        "joined_outside": len(opens) - len(failing),
        "shorts": len(shorts),
        "unconnected": len(unconnected),
        "floating": len(floating),
        "aliases": len(aliases),
        "warnings": len(warnings),
    }
    status: Literal["CORRECT", "INCORRECT"] = "INCORRECT" if failing or shorts or unconnected else "CORRECT"
    return LvsResult(
        design=model.name,
        status=status,
        tolerance_um=tolerance_um,
        matched=matched,
        opens=tuple(opens),
        shorts=shorts,
        unconnected=tuple(unconnected),
        floating=floating,
        aliases=aliases,
        warnings=tuple(warnings),
        pieces=pieces,
        counts=counts,
        seconds=time.perf_counter() - start,
    )


def _at(p: Point) -> str:
    return f"({p[0]:.1f}, {p[1]:.1f}, {p[2]:.1f}) um"


def _unconnected_words(u: Unconnected) -> str:
    if u.no_connect:
        return f"{u.contact} (no-connect) touches {', '.join(u.touching)} at {_at(u.location_um)}"
    return f"{u.contact} (net {u.net}) touches no conductor at {_at(u.location_um)}"


def _report_lines(r: LvsResult) -> list[str]:
    c = r.counts
    automatic = c["intended_nets"] - c["declared_nets"]
    lines = [
        f"LVS report: {r.design}",
        f"status: {r.status}    (touch tolerance {r.tolerance_um:g} um, {r.seconds:.2f} s)",
        "",
        f"schematic: {c['intended_nets']} nets ({c['declared_nets']} declared, {automatic} automatic), "
        f"{c['contacts']} contacts ({c['no_connect']} no-connect), {c['units']} units, {c['lands']} lands",
        f"layout:    {c['pieces']} pieces from {c['conductive_solids']} conductive solids, "
        f"{c['pins']} pins ({c['exterior_pins']} exterior)",
        "",
        f"  matched nets           {c['matched']:>5} / {c['intended_nets']}",
        f"  opens                  {c['opens']:>5}",
        f"  shorts                 {c['shorts']:>5}",
        f"  unconnected contacts   {c['unconnected']:>5}",
        f"  joined outside         {c['joined_outside']:>5}  (warning)",
        f"  warnings               {c['warnings']:>5}",
        f"  floating conductors    {c['floating']:>5}  (info)",
        f"  aliased nets           {c['aliases']:>5}  (info)",
    ]
    if any(o.fails for o in r.opens):
        lines += ["", "OPENS"]
        for o in (o for o in r.opens if o.fails):
            kind = "declared" if o.declared else "automatic"
            lines.append(f"  net {' = '.join(o.names)} ({kind}) in {len(o.pieces)} pieces: {o.reason}")
            lines += _open_piece_lines(o)
    if r.shorts:
        lines += ["", "SHORTS"]
        for s in r.shorts:
            lines.append(f"  {s.piece} joins nets {', '.join(s.nets)}")
            for m in s.meetings:
                lines.append(
                    f"    {m.nets[0]} meets {m.nets[1]} at {_at(m.location_um)}: {' -- '.join(m.path)}"
                )
    if r.unconnected:
        lines += ["", "UNCONNECTED CONTACTS"]
        for u in r.unconnected:
            if u.no_connect:
                lines.append(
                    f"  {u.contact} (no-connect) touches {', '.join(u.touching)} at {_at(u.location_um)}"
                )
            else:
                lines.append(f"  {u.contact} (net {u.net}) touches no conductor at {_at(u.location_um)}")
    if r.warnings:
        lines += ["", "WARNINGS"]
        lines += [f"  {w}" for w in r.warnings]
        for o in (o for o in r.opens if not o.fails):
            lines.append(f"  net {o.net} pieces:")
            lines += _open_piece_lines(o)
    if r.floating:
        lines += ["", "FLOATING CONDUCTORS (info)"]
        lines += [
            f"  {f.piece}: {', '.join(f.parts)} ({_listed(f.solids)}; pins: {', '.join(f.pins) or 'none'})"
            for f in r.floating[:TEXT_LIST_LIMIT]
        ]
        lines += _more(len(r.floating))
    if r.aliases:
        lines += ["", "ALIASES (info): one net, several names"]
        lines += [
            f"  {' = '.join(a.names)}  (through {', '.join(a.through)})" for a in r.aliases[:TEXT_LIST_LIMIT]
        ]
        lines += _more(len(r.aliases))
    return lines


def _open_piece_lines(o: Open) -> list[str]:
    lines = [
        f"    {p.piece}: members {', '.join(p.members) or 'none'}; pins {', '.join(p.pins) or 'none'}"
        f"{'' if p.exterior else ' (no exterior pin)'}; parts {', '.join(p.parts)}"
        for p in o.pieces
    ]
    if o.missing:
        lines.append(f"    no conductor: {', '.join(o.missing)}")
    return lines


def _listed(solids: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(solids) - shown} more" if len(solids) > shown else ""
    return f"solids {', '.join(solids[:shown])}{more}"


def _more(total: int) -> list[str]:
    return [f"  ... and {total - TEXT_LIST_LIMIT} more (see to_dict())"] if total > TEXT_LIST_LIMIT else []


__all__ = [
    "Alias",
    "Floating",
    "LvsResult",
    "Meeting",
    "Open",
    "OpenPiece",
    "Short",
    "Unconnected",
    "lvs",
]
