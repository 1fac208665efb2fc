"""What every solo-ext method adds to solo-learn's BaseMethod contract."""

import weakref
from typing import Dict, Optional, Sequence, Tuple

from solo.methods.base import BaseMethod

from solo_ext.config import SPECS, MethodSpec, Section, check_method_kwargs, to_plain
from solo_ext.config.specs import VITS
from solo_ext.methods.backbones import EXTRA_BACKBONES

__all__ = ["SoloExtMethod", "accepts_large_crops", "MASKING_VITS", "masking_vit_backbones"]

# solo-learn ships a masking MAE ViT for these names, but hands it out only to a method named "mae";
# solo-ext's own ViTs (vit_lite) are masking ViTs for every method.
MASKING_VITS = VITS


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


# add_and_assert_specific_cfg parses a method's section once and its __init__ takes the result: solo-learn's
# BaseMethod.__init__ calls the former with the very cfg object the latter was given. id(cfg) -> (a weak
# reference to that cfg, the parsed section); an entry leaves when __init__ takes it or the cfg is freed.
_PARSED: Dict[int, Tuple[weakref.ref, Optional[Section]]] = {}


def _keep_parsed(cfg, settings: Optional[Section]) -> None:
    key = id(cfg)
    _PARSED[key] = (weakref.ref(cfg, lambda _, key=key: _PARSED.pop(key, None)), settings)


def _take_parsed(cfg) -> Optional[Section]:
    ref, settings = _PARSED.pop(id(cfg), (None, None))
    if ref is None or ref() is not cfg:
        raise RuntimeError(
            "a solo-ext method was built from a config that add_and_assert_specific_cfg did not parse"
        )
    return settings


class SoloExtMethod:
    """Mixin placed before the solo-learn method class.

    ``KWARGS`` names the method's spec (``solo_ext.config.SPECS``). ``add_and_assert_specific_cfg`` checks
    ``backbone.name`` against the spec and every ``method_kwargs`` key against its table before solo-learn's
    own asserts run, then parses the method's own section once, writing the checked values back;
    ``__init__`` hands that parsed section to the method as ``self.settings``. Keeps optimizer and scheduler
    arguments as plain python, so no OmegaConf object can reach a checkpoint's optimizer or scheduler state
    and checkpoints load under torch.load(weights_only=True) (torch ≥ 2.6's default).
    """

    KWARGS: str = ""

    @classmethod
    def spec(cls) -> MethodSpec:
        return SPECS[cls.KWARGS]

    @classmethod
    def add_and_assert_specific_cfg(cls, cfg):
        spec = cls.spec()
        spec.check_backbone(cfg.backbone.name)
        checked = check_method_kwargs(cls.KWARGS, cfg.get("method_kwargs", None) or {})
        if cfg.get("method_kwargs", None) is None:
            cfg.method_kwargs = {}
        for key, value in checked.items():
            cfg.method_kwargs[key] = value
        cfg = super().add_and_assert_specific_cfg(cfg)
        settings = spec.parse_section(cfg.method_kwargs)
        if settings is not None:
            settings.write_to(cfg.method_kwargs)
        cls.check_settings(cfg, settings)
        _keep_parsed(cfg, settings)
        return cfg

    @classmethod
    def check_settings(cls, cfg, settings: Optional[Section]) -> None:
        """The method's checks of its parsed section against the rest of the config (none by default)."""

    def __init__(self, cfg):
        # solo-learn's BaseMethod.__init__ runs add_and_assert_specific_cfg(cfg)
        super().__init__(cfg)
        self.settings: Optional[Section] = _take_parsed(cfg)
        self.extra_optimizer_args = to_plain(self.extra_optimizer_args)
        self.lr_decay_steps = to_plain(self.lr_decay_steps)
