"""A long fp16-autocast M-MAE run stays finite: every loss, every logged term and every parameter.

Lightning does no fp16 autocast on CPU, so the loop is written here: solo-learn's training_step under
``torch.autocast(device, float16)``, a GradScaler and AdamW, with the MAGMA term active from step 0 at the
paper's λ = 1. It runs on the GPU when there is one. A CPU without fp16 matrix units (the usual case)
emulates fp16 GEMMs about 100× slower than fp32, so the CPU run is shorter (80 steps of 4 real digits).
"""

import pytest
import torch
from torchvision.datasets import ImageFolder
from torchvision.transforms import Compose, Normalize, ToTensor

from solo_ext.launch.pretrain import build_model
from tests.integration.helpers import digits_config

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
STEPS, BATCH = (300, 16) if DEVICE == "cuda" else (80, 4)
DISTINCT_BATCHES = 16


def digit_batches(digits_dir, augmentation):
    """Solo-learn's batch format [indexes, [images], targets] over the first real training digits."""
    to_tensor = Compose([ToTensor(), Normalize(augmentation.mean, augmentation.std)])
    dataset = ImageFolder(str(digits_dir / "train"), to_tensor)
    batches = []
    for start in range(0, DISTINCT_BATCHES * BATCH, BATCH):
        indexes = torch.arange(start, start + BATCH)
        images, targets = zip(*(dataset[int(i)] for i in indexes))
        batches.append(
            [indexes.to(DEVICE), [torch.stack(images).to(DEVICE)], torch.tensor(targets).to(DEVICE)]
        )
    return batches


@pytest.mark.slow
def test_m_mae_trains_in_fp16_autocast_without_nan(digits_dir, tmp_path):
    active = ["++method_kwargs.magma.start_epoch=0", "++method_kwargs.magma.weight=1.0"]
    cfg = digits_config("m-mae", digits_dir, tmp_path, *active)
    cfg, model = build_model(cfg)
    model = model.to(DEVICE).train()
    batches = digit_batches(digits_dir, cfg.augmentations[0])

    logged = {}

    def record(
        name, value, *args, **kwargs
    ):  # there is no Trainer to log to; log_dict calls this per key
        logged[name] = float(torch.as_tensor(value).detach())

    model.log = record
    matmul_dtypes = set()
    qkv = model.backbone.blocks[0].attn.qkv
    qkv.register_forward_hook(lambda module, args, output: matmul_dtypes.add(output.dtype))
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.optimizer.lr, weight_decay=cfg.optimizer.weight_decay
    )
    scaler = torch.amp.GradScaler(DEVICE)

    reconstruction, skipped = [], []
    for step in range(STEPS):
        logged.clear()
        with torch.autocast(DEVICE, dtype=torch.float16):
            loss = model.training_step(batches[step % DISTINCT_BATCHES], step)
        assert loss.dtype == torch.float32 and torch.isfinite(loss), (step, loss)
        assert logged["train_magma_weight"] == 1.0 and logged["train_magma_loss"] > 0
        non_finite = {
            name: value for name, value in logged.items() if not torch.isfinite(torch.tensor(value))
        }
        assert not non_finite, (step, non_finite)
        reconstruction.append(logged["train_reconstruction_loss"])

        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scale = scaler.get_scale()
        scaler.step(optimizer)  # skipped when the fp16 gradients overflowed at this scale
        scaler.update()
        if scaler.get_scale() < scale:
            skipped.append(step)
        assert all(torch.isfinite(p).all() for p in model.parameters()), step

    assert matmul_dtypes == {torch.float16}  # the encoder's matmuls really ran in fp16
    # the scaler settles within its first halvings from 2^16; later overflows are the exception
    late = [step for step in skipped if step >= STEPS // 2]
    assert scaler.get_scale() >= 1.0 and len(late) <= 2, (scaler.get_scale(), skipped)
    assert sum(reconstruction[-10:]) < sum(reconstruction[:10])  # and the run learned something
