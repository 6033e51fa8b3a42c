"""What became of each stage of a build: the record the summary, ``results.json`` and the report read.

A stage ``ran`` (its outputs were written this time), was taken from the ``cached`` outputs of an earlier build
with the same inputs, ``failed`` (``error`` says why, in one line; the other stages went on), was ``skipped`` by
the user, or is ``not applicable`` to the design (``error`` says why, e.g. the claimed method cannot make it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

StageState = Literal["ran", "cached", "failed", "skipped", "not applicable"]
DONE_STATES: frozenset[str] = frozenset({"ran", "cached"})


@dataclass(frozen=True)
class StageStatus:
    """One stage of a build: its name, what it makes, what became of it, its files (relative to the output
    folder, ``/``-separated), how long it took and its key figures (``summary``, plain JSON data)."""

    name: str
    description: str
    state: StageState
    seconds: float = 0.0
    files: tuple[str, ...] = ()
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """Whether the stage's outputs are in the folder (run now or kept from the cache)."""
        return self.state in DONE_STATES

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "state": self.state,
            "seconds": self.seconds,
            "files": list(self.files),
            "error": self.error,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageStatus:
        return cls(
            name=str(data["name"]),
            description=str(data.get("description", "")),
            state=data["state"],
            seconds=float(data.get("seconds", 0.0)),
            files=tuple(data.get("files", ())),
            error=data.get("error"),
            summary=dict(data.get("summary") or {}),
        )


__all__ = ["DONE_STATES", "StageState", "StageStatus"]
