"""Block masking on the patch grid (SMAE's "block" strategy, after BEiT).

Rectangular blocks are unioned until the target is covered. Each block draws an area uniform in
[``min_area``, what is still missing] and an aspect ratio uniform in [0.3, 1/0.3] (the spec's sampling);
its height and width are sqrt(area · aspect) and sqrt(area / aspect) rounded to whole patches, so the
rectangle can cover fewer patches than drawn: as few as 12 at ``min_area`` 16 (2 x 6). Blocks lie inside the
grid. The overshoot of the last block is trimmed (its newly covered patches, last rows first) so every mask
hides exactly ``L - int(L · (1 − ratio))`` patches, the count MAE's random masking hides too.

Usage::

    bank = block_mask_bank(num=10_000, grid=16, ratio=0.5, seed=0)    # bool [N, 16, 16], True = masked
    scores = block_mask_scores(bank, batch_size=128)                  # [B, 256]: feed mask_from_scores
"""

from typing import Optional

import numpy as np
import torch

__all__ = ["block_mask", "block_mask_bank", "block_mask_scores"]


def block_mask(
    grid: int,
    ratio: float,
    rng: np.random.Generator,
    min_area: int = 16,
    aspect: tuple = (0.3, 1 / 0.3),
) -> np.ndarray:
    """One bool [grid, grid] mask (True = masked) of exactly ``L - int(L(1 - ratio))`` patches."""
    length = grid * grid
    target = length - int(length * (1 - ratio))
    mask = np.zeros((grid, grid), dtype=bool)
    covered = 0
    while covered < target:
        area = rng.uniform(min_area, max(min_area, target - covered))
        aspect_ratio = rng.uniform(*aspect)
        height = int(np.clip(round(np.sqrt(area * aspect_ratio)), 1, grid))
        width = int(np.clip(round(np.sqrt(area / aspect_ratio)), 1, grid))
        top, left = rng.integers(0, grid - height + 1), rng.integers(0, grid - width + 1)
        block = np.zeros_like(mask)
        block[top : top + height, left : left + width] = True
        new = block & ~mask
        overshoot = covered + int(new.sum()) - target
        if (
            overshoot > 0
        ):  # drop the block's last new patches (raster order): what stays is connected
            rows, cols = np.nonzero(new)
            new[rows[-overshoot:], cols[-overshoot:]] = False
        mask |= new
        covered = int(mask.sum())
    return mask


def block_mask_bank(
    num: int, grid: int, ratio: float = 0.5, seed: int = 0, min_area: int = 16
) -> torch.Tensor:
    """``num`` block masks, bool [num, grid, grid]; precomputed once, as the reference code does."""
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"mask ratio {ratio!r} is not allowed; expected a number in (0, 1)")
    if min_area > grid * grid - int(grid * grid * (1 - ratio)):
        raise ValueError(
            f"blocks of >= {min_area} patches do not fit the {grid}x{grid} patch grid at mask "
            f"ratio {ratio}; a finer grid or a higher ratio would"
        )
    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.stack([block_mask(grid, ratio, rng, min_area) for _ in range(num)]))


def block_mask_scores(
    bank: torch.Tensor, batch_size: int, generator: Optional[torch.Generator] = None
) -> torch.Tensor:
    """[B, L] scores from randomly drawn bank masks: 1 for visible patches, 0 for masked ones."""
    index = torch.randint(len(bank), (batch_size,), device=bank.device, generator=generator)
    return (~bank[index]).flatten(1).float()
