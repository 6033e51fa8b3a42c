"""The electrical analysis of a model's interconnect: per-net DC resistance, partial and loop inductance,
the capacitance matrix, an AC resistance estimate, and the lumped circuit a SPICE simulator takes.

What each figure is (all quasi-static: the field solves are DC and electrostatic, the inductances the
magneto-quasi-static partial inductances of straight filaments):

- **R (DC)** of each net between its terminals (die contacts to its exposed bottom ends, see
  :attr:`~moldstack.analysis.nets.Net.terminals`), by the field solver on the net's conductors
  (:mod:`moldstack.analysis.resistance`); beside it the **formula** value, ``rho l / A`` along the net's
  branches (:mod:`moldstack.analysis.nets`), whose difference is the spreading and crowding the field solve sees.
- **R (AC)** at a user frequency: each branch piece's DC share times its skin-effect ratio
  (:mod:`moldstack.analysis.skin`, isolated conductors, no proximity effect), scaled like the DC value.
- **Partial inductance** (PEEC, :mod:`moldstack.fields.inductance`) of every branch's filaments, summed per branch
  and per net along the current path: the DC current division of the net's branch network (one path for a
  plain net; a net with parallel paths divides by conductance). ``inductance_h[i, j]`` is the net-level partial
  inductance matrix (self on the diagonal). A **loop inductance** of a signal with chosen return nets is
  ``L_ss + L_rr - 2 L_sr`` for one return, the returns sharing the current to least energy for several.
- **Capacitance** (:mod:`moldstack.analysis.capacitance`): the Maxwell matrix of the nets in their dielectrics
  by one electrostatic solve per net, and its SPICE (mutual) form.
- **SPICE network**: every branch as R in series with L, with K couplings between all branches, the branch
  resistances of a net scaled so the network's DC resistance equals the field-solved one, and the capacitance
  matrix's mutual form at one node per net (its unit's hub, else its first die contact).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from moldstack.analysis.capacitance import CapacitanceResult, CapacitanceSettings, capacitance
from moldstack.analysis.nets import Net, NetBranch, extract_nets
from moldstack.analysis.network import REFERENCE, Branch, Capacitor, Network
from moldstack.analysis.resistance import DcResult, ResistanceSettings, net_resistance
from moldstack.analysis.skin import ac_ratio, skin_depth_um
from moldstack.fields.inductance import LoopInductance, loop_inductance, partial_inductance
from moldstack.geometry.model import Model
from moldstack.materials import library_with


class ElectricalInputError(ValueError):
    """A request the model cannot answer (a net it lacks, a loop without returns); the message says which."""


R_FLOOR_OHM = 1e-9  # a branch with no length still joins its nodes
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ElectricalSettings:
    """What to compute and how finely: the frequency of the AC estimate, whether to solve the capacitance
    matrix, the grids of the resistance and capacitance solves, and the smallest coupling the SPICE keeps."""

    frequency_hz: float = 1e9
    capacitance: bool = True
    resistance: ResistanceSettings = field(default_factory=ResistanceSettings)
    capacitance_grid: CapacitanceSettings = field(default_factory=CapacitanceSettings)
    # Couplings weaker than this are left out of the SPICE netlist: ngspice's time grows steeply with their
    # number (the pop example's 640 branches: 204k couplings at 1e-3 take 4.7 min, 135k at 0.01 ~3 min, 21k at
    # 0.05 10 s, its driving-point impedance changing 0.02 %); the L matrices in the JSON keep every coupling.
    k_min: float = 0.01


@dataclass(frozen=True)
class NetElectrical:
    """One net's figures: DC resistance (field and formula), the AC estimate, its partial self inductance."""

    name: str
    source: tuple[str, ...]
    sink: tuple[str, ...]
    r_dc_ohm: float
    r_formula_ohm: float
    r_ac_ohm: float
    l_partial_h: float
    dc: DcResult
    pins: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pins": [{"name": n, "kind": k} for n, k in self.pins],
            "from": list(self.source),
            "to": list(self.sink),
            "r_dc_mohm": self.r_dc_ohm * 1e3,
            "r_formula_mohm": self.r_formula_ohm * 1e3,
            "r_ac_mohm": self.r_ac_ohm * 1e3,
            "l_partial_nh": self.l_partial_h * 1e9,
            "dc_solve": self.dc.to_dict(),
        }


@dataclass(frozen=True)
class LoopResult:
    """A loop inductance: the signal, its returns, the loop L and how the return current splits."""

    signal: str
    returns: tuple[str, ...]
    loop: LoopInductance

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "returns": list(self.returns),
            "l_loop_nh": self.loop.l_h * 1e9,
            "return_split": dict(zip(self.returns, self.loop.split, strict=True)),
        }


@dataclass(frozen=True, eq=False)
class ElectricalResult:
    """Everything :func:`electrical` found (see the module docstring for what each figure is)."""

    model: str
    frequency_hz: float
    nets: tuple[NetElectrical, ...]
    inductance_h: NDArray[np.float64]
    capacitance: CapacitanceResult | None
    network: Network
    skin_depth_um: dict[str, float]
    loops: tuple[LoopResult, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    k_min: float = 0.01

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.nets]

    def net(self, name: str) -> NetElectrical:
        for n in self.nets:
            if n.name == name:
                return n
        raise KeyError(f"net {name!r} is not in this result (nets: {', '.join(self.names[:12])})")

    def loop(self, signal: str, returns: Sequence[str]) -> LoopResult:
        """The loop inductance of ``signal`` with ``returns`` (their currents flowing back in parallel)."""
        names = self.names
        for n in (signal, *returns):
            if n not in names:
                raise ElectricalInputError(
                    f"loop: net {n!r} is not in this analysis (nets: {', '.join(names[:12])}"
                    f"{' ...' if len(names) > 12 else ''})"
                )
        if not returns or signal in returns:
            raise ElectricalInputError(
                f"loop of {signal!r}: give one or more return nets other than the signal"
            )
        index = np.array([names.index(r) for r in returns])
        return LoopResult(
            signal, tuple(returns), loop_inductance(self.inductance_h, names.index(signal), index)
        )

    def to_dict(self) -> dict[str, Any]:
        names = self.names
        out: dict[str, Any] = {
            "model": self.model,
            "quasi_static": (
                "R is the DC resistance and L the partial inductance of the quasi-static limit; C is "
                "electrostatic. r_ac_mohm is a skin-effect estimate at frequency_hz for isolated conductors."
            ),
            "units": {"r": "mOhm", "l": "nH", "c": "pF", "length": "um", "frequency": "Hz"},
            "frequency_hz": self.frequency_hz,
            "skin_depth_um": self.skin_depth_um,
            "nets": [n.to_dict() for n in self.nets],
            "inductance_matrix_nh": {
                "nets": names,
                "values": (self.inductance_h * 1e9).tolist(),
            },
            "loops": [lp.to_dict() for lp in self.loops],
            "spice": {
                "pins": len(self.network.pins),
                "branches": len(self.network.branches),
                "capacitors": len(self.network.capacitors),
            },
            "seconds": self.seconds,
        }
        if self.capacitance is not None:
            out["capacitance"] = self.capacitance.to_dict()
        return out


def _nodes(branches: Sequence[NetBranch]) -> list[str]:
    seen: dict[str, None] = {}
    for b in branches:
        seen.setdefault(b.a)
        seen.setdefault(b.b)
    return list(seen)


def _path_currents(net: Net) -> tuple[NDArray[np.float64], float]:
    """Each branch's share of a unit current from the net's source pins to its sink pins (DC division by the
    branches' formula resistances), and the branch network's resistance between them."""
    source, sink = net.terminals
    nodes = _nodes(net.branches)
    index = {n: i for i, n in enumerate(nodes)}
    held = np.full(len(nodes), np.nan)
    for p in source:
        if p.name in index:
            held[index[p.name]] = 1.0
    for p in sink:
        if p.name in index:
            held[index[p.name]] = 0.0
    if not (held == 1.0).any() or not (held == 0.0).any():
        return np.zeros(len(net.branches)), math.inf
    g = np.array([1.0 / max(b.r_ohm, R_FLOOR_OHM) for b in net.branches])
    n = len(nodes)
    lap = np.zeros((n, n))
    for b, gb in zip(net.branches, g, strict=True):
        i, j = index[b.a], index[b.b]
        lap[i, i] += gb
        lap[j, j] += gb
        lap[i, j] -= gb
        lap[j, i] -= gb
    free = np.isnan(held)
    v = np.where(free, 0.0, held)
    if free.any():
        sub = lap[np.ix_(free, free)] + 1e-30 * np.eye(int(free.sum()))
        rhs = -lap[np.ix_(free, ~free)] @ v[~free]
        v[free] = np.linalg.lstsq(sub, rhs, rcond=None)[0]
    currents = np.array([gb * (v[index[b.a]] - v[index[b.b]]) for b, gb in zip(net.branches, g, strict=True)])
    total = float(-(lap @ v)[held == 0.0].sum())
    if total <= 0:
        return np.zeros(len(net.branches)), math.inf
    return currents / total, 1.0 / total


def _segments(
    nets: Sequence[Net],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    starts, ends, gmd, owner = [], [], [], []
    k = 0
    for net in nets:
        for b in net.branches:
            for s in b.segments:
                starts.append(s.start)
                ends.append(s.end)
                gmd.append(s.gmd_um)
                owner.append(k)
            k += 1
    return (
        np.array(starts, dtype=float).reshape(-1, 3),
        np.array(ends, dtype=float).reshape(-1, 3),
        np.array(gmd, dtype=float),
        np.array(owner, dtype=np.int64),
    )


def branch_inductance(nets: Sequence[Net]) -> NDArray[np.float64]:
    """The partial inductance matrix of every branch of ``nets`` (in order), summed from their filaments."""
    start, end, gmd, owner = _segments(nets)
    count = sum(len(n.branches) for n in nets)
    if owner.size == 0:
        return np.zeros((count, count))
    lp = partial_inductance(start, end, gmd)
    s = np.zeros((owner.size, count))
    s[np.arange(owner.size), owner] = 1.0
    return s.T @ lp @ s


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str, keep: Callable[[str], bool]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if keep(rb) and not keep(ra):
            ra, rb = rb, ra
        self.parent[rb] = ra


def _anchor(net: Net) -> str:
    """Where a net's capacitances attach: its (first) unit's hub, else its first die-side pin."""
    hubs = [b.b for b in net.branches if b.b.endswith(":hub")]
    source, _ = net.terminals
    return hubs[0] if hubs else (source[0].name if source else net.pins[0].name)


def _network(
    model: Model,
    nets: Sequence[Net],
    figures: Sequence[NetElectrical],
    lb: NDArray[np.float64],
    cap: CapacitanceResult | None,
) -> Network:
    """The SPICE network (see the module docstring)."""
    pins = {p.name for n in nets for p in n.pins}
    merge = _Union()
    flat: list[tuple[NetBranch, float, int]] = []
    k = 0
    for net, fig in zip(nets, figures, strict=True):
        scale = (
            fig.r_dc_ohm / fig.r_formula_ohm
            if math.isfinite(fig.r_formula_ohm) and fig.r_formula_ohm > 0
            else 1.0
        )
        for b in net.branches:
            if not b.segments and b.r_ohm <= 0:
                merge.join(b.a, b.b, lambda x: x in pins)
            else:
                flat.append((b, b.r_ohm * scale, k))
            k += 1

    # A node is one place in the model whatever net's branch reaches it (a joint of one net lands on the unit
    # of another where a stack joins two differently named nets): labelled by the first net that reaches it.
    label: dict[str, str] = {}
    for net in nets:
        for b in net.branches:
            for end in (b.a, b.b):
                label.setdefault(merge.find(end), f"{net.name}:{merge.find(end)}")
        for p in net.pins:
            label.setdefault(merge.find(p.name), f"{net.name}:{merge.find(p.name)}")

    def node(name: str) -> str:
        return label[merge.find(name)]

    branches = tuple(Branch(b.name, b.net, node(b.a), node(b.b), r, float(lb[i, i])) for b, r, i in flat)
    keep = [i for _, _, i in flat]
    pin_names = list(dict.fromkeys(node(p.name) for net in nets for p in net.pins))
    capacitors: list[Capacitor] = []
    if cap is not None:
        centre = {net.name: node(_anchor(net)) for net in nets}
        anchors = [next((centre[m] for m in members if m in centre), None) for members in cap.members]
        for i, a in enumerate(anchors):
            if a is None:
                continue
            if cap.mutual_f[i, i] > 0:
                capacitors.append(Capacitor(a, REFERENCE, float(cap.mutual_f[i, i])))
            for j in range(i + 1, len(anchors)):
                b = anchors[j]
                if b is not None and b != a and cap.mutual_f[i, j] > 0:
                    capacitors.append(Capacitor(a, b, float(cap.mutual_f[i, j])))
    notes = (
        f"model {model.name}: {len(nets)} nets; branch resistances scaled per net to the field-solved DC value",
        "capacitances from the Maxwell matrix (mutual form) at each net's unit hub (else its first die contact);"
        " nets that touch (soldered through a stack) are one conductor there",
    )
    return Network(model.name, tuple(pin_names), branches, lb[np.ix_(keep, keep)], tuple(capacitors), notes)


def electrical(
    model: Model,
    nets: Sequence[str] | None = None,
    *,
    settings: ElectricalSettings = ElectricalSettings(),
    loops: Sequence[tuple[str, Sequence[str]]] = (),
    progress: Progress | None = None,
) -> ElectricalResult:
    """Per-net R, the partial inductance matrix, the capacitance matrix and the SPICE network of ``model``'s
    nets (all of them, or ``nets``). Raises ValueError naming a net the model lacks."""
    say = progress or (lambda _msg: None)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        extracted = extract_nets(model, list(nets) if nets is not None else None)
    except ValueError as exc:
        raise ElectricalInputError(str(exc)) from None
    measurable = [n for n in extracted if n.measurable]
    if nets is not None and len(measurable) < len(extracted):
        bad = next(n for n in extracted if not n.measurable)
        raise ElectricalInputError(
            f"net {bad.name!r} has no two terminals to measure between (pins: {[p.name for p in bad.pins]})"
        )
    extracted = measurable
    if not extracted:
        raise ElectricalInputError(f"{model.name} has no nets with two terminals")
    seconds["nets"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    dcs = []
    for i, net in enumerate(extracted):
        say(f"DC resistance of {net.name} ({i + 1}/{len(extracted)})")
        dcs.append(net_resistance(model, net, settings.resistance))
    seconds["resistance"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say(f"partial inductance of {sum(len(b.segments) for n in extracted for b in n.branches)} filaments")
    lb = branch_inductance(extracted)
    currents = np.zeros((lb.shape[0], len(extracted)))
    formula = []
    k = 0
    for j, net in enumerate(extracted):
        share, r_formula = _path_currents(net)
        currents[k : k + len(net.branches), j] = share
        formula.append(r_formula)
        k += len(net.branches)
    l_net = currents.T @ lb @ currents
    seconds["inductance"] = time.perf_counter() - t0

    materials: dict[str, float] = {}
    figures = []
    k = 0
    for j, (net, dc) in enumerate(zip(extracted, dcs, strict=True)):
        share = currents[k : k + len(net.branches), j]
        k += len(net.branches)
        r_ac_formula = 0.0
        r_dc_formula = 0.0
        for b, w in zip(net.branches, share, strict=True):
            for piece in b.pieces:
                delta = skin_depth_um(piece.resistivity_ohm_m, settings.frequency_hz)
                r_ac_formula += w * w * piece.r_ohm * ac_ratio(piece.section, piece.dims, delta)
                r_dc_formula += w * w * piece.r_ohm
        ratio = r_ac_formula / r_dc_formula if r_dc_formula > 0 else 1.0
        figures.append(
            NetElectrical(
                net.name,
                dc.source,
                dc.sink,
                dc.r_ohm,
                formula[j],
                dc.r_ohm * ratio,
                float(l_net[j, j]),
                dc,
                tuple((p.name, p.kind) for p in net.pins),
            )
        )
    library = library_with(model.materials)
    for s in model.solids:
        mat = library[s.material]
        if s.net is not None and mat.conductor and mat.resistivity_ohm_m:
            materials[s.material] = skin_depth_um(mat.resistivity_ohm_m, settings.frequency_hz)

    cap = None
    if settings.capacitance:
        t0 = time.perf_counter()
        say(f"capacitance matrix of {len(extracted)} nets")
        solved: list[str] = []

        def each_net(label: str, _iteration: int, _residual: float) -> None:
            name = label.rsplit(": ", 1)[0]
            if not solved or solved[-1] != name:
                solved.append(name)
                say(f"capacitance: conductor {len(solved)} ({name})")

        cap = capacitance(
            model,
            [n.name for n in extracted],
            settings=settings.capacitance_grid,
            progress=each_net if progress is not None else None,
        )
        seconds["capacitance"] = time.perf_counter() - t0

    network = _network(model, extracted, figures, lb, cap)
    result = ElectricalResult(
        model.name,
        settings.frequency_hz,
        tuple(figures),
        l_net,
        cap,
        network,
        dict(sorted(materials.items())),
        seconds=seconds,
        k_min=settings.k_min,
    )
    if loops:
        result = dataclasses.replace(result, loops=tuple(result.loop(sig, rets) for sig, rets in loops))
    return result


__all__ = [
    "ElectricalInputError",
    "ElectricalResult",
    "ElectricalSettings",
    "LoopResult",
    "NetElectrical",
    "branch_inductance",
    "electrical",
]
