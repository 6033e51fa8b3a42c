"""Readable spec problems: every message names the field path, the value and the rule it broke.

Holds :class:`Problem`, :class:`SpecError` (all problems of a spec at once), the did-you-mean helper and the
translation of pydantic's errors into field paths a user recognises (``assemblies[0].units[2].unit.diameter_um``),
with the discriminator tags pydantic inserts removed and the YAML line added when known.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec: where (a field path), and what (value and rule, in words)."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "line": self.line}


class SpecError(ValueError):
    """A spec that cannot be used; ``problems`` lists every problem found, not only the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the spec"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` did you mean 'x'?`` when a candidate is close to ``word``, else an empty string."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def join_path(parts: Sequence[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "spec"


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional so the structural type is left."""
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _union_member(tp: Any, tag: str) -> Any | None:
    """The member of a (tagged) union that ``tag`` selects, or None."""
    for member in get_args(tp):
        meta = get_args(member)[1:] if get_origin(member) is typing.Annotated else ()
        for m in meta:
            if getattr(m, "tag", None) == tag:
                return get_args(member)[0]
        cls = _unwrap(member)
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            for field in cls.model_fields.values():
                if get_origin(field.annotation) is typing.Literal and tag in get_args(field.annotation):
                    return cls
    return None


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def walk_loc(root: type[BaseModel], loc: Sequence[str | int]) -> tuple[list[str | int], Any]:
    """Follow a pydantic error location through the model classes.

    Returns the user-facing path (union tags removed) and the type at the parent of the last element
    (a model class when the last element is a key of that model), used for did-you-mean suggestions.
    """
    path: list[str | int] = []
    tp: Any = root
    parent: Any = None
    for element in loc:
        tp = _unwrap(tp)
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            member = _union_member(tp, str(element))
            if member is not None:
                tp = member
                continue
            tp = None
        parent = tp
        if _is_model(tp):
            fields = tp.model_fields
            name = next((n for n, f in fields.items() if element in (n, f.alias)), None)
            path.append(element)
            tp = fields[name].annotation if name else None
        elif origin in (list, tuple) and isinstance(element, int):
            path.append(element)
            args = get_args(tp)
            tp = args[0] if args else None
        elif origin is dict:
            path.append(str(element))
            tp = get_args(tp)[1]
        else:
            path.append(element)
            tp = None
    return path, parent


def _literal_options(parent: Any, key: Any) -> list[str]:
    if not _is_model(parent):
        return []
    field = parent.model_fields.get(str(key))
    if field is None:
        return []
    tp = _unwrap(field.annotation)
    if get_origin(tp) is list:
        tp = _unwrap(get_args(tp)[0])
    return [str(a) for a in get_args(tp)] if get_origin(tp) is typing.Literal else []


def _describe_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problems_from_validation(
    error: ValidationError, root: type[BaseModel], lines: Mapping[str, int] | None = None
) -> list[Problem]:
    """Translate pydantic's errors into :class:`Problem` values with clean paths and did-you-mean hints."""
    problems: list[Problem] = []
    for err in error.errors(include_url=False):
        path_parts, parent = walk_loc(root, err["loc"])
        kind = err["type"]
        value = err.get("input")
        last = path_parts[-1] if path_parts else None
        if kind == "extra_forbidden":
            allowed = sorted(parent.model_fields) if _is_model(parent) else []
            hint = did_you_mean(str(last), allowed)
            listing = f" (allowed here: {', '.join(allowed)})" if allowed and not hint else ""
            message = f"unknown key '{last}'{hint}{listing}"
        elif kind == "missing":
            message = "is required but missing"
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            ctx = err.get("ctx", {})
            expected = str(ctx.get("expected_tags", ""))
            tag = ctx.get("tag", "")
            options = [t.strip().strip("'") for t in expected.split(",") if t.strip()]
            key = ctx.get("discriminator", "").strip("'")
            if kind == "union_tag_not_found":
                message = f"needs '{key}' (one of {expected})"
            else:
                message = f"{key} {tag!r} is not one of {expected}{did_you_mean(str(tag), options)}"
        elif kind == "literal_error":
            options = _literal_options(parent, last)
            hint = did_you_mean(str(value), options)
            message = f"{_describe_value(value)} is not allowed; must be one of {', '.join(options)}{hint}"
        else:
            rule = err["msg"].replace("Input should be", "must be").replace("Value error, ", "")
            message = f"{_describe_value(value)}: {rule}"
        path = join_path(path_parts)
        problems.append(Problem(path, message, (lines or {}).get(path)))
    return problems
