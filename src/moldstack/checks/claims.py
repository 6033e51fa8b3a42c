"""The claim chart: which of claims 1-23 a built model embodies, and the parts that satisfy each element.

Each claim is a predicate over the model's geometry (solid shapes, roles and materials, the placed-assembly
records), composed from its elements. For every element the chart gives the parts that satisfy it or the reason
none does. A dependent claim's first element is its parent: it holds only where the parent holds for the same
assembly and its own elements hold; its own elements are evaluated and reported either way.

Claims are evaluated per placed assembly and hold for the design where they hold for at least one assembly;
claims 5-6 (a stack of assemblies, a substrate under it) are evaluated over the whole model. The method claims
21-23 need a process run (virtual fabrication): until one supplies their results (``method=``), they are
reported as not holding, with that note.

Geometric readings (all lengths um, tolerance :data:`TOLERANCE_UM`):

- a die's *front face* is the face its contacts sit on (within its outline); the *back* is the other face;
- a unit, pad or fill is *exposed* at a body face when its end reaches that face (or beyond) and insulating
  solids do not cover all of its end face;
- *electrically connected* means joined through touching conductive solids (:mod:`~moldstack.geometry.adjacency`),
  passing only through solids of the roles the claim names (conductive elements, joints);
- a *hollow centre* is a hole in the unit's section (fill excluded); it runs *through* when every level of the
  unit has one and they line up;
- *thermally conductive* adhesive has k >= :data:`THERMAL_ADHESIVE_MIN_K`; *reflowable* material is a conductor
  that melts below :data:`REFLOW_MAX_C`.

It reads only the Model. It must not know the spec, the builder or the process flow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from moldstack.checks.chart import ClaimChart, ClaimResult, ElementResult
from moldstack.checks.claim_elements import (
    REFLOW_MAX_C,
    THERMAL_ADHESIVE_MIN_K,
    TOLERANCE_UM,
    AssemblyView,
    ModelView,
    UnitView,
    plan_overlap,
    unique,
)
from moldstack.geometry.adjacency import Connectivity, connectivity, role_matches
from moldstack.geometry.model import Model

__all__ = [
    "REFLOW_MAX_C",
    "THERMAL_ADHESIVE_MIN_K",
    "TOLERANCE_UM",
    "ClaimChart",
    "ClaimResult",
    "ElementResult",
    "claim_chart",
]

METHOD_CLAIMS = (21, 22, 23)
METHOD_NOTE = (
    "needs a process run: chart the design or its spec (moldstack.claims(design)), not the model alone"
)

TITLES: dict[int, str] = {
    1: "die in a dielectric mass, edge units exposed on opposite faces, conductive elements to the contacts",
    2: "top surface over the front face, bottom over the back; units exposed at top and bottom",
    3: "units with a bottom pad portion and a narrower protrusion exposed at the top",
    4: "protrusion at the side of its pad furthest from the die",
    5: "two claim-2 assemblies stacked, bottom units of the first joined to top units of the second",
    6: "substrate under the second assembly, its units connected to it",
    7: "units protrude from the top or bottom surface",
    8: "die back surface exposed at an exterior surface",
    9: "thermally conductive adhesive on the die back",
    10: "units with hollow centres",
    11: "hollow centres extend through the units",
    12: "reflowable conductive material in the hollow centres",
    13: "reflowable material exposed at an exterior surface",
    14: "second die on the first's front face, fully encapsulated, both connected to units",
    15: "second die has a face with terminals and a back surface",
    16: "second die's back faces the first's front face",
    17: "second die's back attached to the first's front face",
    18: "a terminal interconnected with a contact",
    19: "thermally conductive adhesive on the first die's back",
    20: "first die's back surface exposed",
    21: "method: sacrificial layers, base, pads, die attach, bonding, molding, apertures, plating, removal",
    22: "method: plating forms flanges over the sacrificial layers",
    23: "method: removal leaves only the sacrificial layer covered by the flanges",
}
DEPENDS_ON: dict[int, int] = {
    2: 1, 3: 2, 4: 3, 5: 2, 6: 5, 7: 2, 8: 1, 9: 8, 10: 1, 11: 10, 12: 10, 13: 12,
    15: 14, 16: 15, 17: 15, 18: 17, 19: 17, 20: 14, 22: 21, 23: 22,
}  # fmt: skip

Element = Callable[[AssemblyView], ElementResult]


def _el(method: str, words: str) -> Element:
    return lambda a: getattr(a, method)(words)


PER_ASSEMBLY: dict[int, tuple[Element, ...]] = {
    1: (
        _el("e_die_with_contacts", "a microelectronic element with contacts on its front face"),
        _el("e_mass", "a mass of dielectric material at least partially encapsulating it"),
        _el("e_edge_units", "conductive units embedded in the mass along a die edge"),
        _el("e_exposed_both", "some units exposed on oppositely-facing exterior surfaces"),
        _el("e_elements", "conductive elements through the mass connecting the contacts with the units"),
    ),
    2: (
        _el("e_orientation", "top surface juxtaposed with the front face, bottom with the back"),
        _el("e_exposed_both", "some units exposed at both the top and bottom surfaces"),
    ),
    3: (
        _el(
            "e_pad_protrusion",
            "pad portions exposed at the bottom, a protrusion from each exposed at the top",
        ),
        _el("e_smaller", "each protrusion's cross-section smaller than its pad portion's"),
    ),
    4: (_el("e_far", "each protrusion extends from the pad's portion furthest from the die"),),
    7: (_el("e_protrudes", "units protrude from the top or bottom surface or both"),),
    8: (_el("e_back_exposed", "the die's back surface exposed at an exterior surface"),),
    9: (_el("e_adhesive", "thermally conductive adhesive attached to the back surface"),),
    10: (_el("e_hollow", "some units have hollow centres"),),
    11: (_el("e_through", "the hollow centres extend through the units"),),
    12: (_el("e_fill", "reflowable conductive material within the hollow centres"),),
    13: (_el("e_fill_exposed", "the reflowable material exposed at an exterior surface"),),
    14: (
        _el("e_die_with_contacts", "a first microelectronic element with contacts on its front face"),
        _el("e_second_die", "a second element with terminals, juxtaposed with the first's front face"),
        _el("e_mass_full", "a mass partially encapsulating the first and fully encapsulating the second"),
        _el("e_units_secured", "conductive units secured to the mass"),
        _el("e_elements_14", "conductive elements through the mass connecting contacts and terminals"),
        _el("e_one_exposed", "one or more units exposed at an exterior surface"),
    ),
    15: (_el("e_face_and_back", "the second element has a face with terminals and a back remote from it"),),
    16: (_el("e_back_faces_front", "the second element's back faces the first's front face"),),
    17: (_el("e_back_attached", "the second element's back attached to the first's front face"),),
    18: (_el("e_terminal_to_contact", "conductive elements interconnect a terminal with a contact"),),
    19: (_el("e_adhesive", "thermally conductive adhesive attached to the first element's back surface"),),
    20: (_el("e_back_exposed", "the first element's back surface exposed at an exterior surface"),),
}


def _parent_element(number: int, holds: bool, where: str = "") -> ElementResult:
    parent = DEPENDS_ON[number]
    words = f"the {'device' if parent in (5,) else 'assembly'} as claimed in claim {parent}"
    return ElementResult(words, holds, reason=None if holds else f"claim {parent} does not hold{where}")


def _claim(number: int, elements: Sequence[ElementResult], note: str | None = None) -> ClaimResult:
    return ClaimResult(
        number, TITLES[number], all(e.holds for e in elements), DEPENDS_ON.get(number), tuple(elements), note
    )


def _per_assembly(a: AssemblyView) -> dict[int, ClaimResult]:
    results: dict[int, ClaimResult] = {}
    for number, elements in PER_ASSEMBLY.items():
        own = [e(a) for e in elements]
        parent = DEPENDS_ON.get(number)
        if parent is not None:
            own.insert(0, _parent_element(number, results[parent].holds))
        results[number] = _claim(number, own)
    return results


def _merge(number: int, per: Mapping[str, ClaimResult]) -> ClaimResult:
    """A per-assembly claim for the design: it holds where it holds for some assembly."""
    several = len(per) > 1
    holding = [name for name, r in per.items() if r.holds]
    if holding:
        first = per[holding[0]]
        elements = [
            ElementResult(e.element, True, unique(p for n in holding for p in per[n].elements[k].parts))
            for k, e in enumerate(first.elements)
        ]
        return _claim(number, elements, f"holds for {', '.join(holding)}" if several else None)
    name, best = max(per.items(), key=lambda item: sum(e.holds for e in item[1].elements))
    prefix = f"{name}: " if several else ""
    elements = [
        e if e.reason is None else ElementResult(e.element, e.holds, e.parts, prefix + e.reason)
        for e in best.elements
    ]
    return _claim(number, elements, f"holds for no assembly (shown: {name})" if several else None)


def _stack_claims(
    views: Sequence[AssemblyView], per: Mapping[str, Mapping[int, ClaimResult]]
) -> dict[int, ClaimResult]:
    """Claims 5 (two claim-2 assemblies stacked and joined) and 6 (a substrate under the second)."""
    tol = views[0].tol if views else TOLERANCE_UM
    ok2 = [a for a in views if per[a.name][2].holds]
    words5 = "first and second assemblies, each as claimed in claim 2"
    if len(ok2) >= 2:
        e_two = ElementResult(words5, True, unique(a.body.part for a in ok2))
    elif len(views) < 2:
        names = ", ".join(a.name for a in views)
        e_two = ElementResult(
            words5, False, reason=f"the design has one assembly ({names}): claim 5 needs two"
        )
    else:
        held = ", ".join(a.name for a in ok2) or "none"
        e_two = ElementResult(
            words5, False, reason=f"claim 2 does not hold for two assemblies (holds for: {held})"
        )
    words = "the first's bottom-exposed units connected to the second's top-exposed units"
    candidates = ok2 if len(ok2) >= 2 else list(views)
    pairs = [
        (up, low)
        for up in candidates
        for low in candidates
        if up is not low and up.z_bottom >= low.z_top - tol and plan_overlap(up.bbox, low.bbox, tol)
    ]
    joined: list[tuple[AssemblyView, AssemblyView]] = []
    joint_parts: list[str] = []
    for up, low in pairs:
        targets = {s.id for u in low.exposed_top for s in u.solids}
        found = _joined(up, up.exposed_bottom, targets)
        if found:
            joined.append((up, low))
            joint_parts.extend(found)
    if joined:
        e_join = ElementResult(words, True, unique(joint_parts))
    elif not pairs:
        e_join = ElementResult(words, False, reason="no assembly lies over another")
    else:
        up, low = pairs[0]
        e_join = ElementResult(
            words,
            False,
            reason=f"no joint connects {up.name}'s bottom-exposed units to {low.name}'s top-exposed units",
        )
    claim5 = _claim(5, [e_two, e_join])
    lowers = [low for _, low in joined] if joined else sorted(views, key=lambda a: a.z_bottom)[:1]
    return {5: claim5, 6: _substrate_claim(claim5.holds, lowers)}


def _joined(a: AssemblyView, units: Sequence[UnitView], targets: set[str]) -> list[str]:
    """Parts of the joints through which any of ``units`` reaches a solid in ``targets``."""
    parts: list[str] = []
    for u in units:
        for s in u.solids:
            reached = a.conn.reachable(s.id, ("joint",))
            if reached & targets:
                parts.extend(a.model.solid(r).part for r in sorted(reached) if a.conn.roles[r] == "joint")
    return parts


def _substrate_claim(claim5_holds: bool, lowers: Sequence[AssemblyView]) -> ClaimResult:
    parent = _parent_element(6, claim5_holds)
    words_sub = "a substrate underlying the second assembly's bottom surface"
    words_con = "the second assembly's exposed units connected to the substrate"
    if not lowers:
        return _claim(
            6,
            [
                parent,
                ElementResult(words_sub, False, reason="no assembly"),
                ElementResult(words_con, False, reason="no assembly"),
            ],
        )
    model = lowers[0].model
    tol = lowers[0].tol
    subs = [s for s in model.solids if s.role == "substrate"]
    under = [
        (low, s)
        for low in lowers
        for s in subs
        if s.shape.bbox[5] <= low.z_bottom + tol and plan_overlap(s.shape.bbox, low.bbox, tol)
    ]
    if under:
        e_sub = ElementResult(words_sub, True, unique(s.part for _, s in under))
    elif not subs:
        e_sub = ElementResult(
            words_sub, False, reason="the design has no substrate (no solid with role substrate)"
        )
    else:
        e_sub = ElementResult(words_sub, False, reason=f"the substrate does not lie under {lowers[0].name}")
    parts: list[str] = []
    for low, _ in under:
        targets = {s.id for s in model.solids if role_matches(s.role, ("substrate",))}
        parts.extend(_joined(low, low.exposed_bottom, targets))
    if parts:
        e_con = ElementResult(words_con, True, unique(parts))
    else:
        reason = (
            "no substrate to connect to"
            if not under
            else f"no joint connects {lowers[0].name}'s bottom units to the substrate"
        )
        e_con = ElementResult(words_con, False, reason=reason)
    return _claim(6, [parent, e_sub, e_con])


def _method_placeholder(number: int, note: str = METHOD_NOTE) -> ClaimResult:
    return ClaimResult(number, TITLES[number], False, DEPENDS_ON.get(number), (), note)


def claim_chart(
    model: Model,
    method: Mapping[int, ClaimResult] | None = None,
    conductors: Connectivity | None = None,
    tolerance_um: float = TOLERANCE_UM,
    method_note: str = METHOD_NOTE,
) -> ClaimChart:
    """The claim chart of a built model: claims 1-20 from its geometry; 21-23 from ``method`` if given.

    ``method`` holds the results a process run (virtual fabrication) found for the method claims 21-23; without
    it they are reported as not holding, with ``method_note`` saying why (by default, that they need one). ``conductors`` may pass a connectivity
    already computed for ``model`` (its tolerance is then the one used for connections).
    """
    if method is not None and not set(method) <= set(METHOD_CLAIMS):
        extra = sorted(set(method) - set(METHOD_CLAIMS))
        raise ValueError(f"method results are for claims 21-23 only, not {extra}")
    conn = conductors if conductors is not None else connectivity(model, tolerance_um)
    ctx = ModelView(model, conn, tolerance_um)
    views = [AssemblyView(ctx, pa) for pa in model.assemblies]
    per = {a.name: _per_assembly(a) for a in views}
    claims: dict[int, ClaimResult] = {}
    stack = _stack_claims(views, per)
    for number in range(1, 24):
        if number in METHOD_CLAIMS:
            claims[number] = (method or {}).get(number) or _method_placeholder(number, method_note)
        elif number in stack:
            claims[number] = stack[number]
        else:
            claims[number] = _merge(number, {name: results[number] for name, results in per.items()})
    return ClaimChart(model.name, claims)


__all__ = [
    "METHOD_NOTE",
    "REFLOW_MAX_C",
    "THERMAL_ADHESIVE_MIN_K",
    "TOLERANCE_UM",
    "ClaimChart",
    "ClaimResult",
    "ElementResult",
    "claim_chart",
]
