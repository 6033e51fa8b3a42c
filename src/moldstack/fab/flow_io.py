"""Flows as YAML: read a flow file safely (the spec's YAML guards and readable errors) and write one back.

A flow written by :func:`dump_flow` reads back (:func:`loads_flow`) into an equal :class:`Flow`, so a user can
take the generated flow (``moldstack process`` writes it as ``flow.yaml``), edit it and run it again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from moldstack.fab.steps import Flow
from moldstack.spec.errors import SpecError, problems_from_validation
from moldstack.spec.io import parse_yaml, read_spec_text


def flow_from_data(data: Any, lines: dict[str, int] | None = None) -> Flow:
    """Validate plain data into a :class:`Flow` (every problem at its path, with its line)."""
    try:
        return Flow.model_validate(data)
    except ValidationError as exc:
        raise SpecError(problems_from_validation(exc, Flow, lines)) from None


def loads_flow(text: str | bytes, source: str = "flow") -> Flow:
    """A flow from YAML text."""
    data, lines = parse_yaml(text, source)
    return flow_from_data(data, lines)


def load_flow(path: str | Path) -> Flow:
    """A flow from a YAML file."""
    return loads_flow(read_spec_text(path), str(path))


def dump_flow(flow: Flow) -> str:
    """The flow as YAML (defaults written out, so every parameter is visible for editing)."""
    data = flow.model_dump(mode="json")
    header = (
        f"# moldstack process flow '{flow.name}' (claims 21-23): edit the steps and run it with\n"
        f"#   moldstack process SPEC --flow THIS_FILE -o OUT\n"
        "# Lengths in um, temperatures in C, times in minutes. z = 0 is the top of the first sacrificial layer.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


__all__ = ["dump_flow", "flow_from_data", "load_flow", "loads_flow"]
