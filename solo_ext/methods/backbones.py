"""Backbones solo-ext adds to solo-learn's table (registered by ``solo_ext.register()``)."""

from functools import partial

from solo.backbones.vit.vit_mae import MaskedAutoencoderViT
from torch import nn

__all__ = ["EXTRA_BACKBONES", "vit_lite"]


def vit_lite(method: str = None, patch_size: int = 4, img_size: int = 64, **kwargs) -> nn.Module:
    """ViT-Lite 7/4 (SMAE): 7 blocks, width 256, MLP ratio 2, 4 heads; 3.72 M parameters at 64 px.

    Always solo-learn's masking MAE ViT (which also runs unmasked), whatever the method, so pretraining
    and evaluation build the same module. timm's GELU blocks replace the reference's ReLU and dropout 0.1.
    """
    return MaskedAutoencoderViT(
        img_size=img_size,
        patch_size=patch_size,
        embed_dim=256,
        depth=7,
        num_heads=4,
        mlp_ratio=2,
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
        **kwargs,
    )


EXTRA_BACKBONES = {"vit_lite": vit_lite}
