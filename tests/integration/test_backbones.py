"""solo-ext's vit_lite: ViT-Lite 7/4 by default, reshaped through backbone.kwargs (the tests' tiny ViT)."""

import json

import pytest
import torch

from solo_ext.config import ConfigError
from solo_ext.launch.pretrain import pretrain
from solo_ext.methods.backbones import vit_lite
from tests.integration.helpers import TINY_VIT_DEPTH, digits_config


def shape(vit) -> tuple:
    block = vit.blocks[0]
    return len(vit.blocks), vit.embed_dim, block.attn.num_heads, block.mlp.fc1.out_features


def test_default_is_vit_lite_7_4():
    vit = vit_lite()
    assert shape(vit) == (7, 256, 4, 512)  # MLP ratio 2
    assert vit.patch_embed.patch_size == (4, 4) and vit.patch_embed.num_patches == 16 * 16
    assert sum(p.numel() for p in vit.parameters()) == 3_768_832


def test_kwargs_reshape_it():
    vit = vit_lite(depth=2, embed_dim=32, num_heads=2, patch_size=8, img_size=32)
    assert shape(vit) == (2, 32, 2, 64)
    tokens = vit(torch.randn(3, 3, 32, 32))
    assert tokens.shape == (3, 32)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"depth": 0}, r"^backbone.kwargs.depth: 0 is not allowed; expected a whole number >= 1$"),
        ({"depth": 2.5}, r"^backbone.kwargs.depth: 2.5 is not allowed; expected a whole number"),
        ({"embed_dim": "wide"}, r"^backbone.kwargs.embed_dim: 'wide' is not allowed"),
        ({"num_heads": True}, r"^backbone.kwargs.num_heads: True is not allowed"),
        (
            {"embed_dim": 30, "num_heads": 4},
            r"^backbone.kwargs.num_heads: 4 does not divide backbone.kwargs.embed_dim 30; "
            r"allowed: a divisor of embed_dim$",
        ),
    ],
)
def test_bad_shape_is_refused_naming_the_key(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        vit_lite(**kwargs)


def test_tiny_vit_trains_and_its_checkpoint_records_the_shape(digits_dir, tmp_path):
    trainer = pretrain(
        digits_config(
            "m-mae", digits_dir, tmp_path, "++method_kwargs.magma.start_epoch=0", tiny_vit=True
        )
    )
    model = trainer.lightning_module
    assert len(model.backbone.blocks) == TINY_VIT_DEPTH and model.backbone.embed_dim == 32
    assert model.decoder.decoder_embed.out_features == 32
    assert trainer.callback_metrics["train_magma_loss"] > 0  # reference block 0, target block -1
    (args_json,) = (tmp_path / "trained_models").rglob("args.json")
    recorded = json.loads(args_json.read_text())["backbone"]
    assert recorded["name"] == "vit_lite" and recorded["kwargs"]["depth"] == TINY_VIT_DEPTH


def test_bad_shape_from_the_yaml_stops_pretraining(digits_dir, tmp_path):
    cfg = digits_config("mae", digits_dir, tmp_path, "++backbone.kwargs.num_heads=5", tiny_vit=True)
    with pytest.raises(ConfigError, match=r"^backbone.kwargs.num_heads: 5 does not divide"):
        pretrain(cfg)
