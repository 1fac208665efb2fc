"""What a throughput measurement says, decided from its numbers alone (no torch, no clock).

A pair's ratio (method throughput / baseline throughput) is only worth reading when the run's
own control says the machine could resolve it: the A/A ratio (a second copy of the baseline against
the baseline) must lie within ``1 +- aa_tolerance``, and the machine must not have been shared with
other work (load average within the cores). Otherwise the verdict is INVALID with the reasons,
never BELOW or OK.
"""

import random
import statistics
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Tuple

AA_TOLERANCE = 0.05  # |A/A - 1| beyond this: the machine's timing noise swamps the ratios
LOAD_SLACK = 0.5  # load average allowed above the core count (short system tasks, the shell, ...)
COMPARE_TOLERANCE = 0.02  # a ratio that fell by more than this against the baseline is a regression


@dataclass(frozen=True)
class Verdict:
    """``status`` is OK, WITHIN NOISE, BELOW or INVALID; ``reasons`` say why a run is INVALID."""

    status: str
    reasons: Tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.status != "INVALID"

    def __str__(self) -> str:
        return f"{self.status} ({'; '.join(self.reasons)})" if self.reasons else self.status


def load_reasons(
    load_before: Optional[float],
    load_after: Optional[float],
    cores: int,
    threads: int,
    slack: float = LOAD_SLACK,
) -> Tuple[str, ...]:
    """Why the machine was too busy to time on, if it was.

    ``load_before`` (1-minute load average read before the run started) is other processes'
    demand, so with this run's ``threads`` added it must fit the ``cores``; ``load_after`` (read
    when a pair's timing ended) already counts this run. Both may exceed ``cores`` by ``slack``.
    ``None``: not available (no ``os.getloadavg`` on this platform), not judged.
    """
    limit = cores + slack
    reasons = []
    if load_before is not None and load_before + threads > limit:
        reasons.append(
            f"load average {load_before:.1f} before start + {threads} threads of this run "
            f"on {cores} cores"
        )
    if load_after is not None and load_after > limit:
        reasons.append(f"load average {load_after:.1f} on {cores} cores")
    return tuple(reasons)


def judge(
    ratio: float,
    target: float,
    aa: float,
    aa_tolerance: float = AA_TOLERANCE,
    load: Sequence[str] = (),
    ratio_interval: Optional[Tuple[float, float]] = None,
) -> Verdict:
    """The verdict on one pair.

    INVALID when ``|aa - 1| > aa_tolerance`` or ``load`` (from :func:`load_reasons`) names a reason;
    otherwise OK when ``ratio >= target``, WITHIN NOISE when the shortfall is no larger than the A/A
    control's own distance from 1 or the ratio's interval (``ratio_interval``, e.g. its 95 % bootstrap
    interval) reaches the target, else BELOW: a ratio is called below its target only when neither the
    control nor the ratio's own spread can account for the shortfall.
    """
    reasons = []
    if not abs(aa - 1) <= aa_tolerance:  # written so that a NaN A/A is invalid too
        reasons.append(f"A/A {aa:.3f} outside 1 +- {aa_tolerance:g}")
    reasons.extend(load)
    if reasons:
        return Verdict("INVALID", tuple(reasons))
    if ratio >= target:
        return Verdict("OK")
    if ratio >= target - abs(aa - 1) or (
        ratio_interval is not None and ratio_interval[1] >= target
    ):
        return Verdict("WITHIN NOISE")
    return Verdict("BELOW")


def ratio_ci(
    numerator_seconds: Sequence[float],
    denominator_seconds: Sequence[float],
    level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> Tuple[float, float]:
    """Bootstrap interval of the throughput ratio ``median(denominator) / median(numerator)``.

    The two lists are paired by round (step i of both models ran in the same round), so rounds are
    resampled together, keeping what a slow round did to both.
    """
    if len(numerator_seconds) != len(denominator_seconds) or not numerator_seconds:
        raise ValueError(
            f"ratio_ci needs two equally long, non-empty lists of step times, got "
            f"{len(numerator_seconds)} and {len(denominator_seconds)}"
        )
    rng = random.Random(seed)
    n = len(numerator_seconds)
    ratios = []
    for _ in range(resamples):
        rounds = [rng.randrange(n) for _ in range(n)]
        num = statistics.median(numerator_seconds[i] for i in rounds)
        den = statistics.median(denominator_seconds[i] for i in rounds)
        ratios.append(den / num)
    ratios.sort()
    tail = (1 - level) / 2
    return ratios[int(tail * (resamples - 1))], ratios[int((1 - tail) * (resamples - 1))]


COMPARED_SETTINGS = ("device", "dataset", "batch")  # ratios measured otherwise are not comparable


@dataclass(frozen=True)
class Comparison:
    """One pair against the baseline: ``status`` is ok, REGRESSION or not compared (with why)."""

    pair: str
    status: str
    ratio: Optional[float] = None
    baseline_ratio: Optional[float] = None

    @property
    def change(self) -> Optional[float]:
        if self.ratio is None or self.baseline_ratio is None:
            return None
        return self.ratio - self.baseline_ratio

    @property
    def regression(self) -> bool:
        return self.status.startswith("REGRESSION")


def compare(current: Mapping, baseline: Mapping, tolerance: float = COMPARE_TOLERANCE):
    """Each pair of the ``current`` results against the same pair in ``baseline`` (both as written
    to the JSON results file). A valid ratio that fell by more than ``tolerance`` below a valid
    baseline ratio, measured with the same settings, is a REGRESSION; a pair that cannot be judged
    says why.
    """
    differing = [
        f"{key} {baseline['settings'].get(key)!r} vs {current['settings'].get(key)!r}"
        for key in COMPARED_SETTINGS
        if baseline["settings"].get(key) != current["settings"].get(key)
    ]
    baseline_pairs = {p["pair"]: p for p in baseline["pairs"]}
    results = []
    for pair in current["pairs"]:
        name, ratio = pair["pair"], pair["ratio"]
        base = baseline_pairs.get(name)
        base_ratio = None if base is None else base["ratio"]
        if base is None:
            status = "not compared (not in the baseline)"
        elif differing:
            status = f"not compared (baseline measured with {', '.join(differing)})"
        elif not base["valid"]:
            status = f"not compared (baseline {base['verdict']})"
        elif not pair["valid"]:
            status = "not compared (this run INVALID)"
        elif ratio < base_ratio - tolerance:
            status = f"REGRESSION (ratio fell {base_ratio - ratio:.3f} > {tolerance:g})"
        else:
            status = "ok"
        results.append(Comparison(name, status, ratio, base_ratio))
    return results
