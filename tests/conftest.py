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
