"""Shared by the dataset preparation commands: output-folder safety and per-channel statistics."""

import shutil
from pathlib import Path
from typing import Callable, Dict, Iterable

import numpy as np
from PIL import Image

__all__ = ["channel_mean_std", "claim_output"]


def claim_output(out: Path, overwrite: bool, ours: Callable[[str], bool]) -> None:
    """Refuses a non-empty ``out`` unless ``overwrite``; then removes only the entries ``ours`` names."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out: {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"--out: {out} is not empty; pass --overwrite to replace what this command writes there"
            )
        for child in out.iterdir():
            if ours(child.name):
                shutil.rmtree(child) if child.is_dir() else child.unlink()


def channel_mean_std(paths: Iterable[Path]) -> Dict[str, list]:
    """Per-channel mean and std (population) of RGB images, in [0, 1], rounded to 4 decimals."""
    total, total_sq, count = np.zeros(3), np.zeros(3), 0
    for path in paths:
        pixels = (
            np.asarray(Image.open(path).convert("RGB"), dtype=np.float64).reshape(-1, 3) / 255.0
        )
        total += pixels.sum(0)
        total_sq += np.square(pixels).sum(0)
        count += len(pixels)
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    return {"mean": [round(float(v), 4) for v in mean], "std": [round(float(v), 4) for v in std]}
