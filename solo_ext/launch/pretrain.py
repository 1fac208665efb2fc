"""`solo-ext pretrain`: solo-learn's pretraining CLI (same Hydra yaml and overrides) for any method.

Differences from solo-learn's main_pretrain.py: the method class says how many large crops it takes,
`custom` datasets are validated at their own resolution and mean/std, and bad settings get a clear error.
"""

import os
import random

import numpy as np
import torch
from lightning.pytorch import Callback, seed_everything
from omegaconf import DictConfig, OmegaConf
from solo.args.pretrain import parse_cfg
from solo.data.classification_dataloader import prepare_data as prepare_classification_data
from solo.data.pretrain_dataloader import (
    FullTransformPipeline,
    NCropAugmentation,
    build_transform_pipeline,
    prepare_dataloader,
    prepare_datasets,
)
from solo.methods import METHODS
from solo.utils.misc import make_contiguous, omegaconf_select
from timm.data.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from solo_ext.config import ConfigError
from solo_ext.config.training import check_patch_size, check_training_keys
from solo_ext.data.frame_pairs import FramePairDataset
from solo_ext.launch.common import build_trainer, check_batch_fits, check_devices, resume_point
from solo_ext.launch.data import check_split_classes, custom_val_loader
from solo_ext.launch.data_checks import check_data_paths, name_failing_samples
from solo_ext.methods import accepts_large_crops

__all__ = ["pretrain", "build_model"]


def build_model(cfg: DictConfig):
    """Parses a pretraining config the way solo-learn does and builds its method, checking the crops."""
    OmegaConf.set_struct(cfg, False)
    check_devices(cfg)
    check_training_keys(cfg)
    check_patch_size(cfg)
    data = cfg.data
    unlabelled = bool(data.get("no_labels", False))
    data_paths = (
        data.dataset,
        data.get("format", "image_folder"),
        data.train_path,
        None if unlabelled and data.dataset == "custom" else data.get("val_path", None),
        "data.train_path",
        "data.val_path",
        not unlabelled,
    )
    try:
        cfg = parse_cfg(cfg)
    except (
        FileNotFoundError
    ):  # solo-learn lists the class folders of data.train_path: say which path is wrong
        check_data_paths(*data_paths)
        raise
    if cfg.method not in METHODS:
        raise ConfigError(f"method: {cfg.method!r} is unknown; allowed: {sorted(METHODS)}")
    method_cls = METHODS[cfg.method]
    if not accepts_large_crops(method_cls, cfg.data.num_large_crops):
        raise ConfigError(
            f"augmentations: method {cfg.method!r} cannot train with {cfg.data.num_large_crops} large crop(s) "
            f"(the sum of num_crops over augmentations at crop_size {cfg.augmentations[0].crop_size}); "
            f"allowed: {list(getattr(method_cls, 'LARGE_CROPS', [2]))[:8]}"
        )
    seed_everything(cfg.seed)
    model = method_cls(cfg)
    check_data_paths(*data_paths)  # after the method's own keys, before any data is read
    make_contiguous(model)
    if not cfg.performance.disable_channel_last:
        model = model.to(memory_format=torch.channels_last)
    return cfg, model


def _val_loader(cfg):
    if cfg.data.val_path is None or (cfg.data.dataset == "custom" and cfg.data.no_labels):
        return None
    if cfg.data.dataset == "custom":
        aug = cfg.augmentations[0]
        return custom_val_loader(
            cfg.data.val_path,
            crop_size=aug.crop_size,
            mean=omegaconf_select(aug, "mean", IMAGENET_DEFAULT_MEAN),
            std=omegaconf_select(aug, "std", IMAGENET_DEFAULT_STD),
            batch_size=cfg.optimizer.batch_size,
            num_workers=cfg.data.num_workers,
        )
    data_format = "image_folder" if cfg.data.format in ("dali", "video") else cfg.data.format
    _, loader = prepare_classification_data(
        cfg.data.dataset,
        train_data_path=cfg.data.train_path,
        val_data_path=cfg.data.val_path,
        data_format=data_format,
        batch_size=cfg.optimizer.batch_size,
        num_workers=cfg.data.num_workers,
    )
    return loader


def _train_data(cfg, val_loader):
    """(train_loader, datamodule): torchvision loaders, or solo-learn's DALI module (its batch format)."""
    if cfg.data.format == "dali":
        try:
            from solo.data.dali_dataloader import (
                PretrainDALIDataModule,
                build_transform_pipeline_dali,
            )
        except ImportError:
            raise ConfigError(
                "data.format: 'dali' needs NVIDIA DALI (pip install solo-learn[dali]); "
                "allowed without it: image_folder, h5"
            ) from None
        transform = FullTransformPipeline(
            [
                NCropAugmentation(
                    build_transform_pipeline_dali(
                        cfg.data.dataset, aug, dali_device=cfg.dali.device
                    ),
                    aug.num_crops,
                )
                for aug in cfg.augmentations
            ]
        )
        datamodule = PretrainDALIDataModule(
            dataset=cfg.data.dataset,
            train_data_path=cfg.data.train_path,
            transforms=transform,
            num_large_crops=cfg.data.num_large_crops,
            num_small_crops=cfg.data.num_small_crops,
            num_workers=cfg.data.num_workers,
            batch_size=cfg.optimizer.batch_size,
            no_labels=cfg.data.no_labels,
            data_fraction=cfg.data.fraction,
            dali_device=cfg.dali.device,
            encode_indexes_into_labels=cfg.dali.encode_indexes_into_labels,
        )
        datamodule.val_dataloader = lambda: val_loader
        return None, datamodule

    if cfg.data.format == "video":  # two frames of one clip are the two crops
        if cfg.data.fraction > 0:
            raise ConfigError(
                f"data.fraction: {cfg.data.fraction} is not supported with data.format: video; allowed: -1"
            )
        views = [
            build_transform_pipeline(cfg.data.dataset, aug)
            for aug in cfg.augmentations
            for _ in range(aug.num_crops)
        ]
        try:
            dataset = FramePairDataset(
                cfg.data.train_path, views, omegaconf_select(cfg, "data.max_frame_gap", 4)
            )
        except (ValueError, FileNotFoundError, ImportError) as err:
            raise ConfigError(str(err)) from None
        return prepare_dataloader(
            dataset, batch_size=cfg.optimizer.batch_size, num_workers=cfg.data.num_workers
        ), None

    transform = FullTransformPipeline(
        [
            NCropAugmentation(build_transform_pipeline(cfg.data.dataset, aug), aug.num_crops)
            for aug in cfg.augmentations
        ]
    )
    if cfg.debug_augmentations:
        print("Transforms:\n", transform)
    dataset = prepare_datasets(
        cfg.data.dataset,
        transform,
        train_data_path=cfg.data.train_path,
        data_format=cfg.data.format,
        no_labels=cfg.data.no_labels,
        data_fraction=cfg.data.fraction,
    )
    return prepare_dataloader(
        dataset, batch_size=cfg.optimizer.batch_size, num_workers=cfg.data.num_workers
    ), None


class RankSeed(Callback):
    """Under DDP, reseeds each rank with seed + global rank once the ranks exist (as MAE's reference code seeds).

    solo-learn seeds every rank alike, so without this every rank draws the same masks and augmentation
    parameters at every step. PL_GLOBAL_SEED is left alone: Lightning's DistributedSampler reads it and
    must shuffle alike on every rank to split the data.
    """

    def __init__(self, seed: int):
        self.seed = seed

    def setup(self, trainer, pl_module, stage: str) -> None:
        if trainer.world_size > 1:
            seed = self.seed + trainer.global_rank
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)  # every device's generator too


def _callbacks(cfg):
    callbacks = [RankSeed(cfg.seed)]
    if not omegaconf_select(cfg, "auto_umap.enabled", False):
        return callbacks
    try:
        from solo.utils.auto_umap import AutoUMAP
    except ImportError:
        raise ConfigError(
            "auto_umap.enabled: true needs solo-learn's [umap] extra (umap-learn, seaborn, pandas)"
        ) from None
    return callbacks + [
        AutoUMAP(
            cfg.name,
            logdir=os.path.join(cfg.auto_umap.dir, cfg.method),
            frequency=cfg.auto_umap.frequency,
        )
    ]


def pretrain(cfg: DictConfig):
    """Trains `cfg.method` as solo-learn's main_pretrain.py would; returns the fitted Trainer."""
    cfg, model = build_model(cfg)
    if not cfg.data.no_labels:  # the online classifier and kNN score val with train's class numbers
        check_split_classes(
            cfg.data.dataset,
            cfg.data.format,
            cfg.data.train_path,
            cfg.data.val_path,
            "data.val_path",
        )
    val_loader = _val_loader(cfg)
    train_loader, datamodule = _train_data(cfg, val_loader)
    name_failing_samples(train_loader, val_loader)
    check_batch_fits(cfg, train_loader)
    ckpt_path, wandb_run_id = resume_point(cfg, checkpoint_subdir=cfg.method)
    trainer = build_trainer(
        cfg, model, cfg.method, wandb_run_id, extra_callbacks=_callbacks(cfg), ckpt_path=ckpt_path
    )
    if datamodule is not None:
        trainer.fit(model, ckpt_path=ckpt_path, datamodule=datamodule)
    else:
        trainer.fit(model, train_loader, val_loader, ckpt_path=ckpt_path)
    return trainer
