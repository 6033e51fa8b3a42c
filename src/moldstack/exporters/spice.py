"""The interconnect's lumped circuit as a SPICE subcircuit (ngspice, and any SPICE that reads ``.subckt``).

Holds :func:`spice_subcircuit` (the text), :func:`write_spice` (the file, written atomically) and
:func:`spice_node_names` (the map from the model's node names to the names in the file). It reads a
:class:`~moldstack.analysis.network.Network` only and must not know the spec, the geometry or how the values
were computed.

Layout of the text::

    * header: title, the model's validity, units, counts, the node and branch maps, the network's notes
    .subckt NAME pin1 pin2 ... [REF]
    R1 a1 mid1 r1         branch 1: DC resistance from its a-node to an internal node ...
    L1 mid1 b1 l1         ... then its partial self inductance to its b-node
    K1_2 L1 L2 k12        k = M12 / sqrt(L1 L2), sign kept
    C1 n1 n2 c1           capacitances (to REF: the far field)
    .ends NAME

Every inductor is written from its branch's a-side to its b-side, so SPICE's dot (the inductor's first node)
sits on the a-side and a positive ``k`` means what a positive ``inductance_h[i, j]`` means in the network:
currents flowing a->b in both branches add flux. Couplings with ``|k| < k_min`` are dropped (and counted in
the header). Node names keep their readable parts: every character other than an ASCII letter, digit or
underscore becomes ``_`` (``VDD:logic/die1.C1`` -> ``VDD_logic_die1_C1``); names that SPICE would read as
ground (``0``, ``gnd``) or that start with a digit get an ``n`` in front; names that coincide (SPICE does not
tell upper from lower case) get ``_2``, ``_3``... Numbers are written ``%.6g`` in SI units without scale
suffixes (SPICE reads ``m`` as milli and ``meg`` as mega, a trap the plain exponent avoids).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from moldstack.analysis.network import REFERENCE, Branch, Capacitor, Network
from moldstack.output import write_text

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_GROUND_NAMES = frozenset({"0", "gnd"})
_WRAP_COLUMNS = 100
_MATRIX_RTOL = 1e-9


def _number(value: float) -> str:
    return f"{value:.6g}"


def _comment_text(text: str) -> str:
    """``text`` as one line of ASCII, safe inside a ``*`` comment."""
    return _CONTROL.sub(" ", text).encode("ascii", "backslashreplace").decode("ascii")


class _Names:
    """Unique SPICE-safe identifiers, compared without case as SPICE does."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def add(self, name: str) -> str:
        base = _UNSAFE.sub("_", name) or "n"
        if base[0].isdigit() or base.lower() in _GROUND_NAMES:
            base = "n" + base
        candidate, suffix = base, 1
        while candidate.lower() in self._used:
            suffix += 1
            candidate = f"{base}_{suffix}"
        self._used.add(candidate.lower())
        return candidate


def _uses_reference(network: Network) -> bool:
    return any(REFERENCE in (c.a, c.b) for c in network.capacitors) or any(
        REFERENCE in (b.a, b.b) for b in network.branches
    )


def _ports(network: Network) -> list[str]:
    """The subcircuit's ports in model names: the pins, then :data:`REFERENCE` when an element uses it."""
    ports = list(network.pins)
    if _uses_reference(network) and REFERENCE not in ports:
        ports.append(REFERENCE)
    return ports


def spice_node_names(network: Network) -> dict[str, str]:
    """The SPICE name of every node of ``network`` (model name -> SPICE name), ports first in port order.

    The subcircuit's ports are the network's pins in order, then :data:`REFERENCE` when a capacitor (or a
    branch) uses it; the names follow the rules in the module's docstring and are unique without case, and
    :data:`REFERENCE` keeps its name ``REF`` (another node called ``ref`` becomes ``ref_2``).
    """
    names = _Names()
    ports = _ports(network)
    reference = {REFERENCE: names.add(REFERENCE)} if REFERENCE in ports else {}
    ordered = dict.fromkeys([*ports, *network.nodes])
    return {node: reference.get(node) or names.add(node) for node in ordered}


def _check_branch(index: int, branch: Branch) -> None:
    label = f"branch {index + 1} '{branch.name}' (net {branch.net})"
    if not (math.isfinite(branch.r_ohm) and math.isfinite(branch.l_h)):
        raise ValueError(f"{label}: R = {branch.r_ohm} ohm, L = {branch.l_h} H; both must be finite")
    if branch.r_ohm < 0.0:
        raise ValueError(f"{label}: negative resistance {branch.r_ohm:g} ohm; a conductor's R is positive")
    if branch.l_h < 0.0:
        raise ValueError(
            f"{label}: negative partial inductance {branch.l_h:g} H; a self inductance is positive"
        )
    if branch.r_ohm == 0.0 and branch.l_h == 0.0:
        raise ValueError(
            f"{label}: R = 0 and L = 0 is a short; merge nodes {branch.a!r} and {branch.b!r} instead"
        )
    if branch.a == branch.b:
        raise ValueError(f"{label}: both ends are node {branch.a!r}; a branch joins two different nodes")


def _check_capacitor(index: int, capacitor: Capacitor) -> None:
    label = f"capacitor {index + 1} between {capacitor.a!r} and {capacitor.b!r}"
    if not math.isfinite(capacitor.c_f) or capacitor.c_f < 0.0:
        raise ValueError(f"{label}: {capacitor.c_f} F; a capacitance is finite and not negative")
    if capacitor.a == capacitor.b:
        raise ValueError(f"{label}: both ends are the same node")


def _coupling_factors(network: Network) -> np.ndarray:
    """``k[i, j] = M[i, j] / sqrt(L_i L_j)`` (zero where a branch has no inductance), after checking the matrix:
    finite, symmetric, its diagonal the branches' ``l_h``, no coupling to a branch without inductance, and
    every ``|k| < 1``."""
    branches = network.branches
    m = np.asarray(network.inductance_h, dtype=float)
    if not np.all(np.isfinite(m)):
        raise ValueError("inductance matrix: every entry must be finite")
    self_l = np.array([b.l_h for b in branches], dtype=float)
    for i, branch in enumerate(branches):
        if not math.isclose(m[i, i], branch.l_h, rel_tol=_MATRIX_RTOL):
            raise ValueError(
                f"inductance matrix: diagonal entry {i + 1} is {m[i, i]:g} H but branch '{branch.name}' has "
                f"L = {branch.l_h:g} H; they must agree"
            )
    scale = np.sqrt(np.outer(self_l, self_l))
    asymmetric = np.argwhere(np.abs(m - m.T) > _MATRIX_RTOL * np.maximum(scale, np.abs(m)))
    if asymmetric.size:
        i, j = asymmetric[0]
        raise ValueError(
            f"inductance matrix is not symmetric: M[{i + 1},{j + 1}] = {m[i, j]:g} H but "
            f"M[{j + 1},{i + 1}] = {m[j, i]:g} H (branches '{branches[i].name}', '{branches[j].name}')"
        )
    m = 0.5 * (m + m.T)
    np.fill_diagonal(m, 0.0)
    orphan = np.argwhere((scale == 0.0) & (m != 0.0))
    if orphan.size:
        i, j = orphan[0]
        raise ValueError(
            f"branches '{branches[i].name}' and '{branches[j].name}' have a mutual inductance {m[i, j]:g} H "
            "but one of them has no self inductance"
        )
    k = np.divide(m, scale, out=np.zeros_like(m), where=scale > 0.0)
    strong = np.argwhere(np.triu(np.abs(k) >= 1.0, 1))
    if strong.size:
        i, j = strong[0]
        raise ValueError(
            f"branches {i + 1} '{branches[i].name}' and {j + 1} '{branches[j].name}': coupling factor "
            f"k = M / sqrt(L1 L2) = {k[i, j]:.6g}; a physical coupling has |k| < 1"
        )
    return k


def _check_positive_definite(network: Network, k: np.ndarray) -> None:
    """The written inductance matrix (among branches with inductance) must store positive energy."""
    inductive = [i for i, b in enumerate(network.branches) if b.l_h > 0.0]
    if not inductive:
        return
    sub = k[np.ix_(inductive, inductive)] + np.eye(len(inductive))
    try:
        np.linalg.cholesky(sub)
    except np.linalg.LinAlgError:
        raise ValueError(
            "the inductance matrix as written (couplings with |k| >= k_min) is not positive definite: "
            "some currents would store negative magnetic energy and a transient simulation would diverge; "
            "check the mutual inductances, or lower k_min if dropping small couplings caused it"
        ) from None


def _wrapped(words: Sequence[str]) -> list[str]:
    """``words`` joined by spaces as SPICE lines, continued with ``+`` past the wrap column."""
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) > _WRAP_COLUMNS:
            lines.append("+ " + word)
        else:
            lines[-1] += " " + word
    return lines


def _comment_block(lines: Iterable[str]) -> list[str]:
    return [f"* {_comment_text(line)}".rstrip() for line in lines]


def spice_subcircuit(network: Network, *, k_min: float = 1e-3, title: str | None = None) -> str:
    """``network`` as the text of one SPICE subcircuit (ngspice parses it; see the module's docstring).

    The model is quasi-static: each branch is its DC resistance in series with its partial self inductance,
    coupled to the other branches by mutual inductances (``K`` elements, ``k = M / sqrt(Li Lj)``, written when
    ``|k| >= k_min``), and capacitors derived from the Maxwell capacitance matrix join nodes to each other and to
    ``REF`` (the far field), which becomes the last port when a capacitor uses it. Valid while the structure is
    small against the wavelength and the skin depth, as the values are.

    A branch with R = 0 is written as its inductor alone, one with L = 0 as its resistor alone. Refused with
    :class:`ValueError`, naming the element: a negative or non-finite R, L or C; a branch with R = L = 0 or with
    both ends on one node; an inductance matrix that is not symmetric, whose diagonal differs from the branches'
    ``l_h``, or with a coupling ``|k| >= 1``; a written inductance matrix that is not positive definite; a
    ``k_min`` outside [0, 1).
    """
    if not 0.0 <= k_min < 1.0:
        raise ValueError(f"k_min = {k_min}; it must lie in [0, 1)")
    for index, branch in enumerate(network.branches):
        _check_branch(index, branch)
    for index, capacitor in enumerate(network.capacitors):
        _check_capacitor(index, capacitor)
    k = _coupling_factors(network)
    upper = np.triu(np.ones_like(k, dtype=bool), 1)
    nonzero = upper & (k != 0.0)
    kept = nonzero & (np.abs(k) >= k_min)
    written_k = np.where(kept | kept.T, k, 0.0)
    _check_positive_definite(network, written_k)

    node_names = spice_node_names(network)
    internal = _Names()
    for spice_name in node_names.values():
        internal.add(spice_name)
    subckt_name = _Names().add(network.name or "moldstack")
    ports = [node_names[p] for p in _ports(network)]
    couplings = [(int(i), int(j)) for i, j in np.argwhere(kept)]

    header = [
        title if title is not None else f"moldstack interconnect network '{network.name}'",
        "",
        "Quasi-static lumped model: R is the DC resistance, L the partial self and mutual inductances,",
        "C the capacitances derived from the Maxwell capacitance matrix; valid while the structure is small",
        "against the wavelength and the skin depth (no skin or proximity effect, no dielectric loss).",
        "Units: ohm, henry, farad (SI, plain exponents, no scale suffixes).",
        "Each inductor is written from its branch's a-node to its b-node: the dot is on the a-side.",
        f"Counts: {len(network.pins)} pins, {len(network.branches)} branches, {len(couplings)} mutual coupling(s) "
        f"written, {int(np.count_nonzero(nonzero & ~kept))} dropped with |k| < k_min = {k_min:g}, "
        f"{len(network.capacitors)} capacitors.",
        "",
        "Nodes (SPICE name = model name):",
        *(f"  {spice} = {model}" for model, spice in node_names.items()),
    ]
    body: list[str] = []
    branch_lines: list[str] = []
    for index, branch in enumerate(network.branches, start=1):
        a, b = node_names[branch.a], node_names[branch.b]
        line = f"  {index}: {branch.name} (net {branch.net}): {branch.a} -> {branch.b}"
        if branch.r_ohm == 0.0:
            body.append(f"L{index} {a} {b} {_number(branch.l_h)}")
        elif branch.l_h == 0.0:
            body.append(f"R{index} {a} {b} {_number(branch.r_ohm)}")
        else:
            mid = internal.add(f"mid{index}")
            body.append(f"R{index} {a} {mid} {_number(branch.r_ohm)}")
            body.append(f"L{index} {mid} {b} {_number(branch.l_h)}")
            line += f", R{index} and L{index} meet at {mid}"
        branch_lines.append(line)
    body.extend(f"K{i + 1}_{j + 1} L{i + 1} L{j + 1} {_number(k[i, j])}" for i, j in couplings)
    body.extend(
        f"C{index} {node_names[c.a]} {node_names[c.b]} {_number(c.c_f)}"
        for index, c in enumerate(network.capacitors, start=1)
    )
    header += ["", "Branches (element index: name (net): a -> b, internal node):", *branch_lines]
    if network.notes:
        header += ["", "Notes:", *(f"  {note}" for note in network.notes)]

    lines = [
        *_comment_block(header),
        "",
        *_wrapped([".subckt", subckt_name, *ports]),
        *body,
        f".ends {subckt_name}",
    ]
    return "\n".join(lines) + "\n"


def write_spice(network: Network, path: str | Path, *, k_min: float = 1e-3, title: str | None = None) -> Path:
    """Write :func:`spice_subcircuit` of ``network`` to ``path`` atomically (:func:`moldstack.output.write_text`)
    and return the path."""
    return write_text(path, spice_subcircuit(network, k_min=k_min, title=title))


__all__ = ["spice_node_names", "spice_subcircuit", "write_spice"]
