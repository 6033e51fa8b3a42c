"""Starter specs for ``moldstack new``: the bundled example files, found by template name.

The examples ship inside the wheel as ``moldstack/examples``; in an editable (development) install they are
read from the repository's ``examples/`` folder. Nothing here writes or prints.
"""

from __future__ import annotations

from pathlib import Path

import moldstack

TEMPLATES: dict[str, str] = {
    "claim1": "claim1_posts.yaml",
    "pop": "pop_on_substrate.yaml",
    "stacked-die": "claim14_stacked_die.yaml",
    "hollow-units": "claim10_hollow_fill.yaml",
}
"""Template name -> example file name."""


class TemplateNotFoundError(LookupError):
    """A template name that is not known, or whose example file is missing from this installation."""


def examples_dirs() -> list[Path]:
    """The folders searched for example files, in order: inside the package, then the repository's."""
    package = Path(moldstack.__file__).resolve().parent
    return [package / "examples", package.parents[1] / "examples"]


def template_path(name: str) -> Path:
    """The example file behind template ``name``."""
    if name not in TEMPLATES:
        raise TemplateNotFoundError(f"unknown template '{name}'; known: {', '.join(TEMPLATES)}")
    filename = TEMPLATES[name]
    folders = examples_dirs()
    for folder in folders:
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(f) for f in folders)
    raise TemplateNotFoundError(
        f"template '{name}' needs the example {filename}, not found in this installation (looked in {looked})"
    )


def template_text(name: str) -> str:
    """The text of template ``name``'s example file, comments included."""
    return template_path(name).read_text(encoding="utf-8")
