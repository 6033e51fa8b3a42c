"""The material library: the properties every analysis reads, each value with its source.

Holds frozen :class:`Material` definitions and the built-in :data:`LIBRARY`. Values are SI
(W/m K, ppm/K, GPa, Ohm m, kg/m^3). It knows nothing of the spec or the geometry: the spec adds
user materials by calling :func:`library_with`.

Where the literature gives a range (``../shared/design/physics.md``), the default is a typical value inside
that range, and ``source`` says where the range comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Material:
    """Properties of one material. ``None`` means "not applicable" (e.g. resistivity of an insulator).

    Above ``tg_c`` a polymer expands by ``cte_above_tg_ppm_k`` and has the modulus ``youngs_above_tg_gpa``
    (its rubbery plateau); either left ``None`` keeps the value below Tg.
    """

    name: str
    description: str
    k_w_mk: float
    cte_ppm_k: float
    youngs_gpa: float
    poisson: float
    density_kg_m3: float
    conductor: bool
    resistivity_ohm_m: float | None = None
    eps_r: float | None = None
    cte_above_tg_ppm_k: float | None = None
    tg_c: float | None = None
    youngs_above_tg_gpa: float | None = None
    melting_c: float | None = None
    colour: str = "#999999"
    source: str = ""
    extra: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["extra"] = dict(self.extra)
        return data


_JEDEC_EMC = (
    "EMC: Sumitomo EME-G770H / Hitachi CEL-9750HF datasheets as summarised in Tummala, "
    "Fundamentals of Microsystems Packaging (2001), ch. 15; k 0.9 W/mK, CTE 9-11/36-37 ppm/K, Tg 120-130 C, "
    "E 23-25 GPa, eps_r 3.6-4; E above Tg (rubbery plateau) about 1 GPa, a typical flexural modulus at 260 C "
    "of such datasheets (roughly 0.5-2 GPa); cf. Sadeghinia, Jansen, Ernst, Int. J. Adhes. Adhes. 32 (2012) 82-88"
)

LIBRARY: dict[str, Material] = {
    m.name: m
    for m in (
        Material(
            name="emc",
            description="epoxy mold compound (silica filled)",
            k_w_mk=0.9,
            cte_ppm_k=10.0,
            cte_above_tg_ppm_k=36.5,
            tg_c=125.0,
            youngs_gpa=24.0,
            youngs_above_tg_gpa=1.0,
            poisson=0.30,
            density_kg_m3=1950.0,
            conductor=False,
            eps_r=3.8,
            colour="#3b3b3b",
            source=_JEDEC_EMC,
            extra={"tan_delta": 0.01},
        ),
        Material(
            name="silicon",
            description="single-crystal silicon die",
            k_w_mk=148.0,
            cte_ppm_k=2.6,
            youngs_gpa=130.0,
            poisson=0.28,
            density_kg_m3=2329.0,
            conductor=False,
            eps_r=11.7,
            colour="#6d7fa8",
            source=(
                "Hopcroft, Nix, Kenny, 'What is the Young's modulus of silicon?', J. MEMS 19 (2010) 229 "
                "(E 130-169 GPa); k 148 W/mK and CTE 2.6 ppm/K at 300 K: Okada & Tokumaru, "
                "J. Appl. Phys. 56 (1984) 314; Glassbrenner & Slack, Phys. Rev. 134 (1964) A1058"
            ),
        ),
        Material(
            name="copper",
            description="electroplated / wrought copper",
            k_w_mk=400.0,
            cte_ppm_k=17.0,
            youngs_gpa=115.0,
            poisson=0.34,
            density_kg_m3=8960.0,
            conductor=True,
            resistivity_ohm_m=1.72e-8,
            colour="#c87533",
            source="CRC Handbook of Chemistry and Physics, 97th ed. (2016): rho 1.72e-8 Ohm m (IACS), k 401 W/mK",
        ),
        Material(
            name="gold",
            description="gold bond wire (4N)",
            k_w_mk=317.0,
            cte_ppm_k=14.2,
            youngs_gpa=79.0,
            poisson=0.44,
            density_kg_m3=19300.0,
            conductor=True,
            resistivity_ohm_m=2.2e-8,
            colour="#d4af37",
            source="CRC Handbook of Chemistry and Physics, 97th ed. (2016); Heraeus bonding wire data book",
        ),
        Material(
            name="aluminium",
            description="Al-Cu bond pad metallisation",
            k_w_mk=237.0,
            cte_ppm_k=23.1,
            youngs_gpa=70.0,
            poisson=0.35,
            density_kg_m3=2700.0,
            conductor=True,
            resistivity_ohm_m=2.65e-8,
            colour="#a8a9ad",
            source="CRC Handbook of Chemistry and Physics, 97th ed. (2016)",
        ),
        Material(
            name="nickel",
            description="nickel (sacrificial or barrier metal)",
            k_w_mk=90.9,
            cte_ppm_k=13.4,
            youngs_gpa=200.0,
            poisson=0.31,
            density_kg_m3=8908.0,
            conductor=True,
            resistivity_ohm_m=6.99e-8,
            colour="#8c8c7a",
            source="CRC Handbook of Chemistry and Physics, 97th ed. (2016)",
        ),
        Material(
            name="sac305",
            description="Sn-3.0Ag-0.5Cu lead-free solder (reflowable)",
            k_w_mk=58.0,
            cte_ppm_k=21.5,
            youngs_gpa=50.0,
            poisson=0.36,
            density_kg_m3=7380.0,
            conductor=True,
            resistivity_ohm_m=1.3e-7,
            melting_c=220.0,
            colour="#b9bcc2",
            source=(
                "NIST/Colorado School of Mines, 'Database for solder properties with emphasis on new lead-free "
                "solders' (2002); liquidus 217-220 C per IPC J-STD-006"
            ),
        ),
        Material(
            name="bt",
            description="bismaleimide-triazine laminate (package substrate)",
            k_w_mk=0.6,
            cte_ppm_k=14.0,
            tg_c=210.0,
            youngs_gpa=23.0,
            poisson=0.20,
            density_kg_m3=1850.0,
            conductor=False,
            eps_r=4.1,
            colour="#5a7d3a",
            source="Mitsubishi Gas Chemical HL832NX datasheet (CTE 13-15 ppm/K in plane, Tg 210 C, E ~23 GPa)",
        ),
        Material(
            name="fr4",
            description="FR-4 glass-epoxy board laminate",
            k_w_mk=0.35,
            cte_ppm_k=15.0,
            tg_c=140.0,
            youngs_gpa=22.0,
            poisson=0.15,
            density_kg_m3=1850.0,
            conductor=False,
            eps_r=4.4,
            colour="#7a8b3a",
            source="IPC-4101/21 slash sheet; JESD51-7 test board laminate (k 0.3-0.7 W/mK in the stack)",
        ),
        Material(
            name="polyimide",
            description="polyimide dielectric base / passivation",
            k_w_mk=0.12,
            cte_ppm_k=20.0,
            youngs_gpa=2.5,
            poisson=0.34,
            density_kg_m3=1420.0,
            conductor=False,
            eps_r=3.4,
            colour="#a0522d",
            source="DuPont Kapton HN datasheet (k 0.12 W/mK, CTE 20 ppm/K, E 2.5 GPa, eps_r 3.4)",
        ),
        Material(
            name="solder_resist",
            description="liquid photoimageable solder resist",
            k_w_mk=0.25,
            cte_ppm_k=55.0,
            youngs_gpa=3.5,
            poisson=0.35,
            density_kg_m3=1500.0,
            conductor=False,
            eps_r=3.7,
            colour="#2e7d32",
            source="Taiyo PSR-4000 AUS308 datasheet",
        ),
        Material(
            name="die_attach",
            description="silver-filled epoxy die attach",
            k_w_mk=1.8,
            cte_ppm_k=55.0,
            youngs_gpa=2.5,
            poisson=0.35,
            density_kg_m3=3500.0,
            conductor=False,
            colour="#d8d2c4",
            source="Henkel Loctite Ablestik 84-1LMISR4 datasheet (k 2.5 W/mK, CTE 40/150 ppm/K); physics.md range",
        ),
        Material(
            name="thermal_adhesive",
            description="thermally conductive adhesive / TIM (high filler load)",
            k_w_mk=5.0,
            cte_ppm_k=45.0,
            youngs_gpa=3.3,
            poisson=0.35,
            density_kg_m3=3000.0,
            conductor=False,
            colour="#f2efe6",
            source="Henkel Loctite Ablestik ATB 125GR / Dow DA-6534 datasheets (k 3-5 W/mK); physics.md range",
        ),
        Material(
            name="film_attach",
            description="die attach film between stacked dies (DAF)",
            k_w_mk=0.3,
            cte_ppm_k=65.0,
            youngs_gpa=1.5,
            poisson=0.40,
            density_kg_m3=1200.0,
            conductor=False,
            colour="#cfe3f0",
            source="Hitachi HR-9004 / Nitto EM-700 die attach film datasheets",
        ),
        Material(
            name="air",
            description="air (an empty hollow centre or gap)",
            k_w_mk=0.026,
            cte_ppm_k=0.0,
            youngs_gpa=0.0,
            poisson=0.0,
            density_kg_m3=1.18,
            conductor=False,
            eps_r=1.0006,
            colour="#ffffff",
            source="CRC Handbook of Chemistry and Physics, 97th ed. (2016): dry air at 300 K, 1 atm",
        ),
    )
}


def library_with(user: Mapping[str, Material]) -> dict[str, Material]:
    """The built-in library with the user's materials added (a user definition replaces a built-in one)."""
    merged = dict(LIBRARY)
    merged.update(user)
    return merged
