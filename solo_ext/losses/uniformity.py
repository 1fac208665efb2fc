"""Uniformity regulariser of U-MAE (Zhang et al., "How Mask Matters: Towards Theoretical Understandings
of Masked Autoencoders", NeurIPS 2022).

    L_unif = mean_{i,j} ( <f_i / ||f_i||, f_j / ||f_j||> )^2        over all B^2 pairs, diagonal included

It pushes the normalised features of a batch apart (lower is more uniform; the diagonal contributes 1/B).

Usage::

    loss = uniformity_loss(out["feats"])   # [B, D] -> scalar
"""

import torch
import torch.nn.functional as F

__all__ = ["uniformity_loss"]


def uniformity_loss(features: torch.Tensor) -> torch.Tensor:
    """Mean squared cosine similarity over all pairs of a [B, D] batch, in fp32."""
    if features.dim() != 2:
        raise ValueError(f"uniformity_loss expects features [B, D]; got {tuple(features.shape)}")
    with torch.autocast(device_type=features.device.type, enabled=False):
        unit = F.normalize(features.float(), dim=1)  # [B, D]
        return (unit @ unit.T).square().mean()
