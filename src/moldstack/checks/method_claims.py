"""The method-claim chart: whether a process run performed the method of claims 21-23, element by element.

:func:`method_chart` reads a :class:`~moldstack.fab.record.ProcessRun` and gives, for claims 21 (the method),
22 (the plating forms flanges over both sacrificial layers) and 23 (removal leaves only what the flanges cover),
a :class:`~moldstack.checks.chart.ClaimResult` in the form of claims 1-20: one element per clause, each with the
step references and object names that satisfy it (``step 9 (drill)``, ``U3``) or the reason none does. The
results are what :func:`moldstack.checks.claims.claim_chart` takes as ``method=``.

Where the claim implies an order, the order of the records decides: the base goes on a first sacrificial layer
already there, the pads on that base, the chip within the central region the pads already define; the
dielectric is deposited over connections already made and cured before apertures are formed through "the cured
dielectric"; metal goes into apertures that exist; removal follows the deposition. A step that refused to act
(its preconditions failed) records no observations; the chart then quotes its violations.

Readings (tolerances: :data:`TOLERANCE_UM`, :data:`TOLERANCE_MM3`, :data:`TOLERANCE_FRACTION`):

- a layer, pad or chip is *on* what lies under it when that is under the whole of its bottom;
- a contact is *connected* when the wire_bond step made a bond from it to a pad no other bond lands on (the
  step makes a bond only where both ends lie on their contact and pad); where the process grid is too coarse
  to show a bonded wire touching both ends, claim 21 says so in its note, and the bond still counts;
- a via *extends between the layers* when its aperture does and the metal is continuous along it;
- a flange lies *over* a sacrificial layer when the process saw the flange touch that layer.

It reads only the run's records (each step's kind, order, observations and violations). It must not know the
spec, the model, the flow's parameters or the labelled grid.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

from moldstack.checks.chart import ClaimResult, ElementResult
from moldstack.checks.claim_elements import names_list, unique
from moldstack.checks.claims import DEPENDS_ON, TITLES
from moldstack.fab.record import ProcessRun, StepRecord

__all__ = [
    "PARTS_SHOWN",
    "TOLERANCE_FRACTION",
    "TOLERANCE_MM3",
    "TOLERANCE_UM",
    "method_chart",
]

TOLERANCE_UM = 1e-3
"""um: the process rounds recorded lengths to 1e-3 um; a length at or below this counts as none."""
TOLERANCE_MM3 = 1e-9
"""mm3 (1 um3, far below one grid cell): a volume at or below this counts as none."""
TOLERANCE_FRACTION = 1e-6
"""A recorded fraction within this of 1 counts as the whole."""
PARTS_SHOWN = 4
"""Object names listed per element before the rest are counted (``and 60 more``)."""

LAYERS = ("first", "second")
SAC_ROLE = {"first": "sacrificial.first", "second": "sacrificial.second"}


# --- small readings ----------------------------------------------------------------------------------


def _few(names: Iterable[str]) -> tuple[str, ...]:
    """The first :data:`PARTS_SHOWN` names and a count of the rest."""
    items = unique(names)
    if len(items) <= PARTS_SHOWN:
        return items
    return (*items[:PARTS_SHOWN], f"and {len(items) - PARTS_SHOWN} more")


def _whole(fraction: Any) -> bool:
    return isinstance(fraction, int | float) and fraction >= 1.0 - TOLERANCE_FRACTION


def _pct(fraction: float) -> str:
    """A fraction as a percentage, rounded down to 0.1% so that short of whole never reads 100%."""
    return f"{math.floor(1000.0 * fraction) / 10.0:g}%"


def _some(value: Any, tol: float) -> bool:
    return isinstance(value, int | float) and value > tol


def _these(noun: str, names: Sequence[str], singular: str, plural: str) -> str:
    """``aperture U1 does`` or ``apertures U1, U2 do``: a noun, the names (a few, then a count) and a verb."""
    one = len(names) == 1
    return f"{noun}{'' if one else 's'} {names_list(names)} {singular if one else plural}"


def _refs(records: Sequence[StepRecord]) -> str:
    return ", ".join(r.ref for r in records)


def _refused(record: StepRecord) -> str:
    """Why a step recorded nothing: its violations."""
    messages = "; ".join(v.message for v in record.violations)
    return f"{record.ref} did not act ({messages})" if messages else f"{record.ref} recorded nothing"


def _fail(words: str, reason: str) -> ElementResult:
    return ElementResult(words, False, reason=reason)


def _parent_element(number: int, holds: bool) -> ElementResult:
    parent = DEPENDS_ON[number]
    return ElementResult(
        f"the method as claimed in claim {parent}",
        holds,
        reason=None if holds else f"claim {parent} does not hold",
    )


def _claim(number: int, elements: Sequence[ElementResult], note: str | None = None) -> ClaimResult:
    return ClaimResult(
        number, TITLES[number], all(e.holds for e in elements), DEPENDS_ON.get(number), tuple(elements), note
    )


# --- the run as the chart reads it -------------------------------------------------------------------


class _MethodRun:
    """A run's records with one method per claim element; findings later elements build on are cached."""

    def __init__(self, run: ProcessRun) -> None:
        self.records = run.records

    def of(self, kind: str, after: StepRecord | None = None) -> list[StepRecord]:
        """Records of ``kind`` (after ``after`` if given), in order."""
        return [r for r in self.records if r.kind == kind and (after is None or r.index > after.index)]

    def acted(self, kind: str) -> list[StepRecord]:
        """Records of ``kind`` that acted (recorded observations)."""
        return [r for r in self.of(kind) if r.observations]

    @property
    def steps_text(self) -> str:
        return "steps: " + ", ".join(r.kind for r in self.records)

    def missing(self, what: str, kind: str) -> str:
        """Why no step does ``what``: the refusals of the steps of ``kind``, or the kinds the run has."""
        refused = [r for r in self.of(kind) if not r.observations]
        if refused:
            return f"no step {what}: " + "; ".join(_refused(r) for r in refused)
        return f"no step {what} ({self.steps_text})"

    # claim 21 ---------------------------------------------------------------------------------------

    def sacrificial(self, layer: str) -> list[StepRecord]:
        return [r for r in self.acted("sacrificial_layer") if r.observations.get("layer") == layer]

    @cached_property
    def first_layer(self) -> StepRecord | None:
        made = [
            r for r in self.sacrificial("first") if _some(r.observations.get("volume_mm3"), TOLERANCE_MM3)
        ]
        return made[0] if made else None

    def e_first_layer(self, words: str) -> ElementResult:
        if self.first_layer is not None:
            return ElementResult(words, True, (self.first_layer.ref,))
        return _fail(words, self.missing("provides a first sacrificial layer", "sacrificial_layer"))

    @cached_property
    def base(self) -> StepRecord | None:
        """The first dielectric base that acted (whether or not it rests wholly on the first layer)."""
        bases = self.acted("dielectric_base")
        return bases[0] if bases else None

    def e_base(self, words: str) -> ElementResult:
        base, first = self.base, self.first_layer
        if base is None:
            return _fail(words, self.missing("provides a dielectric base", "dielectric_base"))
        if first is None:
            return _fail(words, f"there is no first sacrificial layer for the base ({base.ref}) to rest on")
        if base.index < first.index:
            return _fail(words, f"{base.ref} comes before the first sacrificial layer ({first.ref})")
        on = float(base.observations.get("on_first_sacrificial", 0.0))
        if not _whole(on):
            return _fail(
                words,
                f"the base ({base.ref}) rests on the first sacrificial layer for only {_pct(on)} of its bottom",
            )
        return ElementResult(words, True, (base.ref,))

    @cached_property
    def pads(self) -> StepRecord | None:
        arrays = self.acted("pad_array")
        return arrays[0] if arrays else None

    def e_pads(self, words: str) -> ElementResult:
        pads, base = self.pads, self.base
        if pads is None:
            return _fail(words, self.missing("provides conductive pads", "pad_array"))
        if base is None or base.index > pads.index:
            where = f" ({base.ref} comes after {pads.ref})" if base is not None else ""
            return _fail(words, f"the pads ({pads.ref}) are not provided on a dielectric base{where}")
        obs = pads.observations
        why: list[str] = []
        off = list(obs.get("not_on_base") or [])
        if off:
            why.append(_these("pad", off, "is not wholly on the base", "are not wholly on the base"))
        on = float(obs.get("on_base_fraction", 0.0))
        if not off and not _whole(on):
            why.append(f"the pads rest on the base for only {_pct(on)} of their bottom")
        if not _some(obs.get("central_region_um2"), TOLERANCE_UM**2):
            why.append(f"the {obs.get('pads', 0)} pads define no central region (their centres enclose none)")
        if why:
            return _fail(words, f"{pads.ref}: " + "; ".join(why))
        return ElementResult(words, True, (pads.ref, *_few([str(n) for n in obs.get("names") or []])))

    @cached_property
    def attached(self) -> list[tuple[StepRecord, str, list[str]]]:
        """Every die attached: its record, name, and what keeps it from meeting the attach clause."""
        out = []
        for rec in self.acted("die_attach"):
            obs = rec.observations
            die = str(obs.get("die"))
            why: list[str] = []
            back = float(obs.get("back_on_first_sacrificial", 0.0))
            rests_on = list(obs.get("rests_on") or [])
            if not _whole(back) or rests_on != [SAC_ROLE["first"]]:
                under = ", ".join(rests_on) or "nothing"
                why.append(
                    f"{die}'s back rests on the first sacrificial layer for only {_pct(back)} of its area "
                    f"(under it: {under})"
                )
            if not obs.get("in_central_region"):
                said = [v.message for v in rec.violations if v.rule == "central_region"]
                why.append("; ".join(said) or f"{die} does not lie within the central region")
            if not obs.get("contacts"):
                why.append(f"{die} has no contacts")
            elif not _whole(obs.get("contacts_face_away", 0.0)):
                why.append(
                    f"{die}'s contacts do not all sit on its face away from the first sacrificial layer"
                )
            off = list(obs.get("contacts_off_die") or [])
            if off:
                why.append(_these("contact", off, "is", "are") + f" not on {die}'s front face")
            out.append((rec, die, why))
        return out

    @cached_property
    def chips(self) -> list[tuple[StepRecord, str]]:
        """The dies attached as claimed (or, if none is, every die attached: later clauses name them)."""
        good = [(rec, die) for rec, die, why in self.attached if not why]
        return good or [(rec, die) for rec, die, _ in self.attached]

    def e_attach(self, words: str) -> ElementResult:
        if not self.attached:
            return _fail(words, self.missing("attaches a chip", "die_attach"))
        good = [(rec, die) for rec, die, why in self.attached if not why]
        if good:
            return ElementResult(words, True, unique([r.ref for r, _ in good] + [d for _, d in good]))
        return _fail(words, "; ".join(f"{rec.ref}: {'; '.join(why)}" for rec, _, why in self.attached))

    @cached_property
    def bonds(self) -> list[tuple[StepRecord, dict[str, Any]]]:
        """Every bond made, with the wire_bond record that made it."""
        return [(w, b) for w in self.acted("wire_bond") for b in w.observations.get("bonds") or []]

    def _connection_problems(self, rec: StepRecord, die: str) -> list[str]:
        prefix = f"{die}."
        bonders = self.of("wire_bond", after=rec)
        if not bonders:
            count = rec.observations.get("contacts", 0)
            return [f"no wire_bond step follows {rec.ref}: {die}'s {count} contacts are not connected"]
        why: list[str] = []
        unbonded = [
            c for c in bonders[-1].observations.get("unbonded_contacts") or [] if c.startswith(prefix)
        ]
        if unbonded:
            said = unique(v.message for w in bonders for v in w.violations if set(v.parts) & set(unbonded))
            detail = f" ({'; '.join(said)})" if said else ""
            why.append(_these("contact", unbonded, "is", "are") + f" not bonded ({_refs(bonders)}){detail}")
        short = [
            str(b["contact"])
            for w in bonders
            for b in w.observations.get("bonds") or []
            if str(b.get("contact", "")).startswith(prefix)
            and max(float(b.get("gap_to_pad_um", 0.0)), float(b.get("gap_to_contact_um", 0.0))) > TOLERANCE_UM
        ]
        if short:
            why.append(f"the wires from {names_list(short)} stop short of their pads or contacts")
        return why

    def raster_note(self) -> str | None:
        """A note when the process grid does not show some bonded wires touching their contact or pad.

        The wire_bond step makes each bond only on its own contact and pad (its rules check both ends
        exactly), so such a miss is the grid's: cells thicker than the wire. The bond still counts.
        """
        missed = [
            str(b.get("contact"))
            for _, b in self.bonds
            if not (b.get("touches_contact") and b.get("touches_pad"))
        ]
        if not missed:
            return None
        return (
            f"the process grid is too coarse to show {len(missed)} of {len(self.bonds)} bond wires touching "
            f"both their contact and pad ({names_list(missed)}); the bonds count, as the wire_bond step made "
            "each on its own contact and pad"
        )

    def e_connect(self, words: str) -> ElementResult:
        if not self.chips:
            return _fail(words, "no chip is attached, so no contact is connected")
        why = [f"{die}: {w}" for rec, die in self.chips for w in self._connection_problems(rec, die)]
        pads = [str(b.get("pad")) for _, b in self.bonds]
        shared = sorted({p for p in pads if pads.count(p) > 1})
        shared += [p for w in self.acted("wire_bond") for p in w.observations.get("pads_shared") or []]
        if shared:
            why.append(
                _these("pad", unique(shared), "takes", "take")
                + " more than one bond: each contact needs its own"
            )
        if why:
            return _fail(words, "; ".join(why))
        chips = {die for _, die in self.chips}
        contacts = [str(b["contact"]) for _, b in self.bonds if str(b["contact"]).split(".", 1)[0] in chips]
        return ElementResult(words, True, (*unique(w.ref for w, _ in self.bonds), *_few(contacts)))

    def e_second_layer(self, words: str) -> ElementResult:
        seconds = self.sacrificial("second")
        if not seconds:
            return _fail(words, self.missing("provides a second sacrificial layer", "sacrificial_layer"))
        if not self.chips:
            return _fail(words, f"no chip is attached, so {seconds[0].ref} faces no contact-bearing surface")
        dies = [die for _, die in self.chips]
        for rec in seconds:
            faced = [d for d in rec.observations.get("faces_contact_surfaces_of") or [] if d in dies]
            if faced:
                return ElementResult(words, True, (rec.ref, *faced))
        rec = seconds[0]
        earlier = [d for r, d in self.chips if r.index < rec.index]
        if not earlier:
            later = ", ".join(unique(r.ref for r, _ in self.chips))
            return _fail(words, f"{rec.ref} comes before any chip is attached ({later})")
        gaps = rec.observations.get("gap_above_contacts_um") or {}
        die = earlier[0]
        gap = float(gaps.get(die, 0.0))
        return _fail(
            words,
            f"{rec.ref} does not lie over {die}'s contact-bearing surface: its bottom is {-gap:g} um below "
            "the top of the contacts",
        )

    def _encapsulation_problems(self, rec: StepRecord) -> list[str]:
        obs = rec.observations
        why: list[str] = []
        late_dies = [(r, d) for r, d in self.chips if r.index > rec.index]
        if late_dies:
            r, d = late_dies[0]
            why.append(f"{rec.ref} comes before {d} is attached ({r.ref})")
        late_bonds = unique(w.ref for w, _ in self.bonds if w.index > rec.index)
        if late_bonds:
            why.append(f"{rec.ref} comes before the connections are made ({', '.join(late_bonds)})")
        made = sum(1 for w, _ in self.bonds if w.index < rec.index)
        if not self.bonds:
            why.append("there are no connections to encapsulate")
        elif not late_bonds and int(obs.get("bonds_encapsulated", 0)) < made:
            exposed = [str(c) for c in obs.get("bonds_exposed") or []]
            if exposed:
                why.append(f"{rec.ref} leaves the bonds from {names_list(exposed)} uncovered")
            else:
                why.append(f"{rec.ref} leaves {obs.get('wire_cells_exposed', 0)} wire-bond cells uncovered")
        bare = {str(d): int(n) for d, n in (obs.get("dies_exposed") or {}).items() if int(n)}
        if bare:
            why.append(
                f"{rec.ref} leaves " + ", ".join(f"{n} cells of {d}" for d, n in bare.items()) + " uncovered"
            )
        elif obs.get("die_cells_exposed"):
            why.append(f"{rec.ref} leaves {obs['die_cells_exposed']} cells of the chip uncovered")
        return why

    @cached_property
    def molded(self) -> StepRecord | None:
        """The first deposit of curable dielectric that encapsulates the chip and the connections."""
        good = [r for r in self.acted("encapsulate") if not self._encapsulation_problems(r)]
        return good[0] if good else None

    def cures_after(self, rec: StepRecord) -> list[StepRecord]:
        return [c for c in self.of("cure", after=rec) if _some(c.observations.get("cured_cells"), 0)]

    def e_mold_and_cure(self, words: str) -> ElementResult:
        molds = self.acted("encapsulate")
        if not molds:
            return _fail(words, self.missing("deposits curable dielectric", "encapsulate"))
        mold = self.molded
        if mold is None:
            return _fail(words, "; ".join(w for r in molds for w in self._encapsulation_problems(r)))
        cures = self.cures_after(mold)
        if cures:
            return ElementResult(words, True, (mold.ref, cures[0].ref))
        before = [c for c in self.of("cure") if c.index < mold.index]
        if before:
            return _fail(
                words,
                f"the dielectric deposited at {mold.ref} is never cured: the cure ({_refs(before)}) comes before it",
            )
        return _fail(words, f"no step cures the dielectric deposited at {mold.ref} ({self.steps_text})")

    @cached_property
    def apertures(self) -> list[tuple[StepRecord, dict[str, Any]]]:
        return [(d, a) for d in self.acted("drill") for a in d.observations.get("apertures") or []]

    def _uncured_text(self, names: Sequence[str], drills: Sequence[StepRecord]) -> str:
        drill = drills[0]
        cured_before = [
            c for c in self.of("cure") if c.index < drill.index and c.observations.get("cured_cells")
        ]
        later = self.cures_after(drill)
        if later and not cured_before:
            when = f"the cure ({later[0].ref}) comes after {drill.ref}"
        else:
            when = f"no step cures the dielectric before {drill.ref}"
        return _these("aperture", names, "passes", "pass") + f" through uncured dielectric: {when}"

    def e_apertures(self, words: str) -> ElementResult:
        if not self.apertures:
            return _fail(words, self.missing("forms apertures", "drill"))
        drills = unique(d.ref for d, _ in self.apertures)
        drill_recs = [d for d in self.acted("drill") if d.ref in drills]
        aps = [a for _, a in self.apertures]
        why: list[str] = []
        short = [a for a in aps if not a.get("spans_sacrificial_layers")]
        if short:
            lo, hi = short[0].get("z_um", [0.0, 0.0])
            why.append(
                _these("aperture", [a["name"] for a in short], "does", "do")
                + f" not extend between the sacrificial layers ({short[0]['name']} runs z {lo:g} to {hi:g} um)"
            )
        keys = ("through_cured_dielectric", "through_pad", "through_base")
        full = [a for a in aps if all(a.get(k) for k in keys)]
        if not full:
            uncured = [a["name"] for a in aps if not a.get("through_cured_dielectric")]
            if uncured and any(a.get("through_uncured_dielectric") for a in aps):
                why.append(self._uncured_text(uncured, drill_recs))
            elif uncured:
                why.append(
                    _these("aperture", uncured, "does", "do") + " not pass through the cured dielectric"
                )
            no_pad = [a["name"] for a in aps if not a.get("through_pad")]
            if no_pad:
                why.append(_these("aperture", no_pad, "does", "do") + " not pass through a pad")
            no_base = [a["name"] for a in aps if not a.get("through_base")]
            if no_base:
                why.append(
                    _these("aperture", no_base, "does", "do") + " not pass through the dielectric base"
                )
            why.insert(0, "no aperture passes through the cured dielectric, a pad and the base")
        if why:
            return _fail(words, f"{', '.join(drills)}: " + "; ".join(why))
        return ElementResult(words, True, (*drills, *_few(a["name"] for a in full)))

    @cached_property
    def vias(self) -> list[tuple[StepRecord, dict[str, Any]]]:
        return [(p, v) for p in self.acted("plate") for v in p.observations.get("vias") or []]

    def _no_metal(self) -> str:
        plates = self.of("plate")
        if not plates:
            return f"no metal was deposited: no step deposits metal into the apertures ({self.steps_text})"
        first = plates[0]
        drills = [d for d, _ in self.apertures]
        if not drills or drills[0].index > first.index:
            later = f" ({drills[0].ref})" if drills else ""
            return f"no metal was deposited: {first.ref} comes before any aperture is formed{later}"
        return f"no metal was deposited: {_refused(first)}"

    def e_metal(self, words: str) -> ElementResult:
        if not self.vias:
            return _fail(words, self._no_metal())
        plates = unique(p.ref for p, _ in self.vias)
        vias = [v for _, v in self.vias]
        why: list[str] = []
        broken = [v["name"] for v in vias if not v.get("continuous")]
        if broken:
            why.append(f"the metal in {names_list(broken)} is not continuous along the aperture")
        touching = [v["name"] for v in vias if v.get("touches_pad")]
        if not touching:
            why.append("no via's metal touches a pad")
        if why:
            return _fail(words, f"{', '.join(plates)}: " + "; ".join(why))
        return ElementResult(words, True, (*plates, *_few(touching)))

    def removals(self, layer: str) -> list[tuple[StepRecord, dict[str, Any]]]:
        """(record, layer entry) of every removal step that found ``layer`` there."""
        return [
            (r, e)
            for r in self.acted("remove_sacrificial")
            for e in r.observations.get("layers") or []
            if e.get("layer") == layer and _some(e.get("before_mm3"), TOLERANCE_MM3)
        ]

    def e_removal(self, words: str) -> ElementResult:
        removes = self.of("remove_sacrificial")
        if not removes:
            return _fail(words, self.missing("removes a sacrificial layer", "remove_sacrificial"))
        plated = [p for p, _ in self.vias]
        after = plated[0] if plated else None
        parts: list[str] = []
        why: list[str] = []
        for layer in LAYERS:
            done = [(r, e) for r, e in self.removals(layer) if _some(e.get("removed_mm3"), TOLERANCE_MM3)]
            ok = [r for r, _ in done if after is None or r.index > after.index]
            if ok:
                parts.append(ok[0].ref)
            elif done and after is not None:
                why.append(
                    f"the {layer} sacrificial layer is removed ({done[0][0].ref}) before the metal is "
                    f"deposited ({after.ref})"
                )
            else:
                said = unique(
                    v.message for r in removes for v in r.violations if f" {layer} " in f" {v.message} "
                )
                leave = "leaves" if len(removes) == 1 else "leave"
                detail = f": {'; '.join(said)}" if said else f" ({_refs(removes)} {leave} it in place)"
                why.append(f"no portion of the {layer} sacrificial layer is removed{detail}")
        if why:
            return _fail(words, "; ".join(why))
        return ElementResult(words, True, unique(parts))

    # claim 22 ---------------------------------------------------------------------------------------

    def _flange_words(self) -> str | None:
        """Why no via has flanges at all, or None when some has."""
        if not self.vias:
            return "no metal was deposited, so there are no flanges"
        plates = unique(p for p, _ in self.vias)
        if all(not v.get("flange_overhang_um") for _, v in self.vias):
            said = ", ".join(
                f"{p.ref} plates with a flange overhang of {p.observations.get('flange_overhang_um', 0):g} um"
                for p in plates
            )
            return f"the plating forms no flanges: {said}"
        return None

    def e_flanges(self, words: str) -> ElementResult:
        none = self._flange_words()
        if none is not None:
            return _fail(words, none)
        why: list[str] = []
        for end in ("bottom", "top"):
            short = [
                v["name"]
                for _, v in self.vias
                if not _some((v.get("flange_overhang_um") or {}).get(end), TOLERANCE_UM)
            ]
            if short:
                why.append(_these("via", short, "has", "have") + f" no {end} flange projecting outwardly")
        if why:
            return _fail(words, "; ".join(why))
        return ElementResult(
            words, True, (*unique(p.ref for p, _ in self.vias), *_few(v["name"] for _, v in self.vias))
        )

    def e_flanges_over_layers(self, words: str) -> ElementResult:
        none = self._flange_words()
        if none is not None:
            return _fail(words, none)
        why: list[str] = []
        for end, layer in (("bottom", "first"), ("top", "second")):
            off = [v["name"] for _, v in self.vias if not (v.get("flange_on_sacrificial") or {}).get(end)]
            if off:
                why.append(
                    f"the {end} flanges of {names_list(off)} do not lie on the {layer} sacrificial layer"
                )
        if why:
            return _fail(words, "; ".join(why))
        return ElementResult(
            words, True, (*unique(p.ref for p, _ in self.vias), *_few(v["name"] for _, v in self.vias))
        )

    # claim 23 ---------------------------------------------------------------------------------------

    def e_all_but_flanges(self, words: str) -> ElementResult:
        why: list[str] = []
        parts: list[str] = []
        for layer in LAYERS:
            found = self.removals(layer)
            if not found:
                why.append(f"the {layer} sacrificial layer is never removed")
                continue
            rec, e = found[0]
            keep = rec.observations.get("keep")
            region = rec.observations.get("region_um")
            layer_why: list[str] = []
            if _some(e.get("kept_elsewhere_mm3"), TOLERANCE_MM3):
                where = f", etching only inside {region}" if region else ""
                layer_why.append(
                    f"{rec.ref} leaves {e['kept_elsewhere_mm3']:.3g} mm3 of the {layer} layer that no flange "
                    f"covers{where}"
                )
            if not _some(e.get("under_flanges_mm3"), TOLERANCE_MM3):
                layer_why.append(f"no flange covers any of the {layer} layer")
            elif _some(e.get("removed_under_flanges_mm3"), TOLERANCE_MM3):
                layer_why.append(
                    f"{rec.ref} also removes the {e['removed_under_flanges_mm3']:.3g} mm3 of the {layer} layer "
                    f"under the flanges (keep: {keep})"
                )
            why.extend(layer_why)
            if not layer_why:
                parts.append(rec.ref)
        if why:
            return _fail(words, "; ".join(why))
        return ElementResult(words, True, unique(parts))


# --- the chart ---------------------------------------------------------------------------------------

CLAIM_21: tuple[tuple[str, str], ...] = (
    ("e_first_layer", "providing a first sacrificial layer"),
    ("e_base", "providing a dielectric base on the first sacrificial layer"),
    ("e_pads", "providing an array of conductive pads on the base, defining a central region"),
    (
        "e_attach",
        "attaching the chip's back to the first sacrificial layer within the central region, contacts facing away",
    ),
    ("e_connect", "electrically connecting each contact to a respective pad"),
    ("e_second_layer", "providing a second sacrificial layer juxtaposed with the contact-bearing surface"),
    (
        "e_mold_and_cure",
        "depositing curable dielectric encapsulating the connections and the chip, and curing it",
    ),
    (
        "e_apertures",
        "forming apertures between the sacrificial layers, some through the cured dielectric, pads and base",
    ),
    (
        "e_metal",
        "depositing conductive metal in the apertures, forming vias between the layers, some connected to pads",
    ),
    ("e_removal", "removing at least a portion of each sacrificial layer"),
)
CLAIM_22: tuple[tuple[str, str], ...] = (
    ("e_flanges", "the metal deposition forms flange portions projecting outwardly from the vias"),
    ("e_flanges_over_layers", "the flange portions lie over the sacrificial layers"),
)
CLAIM_23: tuple[tuple[str, str], ...] = (
    ("e_all_but_flanges", "removing all of each sacrificial layer but the portions the flanges cover"),
)
OWN_ELEMENTS = {21: CLAIM_21, 22: CLAIM_22, 23: CLAIM_23}


def method_chart(run: ProcessRun) -> dict[int, ClaimResult]:
    """Claims 21-23 for a process run, each element with the steps and objects that satisfy it or why none do.

    A dependent claim (22 on 21, 23 on 22) holds only where its parent holds and its own elements hold; its own
    elements are evaluated and reported either way.
    """
    view = _MethodRun(run)
    results: dict[int, ClaimResult] = {}
    for number, elements in OWN_ELEMENTS.items():
        own = [getattr(view, method)(words) for method, words in elements]
        parent = DEPENDS_ON.get(number)
        if parent is not None:
            own.insert(0, _parent_element(number, results[parent].holds))
        results[number] = _claim(number, own, view.raster_note() if number == 21 else None)
    return results
