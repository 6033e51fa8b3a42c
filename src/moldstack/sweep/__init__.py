"""Design sweeps: vary spec values over a design of experiments, evaluate each variant, find the Pareto front.

- :mod:`~moldstack.sweep.doe`: factors (``--vary`` texts) and the variants that cover them (full factorial,
  Latin hypercube, Sobol');
- :mod:`~moldstack.sweep.variants`: spec paths, and a spec with a variant's values set;
- :mod:`~moldstack.sweep.evaluate`: one variant validated, built and analysed into one row of scalars;
- :mod:`~moldstack.sweep.pareto`: the non-dominated variants, drawn and tabulated.
- :mod:`~moldstack.sweep.engine`: the sweep run on Dask (a local cluster or a scheduler's address);
- :mod:`~moldstack.sweep.store`: the results folder, Parquet parts written whole as variants finish, and resume;
- :mod:`~moldstack.sweep.report`: the sweep's HTML page.
"""

from moldstack.sweep.doe import DESIGN_KINDS, MAX_FULL_FACTORIAL, Factor, design, parse_vary
from moldstack.sweep.engine import SweepInterrupted, SweepProgress, SweepResult, echo_variant, run_sweep
from moldstack.sweep.evaluate import ANALYSES, EvalSettings, evaluate_variant, output_columns
from moldstack.sweep.pareto import pareto_front, pareto_mask, parse_objectives, write_pareto
from moldstack.sweep.report import write_sweep_report
from moldstack.sweep.store import ResultStore, SweepStoreError, read_identity, read_results
from moldstack.sweep.variants import SweepInputError, apply, check_paths, parse_path

__all__ = [
    "ANALYSES",
    "DESIGN_KINDS",
    "MAX_FULL_FACTORIAL",
    "EvalSettings",
    "Factor",
    "ResultStore",
    "SweepInputError",
    "SweepInterrupted",
    "SweepProgress",
    "SweepResult",
    "SweepStoreError",
    "apply",
    "check_paths",
    "design",
    "echo_variant",
    "evaluate_variant",
    "output_columns",
    "pareto_front",
    "pareto_mask",
    "parse_objectives",
    "parse_path",
    "parse_vary",
    "read_identity",
    "read_results",
    "run_sweep",
    "write_pareto",
    "write_sweep_report",
]
