"""Cross-process helpers that degrade to the identity in a single process (pure torch)."""

import torch
import torch.distributed as dist

__all__ = ["gather_with_grad", "process_rank"]


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def process_rank() -> int:
    """This process's rank in torch.distributed (0 outside it)."""
    return dist.get_rank() if _distributed() else 0


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """All-gathers ``tensor`` [B, ...] along dim 0 from every rank, keeping gradients to every rank's input.

    Returns the input unchanged outside torch.distributed or with a single process.
    """
    if not _distributed() or dist.get_world_size() == 1:
        return tensor
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(tensor), dim=0)
