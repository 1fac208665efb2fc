"""solo-ext checkpoints evaluated by solo-learn's own, unmodified main_linear.py (run as a subprocess).

main_linear.py knows nothing of args.json: the user gives the backbone the run was trained with
(``+backbone.name``, ``+backbone.kwargs.*``) and, for the MAE family on solo-learn's ViT names,
``+pretrain_method=mae`` (MAE's ViT-Tiny has 12 heads, solo-learn's default 3, and main_linear.py loads one
into the other without a word). It evaluates ``custom`` datasets at 224 px with ImageNet statistics whatever
the config says, so the checkpoints here are pretrained at 224 px (ViT/32 on upsampled digits, one step).

Evidence that main_linear.py evaluated the backbone the run was trained with: its saved linear checkpoint
holds exactly the pretrained backbone tensors, and the ``val_loss`` it logged (CSVLogger, as no wandb) is the
loss of that checkpoint's classifier on features of the right architecture, not of the wrong one.
"""

import csv
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from solo.data.classification_dataloader import prepare_data
from solo.methods.base import BaseMethod

from solo_ext.launch.pretrain import pretrain
from tests.integration.helpers import MAIN_LINEAR, assert_succeeded, digits_config, run_main_linear

pytestmark = pytest.mark.skipif(
    MAIN_LINEAR is None or not MAIN_LINEAR.is_file(),
    reason="no solo-learn source tree with main_linear.py: set SOLO_LEARN_SRC (or install solo-learn editable)",
)

AT_224 = {"patch_size": 32, "img_size": 224}
PRETRAIN_AT_224 = [
    "backbone.kwargs.img_size=224",
    "backbone.kwargs.patch_size=32",
    "augmentations.0.crop_size=224",
    "data.val_path=null",
    "knn_eval.enabled=false",
    "limit_train_batches=1",
]
BATCH = 16


@pytest.fixture(scope="module")
def pretrained(digits_dir, tmp_path_factory):
    """config name -> checkpoint of one pretraining step at 224 px through solo-ext pretrain (cached)."""
    runs = {}

    def run(config: str, *extra) -> Path:
        if (config, extra) not in runs:
            out = tmp_path_factory.mktemp(f"pretrain-{config}")
            with pytest.MonkeyPatch.context() as patch:
                patch.chdir(out)
                pretrain(digits_config(config, digits_dir, out, *PRETRAIN_AT_224, *extra))
            (runs[config, extra],) = (out / "trained_models").rglob("*.ckpt")
        return runs[config, extra]

    return run


def main_linear(ckpt: Path, digits_dir, out: Path, *overrides):
    """(main_linear.py's linear checkpoint, the val_loss it logged) after a successful run."""
    result = run_main_linear(ckpt, digits_dir, out, *overrides)
    assert_succeeded(result)
    (linear_ckpt,) = (out / "trained_models" / "linear").rglob("*.ckpt")
    (metrics,) = (out / "lightning_logs").rglob("metrics.csv")
    (val_loss,) = [
        float(row["val_loss"]) for row in csv.DictReader(metrics.open()) if row["val_loss"]
    ]
    return linear_ckpt, val_loss


def backbone_tensors(ckpt: Path) -> dict:
    state = torch.load(ckpt, map_location="cpu")["state_dict"]
    return {k[len("backbone.") :]: v for k, v in state.items() if k.startswith("backbone.")}


@torch.no_grad()
def first_val_batch_loss(linear_ckpt: Path, backbone: torch.nn.Module, digits_dir) -> float:
    """The loss main_linear.py logs for one validation batch, recomputed with ``backbone`` (its tensors from
    ``linear_ckpt``, loaded strictly) and the checkpoint's classifier, on solo-learn's own 224-px val loader."""
    state = torch.load(linear_ckpt, map_location="cpu")["state_dict"]
    backbone.load_state_dict(backbone_tensors(linear_ckpt), strict=True)
    _, val_loader = prepare_data(
        "custom",
        train_data_path=f"{digits_dir}/train",
        val_data_path=f"{digits_dir}/val",
        batch_size=BATCH,
        num_workers=0,
    )
    images, targets = next(iter(val_loader))
    logits = F.linear(backbone.eval()(images), state["classifier.weight"], state["classifier.bias"])
    return F.cross_entropy(logits, targets).item()


def solo_learn_backbone(name: str, pretrain_method) -> torch.nn.Module:
    """What main_linear.py builds for ``backbone.name`` and ``pretrain_method`` (BaseMethod's table, as it does)."""
    return BaseMethod._BACKBONES[name](method=pretrain_method, **AT_224)


def gap(linear_ckpt: Path, logged_loss: float, backbone: torch.nn.Module, digits_dir) -> float:
    """Relative gap between the val_loss main_linear.py logged and the one recomputed with ``backbone``: 0 (to
    float precision) for the architecture it used; >= 0.5% for the other ViT in every run seen."""
    return abs(first_val_batch_loss(linear_ckpt, backbone, digits_dir) - logged_loss) / abs(
        logged_loss
    )


def assert_backbone_arrived(linear_ckpt: Path, pretrained_ckpt: Path) -> None:
    linear, trained = backbone_tensors(linear_ckpt), backbone_tensors(pretrained_ckpt)
    assert linear.keys() == trained.keys()
    assert all(torch.equal(linear[key], trained[key]) for key in trained)


VIT_TINY_224 = [
    "+backbone.name=vit_tiny",
    "+backbone.kwargs.patch_size=32",
    "+backbone.kwargs.img_size=224",
]


@pytest.mark.slow
def test_mae_family_needs_pretrain_method_mae(pretrained, digits_dir, tmp_path):
    ckpt = pretrained("m-mae")
    mae_vit, default_vit = (
        solo_learn_backbone("vit_tiny", "mae"),
        solo_learn_backbone("vit_tiny", None),
    )
    assert (mae_vit.blocks[0].attn.num_heads, default_vit.blocks[0].attn.num_heads) == (12, 3)

    linear_ckpt, loss = main_linear(
        ckpt, digits_dir, tmp_path / "with", *VIT_TINY_224, "+pretrain_method=mae"
    )
    assert_backbone_arrived(linear_ckpt, ckpt)
    assert gap(linear_ckpt, loss, mae_vit, digits_dir) < 1e-5
    assert gap(linear_ckpt, loss, default_vit, digits_dir) > 1e-4

    # without it main_linear.py exits 0, every tensor loaded into the 3-head ViT: silently wrong features
    linear_ckpt, loss = main_linear(ckpt, digits_dir, tmp_path / "without", *VIT_TINY_224)
    assert_backbone_arrived(linear_ckpt, ckpt)
    assert gap(linear_ckpt, loss, default_vit, digits_dir) < 1e-5
    assert gap(linear_ckpt, loss, mae_vit, digits_dir) > 1e-4


@pytest.mark.slow
def test_two_crop_magma_method_keeps_solo_learns_default_vit(pretrained, digits_dir, tmp_path):
    """M-SimCLR trains solo-learn's default ViT; its own name as pretrain_method (or none) rebuilds that ViT."""
    ckpt = pretrained("m-simclr")
    linear_ckpt, loss = main_linear(
        ckpt, digits_dir, tmp_path, *VIT_TINY_224, "+pretrain_method=m_simclr"
    )
    assert_backbone_arrived(linear_ckpt, ckpt)
    assert gap(linear_ckpt, loss, solo_learn_backbone("vit_tiny", None), digits_dir) < 1e-5
    assert gap(linear_ckpt, loss, solo_learn_backbone("vit_tiny", "mae"), digits_dir) > 1e-4


@pytest.mark.slow
def test_vit_lite_is_known_to_main_linear_through_the_plugin(pretrained, digits_dir, tmp_path):
    """SMAE's ViT-Lite (not a solo-learn backbone) is built by main_linear.py because our Hydra plugin registers it."""
    ckpt = pretrained("smae", "++method_kwargs.smae.alpha=0", "~method_kwargs.smae.critic")
    linear_ckpt, loss = main_linear(
        ckpt,
        digits_dir,
        tmp_path,
        "+backbone.name=vit_lite",
        "+backbone.kwargs.patch_size=32",
        "+backbone.kwargs.img_size=224",
    )
    assert_backbone_arrived(linear_ckpt, ckpt)
    vit_lite = solo_learn_backbone("vit_lite", None)
    assert len(vit_lite.blocks) == 7 and vit_lite.blocks[0].attn.num_heads == 4
    assert gap(linear_ckpt, loss, vit_lite, digits_dir) < 1e-5


@pytest.mark.slow
def test_custom_datasets_need_a_224_px_checkpoint(pretrained, digits_dir, tmp_path):
    """main_linear.py feeds `custom` data at 224 px whatever the config says: a 32-px ViT stops at its first batch."""
    ckpt = pretrained(
        "m-mae",
        "backbone.kwargs.img_size=32",
        "backbone.kwargs.patch_size=8",
        "augmentations.0.crop_size=32",
    )
    result = run_main_linear(
        ckpt,
        digits_dir,
        tmp_path,
        "+backbone.name=vit_tiny",
        "+backbone.kwargs.patch_size=8",
        "+backbone.kwargs.img_size=32",
        "+pretrain_method=mae",
    )
    assert result.returncode != 0 and "Input height (224) doesn't match model (32)" in result.stderr
