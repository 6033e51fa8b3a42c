"""The claimed flow (claims 21-23) for a design: :func:`flow_for` writes the steps that make an assembly.

The method makes one particular form of the claim-1 structure (see ``design/domain.md``): a body on a dielectric
base, a die whose back sits on the first sacrificial layer, wire bonds from contacts to pads on the base, and
plated vias with flanges. :func:`flow_for` takes the masks from the design's plan-view layout
(:func:`moldstack.placement.place`: where the pads, die, contacts and stitches are) and the layer thicknesses
from the spec; every height is left to the process, which finds it by building. Where the method cannot make
an assembly, :class:`MethodNotApplicableError` lists why, each problem at its spec path.

It reads the spec and the layout; it does not call the model builder.
"""

from __future__ import annotations

from moldstack.fab.steps import (
    ApertureSite,
    Bond,
    ContactSite,
    Cure,
    DieAttach,
    DielectricBase,
    Drill,
    Encapsulate,
    FillHollows,
    Flow,
    GridSettings,
    PadArray,
    PadSite,
    Plate,
    RemoveSacrificial,
    SacrificialLayer,
    Step,
    WireBond,
)
from moldstack.placement import AssemblyLayout, landing_point, place
from moldstack.spec.design import Assembly, Design
from moldstack.spec.errors import Problem, SpecError
from moldstack.spec.interconnects import WireBondSpec
from moldstack.spec.units import PlatedViaUnit

CURE_TEMPERATURE_C = 175.0  # typical post-mold cure of epoxy mold compounds (175 C, 4-8 h)
CURE_MINUTES = 240.0
WIRE_CLEARANCE_UM = 20.0  # laser-drill keep-out from a bond wire (heat-affected zone), a stated default


class MethodNotApplicableError(SpecError):
    """The claimed method cannot make this design; ``problems`` say why, at spec paths."""


def _problems(asm: Assembly, path: str, layout: AssemblyLayout) -> list[Problem]:
    out: list[Problem] = []
    if asm.body.base is None:
        out.append(
            Problem(f"{path}.body.base", "is missing: the method builds the body on a dielectric base")
        )
    for i, die in enumerate(asm.dies):
        dpath = f"{path}.dies[{i}]"
        if die.stacked_on is not None:
            out.append(
                Problem(
                    f"{dpath}.stacked_on",
                    f"{die.stacked_on!r}: the method attaches every die to the sacrificial layer, none stacked",
                )
            )
        if not die.back_exposed:
            out.append(
                Problem(
                    f"{dpath}.back_exposed",
                    "false: the method attaches the back to the first sacrificial layer, which leaves it exposed",
                )
            )
        if die.attach is not None:
            out.append(
                Problem(
                    f"{dpath}.attach",
                    "the method attaches the back directly to the sacrificial layer; it makes no attach layer",
                )
            )
    vias: list[tuple[str, PlatedViaUnit]] = []
    for i, pattern in enumerate(asm.units):
        upath = f"{path}.units[{i}].unit"
        if isinstance(pattern.unit, PlatedViaUnit):
            vias.append((upath, pattern.unit))
        else:
            out.append(
                Problem(
                    f"{upath}.shape",
                    f"{pattern.unit.shape!r}: the method makes plated vias (shape: plated_via)",
                )
            )
    if vias:
        first_path, first = vias[0]
        shared = (
            "remnant_thickness_um",
            "remnant_material",
            "flange_overhang_um",
            "flange_thickness_um",
            "plating_thickness_um",
            "material",
            "fill",
        )
        for upath, unit in vias[1:]:
            for name in shared:
                if getattr(unit, name) != getattr(first, name):
                    out.append(
                        Problem(
                            f"{upath}.{name}",
                            f"{getattr(unit, name)!r} differs from {first_path}.{name} ({getattr(first, name)!r}): one sacrificial layer and one plating make every via",
                        )
                    )
        pads = {(u.pad.material, u.pad.thickness_um) for _, u in vias}
        if len(pads) > 1:
            out.append(
                Problem(
                    f"{first_path}.pad",
                    "every pad of the array is made in one step: give them one material and thickness",
                )
            )
    for i, ic in enumerate(asm.interconnects):
        if not isinstance(ic, WireBondSpec):
            out.append(
                Problem(
                    f"{path}.interconnects[{i}].kind",
                    f"{ic.kind!r}: the method connects contacts to pads by wire bonds",
                )
            )
    for conn in layout.connections:
        if layout.unit(conn.target) is None and isinstance(conn.spec, WireBondSpec):
            out.append(
                Problem(
                    conn.path,
                    f"{conn.source} -> {conn.target}: the method bonds contacts to pads, not to another die",
                )
            )
    return out


def _assembly_flow(design: Design, asm: Assembly, layout: AssemblyLayout, grid: GridSettings) -> Flow:
    body = asm.body
    assert body.base is not None
    sx, sy = body.size_um
    panel = (-sx / 2, -sy / 2, sx / 2, sy / 2)
    units = [u for u in layout.units if isinstance(u.spec, PlatedViaUnit)]
    via = units[0].spec
    assert isinstance(via, PlatedViaUnit)
    m = body.base.opening_margin_um
    opening = (
        min(d.x0 for d in layout.dies) - m,
        min(d.y0 for d in layout.dies) - m,
        max(d.x1 for d in layout.dies) + m,
        max(d.y1 for d in layout.dies) + m,
    )
    steps: list[Step] = [
        SacrificialLayer(layer="first", material=via.remnant_material, thickness_um=via.remnant_thickness_um),
        DielectricBase(material=body.base.material, thickness_um=body.base.thickness_um, opening_um=opening),
        PadArray(
            material=via.pad.material,
            thickness_um=via.pad.thickness_um,
            pads=[
                PadSite(name=u.name, at_um=(u.x, u.y), diameter_um=u.spec.pad.diameter_um)  # type: ignore[union-attr]
                for u in units
            ],
        ),
    ]
    for d in layout.dies:
        steps.append(
            DieAttach(
                die=d.name,
                material=d.spec.material,
                outline_um=(d.x0, d.y0, d.x1, d.y1),
                thickness_um=d.spec.thickness_um,
                contact_material=d.spec.contacts.material,
                contact_thickness_um=d.spec.contacts.thickness_um,
                contacts=[
                    ContactSite(name=c.name.split(".", 1)[1], at_um=(c.x, c.y), size_um=c.size)
                    for c in d.contacts
                ],
            )
        )
    tb = body.base.thickness_um
    for i, ic in enumerate(asm.interconnects):
        if not isinstance(ic, WireBondSpec):
            continue
        bonds = []
        for conn in layout.connections:
            if conn.index != i:
                continue
            unit = layout.unit(conn.target)
            land = landing_point(unit, tb) if unit is not None else None
            if unit is not None and land is not None:
                bonds.append(Bond(contact=conn.source, pad=unit.name, stitch_um=(land[0], land[1])))
        if bonds:
            steps.append(
                WireBond(
                    material=ic.material,
                    diameter_um=ic.diameter_um,
                    loop_height_um=ic.loop_height_um,
                    ball_diameter_um=ic.ball_diameter,
                    ball_height_um=ic.ball_height,
                    bonds=bonds,
                )
            )
    steps += [
        SacrificialLayer(
            layer="second",
            material=via.remnant_material,
            thickness_um=via.remnant_thickness_um,
            at_um=body.thickness_um,
        ),
        Encapsulate(material=body.material, outline_um=panel, min_cover_um=body.wire_cover_um),
        Cure(temperature_c=CURE_TEMPERATURE_C, duration_min=CURE_MINUTES),
        Drill(
            apertures=[
                ApertureSite(name=u.name, at_um=(u.x, u.y), diameter_um=u.spec.diameter_um) for u in units
            ],
            wire_clearance_um=WIRE_CLEARANCE_UM,
        ),
        Plate(
            material=via.material,
            thickness_um=via.plating_thickness_um,
            flange_overhang_um=via.flange_overhang_um,
            flange_thickness_um=via.flange_thickness_um,
        ),
    ]
    if via.fill is not None and via.plating_thickness_um is not None:
        steps.append(FillHollows(material=via.fill.material, recess_um=via.fill.recess_um))
    if via.remnant_thickness_um > 0:
        steps.append(RemoveSacrificial(layers=["first", "second"], keep="under_flanges"))
    return Flow(
        name=f"{design.name}-{asm.name}",
        design=design.name,
        assembly=asm.name,
        panel_um=panel,
        grid=grid,
        steps=steps,
    )


def flow_for(design: Design, assembly: str | None = None, grid: GridSettings | None = None) -> Flow:
    """The claim-21 flow that makes ``assembly`` (default: the first the method can make) of ``design``.

    Raises :class:`MethodNotApplicableError` listing, at spec paths, why the method cannot make it.
    """
    candidates = [(i, a) for i, a in enumerate(design.assemblies) if assembly is None or a.name == assembly]
    if not candidates:
        names = ", ".join(a.name for a in design.assemblies)
        raise MethodNotApplicableError(
            [Problem("assembly", f"{assembly!r} is not an assembly of this design ({names})")]
        )
    first_problems: list[Problem] | None = None
    for i, asm in candidates:
        path = f"assemblies[{i}]"
        layout = place(asm, path)
        problems = _problems(asm, path, layout) + list(layout.problems)
        if not problems:
            return _assembly_flow(design, asm, layout, grid or GridSettings())
        if first_problems is None:
            first_problems = problems
    assert first_problems is not None
    raise MethodNotApplicableError(first_problems)


def method_applies(design: Design) -> bool:
    """Whether the claimed method can make some assembly of ``design``."""
    try:
        flow_for(design)
    except MethodNotApplicableError:
        return False
    return True


__all__ = ["MethodNotApplicableError", "flow_for", "method_applies"]
