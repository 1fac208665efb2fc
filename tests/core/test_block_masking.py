import numpy as np
import pytest
import torch

from solo_ext.masking import block_mask_bank, block_mask_scores, mask_from_scores


def components(mask: np.ndarray):
    """Sizes of the 4-connected components of a bool grid."""
    seen, sizes = np.zeros_like(mask), []
    for start in zip(*np.nonzero(mask)):
        if seen[start]:
            continue
        stack, size = [start], 0
        seen[start] = True
        while stack:
            r, c = stack.pop()
            size += 1
            for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if (
                    0 <= nr < mask.shape[0]
                    and 0 <= nc < mask.shape[1]
                    and mask[nr, nc]
                    and not seen[nr, nc]
                ):
                    seen[nr, nc] = True
                    stack.append((nr, nc))
        sizes.append(size)
    return sizes


@pytest.mark.parametrize("grid,ratio", [(16, 0.5), (8, 0.5), (14, 0.5), (16, 0.75)])
def test_exact_count_and_blocky(grid, ratio):
    bank = block_mask_bank(200, grid, ratio, seed=0)
    length = grid * grid
    assert bank.shape == (200, grid, grid) and bank.dtype == torch.bool
    assert torch.equal(
        bank.flatten(1).sum(1), torch.full((200,), length - int(length * (1 - ratio)))
    )
    sizes = [s for m in bank.numpy() for s in components(m)]
    assert np.mean(sizes) >= 16  # unions of blocks of >= 16 patches, not scattered patches
    assert len({m.tobytes() for m in bank.numpy()}) > 150  # different masks per sample


def test_scores_select_the_bank_masks():
    bank = block_mask_bank(10, 8, 0.5, seed=1)
    scores = block_mask_scores(bank, 6, generator=torch.Generator().manual_seed(0))
    keep = mask_from_scores(scores, 0.5)
    drawn = torch.randint(10, (6,), generator=torch.Generator().manual_seed(0))
    assert torch.equal(keep.mask.bool(), bank[drawn].flatten(1))


def test_bad_settings():
    with pytest.raises(ValueError, match="mask ratio 1.0 is not allowed"):
        block_mask_bank(1, 8, 1.0)
    with pytest.raises(
        ValueError, match="blocks of >= 16 patches do not fit the 4x4 patch grid at mask ratio 0.5"
    ):
        block_mask_bank(1, 4, 0.5)
