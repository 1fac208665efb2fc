"""From per-patch scores to the indexes an MAE encoder and decoder need (MAE's random_masking, generalised).

Usage::

    scores = torch.rand(B, L)                       # any [B, L]; higher = more likely kept
    keep = mask_from_scores(scores, mask_ratio=0.75)
    visible = torch.gather(patches, 1, keep.ids_keep[..., None].expand(-1, -1, D))  # [B, K, D]
"""

from typing import NamedTuple

import torch

__all__ = ["MaskIndexes", "mask_from_scores"]


class MaskIndexes(NamedTuple):
    ids_keep: torch.Tensor  # [B, K] patch indexes fed to the encoder, highest score first
    mask: torch.Tensor  # [B, L] 1 = masked (reconstructed), 0 = visible, in patch order
    ids_restore: torch.Tensor  # [B, L] unshuffles [visible, mask tokens] back to patch order


def mask_from_scores(scores: torch.Tensor, mask_ratio: float) -> MaskIndexes:
    """Keeps exactly ``int(L · (1 − mask_ratio))`` patches per sample: those with the highest scores.

    With ``scores = -noise`` this reproduces MAE's (and solo-learn's) random_masking for the same noise.
    """
    if scores.dim() != 2:
        raise ValueError(f"mask scores must be [B, L]; got {tuple(scores.shape)}")
    if not 0.0 < mask_ratio < 1.0:
        raise ValueError(f"mask ratio {mask_ratio!r} is not allowed; expected a number in (0, 1)")
    batch, length = scores.shape
    len_keep = int(length * (1 - mask_ratio))
    ids_shuffle = torch.argsort(scores, dim=1, descending=True)  # [B, L]
    ids_restore = torch.argsort(ids_shuffle, dim=1)  # [B, L]
    mask = torch.ones(batch, length, device=scores.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, dim=1, index=ids_restore)  # [B, L]
    return MaskIndexes(ids_shuffle[:, :len_keep], mask, ids_restore)
