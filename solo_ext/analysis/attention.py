"""Queries, keys and attention of timm-style ViT blocks: the key-PCA and [CLS]-attention figures of MAGMA.

``capture_queries_keys`` hooks every block's ``attn.qkv``; ``key_component_maps`` projects each image's patch
keys on their leading principal component per block (a grid x grid heatmap per block); ``cls_attention_maps``
recomputes the last block's [CLS] -> patch softmax(q k^T / sqrt(d)) per head (timm's fused attention never
materialises the weights). Usage::

    with capture_queries_keys(vit.blocks) as qk:
        vit.forward_features(images)                         # [B, 1 + L, D]
    keys = key_component_maps(qk.keys, grid=(8, 8))          # [B, blocks, 8, 8]
    heads = cls_attention_maps(qk.queries[-1], qk.keys[-1], grid=(8, 8))   # [B, heads, 8, 8]
"""

from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
from torch import nn

__all__ = [
    "QueryKeyCapture",
    "attention_weights",
    "capture_queries_keys",
    "cls_attention_maps",
    "key_component_maps",
    "leading_component",
]


class QueryKeyCapture:
    """Per block, the queries and keys [B, heads, T, D/heads] of the last forward pass (after q_norm/k_norm)."""

    def __init__(self, depth: int):
        self.queries: List[Optional[torch.Tensor]] = [None] * depth
        self.keys: List[Optional[torch.Tensor]] = [None] * depth


@contextmanager
def capture_queries_keys(blocks: Sequence[nn.Module]) -> Iterator[QueryKeyCapture]:
    """Forward hooks on each block's ``attn.qkv`` Linear while the context is open.

    qkv output [B, T, 3·D] is split as timm's Attention splits it: [B, T, 3, heads, D/heads] -> q, k, v each
    [B, heads, T, D/heads]; q_norm/k_norm (identities unless qk_norm) are applied as the block applies them.
    """
    capture = QueryKeyCapture(len(blocks))
    handles = []
    for index, block in enumerate(blocks):
        attn = getattr(block, "attn", None)
        if (
            attn is None
            or not isinstance(getattr(attn, "qkv", None), nn.Linear)
            or not hasattr(attn, "num_heads")
        ):
            raise ValueError(
                f"block {index} ({type(block).__name__}) is not a timm-style ViT block with attn.qkv"
            )

        def hook(module, inputs, output, index=index, attn=attn):
            batch, tokens, width = output.shape
            heads = attn.num_heads
            qkv = output.reshape(batch, tokens, 3, heads, width // (3 * heads)).permute(
                2, 0, 3, 1, 4
            )
            q, k, _ = qkv.unbind(0)  # each [B, heads, T, D/heads]
            capture.queries[index] = getattr(attn, "q_norm", nn.Identity())(q).detach()
            capture.keys[index] = getattr(attn, "k_norm", nn.Identity())(k).detach()

        handles.append(attn.qkv.register_forward_hook(hook))
    try:
        yield capture
    finally:
        for handle in handles:
            handle.remove()


def attention_weights(queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """softmax(q·kᵀ / √d) over keys: [B, heads, T, d] × 2 -> [B, heads, T, T], each row sums to 1."""
    scale = queries.size(-1) ** -0.5
    return torch.softmax((queries.float() * scale) @ keys.float().transpose(-2, -1), dim=-1)


def cls_attention_maps(
    queries: torch.Tensor, keys: torch.Tensor, grid: Tuple[int, int], prefix_tokens: int = 1
) -> torch.Tensor:
    """The [CLS] token's attention to each patch, per head: [B, heads, gh, gw] (softmax over all T tokens)."""
    cls_row = attention_weights(queries, keys)[:, :, 0, prefix_tokens:]  # [B, heads, L]
    return cls_row.reshape(*cls_row.shape[:2], *grid)


def leading_component(x: torch.Tensor) -> torch.Tensor:
    """Projection of the rows of ``x`` [..., N, D] on their first principal component -> [..., N].

    Rows are centred; the principal axis is the first right singular vector. Its sign is arbitrary, so it is
    fixed to make the largest-magnitude projection positive (same picture for the same features).
    """
    centred = x.double() - x.double().mean(-2, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    projection = (centred @ vh[..., 0, :].unsqueeze(-1)).squeeze(-1)  # [..., N]
    peak = projection.gather(-1, projection.abs().argmax(-1, keepdim=True))
    return (projection * torch.where(peak < 0, -1.0, 1.0)).float()


def key_component_maps(
    keys: Sequence[torch.Tensor], grid: Tuple[int, int], prefix_tokens: int = 1
) -> torch.Tensor:
    """Per image and block, the leading PCA component of the patch tokens' keys: [B, blocks, gh, gw].

    Each block's keys [B, heads, T, d] are concatenated over heads to [B, T, heads·d] (the key vector the block
    compares with queries); the cls/prefix tokens are left out. A component's sign is arbitrary, so block 0
    follows ``leading_component`` and every later block is flipped where it anti-correlates with the block
    before it: a map that persists through the blocks keeps its colours.
    """
    maps = []
    for k in keys:
        batch, heads, tokens, dim = k.shape
        patch_keys = k.permute(0, 2, 1, 3).reshape(batch, tokens, heads * dim)[
            :, prefix_tokens:
        ]  # [B, L, D]
        component = leading_component(patch_keys)  # [B, L]
        if maps:
            previous = maps[-1]
            agreement = (
                (component - component.mean(1, keepdim=True))
                * (previous - previous.mean(1, keepdim=True))
            ).sum(1)
            component = component * torch.where(agreement < 0, -1.0, 1.0).unsqueeze(1)
        maps.append(component)
    return torch.stack(maps, dim=1).reshape(len(maps[0]), len(maps), *grid)
