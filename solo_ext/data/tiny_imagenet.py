"""Tiny-ImageNet-200 as solo-learn `custom` ImageFolders (nothing is downloaded: give the extracted archive).

    solo-ext data tiny-imagenet --src tiny-imagenet-200 --out datasets/tiny-imagenet [--copy] [--fraction 0.01 0.05 0.1]

Writes OUT/train/<wnid>/ (symbolic links to the source images, or copies with --copy), OUT/val/<wnid>/
rebuilt from val/val_annotations.txt, OUT/stats.json with the per-channel mean/std of the train split, and
for each --fraction f a per-class subset OUT/train_<f·100>pct/<wnid>/ of round(f · n) images per class
(at least 1), chosen with a fixed seed (MAGMA's Table 3 uses 1%, 5% and 10%).
"""

import json
import os
import shutil
from pathlib import Path
from typing import Dict, Iterable, List

import numpy as np

from solo_ext.data.folders import channel_mean_std, claim_output

__all__ = ["prepare_tiny_imagenet", "fraction_subsets", "SourceFolderError"]

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")


class SourceFolderError(FileNotFoundError):
    pass


def _images(folder: Path) -> List[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _place(source: Path, target: Path, copy: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if copy:
        shutil.copy2(source, target)
    else:
        os.symlink(source.resolve(), target)


def _check_source(src: Path) -> List[str]:
    wnids_file, train, annotations = (
        src / "wnids.txt",
        src / "train",
        src / "val" / "val_annotations.txt",
    )
    for needed in (wnids_file, train, annotations):
        if not needed.exists():
            raise SourceFolderError(
                f"--src: {src} is not an extracted tiny-imagenet-200 folder ({needed.relative_to(src)} is missing; "
                "expected wnids.txt, train/<wnid>/images/, val/images/ and val/val_annotations.txt)"
            )
    return [line.strip() for line in wnids_file.read_text().splitlines() if line.strip()]


def fraction_subsets(
    train: Path, out: Path, fractions: Iterable[float], copy: bool = False, seed: int = 0
) -> Dict[float, int]:
    """Per-class subsets of an ImageFolder ``train``: round(f · n) images per class (>= 1), fixed seed."""
    written = {}
    for fraction in fractions:
        if not 0 < fraction < 1:
            raise ValueError(f"--fraction: {fraction} is not allowed; expected numbers in (0, 1)")
        subset = out / f"train_{fraction * 100:g}pct"
        if subset.exists():
            raise FileExistsError(f"--out: {subset} exists; remove it or pass --overwrite")
        rng = np.random.default_rng(seed)
        total = 0
        for class_dir in sorted(p for p in train.iterdir() if p.is_dir()):
            images = _images(class_dir)
            keep = max(1, int(round(fraction * len(images))))
            for index in sorted(rng.choice(len(images), size=keep, replace=False)):
                _place(images[index].resolve(), subset / class_dir.name / images[index].name, copy)
            total += keep
        written[fraction] = total
    return written


def prepare_tiny_imagenet(
    src, out, copy: bool = False, fractions: Iterable[float] = (), overwrite: bool = False
) -> dict:
    src, out = Path(src), Path(out)
    wnids = _check_source(src)
    claim_output(
        out,
        overwrite,
        lambda name: name in ("train", "val", "stats.json") or name.startswith("train_"),
    )
    counts = {"train": 0, "val": 0}
    train_images = []
    for wnid in wnids:
        folder = src / "train" / wnid / "images"
        if not folder.is_dir():
            raise SourceFolderError(f"--src: {folder} is missing (listed in wnids.txt)")
        for image in _images(folder):
            _place(image, out / "train" / wnid / image.name, copy)
            train_images.append(image)
            counts["train"] += 1
    known = set(wnids)
    for line in (src / "val" / "val_annotations.txt").read_text().splitlines():
        if not line.strip():
            continue
        name, wnid = line.split("\t")[:2]
        if wnid not in known:
            raise SourceFolderError(
                f"--src: val_annotations.txt names {wnid!r}, which is not in wnids.txt"
            )
        image = src / "val" / "images" / name
        if not image.is_file():
            raise SourceFolderError(f"--src: {image} is listed in val_annotations.txt but missing")
        _place(image, out / "val" / wnid / name, copy)
        counts["val"] += 1
    stats = {**channel_mean_std(train_images), **counts, "classes": len(wnids)}
    if fractions:
        stats["fractions"] = {
            f"{f:g}": n for f, n in fraction_subsets(out / "train", out, fractions, copy).items()
        }
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats
