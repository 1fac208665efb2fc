import json

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from solo.args.pretrain import parse_cfg
from solo.losses.simclr import simclr_loss_func
from solo.methods import METHODS

from solo_ext.config import ConfigError
from solo_ext.launch.pretrain import build_model, pretrain
from solo_ext.losses.contrastive import MAX_LOGIT_SCALE
from solo_ext.methods import ViCMAE
from tests.integration.helpers import (
    MAIN_PRETRAIN,
    ONE_CPU_DEVICE,
    SOLO_LEARN_SRC,
    TINY_VIT_WIDTH,
    assert_succeeded,
    digits_config,
    run_python,
    short_run,
    zoo_args,
)


def model_for(name, digits_dir, tmp_path, *overrides):
    cfg = digits_config(name, digits_dir, tmp_path, *overrides, tiny_vit=True)
    OmegaConf.set_struct(cfg, False)
    return METHODS["vicmae"](parse_cfg(cfg))


@pytest.mark.parametrize("preset,contrastive_on", [("vicmae", True), ("vicmae-paper", False)])
def test_trains_both_presets_through_the_launcher(preset, contrastive_on, digits_dir, tmp_path):
    trainer = pretrain(digits_config(preset, digits_dir, tmp_path, tiny_vit=True))
    metrics = trainer.callback_metrics
    for key in (
        "train_reconstruction_loss",
        "train_contrastive_loss",
        "train_contrastive_weight",
        "val_acc1",
        "val_knn_acc1",
    ):
        assert key in metrics, key
    assert (
        metrics["train_contrastive_weight"] > 0
    ) == contrastive_on  # paper preset: weight 0 until epoch 5


def test_loss_composition_and_schedule(digits_dir, tmp_path):
    model = model_for("vicmae-paper", digits_dir, tmp_path)
    assert model.con_schedule(4) == 0.0 and model.con_schedule(5) == 0.025
    assert (
        len(model.projector) == 7 and model.projector[-1].out_features == 2 * TINY_VIT_WIDTH
    )  # D-2D-2D-2D: 3 linear, 2 x (BN, ReLU)
    images = [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)]
    batch = [torch.tensor([3, 3, 8, 9]), images, torch.zeros(4, dtype=torch.long)]
    loss = model.training_step(batch, 0)
    loss.backward()
    assert (
        torch.count_nonzero(model.projector[0].weight.grad) == 0
    )  # weight 0 at epoch 0: in the graph (DDP), no update
    code = model_for("vicmae", digits_dir, tmp_path)
    code.training_step(batch, 0).backward()
    assert code.projector[0].weight.grad is not None and code.projector[-1].out_features == 128


def test_contrastive_term_reaches_the_encoder_when_on(digits_dir, tmp_path):
    """With w_con > 0 the encoder's gradient depends on the contrastive loss (scaled here by 1 and by 1000)."""
    model = model_for("vicmae", digits_dir, tmp_path)
    batch = [
        torch.arange(4),
        [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)],
        torch.zeros(4, dtype=torch.long),
    ]
    original = ViCMAE.contrastive_loss
    grads = []
    for scale in (1.0, 1000.0):
        model.contrastive_loss = lambda z, idx, s=scale: s * original(model, z, idx)
        model.zero_grad(set_to_none=True)
        torch.manual_seed(0)
        model.training_step(batch, 0).backward()
        grads.append(model.backbone.blocks[-1].mlp.fc2.weight.grad.clone())
    assert not torch.allclose(grads[0], grads[1])


def test_nt_xent_glue_equals_solo_learns_simclr_loss(digits_dir, tmp_path):
    model = model_for("vicmae", digits_dir, tmp_path)
    torch.manual_seed(3)
    p1, p2 = torch.randn(6, 16), torch.randn(6, 16)
    idx = torch.tensor([5, 1, 5, 2, 9, 0])  # image 5 twice
    expected = simclr_loss_func(torch.cat([p1, p2]), indexes=idx.repeat(2), temperature=0.1)
    assert torch.allclose(model.contrastive_loss([p1, p2], idx), expected, atol=1e-5)


def test_two_views_masked_independently(digits_dir, tmp_path):
    model = model_for("vicmae", digits_dir, tmp_path)
    image = torch.randn(2, 3, 32, 32)
    first, second = model(image), model(image)
    assert first["mask"].sum(1).tolist() == [8.0, 8.0]  # 16 patches, ratio 0.5
    assert not torch.equal(first["mask"], second["mask"])
    assert first["tokens"].shape == (2, 1 + 8, TINY_VIT_WIDTH)


@pytest.mark.parametrize(
    "override,key",
    [
        ("augmentations.1.num_crops=0", "augmentations"),
        ("augmentations.1.crop_size=16", "augmentations"),  # a small crop
        ("++method_kwargs.vicmae.loss=infonce", "method_kwargs.vicmae.loss"),
        (
            "++method_kwargs.vicmae.learnable_temperature=true",
            "method_kwargs.vicmae.learnable_temperature",
        ),
        ("backbone.name=resnet18", "backbone.name"),
    ],
)
def test_bad_config_names_the_key(override, key, digits_dir, tmp_path):
    with pytest.raises(ConfigError, match=key):
        build_model(digits_config("vicmae", digits_dir, tmp_path, override, tiny_vit=True))


def test_clip_temperature_at_the_bound_learns_and_below_it_is_refused(digits_dir, tmp_path):
    clip = ["++method_kwargs.vicmae.loss=clip", "++method_kwargs.vicmae.learnable_temperature=true"]
    model = model_for(
        "vicmae", digits_dir, tmp_path, *clip, "method_kwargs.vicmae.temperature=0.01"
    )
    projections = [torch.randn(4, 128), torch.randn(4, 128)]
    model.contrastive_loss(projections, torch.arange(4)).backward()
    assert model.logit_scale.grad.item() != 0.0  # it starts on the clamp's bound, ln 100
    with torch.no_grad():
        model.logit_scale.fill_(5.0)  # a step past the bound
    model.on_train_batch_end(None, None, 0)
    assert model.logit_scale.item() == MAX_LOGIT_SCALE  # projected back, where the gradient flows
    for learnable in ("true", "false"):  # a fixed T would be clamped to 0.01 without a word
        with pytest.raises(
            ConfigError,
            match=r"method_kwargs\.vicmae\.temperature: 0\.005 .*allowed: a number >= 0\.01",
        ):
            build_model(
                digits_config(
                    "vicmae",
                    digits_dir,
                    tmp_path,
                    clip[0],
                    "method_kwargs.vicmae.temperature=0.005",
                    f"++method_kwargs.vicmae.learnable_temperature={learnable}",
                    tiny_vit=True,
                )
            )


def test_video_frame_pairs_through_the_launcher(tmp_path):
    rng = np.random.default_rng(0)
    for c in range(2):
        for k in range(3):
            clip = tmp_path / "clips" / f"class{c}" / f"clip{k}"
            clip.mkdir(parents=True)
            for f in range(6):
                Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
                    clip / f"{f:03d}.png"
                )
    cfg = digits_config(
        "vicmae",
        tmp_path,
        tmp_path,
        "data.format=video",
        "+data.max_frame_gap=3",
        f"data.train_path={tmp_path}/clips",
        f"data.val_path={tmp_path}/clips",
        "optimizer.batch_size=4",
        tiny_vit=True,
    )
    trainer = pretrain(cfg)
    assert (
        trainer.global_step == 1 and "train_contrastive_loss" in trainer.callback_metrics
    )  # 6 clips, batch 4


@pytest.mark.skipif(
    SOLO_LEARN_SRC is None,
    reason="no solo-learn source tree: set SOLO_LEARN_SRC (or install solo-learn editable)",
)
@pytest.mark.parametrize("preset,loss", [("vicmae", "nt_xent"), ("vicmae-paper", "clip")])
@pytest.mark.slow
def test_solo_learns_main_pretrain_runs_vicmae(preset, loss, digits_dir, tmp_path):
    result = run_python(
        MAIN_PRETRAIN,
        *zoo_args(preset),
        *short_run(digits_dir, tmp_path / "trained_models", val=False),
        ONE_CPU_DEVICE,
        "knn_eval.enabled=false",
        cwd=tmp_path,
    )
    assert_succeeded(result)
    args = json.loads(next((tmp_path / "trained_models" / "vicmae").rglob("args.json")).read_text())
    assert args["method"] == "vicmae" and args["method_kwargs"]["vicmae"]["loss"] == loss


WORLD = 2
GLOBAL_INDEXES = torch.tensor(
    [0, 1, 2, 3, 4, 5, 2, 7]
)  # image 2 on both ranks: positives across ranks


def projections():
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, 16, generator=g), torch.randn(8, 16, generator=g)


def contrastive_worker(rank, cfg_yaml, init_file, out_dir):
    import torch.distributed as dist

    import solo_ext

    solo_ext.register()
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        model = METHODS["vicmae"](OmegaConf.create(cfg_yaml))
        p1, p2 = (p.chunk(WORLD)[rank].clone().requires_grad_(True) for p in projections())
        loss = model.contrastive_loss([p1, p2], GLOBAL_INDEXES.chunk(WORLD)[rank])
        loss.backward()
        torch.save(
            {"loss": loss.detach(), "g1": p1.grad, "g2": p2.grad}, f"{out_dir}/rank{rank}.pt"
        )
    finally:
        dist.destroy_process_group()


@pytest.mark.ddp
@pytest.mark.parametrize("preset", ["vicmae", "vicmae-paper"])
def test_two_process_positives_equal_the_concatenated_batch(preset, digits_dir, tmp_path):
    """2 gloo processes, half the batch each: the mean rank loss is the one-process loss over the whole batch
    and each rank's inputs get WORLD x their slice of its gradient (restored by DDP's averaging)."""
    import torch.multiprocessing as mp

    cfg = digits_config(preset, digits_dir, tmp_path, tiny_vit=True)
    OmegaConf.set_struct(cfg, False)
    cfg = parse_cfg(cfg)
    mp.spawn(
        contrastive_worker,
        args=(OmegaConf.to_yaml(cfg), str(tmp_path / "init"), str(tmp_path)),
        nprocs=WORLD,
        join=True,
    )
    model = METHODS["vicmae"](cfg)
    p1, p2 = (p.clone().requires_grad_(True) for p in projections())
    expected = model.contrastive_loss([p1, p2], GLOBAL_INDEXES)
    expected.backward()
    ranks = [torch.load(tmp_path / f"rank{rank}.pt") for rank in range(WORLD)]
    assert torch.allclose(sum(r["loss"] for r in ranks) / WORLD, expected.detach(), atol=1e-5)
    for rank, got in enumerate(ranks):
        assert torch.allclose(got["g1"], WORLD * p1.grad.chunk(WORLD)[rank], atol=1e-5)
        assert torch.allclose(got["g2"], WORLD * p2.grad.chunk(WORLD)[rank], atol=1e-5)
