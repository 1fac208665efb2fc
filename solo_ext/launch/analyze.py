"""`solo-ext analyze`: the papers' qualitative figures as PNGs, for any ViT checkpoint of solo-ext or solo-learn.

    solo-ext analyze CKPT --data DIR --out OUT [--classes 10] [--images 8] [--per_class 50] [--seed 0]
                     [--overwrite] [--trust_checkpoint] [--figures reconstructions masks pacmap keys attention]

Writes into the folder OUT:
- ``reconstructions.png`` (MAE family): per image, masked input | reconstruction with the visible patches
  pasted | original, with the masks the method draws (ColorMAE's noise windows, SMAE's blocks, random);
- ``masks.png`` (MAE family): the images with their masked patches greyed;
- ``pacmap.png``: PaCMAP of the backbone features of the first ``--classes`` classes (``--per_class`` val
  images each), titled with their Davies-Bouldin index and a logistic-regression probe's accuracy (fit on the
  train split of those classes, scored on the plotted val images);
- ``keys.png``: per block and image, the leading PCA component of the patch keys (MAGMA §5.4);
- ``attention.png``: the last block's [CLS] → patch attention, per head.

Images are evaluated as the checkpoint was pretrained: shorter side to the pretraining crop size, centre
crop, the pretraining mean/std. The math lives in ``solo_ext.analysis``; this module is the glue.
"""

import argparse
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
from omegaconf import OmegaConf
from PIL import Image
from timm.data.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torch.utils.data import DataLoader, Subset
from torchvision.datasets import ImageFolder

from solo_ext import analysis
from solo_ext.backbones import encode_visible
from solo_ext.config import SPECS, ConfigError
from solo_ext.config.specs import VITS
from solo_ext.launch.checkpoints import TrainedRun, find_trained_run, load_state_dict
from solo_ext.launch.data import check_class_folders, eval_transform
from solo_ext.masking import mask_from_scores

__all__ = ["FIGURES", "main", "parser"]

FIGURES = ("reconstructions", "masks", "pacmap", "keys", "attention")
DECODER_FIGURES = ("reconstructions", "masks")
VAL_FRACTION = 0.2  # of each class, when --data is a single ImageFolder
BATCH_SIZE = 64
DEFAULT_CLASSES = 10  # MAGMA's PaCMAP figure: 10 ImageNet-100 classes


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are ConfigErrors (one line naming the flag), not SystemExit."""

    def error(self, message):
        raise ConfigError(f"solo-ext analyze: {message}")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="solo-ext analyze", description="Qualitative figures (PNG) of a ViT checkpoint."
    )
    p.add_argument(
        "checkpoint",
        metavar="CKPT",
        help="a .ckpt file, or a folder (newest .ckpt below it), with args.json beside it",
    )
    p.add_argument(
        "--data",
        help="ImageFolder root with train/ and val/, or one ImageFolder (split per class, 80/20)",
    )
    p.add_argument("--out", help="output folder for the PNGs")
    p.add_argument(
        "--classes",
        type=int,
        default=None,
        help=f"first N class folders used for the PaCMAP figure (default {DEFAULT_CLASSES}, or all if fewer)",
    )
    p.add_argument(
        "--images",
        type=int,
        default=8,
        help="images shown in the reconstruction/mask/key/attention figures",
    )
    p.add_argument(
        "--per_class", type=int, default=50, help="val images per class in the PaCMAP figure"
    )
    p.add_argument("--seed", type=int, default=0, help="image choice, masks and PaCMAP")
    p.add_argument("--overwrite", action="store_true", help="replace existing PNGs in --out")
    p.add_argument(
        "--trust_checkpoint", action="store_true", help="load with torch.load(weights_only=False)"
    )
    p.add_argument(
        "--figures",
        nargs="+",
        default=list(FIGURES),
        metavar="FIGURE",
        help=f"any of {list(FIGURES)}",
    )
    return p


def _check_arguments(args) -> None:
    for flag in ("data", "out"):
        if getattr(args, flag) is None:
            raise ConfigError(
                f"--{flag}: required; give {'an ImageFolder root' if flag == 'data' else 'an output folder'}"
            )
    unknown = [f for f in args.figures if f not in FIGURES]
    if unknown:
        raise ConfigError(f"--figures: {unknown} is not allowed; allowed: {list(FIGURES)}")
    for flag, minimum in (("classes", 2), ("images", 1), ("per_class", 2), ("seed", 0)):
        value = getattr(args, flag)
        if value is not None and value < minimum:
            raise ConfigError(
                f"--{flag}: {value} is not allowed; expected a whole number >= {minimum}"
            )


# ---------------------------------------------------------------------------------------------------------
# the checkpoint


def _vit_names(method: Optional[str]) -> List[str]:
    """The ViTs a run of ``method`` may have: its spec's backbones, every ViT for a solo-learn method."""
    return sorted(SPECS[method].backbones if method in SPECS else VITS)


def _trained_run(path: str) -> TrainedRun:
    run = find_trained_run(path, "CKPT")
    if run.args is None:
        raise ConfigError(
            f"CKPT: {run.checkpoint} has no args.json beside it; "
            "solo-ext analyze needs the pretraining config"
        )
    allowed = _vit_names(run.method)
    name = (run.backbone or {}).get("name")
    if name not in allowed:
        raise ConfigError(
            f"backbone.name: {name!r} (args.json of {run.checkpoint}) is not a ViT; solo-ext analyze "
            f"needs attention blocks; allowed: {allowed}"
        )
    return run


def _is_mae(method: Optional[str]) -> bool:
    from solo.methods import METHODS
    from solo.methods.mae import MAE

    return method in METHODS and issubclass(METHODS[method], MAE)


def _pretraining_view(run: TrainedRun) -> Tuple[int, Sequence[float], Sequence[float]]:
    """(crop size, mean, std) the checkpoint was pretrained with (its first augmentation pipeline)."""
    from solo.data.pretrain_dataloader import build_transform_pipeline
    from torchvision import transforms

    aug = (run.args.get("augmentations") or [{}])[0]
    mean, std = aug.get("mean", IMAGENET_DEFAULT_MEAN), aug.get("std", IMAGENET_DEFAULT_STD)
    try:  # solo-learn overrides mean/std of its named datasets (cifar, stl10, imagenet): ask its own pipeline
        pipeline = build_transform_pipeline(run.args["data"]["dataset"], OmegaConf.create(aug))
        normalise = [t for t in pipeline.transforms if isinstance(t, transforms.Normalize)]
        if normalise:
            mean, std = normalise[0].mean, normalise[0].std
    except (AttributeError, KeyError, ValueError):
        pass  # an incomplete augmentations entry: its own mean/std (or ImageNet's) as above
    return int(aug.get("crop_size", 224)), list(mean), list(std)


def _load_model(run: TrainedRun, trust: bool, with_decoder: bool):
    """(backbone, the whole MAE method or None) in eval mode.

    The whole method is rebuilt only for the decoder figures: it brings the decoder and the method's own mask
    generator. A method that cannot be rebuilt here (e.g. SMAE without its critic file) gives the backbone only.
    """
    from solo.methods import METHODS

    from solo_ext.launch.evaluate import load_backbone

    if with_decoder:
        try:
            model = METHODS[run.method](OmegaConf.create(run.args))
        except (ConfigError, OSError) as err:
            print(
                f"note: cannot rebuild method {run.method!r} ({err}); reconstructions and masks skipped"
            )
        else:
            try:
                model.load_state_dict(load_state_dict(run.checkpoint, trust=trust), strict=True)
            except RuntimeError as err:
                raise ConfigError(
                    f"CKPT: {run.checkpoint} does not fit method {run.method!r} "
                    f"({str(err).splitlines()[0]})"
                ) from None
            return model.backbone.eval(), model.eval()
    backbone, _ = load_backbone(run, run.args.get("data", {}).get("dataset", "custom"), trust)
    return backbone.eval(), None


def _tokens(backbone, images: torch.Tensor) -> torch.Tensor:
    """[B, 1 + L, D] tokens after the final norm, patches in image order."""
    if hasattr(
        backbone, "random_masking"
    ):  # solo-learn's MAE ViT shuffles its tokens even at mask ratio 0
        batch, length = images.size(0), backbone.patch_embed.num_patches
        order = torch.arange(length, device=images.device).expand(batch, length)
        return encode_visible(backbone, images, order)
    return backbone.forward_features(images)


# ---------------------------------------------------------------------------------------------------------
# the data


class _Split(NamedTuple):
    dataset: ImageFolder
    by_class: List[List[int]]  # per chosen class, dataset indexes in a seeded order


def _image_folder(path: Path, transform) -> ImageFolder:
    try:
        return ImageFolder(str(path), transform)
    except (FileNotFoundError, NotADirectoryError) as err:
        raise ConfigError(
            f"--data: {str(path)!r} is not an image folder with one sub-folder per class ({err})"
        ) from None


def _class_indexes(
    dataset: ImageFolder, names: Sequence[str], rng: np.random.Generator
) -> List[List[int]]:
    targets = np.asarray(dataset.targets)
    return [
        rng.permutation(np.flatnonzero(targets == dataset.class_to_idx[name])).tolist()
        for name in names
    ]


def _open_data(
    root: str, transform, classes: Optional[int], seed: int
) -> Tuple[_Split, _Split, List[str]]:
    """(train, val, class names) for the first ``classes`` class folders of ``root`` (None: up to 10)."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(
            f"--data: {str(root)!r} is not a folder; "
            "expected an ImageFolder root with train/ and val/, or one ImageFolder"
        )
    rng = np.random.default_rng(seed)
    two_splits = (root / "train").is_dir() and (root / "val").is_dir()
    train_set = _image_folder(root / "train" if two_splits else root, transform)
    if classes is None:
        classes = min(DEFAULT_CLASSES, len(train_set.classes))
    if not 2 <= classes <= len(train_set.classes):
        raise ConfigError(
            f"--classes: {classes} is not allowed; "
            f"{root} has {len(train_set.classes)} classes (at least 2 needed)"
        )
    names = train_set.classes[:classes]
    if two_splits:
        check_class_folders(root / "train", root / "val", "--data", classes=names)
        val_set = _image_folder(root / "val", transform)
        train, val = _class_indexes(train_set, names, rng), _class_indexes(val_set, names, rng)
    else:
        val_set = train_set
        shuffled = _class_indexes(train_set, names, rng)
        cut = [max(1, round(VAL_FRACTION * len(items))) for items in shuffled]
        train = [items[n:] for items, n in zip(shuffled, cut)]
        val = [items[:n] for items, n in zip(shuffled, cut)]
    empty = [n for n, tr, va in zip(names, train, val) if not tr or not va]
    if empty:
        raise ConfigError(f"--data: classes {empty} of {root} have no train or no val image")
    return _Split(train_set, train), _Split(val_set, val), list(names)


def _flatten(split: _Split, per_class: Optional[int] = None) -> Tuple[List[int], torch.Tensor]:
    """(dataset indexes, labels 0..N-1) of up to ``per_class`` images per chosen class."""
    chosen = [items[:per_class] for items in split.by_class]
    labels = torch.cat([torch.full((len(items),), c) for c, items in enumerate(chosen)])
    return [i for items in chosen for i in items], labels


def _round_robin(split: _Split, per_class: int, count: int) -> List[int]:
    """``count`` images alternating over the classes: class 0, 1, ..., N-1, 0, ..."""
    columns = [items[:per_class] for items in split.by_class]
    ordered = [
        items[j] for j in range(max(map(len, columns))) for items in columns if j < len(items)
    ]
    return ordered[:count]


def _load(dataset, indexes: Sequence[int]) -> torch.Tensor:
    return torch.stack([dataset[i][0] for i in indexes])


@torch.no_grad()
def _features(backbone, dataset, indexes: Sequence[int], device) -> torch.Tensor:
    """[N, D] backbone outputs (what linear/kNN evaluation sees) of the given images."""
    loader = DataLoader(
        Subset(dataset, list(indexes)), batch_size=BATCH_SIZE, shuffle=False, num_workers=0
    )
    return torch.cat(
        [
            backbone.forward_head(_tokens(backbone, images.to(device))).float().cpu()
            for images, _ in loader
        ]
    )


# ---------------------------------------------------------------------------------------------------------
# the figures


@torch.no_grad()
def _masked_reconstruction(model, images: torch.Tensor, seed: int):
    """(mask [B, L], pred [B, L, p*p*3]) with the method's own masks (or MAE's random ones), seeded."""
    with torch.random.fork_rng(devices=[images.device] if images.is_cuda else []):
        torch.manual_seed(seed)
        mask_scores = getattr(model, "mask_scores", None)
        scores = mask_scores(images) if mask_scores is not None else None
        if scores is None:  # MAE's random masking: keep the patches of lowest noise
            scores = -torch.rand(
                images.size(0), model.backbone.patch_embed.num_patches, device=images.device
            )
    keep = mask_from_scores(scores, model.mask_ratio)
    tokens = encode_visible(model.backbone, images, keep.ids_keep)  # [B, 1 + K, D]
    return keep.mask, model.decoder(tokens, keep.ids_restore)


def _write_decoder_figures(model, images, labels, paths, view, method, seed) -> None:
    _, mean, std = view
    patch = model.backbone.patch_embed.patch_size[0]
    grid = tuple(model.backbone.patch_embed.grid_size)
    mask, pred = _masked_reconstruction(model, images, seed)
    pixels = analysis.pixel_mask(mask.cpu(), grid, patch).numpy()
    originals = analysis.to_display(images, mean, std)
    what = f"{method}, mask ratio {model.mask_ratio:g}, seed {seed}"
    if "reconstructions" in paths:
        rebuilt = analysis.reconstruct_images(
            images.cpu(), pred.cpu(), mask.cpu(), patch, bool(model.norm_pix_loss)
        )
        analysis.write_reconstructions(
            paths["reconstructions"],
            originals,
            analysis.to_display(rebuilt, mean, std),
            pixels,
            labels,
            title=f"reconstructions ({what})",
        )
    if "masks" in paths:
        analysis.write_masks(
            paths["masks"], originals, pixels, title=f"masks ({what}); grey = masked"
        )


def _write_pacmap(backbone, train: _Split, val: _Split, names, args, path, device, method) -> None:
    val_indexes, val_labels = _flatten(val, args.per_class)
    train_indexes, train_labels = _flatten(train)
    val_features = _features(backbone, val.dataset, val_indexes, device)
    train_features = _features(backbone, train.dataset, train_indexes, device)
    dbi = analysis.davies_bouldin_index(val_features, val_labels)
    accuracy = analysis.linear_probe_accuracy(
        train_features, train_labels, val_features, val_labels, seed=args.seed
    )
    embedding = analysis.pacmap_embedding(val_features, seed=args.seed)
    title = (
        f"PaCMAP of {method} features: {len(names)} classes, {len(val_indexes)} val images\n"
        f"DBI={dbi:.2f} (features)   linear acc={100 * accuracy:.1f}% (logistic regression, train -> these images)"
    )
    analysis.write_pacmap(path, embedding, val_labels.numpy(), names, title)
    print(
        f"pacmap: Davies-Bouldin index {dbi:.3f} of the backbone features of {len(val_indexes)} val images; "
        f"linear accuracy {100 * accuracy:.2f}% (logistic regression fit on {len(train_indexes)} train images "
        f"of the same {len(names)} classes, scored on those val images)"
    )


@torch.no_grad()
def _write_attention_figures(backbone, images, paths, view, method) -> None:
    _, mean, std = view
    grid = tuple(backbone.patch_embed.grid_size)
    prefix = getattr(backbone, "num_prefix_tokens", 1)
    with analysis.capture_queries_keys(backbone.blocks) as captured:
        _tokens(backbone, images)
    originals = analysis.to_display(images, mean, std)
    if "keys" in paths:
        maps = analysis.key_component_maps(captured.keys, grid, prefix).transpose(
            0, 1
        )  # [blocks, B, gh, gw]
        analysis.write_heatmaps(
            paths["keys"],
            originals,
            maps,
            [f"block {i}" for i in range(len(maps))],
            f"{method}: leading PCA component of each block's patch keys (per image)",
        )
    if "attention" in paths:
        maps = analysis.cls_attention_maps(
            captured.queries[-1], captured.keys[-1], grid, prefix
        ).transpose(0, 1)
        analysis.write_heatmaps(
            paths["attention"],
            originals,
            maps,
            [f"head {i}" for i in range(len(maps))],
            f"{method}: last block's [CLS] -> patch attention, per head",
        )


def main(argv) -> Dict[str, Path]:
    """Writes the requested figures; returns {figure: PNG path} of those written."""
    args = parser().parse_args(argv)
    _check_arguments(args)
    run = _trained_run(args.checkpoint)
    method = run.method or "unknown method"
    figures = list(dict.fromkeys(args.figures))
    if not _is_mae(run.method):
        skipped = [f for f in figures if f in DECODER_FIGURES]
        if skipped:
            print(
                f"note: {', '.join(skipped)} skipped: method {method!r} is not an MAE (no decoder)"
            )
        figures = [f for f in figures if f not in DECODER_FIGURES]

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out: {str(out)!r} is a file; expected a folder")
    paths = {f: out / f"{f}.png" for f in figures}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not args.overwrite:
        raise ConfigError(f"--out: {existing} exist; pass --overwrite to replace them")

    view = _pretraining_view(run)
    transform = eval_transform(*view)
    train, val, names = _open_data(args.data, transform, args.classes, args.seed)
    plotted = len(_flatten(val, args.per_class)[0])
    if "pacmap" in paths and plotted <= len(
        names
    ):  # the Davies-Bouldin index needs a class with two points
        raise ConfigError(
            f"--data: {plotted} val images in {len(names)} classes are too few for the PaCMAP figure; "
            "allowed: more val images than classes (or leave pacmap out of --figures)"
        )
    torch.manual_seed(args.seed)
    backbone, model = _load_model(
        run, args.trust_checkpoint, any(f in DECODER_FIGURES for f in figures)
    )
    if model is None:
        paths = {f: p for f, p in paths.items() if f not in DECODER_FIGURES}
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    backbone.to(device)
    if model is not None:
        model.to(device)

    shown = _round_robin(val, args.per_class, args.images)
    if len(shown) < args.images:
        print(f"note: --images {args.images}: only {len(shown)} val images available")
    images = _load(val.dataset, shown).to(device)
    labels = [val.dataset.classes[val.dataset.targets[i]] for i in shown]
    out.mkdir(parents=True, exist_ok=True)
    if model is not None:
        _write_decoder_figures(model, images, labels, paths, view, method, args.seed)
    if "pacmap" in paths:
        _write_pacmap(backbone, train, val, names, args, paths["pacmap"], device, method)
    if "keys" in paths or "attention" in paths:
        _write_attention_figures(backbone, images, paths, view, method)
    for path in paths.values():
        with Image.open(path) as png:
            print(f"wrote {path} ({png.width}x{png.height} px)")
    return paths
