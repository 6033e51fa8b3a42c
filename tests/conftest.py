"""Shared fixtures: the bundled examples and a helper to validate a mutated copy of one."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import moldstack

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example_data(name: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / name).read_text())


def problems_of(data: dict[str, Any]) -> list[moldstack.Problem]:
    """The problems moldstack reports for spec data (empty when it validates)."""
    try:
        moldstack.loads(yaml.safe_dump(data, sort_keys=False))
    except moldstack.SpecError as exc:
        return list(exc.problems)
    return []


@pytest.fixture
def mutated() -> Callable[[str, Callable[[dict[str, Any]], None]], list[moldstack.Problem]]:
    """problems after applying ``mutate`` to a deep copy of an example's data."""

    def run(name: str, mutate: Callable[[dict[str, Any]], None]) -> list[moldstack.Problem]:
        data = copy.deepcopy(example_data(name))
        mutate(data)
        return problems_of(data)

    return run


REPORT_NETS = ("pkg/die1.C1", "pkg/die1.C2")


@pytest.fixture(scope="session")
def claim21_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """A real build folder of ``claim21_plated_via.yaml`` for the report tests, with the stage records.

    ``moldstack build`` without ``electrical`` (replaced by two nets without the capacitance matrix, with a
    loop: the capacitance is tests/test_electrical.py's) and ``step`` (the report only links it)."""
    import time  # noqa: PLC0415

    from moldstack.build_status import StageStatus  # noqa: PLC0415
    from moldstack.output import write_electrical  # noqa: PLC0415

    out = tmp_path_factory.mktemp("claim21_build")
    built = moldstack.run_build(
        EXAMPLES / "claim21_plated_via.yaml", out, moldstack.BuildOptions(skip=("electrical", "step"))
    )
    assert built.ok, built.failed
    stages = [s for s in built.stages if s.name not in ("electrical", "results", "report")]
    start = time.perf_counter()
    model = moldstack.build(moldstack.load(EXAMPLES / "claim21_plated_via.yaml"))
    result = moldstack.electrical(
        model, list(REPORT_NETS), capacitance=False, loops=[(REPORT_NETS[0], [REPORT_NETS[1]])]
    )
    files = write_electrical(result, out)
    stages.append(
        StageStatus(
            "electrical",
            "per-net R, L (two nets)",
            "ran",
            time.perf_counter() - start,
            tuple(Path(f).relative_to(out).as_posix() for f in files),
        )
    )
    return out, stages
