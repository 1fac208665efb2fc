"""dev/compare_studies.py: two runs of one fidelity study, run by run and verdict by verdict."""

import json

import pytest

from dev.compare_studies import compare, main


def run(preset, seed, knn, linear, variant=None, status="done", seconds=100.0):
    return {
        "dataset": "digits",
        "preset": preset,
        "variant": variant,
        "seed": seed,
        "status": status,
        "knn_top1": knn,
        "linear_top1": linear,
        "seconds": seconds,
    }


def comparison(verdict, diff, metric="knn_top1"):
    return {
        "label": "M-MAE vs MAE",
        "dataset": "digits",
        "metric": metric,
        "verdict": verdict,
        "diff_mean": diff,
    }


METRICS = {"knn_top1": "kNN", "linear_top1": "linear"}


def test_identical_runs_and_the_largest_difference_are_reported():
    a = {
        "metrics": METRICS,
        "runs": [run("mae", 0, 70.0, 90.0), run("m-mae", 0, 72.0, 91.0, seconds=50.0)],
        "comparisons": [comparison("no difference", 2.0)],
    }
    b = {
        "metrics": METRICS,
        "runs": [
            run("mae", 0, 70.0, 90.0, seconds=80.0),
            run("m-mae", 0, 74.5, 91.0, seconds=40.0),
            run("m-mae", 0, 10.0, 10.0, variant="weight=1.0"),  # only in B: not compared
        ],
        "comparisons": [comparison("gain reproduced", 4.5)],
    }
    lines = compare(a, b)
    assert lines[0].startswith("runs: 2 finished in A, 3 in B, 2 in both")
    assert lines[1] == "knn_top1: 1 of 2 identical; largest difference 2.50 points (digits/m-mae/0)"
    assert lines[2].startswith("linear_top1: 2 of 2 identical; largest difference 0.00")
    assert lines[3] == "verdicts: 0 of 1 comparisons agree"
    assert "A no difference (+2.00), B gain reproduced (+4.50)" in lines[4]
    assert lines[5:] == [
        "run-seconds of the shared runs, A: 150",
        "run-seconds of the shared runs, B: 120",
    ]


def test_unfinished_runs_are_left_out():
    a = {"metrics": METRICS, "runs": [run("mae", 0, 70.0, 90.0)], "comparisons": []}
    b = {"metrics": METRICS, "runs": [run("mae", 0, 0.0, 0.0, status="failed")], "comparisons": []}
    lines = compare(a, b)
    assert lines[0].startswith("runs: 1 finished in A, 0 in B, 0 in both")
    assert not any(line.startswith("knn_top1") for line in lines)


def test_a_folder_without_results_is_one_error(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text(
        json.dumps({"metrics": METRICS, "runs": [], "comparisons": []})
    )
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "a"), str(tmp_path / "missing")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "b: " in err and "holds no results.json" in err
