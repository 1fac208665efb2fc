"""The MAE encoder pass over chosen visible patches, for any timm-style ViT with a cls token.

Mirrors MAE's forward_encoder with the random masking replaced by given keep indexes, so masks chosen
elsewhere (block masks, coloured-noise patterns) run through solo-learn's MAE ViT unchanged.

Usage::

    keep = mask_from_scores(scores, 0.75)
    tokens = encode_visible(vit, images, keep.ids_keep)   # [B, 1 + K, D] after the final norm
"""

import torch
from torch import nn

__all__ = ["encode_visible"]


def encode_visible(vit: nn.Module, images: torch.Tensor, ids_keep: torch.Tensor) -> torch.Tensor:
    """cls token + the kept patches of ``images`` [B, 3, H, W] through the blocks and final norm."""
    x = vit.patch_embed(images)  # [B, L, D]
    x = x + vit.pos_embed[:, 1:, :]
    x = torch.gather(x, dim=1, index=ids_keep.unsqueeze(-1).expand(-1, -1, x.size(-1)))  # [B, K, D]
    cls_token = (vit.cls_token + vit.pos_embed[:, :1, :]).expand(x.size(0), -1, -1)  # [B, 1, D]
    x = torch.cat((cls_token, x), dim=1)  # [B, 1 + K, D]
    return vit.norm(vit.blocks(x))
