"""MAE's reconstruction figure: predictions back in pixel space with the visible patches pasted in.

Under ``norm_pix_loss`` the predictions are de-normalised with each original patch's mean and variance.
"""

from typing import Sequence, Tuple

import numpy as np
import torch

from solo_ext.losses.reconstruction import patchify, unpatchify

__all__ = ["pixel_mask", "reconstruct_images", "to_display"]

EPS_NORM_PIX = 1e-6  # MAE's variance epsilon of norm_pix_loss targets


def reconstruct_images(
    images: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor, patch: int, norm_pix: bool = False
) -> torch.Tensor:
    """MAE's reconstruction with the visible patches pasted back: [B, 3, H, W] in the images' normalisation.

    images [B, 3, H, W] (the decoder's input), pred [B, L, p·p·3], mask [B, L] (1 = masked). Under
    norm_pix_loss the decoder predicts each patch standardised, so it is mapped back with the original patch's
    mean and variance (pred · √(var + 1e-6) + mean), as MAE's visualisation does.
    """
    target = patchify(images, patch)  # [B, L, p*p*3]
    pred = pred.float()
    if norm_pix:
        mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
        pred = pred * (var + EPS_NORM_PIX).sqrt() + mean
    pasted = target * (1 - mask.unsqueeze(-1)) + pred * mask.unsqueeze(-1)
    return unpatchify(pasted, patch, channels=images.size(1))


def pixel_mask(mask: torch.Tensor, grid: Tuple[int, int], patch: int) -> torch.Tensor:
    """[B, L] patch mask (1 = masked) -> [B, gh·p, gw·p] pixel mask."""
    grid_mask = mask.float().reshape(-1, *grid)
    return grid_mask.repeat_interleave(patch, dim=1).repeat_interleave(patch, dim=2)


def to_display(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Normalised [B, 3, H, W] -> [B, H, W, 3] floats in [0, 1] (x · std + mean, clipped)."""
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    pixels = (images.detach().float().cpu() * std_t + mean_t).clamp(0, 1)
    return pixels.permute(0, 2, 3, 1).numpy()
