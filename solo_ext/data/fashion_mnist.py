"""Fashion-MNIST from its four original idx files, as solo-learn `custom` ImageFolders.

    solo-ext data fashion-mnist --out data/fashion-mnist [--src DIR] [--size 32] [--train-per-class N]

Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, https://arxiv.org/abs/1708.07747): 70,000 real 28×28 grey
photographs of clothing in 10 classes. Nothing is downloaded: ``--src`` holds ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (gzipped with ``.gz``
or not), by default the Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``).

Writes ``OUT/train/<class>/<row>.png`` (the 60,000 train images) and ``OUT/val/<class>/<row>.png`` (the
10,000 t10k images): RGB PNGs (grey replicated to 3 channels) resized bicubically to ``size``, ``row`` being
the image's position in its idx file. Class folders carry the label as prefix (``0_tshirt_top`` ...
``9_ankle_boot``) so ImageFolder's alphabetical order is the label order. ``--train-per-class`` /
``--val-per-class`` keep a fixed-seed random subset of that many images per class. ``OUT/stats.json`` holds
the per-channel mean/std of the written train images in [0, 1], the counts (per class too), size and source.
"""

import gzip
import json
import zlib
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np
from PIL import Image

from solo_ext.data.folders import claim_output

__all__ = [
    "prepare_fashion_mnist",
    "read_idx",
    "per_class_subset",
    "CLASS_FOLDERS",
    "DEFAULT_SRC",
    "SUBSET_SEED",
]

# label order of the dataset's README; the digit prefix keeps ImageFolder's sorted order equal to it
CLASS_FOLDERS = (
    "0_tshirt_top",
    "1_trouser",
    "2_pullover",
    "3_dress",
    "4_coat",
    "5_sandal",
    "6_shirt",
    "7_sneaker",
    "8_bag",
    "9_ankle_boot",
)
DEFAULT_SRC = Path("/usr/share/datasets/fashion-mnist")
SUBSET_SEED = 0
SIDE = 28
IMAGES_MAGIC, LABELS_MAGIC = (
    2051,
    2049,
)  # 0x0803: unsigned bytes in 3 dims; 0x0801: unsigned bytes in 1 dim
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "val": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
INSTALL_HINT = (
    "install the Debian package (apt-get update && apt-get install -y dataset-fashion-mnist) or pass "
    "--src DIR holding the four idx files"
)


def _locate(src: Path, name: str) -> Path:
    for candidate in (src / f"{name}.gz", src / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"--src: {src} has no {name}.gz (or {name}); {INSTALL_HINT}")


def _read_bytes(path: Path) -> bytes:
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: not a readable gzip file ({err})") from None


def read_idx(path, magic: int) -> np.ndarray:
    """The uint8 array of an idx file (header: big-endian magic, then one uint32 per dimension)."""
    path = Path(path)
    data = _read_bytes(path)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated header ({len(data)} bytes, expected {header})")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(
            f"{path}: magic number {found}, expected {magic} (is it the right idx file?)"
        )
    shape = tuple(int(v) for v in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(data) - header != expected:
        raise ValueError(
            f"{path}: the header announces {'x'.join(map(str, shape))} = {expected} bytes of data, "
            f"the file holds {len(data) - header} (truncated or corrupt)"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def _load_split(src: Path, split: str) -> Tuple[np.ndarray, np.ndarray, Tuple[str, str]]:
    image_name, label_name = SPLIT_FILES[split]
    image_path, label_path = _locate(src, image_name), _locate(src, label_name)
    images, labels = read_idx(image_path, IMAGES_MAGIC), read_idx(label_path, LABELS_MAGIC)
    if len(images) == 0:
        raise ValueError(f"{image_path}: holds no images")
    if images.shape[1:] != (SIDE, SIDE):
        raise ValueError(
            f"{image_path}: images are {images.shape[1]}x{images.shape[2]}, expected {SIDE}x{SIDE}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{label_path}: {len(labels)} labels for the {len(images)} images of {image_path.name}"
        )
    if len(labels) and labels.max() >= len(CLASS_FOLDERS):
        row = int(np.argmax(labels >= len(CLASS_FOLDERS)))
        raise ValueError(
            f"{label_path}: label {labels[row]} at row {row} is outside 0..{len(CLASS_FOLDERS) - 1}"
        )
    return images, labels, (image_path.name, label_path.name)


def per_class_subset(
    labels: np.ndarray, per_class: Optional[int], seed: int = SUBSET_SEED, option: str = ""
) -> np.ndarray:
    """Sorted rows of ``per_class`` images per class drawn with ``seed`` (all rows when ``per_class`` is None)."""
    if per_class is None:
        return np.arange(len(labels))
    if per_class < 1:
        raise ValueError(f"{option}: {per_class} is not allowed; expected a whole number >= 1")
    rng = np.random.default_rng(seed)
    chosen = []
    for label, name in enumerate(CLASS_FOLDERS):
        rows = np.flatnonzero(labels == label)
        if per_class > len(rows):
            raise ValueError(
                f"{option}: {per_class} is more than the {len(rows)} images of class {name}"
            )
        chosen.append(rng.choice(rows, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def _resized(grey: np.ndarray, size: int) -> np.ndarray:
    if size == SIDE:
        return grey
    return np.asarray(Image.fromarray(grey).resize((size, size), Image.BICUBIC))


def prepare_fashion_mnist(
    out,
    src=DEFAULT_SRC,
    size: int = 32,
    train_per_class: Optional[int] = None,
    val_per_class: Optional[int] = None,
    overwrite: bool = False,
) -> dict:
    """Writes the ImageFolders and stats.json; every source file is checked before anything is written."""
    src, out = Path(src), Path(out)
    if size < 8:
        raise ValueError(f"--size: {size} is not allowed; expected a whole number >= 8")
    if not src.is_dir():
        raise FileNotFoundError(f"--src: {src} is not a folder; {INSTALL_HINT}")
    loaded = {split: _load_split(src, split) for split in SPLIT_FILES}
    rows = {
        "train": per_class_subset(loaded["train"][1], train_per_class, option="--train-per-class"),
        "val": per_class_subset(loaded["val"][1], val_per_class, option="--val-per-class"),
    }
    claim_output(out, overwrite, lambda name: name in ("train", "val", "stats.json"))

    total, total_sq, pixels = 0.0, 0.0, 0
    per_class: Dict[str, Dict[str, int]] = {}
    for split, (images, labels, _) in loaded.items():
        for name in CLASS_FOLDERS:
            (out / split / name).mkdir(parents=True, exist_ok=True)
        counts = np.bincount(labels[rows[split]], minlength=len(CLASS_FOLDERS))
        per_class[split] = {name: int(n) for name, n in zip(CLASS_FOLDERS, counts)}
        for row in rows[split]:
            grey = _resized(images[row], size)
            Image.fromarray(grey).convert("RGB").save(
                out / split / CLASS_FOLDERS[labels[row]] / f"{row:05d}.png"
            )
            if split == "train":
                values = grey.astype(np.float64) / 255.0
                total, total_sq, pixels = (
                    total + values.sum(),
                    total_sq + np.square(values).sum(),
                    pixels + values.size,
                )
    mean = float(total / pixels)
    std = float(np.sqrt(max(total_sq / pixels - mean**2, 0.0)))
    stats = {
        "mean": [round(mean, 4)] * 3,
        "std": [round(std, 4)] * 3,  # grey: the three channels are equal
        "train": int(len(rows["train"])),
        "val": int(len(rows["val"])),
        "size": size,
        "per_class": per_class,
        "subset": {
            "train_per_class": train_per_class,
            "val_per_class": val_per_class,
            "seed": SUBSET_SEED,
        },
        "source": {
            "folder": str(src.resolve()),
            "files": sorted(name for _, _, names in loaded.values() for name in names),
        },
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats
