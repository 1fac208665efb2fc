"""Every solo-ext method from solo-learn's own, unmodified main_pretrain.py (issue #13), run as a subprocess.

Each run trains a couple of steps, validates with solo-learn's online classifier and kNN, and writes a
checkpoint that `solo-ext knn`, `solo-ext linear` and solo-learn's own main_linear.py evaluate. A
main_pretrain.py that is not byte for byte a known version stops solo-ext methods with one message and leaves
solo-learn's own methods alone.
"""

import csv
import json
import shutil
import sys
import types
from pathlib import Path

import pytest
import torch

from solo_ext.launch import solo_scripts
from solo_ext.launch.evaluate import knn_main, linear
from solo_ext.losses import build_critic, save_critic
from tests.integration.helpers import (
    MAIN_PRETRAIN,
    ONE_CPU_DEVICE,
    assert_succeeded,
    digits_config,
    run_main_linear,
    run_python,
    short_run,
    zoo_args,
)

needs_scripts = pytest.mark.skipif(
    MAIN_PRETRAIN is None or not MAIN_PRETRAIN.is_file(),
    reason="no solo-learn source tree with main_pretrain.py: set SOLO_LEARN_SRC (or install solo-learn editable)",
)

ZOO_NAMES = {
    "m_mae": "m-mae",
    "u_mae": "u-mae",
    "mu_mae": "mu-mae",
    "m_simclr": "m-simclr",
    "m_vicreg": "m-vicreg",
    "vicmae": "vicmae",
    "smae": "smae",
    "colormae": "colormae",
}
MAE_FAMILY = {"m_mae", "u_mae", "mu_mae", "vicmae", "smae", "colormae"}


def main_pretrain(script: Path, config: str, digits_dir, out: Path, *extra):
    """The user's command: the zoo config, plus the overrides that make it a two-step CPU run."""
    return run_python(
        script, *zoo_args(config), *short_run(digits_dir, "trained_models"), *extra, cwd=out
    )


@pytest.fixture(scope="module")
def critic(tmp_path_factory):
    torch.manual_seed(0)
    return save_critic(
        tmp_path_factory.mktemp("critic") / "critic.pt", build_critic(10), 10, top1=10.0
    )


# main_linear.py evaluates `custom` data at 224 px whatever the config says: pretrain at 224 px (ViT/32) so that
# all three evaluations see the resolution the backbone was trained at
AT_224 = [
    "backbone.kwargs.img_size=224",
    "backbone.kwargs.patch_size=32",
    "augmentations.0.crop_size=224",
]


def main_linear_on(ckpt: Path, args: dict, method: str, digits_dir, out: Path):
    backbone = args[
        "backbone"
    ]  # main_linear.py reads no args.json: the user passes the trained backbone
    overrides = [f"+backbone.name={backbone['name']}"] + [
        f"+backbone.kwargs.{k}={v}" for k, v in backbone["kwargs"].items()
    ]
    if method in MAE_FAMILY and backbone["name"] != "vit_lite":
        overrides.append("+pretrain_method=mae")  # MAE's 12-head ViT (docs/solo-learn-compat.md)
    return run_main_linear(ckpt, digits_dir, out, *overrides)


@needs_scripts
@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(ZOO_NAMES))
def test_every_method_trains_in_main_pretrain_and_its_checkpoint_evaluates(
    method, digits_dir, critic, tmp_path
):
    extra = (
        [f"method_kwargs.smae.critic={critic}", "++method_kwargs.smae.calibration_batches=1"]
        if method == "smae"
        else []
    )
    if method in (
        "vicmae",
        "m_vicreg",
    ):  # two augmentation pipelines, one crop each: both at 224 px
        extra.append("augmentations.1.crop_size=224")
    result = main_pretrain(MAIN_PRETRAIN, ZOO_NAMES[method], digits_dir, tmp_path, *AT_224, *extra)
    assert_succeeded(result)
    final = result.stdout.split("final validation: ")[
        1
    ]  # solo-learn's online linear and kNN both ran
    assert "val_acc1=" in final and "val_knn_acc1=" in final
    (ckpt,) = (tmp_path / "trained_models" / method).glob("*/*.ckpt")
    args = json.loads((ckpt.parent / "args.json").read_text())
    two_crops = method in {"m_simclr", "m_vicreg", "vicmae"}
    assert args["method"] == method and args["data"]["num_large_crops"] == (2 if two_crops else 1)

    knn = knn_main(
        [
            "--pretrained_checkpoint_dir",
            str(ckpt),
            "--dataset",
            "custom",
            "--train_data_path",
            f"{digits_dir}/train",
            "--val_data_path",
            f"{digits_dir}/val",
            "--k",
            "10",
            "--distance_function",
            "euclidean",
        ]
    )
    ((acc1, _),) = knn.values()
    assert 0.0 <= acc1 <= 100.0
    trainer = linear(
        digits_config(
            "linear",
            digits_dir,
            tmp_path,
            f"pretrained_feature_extractor='{ckpt}'",
            "data.augmentations.crop_size=224",
            "+limit_val_batches=2",
            task="linear",
        )
    )
    assert 0.0 <= float(trainer.callback_metrics["val_acc1"]) <= 100.0

    assert_succeeded(main_linear_on(ckpt, args, method, digits_dir, tmp_path / "main_linear"))
    (linear_ckpt,) = (tmp_path / "main_linear" / "trained_models" / "linear").rglob("*.ckpt")
    pretrained = torch.load(ckpt, map_location="cpu")["state_dict"]
    probed = torch.load(linear_ckpt, map_location="cpu")["state_dict"]
    backbone_keys = [key for key in pretrained if key.startswith("backbone.")]
    assert backbone_keys and all(torch.equal(probed[key], pretrained[key]) for key in backbone_keys)
    (metrics,) = (tmp_path / "main_linear" / "lightning_logs").rglob("metrics.csv")
    assert any(row["val_loss"] for row in csv.DictReader(metrics.open()))


@needs_scripts
@pytest.mark.slow
def test_edited_main_pretrain_stops_solo_ext_methods_with_one_message(digits_dir, tmp_path):
    edited = tmp_path / "main_pretrain.py"
    edited.write_text(
        MAIN_PRETRAIN.read_text().replace(
            "seed_everything(cfg.seed)", "seed_everything(cfg.seed)  # edited", 1
        )
    )
    result = main_pretrain(edited, "m-mae", digits_dir, tmp_path)
    assert result.returncode == 1 and not (tmp_path / "trained_models").exists()
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"solo-ext: {edited} is not a main_pretrain.py that solo-ext knows")
    assert "solo-ext pretrain --config-path" in message


@needs_scripts
@pytest.mark.parametrize("script", ["known", "edited"])
@pytest.mark.slow
def test_builtin_methods_run_solo_learns_own_way(script, digits_dir, tmp_path):
    """solo-learn's own mae, through the known script (our wrapper hands it to solo-learn's parse_cfg) and
    through an edited one (not ours to stop): solo-learn's pipeline, Checkpointer and CPU quirks apply."""
    path = MAIN_PRETRAIN
    if script == "edited":
        path = tmp_path / "main_pretrain.py"
        path.write_text(
            MAIN_PRETRAIN.read_text().replace(
                "seed_everything(cfg.seed)", "seed_everything(cfg.seed)  # edited", 1
            )
        )
    result = main_pretrain(
        path,
        "mae",
        digits_dir,
        tmp_path,
        "data.val_path=null",
        "knn_eval.enabled=false",
        ONE_CPU_DEVICE,
    )
    assert_succeeded(result)
    # solo-learn's own Checkpointer names the folder after Lightning's logger version, not a solo-ext run id
    (ckpt,) = (tmp_path / "trained_models" / "mae").glob("*/*.ckpt")
    assert not ckpt.parent.name.startswith("offline-")


def fake_main_pretrain(tmp_path, monkeypatch, text: str):
    """A __main__ module named main_pretrain.py whose parse_cfg records its calls."""
    path = tmp_path / "main_pretrain.py"
    path.write_text(text)
    calls = []
    module = types.ModuleType("__main__")
    module.__file__ = str(path)
    module.main = lambda: None
    module.parse_cfg = lambda cfg: calls.append(cfg) or cfg
    monkeypatch.setitem(sys.modules, "__main__", module)
    return module, calls


def test_builtin_methods_get_solo_learns_parse_cfg_with_the_same_config(tmp_path, monkeypatch):
    from omegaconf import OmegaConf

    source = (
        MAIN_PRETRAIN.read_text()
        if MAIN_PRETRAIN and MAIN_PRETRAIN.is_file()
        else "# some other version\n"
    )
    module, calls = fake_main_pretrain(tmp_path, monkeypatch, source)
    assert solo_scripts.adopt_main_pretrain() is not None
    assert (
        solo_scripts.adopt_main_pretrain() is not None
    )  # idempotent: Hydra may import the plugin twice
    cfg = OmegaConf.create({"method": "simclr", "name": "x"})
    assert module.parse_cfg(cfg) is cfg and calls == [
        cfg
    ]  # solo-learn's own, once, with the same object


def test_other_scripts_are_left_alone(tmp_path, monkeypatch):
    module, _ = fake_main_pretrain(tmp_path, monkeypatch, "")
    module.__file__ = str(tmp_path / "train.py")
    original = module.parse_cfg
    assert solo_scripts.adopt_main_pretrain() is None and module.parse_cfg is original


def test_known_fingerprint_is_the_installed_solo_learn():
    if MAIN_PRETRAIN is None or not MAIN_PRETRAIN.is_file():
        pytest.skip("no solo-learn source tree")
    assert solo_scripts._fingerprint(str(MAIN_PRETRAIN)) in solo_scripts.KNOWN_MAIN_PRETRAIN
    assert shutil.which("solo-ext") is not None
