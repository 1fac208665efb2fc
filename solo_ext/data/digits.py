"""scikit-learn's embedded handwritten digits (1,797 real 8×8 images, no download) as an ImageFolder.

Writes ``OUT/train/<digit>/<index>.png`` and ``OUT/val/<digit>/<index>.png``: 32×32 RGB PNGs (bicubic
upsampling, grey replicated to 3 channels) with a fixed stratified 80/20 split, ``index`` being the image's
row in ``load_digits()``. Also writes ``OUT/stats.json`` with the per-channel mean/std of the train split.
"""

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["export_digits", "DIGITS_SIZE", "DIGITS_VAL_FRACTION", "DIGITS_SEED"]

DIGITS_SIZE = 32
DIGITS_VAL_FRACTION = 0.2
DIGITS_SEED = 0


class OutputNotEmptyError(FileExistsError):
    pass


def _to_image(pixels_8x8: np.ndarray) -> Image.Image:
    grey = Image.fromarray(np.round(pixels_8x8 * (255.0 / 16.0)).astype(np.uint8), mode="L")
    return grey.resize((DIGITS_SIZE, DIGITS_SIZE), Image.BICUBIC).convert("RGB")


def export_digits(out, overwrite: bool = False) -> dict:
    """Writes the split; refuses a non-empty ``out`` unless ``overwrite`` (then only train/ and val/ are replaced)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputNotEmptyError(f"--out: {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise OutputNotEmptyError(
                f"--out: {out} is not empty; pass --overwrite to replace its train/ and val/"
            )
        for split in ("train", "val"):
            shutil.rmtree(out / split, ignore_errors=True)

    digits = load_digits()
    indexes = np.arange(len(digits.target))
    train_idx, val_idx = train_test_split(
        indexes, test_size=DIGITS_VAL_FRACTION, stratify=digits.target, random_state=DIGITS_SEED
    )
    counts = {}
    train_pixels = []
    for split, split_idx in (("train", sorted(train_idx)), ("val", sorted(val_idx))):
        for i in split_idx:
            label = int(digits.target[i])
            folder = out / split / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            image = _to_image(digits.images[i])
            image.save(folder / f"{i:04d}.png")
            if split == "train":
                train_pixels.append(np.asarray(image, dtype=np.float64)[..., 0] / 255.0)
        counts[split] = len(split_idx)
    pixels = np.stack(train_pixels)
    stats = {
        "mean": [round(float(pixels.mean()), 4)] * 3,
        "std": [round(float(pixels.std()), 4)] * 3,
        **counts,
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats
