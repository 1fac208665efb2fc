"""`solo-ext critic train`: SMAE's SqueezeNet-1.1 critic, trained from scratch, supervised, on an ImageFolder.

Paper settings (defaults): AdamW lr 1e-3, weight decay 0.15, betas (0.9, 0.999), batch 128, 10 linear
warm-up epochs then cosine, 200 epochs, RandAugment(2, 9), dropout 0.5. Images are resized to --size and
normalised with --mean/--std: use the statistics of the SMAE pretraining config, since the critic judges
reconstructions in that normalised space. Writes a checkpoint with the final validation top-1.
``--seed`` (default 0) seeds the weights, the shuffling and RandAugment: on CPU, the same command gives
the same critic.

    solo-ext critic train --data DIR --out critic.pt --size 64 --mean 0.4802 0.4481 0.3975 --std 0.2770 0.2691 0.2821
"""

import argparse
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import ImageFolder

from solo_ext.losses.perceptual import build_critic, save_critic

__all__ = ["train_critic", "main"]


def _loaders(data: Path, size: int, mean, std, batch: int, workers: int):
    normalise = [transforms.ToTensor(), transforms.Normalize(mean, std)]
    train_tf = transforms.Compose(
        [
            transforms.Resize((size, size)),
            transforms.RandomHorizontalFlip(),
            transforms.RandAugment(num_ops=2, magnitude=9),
            *normalise,
        ]
    )
    val_tf = transforms.Compose([transforms.Resize((size, size)), *normalise])
    for split in ("train", "val"):
        if not (data / split).is_dir():
            raise FileNotFoundError(
                f"--data: {data / split} is missing; expected ImageFolders {data}/train and {data}/val"
            )
    train, val = ImageFolder(str(data / "train"), train_tf), ImageFolder(str(data / "val"), val_tf)
    return (
        DataLoader(train, batch_size=batch, shuffle=True, drop_last=True, num_workers=workers),
        DataLoader(val, batch_size=batch, num_workers=workers),
        len(train.classes),
    )


@torch.no_grad()
def _top1(critic, loader, device) -> float:
    critic.eval()
    correct = total = 0
    for images, labels in loader:
        correct += (critic(images.to(device)).argmax(1).cpu() == labels).sum().item()
        total += len(labels)
    return 100.0 * correct / max(total, 1)


def train_critic(
    data,
    out,
    size=64,
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
    epochs=200,
    batch=128,
    lr=1e-3,
    weight_decay=0.15,
    warmup_epochs=10,
    workers=4,
    device=None,
    max_steps=None,
    overwrite=False,
    seed=0,
) -> float:
    """Trains the critic and writes ``out``; returns the validation top-1 (%)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"--out: {out} exists; pass --overwrite to replace it")
    torch.manual_seed(seed)  # the weights, the loader's shuffle and its workers, RandAugment
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    train_loader, val_loader, num_classes = _loaders(
        Path(data), size, list(mean), list(std), batch, workers
    )
    critic = build_critic(num_classes).to(device)
    optimizer = torch.optim.AdamW(
        critic.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.999)
    )
    total = epochs * len(train_loader)
    warmup = warmup_epochs * len(train_loader)
    schedule = lambda step: (
        (step + 1) / max(warmup, 1)
        if step < warmup
        else 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(total - warmup, 1)))
    )  # noqa: E731
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    step = 0
    for epoch in range(epochs):
        critic.train()
        for images, labels in train_loader:
            loss = F.cross_entropy(critic(images.to(device)), labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            if max_steps is not None and step >= max_steps:
                break
        print(f"epoch {epoch}: loss {loss.item():.3f}", flush=True)
        if max_steps is not None and step >= max_steps:
            break
    top1 = _top1(critic, val_loader, device)
    save_critic(
        out,
        critic.cpu(),
        num_classes,
        top1,
        size=size,
        mean=list(mean),
        std=list(std),
        epochs=epoch + 1,
    )
    print(f"critic top-1 {top1:.2f}% -> {out}")
    return top1


def main(argv) -> None:
    parser = argparse.ArgumentParser(
        prog="solo-ext critic", description="SMAE's perceptual critic."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser(
        "train", help="train SqueezeNet-1.1 from scratch on DATA/train, report top-1 on DATA/val"
    )
    train.add_argument("--data", required=True, help="folder with train/ and val/ ImageFolders")
    train.add_argument("--out", required=True)
    train.add_argument("--size", type=int, default=64)
    train.add_argument("--mean", type=float, nargs=3, default=[0.485, 0.456, 0.406])
    train.add_argument("--std", type=float, nargs=3, default=[0.229, 0.224, 0.225])
    train.add_argument("--epochs", type=int, default=200)
    train.add_argument("--batch", type=int, default=128)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--weight_decay", type=float, default=0.15)
    train.add_argument("--warmup_epochs", type=int, default=10)
    train.add_argument("--workers", type=int, default=4)
    train.add_argument("--device", default=None)
    train.add_argument(
        "--seed", type=int, default=0, help="seeds weights, shuffling and RandAugment (default 0)"
    )
    train.add_argument("--overwrite", action="store_true")
    args = vars(parser.parse_args(argv))
    args.pop("command")
    train_critic(**args)
