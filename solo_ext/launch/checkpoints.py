"""Loading pretrained checkpoints and rebuilding the exact backbone they were trained with."""

import json
import logging
import pickle
import re
import zipfile
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch
from torch import nn

from solo_ext.config import ConfigError

__all__ = [
    "TrainedRun",
    "find_trained_run",
    "require_architecture",
    "load_failure",
    "load_state_dict",
    "build_backbone",
    "backbone_state",
]


class TrainedRun:
    """A pretraining checkpoint and the args.json solo-learn's Checkpointer writes beside it."""

    def __init__(self, checkpoint: Path, args: Optional[dict]):
        self.checkpoint = checkpoint
        self.args = args

    @property
    def method(self) -> Optional[str]:
        """The pretraining method; a linear run's args.json names it ``pretrain_method``."""
        if not self.args:
            return None
        return self.args.get("method") or self.args.get("pretrain_method")

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
        raise ConfigError(
            f"{key}: {str(path)!r} is not allowed; expected a .ckpt, .pth or .pt file"
        )
    args_file = path.parent / "args.json"
    try:
        args = json.loads(args_file.read_text()) if args_file.is_file() else None
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"{key}: {args_file} does not read as JSON ({err}); copy the run's args.json "
            "there again"
        ) from None
    run = TrainedRun(path, args)
    if args is not None and run.backbone is not None and run.method is None:
        raise ConfigError(
            f"{key}: {args_file} names no pretraining method (neither 'method' nor "
            "'pretrain_method'); give the checkpoint of the pretraining run instead"
        )
    return run


def require_architecture(
    run: TrainedRun, key: str, backbone_given: bool = False, how: str = ""
) -> None:
    """Stops before anything is built when nothing says which backbone ``run.checkpoint`` holds."""
    if run.backbone is not None or backbone_given:
        return
    alternative = f", or {how}" if how else ""
    raise ConfigError(
        f"{key}: {run.checkpoint} has no args.json beside it (solo-learn writes one next to every checkpoint; "
        f"it says which backbone to build): copy the run's args.json into {run.checkpoint.parent}{alternative}"
    )


def _looks_like_torch_save(path) -> bool:
    """torch.save writes a zip archive (PK...) or, in its legacy format, a pickle (protocol byte 0x80)."""
    try:
        with open(path, "rb") as file:
            return file.read(2) in (b"PK", b"\x80\x02")
    except OSError:
        return True  # say what torch said


def load_failure(err: Exception, path=None) -> str:
    """Why torch.load failed on ``path``, in words: python objects (needs trust), a truncated file, not a
    checkpoint at all."""
    text = str(err)
    unsupported = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if unsupported:
        return f"it stores python objects besides tensors ({unsupported.group(1)})"
    if isinstance(err, EOFError) or "Ran out of input" in text:
        return "the file is empty"
    if path is not None and not _looks_like_torch_save(path):
        return "the file is not a PyTorch checkpoint"
    if "zip archive" in text or "central directory" in text or isinstance(err, zipfile.BadZipFile):
        return "the file is truncated (a job stopped while writing it?) or a damaged zip archive"
    if (
        isinstance(err, pickle.UnpicklingError)
        or "Unsupported operand" in text
        or "load key" in text
    ):
        return "the file is not a PyTorch checkpoint"
    first_line = (text.splitlines() or [type(err).__name__])[0]
    return f"{type(err).__name__}: {first_line}"


def load_state_dict(path: Path, trust: bool = False) -> Dict[str, torch.Tensor]:
    """The ``state_dict`` of a Lightning checkpoint, read with torch.load(weights_only=True) unless trusted.

    Every failure is one ConfigError naming the file; only a file that stores python objects is told to
    rerun trusted.
    """
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=not trust)
    except Exception as err:  # noqa: BLE001 - torch raises anything from RuntimeError to UnpicklingError
        reason = load_failure(err, path)
        if not trust and reason.startswith("it stores python objects"):
            raise ConfigError(
                f"{path}: torch.load(weights_only=True) refuses this file: {reason}, as older solo-learn/torch "
                f"versions wrote. If you made this file yourself and trust it, rerun with trust_checkpoint=true "
                "(solo-ext linear) or --trust_checkpoint (solo-ext knn, analyze)"
            ) from None
        raise ConfigError(
            f"{path}: does not load as a checkpoint ({reason}); give another checkpoint "
            "of the run (an earlier epoch) or train it again"
        ) from None
    if not isinstance(checkpoint, dict):
        raise ConfigError(
            f"{path}: holds a {type(checkpoint).__name__}, not a checkpoint's state_dict"
        )
    return checkpoint["state_dict"] if "state_dict" in checkpoint else checkpoint


def backbone_state(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Backbone weights without their ``backbone.`` prefix (older ``encoder.`` checkpoints too)."""
    prefixes = ("backbone.", "encoder.")
    return {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(prefixes)}


def build_backbone(
    method: Optional[str], name: str, kwargs: dict, dataset: str
) -> Tuple[nn.Module, int]:
    """The backbone ``method`` builds for ``name`` (e.g. MAE's 12-head ViT-Tiny), and its feature size."""
    from solo.methods import METHODS
    from solo.methods.base import BaseMethod

    table = METHODS[method]._BACKBONES if method in METHODS else BaseMethod._BACKBONES
    if method is not None and method not in METHODS:
        logging.warning(
            "pretrain method %r is not registered: building solo-learn's default %s", method, name
        )
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
