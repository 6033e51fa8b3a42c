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
from moldstack.geometry.model import Model, Solid
from moldstack.spec.design import Design
from moldstack.spec.errors import Problem, SpecError
from moldstack.validation import validate

__all__ = [
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
    "section",
    "thermal",
    "validate",
    "warpage",
]
__version__ = "0.1.0"
