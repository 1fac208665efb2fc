"""Paired comparisons of a method with its baseline over seeds, and the report files that show them.

For one pair, dataset and metric, over the n seeds s where both runs finished::

    d_s  = method_s − baseline_s           (same seed: same initialisation, data order, masks)
    d̄    = mean_s d_s,   s_d = std(d, ddof=1)
    CI95 = d̄ ± t(0.975; n−1) · s_d / √n   (Student's t with n − 1 degrees of freedom)

verdict: "gain reproduced" if the interval's lower bound is > 0, "worse" if its upper bound is
< 0, else "no difference". With n = 1 there is no spread: stds and the interval are None and the
verdict says so.

Writers: ``write_results_json`` (every number), ``write_markdown`` (the same as tables, with the
command and budget on top) and ``write_figure`` (paired differences with their intervals, one row
per comparison).
Usage::

    row = compare("M-MAE vs MAE", "digits", "knn_top1", seeds=[0, 1, 2],
                  baseline=[80.1, 79.5, 80.7], method=[81.0, 80.2, 81.9])
    row.verdict        # "gain reproduced"
    write_markdown("fidelity.md", [row], runs=[], header=["command: ..."])

Imports neither torch nor solo-learn: scipy for Student's t, matplotlib where the figure is drawn.
"""

import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

__all__ = [
    "GAIN",
    "METRICS",
    "NO_DIFFERENCE",
    "TOO_FEW",
    "WORSE",
    "Comparison",
    "compare",
    "mean_std",
    "paired_interval",
    "verdict",
    "write_figure",
    "write_markdown",
    "write_results_json",
]

GAIN, WORSE, NO_DIFFERENCE = "gain reproduced", "worse", "no difference"
TOO_FEW = "n < 2: no interval"
CONFIDENCE = 0.95
METRICS = {  # key in eval.json -> label in tables and figures
    "knn_top1": "kNN top-1 (k=10, Euclidean)",
    "linear_top1": "linear probe top-1",
}


def mean_std(values: Sequence[float]):
    """(mean, sample std with ddof=1); std is None for one value, both None for none."""
    if not values:
        return None, None
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def paired_interval(
    method: Sequence[float], baseline: Sequence[float], confidence: float = CONFIDENCE
):
    """(mean difference, std of the differences, low, high) of method − baseline, paired by index.

    The interval is d̄ ± t(1 − (1 − confidence)/2; n − 1) · s_d/√n; with one pair, std/low/high
    are None.
    """
    if len(method) != len(baseline):
        raise ValueError(
            f"paired values need equal lengths, got {len(method)} method and "
            f"{len(baseline)} baseline values"
        )
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    diffs = [m - b for m, b in zip(method, baseline)]
    mean, std = mean_std(diffs)
    if std is None:
        return mean, None, None, None
    from scipy.stats import t

    half = float(t.ppf(0.5 + confidence / 2, len(diffs) - 1)) * std / math.sqrt(len(diffs))
    return mean, std, mean - half, mean + half


def verdict(low: Optional[float], high: Optional[float]) -> str:
    """GAIN if the interval lies above 0, WORSE if below, NO_DIFFERENCE if it holds 0; TOO_FEW
    without an interval."""
    if low is None or high is None:
        return TOO_FEW
    if low > 0:
        return GAIN
    if high < 0:
        return WORSE
    return NO_DIFFERENCE


@dataclass(frozen=True)
class Comparison:
    """One report row: a method (or a sweep variant of it) against its baseline on one metric."""

    label: str  # "M-MAE vs MAE", or "M-MAE weight=1.0 vs MAE" for a sweep row
    dataset: str
    metric: str  # a key of METRICS
    seeds: List[int]
    baseline: List[float]
    method: List[float]
    pair: str = ""  # the pair's key (m-mae, ...)
    source: str = ""  # the paper's claim this row tests
    variant: Optional[str] = None  # "weight=1.0" for a sweep row
    n: int = field(init=False)
    baseline_mean: Optional[float] = field(init=False)
    baseline_std: Optional[float] = field(init=False)
    method_mean: Optional[float] = field(init=False)
    method_std: Optional[float] = field(init=False)
    diff_mean: Optional[float] = field(init=False)
    diff_std: Optional[float] = field(init=False)
    ci_low: Optional[float] = field(init=False)
    ci_high: Optional[float] = field(init=False)
    verdict: str = field(init=False)

    def __post_init__(self):
        if self.metric not in METRICS:
            raise ValueError(f"metric: {self.metric!r} is unknown; allowed: {list(METRICS)}")
        if not len(self.seeds) == len(self.baseline) == len(self.method):
            raise ValueError("seeds, baseline and method need one value per seed")
        derived = dict(n=len(self.seeds))
        derived["baseline_mean"], derived["baseline_std"] = mean_std(self.baseline)
        derived["method_mean"], derived["method_std"] = mean_std(self.method)
        if self.seeds:
            diff, spread, low, high = paired_interval(self.method, self.baseline)
        else:
            diff = spread = low = high = None
        derived.update(
            diff_mean=diff, diff_std=spread, ci_low=low, ci_high=high, verdict=verdict(low, high)
        )
        for name, value in derived.items():
            object.__setattr__(self, name, value)


def compare(
    label: str, dataset: str, metric: str, seeds, baseline, method, **context
) -> Comparison:
    return Comparison(
        label,
        dataset,
        metric,
        list(seeds),
        [float(v) for v in baseline],
        [float(v) for v in method],
        **context,
    )


# ------------------------------------------------------------------------------------------------
# writers


def write_results_json(path, rows: Sequence[Comparison], runs: Sequence[dict], study: Dict) -> Path:
    """Every run's numbers and every comparison's statistics, with the study's settings."""
    record = {
        "study": study,
        "confidence": CONFIDENCE,
        "metrics": METRICS,
        "comparisons": [asdict(row) for row in rows],
        "runs": list(runs),
    }
    path = Path(path)
    path.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    return path


def _number(value: Optional[float], digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _mean_std(mean: Optional[float], std: Optional[float]) -> str:
    if mean is None:
        return "–"
    return f"{mean:.2f} ± {std:.2f}" if std is not None else f"{mean:.2f} (n=1, no std)"


def _interval(row: Comparison) -> str:
    return "–" if row.ci_low is None else f"[{row.ci_low:+.2f}, {row.ci_high:+.2f}]"


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    """A Markdown table: header, rule, one line per row of cells."""
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    return lines + ["| " + " | ".join(cells) + " |" for cells in rows]


COMPARISON_COLUMNS = (
    "pair",
    "dataset",
    "metric",
    "n",
    "baseline",
    "method",
    "Δ (method − baseline)",
    "95 % CI",
    "verdict",
)
RUN_COLUMNS = (
    "dataset",
    "preset",
    "variant",
    "seed",
    "status",
    "kNN top-1",
    "linear top-1",
    "seconds",
)


def comparison_table(rows: Sequence[Comparison]) -> List[str]:
    return markdown_table(
        COMPARISON_COLUMNS,
        [
            [
                row.label,
                row.dataset,
                METRICS[row.metric],
                str(row.n),
                _mean_std(row.baseline_mean, row.baseline_std),
                _mean_std(row.method_mean, row.method_std),
                "–" if row.diff_mean is None else f"{row.diff_mean:+.2f}",
                _interval(row),
                row.verdict,
            ]
            for row in rows
        ],
    )


def runs_table(runs: Sequence[dict]) -> List[str]:
    return markdown_table(
        RUN_COLUMNS,
        [
            [
                run["dataset"],
                run["preset"],
                run.get("variant") or "",
                str(run["seed"]),
                run["status"],
                _number(run.get("knn_top1")),
                _number(run.get("linear_top1")),
                _number(run.get("seconds"), 0),
            ]
            for run in runs
        ],
    )


def write_markdown(
    path,
    rows: Sequence[Comparison],
    runs: Sequence[dict],
    header: Sequence[str],
    title: str = "Fidelity study",
) -> Path:
    """``title``, the ``header`` lines (command, budget, protocol), the comparisons, the runs."""
    main = [row for row in rows if row.variant is None]
    sweeps = [row for row in rows if row.variant is not None]
    lines = [
        f"# {title}",
        "",
        *header,
        "",
        "## Paired comparisons (top-1 %, method − baseline per seed)",
        "",
    ]
    lines += comparison_table(main) if main else ["No pair has a finished seed yet."]
    if sweeps:
        lines += [
            "",
            "## Sweeps of the knob each idea hinges on (each variant vs the same baseline runs)",
            "",
            *comparison_table(sweeps),
        ]
    lines += ["", "## Runs", "", *runs_table(runs), ""]
    path = Path(path)
    path.write_text("\n".join(lines))
    return path


ROW_HEIGHT = 0.32  # inches per comparison row of the figure
FIGURE_WIDTH = 10.0
LEGEND_HEIGHT = 0.35  # inches
METRIC_STYLE = {
    "knn_top1": ("tab:blue", "o", -0.17),
    "linear_top1": ("tab:orange", "s", 0.17),
}  # colour, marker, y offset


def write_figure(
    path, rows: Sequence[Comparison], title: str = "Paired differences, method − baseline"
) -> Path:
    """One line per (pair[ variant], dataset); per metric the mean difference and its interval.

    Rows with one seed show the point without an interval (hollow marker); the dashed line is 0.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: Dict[tuple, Dict[str, Comparison]] = {}
    for row in rows:
        groups.setdefault((row.label, row.dataset), {})[row.metric] = row
    labels = [f"{label} · {dataset}" for label, dataset in groups]
    height = max(2.5, 1.4 + LEGEND_HEIGHT + ROW_HEIGHT * len(groups))
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, height), dpi=100)
    for metric, (colour, marker, offset) in METRIC_STYLE.items():
        for y, by_metric in enumerate(groups.values()):
            row = by_metric.get(metric)
            if row is None or row.diff_mean is None:
                continue
            if row.ci_low is None:
                ax.plot(row.diff_mean, y + offset, marker, mfc="none", color=colour)
                continue
            ax.errorbar(
                row.diff_mean,
                y + offset,
                xerr=[[row.diff_mean - row.ci_low], [row.ci_high - row.diff_mean]],
                fmt=marker,
                color=colour,
                capsize=3,
            )
        ax.plot([], [], marker, color=colour, label=f"{METRICS[metric]} (95 % CI)")
    ax.axvline(0.0, color="black", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=8)
    if labels:
        ax.set_ylim(len(labels) - 0.5, -0.5)  # first row on top, as in the table
    else:
        ax.text(
            0.5,
            0.5,
            "no pair has a finished seed yet",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_xlabel("Δ top-1 (percentage points), paired by seed")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.plot([], [], "o", mfc="none", color="grey", label="one seed: no interval")
    fig.legend(fontsize=8, loc="lower center", ncol=3, frameon=False)
    fig.tight_layout(rect=(0, LEGEND_HEIGHT / height, 1, 1))  # the legend's strip below the x label
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
