"""Pure-torch losses of the solo-ext methods (no solo-learn, no Lightning)."""

from solo_ext.losses.magma import magma_loss
from solo_ext.losses.uniformity import uniformity_loss

__all__ = ["magma_loss", "uniformity_loss"]
