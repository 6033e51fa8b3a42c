"""Shared building blocks of the spec: the strict base model and the typed length aliases.

Every spec model forbids unknown keys and is frozen (a Design is a value). Lengths are micrometres
(the names end in ``_um``); the physics converts to SI.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Um = Annotated[float, Field(gt=0, allow_inf_nan=False, description="length in micrometres, > 0")]
NonNegUm = Annotated[float, Field(ge=0, allow_inf_nan=False, description="length in micrometres, >= 0")]
Coord = Annotated[float, Field(allow_inf_nan=False, description="coordinate in micrometres")]
XY = tuple[Coord, Coord]
Size2 = tuple[Um, Um]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$")]
MaterialName = Annotated[str, Field(min_length=1, max_length=64)]
Edge = Literal["north", "east", "south", "west"]
ALL_EDGES: tuple[Edge, ...] = ("north", "east", "south", "west")


class Spec(BaseModel):
    """Base of every spec model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
