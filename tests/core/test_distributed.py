"""gather_with_grad + magma_loss over 2 CPU processes (gloo) equals one process over the whole batch."""

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from solo_ext.distributed import gather_with_grad
from solo_ext.losses import magma_loss

WORLD = 2


def full_batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, 5, generator=g), torch.randn(8, 3, generator=g)


def worker(rank, init_file, out_dir):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        x, y = (t.chunk(WORLD)[rank].clone().requires_grad_(True) for t in full_batch())
        loss = magma_loss(gather_with_grad(x), gather_with_grad(y))
        loss.backward()
        torch.save(
            {"loss": loss.detach(), "gx": x.grad, "gy": y.grad},
            os.path.join(out_dir, f"rank{rank}.pt"),
        )
    finally:
        dist.destroy_process_group()


def test_identity_without_process_group():
    t = torch.randn(3, 2)
    assert gather_with_grad(t) is t


@pytest.mark.ddp
def test_two_process_graph_equals_concatenated_batch(tmp_path):
    mp.spawn(worker, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=WORLD, join=True)
    x, y = (t.clone().requires_grad_(True) for t in full_batch())
    expected = magma_loss(x, y)
    expected.backward()
    for rank in range(WORLD):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert torch.allclose(got["loss"], expected.detach(), rtol=1e-5)
        # every rank back-propagates the same global loss: its inputs receive WORLD x their share, which
        # DDP's gradient averaging brings back to the single-process gradient
        assert torch.allclose(got["gx"], WORLD * x.grad.chunk(WORLD)[rank], rtol=1e-4, atol=1e-6)
        assert torch.allclose(got["gy"], WORLD * y.grad.chunk(WORLD)[rank], rtol=1e-4, atol=1e-6)
