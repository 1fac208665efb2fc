"""Misleading or raw failures (#16): each is one line naming the file, key or override, before training
where it can be checked, and the console of a solo-ext command is free of known harmless warnings."""

import json
import shutil
import urllib.error

import pytest
import torch
from hydra import compose, initialize_config_dir

from solo_ext.cli import zoo_path
from solo_ext.config import ConfigError
from solo_ext.launch.checkpoints import build_backbone
from solo_ext.launch.evaluate import knn_main, linear
from solo_ext.launch.pretrain import pretrain
from tests.integration.helpers import (
    TINY_VIT,
    digits_config,
    run_python,
    solo_ext_command,
    tiny_method_overrides,
    zoo_args,
)

# the tests' tiny ViT (tests/integration/helpers.py), as args.json records it
BACKBONE = {
    "name": "vit_lite",
    "kwargs": {"patch_size": 8, "img_size": 32, "depth": 2, "embed_dim": 32, "num_heads": 2},
}
VIT_TINY = {"name": "vit_tiny", "kwargs": {"patch_size": 8, "img_size": 32}}
AUG = {"crop_size": 32, "mean": [0.31, 0.31, 0.31], "std": [0.35, 0.35, 0.35]}
HARMLESS = (
    "pkg_resources is deprecated",
    "Importing from timm",
    "in registry with solo.backbones",
    "torch.cuda.amp.custom_fwd",
    "LeafSpec",
)


def _pretrain_run(folder, seed=0, backbone_args=BACKBONE):
    """A pretraining run folder as solo-learn writes it (MAE on the tiny ViT, random weights)."""
    folder.mkdir(parents=True)
    torch.manual_seed(seed)
    backbone, _ = build_backbone(
        "mae", backbone_args["name"], dict(backbone_args["kwargs"]), "custom"
    )
    state = {f"backbone.{k}": v for k, v in backbone.state_dict().items()}
    torch.save({"state_dict": state}, folder / "mae-ep=0.ckpt")
    args = {
        "method": "mae",
        "backbone": backbone_args,
        "augmentations": [AUG],
        "data": {"dataset": "custom"},
    }
    (folder / "args.json").write_text(json.dumps(args))
    return folder / "mae-ep=0.ckpt", state


def _small_digits(digits_dir, out, per_class=12):
    """A few digits per class (fast to read), as train/ and val/."""
    for split in ("train", "val"):
        for class_dir in sorted((digits_dir / split).iterdir()):
            (out / split / class_dir.name).mkdir(parents=True)
            for image in sorted(class_dir.iterdir())[:per_class]:
                shutil.copy(image, out / split / class_dir.name / image.name)
    return out


def _knn(ckpt_dir, data, *extra):
    return knn_main(
        [
            "--pretrained_checkpoint_dir",
            str(ckpt_dir),
            "--dataset",
            "custom",
            "--train_data_path",
            f"{data}/train",
            "--val_data_path",
            f"{data}/val",
            "--num_workers",
            "0",
            "--cpu",
            *extra,
        ]
    )


def test_knn_on_a_linear_run_uses_the_pretraining_backbone(digits_dir, tmp_path):
    data = _small_digits(digits_dir, tmp_path / "data")
    # ViT-Tiny: MAE's 12-head ViT differs from what solo-learn builds for another method, so the kNN
    # features match only if the linear run's pretrain_method reaches the backbone (the tiny ViT is the
    # same for every method)
    ckpt, state = _pretrain_run(tmp_path / "pretrain", backbone_args=VIT_TINY)
    linear_run = (
        tmp_path / "linear"
    )  # a linear run: its args.json names pretrain_method, not method
    linear_run.mkdir()
    state["classifier.weight"], state["classifier.bias"] = torch.zeros(10, 192), torch.zeros(10)
    torch.save({"state_dict": state}, linear_run / "linear-ep=0.ckpt")
    (linear_run / "args.json").write_text(
        json.dumps(
            {
                "backbone": VIT_TINY,
                "pretrain_method": "mae",
                "augmentations": [AUG],
                "finetune": False,
            }
        )
    )
    assert _knn(linear_run, data) == _knn(
        ckpt.parent, data
    )  # the same frozen backbone, the same features


@pytest.mark.parametrize("trust", [[], ["--trust_checkpoint"]])
def test_checkpoints_that_do_not_load(digits_dir, tmp_path, trust):
    # ViT-Tiny's file: cut in half, a checkpoint of the tiny ViT's size fails inside torch with an OSError
    ckpt, _ = _pretrain_run(tmp_path / "run", backbone_args=VIT_TINY)
    good = ckpt.read_bytes()
    ckpt.write_bytes(b"\x00" + bytes(range(256)) * 8)
    with pytest.raises(ConfigError) as err:
        _knn(ckpt, digits_dir, *trust)
    assert str(err.value) == (
        f"{ckpt}: does not load as a checkpoint (the file is not a PyTorch checkpoint); "
        "give another checkpoint of the run (an earlier epoch) or train it again"
    )
    ckpt.write_bytes(good[: len(good) // 2])
    with pytest.raises(
        ConfigError, match=r"mae-ep=0.ckpt: does not load as a checkpoint \(the file is truncated"
    ):
        _knn(ckpt, digits_dir, *trust)


def test_a_checkpoint_without_args_json(digits_dir, tmp_path):
    ckpt, _ = _pretrain_run(tmp_path / "run")
    (ckpt.parent / "args.json").unlink()
    cfg = digits_config(
        "linear",
        digits_dir,
        tmp_path,
        f"pretrained_feature_extractor='{ckpt.parent}'",
        task="linear",
    )
    with pytest.raises(
        ConfigError,
        match=rf"^pretrained_feature_extractor: {ckpt} has no args.json beside it .*"
        r"copy the run's args.json into .*, or give backbone.name",
    ):
        linear(cfg)
    with pytest.raises(
        ConfigError, match=r"^--pretrained_checkpoint_dir: .* has no args.json beside it"
    ):
        _knn(ckpt.parent, digits_dir)


def test_data_and_training_keys_are_checked_before_training(digits_dir, tmp_path):
    ckpt, _ = _pretrain_run(tmp_path / "run")
    data = _small_digits(digits_dir, tmp_path / "data", per_class=2)
    (data / "train" / "10").mkdir()  # an empty class folder (in val too: the class folders agree)
    (data / "val" / "10").mkdir()

    def config(task, name, *overrides):
        extra = (f"pretrained_feature_extractor='{ckpt}'",) if task == "linear" else ()
        return digits_config(name, digits_dir, tmp_path, *extra, *overrides, task=task)

    for task, name in (("pretrain", "m-mae"), ("linear", "linear")):
        with pytest.raises(ConfigError, match=r"^data.train_path: '.*absent' does not exist"):
            (pretrain if task == "pretrain" else linear)(
                config(task, name, f"data.train_path={tmp_path}/absent")
            )
        with pytest.raises(
            ConfigError, match=r"^data.train_path: class folder\(s\) \['10'\] of .* hold no image"
        ):
            (pretrain if task == "pretrain" else linear)(
                config(task, name, f"data.train_path={data}/train", f"data.val_path={data}/val")
            )
        with pytest.raises(
            ConfigError, match=r"^max_epochs: 0 is not allowed; expected a whole number >= 1$"
        ):
            (pretrain if task == "pretrain" else linear)(config(task, name, "max_epochs=0"))
        with pytest.raises(ConfigError, match=r"^optimizer.batch_size: 0 is not allowed"):
            (pretrain if task == "pretrain" else linear)(
                config(task, name, "optimizer.batch_size=0")
            )
    with pytest.raises(
        ConfigError,
        match=r"^backbone.kwargs.patch_size: 5 does not divide backbone.kwargs.img_size",
    ):
        pretrain(config("pretrain", "m-mae", "backbone.kwargs.patch_size=5"))
    with pytest.raises(
        ConfigError, match=r"^--batch_size: 0 is not allowed; expected a whole number >= 1$"
    ):
        _knn(ckpt, digits_dir, "--batch_size", "0")
    with pytest.raises(ConfigError, match=r"^--train_data_path: class folder\(s\) \['10'\]"):
        _knn(ckpt, data)


def test_cifar100_offline_says_where_to_put_the_archive(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as cifar

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(cifar, "download_and_extract_archive", offline)
    with initialize_config_dir(
        config_dir=str(zoo_path() / "pretrain" / "cifar100"), version_base="1.2"
    ):
        cfg = compose(
            config_name="m-mae",
            overrides=[
                f"data.train_path={tmp_path}",
                f"data.val_path={tmp_path}",
                "devices=1",
                "accelerator=cpu",
            ],
        )
    with pytest.raises(ConfigError) as err:
        pretrain(cfg)
    assert str(err.value).startswith(
        f"data.train_path: '{tmp_path}' holds no cifar100 (cifar-100-python/) and "
        "downloading it failed ("
    )
    assert "Temporary failure in name resolution" in str(err.value)
    assert cifar.CIFAR100.url in str(err.value)


@pytest.mark.slow
def test_a_damaged_image_is_named_mid_epoch(digits_dir, tmp_path):
    data = _small_digits(digits_dir, tmp_path / "data", per_class=8)
    bad = sorted((data / "train" / "3").iterdir())[2]
    bad.write_bytes(bad.read_bytes()[:60])  # a truncated PNG: only reading it finds it
    result = solo_ext_command(
        "pretrain",
        *zoo_args("m-mae"),
        *TINY_VIT,
        *tiny_method_overrides("m_mae"),
        f"data.train_path={data}/train",
        f"data.val_path={data}/val",
        "max_epochs=1",
        "optimizer.batch_size=16",
        "data.num_workers=1",
        "+num_sanity_val_steps=0",
        "+enable_progress_bar=false",
        f"checkpoint.dir={tmp_path}/trained_models",
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"solo-ext pretrain: data error: {bad}: does not load as an image ("), (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not any(text in result.stderr for text in HARMLESS), result.stderr


@pytest.mark.slow
def test_console_override_and_warnings(tmp_path):
    result = solo_ext_command(
        "pretrain",
        *zoo_args("m-mae"),
        "data.train_path=/tmp/a=b/train",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "solo-ext pretrain: override 'data.train_path=/tmp/a=b/train': Hydra cannot parse it "
        "(its value holds '='); quote the value: 'data.train_path=\"/tmp/a=b/train\"' (in bash: "
        "single quotes around the whole override, double quotes around the value)\n"
    )

    result = solo_ext_command(
        "knn",
        "--pretrained_checkpoint_dir",
        str(tmp_path / "absent"),
        "--dataset",
        "custom",
        "--train_data_path",
        "x",
        "--val_data_path",
        "y",
        cwd=tmp_path,
    )  # imports solo-learn first
    assert (
        result.stderr
        == f"solo-ext knn: config error: --pretrained_checkpoint_dir: '{tmp_path}/absent' does not exist\n"
    )

    own_script = run_python("-c", "import solo_ext; solo_ext.register()", cwd=tmp_path)
    assert (
        "in registry with solo.backbones" in own_script.stderr
    )  # a user's script keeps every warning
