"""The shared base of solo-ext's MAE-family methods (M-MAE, U-MAE, MU-MAE and the masking methods to come)."""

from typing import Any, Dict, Optional

import torch
from solo.methods.mae import MAE

from solo_ext.backbones import encode_visible
from solo_ext.masking import mask_from_scores
from solo_ext.methods.base import masking_vit_backbones

__all__ = ["MaskedViTMAE"]


class MaskedViTMAE(MAE):
    """solo-learn's MAE, built with the masking MAE ViT whatever the method's name.

    Subclasses choose their own masks by overriding ``mask_scores``: a [B, L] score per patch, of which
    the ``int(L · (1 − mask_ratio))`` highest are kept. Returning None (the default) keeps solo-learn's
    own random masking, so the loss is exactly solo-learn's MAE.
    """

    _BACKBONES = masking_vit_backbones()
    LARGE_CROPS = range(1, 64)

    def mask_scores(self, X: torch.Tensor) -> Optional[torch.Tensor]:
        """[B, L] per-patch scores for this training batch, or None for solo-learn's random masking."""
        return None

    def forward(self, X: torch.Tensor) -> Dict[str, Any]:
        scores = self.mask_scores(X) if self.training else None
        if scores is None:
            return super().forward(X)
        if not self.no_channel_last:
            X = X.to(memory_format=torch.channels_last)
        keep = mask_from_scores(scores, self.mask_ratio)
        tokens = encode_visible(self.backbone, X, keep.ids_keep)  # [B, 1 + K, D]
        feats = self.backbone.forward_head(tokens)
        pred = self.decoder(tokens, keep.ids_restore)  # [B, L, p*p*3]
        return {
            "mask": keep.mask,
            "pred": pred,
            "logits": self.classifier(feats.detach()),
            "feats": feats,
            "tokens": tokens,
        }
