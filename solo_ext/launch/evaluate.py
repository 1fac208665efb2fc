"""`solo-ext linear` and `solo-ext knn`: offline evaluation of solo-ext and solo-learn checkpoints.

Both rebuild the backbone the checkpoint was trained with (from the args.json beside it), so an MAE-family
ViT-Tiny gets its 12 attention heads back, and evaluate `custom` datasets at their own resolution.
"""

import argparse
from pathlib import Path
from typing import Iterable, Optional

import torch
from omegaconf import DictConfig, OmegaConf
from solo.args.linear import parse_cfg
from solo.data.classification_dataloader import prepare_data, prepare_datasets, prepare_transforms
from solo.methods.linear import LinearModel
from solo.utils.checkpointer import Checkpointer
from solo.utils.knn import WeightedKNNClassifier
from solo.utils.misc import make_contiguous, omegaconf_select
from timm.data.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torch.utils.data import DataLoader

from solo_ext.config import ConfigError, to_plain
from solo_ext.config.training import check_training_keys
from solo_ext.launch.checkpoints import (
    backbone_state,
    build_backbone,
    find_trained_run,
    load_state_dict,
    require_architecture,
)
from solo_ext.launch.common import build_trainer, check_batch_fits, check_devices, resume_point
from solo_ext.launch.data import (
    available_cores,
    check_split_classes,
    custom_loaders,
    eval_transform,
)
from solo_ext.launch.data_checks import (
    check_data_paths,
    check_eval_batch_size,
    name_failing_samples,
)
from solo_ext.launch.results import write_results

__all__ = ["linear", "knn", "knn_main", "load_backbone"]


def load_backbone(
    run,
    dataset: str,
    trust: bool = False,
    backbone_cfg: Optional[dict] = None,
    method: Optional[str] = None,
):
    """Builds the trained backbone of ``run`` and loads its weights (strictly)."""
    trained = run.backbone or backbone_cfg
    if trained is None:
        raise ConfigError(
            f"backbone: {run.checkpoint} has no args.json beside it; "
            "give backbone.name/backbone.kwargs and pretrain_method"
        )
    if (
        run.backbone
        and backbone_cfg
        and backbone_cfg.get("name") not in (None, run.backbone["name"])
    ):
        raise ConfigError(
            f"backbone.name: {backbone_cfg['name']!r} differs from the backbone the checkpoint was trained with "
            f"({run.backbone['name']!r}); allowed: {run.backbone['name']!r} or leave backbone out"
        )
    backbone, features_dim = build_backbone(
        run.method or method, trained["name"], dict(trained.get("kwargs") or {}), dataset
    )
    state = backbone_state(load_state_dict(run.checkpoint, trust=trust))
    missing, unexpected = backbone.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ConfigError(
            f"pretrained_feature_extractor: {run.checkpoint} does not fit backbone {trained['name']} "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    return backbone, features_dim


def linear(cfg: DictConfig):
    """Linear probe (or fine-tune with finetune: true) with solo-learn's LinearModel; returns the Trainer."""
    OmegaConf.set_struct(cfg, False)
    check_devices(cfg)
    data = cfg.data
    check_split_classes(
        data.dataset,
        data.get("format", "image_folder"),
        data.train_path,
        data.val_path,
        "data.val_path",
    )
    run = find_trained_run(cfg.pretrained_feature_extractor, "pretrained_feature_extractor")
    user_backbone = to_plain(cfg.get("backbone", None))
    require_architecture(
        run,
        "pretrained_feature_extractor",
        user_backbone is not None,
        "give backbone.name, backbone.kwargs and pretrain_method in the linear config",
    )
    check_training_keys(cfg)
    if run.backbone is not None:
        cfg.backbone = run.backbone  # the trained architecture, whatever solo-learn's defaults say
        cfg.pretrain_method = run.method
    check_data_paths(
        cfg.data.dataset,
        cfg.data.get("format", "image_folder"),
        cfg.data.train_path,
        cfg.data.get("val_path", None),
        "data.train_path",
        "data.val_path",
    )
    cfg = parse_cfg(cfg)
    trust = bool(omegaconf_select(cfg, "trust_checkpoint", False))
    backbone, _ = load_backbone(run, cfg.data.dataset, trust, user_backbone, cfg.pretrain_method)

    model = LinearModel(backbone, cfg=cfg, loss_func=torch.nn.CrossEntropyLoss())
    head_batchnorm = omegaconf_select(cfg, "head_batchnorm", False)
    if not isinstance(head_batchnorm, bool):
        raise ConfigError(
            f"head_batchnorm: {head_batchnorm!r} is not allowed; expected true or false"
        )
    if (
        head_batchnorm
    ):  # MAE's linear probe: BatchNorm without affine parameters before the linear head
        model.classifier = torch.nn.Sequential(
            torch.nn.BatchNorm1d(model.classifier.in_features, affine=False), model.classifier
        )
    model.extra_optimizer_args = to_plain(model.extra_optimizer_args)
    model.lr_decay_steps = to_plain(model.lr_decay_steps)
    make_contiguous(model)
    if not cfg.performance.disable_channel_last:
        model = model.to(memory_format=torch.channels_last)

    if cfg.data.format == "dali":
        raise ConfigError(
            "data.format: 'dali' is not supported by solo-ext linear; allowed: image_folder, h5"
        )
    if cfg.data.dataset == "custom":
        train_loader, val_loader = custom_loaders(cfg, augment=True)
    else:
        train_loader, val_loader = prepare_data(
            cfg.data.dataset,
            train_data_path=cfg.data.train_path,
            val_data_path=cfg.data.val_path,
            data_format=cfg.data.format,
            batch_size=cfg.optimizer.batch_size,
            num_workers=cfg.data.num_workers,
            auto_augment=cfg.auto_augment,
        )
    name_failing_samples(train_loader, val_loader)
    check_batch_fits(cfg, train_loader)
    ckpt_path, wandb_run_id = resume_point(cfg, checkpoint_subdir="linear")
    trainer = build_trainer(cfg, model, "linear", wandb_run_id, ckpt_path=ckpt_path)
    trainer.fit(model, train_loader, val_loader, ckpt_path=ckpt_path)
    _write_linear_results(trainer, cfg, run)
    return trainer


def _write_linear_results(trainer, cfg, run) -> None:
    """results.json in the run folder the Checkpointer made (nothing without checkpointing)."""
    checkpointer = next((c for c in trainer.callbacks if isinstance(c, Checkpointer)), None)
    if checkpointer is None or not hasattr(checkpointer, "path") or not trainer.is_global_zero:
        return
    metrics = {
        name: float(trainer.callback_metrics[f"val_{name}"])
        for name in ("acc1", "acc5")
        if f"val_{name}" in trainer.callback_metrics
    }
    settings = {
        "max_epochs": cfg.max_epochs,
        "optimizer": to_plain(cfg.optimizer),
        "scheduler": to_plain(cfg.scheduler),
        "head_batchnorm": bool(omegaconf_select(cfg, "head_batchnorm", False)),
        "epochs_run": trainer.current_epoch,
    }
    path = write_results(
        Path(checkpointer.path) / "results.json",
        "finetune" if cfg.finetune else "linear",
        metrics,
        dataset=cfg.data.dataset,
        train_path=cfg.data.train_path,
        val_path=cfg.data.val_path,
        pretrained_checkpoint=run.checkpoint,
        pretrain=run.args,
        settings=settings,
    )
    print(f"wrote {path}")


@torch.no_grad()
def extract(loader: Iterable, backbone: torch.nn.Module, device: torch.device):
    """Features and labels of every (images, labels) batch of ``loader`` (a DataLoader or any
    iterable of batches)."""
    backbone.eval()
    feats, labels = [], []
    for images, targets in loader:
        feats.append(backbone(images.to(device)).float().cpu())
        labels.append(targets)
    return torch.cat(feats), torch.cat(labels)


def knn(args: argparse.Namespace) -> dict:
    """Offline kNN on backbone features; returns {(k, distance, T): (acc1, acc5)}."""
    check_split_classes(
        args.dataset, args.data_format, args.train_data_path, args.val_data_path, "--val_data_path"
    )
    run = find_trained_run(args.pretrained_checkpoint_dir, "--pretrained_checkpoint_dir")
    require_architecture(run, "--pretrained_checkpoint_dir")
    check_data_paths(
        args.dataset,
        args.data_format,
        args.train_data_path,
        args.val_data_path,
        "--train_data_path",
        "--val_data_path",
    )
    backbone, _ = load_backbone(run, args.dataset, trust=args.trust_checkpoint)
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    backbone.to(device)

    if args.dataset == "custom":
        aug = (run.args or {}).get("augmentations", [{}])[0]
        crop_size = args.crop_size or aug.get("crop_size", 224)
        mean = args.mean or aug.get("mean", IMAGENET_DEFAULT_MEAN)
        std = args.std or aug.get("std", IMAGENET_DEFAULT_STD)
        transform = eval_transform(crop_size, mean, std)
    else:
        _, transform = prepare_transforms(args.dataset)
    train_set, val_set = prepare_datasets(
        args.dataset,
        transform,
        transform,
        train_data_path=args.train_data_path,
        val_data_path=args.val_data_path,
        data_format=args.data_format,
        download=False,
    )
    name_failing_samples(train_set, val_set)
    too_large = [k for k in args.k if k > len(train_set)]
    if too_large:  # solo-learn's classifier would quietly use every training image instead
        raise ConfigError(
            f"--k: {', '.join(map(str, too_large))} is larger than the training set "
            f"({len(train_set)} images in {args.train_data_path}); allowed: 1 to {len(train_set)}"
        )
    loader = lambda ds: DataLoader(ds, batch_size=args.batch_size, num_workers=args.num_workers)  # noqa: E731
    train_feats, train_labels = extract(loader(train_set), backbone, device)
    val_feats, val_labels = extract(loader(val_set), backbone, device)

    results = {}
    for k in args.k:
        for distance in args.distance_function:
            for temperature in args.temperature if distance == "cosine" else [None]:
                classifier = WeightedKNNClassifier(k=k, T=temperature or 0.07, distance_fx=distance)
                classifier(
                    train_features=train_feats,
                    train_targets=train_labels,
                    test_features=val_feats,
                    test_targets=val_labels,
                )
                acc1, acc5 = classifier.compute()
                results[(k, distance, temperature)] = (float(acc1), float(acc5))
                print(
                    f"k-NN k={k} distance={distance} T={temperature}: acc@1={acc1:.2f} acc@5={acc5:.2f}"
                )
    if args.out:
        entries = [
            {"k": k, "distance": d, "T": t, "acc1": a1, "acc5": a5}
            for (k, d, t), (a1, a5) in results.items()
        ]
        first = entries[0]
        path = write_results(
            args.out,
            "knn",
            {"acc1": first["acc1"], "acc5": first["acc5"]},
            dataset=args.dataset,
            train_path=args.train_data_path,
            val_path=args.val_data_path,
            pretrained_checkpoint=run.checkpoint,
            pretrain=run.args,
            settings={"k": first["k"], "distance": first["distance"], "T": first["T"]},
            extra={"all": entries},
            overwrite=args.overwrite,
        )
        print(f"wrote {path}")
    return results


def knn_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="solo-ext knn", description="Offline k-NN evaluation of a pretrained backbone."
    )
    parser.add_argument(
        "--pretrained_checkpoint_dir",
        required=True,
        help="checkpoint folder (with args.json) or .ckpt file",
    )
    parser.add_argument(
        "--dataset",
        required=True,
        choices=["cifar10", "cifar100", "stl10", "imagenet", "imagenet100", "custom"],
    )
    parser.add_argument("--train_data_path", required=True)
    parser.add_argument("--val_data_path", required=True)
    parser.add_argument("--data_format", default="image_folder", choices=["image_folder", "h5"])
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument(
        "--num_workers",
        type=int,
        default=min(4, available_cores()),
        help="data loader workers (default: 4, or fewer on a machine with fewer cores)",
    )
    parser.add_argument("--k", type=int, nargs="+", default=[10])
    parser.add_argument("--temperature", type=float, nargs="+", default=[0.07])
    parser.add_argument(
        "--distance_function", nargs="+", default=["euclidean"], choices=["euclidean", "cosine"]
    )
    parser.add_argument(
        "--crop_size",
        type=int,
        default=None,
        help="custom datasets: defaults to the pretraining crop size",
    )
    parser.add_argument(
        "--mean",
        type=float,
        nargs=3,
        default=None,
        help="custom datasets: defaults to the pretraining mean",
    )
    parser.add_argument(
        "--std",
        type=float,
        nargs=3,
        default=None,
        help="custom datasets: defaults to the pretraining std",
    )
    parser.add_argument(
        "--cpu", action="store_true", help="stay on the CPU even if a GPU is present"
    )
    parser.add_argument(
        "--trust_checkpoint", action="store_true", help="load with torch.load(weights_only=False)"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="also write the results to this JSON file (read by solo-ext table)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    return parser


def knn_main(argv) -> dict:
    args = knn_parser().parse_args(argv)
    check_eval_batch_size(args.batch_size)
    if any(k < 1 for k in args.k):
        raise ConfigError(f"--k: {args.k} is not allowed; expected integers >= 1")
    if args.out and Path(args.out).exists() and not args.overwrite:
        raise ConfigError(
            f"--out: {args.out} exists; pass --overwrite to replace it"
        )  # before the features are computed
    return knn(args)
