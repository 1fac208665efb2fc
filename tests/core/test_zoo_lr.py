"""The zoo's effective learning rates, computed as solo-learn computes them, against each paper's value.

solo-learn's parse_cfg (solo/args/pretrain.py and solo/args/linear.py) multiplies optimizer.lr by
optimizer.batch_size × len(devices) × num_nodes / 256 before building the optimizer. accumulate_grad_batches
is not in that factor, although it multiplies the images per parameter update.
"""

from pathlib import Path

import pytest
import yaml

from dev.zoo import zoo_presets
from solo_ext.config import SPECS

ZOO = Path(__file__).resolve().parents[2] / "zoo_configs"
PRESETS = sorted(
    p for p in ZOO.rglob("*.yaml") if "augmentations" not in p.parts and "wandb" not in p.parts
)

# the papers' learning rates as (lr, at this many images per update), scaled linearly with the images per
# update, by the dev.zoo recipe a preset follows (its spec's Preset.recipe) or a probe evaluates
MAGMA_MAE = {  # MAGMA supplement; the authors' solo-learn yaml values, which solo-learn scaled by batch/256
    "cifar100": (1.5e-4, 256),
    "stl10": (3.0e-4, 256),
    "tiny-imagenet": (1.0e-3, 256),
    "imagenet100": (1.5e-4, 256),
    "imagenet": (
        1.5e-4,
        256,
    ),  # ColorMAE's dataset: MAE's and ColorMAE's base lr 1.5e-4 x batch/256
}
MAGMA_SSL = (1.0e-3, 256)  # SimCLR / VICReg family, batch 256
VICMAE = (1.5e-4, 256)  # base lr 1.5e-4 x (images per update, accumulation included) / 256
SMAE = (5.0e-4, 128)  # Table 6 at batch 128; its code: lr * batch_size / 128
CPU = (1.0e-3, 256)  # digits and Fashion-MNIST: our CPU recipe for the MAGMA and ViC-MAE families
PROBE = (
    0.1,
    256,
)  # MAGMA's SGD probe (batch 256); MAE's probe (ColorMAE): 0.1 x batch/256; ViC-MAE: SGD 0.1
PROBES = {  # a method's own probes, by the recipe of the models they evaluate
    "mae": PROBE,
    "vicmae": PROBE,
    "smae": (1.0e-3, 128),  # SMAE's Table 6: linear probe and fine-tuning at batch 128
}
TRANSFER = {"cub200": (5.0e-4, 128)}  # SMAE fine-tuned on CUB: half the lr

# preset stem -> the recipe it follows; probe stem -> its probes, as the specs declare them
RECIPE_OF = {preset.stem: preset.recipe for _, preset in zoo_presets()}
PROBES_OF = {}
for spec in SPECS.values():
    for probe in spec.probes:
        PROBES_OF.setdefault(probe.stem, []).append(probe)


def solo_learn_lr(cfg: dict) -> float:
    """optimizer.lr as solo-learn's parse_cfg hands it to the optimizer."""
    return (
        cfg["optimizer"]["lr"]
        * cfg["optimizer"]["batch_size"]
        * len(cfg["devices"])
        * cfg.get("num_nodes", 1)
        / 256
    )


def images_per_update(cfg: dict) -> int:
    return (
        cfg["optimizer"]["batch_size"]
        * len(cfg["devices"])
        * cfg.get("num_nodes", 1)
        * cfg.get("accumulate_grad_batches", 1)
    )


def paper_rule(path: Path):
    """(lr, per images) of the paper behind one zoo file; KeyError for a preset nobody pinned."""
    task, dataset, stem = path.parent.parent.name, path.parent.name, path.stem
    cpu = dataset in ("digits", "fashion-mnist")
    if task == "linear":
        if stem == "linear":
            return PROBE
        if dataset in TRANSFER and any(p.transfer for p in PROBES_OF.get(stem, ())):
            return TRANSFER[dataset]
        recipes = {p.recipe for p in PROBES_OF.get(stem, ()) if not p.transfer}
        if len(recipes) == 1:
            return PROBES[recipes.pop()]
    elif RECIPE_OF.get(stem) == "smae":
        return SMAE
    elif RECIPE_OF.get(stem) == "mae":
        return CPU if cpu else MAGMA_MAE[dataset]
    elif RECIPE_OF.get(stem) == "ssl":
        return CPU if cpu else MAGMA_SSL
    elif RECIPE_OF.get(stem) == "vicmae":
        return CPU if cpu else VICMAE
    raise KeyError(f"{path.relative_to(ZOO)}: no paper learning rate pinned for this preset")


def test_the_rule_is_solo_learns():
    cfg = {
        "optimizer": {"lr": 6.0e-4, "batch_size": 128},
        "devices": list(range(8)),
        "accumulate_grad_batches": 4,
    }
    assert solo_learn_lr(cfg) == pytest.approx(2.4e-3)  # 4 accumulated steps do not count
    assert images_per_update(cfg) == 4096
    assert solo_learn_lr({**cfg, "num_nodes": 2}) == pytest.approx(4.8e-3)


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: str(p.relative_to(ZOO)))
def test_effective_lr_is_the_papers(path):
    cfg = yaml.safe_load(path.read_text())
    lr, per_images = paper_rule(path)
    assert solo_learn_lr(cfg) == pytest.approx(lr * images_per_update(cfg) / per_images, rel=1e-9)


@pytest.mark.parametrize(
    "preset,lr,images",
    [
        (
            "pretrain/tiny-imagenet/smae.yaml",
            5.0e-4,
            128,
        ),  # was 2.5e-4: the yaml held the lr at batch 128, halved by /256
        ("pretrain/tiny-imagenet/mae-lite.yaml", 5.0e-4, 128),
        ("linear/tiny-imagenet/smae-linear.yaml", 1.0e-3, 128),
        ("linear/tiny-imagenet/smae-finetune.yaml", 1.0e-3, 128),
        ("linear/cub200/smae-finetune.yaml", 5.0e-4, 128),
        (
            "pretrain/imagenet/vicmae.yaml",
            2.4e-3,
            4096,
        ),  # 1.5e-4 x 4096 / 256 from 8 GPUs x 128 x 4 accumulated
        ("pretrain/imagenet100/vicmae-paper.yaml", 2.4e-3, 4096),
        ("pretrain/cifar100/m-mae.yaml", 1.5e-4, 256),
        ("pretrain/tiny-imagenet/mu-mae.yaml", 2.0e-3, 512),
        ("pretrain/stl10/m-simclr.yaml", 1.0e-3, 256),
        ("linear/imagenet/colormae-linear.yaml", 1.6, 4096),
        ("linear/cifar100/linear.yaml", 0.1, 256),
    ],
)
def test_headline_presets(preset, lr, images):
    cfg = yaml.safe_load((ZOO / preset).read_text())
    assert solo_learn_lr(cfg) == pytest.approx(lr) and images_per_update(cfg) == images


def test_every_dataset_is_checked():
    assert {p.parent.name for p in PRESETS} >= {
        "cifar100",
        "stl10",
        "tiny-imagenet",
        "imagenet100",
        "imagenet",
        "digits",
        "fashion-mnist",
        "cub200",
    }
