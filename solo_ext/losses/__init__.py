"""Pure-torch losses of the solo-ext methods (no solo-learn, no Lightning)."""

from solo_ext.losses.contrastive import clip_contrastive_loss, nt_xent_loss
from solo_ext.losses.magma import magma_loss
from solo_ext.losses.perceptual import (
    PerceptualLoss,
    build_critic,
    load_critic_features,
    save_critic,
)
from solo_ext.losses.reconstruction import patchify, pixel_loss, unpatchify
from solo_ext.losses.uniformity import uniformity_loss

__all__ = [
    "PerceptualLoss",
    "build_critic",
    "clip_contrastive_loss",
    "load_critic_features",
    "magma_loss",
    "nt_xent_loss",
    "patchify",
    "pixel_loss",
    "save_critic",
    "uniformity_loss",
    "unpatchify",
]
