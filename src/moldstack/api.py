"""The library's entry points: every CLI command is one of these calls.

``design = moldstack.load("pop.yaml"); model = moldstack.build(design); chart = moldstack.claims(model)``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from moldstack.geometry.builder import build_model
from moldstack.geometry.model import Model
from moldstack.spec.design import Design
from moldstack.spec.errors import SpecError
from moldstack.spec.io import design_from_data, dump_yaml, parse_design, parse_yaml
from moldstack.validation import validate

if TYPE_CHECKING:
    from moldstack.analysis.electrical import ElectricalResult
    from moldstack.analysis.environment import Environment
    from moldstack.analysis.thermal import ThermalResult
    from moldstack.analysis.warpage import WarpageResult, WarpageSettings
    from moldstack.checks.claims import ClaimChart
    from moldstack.checks.rule_deck import RuleDeck
    from moldstack.checks.stack import StackSettings
    from moldstack.checks.verification import Verification
    from moldstack.fab.result import ProcessResult
    from moldstack.fab.steps import Flow, GridSettings
    from moldstack.geometry.section import Plane, Section

# Designs this process has validated (by identity), so load() then build() validates once. Bounded; holds the
# objects so an id cannot be reused by another design while remembered.
_VALIDATED: OrderedDict[int, Design] = OrderedDict()
_REMEMBER = 32


def _checked(design: Design, lines: dict[str, int] | None = None) -> Design:
    """The design if it validates (raise :class:`SpecError` listing every problem otherwise)."""
    if _VALIDATED.get(id(design)) is design:
        return design
    problems = validate(design, lines)
    if problems:
        raise SpecError(problems)
    _VALIDATED[id(design)] = design
    while len(_VALIDATED) > _REMEMBER:
        _VALIDATED.popitem(last=False)
    return design


def load(path: str | Path) -> Design:
    """Read, type-check and validate a spec file; raise :class:`SpecError` listing every problem."""
    design, lines = parse_design(path)
    return _checked(design, lines)


def loads(text: str | bytes, source: str = "spec") -> Design:
    """Like :func:`load`, from YAML text."""
    data, lines = parse_yaml(text, source)
    return _checked(design_from_data(data, lines), lines)


def build(design: Design | str | Path) -> Model:
    """Validate a design (or load a spec file) and build its :class:`Model`."""
    if not isinstance(design, Design):
        return build_model(load(design))
    return build_model(_checked(design))


def claims(model_or_design: Model | Design | str | Path, flow: Flow | str | Path | None = None) -> ClaimChart:
    """The claim chart: which of claims 1-23 the design embodies, with the parts that satisfy each element.

    Takes a built :class:`Model`, or a Design or spec path to build first (see :func:`build`). Claims 21-23 (the
    method) come from a process run: of ``flow`` if given, else of the flow :func:`flow` generates when the
    claimed method can make the design (on the coarser screening grid, :data:`CLAIMS_GRID`). Given only a
    Model, they are reported as needing a process run.
    """
    from moldstack.checks.claims import claim_chart  # noqa: PLC0415 - the checks load only when asked for

    model = _model(model_or_design)
    if isinstance(model_or_design, Model) and flow is None:
        return claim_chart(model)
    from moldstack.checks.method_claims import method_chart  # noqa: PLC0415
    from moldstack.fab.generate import MethodNotApplicableError  # noqa: PLC0415
    from moldstack.fab.runner import run  # noqa: PLC0415

    try:
        chosen = _flow(model_or_design, flow, _claims_grid())
    except MethodNotApplicableError as exc:
        first = exc.problems[0]
        note = f"the claimed method does not make this design: {first.path}: {first.message}"
        return claim_chart(model, method_note=note)
    return claim_chart(model, method=method_chart(run(chosen)))


def _claims_grid() -> GridSettings:
    from moldstack.fab.steps import GridSettings  # noqa: PLC0415

    return GridSettings(fine_um=25.0, coarse_um=200.0, z_cell_um=50.0)


def _design(design: Design | Model | str | Path) -> Design:
    if isinstance(design, Model):
        raise TypeError("a process needs the design (a spec path or a Design), not a built Model")
    return design if isinstance(design, Design) else load(design)


def _flow(
    design: Design | Model | str | Path, flow: Flow | str | Path | None, grid: GridSettings | None
) -> Flow:
    from moldstack.fab.flow_io import load_flow  # noqa: PLC0415
    from moldstack.fab.generate import flow_for  # noqa: PLC0415
    from moldstack.fab.steps import Flow  # noqa: PLC0415

    if flow is None:
        return flow_for(_design(design), grid=grid)
    return flow if isinstance(flow, Flow) else load_flow(flow)


def flow(design: Design | str | Path, assembly: str | None = None) -> Flow:
    """The claim-21 process flow that makes ``assembly`` (default: the first the method can make) of ``design``.

    Raises :class:`~moldstack.fab.generate.MethodNotApplicableError` (a :class:`SpecError`) listing why the
    method cannot make it.
    """
    from moldstack.fab.generate import flow_for  # noqa: PLC0415

    return flow_for(_design(design), assembly)


def process(
    design: Design | str | Path,
    flow: Flow | str | Path | None = None,
    *,
    compare: bool = True,
    keep_states: bool = False,
) -> ProcessResult:
    """Virtually fabricate ``design`` by the claimed method: run ``flow`` (default: the generated one) step by
    step, chart claims 21-23 from the run, and compare its final state with the direct build cell by cell."""
    from moldstack.checks.method_claims import method_chart  # noqa: PLC0415
    from moldstack.fab.agreement import agreement  # noqa: PLC0415
    from moldstack.fab.result import ProcessResult  # noqa: PLC0415
    from moldstack.fab.runner import run  # noqa: PLC0415

    checked = _design(design)
    chosen = _flow(checked, flow, None)
    result = run(chosen, keep_states=keep_states)
    return ProcessResult(result, method_chart(result), agreement(result, checked) if compare else None)


def _model(model_or_design: Model | Design | str | Path) -> Model:
    return model_or_design if isinstance(model_or_design, Model) else build(model_or_design)


def export(
    model_or_design: Model | Design | str | Path, path: str | Path, format: str | None = None
) -> list[Path]:
    """Write one view of the model: ``step``, ``glb``, ``stl``, ``gds``, ``oas``, ``svg``, ``png`` or ``kicad``
    (the board land pattern, see :mod:`moldstack.exporters.kicad`).

    The format is the one named, or the one ``path``'s suffix implies. Returns the files written (a GDS comes
    with its layer map beside it). Every file is written atomically.
    """
    from moldstack.exporters.formats import format_for  # noqa: PLC0415 - exporters load only when asked for

    target = Path(path)
    fmt = format_for(target, format)
    return fmt.write(_model(model_or_design), target)


def section(model_or_design: Model | Design | str | Path, plane: Plane | str) -> Section:
    """The exact cut of the model by an axis-aligned plane (``"x=0"``, ``"y=-4200"``, ``"z=300"``)."""
    from moldstack.geometry.section import section as cut  # noqa: PLC0415

    return cut(_model(model_or_design), plane)


def thermal(
    model_or_design: Model | Design | str | Path,
    environment: Environment | str = "jesd51-9",
    *,
    power_w: float | None = None,
    grid: str = "default",
    **options: float,
) -> ThermalResult:
    """Junction temperatures and the environment's thermal resistance (theta-JA, -JC or -JB).

    ``environment`` is an :class:`~moldstack.analysis.environment.Environment` or its kind (``jesd51-9``,
    ``cold-plate-top``, ``ring-cold-plate``, ``custom``) with ``options`` (``ambient_c``, ``h_w_m2k``, ...).
    ``power_w`` replaces the dies' total power (shared in proportion to their ``power_w``). ``grid`` names the
    analysis grid (``coarse``, ``default``, ``fine``).
    """
    from moldstack.analysis.environment import Environment  # noqa: PLC0415
    from moldstack.analysis.thermal import thermal as solve_thermal  # noqa: PLC0415

    env = environment if isinstance(environment, Environment) else Environment(kind=environment, **options)  # type: ignore[arg-type]
    from moldstack.geometry.model_grid import GRID_PRESETS  # noqa: PLC0415

    if grid not in GRID_PRESETS:
        raise ValueError(f"grid {grid!r} is not one of {', '.join(GRID_PRESETS)}")
    return solve_thermal(_model(model_or_design), env, power_w=power_w, grid=GRID_PRESETS[grid])


def electrical(
    model_or_design: Model | Design | str | Path,
    nets: Sequence[str] | None = None,
    *,
    frequency_hz: float = 1e9,
    capacitance: bool = True,
    grid: str = "default",
    loops: Sequence[tuple[str, Sequence[str]]] = (),
) -> ElectricalResult:
    """Per-net DC resistance, partial and loop inductance, the capacitance matrix and the SPICE network.

    ``nets``: only these (default: every net). ``frequency_hz``: of the skin-effect resistance estimate.
    ``grid``: the capacitance grid (``coarse``, ``default``, ``fine``). ``loops``: (signal, returns) pairs whose
    loop inductance to report. ``result.network`` goes to :func:`moldstack.exporters.spice.write_spice`.
    """
    from moldstack.analysis.capacitance import CAPACITANCE_PRESETS  # noqa: PLC0415
    from moldstack.analysis.electrical import ElectricalSettings  # noqa: PLC0415
    from moldstack.analysis.electrical import electrical as analyse  # noqa: PLC0415

    if grid not in CAPACITANCE_PRESETS:
        raise ValueError(f"grid {grid!r} is not one of {', '.join(CAPACITANCE_PRESETS)}")
    settings = ElectricalSettings(
        frequency_hz=frequency_hz, capacitance=capacitance, capacitance_grid=CAPACITANCE_PRESETS[grid]
    )
    return analyse(_model(model_or_design), nets, settings=settings, loops=loops)


def check(
    model_or_design: Model | Design | str | Path,
    deck: RuleDeck | str | Path | None = None,
    *,
    stack: StackSettings | None = None,
    warpage: WarpageSettings | None = None,
) -> Verification:
    """Design rules (``deck``: a :class:`~moldstack.checks.rule_deck.RuleDeck`, a YAML file of overrides, or the
    shipped deck), connectivity against the intended nets (LVS) and the stack's compatibility over reflow.
    ``result.passed`` is the sign-off; each part has ``to_dict()``."""
    from moldstack.checks.rule_deck import load_deck  # noqa: PLC0415 - the checks load only when asked for
    from moldstack.checks.verification import verify  # noqa: PLC0415

    rules = deck if deck is None or not isinstance(deck, str | Path) else load_deck(deck)
    return verify(_model(model_or_design), rules, stack_settings=stack, warpage_settings=warpage)


def warpage(
    model_or_design: Model | Design | str | Path, settings: WarpageSettings | None = None
) -> WarpageResult:
    """Warpage of each package (and the substrate) over a reflow profile by classical lamination theory."""
    from moldstack.analysis.warpage import warpage as analyse  # noqa: PLC0415

    return analyse(_model(model_or_design), settings)


def dump(design: Design) -> str:
    """The design as YAML that :func:`loads` reads back into an equal design."""
    return dump_yaml(design)
