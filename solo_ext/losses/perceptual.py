"""SMAE's perceptual loss with a frozen SqueezeNet-1.1 critic (Charisoudis et al., ReScience C 2023).

    L_perc = mean( (sigmoid(g(x_hat)) - sigmoid(g(x)))^2 ),   g = squeezenet1_1.features[:5]

g (conv-relu-maxpool-Fire-Fire, [B, 128, 15, 15] at 64 px) is trained from scratch on the pre-training
data (``solo-ext critic train``), frozen here: eval mode and no parameter gradients, while gradients still
reach the reconstruction x_hat.

Usage::

    loss_fn = PerceptualLoss(load_critic_features("critic.pt"))
    loss = loss_fn(reconstruction, images)        # both [B, 3, H, W], same normalisation as the critic's
"""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CRITIC_ARCH", "PerceptualLoss", "build_critic", "save_critic", "load_critic_features"]

CRITIC_ARCH = "squeezenet1_1"
CRITIC_FEATURES = 5  # features[:5]: up to and including the second Fire module


def build_critic(num_classes: int, dropout: float = 0.5) -> nn.Module:
    """An untrained SqueezeNet-1.1 classifier (torchvision; no pretrained weights are ever fetched)."""
    from torchvision.models import squeezenet1_1

    return squeezenet1_1(weights=None, num_classes=num_classes, dropout=dropout)


def save_critic(path, critic: nn.Module, num_classes: int, top1: float, **meta) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "arch": CRITIC_ARCH,
            "num_classes": num_classes,
            "top1": float(top1),
            "meta": meta,
            "state_dict": critic.state_dict(),
        },
        path,
    )
    return path


def load_critic_features(path) -> nn.Module:
    """The frozen ``features[:5]`` of a critic checkpoint written by ``save_critic``; ValueError naming the
    file otherwise."""
    path = Path(str(path))
    if not path.is_file():
        raise ValueError(f"critic file {str(path)!r} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unreadable, truncated, or not a torch file
        raise ValueError(
            f"critic file {path} cannot be read ({type(err).__name__}: {err})"
        ) from None
    if (
        not isinstance(checkpoint, dict)
        or checkpoint.get("arch") != CRITIC_ARCH
        or "state_dict" not in checkpoint
    ):
        found = (
            checkpoint.get("arch") if isinstance(checkpoint, dict) else type(checkpoint).__name__
        )
        raise ValueError(f"{path} is not a {CRITIC_ARCH} critic checkpoint (found {found!r})")
    critic = build_critic(int(checkpoint["num_classes"]))
    try:
        critic.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as err:
        raise ValueError(
            f"{path} does not fit {CRITIC_ARCH} ({str(err).splitlines()[0]})"
        ) from None
    return critic.features[:CRITIC_FEATURES]


class PerceptualLoss(nn.Module):
    """MSE between sigmoid critic features of a reconstruction and of its target, in fp32."""

    def __init__(self, critic_features: nn.Module):
        super().__init__()
        self.critic = critic_features.eval()
        for parameter in self.critic.parameters():
            parameter.requires_grad_(False)

    def train(self, mode: bool = True) -> "PerceptualLoss":
        super().train(mode)
        self.critic.eval()  # frozen: its dropout/batch statistics never switch to training
        return self

    def forward(self, reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=reconstruction.device.type, enabled=False):
            with torch.no_grad():
                target_feats = torch.sigmoid(self.critic(target.float()))
            return F.mse_loss(torch.sigmoid(self.critic(reconstruction.float())), target_feats)
