"""Pure-torch masking for MAE-family methods: turn per-patch scores into MAE's keep/restore indexes.

Any masking strategy (random, block masks, coloured-noise patterns) only has to produce a score per
patch; ``mask_from_scores`` keeps the ``int(L · (1 − mask_ratio))`` highest-scoring patches of each sample.
"""

import importlib

# name -> submodule; imported on first use, so that ``solo_ext.masking.choices`` (and the config layer
# that reads it) does not import torch
_EXPORTS = {
    "block_mask_bank": "block",
    "block_mask_scores": "block",
    "ColoredNoiseMasker": "colored_noise",
    "generate_patterns": "colored_noise",
    "load_patterns": "colored_noise",
    "save_patterns": "colored_noise",
    "MaskIndexes": "scores",
    "mask_from_scores": "scores",
}


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'solo_ext.masking' has no attribute {name!r}")
    return getattr(importlib.import_module(f"solo_ext.masking.{_EXPORTS[name]}"), name)


__all__ = [
    "block_mask_bank",
    "block_mask_scores",
    "ColoredNoiseMasker",
    "MaskIndexes",
    "generate_patterns",
    "load_patterns",
    "mask_from_scores",
    "save_patterns",
]
