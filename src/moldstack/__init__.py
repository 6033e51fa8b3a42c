"""moldstack: design, build, verify and analyse stackable molded microelectronic packages from one spec."""

from moldstack.api import (
    build,
    check,
    claims,
    dump,
    electrical,
    export,
    flow,
    load,
    loads,
    process,
    section,
    thermal,
    warpage,
)
from moldstack.build_run import BuildOptions, BuildResult, run_build
from moldstack.geometry.model import Model, Solid
from moldstack.spec.design import Design
from moldstack.spec.errors import Problem, SpecError
from moldstack.validation import validate

__all__ = [
    "BuildOptions",
    "BuildResult",
    "Design",
    "Model",
    "Problem",
    "Solid",
    "SpecError",
    "build",
    "check",
    "claims",
    "dump",
    "electrical",
    "export",
    "flow",
    "load",
    "loads",
    "process",
    "run_build",
    "run_sweep",
    "section",
    "thermal",
    "validate",
    "warpage",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``moldstack.run_sweep`` loads the sweep engine (Dask, pyarrow) only when it is first used."""
    if name == "run_sweep":
        from moldstack.sweep.engine import run_sweep  # noqa: PLC0415

        return run_sweep
    raise AttributeError(f"module 'moldstack' has no attribute {name!r}")
