"""Data checked before training starts, and samples that name their file when they fail to load.

What is cheap to check is checked before a model is built: the data folders exist and every class folder
holds an image; cifar/stl10 archives are there or can be downloaded. A damaged image can only be found by
reading it, so the datasets' loaders are wrapped: a sample that fails raises SampleLoadError naming its file
(mid-epoch, in a DataLoader worker or not) instead of PIL's error without a path.
"""

import os
from pathlib import Path
from typing import Optional

from torchvision.datasets.folder import IMG_EXTENSIONS

from solo_ext.config import ConfigError

__all__ = [
    "SampleLoadError",
    "check_image_folder",
    "check_torchvision_download",
    "check_data_paths",
    "check_eval_batch_size",
    "name_failing_samples",
]

TORCHVISION_ARCHIVES = ("cifar10", "cifar100", "stl10")


class SampleLoadError(RuntimeError):
    """A training or validation sample whose file does not load; the message names the file."""

    @property
    def one_line(self) -> str:
        """The message, also when a DataLoader worker re-raised it inside its traceback text."""
        lines = [line for line in str(self).splitlines() if line.strip()]
        last = lines[-1] if lines else type(self).__name__
        return last.split(f"{type(self).__name__}: ", 1)[-1]


def _has_image(folder: Path) -> bool:
    for root, _, files in os.walk(folder, followlinks=True):
        if any(name.lower().endswith(IMG_EXTENSIONS) for name in files):
            return True
    return False


def check_image_folder(path, key: str, labelled: bool = True) -> None:
    """``path`` is a folder of class folders (``labelled``) or of images, none of them without an image."""
    if path is None or str(path) == "":
        raise ConfigError(f"{key}: missing; expected the path of an image folder")
    folder = Path(str(path))
    if not folder.exists():
        raise ConfigError(
            f"{key}: {str(path)!r} does not exist (relative paths are read from the working "
            f"directory, {os.getcwd()})"
        )
    if not folder.is_dir():
        raise ConfigError(
            f"{key}: {str(path)!r} is not a folder; expected one sub-folder per class"
        )
    if not labelled:
        if not _has_image(folder):
            raise ConfigError(f"{key}: {str(path)!r} holds no image ({', '.join(IMG_EXTENSIONS)})")
        return
    classes = sorted(entry for entry in folder.iterdir() if entry.is_dir())
    if not classes:
        raise ConfigError(
            f"{key}: {str(path)!r} holds no class folder; expected one sub-folder per class "
            "with its images (e.g. train/0/img.png, train/1/img.png)"
        )
    empty = [entry.name for entry in classes if not _has_image(entry)]
    if empty:
        raise ConfigError(
            f"{key}: class folder(s) {empty[:5]} of {str(path)!r} hold no image "
            f"({', '.join(IMG_EXTENSIONS)}); add images or remove the folder(s)"
        )


def check_torchvision_download(dataset: str, path, key: str) -> None:
    """A cifar/stl10 archive is in ``path``, or can be downloaded there now (as solo-learn would)."""
    from torchvision import datasets

    cls = {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100, "stl10": datasets.STL10}[
        dataset
    ]
    root = str(path if path is not None else ".")
    probe = cls.__new__(cls)
    probe.root = root
    if probe._check_integrity():
        return
    try:
        probe.download()
    except Exception as err:  # noqa: BLE001 - urllib, ssl, socket and http errors alike mean "no download"
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise ConfigError(
            f"{key}: {root!r} holds no {dataset} ({cls.base_folder}/) and downloading it failed ({reason}); "
            f"download {cls.url} on a machine with network and extract it into {root!r} "
            f"(so that {os.path.join(root, cls.base_folder)} exists), then rerun"
        ) from None


def check_data_paths(
    dataset: str,
    data_format: str,
    train_path,
    val_path,
    train_key: str,
    val_key: str,
    labelled: bool = True,
) -> None:
    """The data a launcher will read, before a model is built (``val_path`` None: no validation)."""
    if dataset in TORCHVISION_ARCHIVES:
        check_torchvision_download(dataset, train_path, train_key)
        if val_path is not None and str(val_path) != str(train_path):
            check_torchvision_download(dataset, val_path, val_key)
        return
    if data_format == "h5":
        for path, key in ((train_path, train_key), (val_path, val_key)):
            if path is not None and not Path(str(path)).is_file():
                raise ConfigError(f"{key}: {str(path)!r} is not a file; expected an .h5 file")
        return
    if data_format not in ("image_folder", "dali"):
        return  # video clips are checked by their own dataset
    check_image_folder(train_path, train_key, labelled)
    if val_path is not None:
        check_image_folder(val_path, val_key, labelled=True)


def check_eval_batch_size(batch_size, key: str = "--batch_size") -> None:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ConfigError(f"{key}: {batch_size!r} is not allowed; expected a whole number >= 1")


class NamedLoader:
    """A dataset's image loader whose failures name the file (picklable, for DataLoader workers)."""

    def __init__(self, load):
        self.load = load

    def __call__(self, path):
        try:
            return self.load(path)
        except Exception as err:  # noqa: BLE001 - PIL raises OSError, SyntaxError, ValueError, ...
            reason = (str(err).splitlines() or [type(err).__name__])[0]
            raise SampleLoadError(
                f"{path}: does not load as an image ({type(err).__name__}: {reason}); "
                "replace or remove the file"
            ) from None


def _name_unlabelled(dataset) -> None:
    from solo.data.pretrain_dataloader import CustomDatasetWithoutLabels

    class NamedDatasetWithoutLabels(CustomDatasetWithoutLabels):
        def __getitem__(self, index):
            try:
                return super().__getitem__(index)
            except Exception as err:  # noqa: BLE001
                path = self.root / self.images[index]
                reason = (str(err).splitlines() or [type(err).__name__])[0]
                raise SampleLoadError(
                    f"{path}: does not load as an image ({type(err).__name__}: {reason}); "
                    "replace or remove the file"
                ) from None

    dataset.__class__ = NamedDatasetWithoutLabels


def name_failing_samples(*sources) -> None:
    """Wraps the image loading of the datasets behind ``sources`` (DataLoaders, Subsets, datasets, None)."""
    seen = set()
    stack = list(sources)
    while stack:
        obj: Optional[object] = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if callable(getattr(obj, "loader", None)) and hasattr(obj, "samples"):
            if not isinstance(obj.loader, NamedLoader):
                obj.loader = NamedLoader(obj.loader)
        elif type(obj).__name__ == "CustomDatasetWithoutLabels":
            _name_unlabelled(obj)
        stack.extend(getattr(obj, "datasets", None) or [])
        stack.append(getattr(obj, "dataset", None))
