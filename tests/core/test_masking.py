import pytest
import torch

from solo_ext.masking import mask_from_scores


def test_keeps_exactly_the_top_scores():
    torch.manual_seed(0)
    scores = torch.rand(4, 49)
    keep = mask_from_scores(scores, 0.75)
    assert keep.ids_keep.shape == (4, 12)  # int(49 * 0.25)
    assert torch.equal(keep.mask.sum(1), torch.full((4,), 37.0))
    for b in range(4):
        top = set(scores[b].topk(12).indices.tolist())
        assert set(keep.ids_keep[b].tolist()) == top
        assert torch.equal(
            keep.mask[b] == 0, torch.isin(torch.arange(49), torch.tensor(sorted(top)))
        )


def test_restore_unshuffles():
    scores = torch.rand(2, 16)
    keep = mask_from_scores(scores, 0.5)
    shuffled = torch.argsort(scores, dim=1, descending=True)
    assert torch.equal(torch.gather(shuffled, 1, keep.ids_restore), torch.arange(16).expand(2, -1))


def test_reproduces_mae_random_masking():
    """MAE keeps the lowest noise: scores = -noise give the same split."""
    torch.manual_seed(1)
    noise = torch.rand(3, 64)
    ids_shuffle = torch.argsort(noise, dim=1)
    keep = mask_from_scores(-noise, 0.75)
    assert torch.equal(keep.ids_keep, ids_shuffle[:, :16])
    assert torch.equal(keep.ids_restore, torch.argsort(ids_shuffle, dim=1))


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.1, 1.5])
def test_ratio_outside_open_interval(ratio):
    with pytest.raises(ValueError, match=f"mask ratio {ratio!r} is not allowed"):
        mask_from_scores(torch.rand(1, 4), ratio)
