"""Checks of the top-level training keys the launchers read (pure python + omegaconf, no solo-learn).

solo-learn reads ``max_epochs`` and ``optimizer.batch_size`` as they come: ``max_epochs=0`` ends in a
ZeroDivisionError inside the scheduler, a batch size of 0 in the DataLoader, and a ViT patch size that does
not divide the image in a bare assert at the first training step. These run before anything is built.
"""

from typing import Optional

from omegaconf import OmegaConf

from solo_ext.config.fields import ConfigError, Field, to_plain

__all__ = ["MAX_EPOCHS", "BATCH_SIZE", "check_training_keys", "check_patch_size", "vit_patch_size"]

MAX_EPOCHS = Field("max_epochs", "int", low=1, doc="epochs to train")
BATCH_SIZE = Field("batch_size", "int", low=1, doc="images per device and step")

# what solo-learn's and solo-ext's ViT constructors use when backbone.kwargs has no patch_size
_DEFAULT_PATCH = {"vit_lite": 4}
_VIT_DEFAULT_PATCH = 16


def check_training_keys(cfg) -> None:
    """``max_epochs`` and ``optimizer.batch_size``: whole numbers >= 1."""
    MAX_EPOCHS.check(OmegaConf.select(cfg, "max_epochs"), "max_epochs")
    BATCH_SIZE.check(OmegaConf.select(cfg, "optimizer.batch_size"), "optimizer.batch_size")


def vit_patch_size(backbone) -> Optional[int]:
    """The patch size of a ViT ``backbone`` config ({name, kwargs}), None for other backbones."""
    backbone = to_plain(backbone) or {}
    name = str(backbone.get("name", ""))
    if not name.startswith("vit"):
        return None
    kwargs = backbone.get("kwargs") or {}
    return kwargs.get("patch_size", _DEFAULT_PATCH.get(name, _VIT_DEFAULT_PATCH))


def check_patch_size(cfg) -> None:
    """A ViT's patch size divides its image size (``backbone.kwargs.img_size``) and every crop it is given."""
    backbone = to_plain(OmegaConf.select(cfg, "backbone")) or {}
    patch = vit_patch_size(backbone)
    if patch is None:
        return
    if not isinstance(patch, int) or isinstance(patch, bool) or patch < 1:
        raise ConfigError(
            f"backbone.kwargs.patch_size: {patch!r} is not allowed; expected a whole number >= 1"
        )
    sizes = []
    img_size = (backbone.get("kwargs") or {}).get("img_size")
    if img_size is not None:
        sizes.append(("backbone.kwargs.img_size", img_size))
    for i, aug in enumerate(to_plain(OmegaConf.select(cfg, "augmentations")) or []):
        if isinstance(aug, dict) and isinstance(aug.get("crop_size"), int):
            sizes.append((f"augmentations[{i}].crop_size", aug["crop_size"]))
    for key, size in sizes:
        if isinstance(size, int) and size % patch:
            fits = [p for p in range(1, size + 1) if size % p == 0 and p >= 2]
            raise ConfigError(
                f"backbone.kwargs.patch_size: {patch} does not divide {key} = {size}, so the image cannot be "
                f"cut into whole patches; allowed: a divisor of {size} (e.g. {fits[:6]}) or another {key}"
            )
