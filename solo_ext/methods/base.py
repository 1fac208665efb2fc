"""What every solo-ext method adds to solo-learn's BaseMethod contract."""

from typing import Sequence

from solo.methods.base import BaseMethod

from solo_ext.config import ConfigError, check_method_kwargs, to_plain

__all__ = ["SoloExtMethod", "accepts_large_crops", "MASKING_VITS", "masking_vit_backbones"]

from solo_ext.methods.backbones import EXTRA_BACKBONES

# solo-learn ships a masking MAE ViT for these names, but hands it out only to a method named "mae";
# solo-ext's own ViTs (vit_lite) are masking ViTs for every method.
MASKING_VITS = ("vit_tiny", "vit_small", "vit_base", "vit_large", *EXTRA_BACKBONES)


def _as_mae_backbone(name: str):
    constructor = BaseMethod._BACKBONES[name]

    def build(method: str, **kwargs):
        return constructor("mae", **kwargs)

    build.__name__ = f"mae_{name}"
    return build


def masking_vit_backbones() -> dict:
    """solo-learn's backbone table with the MAE (masking) ViT under the usual ViT names."""
    solo_vits = {
        name: _as_mae_backbone(name) for name in MASKING_VITS if name not in EXTRA_BACKBONES
    }
    return {**BaseMethod._BACKBONES, **EXTRA_BACKBONES, **solo_vits}


def accepts_large_crops(method_cls, num_large_crops: int) -> bool:
    """Whether a method class trains with this many large crops.

    solo-ext classes declare it (``LARGE_CROPS``); solo-learn's own classes follow its rule:
    MAE and W-MSE take any number, every other method exactly two.
    """
    declared: Sequence[int] = getattr(method_cls, "LARGE_CROPS", None)
    if declared is not None:
        return num_large_crops in declared
    from solo.methods import MAE, WMSE

    return issubclass(method_cls, (MAE, WMSE)) or num_large_crops == 2


class SoloExtMethod:
    """Mixin placed before the solo-learn method class.

    Checks every ``method_kwargs`` key against the method's table (``KWARGS`` names it in
    ``solo_ext.config.METHOD_KWARGS``) before solo-learn's own asserts run, filling in the defaults. Keeps
    optimizer and scheduler arguments as plain python, so no OmegaConf object can reach a checkpoint's
    optimizer or scheduler state and checkpoints load under torch.load(weights_only=True) (torch ≥ 2.6's default).
    """

    KWARGS: str = ""

    @classmethod
    def add_and_assert_specific_cfg(cls, cfg):
        checked = check_method_kwargs(cls.KWARGS, cfg.get("method_kwargs", None) or {})
        if cfg.get("method_kwargs", None) is None:
            cfg.method_kwargs = {}
        for key, value in checked.items():
            cfg.method_kwargs[key] = value
        return super().add_and_assert_specific_cfg(cfg)

    def __init__(self, cfg):
        super().__init__(cfg)
        self.extra_optimizer_args = to_plain(self.extra_optimizer_args)
        self.lr_decay_steps = to_plain(self.lr_decay_steps)

    @classmethod
    def require_backbone(cls, cfg, allowed: Sequence[str], why: str) -> None:
        if cfg.backbone.name not in allowed:
            raise ConfigError(
                f"backbone.name: {cfg.backbone.name!r} is not allowed for method {cfg.method!r} ({why}); "
                f"allowed: {list(allowed)}"
            )
