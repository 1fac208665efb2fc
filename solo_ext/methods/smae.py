"""SMAE (solo-learn glue): MAE with a pixel + perceptual loss and random or block masks.

    L = (1 − α)·s_pix·L_pix + α·s_perc·L_perc      (math in solo_ext.losses.reconstruction / .perceptual)

s_pix and s_perc are buffers set once, before the first training step, from ``calibration_batches``
no-grad batches through the untrained model (s = mean(1/L)); being buffers they are saved in checkpoints,
so a resumed run keeps them instead of recomputing them on a half-trained model.
"""

from typing import Any, Dict, Optional, Sequence

import torch
from solo.methods.base import BaseMethod

from solo_ext.config import SMAESettings, config_key
from solo_ext.losses import PerceptualLoss, load_critic_features, pixel_loss, unpatchify
from solo_ext.masking import block_mask_bank, block_mask_scores
from solo_ext.methods.base import SoloExtMethod
from solo_ext.methods.mae_family import MaskedViTMAE

__all__ = ["SMAE"]


class SMAE(SoloExtMethod, MaskedViTMAE):
    """Semantic MAE: reconstruct every patch, judged by pixels and by a frozen critic's features."""

    KWARGS = "smae"

    def __init__(self, cfg):
        super().__init__(cfg)
        self.smae: SMAESettings = self.settings
        self.grid: int = int(self.backbone.patch_embed.grid_size[0])
        self.perceptual: Optional[PerceptualLoss] = (
            PerceptualLoss(self._critic_features()) if self.smae.alpha > 0 else None
        )
        self.block_masks: Optional[torch.Tensor] = None
        if self.smae.masking == "block":
            # a plain tensor moved with the model (see _apply): no checkpoint entry, no DDP broadcast
            with config_key(
                "method_kwargs.smae.masking", "allowed: random, or a finer grid / higher mask_ratio"
            ):
                self.block_masks = block_mask_bank(
                    self.smae.block_bank_size, self.grid, self.mask_ratio, seed=cfg.seed
                )
        self.register_buffer("s_pix", torch.zeros(()))
        self.register_buffer("s_perc", torch.zeros(()))

    def _critic_features(self):
        with config_key("method_kwargs.smae.critic", "train one with `solo-ext critic train`"):
            return load_critic_features(self.smae.critic)

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self.block_masks is not None:
            self.block_masks = self.block_masks.to(fn(torch.zeros(())).device)
        return self

    def mask_scores(self, X: torch.Tensor) -> Optional[torch.Tensor]:
        if self.block_masks is None:
            return None  # solo-learn's random masking
        return block_mask_scores(self.block_masks, X.size(0))

    def losses(self, images: torch.Tensor, out: Dict[str, Any]) -> Dict[str, torch.Tensor]:
        """L_pix and L_perc of one crop (L_perc only when alpha > 0)."""
        patch = self._vit_patch_size
        terms = {
            "pixel": pixel_loss(
                out["pred"], images, out["mask"], patch, self.smae.pixel_loss, self.norm_pix_loss
            )
        }
        if self.perceptual is not None:
            reconstruction = unpatchify(
                out["pred"], patch
            )  # every predicted patch, visible ones included
            terms["perceptual"] = self.perceptual(reconstruction, images)
        return terms

    def on_train_start(self) -> None:
        if self.s_pix > 0:  # restored from a checkpoint: keep the constants the run started with
            return
        self.calibrate(self.trainer.train_dataloader)

    @torch.no_grad()
    def calibrate(self, batches) -> None:
        """s_pix = mean(1/L_pix), s_perc = mean(1/L_perc) over the first ``calibration_batches`` batches."""
        inverse = torch.zeros(2, device=self.device)
        seen = 0
        for batch in batches:
            if seen == self.smae.calibration_batches:
                break
            images = batch[1][0].to(self.device)
            terms = self.losses(images, self(images))
            inverse[0] += 1.0 / terms["pixel"].clamp_min(1e-12)
            if "perceptual" in terms:
                inverse[1] += 1.0 / terms["perceptual"].clamp_min(1e-12)
            seen += 1
        constants = inverse / max(seen, 1)
        if self._trainer is not None:
            constants = self.trainer.strategy.reduce(
                constants, reduce_op="mean"
            )  # one pair for every rank
        self.s_pix.fill_(constants[0])
        self.s_perc.fill_(constants[1])

    def training_step(self, batch: Sequence[Any], batch_idx: int) -> torch.Tensor:
        out = BaseMethod.training_step(self, batch, batch_idx)
        alpha = self.smae.alpha
        totals = {"pixel": 0.0, "perceptual": 0.0}
        for i in range(self.num_large_crops):
            crop_out = {"pred": out["pred"][i], "mask": out["mask"][i]}
            for name, value in self.losses(batch[1][i], crop_out).items():
                totals[name] = totals[name] + value / self.num_large_crops
        loss = (1 - alpha) * self.s_pix * totals["pixel"]
        metrics = {"train_pixel_loss": totals["pixel"], "train_s_pix": self.s_pix}
        if self.perceptual is not None:
            loss = loss + alpha * self.s_perc * totals["perceptual"]
            metrics.update(train_perceptual_loss=totals["perceptual"], train_s_perc=self.s_perc)
        metrics["train_smae_loss"] = loss
        self.log_dict(
            {k: v.detach() if torch.is_tensor(v) else v for k, v in metrics.items()},
            on_epoch=True,
            sync_dist=True,
        )
        return loss + out["loss"]
