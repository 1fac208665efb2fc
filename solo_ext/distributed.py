"""Cross-process helpers that degrade to the identity in a single process (pure torch)."""

import torch
import torch.distributed as dist

__all__ = ["gather_with_grad", "process_rank"]


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def process_rank() -> int:
    """This process's rank in torch.distributed (0 outside it)."""
    return dist.get_rank() if _distributed() else 0


class _GatherWithGrad(torch.autograd.Function):
    """All-gather along dim 0 whose backward sums every rank's gradient of this rank's slice.

    Backward is one reduce-scatter (NCCL and gloo both have it); torch.distributed.nn's all_gather emulates it
    with all-to-all on gloo, which aborts processes at exit under torch 2.14.
    """

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.contiguous()
        gathered = tensor.new_empty((dist.get_world_size() * tensor.shape[0], *tensor.shape[1:]))
        dist.all_gather_into_tensor(gathered, tensor)
        return gathered

    @staticmethod
    def backward(ctx, grad_gathered: torch.Tensor) -> torch.Tensor:
        grad = grad_gathered.new_empty(
            (grad_gathered.shape[0] // dist.get_world_size(), *grad_gathered.shape[1:])
        )
        dist.reduce_scatter_tensor(grad, grad_gathered.contiguous())
        return grad


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """All-gathers ``tensor`` [B, ...] along dim 0 from every rank (rank order), keeping gradients to every
    rank's input: each input receives the sum over ranks of the gradient of its slice.

    Every rank must pass the same shape. Returns the input unchanged outside torch.distributed or with a single
    process.
    """
    if not _distributed() or dist.get_world_size() == 1:
        return tensor
    return _GatherWithGrad.apply(tensor)
