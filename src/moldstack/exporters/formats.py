"""The export formats by name: which file suffix each takes and which writer makes it.

One table, read by :func:`moldstack.export` and the CLI's ``export`` command; writers are imported only when used,
so a spec check never loads OpenCascade. It knows the writers' names, not how they work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from moldstack.geometry.model import Model

Writer = Callable[[Model, Path], list[Path]]


def _step(model: Model, path: Path) -> list[Path]:
    from moldstack.exporters.step import export_step  # noqa: PLC0415 - OpenCascade loads only when asked for

    return [export_step(model, path).path]


def _glb(model: Model, path: Path) -> list[Path]:
    from moldstack.exporters.mesh import export_glb  # noqa: PLC0415

    return [export_glb(model, path).path]


def _stl(model: Model, path: Path) -> list[Path]:
    from moldstack.exporters.mesh import export_stl  # noqa: PLC0415

    return [export_stl(model, path).path]


def layer_map_path(path: Path) -> Path:
    """Where the layer map of a GDS/OASIS file goes: beside it, ``.txt`` (``layers.gds`` -> ``layers.txt``)."""
    return path.with_suffix(".txt")


def _gds(model: Model, path: Path, oasis: bool = False) -> list[Path]:
    from moldstack.exporters.gds import export_gds, write_layer_map  # noqa: PLC0415

    return [export_gds(model, path, oasis=oasis).path, write_layer_map(model, layer_map_path(path))]


def _oas(model: Model, path: Path) -> list[Path]:
    return _gds(model, path, oasis=True)


def overview_plane(model: Model) -> str:
    """The plane ``export --format svg|png`` draws: through the die centre, else the first default plane."""
    from moldstack.geometry.section import default_planes  # noqa: PLC0415

    planes = default_planes(model)
    if not planes:
        raise ValueError("the model has no die or unit to cut through; use `moldstack section --plane ...`")
    chosen = next((p for p in planes if p.name.startswith("die_centre")), planes[0])
    return str(chosen.plane)


def _figure(model: Model, path: Path) -> list[Path]:
    from moldstack.exporters.section_figure import write_section_png, write_section_svg  # noqa: PLC0415
    from moldstack.geometry.section import section  # noqa: PLC0415

    cut = section(model, overview_plane(model))
    write = write_section_png if path.suffix.lower() == ".png" else write_section_svg
    return [write(cut, path).path]


def _kicad(model: Model, path: Path) -> list[Path]:
    from moldstack.exporters.kicad import write_footprint  # noqa: PLC0415

    return [write_footprint(model, path, "bottom")]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    suffix: str
    description: str
    write: Writer


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("step", ".step", "STEP AP214 assembly (mm), named and coloured by material", _step),
        ExportFormat("glb", ".glb", "glTF binary scene (m), one node per solid, PBR colours", _glb),
        ExportFormat("stl", ".stl", "STL mesh of every solid (mm)", _stl),
        ExportFormat(
            "gds", ".gds", "GDSII artwork (um), one cell per assembly, with its layer map (.txt)", _gds
        ),
        ExportFormat("oas", ".oas", "OASIS artwork, as gds", _oas),
        ExportFormat(
            "svg", ".svg", "cross section through the die centre (see `moldstack section`)", _figure
        ),
        ExportFormat("png", ".png", "cross section through the die centre, as PNG", _figure),
        ExportFormat(
            "kicad",
            ".kicad_mod",
            "KiCad footprint (mm, seen from above): the board land pattern under the bottom package",
            _kicad,
        ),
    )
}


def format_for(path: Path, name: str | None) -> ExportFormat:
    """The format named, or the one the file's suffix implies; ValueError naming the choices otherwise."""
    if name is not None:
        fmt = FORMATS.get(name.lower())
        if fmt is None:
            raise ValueError(f"format '{name}' is not one of {', '.join(FORMATS)}")
        return fmt
    by_suffix = {f.suffix: f for f in FORMATS.values()} | {".stp": FORMATS["step"], ".gdsii": FORMATS["gds"]}
    fmt = by_suffix.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"{path}: cannot tell the format from the suffix '{path.suffix}'; give --format "
            f"({', '.join(FORMATS)})"
        )
    return fmt
