"""The roles solids play: the claim elements they realise. Charts, legends, layer maps and reports speak these.

Each role is ``group.element``; :data:`ROLES` gives its words from the claims. Nothing else lives here.
"""

from __future__ import annotations

ROLES: dict[str, str] = {
    "body": "mass of dielectric material (mold compound)",
    "body.base": "dielectric base material (claim 21)",
    "die": "microelectronic element (first)",
    "die.contact": "contact on the front face",
    "die.attach": "adhesive on the back surface (thermally conductive: claims 9, 19)",
    "second_die": "second microelectronic element (claims 14-18)",
    "second_die.terminal": "terminal of the second element",
    "second_die.attach": "attach layer between the elements (claim 17)",
    "conductive_unit.post": "conductive unit (post)",
    "conductive_unit.pad": "pad portion of a conductive unit (claim 3) / pad of the array (claim 21)",
    "conductive_unit.protrusion": "protrusion from the pad portion (claims 3-4)",
    "conductive_unit.via": "conductive via plated in an aperture (claim 21)",
    "conductive_unit.hollow": "hollow centre of a conductive unit (claims 10-11), empty where no fill is",
    "conductive_unit.fill": "reflowable conductive material in a hollow centre (claims 12-13)",
    "conductive_unit.flange": "flange portion over a sacrificial layer (claim 22)",
    "conductive_unit.remnant": "sacrificial layer left under a flange (claim 23)",
    "conductive_element.wire_bond": "conductive element: wire bond",
    "conductive_element.via": "conductive element: via through the mass",
    "conductive_element.trace": "conductive element: trace on the top surface",
    "conductive_element.rdl": "conductive element: redistribution trace",
    "joint": "joint between stacked assemblies or onto the substrate (claims 5-6)",
    "substrate": "substrate (claim 6)",
    "substrate.copper": "substrate copper plane",
    "substrate.land": "substrate land",
}

PROCESS_ROLES: dict[str, str] = {
    "sacrificial.first": "first sacrificial layer (claim 21)",
    "sacrificial.second": "second sacrificial layer (claim 21)",
    "body.uncured": "curable dielectric, not yet cured",
    "process.aperture": "aperture formed through the stack, not yet plated",
}
"""Roles that exist only while a process runs (:mod:`moldstack.fab`); a built model never has them."""

ROLE_WORDS: dict[str, str] = {**ROLES, **PROCESS_ROLES}
"""Every role's words, the model's and the process's, in legend order."""

UNIT_ROLES = tuple(r for r in ROLES if r.startswith("conductive_unit."))
ELEMENT_ROLES = tuple(r for r in ROLES if r.startswith("conductive_element."))
