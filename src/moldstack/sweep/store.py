"""The results of a design sweep on disk: a Parquet dataset folder written part by part as variants finish.

Layout of ``results.parquet/`` (the name the user gives)::

    results.parquet/
        _sweep.json          the sweep's identity: spec SHA-256, factors, design, settings, every variant with its id
        part-00000.parquet   one flushed batch of finished variants, one row group
        part-00001.parquet
        ...

Each part is written under a hidden temporary name (``.part-NNNNN.parquet.tmp``), synced and renamed into place,
so a sweep killed at any moment leaves only whole parts; readers (``pyarrow.parquet.read_table(folder)``,
``pyarrow.dataset.dataset(folder)``, pandas) skip names starting with ``.`` or ``_``, so they read every part as
one table and never the identity file. Every part has the same schema: ``variant`` (int64), one input column per
factor path (named by the path), the output columns, ``status``, ``reason``, ``seconds``, ``worker`` and
``finished_at`` (UTC timestamp). An output column's type is fixed by its first non-null value (a number is
float64, a flag bool, anything else a string); parts written while a column was still all-null are rewritten
with the type once it is known, so the parts never disagree.

It knows pyarrow and the sweep's rows as flat dicts; nothing of Dask, the spec or the analyses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from moldstack.output import write_json

IDENTITY_NAME = "_sweep.json"
PART_PATTERN = re.compile(r"^part-(\d{5,})\.parquet$")
FLUSH_ROWS = 16
"""Flush a part once this many results wait ..."""
FLUSH_SECONDS = 5.0
"""... or once the oldest waiting result is this old."""
STATUS_COLUMNS = ("status", "reason", "seconds", "worker", "finished_at")
IDENTITY_KEYS = ("spec_sha256", "factors", "design", "samples", "seed", "settings", "variants")
"""What must agree between a stored sweep and the asked one for ``resume`` (the moldstack version need not)."""


class SweepStoreError(ValueError):
    """The results folder cannot be used as asked (exists without --resume/--force, or belongs to another sweep)."""


def spec_sha256(spec_text: str) -> str:
    """The SHA-256 of the spec text (UTF-8), hex."""
    return hashlib.sha256(spec_text.encode("utf-8")).hexdigest()


def _value_type(value: Any) -> pa.DataType | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int | float):
        return pa.float64()
    return pa.string()


def input_type(values: Iterable[Any]) -> pa.DataType:
    """The column type of a factor's values: int64 (all integers), float64 (numbers), bool, else string."""
    seen = [v for v in values if v is not None]
    if seen and all(isinstance(v, bool) for v in seen):
        return pa.bool_()
    if seen and all(isinstance(v, int) and not isinstance(v, bool) for v in seen):
        return pa.int64()
    if seen and all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen):
        return pa.float64()
    return pa.string()


def _coerce(value: Any, kind: pa.DataType) -> Any:
    """``value`` as the column type holds it; a value that does not fit becomes null (numbers) or its text."""
    if value is None:
        return None
    if pa.types.is_string(kind):
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, list | dict)
            else str(value)
        )
    if pa.types.is_boolean(kind):
        return bool(value) if isinstance(value, bool | int) else None
    if pa.types.is_integer(kind):
        return int(value) if isinstance(value, int | float) and float(value).is_integer() else None
    if pa.types.is_floating(kind):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return value


def _type_name(kind: pa.DataType) -> str:
    return str(kind)


def _type_from_name(name: str) -> pa.DataType:
    return {
        "int64": pa.int64(),
        "double": pa.float64(),
        "bool": pa.bool_(),
        "string": pa.string(),
        "null": pa.null(),
    }[name]


def _write_part(table: pa.Table, target: Path) -> None:
    """Write ``table`` as one row group to ``target`` atomically (hidden temporary, fsync, rename)."""
    temp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, temp, row_group_size=max(1, table.num_rows))
    fd = os.open(temp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    temp.replace(target)


def read_identity(folder: str | Path) -> dict[str, Any] | None:
    """The identity stored in a results folder, or None where there is none."""
    path = Path(folder) / IDENTITY_NAME
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def part_paths(folder: str | Path) -> list[Path]:
    """The whole parts of a results folder, in order."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if PART_PATTERN.match(p.name))


def read_results(folder: str | Path) -> pa.Table:
    """Every stored row of a results folder as one table (an empty table where nothing is stored yet)."""
    parts = part_paths(folder)
    if not parts:
        return pa.table({"variant": pa.array([], pa.int64())})
    return pq.read_table(Path(folder))


def stored_variants(folder: str | Path) -> list[int]:
    """The variant ids already stored in a results folder."""
    parts = part_paths(folder)
    if not parts:
        return []
    return [int(v) for v in pq.read_table(Path(folder), columns=["variant"]).column("variant").to_pylist()]


def _differences(stored: Mapping[str, Any], asked: Mapping[str, Any]) -> list[str]:
    return [
        key
        for key in IDENTITY_KEYS
        if json.dumps(stored.get(key), sort_keys=True) != json.dumps(asked.get(key), sort_keys=True)
    ]


class ResultStore:
    """Appends finished variants to a results folder in whole Parquet parts (see the module docstring).

    ``identity`` describes the sweep (``spec_sha256``, ``factors``, ``design``, ``samples``, ``seed``, ``settings``,
    ``variants`` as ``[{"variant": id, "values": {...}}]`` and ``moldstack``); ``inputs`` names the factor paths and
    ``outputs`` the output columns, in the order they become columns. Opening with ``resume`` keeps the stored
    parts (the identity must agree, else :class:`SweepStoreError`); with ``force`` an existing folder's parts
    are removed; without either an existing non-empty folder is refused.
    """

    def __init__(
        self,
        folder: str | Path,
        identity: Mapping[str, Any],
        inputs: Sequence[str],
        outputs: Sequence[str],
        *,
        resume: bool = False,
        force: bool = False,
        flush_rows: int = FLUSH_ROWS,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.folder = Path(folder)
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._pending: list[dict[str, Any]] = []
        self._pending_since: float | None = None
        self.rows_written = 0
        self.parts_written = 0
        self._open(identity, resume=resume, force=force)
        variants = identity.get("variants") or []
        types: dict[str, pa.DataType] = {"variant": pa.int64()}
        for path in inputs:
            types[path] = input_type(v["values"].get(path) for v in variants)
        known = self._stored_types()
        for name in outputs:
            if name not in types and name not in STATUS_COLUMNS:
                types[name] = known.get(name, pa.null())
        for (
            name,
            kind,
        ) in known.items():  # a column an earlier run learned and this run's outputs did not name
            types.setdefault(name, kind)
        types |= {
            "status": pa.string(),
            "reason": pa.string(),
            "seconds": pa.float64(),
            "worker": pa.string(),
            "finished_at": pa.timestamp("us", tz="UTC"),
        }
        self._types = types
        self.done = set(stored_variants(self.folder))
        self._next_part = self._next_index()

    # --- opening ------------------------------------------------------------------------------------------

    def _open(self, identity: Mapping[str, Any], *, resume: bool, force: bool) -> None:
        folder = self.folder
        if folder.exists() and not folder.is_dir():
            raise SweepStoreError(
                f"{folder}: is a file; give a folder name for the results (e.g. results.parquet)"
            )
        stored = read_identity(folder)
        occupied = folder.is_dir() and any(folder.iterdir())
        if resume:
            if stored is None:
                if part_paths(folder):
                    raise SweepStoreError(f"{folder}: holds results but no {IDENTITY_NAME}; cannot resume it")
            else:
                differ = _differences(stored, identity)
                if differ:
                    raise SweepStoreError(
                        f"--resume {folder}: the stored sweep differs from the asked one in "
                        f"{', '.join(differ)}; run it with the same spec and options, or start anew with --force"
                    )
        elif occupied:
            if not force:
                raise SweepStoreError(
                    f"{folder}: already holds results; pass --resume to complete that sweep or --force to "
                    "start anew (its parts are removed)"
                )
            for path in folder.iterdir():
                if path.is_file() and (
                    PART_PATTERN.match(path.name) or path.name.endswith(".tmp") or path.name == IDENTITY_NAME
                ):
                    path.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for leftover in folder.glob(".part-*.tmp"):  # what a killed writer left: never a whole part
            leftover.unlink()
        document = dict(identity) | {"created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        if resume and stored is not None:
            document = dict(stored) | {"resumed": document["created"]}
        document["column_types"] = (stored or {}).get("column_types", {}) if resume else {}
        self._identity = document
        write_json(folder / IDENTITY_NAME, document)

    def _stored_types(self) -> dict[str, pa.DataType]:
        parts = part_paths(self.folder)
        if not parts:
            return {}
        schema = pq.read_schema(parts[0])
        return {f.name: f.type for f in schema if f.name not in STATUS_COLUMNS and f.name != "variant"}

    def _next_index(self) -> int:
        numbers = [int(PART_PATTERN.match(p.name).group(1)) for p in part_paths(self.folder)]  # type: ignore[union-attr]
        return max(numbers, default=-1) + 1

    # --- writing ------------------------------------------------------------------------------------------

    @property
    def schema(self) -> pa.Schema:
        """The schema every part is written with (null type for a column not yet seen with a value)."""
        names = [n for n in self._types if n not in STATUS_COLUMNS] + list(STATUS_COLUMNS)
        return pa.schema([pa.field(name, self._types[name]) for name in names])

    def add(self, row: Mapping[str, Any]) -> bool:
        """Queue one finished variant (a flat dict with ``variant`` and any of the columns); True when this
        flushed a part. A variant already stored is ignored (a task that ran twice)."""
        variant = int(row["variant"])
        if variant in self.done:
            return False
        self.done.add(variant)
        self._pending.append(dict(row))
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        return self.flush_if_due()

    def flush_if_due(self) -> bool:
        """Flush when enough rows wait or the oldest has waited long enough; True when a part was written."""
        if not self._pending:
            return False
        waited = time.monotonic() - (self._pending_since or time.monotonic())
        if len(self._pending) >= self.flush_rows or waited >= self.flush_seconds:
            self.flush()
            return True
        return False

    def _learn_types(self, rows: Sequence[Mapping[str, Any]]) -> None:
        learned: dict[str, pa.DataType] = {}
        for row in rows:
            for name, value in row.items():
                if name not in self._types:
                    self._types[name] = pa.null()
                if pa.types.is_null(self._types[name]) and name not in learned:
                    kind = _value_type(value)
                    if kind is not None:
                        learned[name] = kind
        if not learned:
            return
        self._types |= learned
        for part in part_paths(self.folder):  # earlier parts hold these columns all-null: give them the type
            table = pq.read_table(part)
            names = set(table.column_names)
            columns = [
                table.column(f.name).cast(f.type) if f.name in names else pa.nulls(table.num_rows, f.type)
                for f in self.schema
            ]
            _write_part(pa.table(columns, schema=self.schema), part)
        self._identity["column_types"] = {k: _type_name(v) for k, v in self._types.items()}
        write_json(self.folder / IDENTITY_NAME, self._identity)

    def flush(self) -> Path | None:
        """Write the waiting rows as the next part; the path, or None when nothing waited."""
        rows, self._pending, self._pending_since = self._pending, [], None
        if not rows:
            return None
        self._learn_types(rows)
        now = dt.datetime.now(dt.UTC)
        columns = {}
        for name, kind in zip(self.schema.names, self.schema.types, strict=True):
            if name == "finished_at":
                values = [row.get(name) or now for row in rows]
            else:
                values = [_coerce(row.get(name), kind) for row in rows]
            columns[name] = pa.array(values, type=kind)
        target = self.folder / f"part-{self._next_part:05d}.parquet"
        _write_part(pa.table(columns, schema=self.schema), target)
        self._next_part += 1
        self.rows_written += len(rows)
        self.parts_written += 1
        return target

    def close(self) -> None:
        """Flush what waits."""
        self.flush()

    @property
    def pending(self) -> int:
        """Rows queued but not yet written."""
        return len(self._pending)


__all__ = [
    "FLUSH_ROWS",
    "FLUSH_SECONDS",
    "IDENTITY_NAME",
    "ResultStore",
    "SweepStoreError",
    "part_paths",
    "read_identity",
    "read_results",
    "spec_sha256",
    "stored_variants",
]
