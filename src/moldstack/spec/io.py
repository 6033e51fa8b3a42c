"""Reading and writing spec files: safe YAML only, bounded in size and alias expansion, with line numbers.

A spec file is small; anything that is not a bounded UTF-8 YAML mapping is refused with a clear
:class:`~moldstack.spec.errors.SpecError` before pydantic sees it. Python tags (``!!python/object``) are never
constructed (``yaml.SafeLoader``), alias bombs are caught by counting nodes with aliases expanded, and duplicate
keys are errors rather than silently overwritten.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from moldstack.spec.design import Design
from moldstack.spec.errors import Problem, SpecError, join_path, problems_from_validation

MAX_SPEC_BYTES = 2_000_000
MAX_EXPANDED_NODES = 200_000


def _node_lines(node: yaml.Node, limit: int, source: str) -> dict[str, int]:
    """Map each field path to its 1-based line, counting nodes with aliases expanded; refuse bombs and dupes."""
    lines: dict[str, int] = {}
    problems: list[Problem] = []
    count = 0
    stack: list[tuple[yaml.Node, list[str | int]]] = [(node, [])]
    while stack:
        current, path = stack.pop()
        count += 1
        if count > limit:
            raise SpecError(
                [
                    Problem(
                        source,
                        f"expands to more than {limit:,} YAML nodes (anchors and aliases multiply it); "
                        "an alias bomb or a file far larger than any package spec",
                    )
                ]
            )
        lines.setdefault(join_path(path), current.start_mark.line + 1)
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in current.value:
                key = str(key_node.value)
                if key == "<<":
                    stack.append((value_node, path))
                    continue
                if key in seen:
                    problems.append(
                        Problem(
                            join_path([*path, key]),
                            "key given twice in the same mapping",
                            key_node.start_mark.line + 1,
                        )
                    )
                seen.add(key)
                stack.append((value_node, [*path, key]))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, [*path, i]) for i, item in enumerate(current.value))
    if problems:
        raise SpecError(problems)
    return lines


def _kind(value: Any) -> str:
    kinds = {list: "a list", str: "a text string", int: "a number", float: "a number", bool: "a boolean"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def parse_yaml(text: str | bytes, source: str = "spec") -> tuple[Any, dict[str, int]]:
    """Parse YAML text safely; return the data and a field-path -> line map."""
    if isinstance(text, bytes):
        if len(text) > MAX_SPEC_BYTES:
            raise SpecError([Problem(source, f"{len(text):,} bytes is larger than {MAX_SPEC_BYTES:,} bytes")])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(
                [Problem(source, f"is not UTF-8 text (byte {exc.start}); a spec is a YAML file")]
            ) from None
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError([Problem(source, f"{len(text):,} characters is larger than {MAX_SPEC_BYTES:,}")])
    if "\x00" in text:
        raise SpecError([Problem(source, "contains NUL bytes; a spec is a YAML text file")])
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError([Problem(source, "is empty; expected a mapping with at least 'assemblies:'")])
        lines = _node_lines(node, MAX_EXPANDED_NODES, source)
        data = loader.construct_document(node)
    except RecursionError:
        raise SpecError(
            [Problem(source, "nests mappings or lists too deeply to be a package spec")]
        ) from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise SpecError(
            [Problem(source, f"{exc.problem}; only plain YAML (mappings, lists, scalars) is allowed", line)]
        ) from None
    except yaml.composer.ComposerError as exc:
        if "another document" in str(exc.problem):
            raise SpecError(
                [Problem(source, "holds several YAML documents (---); a spec is one document")]
            ) from None
        mark = exc.problem_mark
        raise SpecError(
            [Problem(source, f"is not valid YAML: {exc.problem}", mark.line + 1 if mark else None)]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError([Problem(source, f"is not valid YAML: {what}", line)]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise SpecError([Problem(source, f"the top level must be a mapping of spec keys, not {_kind(data)}")])
    return data, lines


def design_from_data(data: Any, lines: dict[str, int] | None = None) -> Design:
    """Validate plain data (types and ranges only) into a :class:`Design`."""
    try:
        return Design.model_validate(data)
    except ValidationError as exc:
        raise SpecError(problems_from_validation(exc, Design, lines)) from None


def read_spec_text(path: str | Path) -> bytes:
    """The bytes of a spec file, refusing missing, unreadable or oversized files with a clear problem."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise SpecError([Problem(str(p), "is not a file")])
        if size > MAX_SPEC_BYTES:
            raise SpecError(
                [Problem(str(p), f"is {size:,} bytes; a spec file is at most {MAX_SPEC_BYTES:,} bytes")]
            )
        return p.read_bytes()
    except FileNotFoundError:
        raise SpecError([Problem(str(p), "no such file")]) from None
    except PermissionError:
        raise SpecError([Problem(str(p), "cannot be read (permission denied)")]) from None


def parse_design(path: str | Path) -> tuple[Design, dict[str, int]]:
    """Read and type-check a spec file; semantic rules are applied by :func:`moldstack.load`."""
    data, lines = parse_yaml(read_spec_text(path), str(path))
    return design_from_data(data, lines), lines


def dump_yaml(design: Design) -> str:
    """The design as YAML (defaults included), readable back by :func:`parse_yaml` into an equal Design."""
    data = design.model_dump(mode="json", by_alias=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


def json_schema() -> str:
    """The spec's JSON Schema, for editor completion and validation."""
    schema = Design.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "moldstack design spec"
    return json.dumps(schema, indent=2)
