"""benchmarks/verdict.py (what a throughput measurement says) and throughput.py acting on it."""

import json
import math

import pytest

from benchmarks.verdict import compare, judge, load_reasons, ratio_ci


def test_aa_inside_tolerance_and_ratio_at_target_is_ok():
    verdict = judge(ratio=0.998, target=0.995, aa=1.01, aa_tolerance=0.05)
    assert (verdict.status, verdict.reasons, verdict.valid) == ("OK", (), True)
    assert str(verdict) == "OK"


def test_shortfall_within_the_aa_noise_is_not_below():
    assert judge(0.99, 0.995, aa=0.99, aa_tolerance=0.05).status == "WITHIN NOISE"
    assert judge(0.97, 0.995, aa=0.99, aa_tolerance=0.05).status == "BELOW"
    # the ratio's own interval: reaching the target it cannot be called below, short of it it can
    assert judge(0.97, 0.995, aa=0.99, ratio_interval=(0.95, 0.996)).status == "WITHIN NOISE"
    assert judge(0.97, 0.995, aa=0.99, ratio_interval=(0.95, 0.994)).status == "BELOW"


def test_aa_outside_tolerance_is_invalid_never_below():
    # the busy-machine run of the issue: ratio 0.119 against A/A 0.166 once printed BELOW
    verdict = judge(ratio=0.119, target=0.995, aa=0.166, aa_tolerance=0.05)
    assert verdict.status == "INVALID" and not verdict.valid
    assert str(verdict) == "INVALID (A/A 0.166 outside 1 +- 0.05)"
    assert judge(1.2, 0.995, aa=1.06, aa_tolerance=0.05).status == "INVALID"  # too fast counts too
    assert judge(1.0, 0.995, aa=math.nan).status == "INVALID"


def test_load_too_high_is_invalid_with_the_load_seen():
    load = load_reasons(load_before=None, load_after=3.1, cores=2, threads=2)
    assert load == ("load average 3.1 on 2 cores",)
    verdict = judge(ratio=1.0, target=0.995, aa=1.0, aa_tolerance=0.05, load=load)
    assert str(verdict) == "INVALID (load average 3.1 on 2 cores)"
    both = judge(0.119, 0.995, aa=0.166, aa_tolerance=0.05, load=load)
    assert str(both) == "INVALID (A/A 0.166 outside 1 +- 0.05; load average 3.1 on 2 cores)"


def test_load_limit_counts_this_runs_threads():
    # before the run the load is other work's alone: with this run's 2 threads it must fit 2.5
    assert load_reasons(0.4, None, cores=2, threads=2) == ()
    assert load_reasons(0.8, None, cores=2, threads=2) == (
        "load average 0.8 before start + 2 threads of this run on 2 cores",
    )
    assert load_reasons(0.8, None, cores=16, threads=1) == ()  # a GPU run keeps one core busy
    # after a pair the load counts this run already
    assert load_reasons(None, 2.4, cores=2, threads=2) == ()
    assert load_reasons(None, None, cores=2, threads=2) == ()  # no load average on this platform


def test_ratio_ci_brackets_the_ratio_of_medians_and_resamples_rounds_together():
    method = [1.0, 1.1, 1.2, 1.0, 1.1, 1.3, 1.0, 1.1]
    baseline = [1.0, 1.0, 1.1, 1.0, 1.0, 1.2, 1.0, 1.0]
    low, high = ratio_ci(method, baseline)
    assert low <= 1.0 / 1.1 <= high and low < high
    # a slow round slows both models: resampled as pairs, the ratio never moves
    assert ratio_ci([1.0, 2.0, 4.0], [1.0, 2.0, 4.0]) == (1.0, 1.0)
    with pytest.raises(ValueError, match="equally long"):
        ratio_ci([1.0, 2.0], [1.0])


def results(ratio, valid=True, batch=32, pair="m_mae"):
    verdict = "OK" if valid else "INVALID (A/A 0.166 outside 1 +- 0.05)"
    return {
        "settings": {"device": "CPU (2 threads)", "dataset": "cifar100", "batch": batch},
        "pairs": [{"pair": pair, "ratio": ratio, "valid": valid, "verdict": verdict}],
    }


def test_regression_against_the_baseline_is_flagged():
    (c,) = compare(results(0.95), results(1.0), tolerance=0.02)
    assert c.regression and c.status == "REGRESSION (ratio fell 0.050 > 0.02)"
    assert c.change == pytest.approx(-0.05)
    (c,) = compare(results(0.99), results(1.0), tolerance=0.02)
    assert not c.regression and c.status == "ok"


def test_what_cannot_be_compared_says_why():
    (c,) = compare(results(0.5), results(1.0, valid=False))
    assert c.status == "not compared (baseline INVALID (A/A 0.166 outside 1 +- 0.05))"
    (c,) = compare(results(0.5, valid=False), results(1.0))
    assert c.status == "not compared (this run INVALID)"
    (c,) = compare(results(0.5, batch=256), results(1.0))
    assert c.status == "not compared (baseline measured with batch 32 vs 256)"
    (c,) = compare(results(0.5, pair="smae"), results(1.0))
    assert c.status == "not compared (not in the baseline)" and c.change is None
    assert not any(c.regression for c in compare(results(0.5, valid=False), results(1.0)))


# --- benchmarks/throughput.py's main acting on the verdict, with the timing replaced


@pytest.fixture
def bench(monkeypatch):
    """throughput.py whose measure() returns the given ratio, A/A and load instead of timing."""
    throughput = pytest.importorskip("benchmarks.throughput")
    machine = {"ratio": 1.0, "aa": 1.0, "load_before": 0.1, "load_after": 2.0}

    def measure(name, dataset, batch, steps, device, memory=True):
        seconds = {
            "method": [1 / machine["ratio"]] * 3,
            "baseline": [1.0] * 3,
            "control": [1 / machine["aa"]] * 3,
        }
        return {
            "pair": name,
            "label": name,
            "target": throughput.PAIRS[name].target,
            "throughput": {"method": batch * machine["ratio"], "baseline": batch},
            "step_ms": {"baseline": 1e3},
            "step_seconds": seconds,
            "ratio": machine["ratio"],
            "ratio_ci95": ratio_ci(seconds["method"], seconds["baseline"]),
            "aa": machine["aa"],
            "aa_ci95": (machine["aa"], machine["aa"]),
            "own_work_ms": 1.0,
            "peak_gib": {"method": None, "baseline": None},
            "load_after": machine["load_after"],
        }

    loads = iter([])
    monkeypatch.setattr(throughput, "measure", measure)
    monkeypatch.setattr(throughput.solo_ext, "register", lambda: {})
    monkeypatch.setattr(throughput.torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(throughput.torch, "get_num_threads", lambda: 2)
    monkeypatch.setattr(throughput, "usable_cores", lambda: 2)
    monkeypatch.setattr(throughput, "load_average", lambda: next(loads, machine["load_after"]))

    def run(*args, **numbers):
        nonlocal loads
        machine.update(numbers)
        loads = iter([machine["load_before"]])
        return throughput.main(["--pairs", "m_mae", *map(str, args)])

    return run


def test_invalid_run_writes_the_reason_and_exits_non_zero(bench, tmp_path, capsys):
    out = tmp_path / "run.json"
    assert bench("--json", out, ratio=0.119, aa=0.166, load_after=3.1) == 1
    written = json.loads(out.read_text())
    (pair,) = written["pairs"]
    expected = "INVALID (A/A 0.166 outside 1 +- 0.05; load average 3.1 on 2 cores)"
    assert pair["verdict"] == expected and pair["valid"] is False
    assert written["valid"] is False and written["invalid_reason"] == f"m_mae: {expected}"
    assert written["machine"]["cores"] == 2 and written["machine"]["load_before"] == 0.1
    printed = capsys.readouterr().out
    assert expected in printed and "BELOW" not in printed


def test_busy_machine_is_warned_about_before_starting(bench, tmp_path, capsys):
    assert bench("--json", tmp_path / "run.json", load_before=1.5) == 1
    assert "warning: the machine is busy (load average 1.5 before start" in capsys.readouterr().err


def test_valid_run_exits_zero(bench, tmp_path):
    out = tmp_path / "run.json"
    assert bench("--json", out, ratio=1.0, aa=1.01) == 0
    assert json.loads(out.read_text())["pairs"][0]["verdict"] == "OK"


def test_named_json_file_is_not_overwritten_without_asking(bench, tmp_path, capsys):
    out = tmp_path / "mine.json"
    out.write_text("my notes")
    with pytest.raises(SystemExit) as stop:
        bench("--json", out)
    assert stop.value.code == 2 and out.read_text() == "my notes"
    assert "--overwrite" in capsys.readouterr().err
    assert bench("--json", out, "--overwrite") == 0
    assert json.loads(out.read_text())["complete"] is True


def test_compare_flags_a_regression_and_exits_non_zero(bench, tmp_path, capsys):
    baseline, out = tmp_path / "baseline.json", tmp_path / "run.json"
    assert bench("--json", baseline, ratio=1.0) == 0
    assert bench("--json", out, "--compare", baseline, ratio=0.9) == 3
    printed = capsys.readouterr().out
    assert "REGRESSION (ratio fell 0.100 > 0.02)" in printed and "-0.100" in printed
    invalid = tmp_path / "invalid.json"
    assert bench("--json", invalid, ratio=1.0, aa=0.8) == 1
    assert bench("--json", tmp_path / "again.json", "--compare", invalid, ratio=0.5, aa=1.0) == 0
    printed = capsys.readouterr().out.splitlines()
    (line,) = [line for line in printed if line.startswith("  m_mae")]  # the comparison's line
    assert line.split()[1:4] == ["0.500", "1.000", "-"]  # the change is not shown, not judged
    assert "not compared (baseline INVALID (A/A 0.800 outside 1 +- 0.05))" in line
    with pytest.raises(SystemExit):
        bench("--json", tmp_path / "other.json", "--compare", tmp_path / "missing.json")
    assert "--compare" in capsys.readouterr().err


def test_update_replaces_only_validly_measured_pairs(bench, tmp_path, capsys):
    baseline = tmp_path / "baseline.json"
    assert bench("--json", baseline, "--pairs", "m_mae", "m_vicreg", ratio=1.0, aa=0.8) == 1
    before = json.loads(baseline.read_text())
    assert before["valid"] is False and [p["valid"] for p in before["pairs"]] == [False, False]
    # an INVALID measurement leaves the entry as it was
    assert bench("--json", tmp_path / "a.json", "--update", baseline, ratio=0.5, aa=0.8) == 1
    assert json.loads(baseline.read_text())["pairs"] == before["pairs"]
    assert "left m_mae as it was (INVALID here)" in capsys.readouterr().out
    # a valid one replaces m_mae's entry and keeps m_vicreg's; the file's validity follows its pairs
    assert bench("--json", tmp_path / "b.json", "--update", baseline, ratio=0.97, aa=1.01) == 0
    after = json.loads(baseline.read_text())
    m_mae, m_vicreg = after["pairs"]
    assert m_mae["ratio"] == 0.97 and m_mae["valid"] and m_mae["machine"]["load_before"] == 0.1
    assert m_vicreg == before["pairs"][1]
    assert after["valid"] is False and after["invalid_reason"].startswith("m_vicreg: INVALID")
    assert [u["pairs"] for u in after["updates"]] == [["m_mae"]]
    assert after["settings"] == before["settings"]
    assert bench("--json", tmp_path / "c.json", "--pairs", "m_vicreg", "--update", baseline) == 0
    assert json.loads(baseline.read_text())["valid"] is True


def test_update_refuses_other_settings_and_its_own_json_file(bench, tmp_path, capsys):
    baseline = tmp_path / "baseline.json"
    assert bench("--json", baseline, ratio=1.0, aa=1.0) == 0
    text = baseline.read_text()
    for args in (["--batch", "64"], ["--json", baseline, "--overwrite"]):
        with pytest.raises(SystemExit) as stop:
            bench(*args, "--update", baseline)
        assert stop.value.code == 2 and baseline.read_text() == text
    err = capsys.readouterr().err
    assert "measured with other settings (batch 32 there, 64 here)" in err
    assert "--update names the --json file" in err
