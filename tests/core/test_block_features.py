import pytest
import torch
from torch import nn

from solo_ext.backbones import BlockFeatureCapture, resolve_layer


class TinyViT(nn.Module):
    """cls token + patch tokens through a stack of linear blocks, like a ViT's residual stream."""

    num_prefix_tokens = 1

    def __init__(self, depth=4, dim=6):
        super().__init__()
        self.blocks = nn.Sequential(*[nn.Linear(dim, dim) for _ in range(depth)])

    def forward(self, tokens):
        return self.blocks(tokens)


def test_captures_patch_means_of_requested_blocks_only():
    torch.manual_seed(0)
    vit = TinyViT()
    tokens = torch.randn(3, 5, 6)  # [B, 1 + L, D]
    with BlockFeatureCapture(vit, [1, 3]) as capture:
        assert [len(b._forward_hooks) for b in vit.blocks] == [0, 1, 0, 1]
        vit(tokens)
    expected, x = {}, tokens
    for i, block in enumerate(vit.blocks):
        x = block(x)
        expected[i] = x[:, 1:].mean(dim=1)
    assert set(capture.features) == {1, 3}
    for layer in (1, 3):
        assert torch.allclose(capture.features[layer], expected[layer])


def test_no_hooks_left_and_only_first_pass_recorded():
    vit = TinyViT()
    first, second = torch.randn(2, 4, 6), torch.randn(2, 4, 6)
    with BlockFeatureCapture(vit, [0]) as capture:
        vit(first)
        vit(second)
    assert all(len(b._forward_hooks) == 0 for b in vit.blocks)
    assert torch.allclose(capture.features[0], vit.blocks[0](first)[:, 1:].mean(1))


def test_hooks_removed_even_on_error_and_in_eval():
    vit = TinyViT().eval()
    with pytest.raises(RuntimeError):
        with BlockFeatureCapture(vit, [2]):
            vit(torch.randn(2, 3, 7))  # wrong width
    assert all(len(b._forward_hooks) == 0 for b in vit.blocks)


def test_gradients_flow_through_captured_features():
    vit = TinyViT()
    with BlockFeatureCapture(vit, [0]) as capture:
        vit(torch.randn(2, 3, 6))
    capture.features[0].sum().backward()
    assert vit.blocks[0].weight.grad is not None


def test_resolve_layer():
    assert (
        resolve_layer(-1, 12) == 11 and resolve_layer(10, 12) == 10 and resolve_layer(-12, 12) == 0
    )
    with pytest.raises(
        ValueError, match=r"^12 is not a block of this backbone; allowed: .* \[-12, 11\]"
    ):
        resolve_layer(12, 12)
    with pytest.raises(ValueError, match="1.5 is not a block"):
        resolve_layer(1.5, 12)


def test_non_vit_is_refused():
    with pytest.raises(ValueError, match="ViT"):
        BlockFeatureCapture(nn.Linear(2, 2), [0])
