"""Evaluation-time data: every dataset at its own resolution and normalisation.

solo-learn hard-wires `custom` datasets to 224 px and ImageNet statistics for validation and linear
evaluation; here a custom dataset is evaluated at the crop size and mean/std its config declares.
"""

from typing import Sequence, Tuple

from timm.data.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import ImageFolder

from solo_ext.config import ConfigError

__all__ = ["eval_transform", "train_transform", "custom_loaders", "custom_val_loader"]


def eval_transform(crop_size: int, mean: Sequence[float], std: Sequence[float]):
    """Shorter side to ``crop_size``, centre crop, normalise: the whole image at the trained resolution."""
    return transforms.Compose(
        [
            transforms.Resize(crop_size),
            transforms.CenterCrop(crop_size),
            transforms.ToTensor(),
            transforms.Normalize(mean=list(mean), std=list(std)),
        ]
    )


def train_transform(crop_size: int, mean: Sequence[float], std: Sequence[float]):
    """The linear-probe training augmentation of solo-learn (random resized crop + flip) at ``crop_size``."""
    return transforms.Compose(
        [
            transforms.RandomResizedCrop(crop_size, scale=(0.08, 1.0)),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(mean=list(mean), std=list(std)),
        ]
    )


def _image_folder(path, transform, key: str) -> ImageFolder:
    try:
        return ImageFolder(str(path), transform)
    except (FileNotFoundError, NotADirectoryError) as err:
        raise ConfigError(f"{key}: {path!r} is not an image folder with one sub-folder per class ({err})") from None


def custom_val_loader(val_path, crop_size, mean, std, batch_size: int, num_workers: int) -> DataLoader:
    dataset = _image_folder(val_path, eval_transform(crop_size, mean, std), "data.val_path")
    return DataLoader(dataset, batch_size=batch_size, num_workers=num_workers, shuffle=False, drop_last=False)


def custom_loaders(cfg, augment: bool = True) -> Tuple[DataLoader, DataLoader]:
    """Train/val loaders of a `custom` ImageFolder dataset for linear or kNN evaluation."""
    aug = cfg.data.get("augmentations", {}) or {}
    crop_size = int(aug.get("crop_size", 224))
    mean = aug.get("mean", IMAGENET_DEFAULT_MEAN)
    std = aug.get("std", IMAGENET_DEFAULT_STD)
    make = train_transform if augment else eval_transform
    train = _image_folder(cfg.data.train_path, make(crop_size, mean, std), "data.train_path")
    batch_size, workers = cfg.optimizer.batch_size, cfg.data.num_workers
    train_loader = DataLoader(train, batch_size=batch_size, num_workers=workers, shuffle=augment, drop_last=augment)
    val_loader = custom_val_loader(cfg.data.val_path, crop_size, mean, std, batch_size, workers)
    return train_loader, val_loader
