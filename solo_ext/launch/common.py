"""Pieces shared by the pretrain and linear launchers: config checks, logger, callbacks, Trainer."""

import inspect
import math
import os

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.wandb import WandbLogger
from lightning.pytorch.strategies.ddp import DDPStrategy
from omegaconf import OmegaConf

from solo_ext.config import ConfigError
from solo_ext.launch.runs import (
    RunCheckpointer,
    claim_run_folder,
    find_resumable,
    resumable_checkpoint,
)

__all__ = ["check_devices", "check_batch_fits", "resume_point", "build_trainer"]


def check_devices(cfg) -> None:
    """``devices`` as solo-learn wants it, a list of device ids; a count (``devices=1``) or the quoted string
    solo-learn users type on CPU (``devices='1'``, ``'0,1'``) is turned into that list, as Lightning reads it."""
    devices = cfg.get("devices", None)
    if OmegaConf.is_list(devices) and len(devices) > 0:
        return
    text = str(devices).strip().strip(",")
    if isinstance(devices, (int, str)) and not isinstance(devices, bool) and text:
        parts = [part.strip() for part in text.split(",")]
        if all(part.isdigit() for part in parts):
            if "," in str(devices):
                cfg.devices = [
                    int(part) for part in parts
                ]  # Lightning: a comma-separated string lists ids
                return
            if int(parts[0]) > 0:
                cfg.devices = list(range(int(parts[0])))  # Lightning: a number counts devices
                return
    raise ConfigError(
        f"devices: {devices!r} is not allowed; expected a list of device ids (devices: [0]), "
        "a device count >= 1 (devices=1) or ids as a string (devices='0,1')"
    )


def check_batch_fits(cfg, train_loader) -> None:
    """Refuses an ``optimizer.batch_size`` that not one training step could fill.

    The training loaders drop the last incomplete batch (solo-learn's, and ours), and under DDP each device
    gets ceil(N / devices) images of the N; with fewer than a batch per device Lightning runs no step, writes
    no checkpoint and exits 0.
    """
    if train_loader is None or not train_loader.drop_last:
        return
    try:
        size = len(train_loader.dataset)
    except TypeError:  # an iterable dataset: its length is unknown before it runs
        return
    devices = len(cfg.devices) * int(cfg.get("num_nodes", 1) or 1)
    per_device = math.ceil(size / devices)
    batch_size = train_loader.batch_size
    if per_device < batch_size:
        spread = f", {per_device} per device over {devices} devices" if devices > 1 else ""
        raise ConfigError(
            f"optimizer.batch_size: {batch_size} is larger than the training set ({size} images in "
            f"{cfg.data.train_path}{spread}); the last incomplete batch is dropped, so no step would run; "
            f"allowed: <= {per_device}"
        )


def resume_point(cfg, checkpoint_subdir: str):
    """(ckpt_path, wandb_run_id) from `resume_from_checkpoint` or solo-learn's auto-resume.

    An explicit checkpoint that does not load is an error; auto-resume passes over such files with a warning.
    """
    if cfg.resume_from_checkpoint is not None:
        path = resumable_checkpoint(cfg.resume_from_checkpoint)
        del cfg.resume_from_checkpoint
        return path, None
    if cfg.auto_resume.enabled:
        path, run_id = find_resumable(os.path.join(cfg.checkpoint.dir, checkpoint_subdir), cfg)
        if path is not None:
            print(f"Resuming from previous checkpoint that matches specifications: '{path}'")
        return (None if path is None else str(path)), run_id
    return None, None


def build_trainer(
    cfg, model, checkpoint_subdir: str, wandb_run_id=None, extra_callbacks=(), ckpt_path=None
) -> Trainer:
    """A Lightning Trainer from the top-level yaml keys solo-learn forwards (max_epochs, devices, precision, ...).

    With checkpointing on, the run gets its own folder below ``checkpoint.dir/<checkpoint_subdir>`` (the folder
    of ``ckpt_path`` when resuming), and its logs (CSV, or wandb's files) are kept there too.
    """
    callbacks = list(extra_callbacks)
    run = None
    if cfg.checkpoint.enabled:
        run = claim_run_folder(
            os.path.join(cfg.checkpoint.dir, checkpoint_subdir), cfg.wandb.enabled, ckpt_path
        )
        callbacks.append(
            RunCheckpointer(
                cfg, run, frequency=cfg.checkpoint.frequency, keep_prev=cfg.checkpoint.keep_prev
            )
        )
    logger = None  # Lightning's default: lightning_logs/ of the working directory
    if cfg.wandb.enabled:
        logger = WandbLogger(
            name=cfg.name,
            project=cfg.wandb.project,
            entity=cfg.wandb.entity,
            offline=cfg.wandb.offline,
            resume="allow" if wandb_run_id or (run and run.resumed) else None,
            id=wandb_run_id or (run.run_id if run else None),
            save_dir=str(run.path) if run else ".",
        )
        logger.watch(model, log="gradients", log_freq=100)
        logger.log_hyperparams(OmegaConf.to_container(cfg))
        callbacks.append(LearningRateMonitor(logging_interval="step"))
    elif run is not None:  # logs/version_N: a resumed run adds a version, never replaces one
        logger = CSVLogger(save_dir=str(run.path), name="logs")

    settings = OmegaConf.to_container(cfg)
    accepted = inspect.signature(Trainer.__init__).parameters
    kwargs = {name: value for name, value in settings.items() if name in accepted}
    if str(cfg.get("accelerator", "")).lower() == "cpu":
        kwargs["devices"] = len(
            cfg.devices
        )  # Lightning counts CPU processes; solo-learn wants a list
    kwargs.update(
        logger=logger,
        callbacks=callbacks,
        enable_checkpointing=False,
        strategy=DDPStrategy(find_unused_parameters=False)
        if cfg.strategy == "ddp"
        else (cfg.strategy or "auto"),
    )
    return Trainer(**kwargs)
