"""Evaluation-time data: every dataset at its own resolution and normalisation.

solo-learn hard-wires `custom` datasets to 224 px and ImageNet statistics for validation and linear
evaluation; here a custom dataset is evaluated at the crop size and mean/std its config declares.
"""

import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from timm.data.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import ImageFolder

from solo_ext.config import ConfigError, Field

__all__ = [
    "FOLDER_DATASETS",
    "PROBE_AUGMENTATION",
    "available_cores",
    "check_class_folders",
    "check_split_classes",
    "class_folders",
    "eval_transform",
    "train_transform",
    "custom_loaders",
    "custom_val_loader",
]

# solo-learn datasets read from ImageFolders (train/val class folders); cifar/stl10 are archives
FOLDER_DATASETS = ("custom", "imagenet", "imagenet100")


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, as taskset/cgroups set it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def class_folders(path) -> List[str]:
    """The class names ImageFolder reads from ``path``: its sub-folders, sorted."""
    return sorted(entry.name for entry in os.scandir(path) if entry.is_dir())


def check_class_folders(
    train_path, val_path, key: str, classes: Optional[Sequence[str]] = None
) -> None:
    """Refuses a val folder whose class folders differ from the train folder's.

    ImageFolder numbers classes by their sorted folder names, each folder on its own, so a class
    missing from (or added to) val shifts every later label and the accuracy is silently wrong.
    With ``classes`` only those train classes must be in val (`solo-ext analyze` looks at a
    subset). Folders that are not directories are left to the loaders, which name them.
    """
    if not (Path(train_path).is_dir() and Path(val_path).is_dir()):
        return
    train, val = class_folders(train_path), class_folders(val_path)
    wanted = list(train if classes is None else classes)
    missing = [name for name in wanted if name not in val]
    extra = [] if classes is not None else [name for name in val if name not in train]
    if not (missing or extra):
        return
    found = [f"missing in val: {missing}"] if missing else []
    found += [f"only in val: {extra}"] if extra else []
    if classes is None:
        expected = (
            "the same class folders in both (ImageFolder numbers the classes of each folder by "
            "their "
            "sorted names, so the labels would not match)"
        )
    else:
        expected = "val to hold these train classes"
    raise ConfigError(
        f"{key}: the class folders of {str(val_path)!r} differ from those of {str(train_path)!r} "
        f"({'; '.join(found)}); expected {expected}"
    )


def eval_transform(crop_size: int, mean: Sequence[float], std: Sequence[float]):
    """Shorter side to ``crop_size``, centre crop, normalise: the whole image, trained size."""
    return transforms.Compose(
        [
            transforms.Resize(crop_size),
            transforms.CenterCrop(crop_size),
            transforms.ToTensor(),
            transforms.Normalize(mean=list(mean), std=list(std)),
        ]
    )


def train_transform(
    crop_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    min_scale: float = 0.08,
    flip: float = 0.5,
):
    """The linear-probe training augmentation: random resized crop (area ``min_scale``-1) + flip,
    probability ``flip`` at ``crop_size``; the defaults are solo-learn's (ImageNet's)."""
    return transforms.Compose(
        [
            transforms.RandomResizedCrop(crop_size, scale=(min_scale, 1.0)),
            transforms.RandomHorizontalFlip(flip),
            transforms.ToTensor(),
            transforms.Normalize(mean=list(mean), std=list(std)),
        ]
    )


# data.augmentations keys of a linear config for `custom` data beyond crop_size/mean/std: digits
# are not mirror-symmetric and 8x8 sources do not survive 8 % crops
PROBE_AUGMENTATION = (
    Field(
        "crop_min_scale",
        "number",
        0.08,
        low=0,
        high=1,
        low_open=True,
        doc="smallest crop area of the probe",
    ),
    Field(
        "horizontal_flip_prob", "number", 0.5, low=0, high=1, doc="probability of a horizontal flip"
    ),
)


def check_split_classes(dataset: str, data_format: str, train_path, val_path, key: str) -> None:
    """``check_class_folders`` for the datasets and formats that read ImageFolders."""
    if (
        dataset in FOLDER_DATASETS
        and data_format in ("image_folder", "dali")
        and train_path
        and val_path
    ):
        check_class_folders(train_path, val_path, key)


def _image_folder(path, transform, key: str) -> ImageFolder:
    try:
        return ImageFolder(str(path), transform)
    except (FileNotFoundError, NotADirectoryError) as err:
        raise ConfigError(
            f"{key}: {path!r} is not an image folder with one sub-folder per class ({err})"
        ) from None


def custom_val_loader(
    val_path, crop_size, mean, std, batch_size: int, num_workers: int
) -> DataLoader:
    dataset = _image_folder(val_path, eval_transform(crop_size, mean, std), "data.val_path")
    return DataLoader(
        dataset, batch_size=batch_size, num_workers=num_workers, shuffle=False, drop_last=False
    )


def custom_loaders(cfg, augment: bool = True) -> Tuple[DataLoader, DataLoader]:
    """Train/val loaders of a `custom` ImageFolder dataset for linear or kNN evaluation."""
    aug = cfg.data.get("augmentations", {}) or {}
    crop_size = int(aug.get("crop_size", 224))
    mean = aug.get("mean", IMAGENET_DEFAULT_MEAN)
    std = aug.get("std", IMAGENET_DEFAULT_STD)
    if augment:
        min_scale, flip = (
            field.check(aug.get(field.name, field.default), f"data.augmentations.{field.name}")
            for field in PROBE_AUGMENTATION
        )
        transform = train_transform(crop_size, mean, std, min_scale, flip)
    else:
        transform = eval_transform(crop_size, mean, std)
    train = _image_folder(cfg.data.train_path, transform, "data.train_path")
    batch_size, workers = cfg.optimizer.batch_size, cfg.data.num_workers
    train_loader = DataLoader(
        train, batch_size=batch_size, num_workers=workers, shuffle=augment, drop_last=augment
    )
    val_loader = custom_val_loader(cfg.data.val_path, crop_size, mean, std, batch_size, workers)
    return train_loader, val_loader
