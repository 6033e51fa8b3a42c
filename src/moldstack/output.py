"""Writing outputs: atomic files, JSON documents, the build's shared inputs, and the writers of each result.

Every file is written to a temporary name (next to it, or in a build's staging folder, see :func:`staging`),
flushed and synced to disk, then renamed over the target with :func:`os.replace`, so a reader sees either the old
file or the whole new one, never half of one; an interrupted run leaves the previous outputs as they were. JSON
is written with the keys in the order the results give them, indented, with numpy values turned into plain
numbers and non-finite floats into ``null`` (JSON has no NaN). The stages of ``moldstack build`` that use these
writers are in :mod:`moldstack.build_stages`. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import json
import math
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moldstack.api import claims
from moldstack.fields.fork_map import cores

if TYPE_CHECKING:
    from moldstack.analysis.electrical import ElectricalResult
    from moldstack.analysis.thermal import ThermalResult
    from moldstack.analysis.warpage import WarpageResult
    from moldstack.checks.claims import ClaimChart
    from moldstack.checks.rule_deck import RuleDeck
    from moldstack.checks.stack import StackResult
    from moldstack.checks.verification import Verification
    from moldstack.fab.result import ProcessResult
    from moldstack.geometry.model import Model
    from moldstack.spec.design import Design

_TEMP_SUFFIX = ".tmp"
BUILD_CAPACITANCE_GRID = "screen"  # the capacitance grid of a build (CAPACITANCE_PRESETS)


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_STAGING: list[Path] = []  # where temporaries go while a build writes into a folder (see staging())


@contextlib.contextmanager
def staging(out_dir: str | Path) -> Iterator[Path | None]:
    """While the block runs, write every temporary file in a hidden folder beside ``out_dir`` (same file system)
    rather than next to its target, so ``out_dir`` only ever holds whole files, even when the process is killed
    mid-write; the folder is emptied first (what a killed run left) and removed at the end. Where no such folder
    can be made on the same file system, temporaries stay next to their targets. Yields the folder or None."""
    out = Path(out_dir).resolve()
    folder = out.parent / f".{out.name}.moldstack-partial"
    try:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if folder.stat().st_dev != out.stat().st_dev:
            shutil.rmtree(folder, ignore_errors=True)
            yield None
            return
    except OSError:
        yield None
        return
    _STAGING.append(folder)
    try:
        yield folder
    finally:
        _STAGING.remove(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _open_temporary(target: Path) -> tuple[Path, int]:
    """Create a new, empty temporary file next to ``target`` (or in the staging folder, see :func:`staging`);
    the umask applies as for any new file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    folder = _STAGING[-1] if _STAGING else target.parent
    while True:
        temp = folder / f".{target.name}.{secrets.token_hex(6)}{_TEMP_SUFFIX}"
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:
            continue


def write_bytes(path: str | Path, data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically and durably; return the path.

    With ``overwrite=False`` an existing file is left alone and :class:`FileExistsError` is raised, also when
    another process creates the file while this one writes. An existing file's permissions are kept.
    """
    target = Path(path)
    temp, fd = _open_temporary(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            with contextlib.suppress(FileNotFoundError):
                temp.chmod(stat.S_IMODE(target.stat().st_mode))
            temp.replace(target)
        else:
            _link_without_overwrite(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)
    return target


def _link_without_overwrite(temp: Path, target: Path) -> None:
    """Give ``temp`` the name ``target`` only if no such file exists; a hard link refuses atomically."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError:
        # Hard links unsupported here (some network and FUSE file systems): check, then rename.
        if target.exists():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        temp.replace(target)
        return
    temp.unlink()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path next to ``path`` for a library that writes files itself (a STEP or GDS writer).

    Whatever is written there replaces ``path`` atomically when the block ends without an exception, and is
    deleted otherwise. The temporary name keeps the target's suffix, since some writers choose the format by it.
    """
    target = Path(path)
    temp, fd = _open_temporary(target)
    os.close(fd)
    temp_with_suffix = temp.with_name(temp.name + target.suffix)
    temp.replace(temp_with_suffix)
    try:
        yield temp_with_suffix
        with temp_with_suffix.open("rb+") as handle:
            os.fsync(handle.fileno())
        temp_with_suffix.replace(target)
    except BaseException:
        temp_with_suffix.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def write_figure(
    figure: Any, path: str | Path, fmt: str = "png", *, dpi: float = 160, tight: bool = False
) -> Path:
    """A matplotlib figure rendered to ``fmt`` in memory, then written atomically; a PNG is stamped as moldstack's.

    ``tight`` crops the page to what is drawn (``bbox_inches="tight"``)."""
    buffer = io.BytesIO()
    figure.savefig(
        buffer,
        format=fmt,
        dpi=dpi,
        bbox_inches="tight" if tight else None,
        metadata={"Software": "moldstack"} if fmt == "png" else None,
    )
    return write_bytes(path, buffer.getvalue())


def write_text(path: str | Path, text: str, *, overwrite: bool = True) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: numpy scalars and arrays to numbers and lists, NaN and infinity to None.

    Mappings keep their key order (keys become strings); tuples, lists and sets become lists; objects with a
    ``to_dict()`` method are converted with it; paths become strings.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return [jsonable(v) for v in sorted(value, key=str)]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    if hasattr(value, "tolist"):  # numpy arrays and numpy scalars
        return jsonable(value.tolist())
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def json_text(value: Any) -> str:
    """``value`` as a JSON document: keys in their given order, indent 2, a final newline."""
    return json.dumps(jsonable(value), indent=2, sort_keys=False, allow_nan=False, ensure_ascii=False) + "\n"


def write_json(path: str | Path, value: Any, *, overwrite: bool = True) -> Path:
    """Write ``value`` as a JSON document (see :func:`json_text`) to ``path`` atomically."""
    return write_text(path, json_text(value), overwrite=overwrite)


@dataclass
class BuildInputs:
    """What the outputs of a build are made from; results several outputs share are computed once.

    With the ``design`` (not only its model) the claim chart includes the method claims 21-23 and the build
    runs the claimed process where it applies. ``deck`` is the DRC rule deck (default: the shipped one);
    ``workers`` the processes a computation may share out (default: one per core). ``say``
    receives a line on what a long computation is doing now (a build shows it beside the running stage).
    """

    model: Model
    design: Design | None = None
    deck: RuleDeck | None = None
    workers: int | None = None
    say: Callable[[str], None] = field(default=lambda _text: None, repr=False, compare=False)

    @cached_property
    def claim_chart(self) -> ClaimChart:
        from moldstack.checks.claims import claim_chart  # noqa: PLC0415

        if self.process_result is not None:  # the build's own process run charts claims 21-23
            return claim_chart(self.model, method=self.process_result.claims)
        return claims(self.design if self.design is not None else self.model)

    @cached_property
    def thermal_results(self) -> tuple[ThermalResult, ...]:
        """The model in still air on the 2s2p board, under a top cold plate and on the ring cold plate (theta-JA,
        -JC, -JB), in that order; empty when no die has power."""
        from moldstack.analysis.environment import Environment  # noqa: PLC0415
        from moldstack.analysis.thermal import thermal  # noqa: PLC0415

        if not any(d.power_w > 0 for a in self.model.assemblies for d in a.dies):
            return ()
        kinds = ("jesd51-9", "cold-plate-top", "ring-cold-plate")
        results = []
        for kind in kinds:
            self.say(f"thermal field in {kind}")
            results.append(thermal(self.model, Environment(kind)))
        return tuple(results)

    @cached_property
    def electrical_result(self) -> ElectricalResult:
        """Every net's R, L and C and the SPICE network (:func:`moldstack.analysis.electrical.electrical`), the
        capacitance on the ``screen`` grid, its columns shared by one process per core (a build's quick look;
        ``moldstack electrical`` defaults finer)."""
        from moldstack.analysis.capacitance import CAPACITANCE_PRESETS  # noqa: PLC0415
        from moldstack.analysis.electrical import ElectricalSettings, electrical  # noqa: PLC0415

        grid = dataclasses.replace(
            CAPACITANCE_PRESETS[BUILD_CAPACITANCE_GRID], workers=self.workers or cores()
        )
        return electrical(self.model, settings=ElectricalSettings(capacitance_grid=grid), progress=self.say)

    @cached_property
    def verification(self) -> Verification:
        """DRC with the shipped rule deck, LVS, and the stack check over the default reflow profile."""
        from moldstack.checks.verification import verify  # noqa: PLC0415

        return verify(self.model, self.deck)

    @cached_property
    def process_result(self) -> ProcessResult | None:
        """The claimed process run on the design, or None where the method does not make it (or no design)."""
        from moldstack.api import process  # noqa: PLC0415
        from moldstack.fab.generate import method_applies  # noqa: PLC0415

        if self.design is None or not method_applies(self.design):
            return None
        return process(self.design)


def write_process(
    result: ProcessResult, out_dir: str | Path, formats: Sequence[str] = ("svg", "png")
) -> list[Path]:
    """A process run's outputs in ``out_dir``: ``flow.yaml`` (edit and run again), ``process.json``, the traveler
    (``traveler.md``, ``traveler.html``) and one cross-section frame per step under ``frames/``."""
    from moldstack.exporters.process_frames import write_frames  # noqa: PLC0415 - matplotlib when needed
    from moldstack.exporters.traveler import write_traveler  # noqa: PLC0415
    from moldstack.fab.flow_io import dump_flow  # noqa: PLC0415

    folder = Path(out_dir)
    (folder / "frames").mkdir(parents=True, exist_ok=True)
    frames = write_frames(result.run, folder / "frames", formats=tuple(formats))
    written = [
        write_text(folder / "flow.yaml", dump_flow(result.run.flow)),
        write_json(folder / "process.json", result.to_dict()),
    ]
    written += write_traveler(result.run, folder, frames=frames)
    return written + [f.path for f in frames]


def write_thermal(
    result: ThermalResult, model: Model, out_dir: str | Path, others: Sequence[ThermalResult] = ()
) -> list[Path]:
    """A thermal result's outputs in ``out_dir``: ``thermal.json``, ``thermal_die_plane.png``,
    ``thermal_section.png`` and the field as ``thermal.vtr`` (temperature and material per cell) for ParaView.

    ``others``: results of the same model in other environments; ``thermal.json`` then also lists every
    environment's resistance under ``resistances_k_per_w`` and their full results under ``environments``.
    """
    import numpy as np  # noqa: PLC0415

    from moldstack.exporters.thermal_maps import die_plane_map, section_map  # noqa: PLC0415
    from moldstack.exporters.vtr import write_vtr  # noqa: PLC0415

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    vox = result.voxels
    names, index = vox.materials()
    data = result.to_dict() | {"vtr_materials": names}
    if others:
        every = [result, *others]
        data["resistances_k_per_w"] = {r.environment.resistance_name: r.resistance_k_per_w for r in every}
        data["environments"] = {r.environment.kind: r.to_dict() for r in every}
    return [
        write_json(folder / "thermal.json", data),
        die_plane_map(result, model, folder / "thermal_die_plane.png"),
        section_map(result, model, folder / "thermal_section.png"),
        write_vtr(
            folder / "thermal.vtr",
            vox.grid,
            {"temperature_c": result.solution.u, "material": index.astype(np.int32)},
        ),
    ]


def write_electrical(
    result: ElectricalResult, out_dir: str | Path, spice: str | Path | None = None
) -> list[Path]:
    """An electrical result's outputs: ``electrical.json`` (per-net R, the L matrix, the C matrix, units stated)
    and the SPICE subcircuit ``interconnect.sp`` (or ``spice``)."""
    from moldstack.exporters.spice import write_spice  # noqa: PLC0415

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    sp = Path(spice) if spice is not None else folder / "interconnect.sp"
    data = result.to_dict() | {"spice_file": sp.name}
    return [
        write_json(folder / "electrical.json", data),
        write_spice(result.network, sp, title=result.model, k_min=result.k_min),
    ]


def write_warpage(result: WarpageResult, out_dir: str | Path, stack: StackResult | None = None) -> list[Path]:
    """``warpage.json`` (curvature and warpage per package over the profile, and the stack's gap changes where
    ``stack`` is given) and ``warpage.png``, with the JEITA-style limit of the stack's finest pitch marked."""
    from moldstack.exporters.warpage_plot import write_warpage_plot  # noqa: PLC0415 - matplotlib when needed

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = result.to_dict()
    limits = [i.jeita_limit_um for i in stack.interfaces if i.jeita_limit_um is not None] if stack else []
    if stack is not None:
        data["stack_interfaces"] = [
            {"lower": i.lower, "upper": i.upper, "jeita_limit_um": i.jeita_limit_um} | i.to_dict()["profile"]
            for i in stack.interfaces
        ]
    return [
        write_json(folder / "warpage.json", data),
        write_warpage_plot(result, folder / "warpage.png", limit_um=min(limits) if limits else None),
    ]


def write_verification(verification: Verification, model: Model, out_dir: str | Path) -> list[Path]:
    """The checks' outputs: ``drc.json`` with ``drc.svg`` (where each violation is), ``lvs.json`` with the
    report ``lvs.txt``, and ``stack.json`` (the verdict, its reasons and the measurements per interface)."""
    from moldstack.exporters.drc_overlay import write_drc_overlay  # noqa: PLC0415 - matplotlib when needed

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_json(folder / "drc.json", verification.drc.to_dict()),
        write_drc_overlay(model, verification.drc, folder / "drc.svg"),
        write_json(folder / "lvs.json", verification.lvs.to_dict()),
        write_text(folder / "lvs.txt", verification.lvs.to_text()),
        write_json(folder / "stack.json", verification.stack.to_dict()),
    ]
