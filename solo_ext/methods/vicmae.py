"""ViC-MAE (solo-learn glue): two masked views reconstructed by the MAE decoder and pulled together by a
contrastive loss on their pooled visible tokens.

    L = rec_weight · L_rec + w_con(epoch) · L_con       (+ the online classifier's loss)

L_rec is the mean of the two views' masked-patch MSE (solo-learn's MAE loss). L_con is NT-Xent (the official
code) or CLIP-style (the paper), both from ``solo_ext.losses``: positives are found by solo-learn's dataset
indexes and negatives are gathered across devices. The views are two augmentations of one image, or two
frames of one clip (``data.format: video``).
"""

import math
from typing import Any, List, Sequence

import torch
from solo.losses.mae import mae_loss_func
from solo.methods.base import BaseMethod
from torch import nn

from solo_ext.config import ConfigError, ViCMAESettings
from solo_ext.distributed import gather_with_grad, process_rank
from solo_ext.losses import clip_contrastive_loss, nt_xent_loss
from solo_ext.losses.contrastive import MAX_LOGIT_SCALE
from solo_ext.methods.base import SoloExtMethod
from solo_ext.methods.mae_family import MaskedViTMAE
from solo_ext.schedules import WindowedWeight

__all__ = ["ViCMAE", "projector"]


def projector(dims: List[int]) -> nn.Sequential:
    """Linear-BN-ReLU blocks through ``dims``, ending in a plain Linear (e.g. D-4096-4096-128)."""
    layers: List[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(dims) - 2:
            layers += [nn.BatchNorm1d(d_out), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class ViCMAE(SoloExtMethod, MaskedViTMAE):
    """Contrastive MAE on exactly two large crops, each masked independently."""

    KWARGS = "vicmae"
    LARGE_CROPS = (2,)

    def __init__(self, cfg):
        super().__init__(cfg)
        self.vicmae: ViCMAESettings = self.settings
        width = self.features_dim
        code = self.vicmae.projector == "code"
        hidden = self.vicmae.proj_hidden_dim or (4096 if code else 2 * width)
        output = self.vicmae.proj_output_dim or (128 if code else 2 * width)
        self.projector = projector([width, hidden, hidden, output])
        log_scale = torch.tensor(
            math.log(1.0 / self.vicmae.temperature)
        )  # float32: T = 0.01 is MAX_LOGIT_SCALE itself
        if self.vicmae.learnable_temperature:
            self.logit_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("logit_scale", log_scale)
        self.con_schedule = WindowedWeight(
            self.vicmae.con_weight, self.vicmae.con_start_epoch, duration=None
        )

    @classmethod
    def add_and_assert_specific_cfg(cls, cfg):
        cfg = super().add_and_assert_specific_cfg(cfg)
        crops = (cfg.data.num_large_crops, cfg.data.num_small_crops)
        if crops != (2, 0):
            raise ConfigError(
                f"augmentations: ViC-MAE trains on exactly 2 large crops and no small ones; got {crops[0]} "
                f"large and {crops[1]} small (num_crops summed over augmentations, by crop_size)"
            )
        return cfg

    @classmethod
    def check_settings(cls, cfg, settings: ViCMAESettings) -> None:
        if (
            settings.loss == "clip"
            and float(torch.tensor(math.log(1.0 / settings.temperature))) > MAX_LOGIT_SCALE
        ):
            # the scale would start above the clamp: a fixed T would silently become 0.01, a learnable one never learn
            raise ConfigError(
                f"method_kwargs.vicmae.temperature: {settings.temperature} is not allowed with loss: clip, "
                f"whose logit scale ln(1/T) is clamped to <= ln 100; allowed: a number >= 0.01"
            )

    @property
    def learnable_params(self) -> List[dict]:
        extra = [{"name": "projector", "params": self.projector.parameters()}]
        if self.vicmae.learnable_temperature:
            extra.append({"name": "logit_scale", "params": [self.logit_scale], "weight_decay": 0.0})
        return super().learnable_params + extra

    def on_train_batch_end(self, outputs, batch: Sequence[Any], batch_idx: int) -> None:
        super().on_train_batch_end(outputs, batch, batch_idx)
        if (
            self.vicmae.learnable_temperature
        ):  # CLIP's projection after the step: at the bound the scale still learns
            with torch.no_grad():
                self.logit_scale.clamp_(max=MAX_LOGIT_SCALE)

    def mask_scores(self, X: torch.Tensor) -> torch.Tensor:
        # MAE's uniform random masking, through the encoder path that also returns the visible tokens
        return torch.rand(X.size(0), self.backbone.patch_embed.num_patches, device=X.device)

    def contrastive_loss(
        self, projections: Sequence[torch.Tensor], indexes: torch.Tensor
    ) -> torch.Tensor:
        """L_con of the two views' projections [B, P] each; ``indexes`` [B] are solo-learn's dataset indexes."""
        if self.vicmae.loss == "nt_xent":
            z, z_indexes = (
                torch.cat(projections),
                indexes.repeat(2),
            )  # [2B, P]: view 1 then view 2, each rank alike
            return nt_xent_loss(
                z,
                z_indexes,
                gather_with_grad(z),
                gather_with_grad(z_indexes),
                self.vicmae.temperature,
                self_offset=process_rank() * z.size(0),
            )  # this rank's rows among the gathered columns
        first, second = projections
        all_indexes = gather_with_grad(indexes)
        return clip_contrastive_loss(
            first, indexes, gather_with_grad(second), all_indexes, self.logit_scale
        ) + clip_contrastive_loss(
            second, indexes, gather_with_grad(first), all_indexes, self.logit_scale
        )

    def training_step(self, batch: Sequence[Any], batch_idx: int) -> torch.Tensor:
        indexes, images = batch[0], batch[1]
        out = BaseMethod.training_step(self, batch, batch_idx)
        reconstruction = (
            sum(
                mae_loss_func(
                    images[i],
                    out["pred"][i].float(),
                    out["mask"][i],
                    self._vit_patch_size,
                    norm_pix_loss=self.norm_pix_loss,
                )
                for i in range(2)
            )
            / 2
        )
        pooled = [
            tokens[:, 1:].mean(dim=1) for tokens in out["tokens"]
        ]  # [B, D]: visible patches, cls excluded, after norm
        weight = self.con_schedule(self.current_epoch)
        if weight == 0:
            # the projector still takes part (a zero gradient), as DDP needs every parameter in the graph;
            # detached inputs keep that from costing a second pass through the encoder
            pooled = [p.detach() for p in pooled]
        contrastive = self.contrastive_loss([self.projector(p) for p in pooled], indexes)
        self.log_dict(
            {
                "train_reconstruction_loss": reconstruction.detach(),
                "train_contrastive_loss": contrastive.detach(),
                "train_contrastive_weight": weight,
                "train_logit_scale": self.logit_scale.detach(),
            },
            on_epoch=True,
            sync_dist=True,
        )
        return self.vicmae.rec_weight * reconstruction + weight * contrastive + out["loss"]
