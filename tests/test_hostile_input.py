"""Hostile and broken spec files: each is refused quickly with exit code 2 and a message naming the file.

Every case runs through the command line in-process (``validate``, ``claims --json`` and ``build``), and
a few as a real subprocess, to check the exit code and that no traceback reaches the user.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from moldstack.cli import app

REPO = Path(__file__).resolve().parents[1]
VALID_SPEC = REPO / "examples" / "claim3_pad_protrusion.yaml"
SECONDS = 5.0


def _python_tag(tmp: Path) -> Path:
    marker = tmp / "pwned"
    path = tmp / "tag.yaml"
    path.write_text(f'assemblies: !!python/object/apply:os.system ["touch {marker}"]\n')
    return path


def _alias_bomb(tmp: Path) -> Path:
    """Billion laughs: ten levels of nine aliases each, 9**10 strings once expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("assemblies: *a9")
    path = tmp / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _huge_file(tmp: Path) -> Path:
    path = tmp / "huge.yaml"
    chunk = b"# " + b"x" * 1_048_573 + b"\n"
    with path.open("wb") as handle:
        for _ in range(50):
            handle.write(chunk)
    assert path.stat().st_size >= 50 * 1024 * 1024
    return path


def _top_level_list(tmp: Path) -> Path:
    path = tmp / "list.yaml"
    path.write_text("- name: pkg\n- name: other\n")
    return path


def _binary_garbage(tmp: Path) -> Path:
    path = tmp / "garbage.yaml"
    rng = random.Random(1234)
    path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)) + b"\x00\x00" + b"\xff\xfe")
    return path


def _empty(tmp: Path) -> Path:
    path = tmp / "empty.yaml"
    path.write_bytes(b"")
    return path


def _deeply_nested(tmp: Path) -> Path:
    path = tmp / "deep.yaml"
    path.write_text("assemblies: " + "[" * 5000 + "]" * 5000 + "\n")
    return path


def _directory(tmp: Path) -> Path:
    path = tmp / "specs.yaml"
    path.mkdir()
    return path


def _missing(tmp: Path) -> Path:
    return tmp / "no_such_spec.yaml"


def _duplicate_key(tmp: Path) -> Path:
    path = tmp / "dup.yaml"
    text = VALID_SPEC.read_text()
    path.write_text(text.replace("name: claim3-pad-protrusion", "name: first\nname: second", 1))
    return path


def _bad_syntax(tmp: Path) -> Path:
    path = tmp / "syntax.yaml"
    path.write_text("name: [unclosed, list\nassemblies:\n  - body: {size_um: [1, 2]\n")
    return path


def _unknown_key(tmp: Path) -> Path:
    path = tmp / "typo.yaml"
    text = VALID_SPEC.read_text()
    assert "        diameter_um: 25\n" in text
    path.write_text(text.replace("        diameter_um: 25\n", "        diamter_um: 25\n", 1))
    return path


# (make the file, words the message must contain)
CASES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "python_tag": (_python_tag, ("python/object/apply:os.system", "only plain YAML")),
    "alias_bomb": (_alias_bomb, ("alias",)),
    "file_50mb": (_huge_file, ("bytes", "at most")),
    "top_level_list": (_top_level_list, ("must be a mapping", "not a list")),
    "binary_garbage": (_binary_garbage, ("not UTF-8",)),
    "empty_file": (_empty, ("is empty",)),
    "deeply_nested": (_deeply_nested, ("too deeply",)),
    "directory": (_directory, ("is not a file",)),
    "missing_file": (_missing, ("no such file",)),
    "duplicate_key": (_duplicate_key, ("name (line", "key given twice")),
    "invalid_syntax": (_bad_syntax, ("is not valid YAML", "(line ")),
    "unknown_key": (
        _unknown_key,
        ("assemblies[0].interconnects[0].diamter_um (line", "did you mean 'diameter_um'"),
    ),
}

COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "validate": lambda spec, _tmp: ["validate", str(spec)],
    "claims --json": lambda spec, _tmp: ["claims", str(spec), "--json"],
    "build": lambda spec, tmp: ["build", str(spec), "-o", str(tmp / "out")],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES)
def test_hostile_spec_is_refused_quickly_with_a_clear_message(
    tmp_path: Path, case: str, command: str
) -> None:
    make, words = CASES[case]
    spec = make(tmp_path)
    start = time.perf_counter()
    result = CliRunner().invoke(app, COMMANDS[command](spec, tmp_path))
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, f"{case}: took {elapsed:.1f} s"
    assert result.exit_code == 2, result.output
    assert result.stdout == "", "nothing but results may reach stdout"
    assert str(spec) in result.stderr, "the message names the file"
    for word in words:
        assert word in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "pwned").exists(), "a YAML tag ran a command"
    assert not (tmp_path / "out").exists(), "nothing is written for a bad spec"


def test_every_problem_is_on_its_own_line(tmp_path: Path) -> None:
    spec = _unknown_key(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(spec)])
    line = next(i for i, text in enumerate(spec.read_text().splitlines(), 1) if "diamter_um" in text)
    assert result.stderr.splitlines() == [
        f"{spec}: 1 problem",
        f"assemblies[0].interconnects[0].diamter_um (line {line}): "
        "unknown key 'diamter_um'; did you mean 'diameter_um'?",
    ]


@pytest.mark.parametrize("case", ["python_tag", "alias_bomb", "binary_garbage"])
def test_hostile_spec_in_a_real_process(tmp_path: Path, case: str) -> None:
    spec = CASES[case][0](tmp_path)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "moldstack", "validate", str(spec)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert time.perf_counter() - start < SECONDS + 5.0  # a fresh interpreter imports numpy and scipy
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert str(spec) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "pwned").exists()
