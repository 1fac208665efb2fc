"""Bad checkpoints, data and overrides give one line naming the file, key or override (#16), without solo-learn."""

import json
import os
import urllib.error

import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import ImageFolder

from solo_ext.config import ConfigError
from solo_ext.config.training import check_patch_size, check_training_keys
from solo_ext.launch.checkpoints import (
    find_trained_run,
    load_failure,
    load_state_dict,
    require_architecture,
)
from solo_ext.launch.data_checks import (
    SampleLoadError,
    check_data_paths,
    check_eval_batch_size,
    check_image_folder,
    check_torchvision_download,
    name_failing_samples,
)


@pytest.fixture
def checkpoints(tmp_path):
    good = tmp_path / "good.ckpt"
    torch.save({"state_dict": {"backbone.w": torch.ones(3)}}, good)
    files = {"good": good}
    files["random"] = tmp_path / "random.ckpt"
    files["random"].write_bytes(b"\x00" + os.urandom(4095))  # never a zip or pickle header
    files["truncated"] = tmp_path / "truncated.ckpt"
    files["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    files["empty"] = tmp_path / "empty.ckpt"
    files["empty"].write_bytes(b"")
    files["objects"] = tmp_path / "objects.ckpt"
    torch.save(
        {"state_dict": {"backbone.w": torch.ones(3)}, "cfg": OmegaConf.create({"a": 1})},
        files["objects"],
    )
    return files


@pytest.mark.parametrize("trust", [False, True])
def test_random_bytes_are_no_checkpoint_and_trust_is_not_advised(checkpoints, trust):
    with pytest.raises(ConfigError) as err:
        load_state_dict(checkpoints["random"], trust=trust)
    message = str(err.value)
    assert str(checkpoints["random"]) in message and "not a PyTorch checkpoint" in message
    assert "trust" not in message and "\n" not in message


@pytest.mark.parametrize("trust", [False, True])
def test_truncated_and_empty_checkpoints_say_so(checkpoints, trust):
    with pytest.raises(
        ConfigError, match=r"truncated\.ckpt: does not load as a checkpoint \(the file is truncated"
    ):
        load_state_dict(checkpoints["truncated"], trust=trust)
    with pytest.raises(
        ConfigError, match=r"empty\.ckpt: does not load as a checkpoint \(the file is empty\)"
    ):
        load_state_dict(checkpoints["empty"], trust=trust)


def test_only_python_objects_get_the_trust_advice(checkpoints):
    with pytest.raises(ConfigError) as err:
        load_state_dict(checkpoints["objects"])
    message = str(err.value)
    assert "omegaconf.dictconfig.DictConfig" in message and "trust_checkpoint=true" in message
    assert "\n" not in message
    assert torch.equal(
        load_state_dict(checkpoints["objects"], trust=True)["backbone.w"], torch.ones(3)
    )
    assert torch.equal(load_state_dict(checkpoints["good"])["backbone.w"], torch.ones(3))


def test_load_failure_reasons(checkpoints):
    def reason(name):
        try:
            torch.load(checkpoints[name], map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001
            return load_failure(err, checkpoints[name])

    assert reason("random") == "the file is not a PyTorch checkpoint"
    assert reason("truncated").startswith("the file is truncated")
    assert reason("objects").startswith("it stores python objects")


def test_a_checkpoint_without_args_json_names_the_file_and_the_fix(checkpoints):
    run = find_trained_run(checkpoints["good"], "pretrained_feature_extractor")
    with pytest.raises(ConfigError) as err:
        require_architecture(
            run, "pretrained_feature_extractor", how="give backbone.name in the linear config"
        )
    message = str(err.value)
    assert message.startswith(
        f"pretrained_feature_extractor: {checkpoints['good']} has no args.json beside it"
    )
    assert f"copy the run's args.json into {checkpoints['good'].parent}" in message
    assert "give backbone.name" in message
    require_architecture(
        run, "pretrained_feature_extractor", backbone_given=True
    )  # the config says it


def test_a_linear_run_names_its_pretraining_method(tmp_path, checkpoints):
    folder = tmp_path / "linear-run"
    folder.mkdir()
    ckpt = folder / "linear.ckpt"
    ckpt.write_bytes(checkpoints["good"].read_bytes())
    args = {"backbone": {"name": "vit_tiny", "kwargs": {}}, "pretrain_method": "m_mae"}
    (folder / "args.json").write_text(json.dumps(args))
    assert find_trained_run(folder, "--pretrained_checkpoint_dir").method == "m_mae"
    (folder / "args.json").write_text(json.dumps({"backbone": {"name": "vit_tiny"}}))
    with pytest.raises(ConfigError, match="args.json names no pretraining method"):
        find_trained_run(folder, "--pretrained_checkpoint_dir")
    (folder / "args.json").write_text("{not json")
    with pytest.raises(ConfigError, match="args.json does not read as JSON"):
        find_trained_run(folder, "--pretrained_checkpoint_dir")


@pytest.mark.parametrize(
    "key,value",
    [
        ("max_epochs", 0),
        ("max_epochs", -1),
        ("max_epochs", 1.5),
        ("optimizer.batch_size", 0),
        ("optimizer.batch_size", None),
    ],
)
def test_training_keys(key, value):
    cfg = OmegaConf.create({"max_epochs": 2, "optimizer": {"batch_size": 16}})
    check_training_keys(cfg)
    OmegaConf.update(cfg, key, value)
    with pytest.raises(
        ConfigError, match=rf"^{key}: {value!r} is not allowed; expected a whole number >= 1$"
    ):
        check_training_keys(cfg)


def test_eval_batch_size():
    check_eval_batch_size(1)
    with pytest.raises(
        ConfigError, match=r"^--batch_size: 0 is not allowed; expected a whole number >= 1$"
    ):
        check_eval_batch_size(0)


def test_patch_size_divides_the_image():
    def cfg(name, kwargs, crops=(32,)):
        return OmegaConf.create(
            {
                "backbone": {"name": name, "kwargs": kwargs},
                "augmentations": [{"crop_size": c} for c in crops],
            }
        )

    check_patch_size(cfg("vit_tiny", {"patch_size": 8, "img_size": 32}))
    check_patch_size(cfg("resnet18", {}, crops=(33,)))
    with pytest.raises(
        ConfigError,
        match=r"backbone.kwargs.patch_size: 5 does not divide backbone.kwargs.img_size = 32",
    ):
        check_patch_size(cfg("vit_tiny", {"patch_size": 5, "img_size": 32}))
    with pytest.raises(
        ConfigError, match=r"patch_size: 16 does not divide augmentations\[1\].crop_size = 40"
    ):
        check_patch_size(cfg("vit_small", {}, crops=(224, 40)))
    with pytest.raises(
        ConfigError, match=r"patch_size: 4 does not divide augmentations\[0\].crop_size = 30"
    ):
        check_patch_size(cfg("vit_lite", {}, crops=(30,)))


def _image_folder(root, classes=("0", "1"), per_class=2):
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(root / name / f"{i}.png")
    return root


def test_image_folder_checks(tmp_path):
    train = _image_folder(tmp_path / "train")
    check_image_folder(train, "data.train_path")
    with pytest.raises(
        ConfigError, match=r"^data.train_path: '.*absent' does not exist \(relative paths"
    ):
        check_image_folder(tmp_path / "absent", "data.train_path")
    with pytest.raises(ConfigError, match=r"is not a folder"):
        check_image_folder(train / "0" / "0.png", "data.train_path")
    with pytest.raises(ConfigError, match=r"holds no class folder"):
        check_image_folder(train / "0", "data.val_path")
    (train / "2").mkdir()
    (train / "2" / "notes.txt").write_text("no image")
    with pytest.raises(
        ConfigError, match=r"^data.train_path: class folder\(s\) \['2'\] of .* hold no image"
    ):
        check_image_folder(train, "data.train_path")
    check_image_folder(
        train / "0", "data.train_path", labelled=False
    )  # images without class folders
    with pytest.raises(ConfigError, match=r"^--val_data_path: .*absent' does not exist"):
        check_data_paths(
            "custom",
            "image_folder",
            train / "0",
            tmp_path / "absent",
            "--train_data_path",
            "--val_data_path",
            labelled=False,
        )


@pytest.mark.parametrize("workers", [0, 1])
def test_a_sample_that_does_not_load_names_its_file(tmp_path, workers):
    root = _image_folder(tmp_path / "train")
    bad = root / "1" / "1.png"
    bad.write_bytes(bad.read_bytes()[:40])  # truncated PNG
    dataset = ImageFolder(str(root), transforms.ToTensor())
    name_failing_samples(
        DataLoader(dataset)
    )  # reached through a loader, as the launchers pass them
    loader = DataLoader(dataset, batch_size=4, num_workers=workers)
    with pytest.raises(SampleLoadError) as err:
        next(iter(loader))
    assert err.value.one_line.startswith(f"{bad}: does not load as an image (")
    assert err.value.one_line.endswith("replace or remove the file")


def test_an_offline_cifar_download_says_where_to_put_the_archive(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as cifar

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(cifar, "download_and_extract_archive", offline)
    with pytest.raises(ConfigError) as err:
        check_torchvision_download("cifar100", tmp_path, "data.train_path")
    message = str(err.value)
    assert message.startswith(
        f"data.train_path: '{tmp_path}' holds no cifar100 (cifar-100-python/)"
    )
    assert "Temporary failure in name resolution" in message and cifar.CIFAR100.url in message
    assert str(tmp_path / "cifar-100-python") in message and "\n" not in message


def test_bad_override_names_it_and_how_to_quote(tmp_path):
    from solo_ext.cli import bad_override

    assert (
        bad_override(["--config-path", "/x=y", "--config-name", "m-mae", "data.train_path=/tmp/ab"])
        == ""
    )
    assert bad_override(["data.train_path='/tmp/a=b/train'", "+x=1", "~y", "-m"]) == ""
    message = bad_override(["max_epochs=1", "data.train_path=/tmp/a=b/train"])
    assert message == (
        "override 'data.train_path=/tmp/a=b/train': Hydra cannot parse it (its value holds '='); "
        "quote the value: 'data.train_path=\"/tmp/a=b/train\"' (in bash: single quotes around the "
        "whole override, double quotes around the value)"
    )


def test_solo_learns_backbone_choice_logs_are_silenced_precisely(caplog):
    import logging

    from solo_ext.cli import silence_harmless_warnings

    silence_harmless_warnings()
    silence_harmless_warnings()  # twice (DDP ranks, tests): one filter
    root = logging.getLogger()
    try:
        with caplog.at_level(logging.WARNING):
            logging.warning("No custom backbone found for simclr, defaulting to default")
            logging.warning("Using custom backbone for mae")
            logging.warning("Using custom backbone for mae, but the checkpoint has none")  # stays
            logging.warning("auto_resume: skipping run.ckpt")  # stays
        assert [r.getMessage() for r in caplog.records] == [
            "Using custom backbone for mae, but the checkpoint has none",
            "auto_resume: skipping run.ckpt",
        ]
        assert sum(type(f).__name__ == "_HarmlessLogFilter" for f in root.filters) == 1
    finally:
        for f in [f for f in root.filters if type(f).__name__ == "_HarmlessLogFilter"]:
            root.removeFilter(f)


def test_harmless_warnings_are_silenced_precisely():
    import warnings

    from solo_ext.cli import silence_harmless_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_harmless_warnings()
        warnings.warn(
            "Overwriting convnext_tiny in registry with solo.backbones.convnext.convnext_tiny",
            UserWarning,
        )
        warnings.warn(
            "Importing from timm.models.layers is deprecated, please import via timm.layers",
            FutureWarning,
        )
        warnings.warn(
            "pkg_resources is deprecated as an API. See https://setuptools.pypa.io", UserWarning
        )
        warnings.warn(
            "`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use torch.amp",
            FutureWarning,
        )
        warnings.warn(
            "auto_resume: skipping run.ckpt: it does not load", UserWarning
        )  # ours: stays
        warnings.warn(
            "Overwriting my_model in registry with my_package.models", UserWarning
        )  # not solo-learn's
    assert [str(w.message) for w in caught] == [
        "auto_resume: skipping run.ckpt: it does not load",
        "Overwriting my_model in registry with my_package.models",
    ]
