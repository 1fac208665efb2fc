"""ColorMAE (solo-learn glue): MAE whose masks come from a coloured-noise pattern bank.

The bank lives in a ColoredNoiseMasker (moved like a buffer: right device per rank, never in
checkpoints, never broadcast by DDP); the active bank is a pure function of the epoch (schedule), so a
resumed run masks exactly
like an uninterrupted one.
"""

from typing import Optional

import numpy as np
import torch

from solo_ext.config import ColorMAESettings, ConfigError, config_key
from solo_ext.masking import ColoredNoiseMasker, generate_patterns, load_patterns
from solo_ext.methods.base import SoloExtMethod
from solo_ext.methods.mae_family import MaskedViTMAE

__all__ = ["ColorMAE"]


class ColorMAE(SoloExtMethod, MaskedViTMAE):
    """ColorMAE: ``mask_scores`` are windows of filtered-noise patterns (keep the highest values)."""

    KWARGS = "colormae"

    def __init__(self, cfg):
        super().__init__(cfg)
        self.colormae: ColorMAESettings = self.settings
        self.grid: int = int(self.backbone.patch_embed.grid_size[0])
        self._bank_source = self.colormae.source_for_epoch(0)
        with config_key("method_kwargs.colormae.mode"):
            self.masker = ColoredNoiseMasker(
                self._load_bank(*self._bank_source), self.colormae.mode, self.colormae.fp16
            )
        for _, _, patterns in self.colormae.schedule:  # fail at start-up, not at epoch 200
            if patterns is not None:
                with config_key("method_kwargs.colormae.patterns"):
                    load_patterns(patterns, min_size=self.grid)
        if self.colormae.mode == "official" and self.batch_size > self.masker.bank.shape[0]:
            raise ConfigError(
                "method_kwargs.colormae.mode: 'official' draws patterns 0..B-1 but "
                f"optimizer.batch_size={self.batch_size} "
                f"exceeds the {self.masker.bank.shape[0]} patterns; allowed: per_sample, or a bank of >= B patterns"
            )

    def _load_bank(self, color: str, patterns: Optional[str]) -> torch.Tensor:
        if patterns is not None:
            with config_key("method_kwargs.colormae.patterns"):
                bank = load_patterns(patterns, min_size=self.grid)
        else:
            if self.colormae.pattern_size < self.grid:
                raise ConfigError(
                    f"method_kwargs.colormae.pattern_size: {self.colormae.pattern_size} is smaller than the patch grid "
                    f"({self.grid}); allowed: >= {self.grid}"
                )
            dtype = np.float16 if self.colormae.fp16 else np.float32
            bank = generate_patterns(
                color,
                self.colormae.num_patterns,
                self.colormae.pattern_size,
                self.colormae.seed,
                dtype,
            )
        return torch.from_numpy(bank)

    def on_train_epoch_start(self) -> None:
        source = self.colormae.source_for_epoch(self.current_epoch)
        if source != self._bank_source:
            self.masker.set_bank(self._load_bank(*source))
            self._bank_source = source

    def mask_scores(self, X: torch.Tensor) -> torch.Tensor:
        return self.masker.scores(X.size(0), self.grid)
