import pytest
import torch

from solo_ext.losses import magma_loss


def reference_magma(x, y, rbf_scale=1.0, eps=1e-4):
    """Direct transcription of the spec with dense matrices."""
    x, y = x.double(), y.double()
    b = x.size(0)
    d = torch.cdist(x, x).square()
    off = ~torch.eye(b, dtype=torch.bool)
    gamma = d[off].std()
    w = torch.exp(-rbf_scale * d / gamma) * off
    deg = w.sum(1)
    dm = torch.diag((deg + eps).rsqrt())
    lap = torch.eye(b, dtype=torch.double) - dm @ w @ dm
    return torch.trace(y.T @ lap @ y) / b**2, w, deg


@pytest.mark.parametrize("rbf_scale", [1.0, 0.5])
def test_matches_dense_reference(rbf_scale):
    torch.manual_seed(0)
    x, y = torch.randn(12, 7), torch.randn(12, 5)
    expected, _, _ = reference_magma(x, y, rbf_scale)
    assert torch.allclose(
        magma_loss(x, y, rbf_scale=rbf_scale).double(), expected, rtol=1e-4, atol=1e-6
    )


def test_pairwise_smoothness_identity():
    torch.manual_seed(1)
    x, y = torch.randn(9, 4), torch.randn(9, 3)
    _, w, deg = reference_magma(x, y, eps=0.0)
    ys = y.double() / deg.sqrt()[:, None]
    pairwise = 0.5 * (w * torch.cdist(ys, ys).square()).sum() / 9**2
    assert torch.allclose(magma_loss(x, y, eps=0.0).double(), pairwise, rtol=1e-4)


def test_smooth_targets_cost_less_than_rough_ones():
    torch.manual_seed(2)
    x = torch.cat([torch.randn(8, 4) + 10, torch.randn(8, 4) - 10])  # two clusters
    smooth = torch.cat([torch.ones(8, 3), -torch.ones(8, 3)])  # constant on each cluster
    rough = smooth[torch.randperm(16)]
    assert magma_loss(x, smooth) < magma_loss(x, rough)


def test_gradients_reach_both_inputs():
    torch.manual_seed(3)
    x = torch.randn(10, 6, requires_grad=True)
    y = torch.randn(10, 6, requires_grad=True)
    magma_loss(x, y).backward()
    assert x.grad.abs().sum() > 0 and y.grad.abs().sum() > 0


def test_half_inputs_computed_in_fp32():
    torch.manual_seed(4)
    x, y = torch.randn(8, 16) * 300, torch.randn(8, 16) * 300  # squared distances overflow fp16
    loss = magma_loss(x.half(), y.bfloat16())
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert torch.allclose(loss, magma_loss(x.half().float(), y.bfloat16().float()))


@pytest.mark.parametrize(
    "x",
    [
        torch.randn(1, 5),
        torch.randn(2, 5),
        torch.ones(6, 5) * 3.0,
        torch.zeros(4, 5),
        torch.randn(6, 5) * 1e4,
    ],
    ids=["B=1", "B=2", "identical", "zeros", "huge"],
)
def test_degenerate_batches_are_finite(x):
    x = x.clone().requires_grad_(True)
    y = torch.randn(x.size(0), 3, requires_grad=True)
    loss = magma_loss(x, y)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()


def test_single_sample_is_zero():
    assert magma_loss(torch.randn(1, 4), torch.randn(1, 4)).item() == 0.0


def test_equidistant_batch_uses_unit_complete_graph():
    x = torch.ones(4, 3)
    y = torch.randn(4, 2)
    w = 1 - torch.eye(4)
    dm = torch.diag((w.sum(1) + 1e-4).rsqrt())
    expected = torch.trace(y.T @ (torch.eye(4) - dm @ w @ dm) @ y) / 16
    assert torch.allclose(magma_loss(x, y), expected, atol=1e-6)


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="same B"):
        magma_loss(torch.randn(4, 3), torch.randn(5, 3))
