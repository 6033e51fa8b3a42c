"""Spec paths and variants: where a sweep's factor lands in the spec data, and a copy of the data with it set.

A path names one value of a spec in the spec's own field names: keys joined by dots, and list items in brackets,
by index or by the item's ``name`` (``assemblies[logic].units[0].pitch_um``, ``materials.emc_own.cte_ppm_k``,
``assemblies[0].body.size_um[1]``). A mapping's key may also be given in brackets, which lets a key with a dot
in it be named (``assemblies[0].nets[die1.C1]``). A path must lead to a value the base spec holds, or to a field
of the spec model that the spec leaves at its default (``assemblies[0].dies[0].back_exposed``); it cannot create
a mapping or a list item that the spec does not have. Paths are resolved against the YAML data, walking the spec
model's classes beside it so that unset fields are known.

Holds :class:`SweepInputError` (raised for every bad sweep input: a path, a ``--vary`` text, a design request),
:func:`parse_path`, :func:`apply` and :func:`check_paths`. Knows nothing of building or analysing.
"""

from __future__ import annotations

import copy
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from moldstack.spec.design import Design

if TYPE_CHECKING:
    from moldstack.sweep.doe import Factor


class SweepInputError(ValueError):
    """A sweep input that cannot be used (a factor's text, a spec path, a design request); the message names
    the input, the part that is wrong and the rule."""


_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_\-]*)|\[([^\[\]]+)\]")


@dataclass(frozen=True)
class Step:
    """One step of a path: a mapping key (``kind == "key"``) or a bracketed list item or key (``"item"``)."""

    kind: Literal["key", "item"]
    text: str

    def __str__(self) -> str:
        return f".{self.text}" if self.kind == "key" else f"[{self.text}]"


def parse_path(path: str) -> tuple[Step, ...]:
    """The steps of a spec path; raise :class:`SweepInputError` naming the path and the first character that is
    not part of one (``assemblies[0].units[0].pitch_um`` -> key, item, key, item, key)."""
    text = path.strip()
    if not text:
        raise SweepInputError("spec path is empty; give one like assemblies[0].body.thickness_um")
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        first_without_dot = pos == 0 and match is not None and text[0] != "." and match.group(1) is not None
        later_with_dot_or_bracket = pos > 0 and match is not None and text[pos] in ".["
        if match is None or not (first_without_dot or later_with_dot_or_bracket):
            raise SweepInputError(
                f"spec path '{path}': cannot read it from character {pos + 1} ('{text[pos:]}'); give keys joined "
                "by dots and list items in brackets, e.g. assemblies[0].units[0].pitch_um"
            )
        key, item = match.group(1), match.group(2)
        steps.append(Step("key", key) if key is not None else Step("item", item.strip()))
        pos = match.end()
    return tuple(steps)


def _shown(steps: Sequence[Step]) -> str:
    return "".join(str(s) for s in steps).lstrip(".") or "the spec"


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional so the structural type is left."""
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType) and type(None) in get_args(tp):
            members = [a for a in get_args(tp) if a is not type(None)]
            tp = members[0] if len(members) == 1 else Union[tuple(members)]  # noqa: UP007 - built at run time
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _model_for(tp: Any, data: Any) -> type[BaseModel] | None:
    """The spec model class that describes ``data`` (a mapping) where the spec's type is ``tp``: the class
    itself, or the member of a union whose tag fields match and whose fields hold every key given."""
    tp = _unwrap(tp)
    if _is_model(tp):
        return tp
    if get_origin(tp) not in (Union, types.UnionType) or not isinstance(data, Mapping):
        return None
    for member in get_args(tp):
        cls = _unwrap(member)
        if not _is_model(cls):
            continue
        fields = cls.model_fields
        if not set(data) <= set(fields):
            continue
        tags_match = all(
            data[name] in get_args(_unwrap(f.annotation))
            for name, f in fields.items()
            if name in data and get_origin(_unwrap(f.annotation)) is Literal
        )
        if tags_match:
            return cls
    return None


def _child_type(tp: Any, data: Any, key: str | int) -> Any:
    """The spec type of ``data[key]`` where ``data`` has type ``tp`` (None when unknown)."""
    tp = _unwrap(tp)
    if isinstance(data, Mapping):
        cls = _model_for(tp, data)
        if cls is not None:
            field = cls.model_fields.get(str(key))
            return field.annotation if field is not None else None
        if get_origin(tp) is dict:
            return get_args(tp)[1]
        return None
    if get_origin(tp) in (list, tuple):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        if get_origin(tp) is tuple and len(args) > 1 and isinstance(key, int) and key < len(args):
            return args[key]
        return args[0] if args else None
    return None


def _default_name(tp: Any) -> str | None:
    """The default of the ``name`` field of the list items of type ``tp`` (an assembly is ``pkg`` unnamed)."""
    args = get_args(_unwrap(tp))
    cls = _unwrap(args[0]) if args else None
    if not _is_model(cls) or "name" not in cls.model_fields:
        return None
    default = cls.model_fields["name"].default
    return default if isinstance(default, str) else None


def _listing(words: Iterable[str], limit: int = 24) -> str:
    items = list(words)
    shown = ", ".join(items[:limit])
    return shown + (f" ... ({len(items)} in all)" if len(items) > limit else "")


@dataclass(frozen=True)
class _Target:
    """Where a path lands: the container, the key or index in it, and whether the value is set there now."""

    container: dict[str, Any] | list[Any]
    key: str | int
    present: bool


def _item_index(node: list[Any], step: Step, tp: Any, path: str, where: Sequence[Step]) -> int:
    """The index a bracketed step names in a list: a whole number, or the ``name`` of one item."""
    text = step.text
    if re.fullmatch(r"[+-]?\d+", text):
        index = int(text)
        if not 0 <= index < len(node):
            span = f"0-{len(node) - 1}" if node else "none: the list is empty"
            raise SweepInputError(
                f"spec path '{path}': {_shown(where)} has {len(node)} item{'s' if len(node) != 1 else ''}; "
                f"index {text} is not one of them (indices: {span})"
            )
        return index
    default = _default_name(tp)
    names = [(item.get("name", default) if isinstance(item, Mapping) else None) for item in node]
    found = [i for i, name in enumerate(names) if name == text]
    known = [str(n) for n in names if n is not None]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise SweepInputError(
            f"spec path '{path}': {_shown(where)} has {len(found)} items named '{text}'; give an index instead"
        )
    hint = (
        f"names here: {_listing(known)}; or an index 0-{len(node) - 1}"
        if known
        else (f"its items have no names; give an index 0-{len(node) - 1}")
    )
    raise SweepInputError(f"spec path '{path}': no item named '{text}' in {_shown(where)} ({hint})")


def _locate(data: Mapping[str, Any], path: str) -> _Target:
    """Follow ``path`` through the spec data (and the spec model beside it) to the place its value goes."""
    steps = parse_path(path)
    node: Any = data
    tp: Any = Design
    for i, step in enumerate(steps):
        where = steps[:i]
        last = i == len(steps) - 1
        if isinstance(node, dict):
            key = step.text
            cls = _model_for(tp, node)
            fields = [] if cls is None else [f for f in cls.model_fields if f not in node]
            if key in node:
                if last:
                    return _Target(node, key, present=True)
            elif last and key in fields:
                return _Target(node, key, present=False)
            else:
                unset = f"; fields left at their defaults: {_listing(fields)}" if fields else ""
                not_here = (
                    f"'{key}' is a field of {_shown(where)} but not set in the spec, and a sweep sets only "
                    "values, not whole mappings or lists; set it in the base spec first"
                    if key in fields
                    else f"no '{key}' in {_shown(where)}"
                )
                raise SweepInputError(f"spec path '{path}': {not_here} (keys here: {_listing(node)}{unset})")
            tp = _child_type(tp, node, key)
            node = node[key]
        elif isinstance(node, list):
            if step.kind == "key":
                raise SweepInputError(
                    f"spec path '{path}': {_shown(where)} is a list; give an index or an item's name in "
                    f"brackets ({_shown(where)}[0]), not .{step.text}"
                )
            index = _item_index(node, step, tp, path, where)
            if last:
                return _Target(node, index, present=True)
            tp = _child_type(tp, node, index)
            node = node[index]
        else:
            raise SweepInputError(
                f"spec path '{path}': {_shown(where)} is the value {node!r}, not a mapping or a list, so it has "
                f"no {str(step).lstrip('.')}"
            )
    raise SweepInputError(f"spec path '{path}': names no value")  # unreachable: parse_path gives >= 1 step


def _check_target(target: _Target, path: str) -> None:
    """Refuse a path that lands on a whole mapping or list: a sweep varies one value at a time."""
    if not target.present:
        return
    value = target.container[target.key]  # type: ignore[index]
    if isinstance(value, dict):
        raise SweepInputError(
            f"spec path '{path}': holds a mapping (keys: {_listing(value)}); name one of its values"
        )
    if isinstance(value, list):
        raise SweepInputError(
            f"spec path '{path}': holds a list of {len(value)}; name one item, e.g. {path}[0]"
        )


def check_paths(data: Mapping[str, Any], factors: Iterable[Factor | str]) -> None:
    """Check that every factor's path (or every path given as text) names one value of the spec ``data``.

    Raises one :class:`SweepInputError` listing every bad path (each with where it stopped and what is there),
    before any variant is evaluated.
    """
    problems: list[str] = []
    seen: set[str] = set()
    for factor in factors:
        path = factor if isinstance(factor, str) else factor.path
        if path in seen:
            problems.append(f"spec path '{path}': varied twice; give each path once")
            continue
        seen.add(path)
        try:
            _check_target(_locate(data, path), path)
        except SweepInputError as exc:
            problems.append(str(exc))
    if problems:
        raise SweepInputError("; ".join(problems))


def _unshared(value: Any) -> Any:
    """A copy of YAML data in which no mapping or list is shared: a YAML alias (``*unit``) loads as the same
    object in several places, and setting a value in one of them must not set it in the others."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    return copy.deepcopy(value)


def apply(data: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of the spec ``data`` (YAML loaded) with the value at each path of ``values`` set.

    ``data`` is not changed, and a mapping the YAML shares through an alias is copied for each place it appears,
    so only the path named changes. A path that names no value of the spec raises :class:`SweepInputError` naming the
    path, where it stopped and the keys or names available there.
    """
    out = _unshared(dict(data))
    for path, value in values.items():
        target = _locate(out, path)
        _check_target(target, path)
        target.container[target.key] = value  # type: ignore[index]
    return out


__all__ = ["Step", "SweepInputError", "apply", "check_paths", "parse_path"]
