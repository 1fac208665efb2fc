"""Backbones solo-ext adds to solo-learn's table (registered by ``solo_ext.register()``)."""

from functools import partial

from solo.backbones.vit.vit_mae import MaskedAutoencoderViT
from torch import nn

from solo_ext.config import ConfigError
from solo_ext.config.fields import Field

__all__ = ["EXTRA_BACKBONES", "vit_lite"]

# ViT-Lite's shape keys; ``backbone.kwargs`` may change them (a 2-block ViT for fast tests, say)
_SHAPE = (
    Field("depth", "int", low=1, doc="transformer blocks"),
    Field("embed_dim", "int", low=1, doc="token width"),
    Field("num_heads", "int", low=1, doc="attention heads; must divide embed_dim"),
)


def vit_lite(
    method: str = None,
    patch_size: int = 4,
    img_size: int = 64,
    depth: int = 7,
    embed_dim: int = 256,
    num_heads: int = 4,
    **kwargs,
) -> nn.Module:
    """ViT-Lite 7/4 (SMAE): 7 blocks, width 256, MLP ratio 2, 4 heads; 3.72 M parameters at 64 px.

    Always solo-learn's masking MAE ViT (which also runs unmasked), whatever the method, so pretraining
    and evaluation build the same module. timm's GELU blocks replace the reference's ReLU and dropout 0.1.
    ``backbone.kwargs.depth`` / ``embed_dim`` / ``num_heads`` build another ViT of the same family
    (``{depth: 2, embed_dim: 32, num_heads: 2}`` is the tests' tiny ViT); num_heads must divide embed_dim.
    """
    given = {"depth": depth, "embed_dim": embed_dim, "num_heads": num_heads}
    for field in _SHAPE:
        field.check(given[field.name], f"backbone.kwargs.{field.name}")
    if embed_dim % num_heads:
        raise ConfigError(
            f"backbone.kwargs.num_heads: {num_heads} does not divide backbone.kwargs.embed_dim "
            f"{embed_dim}; allowed: a divisor of embed_dim"
        )
    return MaskedAutoencoderViT(
        img_size=img_size,
        patch_size=patch_size,
        embed_dim=embed_dim,
        depth=depth,
        num_heads=num_heads,
        mlp_ratio=2,
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
        **kwargs,
    )


EXTRA_BACKBONES = {"vit_lite": vit_lite}
