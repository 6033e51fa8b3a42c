"""SPICE subcircuit export: the text (ports, names, counts, coupling factors, refusals) and, with ngspice, the
circuit it describes (DC resistance, loop inductance with mutual coupling, capacitive admittance).

The networks are built by hand. The coupled pair is the reference post pair of the electrical analysis: two
parallel posts of L = 90.9 pH and R = 0.2927 mOhm each with M = 21.6 pH, whose loop inductance (posts shorted
at one end, current out through one and back through the other) is L1 + L2 - 2 M = 138.6 pH and whose
parallel inductance (both posts carrying half the current the same way) is (L + M) / 2 = 56.25 pH.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from moldstack.analysis.network import REFERENCE, Branch, Capacitor, Network
from moldstack.exporters.spice import spice_node_names, spice_subcircuit, write_spice

POST_L_H = 90.9e-12
POST_M_H = 21.6e-12
POST_R_OHM = 0.2927e-3
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _network(
    branches: Sequence[Branch],
    inductance_h: Sequence[Sequence[float]] | None = None,
    *,
    pins: Sequence[str] | None = None,
    capacitors: Sequence[Capacitor] = (),
    name: str = "test.net",
) -> Network:
    """A network of ``branches`` (inductance matrix diagonal by default); pins default to every branch end."""
    if inductance_h is None:
        inductance_h = np.diag([b.l_h for b in branches])
    if pins is None:
        pins = list(dict.fromkeys(node for b in branches for node in (b.a, b.b)))
    return Network(
        name=name,
        pins=tuple(pins),
        branches=tuple(branches),
        inductance_h=np.asarray(inductance_h, dtype=float),
        capacitors=tuple(capacitors),
    )


def _post_pair() -> Network:
    """The reference post pair, each post from its bottom (a) to its top (b), names as the analysis writes them."""
    branches = (
        Branch("VDD:post1", "VDD", "VDD:logic/die1.C1", "VDD:hub:logic/U1", POST_R_OHM, POST_L_H),
        Branch("VSS:post2", "VSS", "VSS:logic/die1.C2", "VSS:hub:logic/U2", POST_R_OHM, POST_L_H),
    )
    m = [[POST_L_H, POST_M_H], [POST_M_H, POST_L_H]]
    return _network(branches, m, name="pop.logic")


def _lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def _subckt_ports(text: str) -> tuple[str, list[str]]:
    """The subcircuit's name and ports, read from its ``.subckt`` line and continuations."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(".subckt"))
    words = lines[start].split()
    for line in lines[start + 1 :]:
        if not line.startswith("+"):
            break
        words += line[1:].split()
    return words[1], words[2:]


# ---- the text ---------------------------------------------------------------------------------------------


def test_post_pair_text_has_ports_elements_and_coupling() -> None:
    text = spice_subcircuit(_post_pair(), title="reference post pair")
    name, ports = _subckt_ports(text)
    assert name == "pop_logic"
    assert ports == ["VDD_logic_die1_C1", "VDD_hub_logic_U1", "VSS_logic_die1_C2", "VSS_hub_logic_U2"]
    assert text.splitlines()[0] == "* reference post pair"
    assert _lines(text, "R") == ["R1 VDD_logic_die1_C1 mid1 0.0002927", "R2 VSS_logic_die1_C2 mid2 0.0002927"]
    assert _lines(text, "L") == ["L1 mid1 VDD_hub_logic_U1 9.09e-11", "L2 mid2 VSS_hub_logic_U2 9.09e-11"]
    (coupling,) = _lines(text, "K")
    assert coupling.split()[:3] == ["K1_2", "L1", "L2"]
    assert float(coupling.split()[3]) == pytest.approx(POST_M_H / POST_L_H, abs=5e-7)  # %.6g
    assert _lines(text, "C") == []
    assert text.rstrip().endswith(".ends pop_logic")
    assert "*   VDD_hub_logic_U1 = VDD:hub:logic/U1" in text
    assert "2 branches, 1 mutual coupling(s) written, 0 dropped" in text
    assert text.isascii()


def test_reference_port_only_when_a_capacitor_uses_it() -> None:
    pair = _post_pair()
    assert "REF" not in _subckt_ports(spice_subcircuit(pair))[1]
    caps = (
        Capacitor("VDD:logic/die1.C1", REFERENCE, 1e-13),
        Capacitor("VDD:logic/die1.C1", "VSS:logic/die1.C2", 4.5e-14),
    )
    with_caps = Network(pair.name, pair.pins, pair.branches, pair.inductance_h, caps)
    text = spice_subcircuit(with_caps)
    assert _subckt_ports(text)[1][-1] == "REF"
    assert _lines(text, "C") == [
        "C1 VDD_logic_die1_C1 REF 1e-13",
        "C2 VDD_logic_die1_C1 VSS_logic_die1_C2 4.5e-14",
    ]
    assert "3 capacitors" not in text
    assert "2 capacitors" in text


def test_node_names_are_safe_unique_and_not_ground() -> None:
    awkward = ["a:b", "a/b", "A.B", "a_b", "0", "gnd", "GND", "1st", "", "µ-bump", "ref", REFERENCE, "mid1"]
    branches = [
        Branch(f"b{i}", "N", awkward[i], awkward[i + 1], 1e-3, 1e-10 * (1 + i))
        for i in range(len(awkward) - 1)
    ]
    caps = [Capacitor(awkward[0], REFERENCE, 1e-12)]
    network = _network(branches, pins=awkward[:-2], capacitors=caps)
    names = spice_node_names(network)
    assert set(names) == set(awkward)
    spice = list(names.values())
    assert all(SAFE_NAME.match(n) for n in spice)
    assert len({n.lower() for n in spice}) == len(spice)
    assert names["a:b"] == "a_b"
    assert names["0"] == "n0"
    assert names["gnd"] == "ngnd"
    assert names["1st"] == "n1st"
    assert names[REFERENCE] == "REF"
    assert names["ref"] != "REF"
    text = spice_subcircuit(network)
    _, ports = _subckt_ports(text)
    assert ports == [names[p] for p in [*awkward[:-2], REFERENCE]]
    internal = {line.split()[2] for line in _lines(text, "R")}
    assert not internal & set(spice)
    assert len({n.lower() for n in internal}) == len(internal)


def test_long_port_lists_are_continued() -> None:
    branches = [
        Branch(f"b{i}", "N", f"pin_number_{i}", f"pin_number_{i + 1}", 1e-3, 1e-10) for i in range(30)
    ]
    text = spice_subcircuit(_network(branches))
    assert max(len(line) for line in text.splitlines() if not line.startswith("*")) <= 100
    _, ports = _subckt_ports(text)
    assert ports == [f"pin_number_{i}" for i in range(31)]


def test_coupling_sign_follows_branch_directions_and_small_ones_are_dropped() -> None:
    self_l = [1e-10, 2e-10, 4e-10]
    m = [[self_l[0], -3e-11, 1e-14], [-3e-11, self_l[1], 2e-14], [1e-14, 2e-14, self_l[2]]]
    branches = [Branch(f"b{i}", "N", f"n{i}", f"n{i + 1}", 1e-3, self_l[i]) for i in range(3)]
    text = spice_subcircuit(_network(branches, m), k_min=1e-3)
    (coupling,) = _lines(text, "K")
    assert coupling.startswith("K1_2 L1 L2 ")
    assert float(coupling.split()[3]) == pytest.approx(-3e-11 / math.sqrt(2e-20), rel=1e-5)
    assert "1 mutual coupling(s) written, 2 dropped with |k| < k_min = 0.001" in text
    everything = spice_subcircuit(_network(branches, m), k_min=0.0)
    assert [line.split()[0] for line in _lines(everything, "K")] == ["K1_2", "K1_3", "K2_3"]
    assert "0 dropped" in everything


def test_zero_resistance_is_the_inductor_alone_and_zero_inductance_the_resistor_alone() -> None:
    branches = [Branch("ideal", "N", "p", "q", 0.0, 1e-10), Branch("resistive", "N", "q", "r", 2e-3, 0.0)]
    text = spice_subcircuit(_network(branches))
    assert _lines(text, "L") == ["L1 p q 1e-10"]
    assert _lines(text, "R") == ["R2 q r 0.002"]
    assert "mid" not in "\n".join(_lines(text, "R") + _lines(text, "L"))


@pytest.mark.parametrize(
    ("branch", "message"),
    [
        (Branch("bad", "N", "p", "q", -1e-3, 1e-10), "negative resistance"),
        (Branch("bad", "N", "p", "q", math.nan, 1e-10), "finite"),
        (Branch("bad", "N", "p", "q", 1e-3, -1e-10), "negative partial inductance"),
        (Branch("bad", "N", "p", "q", 0.0, 0.0), "short"),
        (Branch("bad", "N", "p", "p", 1e-3, 1e-10), "two different nodes"),
    ],
)
def test_bad_branches_are_refused(branch: Branch, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        spice_subcircuit(_network([branch], [[branch.l_h]]))
    assert "'bad'" in str(info.value)


def test_bad_inductance_matrices_are_refused() -> None:
    branches = [Branch("left", "N", "p", "q", 1e-3, 1e-10), Branch("right", "M", "r", "s", 1e-3, 1e-10)]
    with pytest.raises(ValueError, match=r"branches 1 'left' and 2 'right'.*k = M / sqrt\(L1 L2\) = 1\.2"):
        spice_subcircuit(_network(branches, [[1e-10, 1.2e-10], [1.2e-10, 1e-10]]))
    with pytest.raises(ValueError, match=r"\|k\| < 1"):
        spice_subcircuit(_network(branches, [[1e-10, -1e-10], [-1e-10, 1e-10]]))
    with pytest.raises(ValueError, match="not symmetric"):
        spice_subcircuit(_network(branches, [[1e-10, 2e-11], [3e-11, 1e-10]]))
    with pytest.raises(ValueError, match="diagonal entry 2"):
        spice_subcircuit(_network(branches, [[1e-10, 0.0], [0.0, 2e-10]]))
    with pytest.raises(ValueError, match="finite"):
        spice_subcircuit(_network(branches, [[1e-10, math.inf], [math.inf, 1e-10]]))
    with pytest.raises(ValueError, match="k_min"):
        spice_subcircuit(_network(branches), k_min=1.0)


def test_couplings_that_store_negative_energy_are_refused() -> None:
    """Pairwise |k| < 1 is not enough: three branches each coupled with k = -0.6 store negative energy."""
    self_l, m = 1e-10, -0.6e-10
    branches = [Branch(f"b{i}", "N", f"n{i}", f"x{i}", 1e-3, self_l) for i in range(3)]
    with pytest.raises(ValueError, match="not positive definite"):
        spice_subcircuit(_network(branches, [[self_l, m, m], [m, self_l, m], [m, m, self_l]]))


def test_coupling_to_a_branch_without_inductance_is_refused() -> None:
    branches = [Branch("wire", "N", "p", "q", 1e-3, 1e-10), Branch("film", "N", "q", "r", 1e-3, 0.0)]
    with pytest.raises(ValueError, match=r"'wire' and 'film'.*no self inductance"):
        spice_subcircuit(_network(branches, [[1e-10, 1e-12], [1e-12, 0.0]]))


@pytest.mark.parametrize("value", [-1e-12, math.nan])
def test_bad_capacitors_are_refused(value: float) -> None:
    branches = [Branch("b", "N", "p", "q", 1e-3, 1e-10)]
    with pytest.raises(ValueError, match="capacitor 1 between 'p' and 'REF'"):
        spice_subcircuit(_network(branches, capacitors=[Capacitor("p", REFERENCE, value)]))


def test_titles_and_notes_stay_inside_comments() -> None:
    pair = _post_pair()
    noted = Network(pair.name, pair.pins, pair.branches, pair.inductance_h, notes=("line one\n.end",))
    text = spice_subcircuit(noted, title="two\nlines")
    assert text.splitlines()[0] == "* two lines"
    assert not any(line.startswith(".end") and line != ".ends pop_logic" for line in text.splitlines())


def test_write_spice_writes_the_text_atomically(tmp_path: Path) -> None:
    target = tmp_path / "pair.sp"
    target.write_text("old")
    assert write_spice(_post_pair(), target, k_min=0.5) == target
    assert target.read_text() == spice_subcircuit(_post_pair(), k_min=0.5)
    assert [p.name for p in tmp_path.iterdir()] == ["pair.sp"]


# ---- the circuit, simulated by ngspice -------------------------------------------------------------------

FREQUENCY_HZ = 1e6
OMEGA = 2.0 * math.pi * FREQUENCY_HZ
_RESULT = re.compile(r"^(\w+) = (\S+)$")


@pytest.fixture(scope="module")
def ngspice() -> str:
    path = shutil.which("ngspice")
    if path is None:
        pytest.skip("ngspice not installed (make test installs it with apt-get)")
    return path


def _simulate(
    ngspice: str,
    directory: Path,
    network: Network,
    instances: Mapping[str, Mapping[str, str]],
    bench: Sequence[str],
    control: Sequence[str],
) -> dict[str, float]:
    """Run ngspice in batch mode on a bench holding ``network``'s subcircuit once per entry of ``instances``
    (instance name -> {model port name: bench node}) plus the elements ``bench``; ``control`` are the
    commands of a ``.control`` block, whose ``print`` of scalar vectors gives the returned values."""
    text = spice_subcircuit(network)
    (directory / "network.sp").write_text(text)
    name, ports = _subckt_ports(text)
    spice_ports = [spice for model, spice in spice_node_names(network).items() if spice in ports]
    assert spice_ports == ports
    models = list(spice_node_names(network))[: len(ports)]
    lines = ["* moldstack SPICE bench", ".include network.sp"]
    lines += [f"X{inst} {' '.join(nodes[m] for m in models)} {name}" for inst, nodes in instances.items()]
    lines += [*bench, ".control", "set numdgt=12", *control, "quit 0", ".endc", ".end"]
    (directory / "bench.cir").write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [ngspice, "-b", "bench.cir"], cwd=directory, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert not re.search(r"^\s*error", output, re.IGNORECASE | re.MULTILINE), output
    return {m[1]: float(m[2]) for line in output.splitlines() if (m := _RESULT.match(line.strip()))}


def test_ngspice_dc_gives_the_series_resistance(ngspice: str, tmp_path: Path) -> None:
    """Two coupled branches in series between two pins: at DC the inductors are shorts, V/I = R1 + R2."""
    r1, r2 = 0.2927e-3, 1.5e-3
    branches = [
        Branch("VDD:wire", "VDD", "VDD:die.C1", "VDD:pad", r1, 1.2e-9),
        Branch("VDD:post", "VDD", "VDD:pad", "VDD:ball/B1", r2, 9.09e-11),
    ]
    network = _network(branches, [[1.2e-9, 5e-11], [5e-11, 9.09e-11]], pins=["VDD:die.C1", "VDD:ball/B1"])
    values = _simulate(
        ngspice,
        tmp_path,
        network,
        {"1": {"VDD:die.C1": "p", "VDD:ball/B1": "0"}},
        ["I1 0 p DC 1"],
        ["op", "let r_dc = v(p)", "print r_dc"],
    )
    assert values["r_dc"] == pytest.approx(r1 + r2, rel=1e-6)


def test_ngspice_ac_gives_the_loop_and_parallel_inductance_of_the_post_pair(
    ngspice: str, tmp_path: Path
) -> None:
    """Loop (posts shorted at the top, driven between the bottoms): Z = 2R + j omega (L1 + L2 - 2M) = 138.6 pH;
    parallel (bottoms tied and driven, tops grounded): Z = R/2 + j omega (L + M)/2 = 56.25 pH. Both signs of the
    coupling's effect come out right only if the dots sit on the branches' a-sides."""
    pair = _post_pair()
    loop = {
        "VDD:logic/die1.C1": "a",
        "VSS:logic/die1.C2": "0",
        "VDD:hub:logic/U1": "t",
        "VSS:hub:logic/U2": "t",
    }
    parallel = {
        "VDD:logic/die1.C1": "b",
        "VSS:logic/die1.C2": "b",
        "VDD:hub:logic/U1": "0",
        "VSS:hub:logic/U2": "0",
    }
    values = _simulate(
        ngspice,
        tmp_path,
        pair,
        {"loop": loop, "par": parallel},
        ["I1 0 a DC 0 AC 1", "I2 0 b DC 0 AC 1"],
        [
            f"ac lin 1 {FREQUENCY_HZ:g} {FREQUENCY_HZ:g}",
            "let loop_r = real(v(a))",
            f"let loop_l = imag(v(a)) / {OMEGA!r}",
            "let par_r = real(v(b))",
            f"let par_l = imag(v(b)) / {OMEGA!r}",
            "print loop_r loop_l par_r par_l",
        ],
    )
    assert values["loop_l"] == pytest.approx(138.6e-12, rel=1e-5)
    assert values["loop_r"] == pytest.approx(2 * POST_R_OHM, rel=1e-5)
    assert values["par_l"] == pytest.approx((POST_L_H + POST_M_H) / 2, rel=1e-5)
    assert values["par_r"] == pytest.approx(POST_R_OHM / 2, rel=1e-5)


def test_ngspice_ac_gives_the_capacitive_admittance(ngspice: str, tmp_path: Path) -> None:
    """Net A (A1 -> A2) and net B (B1 -> B2) with C(A1, REF) = 1 pF, C(B1, REF) = 2 pF, C(A1, B1) = 0.5 pF.
    Driving A1 with B1 and REF grounded: Y = j omega (1 + 0.5) pF. With B floating: the 0.5 pF in series with
    the 2 pF adds 0.4 pF, Y = j omega 1.4 pF (a 1 TOhm leak gives the floating net its DC level). The branches'
    j omega L is far below 1 / (omega C) at 1 MHz."""
    branches = [
        Branch("A:trace", "A", "A:die.1", "A:ball.1", 1e-3, 2e-10),
        Branch("B:trace", "B", "B:die.2", "B:ball.2", 1e-3, 2e-10),
    ]
    caps = [
        Capacitor("A:die.1", REFERENCE, 1e-12),
        Capacitor("B:die.2", REFERENCE, 2e-12),
        Capacitor("A:die.1", "B:die.2", 0.5e-12),
    ]
    network = _network(branches, [[2e-10, 3e-11], [3e-11, 2e-10]], capacitors=caps)
    grounded = {"A:die.1": "a", "A:ball.1": "a2", "B:die.2": "0", "B:ball.2": "b2", REFERENCE: "0"}
    floating = {"A:die.1": "c", "A:ball.1": "c2", "B:die.2": "d1", "B:ball.2": "d2", REFERENCE: "0"}
    values = _simulate(
        ngspice,
        tmp_path,
        network,
        {"g": grounded, "f": floating},
        ["V1 a 0 DC 0 AC 1", "V2 c 0 DC 0 AC 1", "Rleak d1 0 1e12"],
        [
            f"ac lin 1 {FREQUENCY_HZ:g} {FREQUENCY_HZ:g}",
            f"let c_grounded = -imag(i(v1)) / {OMEGA!r}",
            f"let c_floating = -imag(i(v2)) / {OMEGA!r}",
            "print c_grounded c_floating",
        ],
    )
    assert values["c_grounded"] == pytest.approx(1.5e-12, rel=1e-6)
    assert values["c_floating"] == pytest.approx(1.4e-12, rel=1e-6)
