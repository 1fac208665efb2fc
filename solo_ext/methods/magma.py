"""MAGMA family: M-MAE, U-MAE, MU-MAE, M-SimCLR, M-VICReg (solo-learn glue).

Each method is its solo-learn host (MAE, SimCLR, VICReg) plus, on the first large crop,
``w(epoch) · L_magma(Z^(k), Z^(l)) + uniformity_weight · L_unif(feats)``; the math is in
``solo_ext.losses``.
"""

import warnings
from typing import Any, Dict, List, Optional, Sequence

import torch
from solo.methods.simclr import SimCLR
from solo.methods.vicreg import VICReg

from solo_ext.backbones import BlockFeatureCapture, resolve_layer, transformer_blocks
from solo_ext.config import ConfigError, MagmaSettings, config_key
from solo_ext.distributed import gather_with_grad
from solo_ext.losses import magma_loss, uniformity_loss
from solo_ext.methods.base import SoloExtMethod
from solo_ext.methods.mae_family import MaskedViTMAE
from solo_ext.schedules import WindowedWeight

__all__ = ["MMAE", "UMAE", "MUMAE", "MSimCLR", "MVICReg"]


class MagmaNeverOn(UserWarning):
    """A MAGMA weight > 0 whose epoch window never opens within max_epochs."""


def magma_never_on(settings: MagmaSettings, max_epochs: Optional[int]) -> str:
    """Why the MAGMA term stays off for the whole run despite weight > 0, or "" when it switches on.
    Not an error: short smoke runs (max_epochs=1) of a preset keep its paper schedule on purpose."""
    if settings.weight <= 0 or max_epochs is None:
        return ""
    if settings.start_epoch >= max_epochs:
        return (
            f"method_kwargs.magma.start_epoch: {settings.start_epoch} >= max_epochs {max_epochs}: "
            f"the MAGMA term (weight {settings.weight:g}) never switches on in this run"
        )
    if settings.duration == 0:
        return "method_kwargs.magma.duration: 0: the MAGMA term never switches on in this run"
    return ""


class MagmaRegularised(SoloExtMethod):
    """Adds the MAGMA and uniformity terms to a solo-learn method. Place first in the bases."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.magma: MagmaSettings = self.settings
        depth = len(transformer_blocks(self.backbone))
        with config_key("method_kwargs.magma.target_layer"):
            target = resolve_layer(self.magma.target_layer, depth)
        with config_key("method_kwargs.magma.reference_layers"):
            references = [resolve_layer(k, depth) for k in self.magma.reference_layers]
        # the target is no reference of itself; average over the terms that remain
        self.reference_layers: List[int] = sorted(set(references) - {target})
        if not self.reference_layers:
            raise ConfigError(
                "method_kwargs.magma.reference_layers: every reference layer equals target_layer "
                f"({self.magma.target_layer}); allowed: at least one block other than the target"
            )
        self.target_layer: int = target
        self.magma_schedule = WindowedWeight(
            self.magma.weight, self.magma.start_epoch, self.magma.duration
        )
        self._first_crop = None

    @classmethod
    def check_settings(cls, cfg, settings: MagmaSettings) -> None:
        window_closed = magma_never_on(settings, cfg.get("max_epochs", None))
        if window_closed:
            warnings.warn(window_closed, MagmaNeverOn, stacklevel=2)

    def base_training_step(self, X: torch.Tensor, targets: torch.Tensor) -> Dict[str, Any]:
        # BaseMethod.training_step forwards the large crops in order: the first call is the first crop
        if self._first_crop is not None:
            return super().base_training_step(X, targets)
        with BlockFeatureCapture(
            self.backbone, [*self.reference_layers, self.target_layer]
        ) as capture:
            out = super().base_training_step(X, targets)
        self._first_crop = (capture.features, out["feats"])
        return out

    def training_step(self, batch: Sequence[Any], batch_idx: int) -> torch.Tensor:
        self._first_crop = None
        host_loss = super().training_step(batch, batch_idx)
        block_feats, feats = self._first_crop
        self._first_crop = None
        return host_loss + self.regulariser(block_feats, feats)

    def regulariser(
        self, block_feats: Dict[int, torch.Tensor], feats: torch.Tensor
    ) -> torch.Tensor:
        """w(epoch)·L_magma + u·L_unif; each term is logged, and computed without a graph while its weight is 0."""
        weight = self.magma_schedule(self.current_epoch)
        gather = gather_with_grad if self.magma.gather else (lambda t: t)
        with torch.set_grad_enabled(weight > 0 and torch.is_grad_enabled()):
            target = gather(block_feats[self.target_layer])
            terms = [
                magma_loss(gather(block_feats[k]), target, rbf_scale=self.magma.rbf_scale)
                for k in self.reference_layers
            ]
            magma = sum(terms) / len(terms)
        with torch.set_grad_enabled(self.magma.uniformity_weight > 0 and torch.is_grad_enabled()):
            uniformity = uniformity_loss(feats)

        self.log_dict(
            {
                "train_magma_loss": magma.detach(),
                "train_magma_weight": weight,
                "train_uniformity_loss": uniformity.detach(),
            },
            on_epoch=True,
            sync_dist=True,
        )
        total = feats.new_zeros((), dtype=torch.float32)
        if weight > 0:
            total = total + weight * magma
        if self.magma.uniformity_weight > 0:
            total = total + self.magma.uniformity_weight * uniformity
        return total


class MMAE(MagmaRegularised, MaskedViTMAE):
    """M-MAE: MAE + w(epoch)·L_magma. With both weights 0 its loss equals solo-learn's MAE."""

    KWARGS = "m_mae"


class UMAE(MagmaRegularised, MaskedViTMAE):
    """U-MAE: MAE + 0.01·L_unif (the MAGMA term is logged, weight 0 unless configured)."""

    KWARGS = "u_mae"


class MUMAE(MagmaRegularised, MaskedViTMAE):
    """MU-MAE: MAE + 0.01·L_unif + w(epoch)·L_magma."""

    KWARGS = "mu_mae"


class MSimCLR(MagmaRegularised, SimCLR):
    """M-SimCLR: solo-learn's SimCLR + w(epoch)·L_magma on the ViT blocks of the first crop."""

    KWARGS = "m_simclr"
    LARGE_CROPS = (2,)


class MVICReg(MagmaRegularised, VICReg):
    """M-VICReg: solo-learn's VICReg + w(epoch)·L_magma on the ViT blocks of the first crop."""

    KWARGS = "m_vicreg"
    LARGE_CROPS = (2,)
