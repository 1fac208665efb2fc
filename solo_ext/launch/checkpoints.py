"""Loading pretrained checkpoints and rebuilding the exact backbone they were trained with."""

import json
import logging
import pickle
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch
from torch import nn

from solo_ext.config import ConfigError

__all__ = ["TrainedRun", "find_trained_run", "load_state_dict", "build_backbone", "backbone_state"]


class TrainedRun:
    """A pretraining checkpoint and the args.json solo-learn's Checkpointer writes beside it."""

    def __init__(self, checkpoint: Path, args: Optional[dict]):
        self.checkpoint = checkpoint
        self.args = args

    @property
    def method(self) -> Optional[str]:
        return self.args.get("method") if self.args else None

    @property
    def backbone(self) -> Optional[dict]:
        return self.args.get("backbone") if self.args else None


def find_trained_run(path, key: str) -> TrainedRun:
    """``path`` is a .ckpt/.pth/.pt file or a folder (then the newest .ckpt below it is used)."""
    path = Path(str(path))
    if path.is_dir():
        candidates = sorted(path.rglob("*.ckpt"), key=lambda p: p.stat().st_mtime)
        if not candidates:
            raise ConfigError(f"{key}: {str(path)!r} holds no .ckpt file")
        path = candidates[-1]
    elif not path.is_file():
        raise ConfigError(f"{key}: {str(path)!r} does not exist")
    if path.suffix not in (".ckpt", ".pth", ".pt"):
        raise ConfigError(f"{key}: {str(path)!r} is not allowed; expected a .ckpt, .pth or .pt file")
    args_file = path.parent / "args.json"
    args = json.loads(args_file.read_text()) if args_file.is_file() else None
    return TrainedRun(path, args)


def load_state_dict(path: Path, trust: bool = False) -> Dict[str, torch.Tensor]:
    """The ``state_dict`` of a Lightning checkpoint, read with torch.load(weights_only=True) unless trusted."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as err:
        raise ConfigError(
            f"{path}: torch.load(weights_only=True) refuses this file: it stores python objects besides tensors "
            "(e.g. OmegaConf containers, as older solo-learn/torch versions wrote). If you made this file "
            f"yourself and trust it, rerun with trust_checkpoint=true.\n  torch said: {str(err).splitlines()[0]}"
        ) from None
    return checkpoint["state_dict"] if "state_dict" in checkpoint else checkpoint


def backbone_state(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Backbone weights without their ``backbone.`` prefix (older ``encoder.`` checkpoints too)."""
    prefixes = ("backbone.", "encoder.")
    return {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(prefixes)}


def build_backbone(method: Optional[str], name: str, kwargs: dict, dataset: str) -> Tuple[nn.Module, int]:
    """The backbone ``method`` builds for ``name`` (e.g. MAE's 12-head ViT-Tiny), and its feature size."""
    from solo.methods import METHODS
    from solo.methods.base import BaseMethod

    table = METHODS[method]._BACKBONES if method in METHODS else BaseMethod._BACKBONES
    if method is not None and method not in METHODS:
        logging.warning("pretrain method %r is not registered: building solo-learn's default %s", method, name)
    if name not in table:
        raise ConfigError(f"backbone.name: {name!r} is unknown; allowed: {sorted(table)}")
    backbone = table[name](method, **kwargs)
    if name.startswith("resnet"):
        features_dim = backbone.inplanes
        backbone.fc = nn.Identity()
        if dataset in ("cifar10", "cifar100"):
            backbone.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=2, bias=False)
            backbone.maxpool = nn.Identity()
    else:
        features_dim = backbone.num_features
    return backbone, features_dim
