"""The build's report: ``OUT/report.html`` (one self-contained page, opened from disk), the static picture of
the model it falls back on (``model.png``), and the optional interactive 3D viewer it inlines.

- :func:`write_report` (:mod:`moldstack.report.page`): the page, read from the files a build wrote;
- :func:`write_model_render` (:mod:`moldstack.report.render`): an isometric PNG of a built model;
- :mod:`moldstack.report.viewer`: installs and finds the ``<model-viewer>`` script (``make viewer``).

The names load on first use, so ``python -m moldstack.report.viewer`` and importing this package stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moldstack.report.page import write_report
    from moldstack.report.render import write_model_render

__all__ = ["write_model_render", "write_report"]


def __getattr__(name: str) -> Any:
    if name == "write_report":
        from moldstack.report.page import write_report  # noqa: PLC0415

        return write_report
    if name == "write_model_render":
        from moldstack.report.render import write_model_render  # noqa: PLC0415

        return write_model_render
    raise AttributeError(f"module 'moldstack.report' has no attribute {name!r}")
