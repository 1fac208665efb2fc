import pytest
import torch

from solo_ext.losses import uniformity_loss


@pytest.mark.parametrize(
    "features,expected",
    [
        # two unit directions at angle t: (1 + 1 + 2 cos^2 t) / 4
        ([[1.0, 0.0], [0.0, 1.0]], 0.5),  # orthogonal: only the diagonal
        ([[1.0, 0.0], [1.0, 1.0]], 0.75),  # 45 degrees: cos^2 = 1/2
        ([[2.0, 0.0], [1.0, 3**0.5]], 0.625),  # 60 degrees: cos^2 = 1/4
        ([[1.0, 0.0], [-3.0, 0.0]], 1.0),  # opposite: squared cosine 1, as for identical rows
        # [1,0], [0,1], [1,1]: diagonal 3, off-diagonal 2 * (0 + 1/2 + 1/2) -> 5 / 9
        ([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], 5 / 9),
    ],
)
def test_hand_computed_cases(features, expected):
    assert uniformity_loss(torch.tensor(features)).item() == pytest.approx(expected, abs=1e-6)


def test_invariant_to_row_scale_sign_order_and_rotation():
    torch.manual_seed(0)
    f = torch.randn(7, 5)
    loss = uniformity_loss(f)
    scales = torch.tensor([0.1, 2.0, -3.0, 1.0, 50.0, -0.5, 7.0])[
        :, None
    ]  # per row, signs included
    rotation, _ = torch.linalg.qr(torch.randn(5, 5))  # orthogonal [D, D]
    assert torch.allclose(uniformity_loss(f * scales), loss, atol=1e-6)
    assert torch.allclose(uniformity_loss(f[torch.randperm(7)]), loss, atol=1e-6)
    assert torch.allclose(uniformity_loss(f @ rotation), loss, atol=1e-6)
    assert 1 / 7 < loss.item() < 1  # strictly between the orthogonal and the collapsed batch


def test_extremes():
    assert torch.isclose(uniformity_loss(torch.ones(4, 3)), torch.tensor(1.0))
    assert torch.isclose(
        uniformity_loss(torch.eye(4) * 5), torch.tensor(1 / 4)
    )  # only the diagonal


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
