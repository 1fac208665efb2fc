"""solo_ext.reporting.fidelity and .paired: statistics, plan, run states, the runner's bookkeeping
and the report files (no solo-learn: training and evaluation are stand-ins; tests/integration
trains)."""

import json
import math
import subprocess
import sys
from dataclasses import replace

import pytest
from scipy import stats

from solo_ext.reporting import fidelity, paired
from solo_ext.reporting.fidelity import (
    BUDGETS,
    DONE,
    NEW,
    PAIRS,
    PARTIAL,
    TRAINED,
    Runner,
    comparisons,
    knob_values,
    make_plan,
    not_reproduced,
    pretrain_command,
    run_state,
    sweep_runs,
)
from solo_ext.reporting.paired import (
    GAIN,
    NO_DIFFERENCE,
    TOO_FEW,
    WORSE,
    compare,
    paired_interval,
    verdict,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PAIR = {pair.key: pair for pair in PAIRS}
PRESET_EPOCHS = replace(BUDGETS["cpu"], max_epochs={"digits": None, "fashion-mnist": None})


# ------------------------------------------------------------------------------------------------
# statistics


def test_paired_interval_equals_the_hand_computed_student_t_interval():
    method, baseline = [81.0, 80.2, 81.9], [80.1, 79.5, 80.7]
    # d = [0.9, 0.7, 1.2]: mean 2.8/3, sample variance ((0.9-m)^2 + (0.7-m)^2 + (1.2-m)^2) / 2
    d_mean = 2.8 / 3
    d_std = math.sqrt(((0.9 - d_mean) ** 2 + (0.7 - d_mean) ** 2 + (1.2 - d_mean) ** 2) / 2)
    half = stats.t.ppf(0.975, df=2) * d_std / math.sqrt(3)
    assert stats.t.ppf(0.975, df=2) == pytest.approx(
        4.302653, abs=1e-6
    )  # the t table's value for 2 dof
    mean, std, low, high = paired_interval(method, baseline)
    assert mean == pytest.approx(d_mean)
    assert std == pytest.approx(d_std)
    assert (low, high) == (pytest.approx(d_mean - half), pytest.approx(d_mean + half))
    assert (low, high) == (pytest.approx(0.30818, abs=1e-4), pytest.approx(1.55849, abs=1e-4))


def test_pairing_by_seed_finds_a_gain_that_the_seed_spread_would_hide():
    row = compare(
        "M vs B",
        "digits",
        "knn_top1",
        seeds=[0, 1, 2],
        baseline=[70.0, 80.0, 90.0],
        method=[71.0, 81.2, 90.8],
    )
    assert row.baseline_std == pytest.approx(
        10.0
    )  # unpaired, 1 point is noise next to 10 points of spread
    assert row.diff_mean == pytest.approx(1.0)
    assert row.ci_low > 0 and row.verdict == GAIN


@pytest.mark.parametrize(
    "low,high,expected",
    [
        (0.01, 2.0, GAIN),
        (1e-12, 1e-11, GAIN),
        (0.0, 2.0, NO_DIFFERENCE),
        (-1.0, 1.0, NO_DIFFERENCE),
        (-2.0, 0.0, NO_DIFFERENCE),
        (-2.0, -1e-12, WORSE),
        (None, None, TOO_FEW),
    ],
)
def test_verdict_boundaries(low, high, expected):
    assert verdict(low, high) == expected


def test_one_seed_gives_means_but_no_std_or_interval():
    row = compare("M vs B", "digits", "linear_top1", seeds=[3], baseline=[80.0], method=[82.0])
    assert (row.n, row.baseline_mean, row.method_mean, row.diff_mean) == (1, 80.0, 82.0, 2.0)
    assert (
        row.baseline_std is None
        and row.method_std is None
        and row.ci_low is None
        and row.ci_high is None
    )
    assert row.verdict == TOO_FEW
    lines = paired.comparison_table([row])
    assert "80.00 (n=1, no std)" in lines[-1] and TOO_FEW in lines[-1]


def test_no_finished_seed_is_an_empty_row_not_an_error():
    row = compare("M vs B", "digits", "knn_top1", seeds=[], baseline=[], method=[])
    assert row.n == 0 and row.diff_mean is None and row.verdict == TOO_FEW


def test_unequal_lengths_and_unknown_metrics_are_refused():
    with pytest.raises(ValueError, match="equal lengths"):
        paired_interval([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="metric"):
        compare("M vs B", "digits", "acc5", seeds=[0], baseline=[1.0], method=[2.0])


# ------------------------------------------------------------------------------------------------
# writers


def _rows():
    return [
        compare(
            "M-MAE vs MAE",
            "digits",
            "knn_top1",
            [0, 1, 2],
            [80.1, 79.5, 80.7],
            [81.0, 80.2, 81.9],
            pair="m-mae",
        ),
        compare(
            "M-MAE vs MAE",
            "digits",
            "linear_top1",
            [0, 1, 2],
            [85.0, 84.0, 86.0],
            [84.0, 83.5, 85.0],
            pair="m-mae",
        ),
        compare(
            "M-MAE weight=1.0 vs MAE",
            "digits",
            "knn_top1",
            [0],
            [80.1],
            [78.0],
            pair="m-mae",
            variant="weight=1.0",
        ),
    ]


def test_results_json_holds_the_inputs_and_the_statistics(tmp_path):
    runs = [
        {
            "dataset": "digits",
            "preset": "mae",
            "variant": None,
            "seed": 0,
            "status": "done",
            "knn_top1": 80.1,
        }
    ]
    path = paired.write_results_json(
        tmp_path / "results.json", _rows(), runs, {"command": "solo-ext fidelity"}
    )
    record = json.loads(path.read_text())
    first = record["comparisons"][0]
    assert first["baseline"] == [80.1, 79.5, 80.7] and first["method"] == [81.0, 80.2, 81.9]
    assert (
        first["diff_mean"] == pytest.approx(2.8 / 3)
        and first["verdict"] == GAIN
        and first["n"] == 3
    )
    assert record["comparisons"][2]["ci_low"] is None and record["runs"] == runs
    assert record["study"]["command"] == "solo-ext fidelity"


def test_markdown_table_shows_the_same_numbers(tmp_path):
    rows = _rows()
    path = paired.write_markdown(
        tmp_path / "fidelity.md", rows, [], header=["Study command: `solo-ext fidelity`"]
    )
    text = path.read_text()
    knn = rows[0]
    expected = (
        f"| M-MAE vs MAE | digits | {paired.METRICS['knn_top1']} | 3 | "
        f"{knn.baseline_mean:.2f} ± {knn.baseline_std:.2f} | "
        f"{knn.method_mean:.2f} ± {knn.method_std:.2f} | {knn.diff_mean:+.2f} | "
        f"[{knn.ci_low:+.2f}, {knn.ci_high:+.2f}] | gain reproduced |"
    )
    assert expected in text
    assert "80.10 ± 0.60" in text  # mean and std of 80.1, 79.5, 80.7
    assert "Study command: `solo-ext fidelity`" in text.splitlines()[2]
    sweep_section = text.split("## Sweeps")[1]
    assert (
        "M-MAE weight=1.0 vs MAE" in sweep_section
        and "M-MAE weight=1.0" not in text.split("## Sweeps")[0]
    )


@pytest.mark.parametrize("rows", [_rows(), []], ids=["rows", "empty"])
def test_figure_is_a_png(tmp_path, rows):
    path = paired.write_figure(tmp_path / "fidelity.png", rows)
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 1000


# ------------------------------------------------------------------------------------------------
# the plan


@pytest.fixture
def plan_of(tmp_path):
    def make(pairs, datasets=("digits",), seeds=(0, 1, 2), budget=BUDGETS["cpu"]):
        return make_plan(tmp_path / "study", budget, seeds, datasets, [PAIR[key] for key in pairs])

    return make


def test_each_preset_is_trained_once_per_dataset_and_seed(plan_of):
    plan = plan_of(
        ["m-mae", "colormae", "smae"], datasets=("digits", "fashion-mnist"), seeds=(0, 1)
    )
    keys = [(run.dataset, run.preset, run.seed) for run in plan.runs]
    assert len(keys) == len(set(keys))
    assert sorted(p for d, p, s in keys if d == "digits" and s == 0) == [
        "m-mae",
        "mae",
    ]  # ColorMAE, SMAE: Fashion only
    assert sorted(p for d, p, s in keys if d == "fashion-mnist" and s == 1) == [
        "colormae",
        "m-mae",
        "mae",
        "mae-lite",
        "smae",
    ]
    assert len(plan.runs) == 2 * 2 + 5 * 2


def test_every_run_has_its_seed_folder_and_overrides(plan_of, tmp_path):
    plan = plan_of(["m-mae"], seeds=(0, 7))
    for run in plan.runs:
        assert f"++seed={run.seed}" in run.overrides and "knn_eval.enabled=false" in run.overrides
        assert run.folder == tmp_path / "study" / "runs" / "digits" / run.preset / f"seed{run.seed}"
        assert not any(o.startswith("checkpoint.dir=") for o in run.overrides)
        assert (
            f"data.train_path={tmp_path / 'study' / 'data' / 'digits' / 'train'}" in run.overrides
        )
        attempt = run.folder / "attempt-1"
        argv = pretrain_command(plan, run, attempt)
        assert (
            argv[argv.index("--config-name") + 1] == run.preset
            and argv[-1] == f"checkpoint.dir={attempt}"
        )


def test_changed_epochs_scale_the_epoch_valued_keys(plan_of):
    budget = replace(BUDGETS["cpu"], max_epochs={"digits": 30})  # the digits presets have 15 epochs
    run = next(r for r in plan_of(["m-mae"], budget=budget).runs if r.preset == "m-mae")
    assert {
        "max_epochs=30",
        "method_kwargs.magma.start_epoch=10",
        "scheduler.warmup_epochs=4",
    } <= set(run.overrides)
    unchanged = next(
        r for r in plan_of(["m-mae"], budget=PRESET_EPOCHS).runs if r.preset == "m-mae"
    )
    assert not any(
        o.startswith(("max_epochs=", "method_kwargs.magma.start_epoch="))
        for o in unchanged.overrides
    )


def test_smae_runs_get_the_study_critic(plan_of):
    plan = plan_of(["smae"], datasets=("fashion-mnist",), seeds=(0,))
    smae = next(r for r in plan.runs if r.preset == "smae")
    lite = next(r for r in plan.runs if r.preset == "mae-lite")
    assert smae.critic == plan.critic_path("fashion-mnist") and lite.critic is None
    assert f"method_kwargs.smae.critic={plan.critic_path('fashion-mnist')}" in smae.overrides
    argv = fidelity.critic_command(plan, "fashion-mnist", smae.critic)
    assert argv[argv.index("--size") + 1] == "64" and argv[argv.index("--epochs") + 1] == str(
        plan.budget.critic_epochs
    )


def test_sweep_points_leave_out_the_preset_value_and_get_their_own_folders(plan_of):
    plan = plan_of(["m-mae"], seeds=(0, 1), budget=PRESET_EPOCHS)
    knobs = {knob.name: knob for knob in PAIR["m-mae"].knobs}
    assert [label for label, _ in knob_values(plan, "digits", "m-mae", knobs["weight"])] == [
        "weight=0.01",
        "weight=1.0",
    ]
    starts = knob_values(plan, "digits", "m-mae", knobs["start_epoch"])
    assert [value for _, value in starts] == [0, 10]  # 0, 1/3, 2/3 of 15 epochs; the preset's is 5
    runs = sweep_runs(plan, PAIR["m-mae"], "digits")
    assert len(runs) == 4 * 2 and len({run.folder for run in runs}) == 8
    assert not {run.folder for run in runs} & {run.folder for run in plan.runs}
    heavy = next(run for run in runs if run.variant == "weight=1.0" and run.seed == 1)
    assert heavy.folder.parent.name == "m-mae--weight-1.0"
    weights = [o for o in heavy.overrides if o.startswith("method_kwargs.magma.weight=")]
    assert weights == ["method_kwargs.magma.weight=1.0"]


def test_sweep_points_compare_with_the_scaled_schedule(plan_of):
    budget = replace(BUDGETS["cpu"], max_epochs={"digits": 8})  # preset: start 5 of 15 -> 3 of 8
    plan = plan_of(["m-mae"], seeds=(0,), budget=budget)
    main = next(r for r in plan.runs if r.preset == "m-mae")
    assert "method_kwargs.magma.start_epoch=3" in main.overrides
    knob = next(k for k in PAIR["m-mae"].knobs if k.name == "start_epoch")
    assert [value for _, value in knob_values(plan, "digits", "m-mae", knob)] == [0, 5]  # 3 is main


# ------------------------------------------------------------------------------------------------
# run folders


def _finish(folder, knn=80.0, linear=85.0):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eval.json").write_text(
        json.dumps({"knn_top1": knn, "linear_top1": linear, "eval_seconds": 1.0})
    )


def test_run_states(tmp_path):
    folder = tmp_path / "seed0"
    assert run_state(folder) == NEW
    (folder / "attempt-1" / "mae" / "offline-x").mkdir(parents=True)
    (folder / "attempt-1" / "mae" / "offline-x" / "mae-ep=3.ckpt").write_bytes(
        b"checkpoint of epoch 3"
    )
    assert run_state(folder) == PARTIAL  # a checkpoint without train.json: the start never finished
    assert fidelity.next_attempt(folder).name == "attempt-2"
    (folder / "train.json").write_text(json.dumps({"checkpoint": str(folder / "gone.ckpt")}))
    assert run_state(folder) == PARTIAL  # train.json naming a file that is not there
    (folder / "train.json").write_text(
        json.dumps({"checkpoint": str(next(folder.rglob("*.ckpt")))})
    )
    assert run_state(folder) == TRAINED
    (folder / "eval.json").write_text('{"knn_top1": NaN, "linear_top1": 80.0}')
    assert run_state(folder) == TRAINED  # a non-finite evaluation is evaluated again
    _finish(folder)
    assert run_state(folder) == DONE


def test_dry_run_prints_every_command_and_starts_nothing(plan_of, tmp_path):
    plan = plan_of(["m-mae"], seeds=(0, 1))
    _finish(plan.runs[0].folder, knn=77.5, linear=81.25)
    (plan.runs[1].folder / "attempt-1").mkdir(parents=True)
    lines = []
    fidelity.dry_run(plan, sweep=True, echo=lines.append)
    text = "\n".join(lines)
    assert "1 done, 3 to run" in lines[0]
    assert (
        f"solo-ext data digits --out {plan.data_dir('digits')}" in text
        or "-m solo_ext.cli data digits" in text
    )
    assert f"run {plan.runs[0].name}: done (knn 77.50, linear 81.25)" in lines
    assert any(
        line.startswith(f"run {plan.runs[1].name}: partial (attempt-1")
        and "starts attempt-2" in line
        for line in lines
    )
    assert (
        text.count(" pretrain --config-path ") == 3 + 8
    )  # 3 main runs to train, 4 sweep points x 2 seeds
    assert (
        text.count("++seed=1") == text.count("--seed 1 --out")
        and "-m solo_ext.reporting.evaluation" in text
    )
    assert "sweep m-mae digits (run only if the gain does not reproduce):" in lines
    assert not (tmp_path / "study" / "data").exists() and not (plan.runs[2].folder).exists()


# ------------------------------------------------------------------------------------------------
# the runner's bookkeeping, with stand-ins for the pretraining process and the evaluation


@pytest.fixture
def stand_ins(monkeypatch):
    """Runner.call writes a checkpoint where checkpoint.dir points (or exits 1 below a folder named
    failing-run); the evaluation returns fixed numbers."""
    calls = []

    def call(self, argv, log, cwd, threads=None):
        calls.append(argv)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("stand-in log\n")
        if "failing-run" in fidelity.Path(cwd).parts:
            return 1
        target = next(a.split("=", 1)[1] for a in argv if a.startswith("checkpoint.dir="))
        (fidelity.Path(target) / "m" / "offline-a").mkdir(parents=True)
        (fidelity.Path(target) / "m" / "offline-a" / "last.ckpt").write_bytes(b"weights")
        return 0

    import solo_ext.reporting.evaluation as evaluation

    monkeypatch.setattr(Runner, "call", call)
    monkeypatch.setattr(
        evaluation,
        "evaluate_checkpoint",
        lambda checkpoint, train, val, seed: {
            "knn_top1": 70.0 + seed,
            "linear_top1": 75.0,
            "checkpoint": str(checkpoint),
            "eval_seconds": 0.1,
        },
    )
    return calls


def test_finished_runs_are_skipped_and_partial_runs_start_a_fresh_attempt(plan_of, stand_ins):
    plan = plan_of(["m-mae"], seeds=(0, 1))
    run = {(r.preset, r.seed): r for r in plan.runs}
    done, partial, new = run[("mae", 0)], run[("m-mae", 1)], run[("mae", 1)]
    _finish(done.folder)
    (partial.folder / "attempt-1").mkdir(parents=True)
    (partial.folder / "attempt-1" / "left.ckpt").write_bytes(b"half a run")
    runner = Runner(plan, echo=lambda line: None)
    assert runner.train_and_evaluate(done).status == "skipped" and stand_ins == []
    outcome = runner.train_and_evaluate(partial)
    assert outcome.status == "done" and (partial.folder / "attempt-1" / "left.ckpt").is_file()
    train = json.loads((partial.folder / "train.json").read_text())
    assert train["attempt"] == "attempt-2" and train["checkpoint"].endswith(
        "attempt-2/m/offline-a/last.ckpt"
    )
    assert stand_ins[-1][-1] == f"checkpoint.dir={partial.folder / 'attempt-2'}"
    record = json.loads((partial.folder / "eval.json").read_text())
    assert record["knn_top1"] == 71.0 and record["seed"] == 1 and record["preset"] == partial.preset
    assert runner.train_and_evaluate(new).status == "done" and run_state(new.folder) == DONE


def test_a_failed_run_names_its_log_and_is_not_done(plan_of, stand_ins, tmp_path):
    plan = plan_of(["m-mae"], seeds=(0,))
    run = replace(plan.runs[0], folder=tmp_path / "failing-run" / "seed0")
    lines = []
    outcome = Runner(plan, echo=lines.append).train_and_evaluate(run)
    assert outcome.status == "failed" and outcome.log == run.folder / "attempt-1" / "pretrain.log"
    assert f"log: {outcome.log}" in lines[-1] and "FAILED (pretrain exit 1)" in lines[-1]
    assert run_state(run.folder) == PARTIAL and not (run.folder / "train.json").exists()


def test_comparisons_use_only_seeds_where_both_runs_finished(plan_of):
    plan = plan_of(["m-mae"])
    values = {
        ("mae", 0): 80.0,
        ("mae", 1): 81.0,
        ("mae", 2): 79.0,
        ("m-mae", 0): 82.0,
        ("m-mae", 1): 83.5,
    }
    for run in plan.runs:
        if (run.preset, run.seed) in values:
            _finish(run.folder, knn=values[(run.preset, run.seed)], linear=60.0)
    rows = {row.metric: row for row in comparisons(plan)}
    assert rows["knn_top1"].seeds == [0, 1] and rows["knn_top1"].diff_mean == pytest.approx(2.25)
    assert (
        rows["linear_top1"].verdict == NO_DIFFERENCE
    )  # identical numbers: a zero-width interval at 0
    assert not_reproduced(plan, comparisons(plan)) == [(PAIR["m-mae"], "digits")]


def test_report_only_writes_the_three_files_from_finished_runs(tmp_path, capsys):
    out = tmp_path / "study"
    args = ["--out", str(out), "--datasets", "digits", "--pairs", "m-mae", "--seeds", "0", "1", "2"]
    plan = make_plan(out, BUDGETS["cpu"], (0, 1, 2), ("digits",), [PAIR["m-mae"]])
    for run in plan.runs:
        _finish(
            run.folder, knn=80.0 + run.seed + (1.5 if run.preset == "m-mae" else 0), linear=85.0
        )
    assert fidelity.main([*args, "--report-only"]) == 0
    record = json.loads((out / "results.json").read_text())
    knn = next(row for row in record["comparisons"] if row["metric"] == "knn_top1")
    assert knn["diff_mean"] == pytest.approx(1.5) and knn["verdict"] == GAIN and knn["n"] == 3
    assert len(record["runs"]) == 6 and all(run["status"] == "done" for run in record["runs"])
    markdown = (out / "fidelity.md").read_text()
    assert (
        "solo-ext fidelity --out" in markdown and "--preset cpu" in markdown and "+1.50" in markdown
    )
    assert (out / "fidelity.png").read_bytes()[:8] == PNG_MAGIC
    assert not (out / "data").exists()  # nothing prepared, nothing trained


def test_an_out_folder_of_another_budget_is_refused(tmp_path):
    plan = make_plan(tmp_path / "study", BUDGETS["cpu"], (0,), ("digits",), [PAIR["m-mae"]])
    fidelity.check_study_file(plan, "solo-ext fidelity --out study")
    gpu = make_plan(tmp_path / "study", BUDGETS["gpu"], (0,), ("digits",), [PAIR["m-mae"]])
    with pytest.raises(ValueError, match="another budget"):
        fidelity.check_study_file(gpu, "solo-ext fidelity --out study --preset gpu")
    for mode in (
        "--report-only",
        "--dry-run",
    ):  # a report would label the runs with the wrong budget
        with pytest.raises(ValueError, match="another budget"):
            fidelity.main(
                ["--out", str(tmp_path / "study"), "--preset", "gpu", "--pairs", "m-mae", mode]
            )


@pytest.mark.slow
def test_dry_run_and_report_need_no_solo_learn(tmp_path):
    hide_solo = (
        "import sys\n"
        "class HideSolo:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'solo' or name.startswith('solo.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, HideSolo())\n"
        "from solo_ext.reporting.fidelity import main\n"
    )
    args = ["--out", str(tmp_path / "study"), "--datasets", "digits", "--pairs", "m-mae"]
    for extra, code in (["--dry-run"], 0), (["--report-only"], 0), ([], 2):
        script = hide_solo + f"sys.exit(main({[*args, *extra]!r}))"
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert result.returncode == code, result.stderr
        assert "Traceback" not in result.stderr
    assert "solo-learn >= 1.0.6" in result.stderr  # training says what is missing
    assert (tmp_path / "study" / "results.json").is_file() and not (
        tmp_path / "study" / "runs"
    ).exists()


def test_sweep_trains_the_knobs_of_pairs_that_did_not_reproduce(tmp_path, monkeypatch):
    """main --sweep: the main runs, then every sweep point of the pair that showed no gain, reported
    as extra rows against the same baseline runs (training replaced by writing eval.json)."""
    executed = []

    def execute(self, runs):
        executed.append([run.name for run in runs])
        for run in runs:  # the method never beats the baseline; weight=1.0 does
            gain = 2.0 + run.seed / 10 if run.variant == "weight=1.0" else 0.0
            _finish(run.folder, knn=80.0 + gain + run.seed, linear=85.0 + gain)
        return [fidelity.Outcome(run, "done") for run in runs]

    monkeypatch.setattr(Runner, "execute", execute)
    monkeypatch.setattr(fidelity, "require_solo_learn", lambda: None)
    out = tmp_path / "study"
    args = ["--out", str(out), "--datasets", "digits", "--pairs", "m-mae", "--seeds", "0", "1", "2"]
    assert fidelity.main([*args, "--sweep"]) == 0
    assert len(executed) == 2 and len(executed[0]) == 6  # mae, m-mae x 3 seeds
    assert len(executed[1]) == 4 * 3 and all(
        "[" in name for name in executed[1]
    )  # 4 points x 3 seeds
    record = json.loads((out / "results.json").read_text())
    rows = {(row["variant"], row["metric"]): row for row in record["comparisons"]}
    assert rows[(None, "knn_top1")]["verdict"] == NO_DIFFERENCE
    assert rows[("weight=1.0", "knn_top1")]["verdict"] == GAIN
    assert rows[("weight=1.0", "knn_top1")]["label"] == "M-MAE weight=1.0 vs MAE"
    assert rows[("weight=0.01", "linear_top1")]["n"] == 3
    assert "M-MAE weight=1.0 vs MAE" in (out / "fidelity.md").read_text().split("## Sweeps")[1]
    assert len(record["runs"]) == 6 + 12
