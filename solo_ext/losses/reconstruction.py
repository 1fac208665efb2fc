"""Pixel reconstruction pieces shared by MAE-family losses (pure torch)."""

import torch

__all__ = ["patchify", "unpatchify", "pixel_loss"]


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """[B, 3, H, W] -> [B, L, p*p*3] in MAE's patch and channel order."""
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // patch, patch, w // patch, patch)
    return torch.einsum("nchpwq->nhwpqc", x).reshape(
        b, (h // patch) * (w // patch), patch * patch * c
    )


def unpatchify(patches: torch.Tensor, patch: int, channels: int = 3) -> torch.Tensor:
    """[B, L, p*p*3] -> [B, 3, H, W], the inverse of ``patchify`` on a square grid."""
    b, length, _ = patches.shape
    side = int(round(length**0.5))
    x = patches.reshape(b, side, side, patch, patch, channels)
    return torch.einsum("nhwpqc->nchpwq", x).reshape(b, channels, side * patch, side * patch)


def pixel_loss(
    pred: torch.Tensor,
    images: torch.Tensor,
    mask: torch.Tensor,
    patch: int,
    on: str = "all",
    norm_pix: bool = False,
) -> torch.Tensor:
    """Mean squared error of predicted patches, over ``all`` patches (SMAE) or the ``masked`` ones (MAE), in fp32."""
    target = patchify(
        images.float(), patch
    )  # [B, L, p*p*3]; fp32 before norm_pix: fp16 patch variances overflow
    if norm_pix:
        target = (target - target.mean(-1, keepdim=True)) / (
            target.var(-1, keepdim=True) + 1e-6
        ).sqrt()
    per_patch = (pred.float() - target.float()).square().mean(-1)  # [B, L]
    if on == "all":
        return per_patch.mean()
    return (per_patch * mask).sum() / mask.sum()
