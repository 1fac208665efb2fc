"""Writes zoo_configs/ from the papers' tables below: one place to read and change the settings.

    python -m dev.zoo --out zoo_configs      # rewrites the generated yaml files

Which presets exist, and what each adds to its recipe's method_kwargs, is declared by the methods' specs
(``MethodSpec.presets`` in solo_ext/config/specs.py; the hosts' own presets are ``HOST_PRESETS``), and so
are a method's own evaluation protocols (``MethodSpec.probes``: linear probes, fine-tuning, transfer).
This module holds the recipes: the training settings per dataset that every preset of a recipe shares,
and how its models are evaluated on each dataset (``RECIPES``), besides every dataset's linear probe. The
yaml files only override the methods' defaults (solo_ext.config / solo-learn); every pair of a baseline
and its variant shares all settings but what the variant's paper adds. A test checks that the committed
zoo equals this module's output.
"""

import argparse
import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import yaml

from solo_ext.config.specs import HOSTS, SPECS, Preset, Probe

HYDRA_HEADER = {
    "defaults": None,  # filled per file
    "hydra": {"output_subdir": None, "run": {"dir": "."}},
}
HYDRA_DEFAULTS_TAIL = [
    {"override hydra/hydra_logging": "disabled"},
    {"override hydra/job_logging": "disabled"},
]


def _cpu_quickstart(
    folder: str, epochs: int, mean: float, std: float, flip: float, min_scale: float
) -> dict:
    """A CPU-sized dataset of grey 32-px images: ViT-Tiny/8, batch 64, fp32, small decoder and projectors,
    classifier lr 1e-2, a 256-pattern ColorMAE bank (generated at start-up in < 1 s). MAGMA's schedule is shrunk
    to ``epochs``: the regulariser starts after a third of them, at weight 0.1 (lambda = 1 this early collapses
    the tiny ViT's features)."""
    start = round(epochs / 3)
    return dict(
        dataset="custom",
        train_path=f"./data/{folder}/train",
        val_path=f"./data/{folder}/val",
        crop=32,
        patch=8,
        mae=dict(
            backbone="vit_tiny",
            epochs=epochs,
            batch=64,
            lr=1.0e-3,
            start_epoch=start,
            magma_weight=0.1,
            decoder=(128, 2, 4),
        ),
        ssl=dict(
            epochs=epochs,
            batch=64,
            start_epoch=start,
            magma_weight=0.1,
            proj_hidden_dim=512,
            proj_output_dim={"simclr": 128, "vicreg": 512},
        ),
        mean=[mean] * 3,
        std=[std] * 3,
        precision=32,
        accelerator="cpu",
        classifier_lr=1.0e-2,
        flip=flip,
        min_scale=min_scale,
        colormae=dict(num_patterns=256, pattern_size=64),
    )


# MAGMA supplement: per-dataset settings. lr is the yaml value (solo-learn scales it by batch/256).
# The ViT-Tiny decoder size is not given by the paper: we use 256-d, 4 blocks, 8 heads.
DATASETS = {
    "cifar100": dict(
        dataset="cifar100",
        train_path="./datasets",
        val_path="./datasets",
        crop=32,
        patch=4,
        mae=dict(backbone="vit_tiny", epochs=2000, batch=256, lr=1.5e-4, start_epoch=60),
        ssl=dict(epochs=1000),
        mean=None,
        std=None,
        precision="16-mixed",
        accelerator="gpu",
    ),
    "stl10": dict(
        dataset="stl10",
        train_path="./datasets",
        val_path="./datasets",
        crop=96,
        patch=12,
        mae=dict(backbone="vit_tiny", epochs=800, batch=512, lr=3.0e-4, start_epoch=10),
        ssl=dict(epochs=1000),
        mean=None,
        std=None,
        precision="16-mixed",
        accelerator="gpu",
    ),
    "tiny-imagenet": dict(
        dataset="custom",
        train_path="./datasets/tiny-imagenet/train",
        val_path="./datasets/tiny-imagenet/val",
        crop=64,
        patch=8,
        mae=dict(backbone="vit_tiny", epochs=800, batch=512, lr=1.0e-3, start_epoch=10),
        ssl=dict(epochs=1000),
        mean=[0.4802, 0.4481, 0.3975],
        std=[0.2770, 0.2691, 0.2821],
        precision="16-mixed",
        accelerator="gpu",
    ),
    "imagenet100": dict(
        dataset="imagenet100",
        train_path="./datasets/imagenet-100/train",
        val_path="./datasets/imagenet-100/val",
        crop=224,
        patch=16,
        mae=dict(backbone="vit_base", epochs=400, batch=256, lr=1.5e-4, start_epoch=10),
        ssl=dict(epochs=200),
        mean=None,
        std=None,
        precision="16-mixed",
        accelerator="gpu",
    ),
    # ColorMAE only (its paper's dataset): ViT-B/16 at 224, 300 epochs; batch per device
    "imagenet": dict(
        dataset="imagenet",
        train_path="./datasets/imagenet/train",
        val_path="./datasets/imagenet/val",
        crop=224,
        patch=16,
        presets=("mae", "colormae"),  # of the mae and ssl recipes
        mae=dict(backbone="vit_base", epochs=300, batch=256, lr=1.5e-4, start_epoch=10),
        ssl=None,
        mean=None,
        std=None,
        precision="16-mixed",
        accelerator="gpu",
    ),
    # CPU quickstart on scikit-learn's embedded digits (solo-ext data digits --out ./data/digits). Digits are not
    # mirror-symmetric: no flips; 8x8 sources: milder crops
    # Its linear probe standardises the features (head_batchnorm, MAE's probe: the frozen ViT's features sit on
    # a large common offset) and trains on the pretraining's crops without flips, not on solo-learn's 8 % crops
    # and flips (docs/evaluation.md)
    "digits": {
        **_cpu_quickstart("digits", epochs=15, mean=0.3094, std=0.3488, flip=0.0, min_scale=0.5),
        "linear": dict(head_batchnorm=True),
        "linear_augmentation": dict(crop_min_scale=0.5, horizontal_flip_prob=0.0),
    },
    # Fashion-MNIST on CPU (solo-ext data fashion-mnist --out ./data/fashion-mnist): real photographs, 60k train /
    # 10k val. mean/std: the 60k train images as written at 32 px (bicubic). Flips keep every label (garments are
    # near mirror-symmetric; a flipped shoe points the other way and is still a shoe). Crops down to 20% of the
    # area: 8% of a 28-px garment is an 8x8-pixel patch of cloth.
    "fashion-mnist": _cpu_quickstart(
        "fashion-mnist", epochs=20, mean=0.2878, std=0.3459, flip=0.5, min_scale=0.2
    ),
}
# MAGMA's SimCLR/VICReg family on the paper's datasets: batch 256, lr 1e-3 (yaml), e_st 10
SSL_DEFAULTS = dict(batch=256, lr=1.0e-3, start_epoch=10)

# the solo-learn methods' own presets; each solo-ext method declares its own in its spec
HOST_PRESETS = (
    Preset("mae", "mae", method="mae"),
    Preset("simclr", "ssl", method="simclr"),
    Preset("vicreg", "ssl", method="vicreg"),
)


def zoo_presets() -> List[Tuple[str, Preset]]:
    """(yaml method, preset) of the hosts' presets and of every spec's, in the specs' order."""
    found = [(preset.method, preset) for preset in HOST_PRESETS]
    for spec in SPECS.values():
        found += [(preset.method or spec.name, preset) for preset in spec.presets]
    stems = [preset.stem for _, preset in found]
    twice = sorted({stem for stem in stems if stems.count(stem) > 1})
    if twice:
        raise ValueError(f"zoo presets named twice: {twice}; each preset needs its own stem")
    return found


def _host(method: str) -> str:
    return method if method in HOSTS else SPECS[method].host


def _add(method_kwargs: dict, preset: Preset, section_values: Mapping) -> dict:
    """The recipe's method_kwargs plus the preset's: a section's dict is completed with the dataset's
    values of that section (``section_values``), any other key set as the preset gives it."""
    for key, value in preset.method_kwargs.items():
        if isinstance(value, Mapping):
            value = {**value, **section_values.get(key, {})}
        method_kwargs[key] = copy.deepcopy(value)
    return method_kwargs


SSL_KWARGS = {
    "simclr": {"proj_hidden_dim": 2048, "proj_output_dim": 256, "temperature": 0.2},
    "vicreg": {
        "proj_hidden_dim": 2048,
        "proj_output_dim": 2048,
        "sim_loss_weight": 25.0,
        "var_loss_weight": 25.0,
        "cov_loss_weight": 1.0,
    },
}


def _augmentation(
    crop,
    mean,
    std,
    num_crops,
    colour: bool,
    solarization: float = 0.0,
    blur: float = 0.0,
    flip: float = 0.5,
    min_scale=0.08,
):
    aug = {
        "rrc": {"enabled": True, "crop_min_scale": min_scale, "crop_max_scale": 1.0},
        "color_jitter": {
            "prob": 0.8,
            "brightness": 0.4,
            "contrast": 0.4,
            "saturation": 0.2,
            "hue": 0.1,
        }
        if colour
        else {"prob": 0.0},
        "grayscale": {"prob": 0.2 if colour else 0.0},
        "gaussian_blur": {"prob": blur},
        "solarization": {"prob": solarization},
        "equalization": {"prob": 0.0},
        "horizontal_flip": {"prob": flip},
        "crop_size": crop,
        "num_crops": num_crops,
    }
    if mean is not None:
        aug["mean"], aug["std"] = list(mean), list(std)
    return aug


def augmentations(name: str, spec: dict) -> dict:
    crop, mean, std = spec["crop"], spec["mean"], spec["std"]
    min_scale = spec.get(
        "min_scale", 0.2 if name == "imagenet" else 0.08
    )  # imagenet: ColorMAE's RRC
    blur = 0.0 if crop <= 64 else 0.5
    kw = dict(flip=spec.get("flip", 0.5), min_scale=min_scale)
    return {
        "reconstruction.yaml": [_augmentation(crop, mean, std, 1, colour=False, **kw)],
        "symmetric.yaml": [_augmentation(crop, mean, std, 2, colour=True, blur=blur, **kw)],
        "asymmetric.yaml": [
            _augmentation(crop, mean, std, 1, colour=True, blur=blur, **kw),
            _augmentation(
                crop, mean, std, 1, colour=True, blur=0.1 * (blur > 0), solarization=0.2, **kw
            ),
        ],
    }


PRETRAIN_ORDER = [
    "defaults",
    "hydra",
    "name",
    "method",
    "backbone",
    "method_kwargs",
    "data",
    "optimizer",
    "scheduler",
    "checkpoint",
    "auto_resume",
    "knn_eval",
    "performance",
    "max_epochs",
    "accumulate_grad_batches",
    "devices",
    "sync_batchnorm",
    "accelerator",
    "strategy",
    "precision",
]


def _in_solo_learn_order(cfg: dict) -> dict:
    """Top-level keys in the order solo-learn's own yaml files use."""
    return {key: cfg[key] for key in PRETRAIN_ORDER if key in cfg}


def _run_settings(spec: dict, epochs: int) -> dict:
    """Checkpointing and the Lightning keys solo-learn forwards to the Trainer."""
    cpu = spec["accelerator"] == "cpu"
    settings = dict(
        checkpoint={"enabled": True, "dir": "trained_models", "frequency": 1},
        auto_resume={"enabled": False},
        max_epochs=epochs,
        devices=[0],
        accelerator=spec["accelerator"],
        strategy="auto" if cpu else "ddp",
        precision=spec["precision"],
    )
    if cpu:  # channels_last only pays off on GPUs
        settings["performance"] = {"disable_channel_last": True}
    return settings


def _common(name: str, spec: dict, epochs: int, augmentation: str) -> dict:
    cpu = spec["accelerator"] == "cpu"
    cfg = copy.deepcopy(HYDRA_HEADER)
    cfg["defaults"] = [
        "_self_",
        {"augmentations": augmentation},
        {"wandb": "offline.yaml"},
        *HYDRA_DEFAULTS_TAIL,
    ]
    cfg.update(
        data={
            "dataset": spec["dataset"],
            "train_path": spec["train_path"],
            "val_path": spec["val_path"],
            "format": "image_folder",
            "num_workers": 2 if cpu else 4,
        },
        scheduler={
            "name": "warmup_cosine",
            "warmup_epochs": 2 if cpu else 10,
            "warmup_start_lr": 3.0e-5,
        },
        knn_eval={"enabled": True, "k": 10, "distance_func": "euclidean"},
        sync_batchnorm=not cpu,
        **_run_settings(spec, epochs),
    )
    return cfg


def pretrain_config(name: str, spec: dict, method: str, preset: Preset) -> dict:
    """A preset of the ``mae`` or ``ssl`` recipe (MAGMA's supplement) on dataset ``name``."""
    file_name = preset.stem
    if preset.recipe == "mae":
        mae = spec["mae"]
        cfg = _common(name, spec, mae["epochs"], "reconstruction.yaml")
        big = mae["backbone"] == "vit_base"
        dim, depth, heads = mae.get("decoder", (512, 8, 16) if big else (256, 4, 8))
        kwargs = {
            "decoder_embed_dim": dim,
            "decoder_depth": depth,
            "decoder_num_heads": heads,
            "mask_ratio": 0.75,
            "norm_pix_loss": big,
        }
        lr, backbone = mae["lr"], mae["backbone"]
        batch, start_epoch = mae["batch"], mae["start_epoch"]
        magma = (
            {"weight": mae["magma_weight"], "start_epoch": start_epoch}
            if "magma_weight" in mae
            else {"start_epoch": start_epoch}
        )
    else:
        host = _host(method)
        ssl = {**SSL_DEFAULTS, **spec["ssl"]}
        cfg = _common(
            name, spec, ssl["epochs"], "symmetric.yaml" if host == "simclr" else "asymmetric.yaml"
        )
        kwargs = dict(SSL_KWARGS[host])
        if "proj_hidden_dim" in ssl:
            kwargs["proj_hidden_dim"] = ssl["proj_hidden_dim"]
            kwargs["proj_output_dim"] = ssl["proj_output_dim"][host]
        lr, backbone = ssl["lr"], "vit_tiny"
        batch, start_epoch = ssl["batch"], ssl["start_epoch"]
        magma = (
            {"weight": ssl["magma_weight"], "start_epoch": start_epoch}
            if "magma_weight" in ssl
            else {"start_epoch": start_epoch}
        )
    _add(kwargs, preset, {"magma": magma, "colormae": spec.get("colormae", {})})
    cfg.update(
        name=f"{file_name}-{name}",
        method=method,
        backbone={
            "name": backbone,
            "kwargs": {"patch_size": spec["patch"], "img_size": spec["crop"]},
        },
        method_kwargs=kwargs,
        optimizer={
            "name": "adamw",
            "batch_size": batch,
            "lr": lr,
            "classifier_lr": spec.get("classifier_lr", 2.0e-4),
            "weight_decay": 0.05,
            "kwargs": {"betas": [0.9, 0.95]},
        },
    )
    return _in_solo_learn_order(cfg)


def linear_config(name: str, spec: dict) -> dict:
    """MAGMA's protocol: frozen encoder, SGD lr 0.1, ×0.1 at epochs 60 and 80, 100 epochs, batch 256."""
    cpu = spec["accelerator"] == "cpu"
    cfg = copy.deepcopy(HYDRA_HEADER)
    cfg["defaults"] = ["_self_", {"wandb": "offline.yaml"}, *HYDRA_DEFAULTS_TAIL]
    data = {
        "dataset": spec["dataset"],
        "train_path": spec["train_path"],
        "val_path": spec["val_path"],
        "format": "image_folder",
        "num_workers": 2 if cpu else 4,
    }
    if spec["dataset"] == "custom":
        data["augmentations"] = {
            "crop_size": spec["crop"],
            "mean": list(spec["mean"]),
            "std": list(spec["std"]),
        }
    epochs = 10 if cpu else 100
    cfg.update(
        name=f"linear-{name}",
        pretrained_feature_extractor="???",
        data=data,
        optimizer={"name": "sgd", "batch_size": 64 if cpu else 256, "lr": 0.1, "weight_decay": 0.0},
        scheduler={"name": "step", "lr_decay_steps": [int(epochs * 0.6), int(epochs * 0.8)]},
        **_run_settings(spec, epochs),
    )
    return cfg


# SMAE (paper Table 6): ViT-Lite 7/4 at 64 px, batch 128, AdamW lr 5e-4, wd 0.15, betas (0.9, 0.95), 20 warm-up
# epochs, 400 epochs, no augmentation. solo-learn's MAE decoder has MLP ratio 4 (the paper's decoder: 2).
# The paper's learning rates hold at batch 128 and its code scales them linearly (`lr = 5e-4 * batch_size / 128`);
# solo-learn multiplies the yaml lr by batch/256, so the yaml holds the lr per 256 images (SMAE_LR_BATCH).
SMAE_LR_BATCH = 128


def smae_yaml_lr(paper_lr: float) -> float:
    """The yaml lr that solo-learn turns into ``paper_lr`` × batch / 128, the SMAE code's rule."""
    return paper_lr * 256 / SMAE_LR_BATCH


SMAE_DATASETS = {
    "tiny-imagenet": dict(
        patch=4,
        crop=64,
        epochs=400,
        warmup=20,
        batch=128,
        critic="./critics/tiny-imagenet-squeezenet1_1.pt",
    ),
    # CPU versions: the 32-px images upsampled to 64 px, patch 8 (an 8x8 grid), critic from
    # `solo-ext critic train --size 64`
    "digits": dict(
        patch=8, crop=64, epochs=15, warmup=2, batch=64, critic="./critics/digits-squeezenet1_1.pt"
    ),
    "fashion-mnist": dict(
        patch=8,
        crop=64,
        epochs=20,
        warmup=2,
        batch=64,
        critic="./critics/fashion-mnist-squeezenet1_1.pt",
    ),
}


def smae_config(name: str, method: str, preset: Preset) -> dict:
    """A preset of the ``smae`` recipe (SMAE's Table 6) on dataset ``name``."""
    spec, smae = DATASETS[name], SMAE_DATASETS[name]
    file_name = preset.stem
    cfg = _common(name, spec, smae["epochs"], "smae-none.yaml")
    cfg["scheduler"]["warmup_epochs"] = smae["warmup"]
    method_kwargs = {
        "decoder_embed_dim": 128,
        "decoder_depth": 2,
        "decoder_num_heads": 4,
        "mask_ratio": 0.75,
        "norm_pix_loss": False,
    }
    _add(method_kwargs, preset, {"smae": {"critic": smae["critic"]}})
    cfg.update(
        name=f"{file_name}-{name}",
        method=method,
        backbone={
            "name": "vit_lite",
            "kwargs": {"patch_size": smae["patch"], "img_size": smae["crop"]},
        },
        method_kwargs=method_kwargs,
        optimizer={
            "name": "adamw",
            "batch_size": smae["batch"],
            "lr": smae_yaml_lr(5.0e-4),
            "classifier_lr": spec.get("classifier_lr", 2.0e-4),
            "weight_decay": 0.15,
            "kwargs": {"betas": [0.9, 0.95]},
        },
    )
    return _in_solo_learn_order(cfg)


# ViC-MAE: AdamW base lr 1.5e-4 (x batch/256), wd 0.05 (none on biases and norms: the code's timm parameter groups,
# solo-learn's exclude_bias_n_norm_wd), betas (0.9, 0.95), 40 warm-up epochs, 800 epochs, mask 0.5, norm_pix_loss.
# "vicmae" = the official code (NT-Xent T 0.1, projector D-4096-4096-128, w_rec 0.97 / w_con 0.03 from epoch 0,
# BYOL-style colour augmentations, blur on view 1 only) with its cross-GPU positive bug fixed; "vicmae-paper" = the
# supplement (CLIP-style loss, projector D-2D-2D-2D, w_con 0.025 from epoch 200, crop scale 0.5-1 + flip, no colour).
# ImageNet(-100) on one node as the official code: 8 GPUs x 128 images x 4 accumulated steps = 4096 per update.
# solo-learn scales the yaml lr by the per-step batch (128 x 8 / 256 = 4), so lr 6e-4 gives the paper's
# 1.5e-4 x 4096 / 256 = 2.4e-3. CIFAR-100 uses ViT-Tiny/4 on one GPU (our choice; the paper trains ViT-B on IN-1K),
# with the code preset's projector at 2048 hidden (code_hidden) as our SimCLR/VICReg ViT-Tiny configs: 4096 is
# 21x a ViT-Tiny's width and 3x its parameters; the paper preset keeps D-2D-2D-2D.
VICMAE_DATASETS = {
    "imagenet": dict(
        backbone="vit_base",
        decoder=(512, 8, 16),
        epochs=800,
        warmup=40,
        batch=128,
        gpus=8,
        accumulate=4,
        lr=6.0e-4,
        paper_start=200,
    ),
    "imagenet100": dict(
        backbone="vit_base",
        decoder=(512, 8, 16),
        epochs=800,
        warmup=40,
        batch=128,
        gpus=8,
        accumulate=4,
        lr=6.0e-4,
        paper_start=200,
    ),
    "cifar100": dict(
        backbone="vit_tiny",
        decoder=(256, 4, 8),
        epochs=800,
        warmup=40,
        batch=128,
        gpus=1,
        accumulate=1,
        lr=1.5e-4,
        paper_start=200,
        code_hidden=2048,
    ),
    "digits": dict(
        backbone="vit_tiny",
        decoder=(128, 2, 4),
        epochs=15,
        warmup=2,
        batch=64,
        gpus=1,
        accumulate=1,
        lr=1.0e-3,
        paper_start=5,
        code_hidden=512,
    ),
    "fashion-mnist": dict(
        backbone="vit_tiny",
        decoder=(128, 2, 4),
        epochs=20,
        warmup=2,
        batch=64,
        gpus=1,
        accumulate=1,
        lr=1.0e-3,
        paper_start=7,
        code_hidden=512,
    ),
}
# The presets (ViC-MAE's spec): "vicmae" (variant code), "vicmae-paper" (variant paper) and "vicmae-mae", the code
# preset with the contrastive term off (w_rec 1, w_con 0): the same two augmented views, masks, decoder,
# optimiser and schedule, so that comparing it with "vicmae" isolates what the paper adds (a two-view MAE is not
# the single-view "mae" preset). A variant's views are augmentations/vicmae-<variant>.yaml; the paper variant
# switches the contrastive term on at the dataset's paper_start, the code variant's projector is code_hidden wide.


def vicmae_augmentations(name: str) -> dict:
    spec = DATASETS[name]
    crop, mean, std = spec["crop"], spec["mean"], spec["std"]
    flip = spec.get("flip", 0.5)
    blur = 0.0 if crop <= 64 else 1.0
    return {
        "vicmae-code.yaml": [
            _augmentation(crop, mean, std, 1, colour=True, blur=blur, flip=flip, min_scale=0.08),
            _augmentation(
                crop, mean, std, 1, colour=True, solarization=0.2, flip=flip, min_scale=0.08
            ),  # no blur
        ],
        "vicmae-paper.yaml": [
            _augmentation(crop, mean, std, 2, colour=False, flip=flip, min_scale=0.5)
        ],
    }


def vicmae_config(name: str, method: str, preset: Preset) -> dict:
    """A preset of the ``vicmae`` recipe (ViC-MAE's official settings) on dataset ``name``."""
    spec, vic = DATASETS[name], VICMAE_DATASETS[name]
    file_name = preset.stem
    cfg = _common(name, spec, vic["epochs"], f"vicmae-{preset.variant}.yaml")
    cfg["scheduler"]["warmup_epochs"] = vic["warmup"]
    dim, depth, heads = vic["decoder"]
    if preset.variant == "paper":
        dataset_values = {"con_start_epoch": vic["paper_start"]}
    else:
        dataset_values = {"proj_hidden_dim": vic["code_hidden"]} if "code_hidden" in vic else {}
    method_kwargs = {
        "decoder_embed_dim": dim,
        "decoder_depth": depth,
        "decoder_num_heads": heads,
        "mask_ratio": 0.5,
        "norm_pix_loss": True,
    }
    _add(method_kwargs, preset, {"vicmae": dataset_values})
    cfg.update(
        name=f"{file_name}-{name}",
        method=method,
        backbone={
            "name": vic["backbone"],
            "kwargs": {"patch_size": spec["patch"], "img_size": spec["crop"]},
        },
        method_kwargs=method_kwargs,
        optimizer={
            "name": "adamw",
            "batch_size": vic["batch"],
            "lr": vic["lr"],
            "classifier_lr": spec.get("classifier_lr", 2.0e-4),
            "weight_decay": 0.05,
            "exclude_bias_n_norm_wd": True,
            "kwargs": {"betas": [0.9, 0.95]},
        },
        devices=list(range(vic["gpus"])),
    )
    if vic["accumulate"] > 1:
        cfg["accumulate_grad_batches"] = vic["accumulate"]
    return _in_solo_learn_order(cfg)


def smae_augmentations(name: str) -> dict:
    """SMAE trains without augmentation: the whole image at the recipe's crop size, no flips."""
    spec, smae = DATASETS[name], SMAE_DATASETS[name]
    none = _augmentation(smae["crop"], spec["mean"], spec["std"], 1, colour=False, flip=0.0)
    none["rrc"] = {"enabled": False, "crop_min_scale": 1.0, "crop_max_scale": 1.0}
    return {"smae-none.yaml": [none]}


WANDB = {"enabled": False, "offline": True, "entity": None, "project": "solo-ext"}


class Evaluation(NamedTuple):
    """How a recipe's models are evaluated on one dataset (read by the methods' probes): the crop size
    (None: the dataset's), the batch per device (None: the probe gives it), the rule from a paper's lr to
    the yaml's, and the probes' epochs on a CPU dataset."""

    crop: Optional[int] = None
    batch: Optional[int] = None
    lr: Callable[[float], float] = float
    cpu_epochs: int = 10


class Recipe(NamedTuple):
    """The datasets a recipe has settings for, the builder of one preset's pretraining config
    (dataset, yaml method, preset), the augmentation files it writes per dataset, and how its models are
    evaluated."""

    datasets: Callable[[], List[str]]
    build: Callable[[str, str, Preset], dict]
    augmentations: Callable[[str], Dict[str, list]]
    evaluation: Callable[[str], Evaluation]


def _magma_recipe(datasets: Callable[[], List[str]]) -> Recipe:
    return Recipe(
        datasets,
        lambda name, method, preset: pretrain_config(name, DATASETS[name], method, preset),
        lambda name: augmentations(name, DATASETS[name]),
        lambda name: Evaluation(),
    )


RECIPES = {
    "mae": _magma_recipe(lambda: list(DATASETS)),
    "ssl": _magma_recipe(lambda: [name for name, d in DATASETS.items() if d["ssl"] is not None]),
    "smae": Recipe(
        lambda: list(SMAE_DATASETS),
        smae_config,
        smae_augmentations,
        # at the pretraining's images and batch, the code's lr per 128 images; 5 epochs on CPU
        lambda name: Evaluation(
            SMAE_DATASETS[name]["crop"], SMAE_DATASETS[name]["batch"], smae_yaml_lr, cpu_epochs=5
        ),
    ),
    "vicmae": Recipe(
        lambda: list(VICMAE_DATASETS),
        vicmae_config,
        vicmae_augmentations,
        lambda name: Evaluation(),
    ),
}

# datasets that models are only evaluated on (a probe's transfer): the paths of their images
TRANSFER_DATASETS = {
    "cub200": dict(train_path="./datasets/cub200-64/train", val_path="./datasets/cub200-64/val"),
}


def _recipe(stem: str, recipe: str) -> Recipe:
    if recipe not in RECIPES:
        raise ValueError(
            f"preset {stem!r}: recipe {recipe!r} is unknown; allowed: {sorted(RECIPES)}"
        )
    return RECIPES[recipe]


def pretrain_presets() -> Dict[str, Dict[str, dict]]:
    """{dataset: {preset stem: pretraining config}} of every zoo preset."""
    configs: Dict[str, Dict[str, dict]] = {name: {} for name in DATASETS}
    for method, preset in zoo_presets():
        recipe = _recipe(preset.stem, preset.recipe)
        for name in recipe.datasets():
            only = DATASETS[name].get("presets")
            if preset.recipe in ("mae", "ssl") and only is not None and preset.stem not in only:
                continue
            configs[name][preset.stem] = recipe.build(name, method, preset)
    return configs


def probe_config(
    name: str, probe: Probe, label: str = "", images: Optional[Mapping] = None
) -> dict:
    """A method's probe (``MethodSpec.probes``) of its models pretrained on dataset ``name``: that
    dataset's linear probe with the probe's protocol. ``label``/``images``: the name and the paths of
    the dataset it evaluates on, when another (a transfer)."""
    probe = probe.on(name)
    spec, view = DATASETS[name], _recipe(probe.stem, probe.recipe).evaluation(name)
    cpu = spec["accelerator"] == "cpu"
    batch = probe.batch or view.batch
    if batch is None:
        raise ValueError(
            f"probe {probe.stem!r}: no batch size; the {probe.recipe!r} recipe has none, "
            "give the probe's batch"
        )
    optimizer = {
        "name": probe.optimizer,
        "batch_size": 64 if cpu else batch,
        "lr": view.lr(probe.lr),
        "weight_decay": probe.weight_decay,
    }
    if probe.optimizer_kwargs:
        optimizer["kwargs"] = copy.deepcopy(dict(probe.optimizer_kwargs))
    scheduler = {
        "name": "warmup_cosine",
        "warmup_epochs": min(probe.warmup_epochs, 1) if cpu else probe.warmup_epochs,
    }
    if probe.interval:
        scheduler["interval"] = probe.interval
    cfg = linear_config(name, spec)
    cfg.update(
        name=f"{probe.stem}-{label or name}",
        optimizer=optimizer,
        scheduler=scheduler,
        max_epochs=view.cpu_epochs if cpu else probe.epochs,
        devices=list(range(1 if cpu else probe.devices)),
    )
    if view.crop is not None:
        cfg["data"]["augmentations"]["crop_size"] = view.crop
    cfg["data"].update(images or {})
    if probe.head_batchnorm:
        cfg["head_batchnorm"] = True
    if probe.finetune:
        cfg["finetune"] = True
    return cfg


def probe_files(presets: Mapping[str, Mapping[str, dict]]) -> Dict[str, dict]:
    """{relative path: config} of every spec's probes (``presets``: pretrain_presets()). A probe is
    written on every dataset where a preset of its spec that follows its recipe is; a transfer on its
    evaluation dataset only."""
    files = {}
    for spec in SPECS.values():
        for probe in spec.probes:
            stems = {p.stem for p in spec.presets if p.recipe == probe.recipe}
            datasets = [name for name in DATASETS if stems & set(presets[name])]
            if not datasets:
                raise ValueError(
                    f"probe {probe.stem!r} of {spec.name!r}: no preset of the spec follows its "
                    f"recipe {probe.recipe!r}; allowed: {sorted({p.recipe for p in spec.presets})}"
                )
            if probe.transfer is None:
                for name in datasets:
                    files[f"linear/{name}/{probe.stem}.yaml"] = probe_config(name, probe)
                continue
            source, target = probe.transfer
            if source not in datasets or target not in TRANSFER_DATASETS:
                raise ValueError(
                    f"probe {probe.stem!r} of {spec.name!r}: transfer {probe.transfer} needs a "
                    f"pretraining dataset of {datasets} and an evaluation dataset of "
                    f"{sorted(TRANSFER_DATASETS)}"
                )
            images = TRANSFER_DATASETS[target]
            files[f"linear/{target}/{probe.stem}.yaml"] = probe_config(
                source, probe, target, images
            )
            files[f"linear/{target}/wandb/offline.yaml"] = WANDB
    return files


def generate() -> dict:
    """{relative path: yaml text} of every generated file."""
    files = {}
    dump = lambda obj: (
        "# generated by `python -m dev.zoo`; edit the tables there\n"
        + yaml.safe_dump(obj, sort_keys=False)
    )  # noqa: E731
    presets = pretrain_presets()
    for name, spec in DATASETS.items():
        for file_name, cfg in presets[name].items():
            files[f"pretrain/{name}/{file_name}.yaml"] = dump(cfg)
        files[f"pretrain/{name}/wandb/offline.yaml"] = dump(WANDB)
        probe = {**linear_config(name, spec), **spec.get("linear", {})}
        probe["data"].get("augmentations", {}).update(spec.get("linear_augmentation", {}))
        files[f"linear/{name}/linear.yaml"] = dump(probe)
        files[f"linear/{name}/wandb/offline.yaml"] = dump(WANDB)
    for recipe in RECIPES.values():
        for name in recipe.datasets():
            for aug_name, aug in recipe.augmentations(name).items():
                files[f"pretrain/{name}/augmentations/{aug_name}"] = dump(aug)
    for relative, cfg in probe_files(presets).items():
        files[relative] = dump(cfg)
    return files


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="zoo_configs")
    args = parser.parse_args(argv)
    for relative, text in generate().items():
        path = Path(args.out) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(generate())} files under {args.out}")


if __name__ == "__main__":
    main()
