"""A field on a rectilinear grid as a VTK XML RectilinearGrid file (``.vtr``), which ParaView and VisIt open.

Coordinates are written in millimetres; cell data (one value per cell) as little-endian base64 binary blocks
with a 64-bit byte-count header, x varying fastest (VTK's order). The format: "VTK File Formats", Kitware,
section "XML File Formats / RectilinearGrid". Written atomically. Knows grids and arrays, nothing of physics.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
from numpy.typing import NDArray

from moldstack.geometry.grid import Grid
from moldstack.output import write_text

_TYPES = {np.dtype("float64"): "Float64", np.dtype("float32"): "Float32", np.dtype("int32"): "Int32"}


def _block(values: NDArray[np.generic]) -> str:
    data = np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<"), copy=False).tobytes()
    header = np.array([len(data)], dtype="<u8").tobytes()
    return base64.b64encode(header + data).decode("ascii")


def _array(name: str, values: NDArray[np.generic]) -> str:
    kind = _TYPES.get(values.dtype)
    if kind is None:
        raise ValueError(
            f"cell data {name!r}: dtype {values.dtype} is not one of {', '.join(map(str, _TYPES))}"
        )
    return f'<DataArray type="{kind}" Name={quoteattr(name)} format="binary">{_block(values)}</DataArray>'


def vtr_text(grid: Grid, cell_data: Mapping[str, NDArray[np.generic]]) -> str:
    """The ``.vtr`` document of ``cell_data`` (arrays shaped like the grid) on ``grid`` (um; written in mm)."""
    nx, ny, nz = grid.shape
    extent = f"0 {nx} 0 {ny} 0 {nz}"
    arrays = []
    for name, values in cell_data.items():
        if values.shape != grid.shape:
            raise ValueError(f"cell data {name!r} has shape {values.shape}, the grid {grid.shape}")
        arrays.append(_array(name, values.ravel(order="F")))
    coords = [_array(axis, edges * 1e-3) for axis, edges in zip("xyz", grid.edges, strict=True)]
    first = next(iter(cell_data), "")
    return "\n".join(
        [
            '<?xml version="1.0"?>',
            '<VTKFile type="RectilinearGrid" version="1.0" byte_order="LittleEndian" header_type="UInt64">',
            f'  <RectilinearGrid WholeExtent="{extent}">',
            f'    <Piece Extent="{extent}">',
            f"      <CellData Scalars={quoteattr(first)}>",
            *(f"        {a}" for a in arrays),
            "      </CellData>",
            "      <Coordinates>",
            *(f"        {c}" for c in coords),
            "      </Coordinates>",
            "    </Piece>",
            "  </RectilinearGrid>",
            "</VTKFile>",
            "",
        ]
    )


def write_vtr(path: str | Path, grid: Grid, cell_data: Mapping[str, NDArray[np.generic]]) -> Path:
    """Write :func:`vtr_text` to ``path`` atomically."""
    return write_text(path, vtr_text(grid, cell_data))


def read_vtr_cell_data(text: str) -> tuple[list[NDArray[np.float64]], dict[str, NDArray[np.generic]]]:
    """Read back what :func:`vtr_text` writes: the coordinates (mm) and the cell data in VTK order (flat)."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415 - only the reader needs it

    root = ET.fromstring(text)
    coords: list[NDArray[np.float64]] = []
    data: dict[str, NDArray[np.generic]] = {}
    kinds = {v: k for k, v in _TYPES.items()}
    for element in root.iter("DataArray"):
        raw = base64.b64decode(element.text or "")
        size = int(np.frombuffer(raw[:8], dtype="<u8")[0])
        values = np.frombuffer(raw[8 : 8 + size], dtype=kinds[element.get("type", "")].newbyteorder("<"))
        if element.get("Name") in {"x", "y", "z"}:
            coords.append(values.astype(np.float64))
        else:
            data[element.get("Name", "")] = values
    return coords, data


__all__ = ["read_vtr_cell_data", "vtr_text", "write_vtr"]
