"""Pure-torch masking for MAE-family methods: turn per-patch scores into MAE's keep/restore indexes.

Any masking strategy (random, block masks, coloured-noise patterns) only has to produce a score per
patch; ``mask_from_scores`` keeps the ``int(L · (1 − mask_ratio))`` highest-scoring patches of each sample.
"""

from solo_ext.masking.block import block_mask_bank, block_mask_scores
from solo_ext.masking.colored_noise import (
    ColoredNoiseMasker,
    generate_patterns,
    load_patterns,
    save_patterns,
)
from solo_ext.masking.scores import MaskIndexes, mask_from_scores

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
