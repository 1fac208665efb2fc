"""Pure-torch losses of the solo-ext methods (no solo-learn, no Lightning)."""

from solo_ext.losses.magma import magma_loss
from solo_ext.losses.perceptual import PerceptualLoss, build_critic, load_critic_features, save_critic
from solo_ext.losses.reconstruction import patchify, pixel_loss, unpatchify
from solo_ext.losses.uniformity import uniformity_loss

__all__ = ["PerceptualLoss", "build_critic", "load_critic_features", "magma_loss", "patchify", "pixel_loss",
           "save_critic", "uniformity_loss", "unpatchify"]
