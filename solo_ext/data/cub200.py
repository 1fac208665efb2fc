"""CUB-200-2011 as a small-resolution transfer set (SMAE's 64-px CUB-200), as solo-learn `custom` ImageFolders.

    solo-ext data cub200 --src CUB_200_2011.tgz --out datasets/cub200-64 [--size 64]

``--src`` is the archive as distributed (``CUB_200_2011.tgz``, read as a stream, nothing extracted) or its
extracted ``CUB_200_2011/`` folder. Nothing is downloaded. The official split (``train_test_split.txt``)
gives ``OUT/train/<class>/`` (5,994 images) and ``OUT/val/<class>/`` (5,794); every image is resized so its
shorter side is ``size`` (bicubic) and centre-cropped to size × size, saved as PNG. ``OUT/stats.json`` holds
the train split's per-channel mean/std and the counts.
"""

import io
import json
import tarfile
from pathlib import Path
from typing import Dict, Iterator, Tuple

from PIL import Image

from solo_ext.data.folders import channel_mean_std, claim_output

__all__ = ["prepare_cub200", "SourceArchiveError"]

METADATA = ("images.txt", "image_class_labels.txt", "train_test_split.txt", "classes.txt")


class SourceArchiveError(FileNotFoundError):
    pass


def _table(text: str, name: str) -> Dict[str, str]:
    rows = {}
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.strip().partition(" ")
            if not value:
                raise SourceArchiveError(f"--src: {name} has a malformed line: {line!r}")
            rows[key] = value
    return rows


def _from_archive(src: Path) -> Tuple[Dict[str, str], Iterator[Tuple[str, bytes]]]:
    """Metadata texts (first streamed pass) and an iterator of (path below images/, bytes) (second pass)."""
    texts = {}
    with tarfile.open(src, "r|*") as archive:
        for member in archive:
            name = Path(member.name).name
            if member.isfile() and name in METADATA and len(Path(member.name).parts) <= 2:
                texts[name] = archive.extractfile(member).read().decode()

    def images():
        with tarfile.open(src, "r|*") as archive:
            for member in archive:
                parts = Path(member.name).parts
                if member.isfile() and "images" in parts[:2]:
                    relative = "/".join(parts[parts.index("images") + 1 :])
                    yield relative, archive.extractfile(member).read()

    return texts, images()


def _from_folder(src: Path) -> Tuple[Dict[str, str], Iterator[Tuple[str, bytes]]]:
    texts = {name: (src / name).read_text() for name in METADATA if (src / name).is_file()}
    root = src / "images"
    images = (
        (str(p.relative_to(root)).replace("\\", "/"), p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    )
    return texts, images


def _square(data: bytes, size: int) -> Image.Image:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    scale = size / min(image.size)
    width, height = max(size, round(image.width * scale)), max(size, round(image.height * scale))
    image = image.resize((width, height), Image.BICUBIC)
    left, top = (width - size) // 2, (height - size) // 2
    return image.crop((left, top, left + size, top + size))


def prepare_cub200(src, out, size: int = 64, overwrite: bool = False) -> dict:
    src, out = Path(src), Path(out)
    if size < 8:
        raise ValueError(f"--size: {size} is not allowed; expected a whole number >= 8")
    if src.is_file() and (src.name.endswith((".tgz", ".tar.gz", ".tar"))):
        texts, images = _from_archive(src)
    elif src.is_dir():
        texts, images = _from_folder(src)
    else:
        raise SourceArchiveError(
            f"--src: {src} is neither CUB_200_2011.tgz nor the extracted CUB_200_2011/ folder"
        )
    missing = [name for name in METADATA if name not in texts]
    if missing:
        raise SourceArchiveError(
            f"--src: {src} is not CUB-200-2011 ({', '.join(missing)} missing; expected "
            f"{', '.join(METADATA)} and images/<class>/*.jpg)"
        )
    paths = _table(texts["images.txt"], "images.txt")  # id -> <class>/<file>
    is_train = _table(texts["train_test_split.txt"], "train_test_split.txt")  # id -> 1 | 0
    split_of = {
        path: ("train" if is_train.get(image_id) == "1" else "val")
        for image_id, path in paths.items()
    }
    claim_output(out, overwrite, lambda name: name in ("train", "val", "stats.json"))

    counts, train_files = {"train": 0, "val": 0}, []
    for relative, data in images:
        split = split_of.get(relative)
        if split is None:
            continue  # not a listed image (e.g. a stray file)
        target = out / split / Path(relative).with_suffix(".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        _square(data, size).save(target)
        counts[split] += 1
        if split == "train":
            train_files.append(target)
    if counts["train"] + counts["val"] != len(paths):
        raise SourceArchiveError(
            f"--src: images.txt lists {len(paths)} images but {counts['train'] + counts['val']} were found"
        )
    stats = {
        **channel_mean_std(train_files),
        **counts,
        "classes": len(_table(texts["classes.txt"], "classes.txt")),
        "size": size,
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats
