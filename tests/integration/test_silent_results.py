"""Silently wrong results (#16): what used to exit 0 with a wrong or empty result now stops before
training with one line naming the key or flag (class folders of train and val, a batch larger than
the training set, kNN's k larger than the training set); knn's loader workers follow the machine."""

import shutil
from pathlib import Path

import pytest

from solo_ext.config import ConfigError
from solo_ext.launch import evaluate
from solo_ext.launch.evaluate import knn_main, knn_parser, linear
from solo_ext.launch.pretrain import pretrain
from tests.integration.helpers import digits_config

MISSING_0 = r"missing in val: \['0'\]"


@pytest.fixture(scope="module")
def checkpoint(digits_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("silent_run")
    pretrain(
        digits_config(
            "m-mae", digits_dir, out, "++method_kwargs.magma.start_epoch=0", tiny_vit=True
        )
    )
    return next((out / "trained_models").rglob("*.ckpt"))


@pytest.fixture
def val_without_0(digits_dir, tmp_path) -> Path:
    """The digits val folder without class 0: ImageFolder would call '1' class 0, and so on."""
    val = tmp_path / "val"
    shutil.copytree(digits_dir / "val", val)
    shutil.rmtree(val / "0")
    return val


@pytest.fixture
def val_with_extra(digits_dir, tmp_path) -> Path:
    val = tmp_path / "val_extra"
    shutil.copytree(digits_dir / "val", val)
    shutil.copytree(digits_dir / "val" / "9", val / "99")
    return val


def test_pretrain_refuses_a_val_folder_with_other_classes_before_training(
    digits_dir, val_without_0, tmp_path
):
    cfg = digits_config(
        "m-mae",
        digits_dir,
        tmp_path,
        f"data.val_path={val_without_0}",
        "++method_kwargs.magma.start_epoch=0",
        tiny_vit=True,
    )
    with pytest.raises(ConfigError) as err:
        pretrain(cfg)
    message = str(err.value)
    assert (
        message.startswith("data.val_path: the class folders of ")
        and MISSING_0.replace("\\", "") in message
    )
    assert str(val_without_0) in message and f"{digits_dir}/train" in message
    assert not (tmp_path / "trained_models").exists()  # no run folder, nothing trained


@pytest.mark.slow
def test_linear_refuses_a_val_folder_with_other_classes(
    checkpoint, digits_dir, val_without_0, tmp_path
):
    cfg = digits_config(
        "linear",
        digits_dir,
        tmp_path,
        f"pretrained_feature_extractor='{checkpoint}'",
        f"data.val_path={val_without_0}",
        task="linear",
    )
    with pytest.raises(ConfigError, match=rf"^data.val_path: .*{MISSING_0}"):
        linear(cfg)
    assert not (tmp_path / "trained_models").exists()


@pytest.mark.slow
def test_knn_refuses_a_val_folder_with_an_extra_class(checkpoint, digits_dir, val_with_extra):
    argv = [
        "--pretrained_checkpoint_dir",
        str(checkpoint),
        "--dataset",
        "custom",
        "--train_data_path",
        f"{digits_dir}/train",
        "--val_data_path",
        str(val_with_extra),
        "--num_workers",
        "0",
        "--cpu",
    ]
    with pytest.raises(ConfigError, match=r"^--val_data_path: .*only in val: \['99'\]"):
        knn_main(argv)


@pytest.mark.parametrize(
    "devices,batch,shown",
    [
        ("[0]", 2000, r"\(1437 images in \S+\)"),
        ("[0,1]", 1000, r"\(1437 images in \S+, 719 per device over 2 devices\)"),
    ],
)
def test_pretrain_refuses_a_batch_larger_than_the_training_set(
    devices, batch, shown, digits_dir, tmp_path
):
    cfg = digits_config(
        "m-mae",
        digits_dir,
        tmp_path,
        f"optimizer.batch_size={batch}",
        f"devices={devices}",
        "++method_kwargs.magma.start_epoch=0",
        tiny_vit=True,
    )
    with pytest.raises(
        ConfigError,
        match=rf"^optimizer.batch_size: {batch} is larger than the training set {shown}",
    ):
        pretrain(cfg)
    assert not (tmp_path / "trained_models").exists()


def test_pretrain_accepts_a_batch_that_fills_one_step_per_device(digits_dir, tmp_path):
    """1437 images over 2 devices: 719 per device is one full batch of 719, the boundary."""
    from solo_ext.launch.common import check_batch_fits
    from solo_ext.launch.pretrain import _train_data, build_model

    cfg, _ = build_model(
        digits_config(
            "m-mae",
            digits_dir,
            tmp_path,
            "optimizer.batch_size=719",
            "devices=[0,1]",
            "++method_kwargs.magma.start_epoch=0",
            tiny_vit=True,
        )
    )
    train_loader, _ = _train_data(cfg, None)
    check_batch_fits(cfg, train_loader)
    cfg.optimizer.batch_size = 720
    train_loader, _ = _train_data(cfg, None)
    with pytest.raises(ConfigError, match="allowed: <= 719"):
        check_batch_fits(cfg, train_loader)


@pytest.mark.slow
def test_linear_refuses_a_batch_larger_than_the_training_set(checkpoint, digits_dir, tmp_path):
    cfg = digits_config(
        "linear",
        digits_dir,
        tmp_path,
        f"pretrained_feature_extractor='{checkpoint}'",
        "optimizer.batch_size=1500",
        task="linear",
    )
    with pytest.raises(
        ConfigError,
        match=r"^optimizer.batch_size: 1500 is larger than the training set \(1437 images",
    ):
        linear(cfg)
    assert not (tmp_path / "trained_models").exists()


@pytest.mark.slow
def test_knn_refuses_k_larger_than_the_training_set(checkpoint, digits_dir, tmp_path):
    train = tmp_path / "train100"
    for source in sorted((digits_dir / "train").iterdir()):  # 10 images of each of the 10 classes
        (train / source.name).mkdir(parents=True)
        for image in sorted(source.iterdir())[:10]:
            shutil.copy(image, train / source.name / image.name)
    argv = [
        "--pretrained_checkpoint_dir",
        str(checkpoint),
        "--dataset",
        "custom",
        "--train_data_path",
        str(train),
        "--val_data_path",
        f"{digits_dir}/val",
        "--num_workers",
        "0",
        "--cpu",
        "--k",
        "10",
        "500",
    ]
    with pytest.raises(
        ConfigError,
        match=rf"^--k: 500 is larger than the training set \(100 images in {train}\); "
        r"allowed: 1 to 100",
    ):
        knn_main(argv)
    results = knn_main(argv[:-1])  # k = 10 fits
    assert list(results) == [(10, "euclidean", None)]


def test_knn_loader_workers_default_to_the_available_cores(monkeypatch):
    required = [
        "--pretrained_checkpoint_dir",
        "x",
        "--dataset",
        "custom",
        "--train_data_path",
        "t",
        "--val_data_path",
        "v",
    ]
    monkeypatch.setattr(evaluate, "available_cores", lambda: 2)
    assert knn_parser().parse_args(required).num_workers == 2
    monkeypatch.setattr(evaluate, "available_cores", lambda: 64)
    assert knn_parser().parse_args(required).num_workers == 4
    assert knn_parser().parse_args([*required, "--num_workers", "7"]).num_workers == 7
