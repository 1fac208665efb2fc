"""Pure-torch backbone helpers (no solo-learn import)."""

from solo_ext.backbones.block_features import BlockFeatureCapture, resolve_layer, transformer_blocks
from solo_ext.backbones.masked_vit import encode_visible

__all__ = ["BlockFeatureCapture", "encode_visible", "resolve_layer", "transformer_blocks"]
