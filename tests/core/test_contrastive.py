import math

import pytest
import torch
import torch.nn.functional as F

from solo_ext.losses import clip_contrastive_loss, nt_xent_loss
from solo_ext.losses.contrastive import MAX_LOGIT_SCALE


def nt_xent_reference(z, indexes, temperature, columns=None, column_indexes=None, offset=0):
    """SimCLR's loss written out row by row: -log(sum over positives / sum over every other column)."""
    columns = z if columns is None else columns
    column_indexes = indexes if column_indexes is None else column_indexes
    total = 0.0
    for i in range(z.size(0)):
        sims = [
            torch.exp(F.cosine_similarity(z[i], columns[j], dim=0) / temperature)
            for j in range(columns.size(0))
        ]
        others = [j for j in range(columns.size(0)) if j != offset + i]
        positive = sum(sims[j] for j in others if column_indexes[j] == indexes[i])
        total = total - torch.log(positive / sum(sims[j] for j in others))
    return total / z.size(0)


def test_nt_xent_matches_the_written_out_formula():
    torch.manual_seed(0)
    z, idx = torch.randn(8, 5), torch.tensor([4, 9, 2, 7]).repeat(2)  # two views of 4 images
    assert torch.allclose(
        nt_xent_loss(z, idx, temperature=0.2), nt_xent_reference(z, idx, 0.2), atol=1e-5
    )


def test_nt_xent_duplicate_images_are_positives():
    torch.manual_seed(1)
    z = torch.randn(8, 5)
    duplicated = torch.tensor([4, 4, 2, 7]).repeat(
        2
    )  # image 4 drawn twice: 4 views share the index
    distinct = torch.tensor([4, 5, 2, 7]).repeat(2)
    loss = nt_xent_loss(z, duplicated, temperature=0.5)
    assert torch.allclose(loss, nt_xent_reference(z, duplicated, 0.5), atol=1e-5)
    assert not torch.allclose(loss, nt_xent_loss(z, distinct, temperature=0.5))


def test_nt_xent_second_rank_excludes_its_own_column_not_rank_zeros():
    """Rank 1 of 2: rows are its 4 crops, columns the gathered 8; its own columns start at 4."""
    torch.manual_seed(2)
    rank0, rank1 = torch.randn(4, 6), torch.randn(4, 6)
    idx0, idx1 = torch.tensor([0, 1, 0, 1]), torch.tensor([2, 3, 2, 3])
    columns, column_idx = torch.cat([rank0, rank1]), torch.cat([idx0, idx1])
    loss = nt_xent_loss(rank1, idx1, columns, column_idx, temperature=0.1, self_offset=4)
    assert torch.allclose(
        loss, nt_xent_reference(rank1, idx1, 0.1, columns, column_idx, offset=4), atol=1e-5
    )
    # the same gathered batch seen from one process: rank 1's rows are its mean over those rows
    whole = torch.stack(
        [
            nt_xent_reference(
                columns[i : i + 1], column_idx[i : i + 1], 0.1, columns, column_idx, offset=i
            )
            for i in range(8)
        ]
    )
    assert torch.allclose(loss, whole[4:].mean(), atol=1e-5)


def test_nt_xent_stays_finite_at_tiny_temperatures_and_in_fp32():
    z = torch.randn(6, 4, dtype=torch.bfloat16)
    idx = torch.arange(3).repeat(2)
    loss = nt_xent_loss(z, idx, temperature=1e-3)  # exp(1000) overflows the written-out form
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    with pytest.raises(ValueError, match="no positive"):
        nt_xent_loss(z, torch.arange(6), temperature=0.1)  # single views: nothing to pull together


def test_clip_matches_cross_entropy_for_distinct_indexes():
    torch.manual_seed(0)
    p, z = torch.randn(6, 8), torch.randn(6, 8)
    idx = torch.tensor([10, 3, 7, 1, 0, 42])
    scale = torch.tensor(math.log(1 / 0.1))
    logits = 10.0 * F.normalize(p) @ F.normalize(z).T
    expected = 2 * F.cross_entropy(logits, torch.arange(6))
    assert torch.allclose(clip_contrastive_loss(p, idx, z, idx, scale), expected, atol=1e-5)


def test_clip_duplicate_indexes_are_positives():
    torch.manual_seed(1)
    p, z = torch.randn(4, 5), torch.randn(4, 5)
    idx = torch.tensor([7, 7, 2, 3])  # the same image twice in the batch
    scale = torch.tensor(0.0)
    log_prob = F.log_softmax(F.normalize(p) @ F.normalize(z).T, dim=1)
    targets = torch.tensor([[0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]])
    expected = 2 * -(targets * log_prob).sum(1).mean()
    assert torch.allclose(clip_contrastive_loss(p, idx, z, idx, scale), expected, atol=1e-6)


def test_clip_second_rank_columns_by_index_not_position():
    """Rank 1 of 2: its rows' positives sit in the second half of the gathered columns."""
    torch.manual_seed(2)
    z_rank0, z_rank1 = torch.randn(3, 4), torch.randn(3, 4)
    idx_rank0, idx_rank1 = torch.tensor([0, 1, 2]), torch.tensor([5, 6, 7])
    p_rank1 = z_rank1 + 0.01 * torch.randn(3, 4)  # views of rank 1's own images
    columns, column_idx = torch.cat([z_rank0, z_rank1]), torch.cat([idx_rank0, idx_rank1])
    scale = torch.tensor(math.log(100.0))
    loss = clip_contrastive_loss(p_rank1, idx_rank1, columns, column_idx, scale)
    wrong = 2 * F.cross_entropy(
        100 * F.normalize(p_rank1) @ F.normalize(columns).T, torch.arange(3)
    )  # arange(B) labels
    right = 2 * F.cross_entropy(
        100 * F.normalize(p_rank1) @ F.normalize(columns).T, torch.arange(3) + 3
    )
    assert torch.allclose(loss, right, atol=1e-5) and loss < wrong


def test_clip_scale_is_clamped_and_learnable():
    p, z, idx = torch.randn(3, 4), torch.randn(3, 4), torch.arange(3)
    scale = torch.tensor(10.0, requires_grad=True)  # exp(10) > 100
    clamped = clip_contrastive_loss(p, idx, z, idx, scale)
    assert torch.allclose(
        clamped, clip_contrastive_loss(p, idx, z, idx, torch.tensor(math.log(100.0)))
    )
    inside = torch.tensor(1.0, requires_grad=True)
    clip_contrastive_loss(p, idx, z, idx, inside).backward()
    assert inside.grad is not None and inside.grad != 0


@pytest.mark.parametrize("temperature", [0.01, 0.05])
def test_clip_learnable_scale_gets_a_gradient_from_t_0_01_on(temperature):
    """ViC-MAE starts the scale at ln(1/T) in float32: T = 0.01 puts it on the bound itself (ln 100)."""
    torch.manual_seed(3)
    p, z, idx = torch.randn(4, 5), torch.randn(4, 5), torch.arange(4)
    logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / temperature)))
    assert logit_scale.item() <= MAX_LOGIT_SCALE
    clip_contrastive_loss(p, idx, z, idx, logit_scale).backward()
    assert logit_scale.grad.item() != 0.0


def test_clip_scale_bound_is_ln_100_in_float32():
    assert MAX_LOGIT_SCALE == torch.tensor(math.log(100.0), dtype=torch.float32).item()
    assert math.isclose(math.exp(MAX_LOGIT_SCALE), 100.0, rel_tol=1e-6)
    above = torch.nn.Parameter(
        torch.tensor(math.log(1 / 0.005))
    )  # T below 0.01: clamped, the scale cannot learn
    loss = clip_contrastive_loss(
        torch.eye(2), torch.arange(2), torch.ones(2, 2), torch.arange(2), above
    )
    loss.backward()
    assert above.grad.item() == 0.0
    assert torch.allclose(
        loss,
        clip_contrastive_loss(
            torch.eye(2),
            torch.arange(2),
            torch.ones(2, 2),
            torch.arange(2),
            torch.tensor(MAX_LOGIT_SCALE),
        ),
    )


def test_clip_fp32_under_autocast_and_missing_positive():
    p = torch.randn(2, 4, dtype=torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = clip_contrastive_loss(p, torch.arange(2), p, torch.arange(2), torch.tensor(2.0))
    assert loss.dtype == torch.float32
    with pytest.raises(ValueError, match="no positive"):
        clip_contrastive_loss(p, torch.tensor([0, 9]), p, torch.arange(2), torch.tensor(2.0))
