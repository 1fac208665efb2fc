"""Patch-mean features of chosen transformer blocks, captured during an ordinary forward pass.

MAGMA regularises image-level vectors Z^(n) = mean over the patch tokens of the output of block n
(the residual stream, before the encoder's final norm; cls and other prefix tokens excluded). Only the
blocks asked for get a forward hook, the hooks live for one ``with`` block, and a forward pass outside it
(validation, evaluation) runs untouched.

Usage::

    with BlockFeatureCapture(vit, layers=[10, 11]) as capture:
        out = model(images)                # any code path that runs vit.blocks
    capture.features                       # {10: [B, D], 11: [B, D]}
"""

from typing import Dict, Iterable

import torch
from torch import nn

__all__ = ["BlockFeatureCapture", "resolve_layer", "transformer_blocks"]


def transformer_blocks(backbone: nn.Module) -> nn.Sequential:
    """The block list of a timm-style ViT (``backbone.blocks``); a clear error for anything else."""
    blocks = getattr(backbone, "blocks", None)
    if not isinstance(blocks, (nn.Sequential, nn.ModuleList)):
        raise ValueError(
            f"{type(backbone).__name__} has no transformer blocks (`.blocks`): block features need a ViT backbone"
        )
    return blocks


def resolve_layer(layer: int, depth: int) -> int:
    """Maps a python-style block index (negative counts from the end) to 0..depth-1."""
    if isinstance(layer, bool) or not isinstance(layer, int) or not -depth <= layer < depth:
        raise ValueError(
            f"{layer!r} is not a block of this backbone; allowed: integers in [{-depth}, {depth - 1}]"
        )
    return layer % depth


class BlockFeatureCapture:
    """Context manager recording the patch-token mean of chosen blocks during one forward pass.

    Args:
        backbone: a ViT with ``.blocks`` and ``num_prefix_tokens`` (timm's VisionTransformer and
            solo-learn's MAE ViT both qualify).
        layers: 0-based block indexes (already resolved, see ``resolve_layer``).

    After the ``with`` block, ``features`` maps each layer to its [B, D] patch mean from the first
    forward pass that ran inside the block; later passes inside the same block are not recorded.
    """

    def __init__(self, backbone: nn.Module, layers: Iterable[int]):
        self.blocks = transformer_blocks(backbone)
        self.layers = sorted(set(layers))
        self.num_prefix_tokens = int(getattr(backbone, "num_prefix_tokens", 1))
        self.features: Dict[int, torch.Tensor] = {}
        self._handles = []

    def _hook(self, layer: int):
        def record(_module, _inputs, output):
            if layer not in self.features:
                self.features[layer] = output[:, self.num_prefix_tokens :].mean(dim=1)  # [B, D]

        return record

    def __enter__(self) -> "BlockFeatureCapture":
        self._handles = [
            self.blocks[layer].register_forward_hook(self._hook(layer)) for layer in self.layers
        ]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
