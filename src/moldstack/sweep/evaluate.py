"""One variant of a sweep, evaluated: the spec with the variant's values set, validated, built and analysed,
flattened to one row of plain JSON scalars.

:func:`evaluate_variant` is what a sweep's workers run (a top-level function of picklable arguments: the base spec
as text, the variant's values, :class:`EvalSettings`). It never raises for a bad variant: a variant whose spec
does not validate is ``invalid`` (the reason lists every problem as ``path: message``), one whose build or
analysis raises is ``failed`` (the reason names the exception). Every row of a spec has the same keys,
:func:`output_columns`, whatever happened, with None where nothing was computed.

The columns, by analysis (``NET`` each declared net, that is each net with a name of its own rather than an
automatic ``die.Cn`` one; ``PKG`` each molded package of the base spec):

- always: ``status`` (``ok`` / ``invalid`` / ``failed``), ``reason``, ``seconds`` (wall time of the evaluation);
- ``thermal`` (:func:`moldstack.analysis.thermal.thermal`, in ``thermal_environment``): ``power_w``,
  ``tj_max_c`` and the environment's resistance (``theta_ja_k_per_w`` in ``jesd51-9``, ``theta_jc_k_per_w`` on
  ``cold-plate-top``, ``theta_jb_k_per_w`` on ``ring-cold-plate``); a design without power gives ``power_w`` 0
  and no temperature;
- ``electrical`` (:func:`moldstack.analysis.electrical.electrical`, every net): ``r_dc_max_ohm``,
  ``l_partial_max_h``, with ``capacitance`` ``c_self_max_f`` (largest diagonal of the Maxwell matrix), and
  ``r_dc_NET_ohm``, ``l_partial_NET_h`` per declared net;
- ``warpage`` (:func:`moldstack.analysis.warpage.warpage` over the default reflow profile): ``warpage_max_um``
  (largest absolute diagonal warpage of any package over the profile), ``warpage_PKG_25c_um`` (at the profile's
  start, 25 C) and ``warpage_PKG_peak_um`` (at its peak, 260 C), diagonal and signed (+ convex);
- ``check`` (:func:`moldstack.checks.verification.verify`): ``drc_violations``, ``lvs_status``,
  ``stack_verdict``, ``checks_passed``.

Knows nothing of Dask, Parquet or the command line.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from moldstack.analysis.nets import declared_nets
from moldstack.api import build, loads
from moldstack.spec.errors import SpecError
from moldstack.sweep.variants import SweepInputError, apply

if TYPE_CHECKING:
    from moldstack.analysis.warpage import WarpageResult
    from moldstack.checks.verification import Verification
    from moldstack.geometry.model import Model

ANALYSES: tuple[str, ...] = ("thermal", "electrical", "warpage", "check")
STATUS_COLUMNS: tuple[str, ...] = ("status", "reason", "seconds")


@dataclass(frozen=True)
class EvalSettings:
    """What to compute for each variant, and how finely.

    ``analyses``: a subset of :data:`ANALYSES`. ``coarse``: screening grids (thermal ``GRID_PRESETS["coarse"]``,
    capacitance ``CAPACITANCE_PRESETS["screen"]``) rather than the defaults. ``capacitance``: also solve the
    capacitance matrix (one field solve per net, the slow part of the electrical analysis). ``thermal_environment``:
    an :class:`~moldstack.analysis.environment.Environment` kind.
    """

    analyses: tuple[str, ...] = ANALYSES
    coarse: bool = False
    capacitance: bool = False
    thermal_environment: str = "jesd51-9"

    def __post_init__(self) -> None:
        from moldstack.analysis.environment import ENV_KINDS  # noqa: PLC0415

        if isinstance(self.analyses, str) or not isinstance(self.analyses, tuple):
            object.__setattr__(
                self,
                "analyses",
                (self.analyses,) if isinstance(self.analyses, str) else tuple(self.analyses),
            )
        unknown = [a for a in self.analyses if a not in ANALYSES]
        if unknown or not self.analyses:
            raise SweepInputError(
                f"analyses {', '.join(map(repr, unknown)) or '(none)'}: choose one or more of {', '.join(ANALYSES)}"
            )
        if len(set(self.analyses)) != len(self.analyses):
            raise SweepInputError(f"analyses {', '.join(self.analyses)}: each analysis once")
        if self.thermal_environment not in ENV_KINDS:
            raise SweepInputError(
                f"thermal environment '{self.thermal_environment}': is not one of {', '.join(ENV_KINDS)}"
            )

    def wants(self, analysis: str) -> bool:
        return analysis in self.analyses


def _resistance_column(settings: EvalSettings) -> str:
    from moldstack.analysis.environment import Environment  # noqa: PLC0415

    return Environment(kind=settings.thermal_environment).resistance_name  # type: ignore[arg-type]


def _packages(model: Model) -> list[str]:
    return [a.name for a in model.assemblies]


def _nets(model: Model) -> list[str]:
    return declared_nets(model)


def _columns(model: Model, settings: EvalSettings) -> tuple[str, ...]:
    columns = list(STATUS_COLUMNS)
    if settings.wants("thermal"):
        columns += ["power_w", "tj_max_c", _resistance_column(settings)]
    if settings.wants("electrical"):
        columns += ["r_dc_max_ohm", "l_partial_max_h"]
        if settings.capacitance:
            columns.append("c_self_max_f")
        for net in _nets(model):
            columns += [f"r_dc_{net}_ohm", f"l_partial_{net}_h"]
    if settings.wants("warpage"):
        columns.append("warpage_max_um")
        for name in _packages(model):
            columns += [f"warpage_{name}_25c_um", f"warpage_{name}_peak_um"]
    if settings.wants("check"):
        columns += ["drc_violations", "lvs_status", "stack_verdict", "checks_passed"]
    return tuple(columns)


def _problems(exc: SpecError) -> str:
    return "; ".join(f"{p.path}: {p.message}" for p in exc.problems)


def _failure(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


@functools.lru_cache(maxsize=8)
def _base_columns(spec_text: str, settings: EvalSettings) -> tuple[str, ...]:
    try:
        model = build(loads(spec_text))
    except SpecError as exc:
        raise SweepInputError(f"base spec: {_problems(exc)}") from None
    return _columns(model, settings)


def output_columns(spec_text: str, settings: EvalSettings) -> list[str]:
    """The keys of every row :func:`evaluate_variant` returns for this base spec and these settings, in order.

    Builds the base spec once (remembered per process); raises :class:`SweepInputError` when it does not
    validate.
    """
    return list(_base_columns(spec_text, settings))


def _scalar(value: Any) -> Any:
    """A plain JSON scalar: numpy numbers to Python ones, NaN and infinity to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _thermal(model: Model, settings: EvalSettings) -> dict[str, Any]:
    from moldstack.analysis.environment import Environment  # noqa: PLC0415
    from moldstack.analysis.thermal import thermal  # noqa: PLC0415
    from moldstack.geometry.model_grid import GRID_PRESETS  # noqa: PLC0415

    power = sum(d.power_w for a in model.assemblies for d in a.dies)
    if not power > 0:
        return {"power_w": 0.0}
    env = Environment(kind=settings.thermal_environment)  # type: ignore[arg-type]
    result = thermal(model, env, grid=GRID_PRESETS["coarse" if settings.coarse else "default"])
    return {
        "power_w": result.power_w,
        "tj_max_c": result.tj_max_c,
        env.resistance_name: result.resistance_k_per_w,
    }


def _electrical(model: Model, settings: EvalSettings) -> dict[str, Any]:
    from moldstack.analysis.capacitance import CAPACITANCE_PRESETS  # noqa: PLC0415
    from moldstack.analysis.electrical import ElectricalSettings, electrical  # noqa: PLC0415

    grid = CAPACITANCE_PRESETS["screen" if settings.coarse else "default"]
    result = electrical(
        model, settings=ElectricalSettings(capacitance=settings.capacitance, capacitance_grid=grid)
    )
    out: dict[str, Any] = {
        "r_dc_max_ohm": max(n.r_dc_ohm for n in result.nets),
        "l_partial_max_h": max(n.l_partial_h for n in result.nets),
    }
    if result.capacitance is not None:
        out["c_self_max_f"] = float(np.diag(result.capacitance.maxwell_f).max())
    for n in result.nets:
        out[f"r_dc_{n.name}_ohm"] = n.r_dc_ohm
        out[f"l_partial_{n.name}_h"] = n.l_partial_h
    return out


def _warpage(result: WarpageResult) -> dict[str, Any]:
    from moldstack.analysis.warpage import PACKAGE  # noqa: PLC0415

    packages = [a for a in result.assemblies if a.kind == PACKAGE]
    out: dict[str, Any] = {
        "warpage_max_um": max(float(np.abs(a.warpage_diagonal_um).max()) for a in packages)
        if packages
        else None
    }
    for a in packages:
        w = a.warpage_diagonal_um
        out[f"warpage_{a.name}_25c_um"] = float(w[0])
        out[f"warpage_{a.name}_peak_um"] = float(w[a.peak_index])
    return out


def _check(verification: Verification) -> dict[str, Any]:
    return {
        "drc_violations": len(verification.drc.violations),
        "lvs_status": verification.lvs.status,
        "stack_verdict": verification.stack.verdict,
        "checks_passed": verification.passed,
    }


def _analyse(model: Model, settings: EvalSettings) -> tuple[dict[str, Any], list[str]]:
    """The outputs of every asked analysis, and a failure line for each that raised (the others still run)."""
    from moldstack.api import check, warpage  # noqa: PLC0415

    outputs: dict[str, Any] = {}
    failures: list[str] = []
    verification: list[Verification] = []

    def run(name: str, compute: Callable[[], dict[str, Any]]) -> None:
        try:
            outputs.update(compute())
        except Exception as exc:  # a sweep records the failure and goes on
            failures.append(f"{name}: {_failure(exc)}")

    def checks() -> dict[str, Any]:
        verification.append(check(model))
        return _check(verification[0])

    if settings.wants("check"):
        run("check", checks)
    if settings.wants("warpage"):
        run("warpage", lambda: _warpage(verification[0].warpage if verification else warpage(model)))
    if settings.wants("thermal"):
        run("thermal", lambda: _thermal(model, settings))
    if settings.wants("electrical"):
        run("electrical", lambda: _electrical(model, settings))
    return outputs, failures


def evaluate_variant(spec_text: str, values: dict[str, Any], settings: EvalSettings) -> dict[str, Any]:
    """Evaluate one variant: ``values`` (spec path -> value) set in the spec ``spec_text``, validated, built and
    analysed as ``settings`` asks; one flat row of plain JSON scalars with the keys of :func:`output_columns`.

    ``status`` is ``ok``; ``invalid`` when the variant's spec does not validate (``reason``: every problem as
    ``path: message``, joined by ``; ``); or ``failed`` when the build raised (``reason``: ``Type: first line``)
    or an analysis did (``analysis: Type: first line`` per failed analysis; the other analyses' outputs are
    kept). Never raises for a bad variant; the base spec itself must validate (see :func:`output_columns`).
    """
    t0 = time.perf_counter()
    columns = _base_columns(spec_text, settings)
    row: dict[str, Any] = dict.fromkeys(columns)
    outputs: dict[str, Any] = {}
    try:
        data = apply(yaml.safe_load(spec_text), values)
        design = loads(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    except SpecError as exc:
        row.update(status="invalid", reason=_problems(exc))
    except SweepInputError as exc:
        row.update(status="invalid", reason=str(exc))
    else:
        try:
            model = build(design)
        except SpecError as exc:
            row.update(status="invalid", reason=_problems(exc))
        except Exception as exc:  # recorded as the variant's failure
            row.update(status="failed", reason=_failure(exc))
        else:
            outputs, failures = _analyse(model, settings)
            row.update(status="failed" if failures else "ok", reason="; ".join(failures) or None)
    row.update({k: _scalar(v) for k, v in outputs.items() if k in row and k not in STATUS_COLUMNS})
    row["seconds"] = time.perf_counter() - t0
    return row


__all__ = ["ANALYSES", "EvalSettings", "evaluate_variant", "output_columns"]
