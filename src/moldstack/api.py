"""The library's entry points: every CLI command is one of these calls.

``design = moldstack.load("pop.yaml"); model = moldstack.build(design); chart = moldstack.claims(model)``.
"""

from __future__ import annotations

from pathlib import Path

from moldstack.geometry.builder import build_model
from moldstack.geometry.model import Model
from moldstack.spec.design import Design
from moldstack.spec.errors import SpecError
from moldstack.spec.io import design_from_data, dump_yaml, parse_design, parse_yaml
from moldstack.validation import validate


def load(path: str | Path) -> Design:
    """Read, type-check and validate a spec file; raise :class:`SpecError` listing every problem."""
    design, lines = parse_design(path)
    problems = validate(design, lines)
    if problems:
        raise SpecError(problems)
    return design


def loads(text: str | bytes, source: str = "spec") -> Design:
    """Like :func:`load`, from YAML text."""
    data, lines = parse_yaml(text, source)
    design = design_from_data(data, lines)
    problems = validate(design, lines)
    if problems:
        raise SpecError(problems)
    return design


def build(design: Design | str | Path) -> Model:
    """Validate a design (or load a spec file) and build its :class:`Model`."""
    if not isinstance(design, Design):
        return build_model(load(design))
    problems = validate(design)
    if problems:
        raise SpecError(problems)
    return build_model(design)


def dump(design: Design) -> str:
    """The design as YAML that :func:`loads` reads back into an equal design."""
    return dump_yaml(design)
