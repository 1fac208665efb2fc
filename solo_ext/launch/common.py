"""Pieces shared by the pretrain and linear launchers: config checks, logger, callbacks, Trainer."""

import inspect
import os

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers.wandb import WandbLogger
from lightning.pytorch.strategies.ddp import DDPStrategy
from omegaconf import OmegaConf
from solo.utils.auto_resumer import AutoResumer
from solo.utils.checkpointer import Checkpointer

from solo_ext.config import ConfigError

__all__ = ["check_devices", "resume_point", "build_trainer"]


def check_devices(cfg) -> None:
    devices = cfg.get("devices", None)
    if not OmegaConf.is_list(devices) or not devices:
        raise ConfigError(f"devices: {devices!r} is not allowed; solo-learn expects a list of device ids, e.g. devices: [0]")


def resume_point(cfg, checkpoint_subdir: str):
    """(ckpt_path, wandb_run_id) from `resume_from_checkpoint` or solo-learn's auto-resume."""
    if cfg.resume_from_checkpoint is not None:
        path = cfg.resume_from_checkpoint
        if not os.path.isfile(path):
            raise ConfigError(f"resume_from_checkpoint: {path!r} is not a file")
        del cfg.resume_from_checkpoint
        return path, None
    if cfg.auto_resume.enabled:
        resumer = AutoResumer(
            checkpoint_dir=os.path.join(cfg.checkpoint.dir, checkpoint_subdir), max_hours=cfg.auto_resume.max_hours
        )
        path, run_id = resumer.find_checkpoint(cfg)
        if path is not None:
            print(f"Resuming from previous checkpoint that matches specifications: '{path}'")
        return path, run_id
    return None, None


def build_trainer(cfg, model, checkpoint_subdir: str, wandb_run_id=None, extra_callbacks=()) -> Trainer:
    """A Lightning Trainer from the top-level yaml keys solo-learn forwards (max_epochs, devices, precision, ...)."""
    callbacks = list(extra_callbacks)
    if cfg.checkpoint.enabled:
        callbacks.append(
            Checkpointer(
                cfg,
                logdir=os.path.join(cfg.checkpoint.dir, checkpoint_subdir),
                frequency=cfg.checkpoint.frequency,
                keep_prev=cfg.checkpoint.keep_prev,
            )
        )
    logger = None
    if cfg.wandb.enabled:
        logger = WandbLogger(
            name=cfg.name,
            project=cfg.wandb.project,
            entity=cfg.wandb.entity,
            offline=cfg.wandb.offline,
            resume="allow" if wandb_run_id else None,
            id=wandb_run_id,
        )
        logger.watch(model, log="gradients", log_freq=100)
        logger.log_hyperparams(OmegaConf.to_container(cfg))
        callbacks.append(LearningRateMonitor(logging_interval="step"))

    settings = OmegaConf.to_container(cfg)
    accepted = inspect.signature(Trainer.__init__).parameters
    kwargs = {name: value for name, value in settings.items() if name in accepted}
    if str(cfg.get("accelerator", "")).lower() == "cpu":
        kwargs["devices"] = len(cfg.devices)  # Lightning counts CPU processes; solo-learn wants a list
    kwargs.update(
        logger=logger,
        callbacks=callbacks,
        enable_checkpointing=False,
        strategy=DDPStrategy(find_unused_parameters=False) if cfg.strategy == "ddp" else (cfg.strategy or "auto"),
    )
    return Trainer(**kwargs)
