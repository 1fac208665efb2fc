"""Pure-torch backbone helpers (no solo-learn import)."""

from solo_ext.backbones.block_features import BlockFeatureCapture, resolve_layer, transformer_blocks

__all__ = ["BlockFeatureCapture", "resolve_layer", "transformer_blocks"]
