"""Semantic validation of a Design (placeholder until the rules land in this issue)."""

from __future__ import annotations

from collections.abc import Mapping

from moldstack.spec.design import Design
from moldstack.spec.errors import Problem


def validate(design: Design, lines: Mapping[str, int] | None = None) -> list[Problem]:
    return []
