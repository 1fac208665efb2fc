"""Two runs of the same fidelity study side by side: do their figures and verdicts agree? (docs/fidelity/)

    python -m dev.compare_studies fidelity timed

Matches the finished runs of ``A/results.json`` and ``B/results.json`` by dataset, preset, variant and
seed, and prints per metric how many runs give the same figure and the largest difference (percentage
points), then every comparison found in both whose verdict differs, and the run-seconds each study took.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple

Key = Tuple[str, str, str, int]


def load(study: Path) -> dict:
    return json.loads((study / "results.json").read_text())


def run_key(run: dict) -> Key:
    return run["dataset"], run["preset"], run["variant"] or "", run["seed"]


def finished(results: dict) -> Dict[Key, dict]:
    return {run_key(r): r for r in results["runs"] if r["status"] == "done"}


def comparison_key(c: dict) -> Tuple[str, str, str]:
    return c["label"], c["dataset"], c["metric"]


def compare(a: dict, b: dict, tolerance: float = 1e-9) -> List[str]:
    runs_a, runs_b = finished(a), finished(b)
    both = sorted(set(runs_a) & set(runs_b))
    lines = [
        f"runs: {len(runs_a)} finished in A, {len(runs_b)} in B, {len(both)} in both "
        f"(matched by dataset, preset, variant, seed)"
    ]
    for metric in a["metrics"]:
        diffs = [abs(runs_a[k][metric] - runs_b[k][metric]) for k in both]
        if not diffs:
            continue
        same = sum(d <= tolerance for d in diffs)
        worst = max(range(len(both)), key=diffs.__getitem__)
        where = "/".join(str(p) for p in both[worst] if p != "")
        lines.append(
            f"{metric}: {same} of {len(diffs)} identical; largest difference "
            f"{diffs[worst]:.2f} points ({where})"
        )
    verdicts_b = {comparison_key(c): c for c in b["comparisons"]}
    shared = [c for c in a["comparisons"] if comparison_key(c) in verdicts_b]
    changed = [c for c in shared if c["verdict"] != verdicts_b[comparison_key(c)]["verdict"]]
    lines.append(f"verdicts: {len(shared) - len(changed)} of {len(shared)} comparisons agree")
    for c in changed:
        other = verdicts_b[comparison_key(c)]
        lines.append(
            f"  {c['label']} | {c['dataset']} | {c['metric']}: A {c['verdict']} "
            f"({c['diff_mean']:+.2f}), B {other['verdict']} ({other['diff_mean']:+.2f})"
        )
    for name, runs in (("A", runs_a), ("B", runs_b)):
        seconds = sum(runs[k]["seconds"] for k in both)
        lines.append(f"run-seconds of the shared runs, {name}: {seconds:.0f}")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="a study folder (--out of solo-ext fidelity)")
    parser.add_argument("b", type=Path, help="another study folder")
    args = parser.parse_args(argv)
    for name in ("a", "b"):
        study = getattr(args, name)
        if not (study / "results.json").is_file():
            parser.error(f"{name}: {study} holds no results.json (give a study's --out folder)")
    sys.stdout.write("\n".join(compare(load(args.a), load(args.b))) + "\n")


if __name__ == "__main__":
    main()
