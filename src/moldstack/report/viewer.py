"""The report's interactive 3D view: Google's ``<model-viewer>`` web component, fetched from the npm registry.

The component is not in the repository. :func:`install` downloads one pinned release's tarball from the npm
registry (``MOLDSTACK_NPM_REGISTRY`` names another registry or a mirror; any URL urllib opens, ``file://``
included), checks it against the Subresource-Integrity hash the registry published for that release, and keeps
only ``package/dist/model-viewer-umd.min.js`` (a classic script with three.js bundled: module scripts do not load
from ``file://`` pages in Chromium, an inlined classic script does), the licence and a version stamp, in
``<sys.prefix>/share/moldstack/model-viewer/``. :func:`asset_path` finds the script (``MOLDSTACK_VIEWER_JS``
names another file); the report inlines it, so the page still opens from disk with no network.

Command line: ``python -m moldstack.report.viewer install`` (``make viewer``), ``... path``, ``... status``;
one line each, exit 1 with the reason on failure. Nothing here prints except :func:`main`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from moldstack.output import write_bytes, write_text

PACKAGE = "@google/model-viewer"
VERSION = "4.4.0"
INTEGRITY = "sha512-8z1SB5sPlzKoak5mdx/D31brBakPYm3Qi31EfAucHAUrtrHHCbabypkKvSwReYhUpPaxyJ46oT47uWE/hrs1Zw=="
"""``dist.integrity`` of the pinned release in the registry's metadata
(``https://registry.npmjs.org/@google%2fmodel-viewer/4.4.0``), checked against the tarball on 2026-11-25."""
LICENSE_NAME = "Apache-2.0"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
REGISTRY_ENV = "MOLDSTACK_NPM_REGISTRY"
ASSET_ENV = "MOLDSTACK_VIEWER_JS"
SCRIPT_NAME = "model-viewer-umd.min.js"
_MEMBERS = {f"package/dist/{SCRIPT_NAME}": SCRIPT_NAME, "package/LICENSE": "LICENSE"}
_VERSION_FILE = "VERSION"
_MAX_TARBALL_BYTES = 64 * 1024 * 1024


class ViewerInstallError(RuntimeError):
    """The viewer could not be installed; the message says why in one line."""


def install_dir() -> Path:
    """Where :func:`install` puts the viewer by default: ``<sys.prefix>/share/moldstack/model-viewer``."""
    return Path(sys.prefix) / "share" / "moldstack" / "model-viewer"


def tarball_url(registry: str | None = None) -> str:
    """The pinned release's tarball in ``registry`` (default: ``$MOLDSTACK_NPM_REGISTRY`` or npmjs.org)."""
    base = (registry or os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY).rstrip("/")
    name = PACKAGE.rsplit("/", maxsplit=1)[-1]
    return f"{base}/{PACKAGE}/-/{name}-{VERSION}.tgz"


def asset_path() -> Path | None:
    """The viewer script the report inlines, or None where it is not installed.

    ``$MOLDSTACK_VIEWER_JS`` (a path) takes precedence; an empty value means "no viewer" (the static picture)."""
    override = os.environ.get(ASSET_ENV)
    if override is not None:
        path = Path(override).expanduser()
        return path if override and path.is_file() else None
    path = install_dir() / SCRIPT_NAME
    stamp = install_dir() / _VERSION_FILE
    return path if path.is_file() and stamp.is_file() else None


def installed_version() -> str | None:
    """The version of the viewer :func:`asset_path` finds (``custom`` for a ``$MOLDSTACK_VIEWER_JS`` file), or
    None where there is none."""
    path = asset_path()
    if path is None:
        return None
    stamp = path.parent / _VERSION_FILE
    if os.environ.get(ASSET_ENV) is not None and not stamp.is_file():
        return "custom"
    try:
        return stamp.read_text(encoding="utf-8").split()[-1]
    except (OSError, IndexError):
        return "custom"


def verify_integrity(data: bytes, integrity: str | None = None) -> None:
    """Raise :class:`ViewerInstallError` unless ``data`` matches the Subresource-Integrity string
    (``sha512-<base64>``, as npm publishes it; default :data:`INTEGRITY`)."""
    integrity = INTEGRITY if integrity is None else integrity
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in {"sha256", "sha384", "sha512"} or not expected:
        raise ViewerInstallError(f"unsupported integrity string {integrity!r}")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")
    if actual != expected:
        raise ViewerInstallError(
            f"integrity check failed: the tarball's {algorithm} is {actual[:16]}..., the registry published "
            f"{expected[:16]}... for {PACKAGE}@{VERSION}; not installed"
        )


def _download(url: str, timeout_s: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            data = response.read(_MAX_TARBALL_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ViewerInstallError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ViewerInstallError(f"download of {url} failed: {reason}") from None
    if len(data) > _MAX_TARBALL_BYTES:
        raise ViewerInstallError(
            f"download of {url} is larger than {_MAX_TARBALL_BYTES} bytes; not installed"
        )
    return data


def _members(data: bytes) -> dict[str, bytes]:
    """The files :data:`_MEMBERS` names, read from the tarball (nothing else is extracted)."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                target = _MEMBERS.get(member.name)
                if target is None or not member.isfile():
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    found[target] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ViewerInstallError(f"the tarball cannot be read: {exc}") from None
    missing = sorted(set(_MEMBERS) - {k for k, v in _MEMBERS.items() if v in found})
    if missing:
        raise ViewerInstallError(f"the tarball lacks {', '.join(missing)}")
    return found


def install(dest: str | Path | None = None, *, registry: str | None = None, timeout_s: float = 120.0) -> Path:
    """Download, verify and install the pinned viewer into ``dest`` (default :func:`install_dir`); return the
    script's path. Raises :class:`ViewerInstallError` (download failed, integrity mismatch, tarball unreadable);
    nothing is written then. The version stamp is written last, so a half install is never found."""
    folder = Path(dest) if dest is not None else install_dir()
    url = tarball_url(registry)
    data = _download(url, timeout_s)
    verify_integrity(data)
    files = _members(data)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            write_bytes(folder / name, content)
        write_text(folder / _VERSION_FILE, f"{PACKAGE} {VERSION}\n")
    except OSError as exc:
        raise ViewerInstallError(f"cannot write to {folder}: {exc.strerror or exc}") from None
    return folder / SCRIPT_NAME


def main(argv: list[str] | None = None) -> int:
    """``install`` (download and verify where missing; ``--force`` again), ``path`` or ``status``."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "status"
    if command == "install":
        found = asset_path()
        if found is not None and "--force" not in args and os.environ.get(ASSET_ENV) is None:
            print(f"3D viewer {PACKAGE} {installed_version()} already installed: {found}")
            return 0
        try:
            path = install()
        except ViewerInstallError as exc:
            print(f"3D viewer not installed: {exc}", file=sys.stderr)
            return 1
        print(f"3D viewer {PACKAGE} {VERSION} ({LICENSE_NAME}) installed, integrity verified: {path}")
        return 0
    if command in {"path", "status"}:
        found = asset_path()
        if found is None:
            print(
                f"3D viewer not installed (looked in {install_dir()}); run `make viewer` or "
                f"`python -m moldstack.report.viewer install`",
                file=sys.stderr,
            )
            return 1
        print(found if command == "path" else f"3D viewer {PACKAGE} {installed_version()}: {found}")
        return 0
    print(
        f"usage: python -m moldstack.report.viewer [install [--force] | path | status], not {command!r}",
        file=sys.stderr,
    )
    return 2


__all__ = [
    "INTEGRITY",
    "VERSION",
    "ViewerInstallError",
    "asset_path",
    "install",
    "install_dir",
    "installed_version",
    "main",
    "tarball_url",
    "verify_integrity",
]


if __name__ == "__main__":
    sys.exit(main())
