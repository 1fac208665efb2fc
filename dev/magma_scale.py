"""How large the MAGMA term is against its host's loss in a fidelity study's runs (docs/fidelity/).

    python -m dev.magma_scale fidelity/runs

Reads the training log of each evaluated MAGMA run (the ``logs/version_*/metrics.csv`` beside the
checkpoint that ``<dataset>/<method>/seed<S>/eval.json`` names: the epoch means Lightning's CSV logger
wrote) and prints, per dataset and method, averaged over the runs: the MAGMA loss in the last epoch before
the term switches on (computed and logged while its weight is 0) and in the last epoch, and the weighted
term as a share of the host's loss (MAE reconstruction, SimCLR's NCE or VICReg's loss) in the last epoch.
"""

import argparse
import csv
import json
import statistics
from pathlib import Path
from typing import Dict, List, Optional

MAGMA_METHODS = ("m-mae", "mu-mae", "m-simclr", "m-vicreg")
HOST_LOSSES = ("train_reconstruction_loss_epoch", "train_nce_loss_epoch", "train_vicreg_loss_epoch")


def epoch_rows(metrics_csv: Path) -> List[Dict[str, str]]:
    """The rows of a metrics.csv that hold the MAGMA term's epoch means, in epoch order."""
    with open(metrics_csv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("train_magma_loss_epoch")]
    return sorted(rows, key=lambda r: int(r["epoch"]))


def run_scale(metrics_csv: Path) -> Optional[Dict[str, float]]:
    """{before, last, weight, host} of one run, or None when its log has no epoch with the term off and
    one with it on (a run cut short, or a second log of a resumed run)."""
    rows = epoch_rows(metrics_csv)
    off = [r for r in rows if float(r["train_magma_weight_epoch"]) == 0]
    on = [r for r in rows if float(r["train_magma_weight_epoch"]) > 0]
    if not off or not on:
        return None
    last = on[-1]
    host = next(float(last[k]) for k in HOST_LOSSES if last.get(k))
    return {
        "before": float(off[-1]["train_magma_loss_epoch"]),
        "last": float(last["train_magma_loss_epoch"]),
        "weight": float(last["train_magma_weight_epoch"]),
        "host": host,
    }


def evaluated_log(eval_json: Path) -> Optional[Path]:
    """The newest metrics.csv of the run whose checkpoint ``eval_json`` evaluated (a resumed or retried
    run has others, in other folders)."""
    checkpoint = Path(json.loads(eval_json.read_text())["checkpoint"])
    logs = sorted(checkpoint.parent.glob("logs/version_*/metrics.csv"))
    return logs[-1] if logs else None


def summary(runs: Path) -> List[str]:
    lines = []
    for dataset in sorted(p.name for p in runs.iterdir() if p.is_dir()):
        for method in MAGMA_METHODS:
            logs = [
                evaluated_log(e) for e in sorted((runs / dataset / method).glob("seed*/eval.json"))
            ]
            scales = [s for s in (run_scale(log) for log in logs if log) if s is not None]
            if not scales:
                continue
            mean = {key: statistics.mean(s[key] for s in scales) for key in scales[0]}
            share = 100 * statistics.mean(s["weight"] * s["last"] / s["host"] for s in scales)
            lines.append(
                f"{dataset} {method} ({len(scales)} runs): MAGMA loss {mean['before']:.3f} before "
                f"switch-on, {mean['last']:.3f} in the last epoch; weight {mean['weight']:g}; "
                f"weighted term {share:.2f} % of the host loss ({mean['host']:.3f})"
            )
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="the study's runs/ folder")
    args = parser.parse_args(argv)
    if not args.runs.is_dir():
        parser.error(
            f"runs: {args.runs} is not a folder (give a study's runs/, e.g. fidelity/runs)"
        )
    print("\n".join(summary(args.runs)))


if __name__ == "__main__":
    main()
