"""`solo-ext fidelity` end to end: a real tiny study on the digits (M-MAE vs MAE, 2 seeds, one
epoch of two batches per run), its report, and a second invocation that finds every run done."""

import json
import math
from dataclasses import replace

import pytest

from solo_ext.reporting import fidelity
from solo_ext.reporting.evaluation import evaluate_checkpoint

CPU = fidelity.BUDGETS["cpu"]
TINY = replace(
    CPU,
    max_epochs={"digits": 1},
    overrides=(*CPU.overrides, "++limit_train_batches=2", "optimizer.batch_size=16"),
)


def _finite(*values) -> bool:
    return all(isinstance(v, float) and math.isfinite(v) for v in values)


@pytest.mark.slow
def test_tiny_study_trains_evaluates_reports_and_then_skips_everything(
    tmp_path, digits_dir, monkeypatch, capsys
):
    data_root = tmp_path / "data"
    data_root.mkdir()
    (data_root / "digits").symlink_to(digits_dir)  # the study's data folder, already prepared
    monkeypatch.setitem(fidelity.BUDGETS, "cpu", TINY)
    out = tmp_path / "study"
    args = [
        "--out",
        str(out),
        "--data-root",
        str(data_root),
        "--datasets",
        "digits",
        "--pairs",
        "m-mae",
        "--seeds",
        "0",
        "1",
    ]

    code = fidelity.main(args)
    printed = capsys.readouterr().out
    assert code == 0 and printed.count(": done in ") == 4, printed
    record = json.loads((out / "results.json").read_text())
    assert sorted((run["preset"], run["seed"]) for run in record["runs"]) == [
        ("m-mae", 0),
        ("m-mae", 1),
        ("mae", 0),
        ("mae", 1),
    ]
    for run in record["runs"]:
        assert run["status"] == "done" and _finite(run["knn_top1"], run["linear_top1"])
        assert 0 <= run["knn_top1"] <= 100 and 0 <= run["linear_top1"] <= 100
        evaluated = json.loads((fidelity.Path(run["folder"]) / "eval.json").read_text())
        assert (
            f"{run['folder']}/attempt-1/" in evaluated["checkpoint"]
            and f"++seed={run['seed']}" in evaluated["overrides"]
        )
    assert {row["metric"] for row in record["comparisons"]} == {"knn_top1", "linear_top1"}
    for row in record["comparisons"]:
        assert (
            row["n"] == 2
            and row["seeds"] == [0, 1]
            and _finite(row["diff_mean"], row["ci_low"], row["ci_high"])
        )
        assert row["verdict"] in ("gain reproduced", "worse", "no difference")
    assert "M-MAE vs MAE" in (out / "fidelity.md").read_text()
    assert (out / "fidelity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the same numbers come back from the evaluation on its own
    mae = next(run for run in record["runs"] if run["preset"] == "mae" and run["seed"] == 0)
    again = evaluate_checkpoint(mae["checkpoint"], digits_dir / "train", digits_dir / "val", seed=0)
    assert again["knn_top1"] == pytest.approx(mae["knn_top1"])
    # lbfgs stops at a tolerance: last-bit feature noise may flip an image or two of the 360
    assert again["linear_top1"] == pytest.approx(mae["linear_top1"], abs=2 * 100 / 360 + 1e-9)

    code = fidelity.main(args)
    printed = capsys.readouterr().out
    assert code == 0 and printed.count("skipped (eval.json exists)") == 4, printed
    assert not list(out.rglob("attempt-2"))
