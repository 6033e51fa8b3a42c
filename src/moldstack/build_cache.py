"""What a build's outputs depend on, and the record of the last build kept in the output folder.

Each stage of a build reads some *facets* of its inputs: the geometry (every solid's shape, material name, role,
part and net, the placed assemblies without their power, the joints and interfaces), the appearance (the
materials' colours), the thermal, electrical or mechanical properties of the materials the model uses, the dies'
power, the design (the spec itself, without the power and the user materials' values: the claimed process and
the claim chart read it), and options (a rule deck). A stage's *key* is a SHA-256 over moldstack's version and
code, the stage's name and the digests of the facets it reads, so a change re-runs only the stages that read
what changed: a die's power re-runs the thermal analysis, a compound's CTE the warpage and stack check, a unit's
pitch everything built from the geometry.

The record (``OUT/.moldstack/build.json``) holds, per stage, its key, its state and figures, and the SHA-256 of
every file it wrote. A stage is taken from it when its key is the same and every file is still there with the
same content; otherwise it runs again. The record is rewritten (atomically) after every stage, so a build that
is interrupted keeps what finished.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moldstack.build_status import StageStatus
from moldstack.output import jsonable, write_json

if TYPE_CHECKING:
    from moldstack.geometry.model import Model
    from moldstack.spec.design import Design

RECORD_DIR = ".moldstack"
RECORD_NAME = "build.json"
RECORD_FORMAT = 1
REUSABLE_STATES = frozenset({"ran", "cached", "not applicable"})  # a failed stage always runs again

# the material properties each facet reads (names of moldstack.materials.Material fields)
MATERIAL_FACETS: dict[str, tuple[str, ...]] = {
    "appearance": ("colour",),
    "melting": ("melting_c",),
    "thermal": ("k_w_mk",),
    "electrical": ("conductor", "resistivity_ohm_m", "eps_r"),
    "mechanical": (
        "cte_ppm_k",
        "cte_above_tg_ppm_k",
        "tg_c",
        "youngs_gpa",
        "youngs_above_tg_gpa",
        "poisson",
        "melting_c",
        "density_kg_m3",
    ),
}
FACETS: tuple[str, ...] = ("geometry", "power", "design", *MATERIAL_FACETS)


def digest(value: Any) -> str:
    """SHA-256 (hex) of ``value`` as canonical JSON (sorted keys, numpy values as numbers)."""
    text = json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@cache
def code_version() -> str:
    """moldstack's version and a digest of its own source files (so a changed installation is a new version)."""
    import moldstack  # noqa: PLC0415 - the package itself

    root = Path(moldstack.__file__).parent
    h = hashlib.sha256(moldstack.__version__.encode())
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".nbi", ".nbc"}:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return f"{moldstack.__version__}+{h.hexdigest()[:12]}"


def _without_power(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_power(v) for k, v in value.items() if k != "power_w"}
    if isinstance(value, list | tuple):
        return [_without_power(v) for v in value]
    return value


def _design_structure(design: Design) -> Any:
    """The spec without the dies' power and the user materials' values: those reach a stage through the
    ``power`` facet and the material facets, so changing them re-runs only the stages that read them."""
    data = design.model_dump(mode="json")
    data.pop("materials", None)
    return _without_power(data)


def _asdict(value: Any) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value


def facet_digests(model: Model, design: Design | None = None) -> dict[str, str]:
    """The digest of each facet of a build's inputs (see the module docstring)."""
    from moldstack.materials import library_with  # noqa: PLC0415

    geometry = {
        "name": model.name,
        "solids": [s.to_dict() for s in model.solids],
        "assemblies": _without_power([_asdict(a) for a in model.assemblies]),
        "joints": [_asdict(j) for j in model.joints],
        "interfaces": [i.to_dict() for i in model.interfaces],
        "substrate": model.substrate_part,
    }
    power = [[a.name, d.name, d.power_w] for a in model.assemblies for d in a.dies]
    library = library_with(model.materials)
    used = sorted({s.material for s in model.solids})
    out = {
        "geometry": digest(geometry),
        "power": digest(power),
        "design": digest(_design_structure(design) if design is not None else geometry),
    }
    for facet, fields in MATERIAL_FACETS.items():
        props = {name: {f: getattr(library[name], f) for f in fields} for name in used if name in library}
        out[facet] = digest(props)
    return out


def stage_key(name: str, facets: Iterable[str], digests: Mapping[str, str], options: Any = None) -> str:
    """The key of stage ``name`` reading ``facets`` (their ``digests``) with ``options``."""
    return digest(
        {
            "version": code_version(),
            "stage": name,
            "facets": {f: digests[f] for f in sorted(facets)},
            "options": options,
        }
    )


@dataclass
class StageRecord:
    """A stage as the last build left it: its key, status and the digest of each file (relative path)."""

    key: str
    status: StageStatus
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "status": self.status.to_dict(), "files": dict(self.files)}


@dataclass
class BuildRecord:
    """The record of the builds into one output folder (``OUT/.moldstack/build.json``)."""

    out_dir: Path
    stages: dict[str, StageRecord] = field(default_factory=dict)
    spec: str = ""

    @property
    def path(self) -> Path:
        return self.out_dir / RECORD_DIR / RECORD_NAME

    @classmethod
    def load(cls, out_dir: Path) -> BuildRecord:
        """The folder's record; an empty one where there is none or it cannot be read (then nothing is reused)."""
        record = cls(out_dir)
        try:
            data = json.loads(record.path.read_text(encoding="utf-8"))
            if data.get("format") != RECORD_FORMAT:
                return record
            record.spec = str(data.get("spec", ""))
            for name, entry in data.get("stages", {}).items():
                record.stages[name] = StageRecord(
                    str(entry["key"]), StageStatus.from_dict(entry["status"]), dict(entry.get("files", {}))
                )
        except (OSError, ValueError, KeyError, TypeError):
            return cls(out_dir)
        return record

    def save(self) -> None:
        """Write the record atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json(
            self.path,
            {
                "format": RECORD_FORMAT,
                "version": code_version(),
                "spec": self.spec,
                "stages": {name: entry.to_dict() for name, entry in self.stages.items()},
            },
        )

    def reusable(self, name: str, key: str) -> StageStatus | None:
        """The stage's status if the last build made it with the same key and its files are all unchanged."""
        entry = self.stages.get(name)
        if entry is None or entry.key != key or entry.status.state not in REUSABLE_STATES:
            return None
        for rel, expected in entry.files.items():
            path = self.out_dir / rel
            try:
                if file_digest(path) != expected:
                    return None
            except OSError:
                return None
        return entry.status

    def put(self, name: str, key: str, status: StageStatus) -> None:
        """Record what a stage did now (the digests of its files are taken here)."""
        files = {rel: file_digest(self.out_dir / rel) for rel in status.files} if status.done else {}
        self.stages[name] = StageRecord(key, status, files)

    def stale_files(self, name: str, keep: Iterable[str]) -> list[str]:
        """Files the stage wrote last time that it did not write now (relative paths)."""
        entry = self.stages.get(name)
        if entry is None:
            return []
        kept = set(keep)
        return [rel for rel in entry.files if rel not in kept]


__all__ = [
    "FACETS",
    "MATERIAL_FACETS",
    "BuildRecord",
    "StageRecord",
    "code_version",
    "digest",
    "facet_digests",
    "file_digest",
    "stage_key",
]
