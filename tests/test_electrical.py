"""The electrical analysis end to end (moldstack.analysis.electrical), its SPICE model in ngspice, the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import moldstack
from moldstack.analysis.electrical import ElectricalInputError, ElectricalSettings, electrical
from moldstack.analysis.nets import extract_nets
from moldstack.analysis.resistance import net_resistance
from moldstack.cli import app
from moldstack.exporters.spice import spice_node_names, spice_subcircuit

EXAMPLE = "examples/claim3_pad_protrusion.yaml"
NETS = ["VDD", "VSS"]


@pytest.fixture(scope="module")
def model() -> moldstack.Model:
    return moldstack.build(moldstack.load(EXAMPLE))


@pytest.fixture(scope="module")
def result(model: moldstack.Model):
    return electrical(model, NETS, settings=ElectricalSettings(capacitance=False), loops=[("VDD", ["VSS"])])


def test_figures_are_consistent(model: moldstack.Model, result) -> None:
    """Per net: R (DC) is the field solve's; the formula within 3 % of it (a wire-bonded pad-protrusion net:
    the stitch's spreading into the pad is the difference); the AC estimate above DC at 1 GHz; the partial
    self inductance of a ~1.7 mm wire plus pad within 10 % of 1 nH/mm (physics.md's rule of thumb); the L
    matrix symmetric positive definite; the loop of VDD with VSS equals ``L11 + L22 - 2 L12`` (1e-9)."""
    nets = extract_nets(model, NETS)
    for fig, net in zip(result.nets, nets, strict=True):
        assert fig.r_dc_ohm == pytest.approx(net_resistance(model, net).r_ohm, rel=1e-9)
        assert fig.r_formula_ohm == pytest.approx(fig.r_dc_ohm, rel=0.03)
        assert fig.r_ac_ohm > 1.5 * fig.r_dc_ohm
        wire = next(b for b in net.branches if "wire_bond" in b.name)
        length_mm = sum(s.length for s in wire.segments) / 1e3
        assert fig.l_partial_h * 1e9 == pytest.approx(length_mm, rel=0.10)
    lm = result.inductance_h * 1e9
    assert np.allclose(lm, lm.T, rtol=1e-12, atol=0)
    assert np.all(np.linalg.eigvalsh(lm) > 0)
    loop = result.loops[0]
    assert loop.loop.l_h * 1e9 == pytest.approx(lm[0, 0] + lm[1, 1] - 2 * lm[0, 1], rel=1e-9, abs=0)
    data = result.to_dict()
    assert data["units"]["l"] == "nH" and "quasi_static" in data
    assert data["inductance_matrix_nh"]["nets"] == NETS


def test_unknown_net_and_bad_loop_are_input_errors(model: moldstack.Model, result) -> None:
    with pytest.raises(ElectricalInputError, match="'GND' is not in"):
        electrical(model, ["GND"], settings=ElectricalSettings(capacitance=False))
    with pytest.raises(ElectricalInputError, match="return nets"):
        result.loop("VDD", [])
    with pytest.raises(ElectricalInputError, match="'CLK' is not in this analysis"):
        result.loop("VDD", ["CLK"])


def _ngspice() -> str:
    path = shutil.which("ngspice")
    if path is None:
        pytest.skip("ngspice not installed (make test installs it with apt-get)")
    return path


def _simulate(tmp_path: Path, text: str, bench: list[str], control: list[str]) -> dict[str, float]:
    (tmp_path / "net.sp").write_text(text)
    lines = [
        "* bench",
        ".include net.sp",
        *bench,
        ".control",
        "set numdgt=12",
        *control,
        "quit 0",
        ".endc",
        ".end",
    ]
    (tmp_path / "bench.cir").write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [_ngspice(), "-b", "bench.cir"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    found = re.findall(r"^\s*(\w+)\s*=\s*([-+0-9.eE]+)", out, re.MULTILINE)
    return {k: float(v) for k, v in found}


def test_spice_model_reproduces_r_and_loop_l_in_ngspice(result, tmp_path: Path) -> None:
    """The exported subcircuit, simulated by ngspice: at DC, 1 A from VDD's contact to its bottom end gives
    the field-solved R (1e-4: the branch resistances are scaled to it); at 1 MHz, VDD and VSS shorted at the
    die and driven at their bottom ends give the loop inductance within 1 % (couplings under k = 1e-3 are
    dropped from the netlist, and k is written to 6 digits)."""
    net = result.network
    names = spice_node_names(net)
    text = spice_subcircuit(net)
    sub = re.search(r"^\.subckt (\S+) (.*)$", text.replace("\n+", " "), re.MULTILINE)
    assert sub is not None
    ports = sub.group(2).split()
    nodes = {p: f"n_{p}" for p in ports}
    vdd_c, vdd_b = names["VDD:pkg/die1.C1"], names["VDD:pkg/U1.bottom"]
    vss_c, vss_b = names["VSS:pkg/die1.C21"], names["VSS:pkg/U21.bottom"]
    inst = f"X1 {' '.join(nodes[p] for p in ports)} {sub.group(1)}"
    dc = _simulate(
        tmp_path,
        text,
        [inst, f"I1 0 {nodes[vdd_c]} DC 1", f"V1 {nodes[vdd_b]} 0 DC 0", f"V2 {nodes[vss_b]} 0 DC 0"],
        ["op", f"let r_dc = v({nodes[vdd_c]})", "print r_dc"],
    )
    assert dc["r_dc"] == pytest.approx(result.net("VDD").r_dc_ohm, rel=1e-4)
    ac = _simulate(
        tmp_path,
        text,
        [
            inst,
            f"Rs {nodes[vdd_c]} {nodes[vss_c]} 1e-12",
            f"I1 {nodes[vss_b]} {nodes[vdd_b]} DC 0 AC 1",
            f"V2 {nodes[vss_b]} 0 DC 0",
        ],
        ["ac lin 1 1e6 1e6", f"let l_loop = imag(v({nodes[vdd_b]}))/(2*pi*1e6)", "print l_loop"],
    )
    assert ac["l_loop"] == pytest.approx(result.loops[0].loop.l_h, rel=0.01, abs=0)


def test_cli_writes_json_and_spice(tmp_path: Path) -> None:
    """`moldstack electrical` writes electrical.json and interconnect.sp atomically; bad input exits 2."""
    runner = CliRunner()
    out = tmp_path / "el"
    done = runner.invoke(
        app,
        ["electrical", EXAMPLE, "--nets", "VDD,VSS", "--no-capacitance", "--loop", "VDD:VSS", "-o", str(out)],
    )
    assert done.exit_code == 0, done.output
    data = json.loads((out / "electrical.json").read_text())
    assert [n["name"] for n in data["nets"]] == NETS
    assert data["loops"][0]["signal"] == "VDD"
    assert (out / "interconnect.sp").read_text().count(".subckt") == 1
    for args, words in (
        (["--nets", "NOPE"], "'NOPE' is not in"),
        (["--loop", "VDD"], "SIGNAL:RETURN"),
        (["--frequency", "0"], "greater than 0"),
        (["--k-min", "1.5"], "below 1"),
    ):
        bad = runner.invoke(app, ["electrical", EXAMPLE, "--no-capacitance", *args])
        assert bad.exit_code == 2, bad.output
        assert words in bad.output


SMALL = """
moldstack: 1
name: small-pads
assemblies:
  - name: pkg
    body: {size_um: [3000, 3000], thickness_um: 500}
    dies:
      - name: die1
        size_um: [1400, 1400]
        thickness_um: 200
        standoff_um: 50
        attach: {material: die_attach, thickness_um: 25}
        contacts: {count_per_edge: 2, pitch_um: 500, inset_um: 100}
    units:
      - layout: rows
        pitch_um: 600
        offset_um: 400
        count_per_edge: 2
        unit:
          shape: pad_protrusion
          pad: {shape: square, size_um: 250, thickness_um: 50}
          protrusion_diameter_um: 120
    interconnects:
      - kind: wire_bond
        diameter_um: 25
        loop_height_um: 120
    nets: {die1.C1: VDD, die1.C2: VSS}
"""


def test_build_writes_electrical_with_capacitance(tmp_path: Path) -> None:
    """`moldstack build` writes electrical.json (with the capacitance matrix, screening grid) and interconnect.sp
    for a small 8-net package; the SPICE carries one capacitance to REF per net; the Maxwell matrix is
    symmetric with a positive diagonal and non-positive off-diagonal entries."""
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL)
    out = tmp_path / "out"
    done = CliRunner().invoke(
        app,
        [
            "build",
            str(spec),
            "-o",
            str(out),
            *(
                a
                for o in ("step", "glb", "thermal", "gds", "checks", "warpage", "render", "sections")
                for a in ("--skip", o)
            ),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "electrical: 8 nets" in done.output
    data = json.loads((out / "electrical.json").read_text())
    c = np.array(data["capacitance"]["maxwell_pf"])
    assert c.shape == (8, 8)
    assert np.allclose(c, c.T) and np.all(np.diag(c) > 0) and np.all(c - np.diag(np.diag(c)) <= 0)
    text = (out / "interconnect.sp").read_text()
    assert len(re.findall(r"^C\d+ \S+ REF ", text, re.MULTILINE)) == 8
