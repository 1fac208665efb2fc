import json
from pathlib import Path

import pytest
import torch

from solo_ext.config import ConfigError
from solo_ext.launch.checkpoints import build_backbone
from solo_ext.launch.evaluate import knn_main, linear
from solo_ext.launch.pretrain import pretrain
from solo_ext.launch.results import read_results
from tests.integration.helpers import (
    MAIN_PRETRAIN,
    ONE_CPU_DEVICE,
    SOLO_LEARN_SRC,
    TINY_VIT_DEPTH,
    TINY_VIT_HEADS,
    TINY_VIT_WIDTH,
    assert_succeeded,
    digits_config,
    run_python,
    short_run,
    solo_ext_command,
    zoo_args,
)


def only_checkpoint(folder: Path) -> Path:
    (ckpt,) = list(folder.rglob("*.ckpt"))
    return ckpt


@pytest.fixture(scope="module")
def m_mae_run(digits_dir, tmp_path_factory):
    """M-MAE on the tiny ViT trained for two steps through our launcher (single crop), with MAGMA active from
    epoch 0."""
    out = tmp_path_factory.mktemp("m_mae_run")
    cfg = digits_config(
        "m-mae", digits_dir, out, "++method_kwargs.magma.start_epoch=0", tiny_vit=True
    )
    trainer = pretrain(cfg)
    return trainer, only_checkpoint(out / "trained_models" / "m_mae")


def test_single_crop_method_trains_and_logs(m_mae_run):
    trainer, _ = m_mae_run
    metrics = trainer.callback_metrics
    for key in (
        "train_reconstruction_loss",
        "train_magma_loss",
        "train_magma_weight",
        "train_uniformity_loss",
        "val_acc1",
        "val_knn_acc1",
    ):
        assert key in metrics, key
    assert (
        metrics["train_magma_weight"] == 0.1 and metrics["train_magma_loss"] > 0
    )  # the digits zoo λ
    assert trainer.global_step == 2


def test_checkpoint_loads_with_weights_only(m_mae_run):
    _, ckpt = m_mae_run
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    last = f"backbone.blocks.{TINY_VIT_DEPTH - 1}."
    assert any(k.startswith(last) for k in state["state_dict"])
    args = json.loads((ckpt.parent / "args.json").read_text())
    assert args["method"] == "m_mae" and args["method_kwargs"]["magma"]["start_epoch"] == 0


@pytest.mark.parametrize(
    "config,method,host_loss",
    [
        ("m-simclr", "m_simclr", "train_nce_loss"),
        ("m-vicreg", "m_vicreg", "train_vicreg_loss"),
        ("u-mae", "u_mae", "train_reconstruction_loss"),
        ("mu-mae", "mu_mae", "train_reconstruction_loss"),
    ],
)
def test_every_magma_method_trains_with_online_linear_and_knn(
    config, method, host_loss, digits_dir, tmp_path
):
    trainer = pretrain(digits_config(config, digits_dir, tmp_path, tiny_vit=True))
    metrics = trainer.callback_metrics
    for key in (host_loss, "train_magma_loss", "train_uniformity_loss", "val_acc1", "val_knn_acc1"):
        assert key in metrics, key
    assert metrics["train_magma_weight"] == 0.0  # start_epoch 5 in the digits zoo
    assert only_checkpoint(tmp_path / "trained_models" / method).is_file()


def test_linear_rebuilds_the_trained_backbone(m_mae_run, digits_dir, tmp_path):
    _, ckpt = m_mae_run
    cfg = digits_config(
        "linear", digits_dir, tmp_path, f"pretrained_feature_extractor='{ckpt}'", task="linear"
    )
    trainer = linear(cfg)
    backbone = trainer.lightning_module.backbone
    # the shape args.json recorded (backbone.kwargs), not vit_lite's default 7 blocks x 4 heads
    assert (len(backbone.blocks), backbone.embed_dim, backbone.blocks[0].attn.num_heads) == (
        TINY_VIT_DEPTH,
        TINY_VIT_WIDTH,
        TINY_VIT_HEADS,
    )
    trained = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    assert torch.equal(
        backbone.blocks[1].mlp.fc1.weight, trained["backbone.blocks.1.mlp.fc1.weight"]
    )
    (results_file,) = (tmp_path / "trained_models" / "linear").rglob("results.json")
    record = read_results(results_file)
    assert record["task"] == "linear" and record["pretrain"]["method"] == "m_mae"
    assert record["metrics"]["acc1"] == pytest.approx(float(trainer.callback_metrics["val_acc1"]))
    assert (
        record["pretrained_checkpoint"] == str(ckpt)
        and record["settings"]["head_batchnorm"] is True
    )  # the digits preset's


def test_evaluation_rebuilds_maes_vit_tiny_for_a_solo_ext_method():
    """solo-learn hands its 12-head masking ViT-Tiny only to a method named "mae"; a checkpoint of any
    solo-ext method on vit_tiny is evaluated with that ViT, not solo-learn's 3-head default."""
    backbone, features = build_backbone(
        "m_mae", "vit_tiny", {"patch_size": 8, "img_size": 32}, "custom"
    )
    assert (len(backbone.blocks), backbone.blocks[0].attn.num_heads, features) == (12, 12, 192)


def test_linear_head_batchnorm_without_affine(m_mae_run, digits_dir, tmp_path):
    _, ckpt = m_mae_run
    cfg = digits_config(
        "linear",
        digits_dir,
        tmp_path,
        f"pretrained_feature_extractor='{ckpt}'",
        "++head_batchnorm=true",
        task="linear",
    )
    model = linear(cfg).lightning_module
    norm, head = model.classifier
    assert (
        isinstance(norm, torch.nn.BatchNorm1d) and not norm.affine and norm.num_batches_tracked > 0
    )
    assert (
        head.in_features == TINY_VIT_WIDTH and norm.running_mean.abs().sum() > 0
    )  # statistics of the features it saw
    bad = digits_config(
        "linear",
        digits_dir,
        tmp_path,
        f"pretrained_feature_extractor='{ckpt}'",
        "++head_batchnorm=maybe",
        task="linear",
    )
    with pytest.raises(ConfigError, match="head_batchnorm"):
        linear(bad)


@pytest.mark.parametrize("probe,optimizer", [("vicmae-linear", "SGD"), ("colormae-linear", "LARS")])
def test_mae_style_probes_run(probe, optimizer, m_mae_run, digits_dir, tmp_path):
    _, ckpt = m_mae_run
    trainer = linear(
        digits_config(
            probe, digits_dir, tmp_path, f"pretrained_feature_extractor='{ckpt}'", task="linear"
        )
    )
    assert isinstance(trainer.lightning_module.classifier[0], torch.nn.BatchNorm1d)
    assert (
        type(trainer.optimizers[0]).__name__ == optimizer and "val_acc1" in trainer.callback_metrics
    )


def test_linear_refuses_a_different_backbone(m_mae_run, digits_dir, tmp_path):
    from solo_ext.config import ConfigError

    _, ckpt = m_mae_run
    cfg = digits_config(
        "linear",
        digits_dir,
        tmp_path,
        f"pretrained_feature_extractor='{ckpt}'",
        "+backbone.name=vit_small",
        task="linear",
    )
    with pytest.raises(ConfigError, match="backbone.name"):
        linear(cfg)


@pytest.mark.slow
def test_knn_evaluates_at_the_dataset_resolution(m_mae_run, digits_dir):
    _, ckpt = m_mae_run
    results = knn_main(
        [
            "--pretrained_checkpoint_dir",
            str(ckpt.parent),
            "--dataset",
            "custom",
            "--train_data_path",
            f"{digits_dir}/train",
            "--val_data_path",
            f"{digits_dir}/val",
            "--k",
            "10",
            "--num_workers",
            "0",
            "--cpu",
        ]
    )
    acc1, acc5 = results[(10, "euclidean", None)]
    assert 10.0 < acc1 <= 100.0 and acc5 >= acc1  # 32-px digits; chance is 10%


@pytest.mark.slow
def test_knn_writes_a_results_file_and_never_replaces_one(m_mae_run, digits_dir, tmp_path):
    _, ckpt = m_mae_run
    argv = [
        "--pretrained_checkpoint_dir",
        str(ckpt),
        "--dataset",
        "custom",
        "--train_data_path",
        f"{digits_dir}/train",
        "--val_data_path",
        f"{digits_dir}/val",
        "--k",
        "10",
        "20",
        "--num_workers",
        "0",
        "--cpu",
        "--out",
        str(tmp_path / "knn.json"),
    ]
    results = knn_main(argv)
    record = read_results(tmp_path / "knn.json")
    assert record["task"] == "knn" and record["settings"] == {
        "k": 10,
        "distance": "euclidean",
        "T": None,
    }
    assert record["metrics"]["acc1"] == pytest.approx(results[(10, "euclidean", None)][0])
    assert [entry["k"] for entry in record["all"]] == [10, 20] and record["pretrain"][
        "method"
    ] == "m_mae"
    with pytest.raises(ConfigError, match="--out.*--overwrite"):
        knn_main(argv)
    knn_main(argv + ["--overwrite"])


@pytest.mark.slow
def test_cli_reports_a_config_error(tmp_path):
    result = solo_ext_command(
        "pretrain",
        *zoo_args("m-mae"),
        "++method_kwargs.magma.weight=-1",
        f"data.train_path={tmp_path}",
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "config error: method_kwargs.magma.weight: -1" in result.stderr


@pytest.mark.skipif(
    SOLO_LEARN_SRC is None,
    reason="no solo-learn source tree: set SOLO_LEARN_SRC (or install solo-learn editable) to run its main_pretrain.py",
)
@pytest.mark.slow
def test_solo_learns_main_pretrain_runs_a_two_crop_method(digits_dir, tmp_path):
    result = run_python(
        MAIN_PRETRAIN,
        *zoo_args("m-simclr"),
        *short_run(digits_dir, tmp_path / "trained_models", val=False),
        ONE_CPU_DEVICE,
        "knn_eval.enabled=false",
        cwd=tmp_path,
    )
    assert_succeeded(result)
    args = json.loads(
        next((tmp_path / "trained_models" / "m_simclr").rglob("args.json")).read_text()
    )
    assert args["method"] == "m_simclr" and args["method_kwargs"]["magma"]["reference_layers"] == [
        10
    ]


@pytest.mark.slow
def test_solo_learn_builtin_checkpoint_evaluates_and_untrusted_pickles_are_refused(
    digits_dir, tmp_path
):
    """solo-learn's own MAE: evaluated with its 12-head ViT; a file with python objects needs trust."""
    from omegaconf import OmegaConf

    from solo_ext.config import ConfigError

    pretrain(digits_config("mae", digits_dir, tmp_path))
    ckpt = only_checkpoint(tmp_path / "trained_models" / "mae")
    cfg = lambda path, *extra: digits_config(
        "linear",
        digits_dir,
        tmp_path,
        f"pretrained_feature_extractor='{path}'",
        *extra,
        task="linear",
    )  # noqa: E731
    assert linear(cfg(ckpt)).lightning_module.backbone.blocks[0].attn.num_heads == 12

    pickled = ckpt.with_name("with-omegaconf.ckpt")  # as written by older torch/solo-learn versions
    checkpoint = torch.load(ckpt, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"] = OmegaConf.create({"betas": [0.9, 0.95]})
    torch.save(checkpoint, pickled)
    with pytest.raises(ConfigError, match="trust_checkpoint=true"):
        linear(cfg(pickled))
    assert (
        linear(cfg(pickled, "+trust_checkpoint=true"))
        .lightning_module.backbone.blocks[0]
        .attn.num_heads
        == 12
    )
