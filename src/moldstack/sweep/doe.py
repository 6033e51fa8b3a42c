"""Design of experiments: the factors a sweep varies and the variants that cover them.

A :class:`Factor` is one spec path (see :mod:`moldstack.sweep.variants`) with either a list of values or a range
(``start`` to ``stop`` in ``n`` levels, evenly spaced or, with ``log``, in equal ratios). :func:`parse_vary` reads
the command line's ``--vary`` text into one; :func:`design` turns factors into variants (a full factorial, a Latin
hypercube or a scrambled Sobol' sequence), each a mapping path -> plain Python value. Knows nothing of specs
beyond the path text, nor of building or analysing.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from scipy.stats import qmc

from moldstack.sweep.variants import SweepInputError, parse_path

MAX_FULL_FACTORIAL = 100_000  # variants a full factorial may have
LEVEL_DIGITS = 12  # significant digits the levels of a range keep (0.30000000000000004 -> 0.3)

DesignKind = Literal["full", "lhs", "sobol"]
DESIGN_KINDS: tuple[DesignKind, ...] = ("full", "lhs", "sobol")
_VARY_FORMS = "give PATH=START:STOP:N, PATH=log:START:STOP:N or PATH=a,b,c"


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tidy(value: float) -> float:
    return float(f"{value:.{LEVEL_DIGITS}g}")


@dataclass(frozen=True)
class Factor:
    """One varied spec value: ``path`` and either ``values`` (a list factor) or a range ``start`` .. ``stop`` in
    ``n`` levels, evenly spaced, or evenly spaced in the logarithm when ``log`` (both ends then > 0).

    :attr:`levels` are the values of a full factorial; :meth:`at` maps a number in [0, 1) to a value for the
    space-filling designs. A range from a whole number to a whole number whose levels are all whole gives
    ``int`` levels (``count_per_edge=10:20:3`` -> 10, 15, 20), so integer fields take them as they are; the
    space-filling designs sample a range continuously, so vary an integer field there with a list.
    """

    path: str
    values: tuple[Any, ...] | None = None
    start: float | None = None
    stop: float | None = None
    n: int | None = None
    log: bool = False

    def __post_init__(self) -> None:
        parse_path(self.path)
        if self.values is not None:
            if not isinstance(self.values, tuple):
                object.__setattr__(self, "values", tuple(self.values))
            if self.start is not None or self.stop is not None or self.n is not None or self.log:
                raise SweepInputError(f"factor {self.path}: give either values or a range, not both")
            if not self.values:
                raise SweepInputError(f"factor {self.path}: give at least one value")
            return
        if self.start is None or self.stop is None or self.n is None:
            raise SweepInputError(f"factor {self.path}: give values, or start, stop and n of a range")
        for name in ("start", "stop"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise SweepInputError(f"factor {self.path}: {name} = {value!r} must be a finite number")
        if not _whole(self.n) or self.n < 2:
            raise SweepInputError(f"factor {self.path}: n = {self.n!r} levels: a range needs at least 2")
        if self.start == self.stop:
            raise SweepInputError(
                f"factor {self.path}: start and stop are both {self.start}; a range needs two"
            )
        if self.log and not (self.start > 0 and self.stop > 0):
            raise SweepInputError(
                f"factor {self.path}: a log range needs start and stop > 0 (start {self.start}, stop {self.stop})"
            )

    @property
    def is_range(self) -> bool:
        return self.values is None

    @property
    def levels(self) -> tuple[Any, ...]:
        """The full-factorial levels: the values, or ``n`` points from ``start`` to ``stop`` inclusive."""
        if self.values is not None:
            return self.values
        assert self.start is not None and self.stop is not None and self.n is not None
        if self.log:
            lo, hi = math.log(self.start), math.log(self.stop)
            points = [math.exp(lo + (hi - lo) * i / (self.n - 1)) for i in range(self.n)]
            points[0], points[-1] = float(self.start), float(self.stop)
        else:
            step = (self.stop - self.start) / (self.n - 1)
            points = [self.start + step * i for i in range(self.n)]
            points[-1] = float(self.stop)
        tidy = tuple(_tidy(p) for p in points)
        if not self.log and _whole(self.start) and _whole(self.stop) and all(p.is_integer() for p in tidy):
            return tuple(int(p) for p in tidy)
        return tidy

    def at(self, u: float) -> Any:
        """The value at ``u`` in [0, 1): on a range, continuous from start to stop (log-uniform when ``log``);
        on a list, the level ``floor(u * len(values))``."""
        u = min(max(float(u), 0.0), 1.0)
        if self.values is not None:
            return self.values[min(math.floor(u * len(self.values)), len(self.values) - 1)]
        assert self.start is not None and self.stop is not None
        if self.log:
            lo, hi = math.log(self.start), math.log(self.stop)
            return float(math.exp(lo + (hi - lo) * u))
        return float(self.start + (self.stop - self.start) * u)


def _number(text: str) -> int | float | None:
    """``text`` as an int (whole-number text) or a finite float, else None."""
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_vary(text: str) -> Factor:
    """Read one ``--vary`` text: ``PATH=START:STOP:N`` (N >= 2 evenly spaced levels), ``PATH=log:START:STOP:N``
    (equal ratios; START, STOP > 0) or ``PATH=a,b,c`` (numbers become int or float, anything else a string;
    one type per list: all floats when any number has a fraction or exponent, all strings when any is not a
    number).

    Raises :class:`SweepInputError` naming the text, the part that is wrong and the rule.
    """

    def fail(part: str, rule: str) -> SweepInputError:
        return SweepInputError(f"--vary '{text}': {part}: {rule}")

    path, sep, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not sep:
        raise fail("no '='", _VARY_FORMS)
    if not path:
        raise fail("no PATH before '='", _VARY_FORMS)
    try:
        parse_path(path)
    except SweepInputError as exc:
        raise fail(f"PATH '{path}'", str(exc).split(": ", 1)[-1]) from None
    if not spec:
        raise fail("nothing after '='", _VARY_FORMS)
    if ":" in spec:
        parts = [p.strip() for p in spec.split(":")]
        log = parts[0].lower() == "log"
        if log:
            parts = parts[1:]
        form = "PATH=log:START:STOP:N" if log else "PATH=START:STOP:N"
        if len(parts) != 3:
            raise fail(
                f"'{spec}'", f"give {form} (three parts after {'log:' if log else '='}, not {len(parts)})"
            )
        start, stop = _number(parts[0]), _number(parts[1])
        for name, raw, value in (("START", parts[0], start), ("STOP", parts[1], stop)):
            if value is None:
                raise fail(f"{name} '{raw}'", f"must be a finite number ({form})")
        if not re.fullmatch(r"\d+", parts[2]) or int(parts[2]) < 2:
            raise fail(f"N '{parts[2]}'", f"must be a whole number of levels, at least 2 ({form})")
        if start == stop:
            raise fail(f"START and STOP '{parts[0]}', '{parts[1]}'", "are equal; a range needs two ends")
        if log and not (start > 0 and stop > 0):  # type: ignore[operator]
            raise fail(f"START, STOP '{parts[0]}', '{parts[1]}'", "a log range needs both > 0")
        return Factor(path, start=start, stop=stop, n=int(parts[2]), log=log)
    items = [p.strip() for p in spec.split(",")]
    values: list[Any] = []
    for i, item in enumerate(items):
        if not item:
            raise fail(f"value {i + 1}", "is empty (PATH=a,b,c)")
        number = _number(item)
        value = number if number is not None else item
        if value in values:
            raise fail(f"value {i + 1} '{item}'", "is given twice; give each level once")
        values.append(value)
    if any(isinstance(v, str) for v in values):  # one type per column: mixed lists stay as written
        values = list(items)
    elif any(isinstance(v, float) for v in values):
        values = [float(v) for v in values]
    return Factor(path, values=tuple(values))


def _unit_samples(kind: DesignKind, d: int, samples: int, seed: int) -> Any:
    if kind == "lhs":
        return qmc.LatinHypercube(d, seed=seed).random(samples)
    sobol = qmc.Sobol(d, scramble=True, seed=seed)
    if samples & (samples - 1) == 0:
        return sobol.random_base2(samples.bit_length() - 1)
    with warnings.catch_warnings():  # the docstring says it: balance needs a power of two
        warnings.filterwarnings("ignore", message="The balance properties of Sobol", category=UserWarning)
        return sobol.random(samples)


def design(
    factors: Sequence[Factor],
    kind: DesignKind = "full",
    samples: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The variants of a sweep, each a dict path -> value (plain Python numbers or strings), in factor order.

    - ``full``: every combination of the factors' :attr:`~Factor.levels` (``itertools.product``, the last factor
      varying fastest); ``samples`` is not used. At most :data:`MAX_FULL_FACTORIAL` variants.
    - ``lhs``: ``samples`` points of a Latin hypercube (``scipy.stats.qmc.LatinHypercube``): each factor's range
      cut into ``samples`` equal strata (equal in the logarithm for a log range) holds exactly one point.
    - ``sobol``: ``samples`` points of a scrambled Sobol' sequence (``scipy.stats.qmc.Sobol``). Its balance
      properties hold only when ``samples`` is a power of two (then drawn with ``random_base2``); other counts
      are drawn as the first ``samples`` points, less evenly spread.

    The space-filling designs map each unit-interval coordinate through :meth:`Factor.at`. The same factors,
    kind, samples and ``seed`` always give the same variants.
    """
    factors = list(factors)
    if kind not in DESIGN_KINDS:
        raise SweepInputError(f"design '{kind}': is not one of {', '.join(DESIGN_KINDS)}")
    if not factors:
        raise SweepInputError(f"design '{kind}': no factors; give at least one PATH=... to vary")
    paths = [f.path for f in factors]
    twice = sorted({p for p in paths if paths.count(p) > 1})
    if twice:
        raise SweepInputError(f"design '{kind}': {', '.join(twice)} varied twice; give each path once")
    if kind == "full":
        count = math.prod(len(f.levels) for f in factors)
        if count > MAX_FULL_FACTORIAL:
            sizes = " x ".join(str(len(f.levels)) for f in factors)
            raise SweepInputError(
                f"design 'full': {sizes} = {count:,} variants is more than {MAX_FULL_FACTORIAL:,}; use fewer "
                "levels, or lhs / sobol with a number of samples"
            )
        return [
            dict(zip(paths, combo, strict=True)) for combo in itertools.product(*(f.levels for f in factors))
        ]
    if samples is None or isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise SweepInputError(f"design '{kind}': samples = {samples!r}; give a whole number of samples >= 1")
    units = _unit_samples(kind, len(factors), samples, seed)
    return [{f.path: f.at(u) for f, u in zip(factors, row, strict=True)} for row in units.tolist()]


__all__ = [
    "DESIGN_KINDS",
    "MAX_FULL_FACTORIAL",
    "DesignKind",
    "Factor",
    "SweepInputError",
    "design",
    "parse_vary",
]
