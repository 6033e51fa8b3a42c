"""Thermal environments: where the heat goes, as data (JEDEC-like test conditions and a user-defined one).

- ``jesd51-9``: still air on a 2s2p test board (:mod:`~moldstack.analysis.board`), the package soldered to it
  (:mod:`~moldstack.analysis.mounting`). Still air is emulated by a natural-convection coefficient ``h_w_m2k`` (about 10 W/m2K, user-settable)
  on every surface the air touches, package and board alike. Gives theta-JA.
- ``cold-plate-top``: an isothermal plate on the package's top surface, every other surface adiabatic (the
  JESD51-14 idea of theta-JC(top)). Gives theta-JC.
- ``ring-cold-plate``: JESD51-8: the package on the same 2s2p board, the board clamped on both faces by a ring
  cold plate ``ring_gap_mm`` outside the package outline, every other surface adiabatic. theta-JB refers the
  junction to the board temperature at the midpoint of the package's longest side, 1 mm out from its body.
- ``custom``: a convection coefficient per direction (surfaces facing up, down, sideways) to an ambient, with
  no board, or the 2s2p board if ``board`` is set.

Values in SI except the documented ``_mm`` and ``_c``. Nothing here solves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from moldstack.analysis.board import (
    BOARD_MATERIAL,
    BOARD_PLANE_FRACTIONS,
    BOARD_PLANE_UM,
    BOARD_SIZE_MM,
    BOARD_THICKNESS_UM,
)
from moldstack.analysis.mounting import Mounting

EnvKind = Literal["jesd51-9", "cold-plate-top", "ring-cold-plate", "custom"]
ENV_KINDS: tuple[EnvKind, ...] = ("jesd51-9", "cold-plate-top", "ring-cold-plate", "custom")

STILL_AIR_H = 10.0  # W/m2K: natural convection from a small horizontal board in still air (physics.md)


@dataclass(frozen=True)
class Environment:
    """One thermal environment (see the module docstring)."""

    kind: EnvKind = "jesd51-9"
    ambient_c: float = 25.0
    h_w_m2k: float = STILL_AIR_H
    h_top_w_m2k: float | None = None
    h_bottom_w_m2k: float | None = None
    h_side_w_m2k: float | None = None
    plate_c: float = 25.0
    ring_gap_mm: float = 5.0
    board: bool | None = None
    mounting: Mounting = field(default_factory=Mounting)

    def __post_init__(self) -> None:
        if self.kind not in ENV_KINDS:
            raise ValueError(f"environment {self.kind!r} is not one of {', '.join(ENV_KINDS)}")
        for name in ("h_w_m2k", "h_top_w_m2k", "h_bottom_w_m2k", "h_side_w_m2k"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} = {value!r} must be > 0 W/m2K")
        if not self.ring_gap_mm > 0:
            raise ValueError(f"ring_gap_mm = {self.ring_gap_mm!r} must be > 0")

    @property
    def has_board(self) -> bool:
        if self.board is not None:
            return self.board
        return self.kind in ("jesd51-9", "ring-cold-plate")

    def h(self, direction: Literal["up", "down", "side"]) -> float:
        """The film coefficient on a surface facing ``direction``."""
        chosen = {"up": self.h_top_w_m2k, "down": self.h_bottom_w_m2k, "side": self.h_side_w_m2k}[direction]
        return chosen if chosen is not None else self.h_w_m2k

    @property
    def resistance_name(self) -> str:
        return {
            "jesd51-9": "theta_ja_k_per_w",
            "cold-plate-top": "theta_jc_k_per_w",
            "ring-cold-plate": "theta_jb_k_per_w",
            "custom": "theta_ja_k_per_w",
        }[self.kind]

    def with_(self, **changes: Any) -> Environment:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ambient_c": self.ambient_c,
            "h_w_m2k": {d: self.h(d) for d in ("up", "down", "side")},
            "plate_c": self.plate_c if self.kind in ("cold-plate-top", "ring-cold-plate") else None,
            "ring_gap_mm": self.ring_gap_mm if self.kind == "ring-cold-plate" else None,
            "board": (
                {
                    "size_mm": list(BOARD_SIZE_MM),
                    "thickness_mm": BOARD_THICKNESS_UM / 1000,
                    "material": BOARD_MATERIAL,
                    "copper_planes_um": [BOARD_PLANE_UM] * len(BOARD_PLANE_FRACTIONS),
                    "copper_plane_heights_mm": [f * BOARD_THICKNESS_UM / 1000 for f in BOARD_PLANE_FRACTIONS],
                    "model": "homogenised per cell layer (orthotropic)",
                    "mounting": self.mounting.to_dict(),
                }
                if self.has_board
                else None
            ),
        }


__all__ = ["ENV_KINDS", "STILL_AIR_H", "EnvKind", "Environment"]
