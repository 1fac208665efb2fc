"""`solo-ext sweep` (solo_ext/reporting/sweep.py): the spec's runs become the printed commands, stages
survive a rerun, bad flags stop with one line. The bash_scripts' side: tests/core/test_bash_scripts.py."""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from solo_ext.config.zoo import zoo_path
from solo_ext.reporting.paper_tables import EXPERIMENTS
from solo_ext.reporting.sweep import FINISHED_MARK, bash_quoted, main

ZOO = zoo_path()


def sweep(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def commands(out):
    return [shlex.split(line) for line in out.splitlines() if not line.startswith("skip ")]


def overrides(argv):
    return [arg for arg in argv if "=" in arg and not arg.startswith("-")]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_commands_are_quoted_as_bash_printf_q_quotes_them():
    samples = [
        "",
        "plain-word_1.5/x:y@z%+",
        "devices=[0,1]",
        "checkpoint.dir='runs, v2=[a]/x'",
        "#first a#b ~home a=~b a:~b b~c",
        'sp ace!"$&()*;<>?\\^`{|}',
        "tab\there",
    ]
    printed = subprocess.run(
        ["bash", "-c", 'printf "%q\\n" "$@"', "bash", *samples],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for sample, expected in zip(samples[:-1], printed):
        assert bash_quoted(sample) == expected
    assert shlex.split(bash_quoted(samples[-1])) == [
        samples[-1]
    ]  # bash's $'…' form: shlex's, as valid


@pytest.mark.parametrize("name", [n for n in EXPERIMENTS if not EXPERIMENTS[n].finetune_on])
def test_dry_run_lists_each_run_of_the_spec_in_order(capsys, name):
    status, out, err = sweep(capsys, name, "--dataset", "digits", "--seeds", "5 6", "--dry-run")
    assert status == 0, err
    printed = commands(out)
    pretrain = [argv for argv in printed if argv[:2] == ["solo-ext", "pretrain"]]
    runs = EXPERIMENTS[name].runs
    assert len(printed) == 3 * len(pretrain) == 3 * 2 * len(runs)
    for i, argv in enumerate(pretrain):
        run, seed = runs[i % len(runs)], ("5", "6")[i // len(runs)]
        run_dir = f"sweeps/digits/{run.folder}/seed{seed}"
        assert argv[2:6] == ["--config-path", f"{ZOO}/pretrain/digits", "--config-name", run.config]
        assert overrides(argv) == [
            "devices=[0]",
            f"name={run.name('digits', seed)}",
            *run.overrides,
            f"++seed={seed}",
            f"checkpoint.dir='{run_dir}/pretrain'",
        ]
        linear, knn = printed[printed.index(argv) + 1 : printed.index(argv) + 3]
        assert linear[:6] == [
            "solo-ext",
            "linear",
            "--config-path",
            f"{ZOO}/linear/digits",
            "--config-name",
            EXPERIMENTS[name].probe,
        ]
        assert linear[-2:] == [
            f"pretrained_feature_extractor='{run_dir}/pretrain'",
            f"checkpoint.dir='{run_dir}/linear'",
        ]
        assert knn[:4] == ["solo-ext", "knn", "--pretrained_checkpoint_dir", f"{run_dir}/pretrain"]
        assert knn[-2:] == ["--out", f"{run_dir}/knn.json"]


def test_run_flags_and_finetuning(capsys):
    status, out, err = sweep(
        capsys,
        "smae-finetune",
        "smae-mask-ratio",
        "--dataset",
        "tiny-imagenet",
        "--finetune-on",
        "tiny-imagenet cub200",
        "--mask-ratios",
        "0.9",
        "--only",
        "smae-a1-block mae-lite-*",
        "--seeds",
        "5 6",
        "--dry-run",
    )
    assert status == 0, err
    folders = [
        (argv[1], [o for o in overrides(argv) if o.startswith("checkpoint.dir")][0])
        for argv in commands(out)
        if argv[1] != "knn"
    ]
    base = "checkpoint.dir='sweeps/tiny-imagenet"
    assert folders == [  # per seed: the fine-tuning experiment, then the mask-ratio one
        (stage, f"{base}/{folder}/seed{seed}/{sub}'")
        for seed in ("5", "6")
        for stage, folder, sub in (
            ("linear", "smae-a1-block", "finetune"),
            ("linear", "smae-a1-block", "finetune-cub200"),
            ("pretrain", "mae-lite-mask0.9", "pretrain"),
            ("linear", "mae-lite-mask0.9", "linear"),
        )
    ]
    status, out, _ = sweep(
        capsys, "vicmae-linear", "--dataset", "digits", "--presets", "vicmae-mae", "--dry-run"
    )
    assert status == 0 and [argv[5] for argv in commands(out) if argv[1] == "pretrain"] == [
        "vicmae-mae"
    ]


@pytest.mark.parametrize(
    "argv,message",
    [
        (
            ["magma-table9", "--dataset", "digits"],
            "EXPERIMENT: 'magma-table9' is unknown; allowed:",
        ),
        (["magma-table1"], "--dataset is required"),
        (["magma-table1", "--dataset", "nope"], "--dataset: no zoo configs for 'nope'; allowed:"),
        (["magma-table1", "--dataset", "digits", "--seeds"], "--seeds: needs a value"),
        (["magma-table1", "--dataset", "digits", "--presets", "x"], "unknown argument: --presets"),
        (
            ["magma-table1", "--dataset", "digits", "--launcher", "torchrun"],
            "--launcher: 'torchrun' is not allowed; allowed: solo-ext, or the path",
        ),
        (
            ["magma-table1", "--dataset", "digits", "--check", "--", "knn_eval.enabled=false"],
            "stopped before the runs it evaluates",
        ),
    ],
)
def test_bad_arguments_stop_with_one_message(capsys, argv, message):
    status, out, err = sweep(capsys, *argv)
    assert status == 2 and message in err and out == ""


FAKE_SOLO_EXT = """#!{python}
# stands in for solo-ext: logs its command, writes what the real one would write
import pathlib, sys
args = sys.argv[1:]
with open("calls.log", "a") as log:
    log.write(" ".join(args[:1]) + "\\n")
value = {{a.split("=", 1)[0]: a.split("=", 1)[1].strip("'") for a in args if "=" in a}}
if args[0] == "pretrain":
    pathlib.Path(value["checkpoint.dir"], "v0").mkdir(parents=True)
    pathlib.Path(value["checkpoint.dir"], "v0", "last.ckpt").write_text("")
elif args[0] == "linear":
    assert value["pretrained_feature_extractor"].endswith("pretrain/v0"), value
    pathlib.Path(value["checkpoint.dir"]).mkdir(parents=True)
    pathlib.Path(value["checkpoint.dir"], "results.json").write_text("{{}}")
elif args[0] == "knn":
    pathlib.Path(args[args.index("--out") + 1]).write_text("{{}}")
"""


def test_a_rerun_skips_finished_stages_and_stops_at_an_unfinished_one(
    tmp_path, monkeypatch, capsys
):
    fake = tmp_path / "bin" / "solo-ext"
    fake.parent.mkdir()
    fake.write_text(FAKE_SOLO_EXT.format(python=sys.executable))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    argv = ["magma-table1", "--dataset", "digits", "--only", "m-mae", "--out", "runs"]
    status, out, err = sweep(capsys, *argv)
    assert status == 0, err
    assert Path("calls.log").read_text().split() == ["pretrain", "linear", "knn"]
    run = Path("runs/digits/m-mae/seed5")
    assert (run / "pretrain" / FINISHED_MARK).exists() and (run / "linear" / FINISHED_MARK).exists()
    assert "checkpoint.dir=\\'runs/digits/m-mae/seed5/pretrain\\'" in out

    status, out, _ = sweep(capsys, *argv)
    assert status == 0 and len(Path("calls.log").read_text().split()) == 3  # nothing ran again
    assert out.splitlines() == [
        f"skip {run}/pretrain: finished",
        f"skip {run}/linear: finished",
        f"skip {run}/knn.json: finished",
    ]

    (run / "linear" / FINISHED_MARK).unlink()  # as if the probe had been interrupted
    status, _, err = sweep(capsys, *argv)
    assert (
        status == 1 and "runs/digits/m-mae/seed5/linear: an earlier attempt did not finish" in err
    )

    status, _, err = sweep(capsys, "smae-finetune", "--dataset", "digits", "--out", "runs")
    assert status == 1 and "no finished pretraining in runs/digits/mae-lite/seed5/pretrain" in err
