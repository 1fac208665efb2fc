import pytest
import torch

from solo_ext.losses import uniformity_loss


def test_matches_formula():
    torch.manual_seed(0)
    f = torch.randn(7, 5)
    unit = f / f.norm(dim=1, keepdim=True)
    assert torch.allclose(uniformity_loss(f), (unit @ unit.T).pow(2).mean())


def test_extremes():
    assert torch.isclose(uniformity_loss(torch.ones(4, 3)), torch.tensor(1.0))
    assert torch.isclose(uniformity_loss(torch.eye(4) * 5), torch.tensor(1 / 4))  # only the diagonal


def test_gradient_and_dtype():
    f = torch.randn(6, 4, dtype=torch.bfloat16, requires_grad=True)
    loss = uniformity_loss(f)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(f.grad.float()).all()


def test_rank_error():
    with pytest.raises(ValueError, match=r"\[B, D\]"):
        uniformity_loss(torch.randn(2, 3, 4))


def test_zero_rows_are_finite():
    f = torch.zeros(3, 4, requires_grad=True)
    loss = uniformity_loss(f)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(f.grad).all()
