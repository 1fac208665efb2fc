import pytest
import torch
from omegaconf import OmegaConf
from solo.args.pretrain import parse_cfg
from solo.methods import METHODS

from solo_ext.config import ConfigError
from solo_ext.launch.evaluate import linear
from solo_ext.launch.pretrain import build_model, pretrain
from solo_ext.losses import build_critic, save_critic
from tests.integration.helpers import TINY_VIT_DEPTH, TINY_VIT_HEADS, TINY_VIT_WIDTH, digits_config


@pytest.fixture(scope="module")
def critic(tmp_path_factory):
    torch.manual_seed(0)
    return save_critic(
        tmp_path_factory.mktemp("critic") / "critic.pt", build_critic(10), 10, top1=10.0
    )


def smae_config(name, digits_dir, tmp_path, critic, *overrides):
    return digits_config(
        name,
        digits_dir,
        tmp_path,
        f"++method_kwargs.smae.critic={critic}",
        *overrides,
        tiny_vit=True,
    )


@pytest.mark.slow
def test_trains_calibrates_and_keeps_constants_on_resume(critic, digits_dir, tmp_path):
    trainer = pretrain(
        smae_config(
            "smae", digits_dir, tmp_path, critic, "++method_kwargs.smae.calibration_batches=2"
        )
    )
    model = trainer.lightning_module
    assert model.s_pix > 0 and model.s_perc > 0
    for key in (
        "train_pixel_loss",
        "train_perceptual_loss",
        "train_s_pix",
        "train_s_perc",
        "val_acc1",
        "val_knn_acc1",
    ):
        assert key in trainer.callback_metrics, key
    ckpt = next((tmp_path / "trained_models" / "smae").rglob("*.ckpt"))
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    assert torch.equal(state["s_pix"], model.s_pix.cpu()) and torch.equal(
        state["s_perc"], model.s_perc.cpu()
    )
    assert any(
        k.startswith("perceptual.critic.") for k in state
    )  # the run's critic travels with it

    resumed = pretrain(
        smae_config(
            "smae",
            digits_dir,
            tmp_path / "resume",
            critic,
            "max_epochs=2",
            f"+resume_from_checkpoint='{ckpt}'",
        )
    )
    assert torch.equal(
        resumed.lightning_module.s_pix, model.s_pix
    )  # not recomputed on the trained model
    assert resumed.current_epoch == 2


def test_loss_is_the_weighted_sum(critic, digits_dir, tmp_path):
    cfg = smae_config("smae", digits_dir, tmp_path, critic)
    OmegaConf.set_struct(cfg, False)
    model = METHODS["smae"](parse_cfg(cfg))
    model.s_pix.fill_(2.0), model.s_perc.fill_(3.0)
    images = torch.randn(4, 3, 64, 64)
    batch = [torch.arange(4), [images], torch.zeros(4, dtype=torch.long)]
    torch.manual_seed(0)
    total = model.training_step(batch, 0)
    torch.manual_seed(0)
    out = model(images)
    terms = model.losses(images, out)
    class_loss = torch.nn.functional.cross_entropy(out["logits"], batch[2])
    assert torch.allclose(
        total, 0.5 * 2.0 * terms["pixel"] + 0.5 * 3.0 * terms["perceptual"] + class_loss, rtol=1e-5
    )
    total.backward()
    assert model.backbone.blocks[0].attn.qkv.weight.grad is not None
    assert all(p.grad is None for p in model.perceptual.parameters())


def test_block_masking_hides_exactly_half(critic, digits_dir, tmp_path):
    cfg = smae_config("smae-block", digits_dir, tmp_path, critic)
    OmegaConf.set_struct(cfg, False)
    model = METHODS["smae"](parse_cfg(cfg))
    out = model(torch.randn(5, 3, 64, 64))
    assert torch.equal(out["mask"].sum(1), torch.full((5,), 32.0))  # 8x8 grid, 50%
    assert model.block_masks.shape[1:] == (8, 8) and "block_masks" not in str(
        list(model.state_dict())
    )


@pytest.mark.slow
def test_vit_lite_checkpoint_is_rebuilt_for_evaluation(critic, digits_dir, tmp_path):
    pretrain(
        smae_config(
            "smae", digits_dir, tmp_path, critic, "++method_kwargs.smae.calibration_batches=1"
        )
    )
    ckpt = next((tmp_path / "trained_models" / "smae").rglob("*.ckpt"))
    cfg = digits_config(
        "smae-linear", digits_dir, tmp_path, f"pretrained_feature_extractor='{ckpt}'", task="linear"
    )
    backbone = linear(cfg).lightning_module.backbone
    shape = len(backbone.blocks), backbone.embed_dim, backbone.blocks[0].attn.num_heads
    assert shape == (
        TINY_VIT_DEPTH,
        TINY_VIT_WIDTH,
        TINY_VIT_HEADS,
    )  # vit_lite with the recorded kwargs


@pytest.mark.parametrize(
    "override,key",
    [
        ("++method_kwargs.smae.critic=/missing/critic.pt", "method_kwargs.smae.critic"),
        ("++method_kwargs.smae.alpha=1.5", "method_kwargs.smae.alpha"),
        ("++method_kwargs.smae.masking=grid", "method_kwargs.smae.masking"),
        ("++method_kwargs.smae.pixel_loss=visible", "method_kwargs.smae.pixel_loss"),
    ],
)
def test_bad_config_names_the_key(override, key, critic, digits_dir, tmp_path):
    with pytest.raises(ConfigError, match=key):
        build_model(smae_config("smae", digits_dir, tmp_path, critic, override))


def test_alpha_zero_needs_no_critic(digits_dir, tmp_path):
    cfg = digits_config(
        "smae",
        digits_dir,
        tmp_path,
        "++method_kwargs.smae.alpha=0",
        "~method_kwargs.smae.critic",
        tiny_vit=True,
    )
    _, model = build_model(cfg)
    assert model.perceptual is None
