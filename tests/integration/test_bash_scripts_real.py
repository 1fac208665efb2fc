"""The bash_scripts/ run for real, each on the smallest slice of its chain that still runs every kind of
command it emits: one or two runs picked with --only, 1 epoch of 2 batches through the `--` passthrough.

Each test asserts exit 0, one checkpoint per pretraining run, finite accuracies in the evaluation outputs
(results.json of every probe / fine-tuning, knn.json), and that a second invocation with the same --out
skips every finished stage without touching a file. Pretraining-only keys go through --pretrain-args: the
`--` overrides reach the probe configs too. The Tiny-ImageNet and CUB-200 presets are GPU ones: their test
adds accelerator=cpu, strategy=auto, precision=32 (and sync_batchnorm=false to the pretraining). What each
script's test does not run is covered by the dry-run tests (tests/core/test_bash_scripts.py), which compose
every printed command with its zoo config.
"""

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.integration.helpers import SOLO_LEARN_SRC

SCRIPTS = Path(__file__).resolve().parents[2] / "bash_scripts"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("solo-ext") is None or shutil.which("bash") is None,
        reason="needs bash and the solo-ext command on PATH (pip install -e .)",
    ),
]

SHORT = [
    "max_epochs=1",
    "++limit_train_batches=2",
    "++limit_val_batches=1",
    "++num_sanity_val_steps=0",
    "data.num_workers=0",
    "optimizer.batch_size=16",
]
PRETRAIN_ONLY = ["knn_eval.enabled=false"]
ON_CPU = [
    "accelerator=cpu",
    "strategy=auto",
    "precision=32",
]  # the zoo's GPU presets (digits is CPU already)


def invoke(name, *args, overrides=(), pretrain_only=()):
    """Runs a script in the working directory (the test's tmp_path) with --out runs and the short settings."""
    command = [
        "bash",
        str(SCRIPTS / name),
        "--out",
        "runs",
        *args,
        "--pretrain-args",
        " ".join([*PRETRAIN_ONLY, *pretrain_only]),
        "--",
        *SHORT,
        *overrides,
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def run_script(name, *args, **settings):
    result = invoke(name, *args, **settings)
    assert result.returncode == 0, (
        f"{name} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def with_digits(digits_dir):
    Path("data").mkdir()
    Path("data/digits").symlink_to(digits_dir)  # where the digits zoo configs read it


def assert_accuracy(record):
    for key in ("acc1", "acc5"):
        value = record["metrics"][key]
        assert math.isfinite(value) and 0.0 <= value <= 100.0, record["metrics"]


def assert_finished(expected, evaluations=("linear",)):
    """The runs below runs/ are exactly ``expected``, each with its checkpoint and evaluation outputs."""
    out = Path("runs")
    assert sorted(str(p.parent.relative_to(out)) for p in out.rglob("pretrain")) == sorted(expected)
    for run in expected:
        run_dir = out / run
        assert len(list((run_dir / "pretrain").rglob("*.ckpt"))) == 1, run
        for stage in evaluations:
            (results,) = (run_dir / stage).rglob("results.json")
            assert_accuracy(json.loads(results.read_text()))
        assert_accuracy(json.loads((run_dir / "knn.json").read_text()))


def run_files():
    """{file: mtime} below runs/, the paper tables aside (the scripts rebuild those on every invocation)."""
    return {
        p: p.stat().st_mtime_ns
        for p in Path("runs").rglob("*")
        if p.is_file() and p.parent != Path("runs")
    }


def assert_rerun_skips(name, *args, **settings):
    before = run_files()
    result = run_script(name, *args, **settings)
    assert run_files() == before  # same files, none rewritten
    ran = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("solo-ext ") and line.split()[1] != "table"
    ]
    assert not ran
    assert "finished" in result.stdout
    return result


def test_magma_table1(digits_dir):
    """One Table 1 row (M-SimCLR) on digits; also: a stage left unfinished stops the rerun. Not run: the
    other 7 rows (same commands, other zoo configs)."""
    with_digits(digits_dir)
    args = ["--dataset", "digits", "--only", "m-simclr"]
    run_script("magma_table1.sh", *args)
    assert_finished(["digits/m-simclr/seed5"])
    assert_rerun_skips("magma_table1.sh", *args)

    (linear,) = Path("runs").rglob("linear/.finished")
    linear.unlink()  # as if the probe had been interrupted
    before = run_files()
    result = invoke("magma_table1.sh", *args)
    assert result.returncode == 1 and "an earlier attempt did not finish" in result.stderr
    assert run_files() == before


@pytest.mark.skipif(
    not SOLO_LEARN_SRC or not (Path(SOLO_LEARN_SRC) / "main_pretrain.py").is_file(),
    reason="no solo-learn source tree with main_pretrain.py",
)
def test_magma_table1_through_solo_learns_main_pretrain(digits_dir):
    """The M-MAE row (single crop) pretrained by solo-learn's own main_pretrain.py (--launcher)."""
    with_digits(digits_dir)
    args = [
        "--dataset",
        "digits",
        "--only",
        "m-mae",
        "--launcher",
        str(Path(SOLO_LEARN_SRC) / "main_pretrain.py"),
    ]
    result = run_script("magma_table1.sh", *args)
    assert "main_pretrain.py --config-path" in result.stdout
    assert_finished(["digits/m-mae/seed5"])
    args_json = next(Path("runs").rglob("pretrain/**/args.json"))
    assert json.loads(args_json.read_text())["method"] == "m_mae"
    assert_rerun_skips("magma_table1.sh", *args)


def test_magma_table4(digits_dir):
    """One Table 4 setting (lambda=10) with digits standing in for ImageNet-100. Not run: the other 11 settings."""
    with_digits(digits_dir)
    args = ["--dataset", "digits", "--only", "m-mae-w10-*"]
    run_script("magma_table4.sh", *args)
    assert_finished(["digits/m-mae-w10-st10-dur100/seed5"])
    args_json = next(Path("runs").rglob("pretrain/**/args.json"))
    assert json.loads(args_json.read_text())["method_kwargs"]["magma"]["weight"] == 10
    assert_rerun_skips("magma_table4.sh", *args)


def test_colormae_ablations(digits_dir):
    """The patterns ablation at 64 patterns on digits. Not run: the other values and the mask_ratio/colors
    ablations (one override each, composed in the dry-run tests)."""
    with_digits(digits_dir)
    args = ["--ablation", "patterns", "--dataset", "digits", "--only", "colormae-patterns-64"]
    run_script("colormae_ablations.sh", *args)
    assert_finished(["digits/colormae-patterns-64/seed5"])
    assert_rerun_skips("colormae_ablations.sh", *args)


def test_smae_sweep(digits_dir):
    """SMAE alpha=1 with block masking on digits, with a critic trained here for 2 steps. Not run: MAE-Lite
    and the other alpha/masking pairs."""
    from solo_ext.launch.critic import train_critic

    with_digits(digits_dir)
    train_critic(
        digits_dir,
        Path("critics/digits-squeezenet1_1.pt"),
        size=64,
        mean=[0.3094] * 3,
        std=[0.3488] * 3,
        epochs=1,
        batch=16,
        warmup_epochs=0,
        workers=0,
        device="cpu",
        max_steps=2,
    )
    args = ["--dataset", "digits", "--only", "smae-a1-block"]
    run_script("smae_sweep.sh", *args)
    assert_finished(["digits/smae-a1-block/seed5"])
    (args_json,) = Path("runs").rglob("pretrain/**/args.json")
    assert json.loads(args_json.read_text())["method_kwargs"]["smae"]["masking"] == "block"
    assert_rerun_skips("smae_sweep.sh", *args)


def test_reproduce_magma(tmp_path):
    """Digits prepared by the script, Table 1 (U-MAE row) and Table 5 (MAE on ViT-S) with digits standing in
    for ImageNet-100, both paper tables. Not run: Table 4 (magma_table4.sh has its own test), the other rows,
    the Tiny-ImageNet preparation (tests/core/test_tiny_imagenet.py; test_reproduce_smae runs it)."""
    args = [
        "--datasets",
        "digits",
        "--tables",
        "1 5",
        "--ablation-dataset",
        "digits",
        "--only",
        "u-mae mae-vit_small",
    ]
    run_script("reproduce_magma.sh", *args)
    assert len(list(Path("data/digits/train").rglob("*.png"))) > 1000
    assert_finished(["digits/u-mae/seed5", "digits/mae-vit_small/seed5"])
    args_json = next(Path("runs/digits/mae-vit_small").rglob("args.json"))
    assert json.loads(args_json.read_text())["backbone"]["name"] == "vit_small"
    for table in ("magma-table1", "magma-table5"):
        assert Path(f"runs/{table}.md").is_file() and Path(f"runs/{table}.csv").is_file()
    assert "skip data preparation" in assert_rerun_skips("reproduce_magma.sh", *args).stdout


def random_image(rng, height, width):
    return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))


def fake_tiny_imagenet(root: Path, rng) -> Path:
    """tiny-imagenet-200's layout: 5 classes (the probe reports top-5), 4 train and 2 val images each, 64x64 JPEG."""
    wnids = ["n01443537", "n01629819", "n01641577", "n01644900", "n01698640"]
    src = root / "tiny-imagenet-200"
    (src / "val" / "images").mkdir(parents=True)
    annotations = []
    for c, wnid in enumerate(wnids):
        (src / "train" / wnid / "images").mkdir(parents=True)
        for i in range(4):
            random_image(rng, 64, 64).save(src / "train" / wnid / "images" / f"{wnid}_{i}.JPEG")
        for i in range(2):
            random_image(rng, 64, 64).save(src / "val" / "images" / f"val_{c}_{i}.JPEG")
            annotations.append(f"val_{c}_{i}.JPEG\t{wnid}\t0\t0\t63\t63")
    (src / "val" / "val_annotations.txt").write_text("\n".join(annotations) + "\n")
    (src / "wnids.txt").write_text("\n".join(wnids) + "\n")
    return src


def fake_cub200(root: Path, rng) -> Path:
    """CUB_200_2011's layout: 5 classes x 8 images (even ids train: 20, a full batch of 16) and its metadata."""
    src = root / "CUB_200_2011"
    images, labels, split = [], [], []
    for c in range(5):
        name = f"00{c + 1}.Bird_{c}"
        (src / "images" / name).mkdir(parents=True)
        for i in range(8):
            image_id = 8 * c + i + 1
            random_image(rng, 60, 80).save(src / "images" / name / f"{i}.jpg")
            images.append(f"{image_id} {name}/{i}.jpg")
            labels.append(f"{image_id} {c + 1}")
            split.append(f"{image_id} {int(image_id % 2 == 0)}")
    for file, lines in (
        ("images.txt", images),
        ("image_class_labels.txt", labels),
        ("train_test_split.txt", split),
    ):
        (src / file).write_text("\n".join(lines) + "\n")
    (src / "classes.txt").write_text("".join(f"{c + 1} 00{c + 1}.Bird_{c}\n" for c in range(5)))
    return src


def test_reproduce_smae(tmp_path):
    """The whole chain on fake Tiny-ImageNet and CUB-200 sources (5 classes, a few random images): both data
    preparations, the critic (1 epoch), SMAE alpha=1 block pretraining with its linear probe and kNN, and the
    fine-tuning on both datasets, then both paper tables. Not run: the other sweep runs and the MAE
    mask-ratio sweep (--mask-ratios ""; mae-lite with one override, composed in the dry-run tests)."""
    rng = np.random.default_rng(0)
    sources = tmp_path / "sources"
    args = [
        "--tiny-imagenet-src",
        str(fake_tiny_imagenet(sources, rng)),
        "--cub-src",
        str(fake_cub200(sources, rng)),
        "--mask-ratios",
        "",
        "--critic-args",
        "--epochs 1 --warmup_epochs 0 --workers 0 --batch 16",
        "--only",
        "smae-a1-block",
    ]
    gpu_presets = {"overrides": ON_CPU, "pretrain_only": ["sync_batchnorm=false"]}
    run_script("reproduce_smae.sh", *args, **gpu_presets)
    assert Path("critics/tiny-imagenet-squeezenet1_1.pt").is_file()
    assert_finished(
        ["tiny-imagenet/smae-a1-block/seed5"], evaluations=("linear", "finetune", "finetune-cub200")
    )
    for table in ("smae-finetune", "smae-mask-ratio"):
        assert Path(f"runs/{table}.md").is_file()
    critic_mtime = Path("critics/tiny-imagenet-squeezenet1_1.pt").stat().st_mtime_ns
    result = assert_rerun_skips("reproduce_smae.sh", *args, **gpu_presets)
    assert "skip critic" in result.stdout
    assert Path("critics/tiny-imagenet-squeezenet1_1.pt").stat().st_mtime_ns == critic_mtime


def test_reproduce_vicmae(digits_dir):
    """The code preset (NT-Xent) on digits standing in for ImageNet, its BatchNorm probe, kNN, the paper table.
    Not run: the paper preset (CLIP-style loss; composed in the dry-run tests)."""
    with_digits(digits_dir)
    args = ["--datasets", "digits", "--presets", "vicmae"]
    run_script("reproduce_vicmae.sh", *args)
    assert_finished(["digits/vicmae/seed5"])
    assert Path("runs/vicmae-linear.md").is_file()
    assert_rerun_skips("reproduce_vicmae.sh", *args)


def test_reproduce_colormae(digits_dir):
    """The mask-ratio ablation at 0.90 on digits standing in for ImageNet, the MAE-style probe, both paper
    tables. Not run: the other ratios and the patterns ablation (test_colormae_ablations runs one)."""
    with_digits(digits_dir)
    args = [
        "--datasets",
        "digits",
        "--ablations",
        "mask_ratio",
        "--only",
        "colormae-mask_ratio-0.90",
    ]
    run_script("reproduce_colormae.sh", *args)
    assert_finished(["digits/colormae-mask_ratio-0.90/seed5"])
    for table in ("colormae-mask-ratio", "colormae-patterns"):
        assert Path(f"runs/{table}.md").is_file()
    assert_rerun_skips("reproduce_colormae.sh", *args)
