"""The bash_scripts/ in --dry-run: the whole chain is printed, nothing runs or is written, and every printed
pretrain/linear command composes with Hydra against its zoo config (the check the real runs would fail at
first). tests/integration/test_bash_scripts_real.py runs them for real."""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

SCRIPTS = Path(__file__).resolve().parents[2] / "bash_scripts"
pytestmark = pytest.mark.skipif(
    shutil.which("solo-ext") is None or shutil.which("bash") is None,
    reason="needs bash and the solo-ext command on PATH (pip install .)",
)


def script(name, *args, cwd):
    return subprocess.run(
        ["bash", str(SCRIPTS / name), *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def dry_run(name, *args, cwd):
    """The printed solo-ext commands, each as its argument list."""
    result = script(name, "--dry-run", "--out", "runs", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert (
        not (Path(cwd) / "runs").exists() and not (Path(cwd) / "datasets").exists()
    )  # printed, not run
    return [
        shlex.split(line) for line in result.stdout.splitlines() if line.startswith("solo-ext ")
    ]


def option(argv, flag):
    return argv[argv.index(flag) + 1]


def overrides(argv):
    """{key: value} of the Hydra overrides of a pretrain/linear command (the + prefixes dropped)."""
    pairs = [arg.split("=", 1) for arg in argv[6:]]
    return {key.lstrip("+"): value for key, value in pairs}


def config_name(argv):
    return option(argv, "--config-name")


def table_command(paper):
    return ["solo-ext", "table", "runs", "--paper", paper, "--out", f"runs/{paper}", "--overwrite"]


def test_magma_chain(tmp_path):
    lines = dry_run(
        "reproduce_magma.sh",
        "--datasets",
        "cifar100 tiny-imagenet",
        "--tables",
        "1 5",
        "--tiny-imagenet-src",
        "/data/tiny-imagenet-200",
        cwd=tmp_path,
    )
    assert lines[0] == [
        "solo-ext",
        "data",
        "tiny-imagenet",
        "--src",
        "/data/tiny-imagenet-200",
        "--out",
        "datasets/tiny-imagenet",
    ]
    pretrain = [argv for argv in lines if argv[1] == "pretrain"]
    assert len(pretrain) == 2 * 8 + 2 * 4  # Table 1: 8 rows x 2 datasets; Table 5: 4 rows x ViT-S/L
    assert sum(overrides(argv).get("backbone.name") == "vit_large" for argv in pretrain) == 4
    run_dirs = [Path(overrides(argv)["checkpoint.dir"].strip("'")).parent for argv in pretrain]
    assert [option(argv, "--out") for argv in lines if argv[1] == "knn"] == [
        f"{run}/knn.json" for run in run_dirs
    ]
    assert lines[-1] == table_command("magma-table5") and table_command("magma-table1") in lines


def test_smae_chain(tmp_path):
    lines = dry_run(
        "reproduce_smae.sh",
        "--tiny-imagenet-src",
        "/d/tin",
        "--cub-src",
        "/d/CUB_200_2011.tgz",
        "--mask-ratios",
        "0.5 0.9",
        "--critic-args",
        "--epochs 3 --workers 0",
        cwd=tmp_path,
    )
    assert [argv[1:3] for argv in lines[:3]] == [
        ["data", "tiny-imagenet"],
        ["data", "cub200"],
        ["critic", "train"],
    ]
    assert lines[2][-4:] == [
        "--epochs",
        "3",
        "--workers",
        "0",
    ]  # after the paper's --epochs 200: argparse keeps the last
    finetunes = [
        argv for argv in lines if argv[1] == "linear" and config_name(argv) == "smae-finetune"
    ]
    assert len(finetunes) == 2 * 7
    assert sum(option(argv, "--config-path").endswith("linear/cub200") for argv in finetunes) == 7
    pretrain = [argv for argv in lines if argv[1] == "pretrain"]
    assert sum(overrides(argv).get("method_kwargs.mask_ratio") == "0.9" for argv in pretrain) == 1
    assert lines[-2:] == [table_command("smae-finetune"), table_command("smae-mask-ratio")]


def test_vicmae_and_colormae_chains(tmp_path):
    lines = dry_run(
        "reproduce_vicmae.sh", "--datasets", "imagenet", "--gpus", "0,1,2,3,4,5,6,7", cwd=tmp_path
    )
    pretrain = [argv for argv in lines if argv[1] == "pretrain"]
    assert [config_name(argv) for argv in pretrain] == ["vicmae", "vicmae-paper"]
    assert all(overrides(argv)["devices"] == "[0,1,2,3,4,5,6,7]" for argv in pretrain)
    assert sum(argv[1] == "linear" and config_name(argv) == "vicmae-linear" for argv in lines) == 2
    assert lines[-1][:5] == ["solo-ext", "table", "runs", "--paper", "vicmae-linear"]
    lines = dry_run("reproduce_colormae.sh", "--ablations", "mask_ratio", cwd=tmp_path)
    ratios = [
        overrides(argv)["method_kwargs.mask_ratio"] for argv in lines if argv[1] == "pretrain"
    ]
    assert ratios == ["0.20", "0.50", "0.75", "0.85", "0.90"]
    assert (
        sum(argv[1] == "linear" and config_name(argv) == "colormae-linear" for argv in lines) == 5
    )


def compose_command(argv):
    with initialize_config_dir(config_dir=option(argv, "--config-path"), version_base="1.2"):
        return compose(config_name(argv), overrides=argv[6:])


def override_keys(argv):
    """The command with its override values dropped: the zoo yamls have no typed schema, so whether Hydra takes
    an override depends on its key (present, or added by ++) and not on its value."""
    return tuple(argv[:6]) + tuple(arg.split("=", 1)[0] for arg in argv[6:])


@pytest.mark.parametrize(
    "name,args",
    [
        pytest.param(
            "reproduce_magma.sh",
            [
                "--datasets",
                "cifar100 stl10 tiny-imagenet imagenet100 digits",
                "--tables",
                "1 4 5",
                "--tiny-imagenet-src",
                "/d/tin",
                "--seeds",
                "5 6",
            ],
            marks=pytest.mark.slow,
        ),
        (
            "reproduce_smae.sh",
            ["--tiny-imagenet-src", "/d/tin", "--cub-src", "/d/cub.tgz", "--mask-ratios", "0.5"],
        ),
        pytest.param(
            "reproduce_vicmae.sh",
            ["--datasets", "imagenet imagenet100 cifar100 digits"],
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "reproduce_colormae.sh",
            [
                "--datasets",
                "imagenet imagenet100 cifar100 stl10 tiny-imagenet digits",
                "--ablations",
                "mask_ratio patterns colors",
            ],
            marks=pytest.mark.slow,
        ),
        ("smae_sweep.sh", ["--dataset", "digits"]),
    ],
)
def test_every_printed_command_composes_with_its_zoo_config(tmp_path, name, args):
    """Keys absent from a zoo yaml (seed, the ablations' method_kwargs) must be added with ++, or Hydra stops."""
    lines = dry_run(name, *args, "--gpus", "1", cwd=tmp_path)
    commands = [argv for argv in lines if argv[1] in ("pretrain", "linear")]
    assert len(commands) >= 10
    for argv in {override_keys(argv): argv for argv in commands}.values():
        cfg = compose_command(argv)  # raises on an override the config does not take
        assert list(cfg.devices) == [1]
    for argv in commands:  # the per-run values, as Hydra parses them
        values = overrides(argv)
        run_dir = Path(values["checkpoint.dir"].strip("'")).parent
        if argv[1] == "pretrain":
            assert values["name"].endswith(f"-{run_dir.name}")
            assert values["seed"] == run_dir.name.removeprefix("seed")
        else:  # the checkpoint of its own run's pretraining
            assert Path(values["pretrained_feature_extractor"].strip("'")) == run_dir / "pretrain"


def test_passthrough_overrides_reach_their_configs(tmp_path):
    lines = dry_run(
        "magma_table4.sh",
        "--dataset",
        "digits",
        "--only",
        "m-mae-w0.1-* m-mae-w1-st50-*",
        "--pretrain-args",
        "knn_eval.enabled=false",
        "--eval-args",
        "optimizer.lr=0.5",
        "--",
        "max_epochs=1",
        "++limit_train_batches=2",
        cwd=tmp_path,
    )
    pretrain = [argv for argv in lines if argv[1] == "pretrain"]
    assert [overrides(argv)["name"] for argv in pretrain] == [
        "m-mae-digits-w0.1-st10-dur100-seed5",
        "m-mae-digits-w1-st50-dur100-seed5",
    ]
    for argv in pretrain:
        cfg = compose_command(argv)
        assert (
            cfg.max_epochs,
            cfg.limit_train_batches,
            cfg.knn_eval.enabled,
            cfg.optimizer.lr,
        ) == (1, 2, False, 0.001)
    for argv in (argv for argv in lines if argv[1] == "linear"):
        cfg = compose_command(argv)
        assert (cfg.max_epochs, cfg.limit_train_batches, cfg.optimizer.lr, "knn_eval" in cfg) == (
            1,
            2,
            0.5,
            False,
        )
    # the run's own settings come last: a passthrough cannot silently turn an ablation row into another
    lines = dry_run(
        "magma_table4.sh",
        "--dataset",
        "digits",
        "--only",
        "m-mae-w0.01-*",
        "--",
        "++method_kwargs.magma.weight=7",
        cwd=tmp_path,
    )
    assert compose_command(lines[0]).method_kwargs.magma.weight == 0.01


def test_paths_are_quoted_for_hydra(tmp_path):
    out = "runs, v2=[a]"  # a comma, '=' and brackets would otherwise be Hydra syntax
    result = script(
        "magma_table1.sh",
        "--dataset",
        "digits",
        "--dry-run",
        "--out",
        out,
        "--only",
        "mae",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    pretrain, linear = (shlex.split(line) for line in result.stdout.splitlines()[:2])
    assert compose_command(pretrain).checkpoint.dir == f"{out}/digits/mae/seed5/pretrain"
    assert (
        compose_command(linear).pretrained_feature_extractor == f"{out}/digits/mae/seed5/pretrain"
    )


def test_an_override_the_probe_config_lacks_stops_before_any_run(tmp_path):
    result = script(
        "magma_table1.sh",
        "--dataset",
        "digits",
        "--out",
        "runs",
        "--",
        "knn_eval.enabled=false",
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "stopped before the runs it evaluates" in result.stderr
    assert "Could not override 'knn_eval.enabled'" in result.stderr and result.stdout == ""
    assert not (tmp_path / "runs").exists()


def test_bad_arguments_stop_with_a_message(tmp_path):
    result = script("reproduce_magma.sh", "--tables", "1 9", "--datasets", "digits", cwd=tmp_path)
    assert result.returncode == 2 and "--tables: '9' is unknown; allowed: 1 4 5" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before the data preparation of Table 1
    result = script("reproduce_smae.sh", cwd=tmp_path)
    assert (
        result.returncode == 2
        and "missing datasets/tiny-imagenet: pass --tiny-imagenet-src" in result.stderr
    )
    result = script("reproduce_smae.sh", "--datasets", "digits", "--dry-run", cwd=tmp_path)
    assert (
        result.returncode == 2
        and "--datasets: reproduce_smae.sh runs Tiny-ImageNet" in result.stderr
    )
    result = script("magma_table1.sh", "--dataset", "digits", "--seeds", cwd=tmp_path)
    assert result.returncode == 2 and "--seeds: needs a value" in result.stderr


def test_a_stage_that_exits_0_without_its_output_is_not_finished(tmp_path):
    """A solo-ext that exits 0 and writes nothing (as Lightning does on a data set without one full batch)."""
    fake = tmp_path / "bin" / "solo-ext"
    fake.parent.mkdir()
    fake.write_text(  # the sweep itself is the real one; the commands it runs are the fake
        f"#!/usr/bin/env bash\n[[ $1 == zoo ]] && echo {SCRIPTS.parent / 'zoo_configs'}\n"
        f'[[ $1 == sweep ]] && exec {sys.executable} -m solo_ext.cli "$@"\nexit 0\n'
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [
            "bash",
            str(SCRIPTS / "magma_table1.sh"),
            "--dataset",
            "digits",
            "--out",
            "runs",
            "--only",
            "mae",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert (
        result.returncode == 1
        and "exited 0 but wrote no *.ckpt there; the stage is not finished" in result.stderr
    )
    assert not list((tmp_path / "runs").rglob(".finished"))


def test_launcher_solo_learn_pretrains_through_main_pretrain(tmp_path):
    host = tmp_path / "solo-learn"
    host.mkdir()
    (host / "main_pretrain.py").write_text(
        "# stands in for solo-learn's script: --dry-run never runs it\n"
    )
    result = script(
        "magma_table1.sh",
        "--dry-run",
        "--out",
        "runs",
        "--dataset",
        "digits",
        "--only",
        "m-mae u-mae",
        "--launcher",
        str(host / "main_pretrain.py"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    printed = [shlex.split(line) for line in result.stdout.splitlines()]
    pretrain = [argv for argv in printed if argv[:2] == ["python3", str(host / "main_pretrain.py")]]
    assert [config_name(argv) for argv in pretrain] == ["m-mae", "u-mae"]
    assert not [argv for argv in printed if argv[:2] == ["solo-ext", "pretrain"]]
    assert sum(argv[:2] == ["solo-ext", "linear"] for argv in printed) == 2  # evaluation stays ours


@pytest.mark.parametrize(
    "launcher,message",
    [
        ("torchrun", "--launcher: 'torchrun' is not allowed; allowed: solo-ext, or the path"),
        ("/nowhere/main_pretrain.py", "--launcher: '/nowhere/main_pretrain.py' is not a file"),
    ],
)
def test_bad_launcher_stops_with_a_message(tmp_path, launcher, message):
    result = script(
        "magma_table1.sh", "--dry-run", "--dataset", "digits", "--launcher", launcher, cwd=tmp_path
    )
    assert result.returncode == 2 and message in result.stderr


@pytest.mark.parametrize(
    "name,args,experiment",
    [
        ("magma_table1.sh", [], "magma-table1"),
        ("magma_table4.sh", [], "magma-table4"),
        ("smae_sweep.sh", [], "smae"),
        ("colormae_ablations.sh", ["--ablation", "mask_ratio"], "colormae-mask-ratio"),
    ],
)
def test_each_sweep_script_lists_its_experiment(tmp_path, name, args, experiment):
    """The per-table scripts are `solo-ext sweep EXPERIMENT` with their flags, nothing of their own. Both
    listings come from the `solo-ext` on PATH, so they name the same zoo folder whether the package is
    installed from a wheel (site-packages) or editable (this checkout)."""
    flags = ["--dataset", "digits", "--seeds", "5 6", "--gpus", "0,1", "--dry-run"]
    result = script(name, *args, *flags, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    direct = subprocess.run(
        ["solo-ext", "sweep", experiment, *flags],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert direct.returncode == 0, direct.stderr
    assert result.stdout == direct.stdout and result.stdout.count("solo-ext pretrain") > 8
