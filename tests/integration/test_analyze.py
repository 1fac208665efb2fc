"""`solo-ext analyze` on checkpoints trained for one batch on a few digits classes."""

import json
import shutil

import pytest
import torch
from PIL import Image

from solo_ext.config import ConfigError
from solo_ext.launch import analyze
from solo_ext.launch.pretrain import build_model, pretrain
from solo_ext.losses import build_critic, save_critic
from tests.integration.helpers import digits_config

pytest.importorskip("matplotlib")
pytest.importorskip("pacmap")

ONE_BATCH = ("data.val_path=null", "++limit_train_batches=1")
# 3 images, ViT-Tiny/8 at 32 px: 16 patches, 12 blocks; MAE's ViT-Tiny has 12 heads, solo-learn's default 3
SIZES = {
    "reconstructions": (400, 360),
    "masks": (400, 160),
    "pacmap": (700, 600),
    "keys": (400, 1360),
}


@pytest.fixture(scope="module")
def small_digits(digits_dir, tmp_path_factory):
    """train/ (3 classes × 20) and val/ (3 × 6) copied from the digits, and the same 3 classes as one folder."""
    root = tmp_path_factory.mktemp("small_digits")
    for split, count in (("train", 20), ("val", 6)):
        for label in ("0", "1", "2"):
            (root / "split" / split / label).mkdir(parents=True)
            for image in sorted((digits_dir / split / label).iterdir())[:count]:
                shutil.copy(image, root / "split" / split / label / image.name)
    shutil.copytree(root / "split" / "train", root / "single")
    return root


def _train(method_file, digits_dir, tmp_path_factory, *overrides, tiny_vit=False):
    out = tmp_path_factory.mktemp(method_file)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(out)
        patch.setenv("WANDB_MODE", "disabled")
        pretrain(
            digits_config(method_file, digits_dir, out, *ONE_BATCH, *overrides, tiny_vit=tiny_vit)
        )
    return next((out / "trained_models").glob("*/*"))  # the run folder: args.json and one .ckpt


@pytest.fixture(scope="module")
def m_mae_run(digits_dir, tmp_path_factory):
    return _train("m-mae", digits_dir, tmp_path_factory)


@pytest.fixture(scope="module")
def simclr_run(digits_dir, tmp_path_factory):
    return _train("simclr", digits_dir, tmp_path_factory)


def _png_size(path):
    assert path.is_file() and path.stat().st_size > 0
    with Image.open(path) as png:
        return png.size


def _analyze(run, data, out, *extra):
    return analyze.main(
        [
            str(run),
            "--data",
            str(data),
            "--out",
            str(out),
            "--images",
            "3",
            "--per_class",
            "6",
            *extra,
        ]
    )


@pytest.mark.slow
def test_mae_checkpoint_gets_every_figure(m_mae_run, small_digits, tmp_path, capsys):
    written = _analyze(
        m_mae_run, small_digits / "split", tmp_path / "figures"
    )  # --classes: 10, or all 3 here
    assert sorted(written) == sorted(analyze.FIGURES)
    for figure, size in {**SIZES, "attention": (400, 1360)}.items():
        assert written[figure] == tmp_path / "figures" / f"{figure}.png"
        assert _png_size(written[figure]) == size, figure
    printed = capsys.readouterr().out
    assert f"wrote {tmp_path / 'figures' / 'keys.png'} (400x1360 px)" in printed
    assert (
        "18 val images" in printed and "60 train images" in printed
    )  # 3 classes: 6 val each, 20 train each


@pytest.mark.slow
def test_simclr_checkpoint_skips_the_decoder_figures(simclr_run, small_digits, tmp_path, capsys):
    written = _analyze(simclr_run, small_digits / "single", tmp_path, "--classes", "2")
    assert sorted(written) == ["attention", "keys", "pacmap"]
    assert not (tmp_path / "reconstructions.png").exists() and not (tmp_path / "masks.png").exists()
    assert _png_size(written["attention"]) == (400, 460)  # 3 heads
    assert (
        _png_size(written["keys"]) == SIZES["keys"]
        and _png_size(written["pacmap"]) == SIZES["pacmap"]
    )
    printed = capsys.readouterr().out
    assert "reconstructions, masks skipped: method 'simclr' is not an MAE" in printed
    assert (
        "8 val images" in printed and "32 train images" in printed
    )  # one folder of 2 × 20: 20% of each class is val


def test_masks_are_seeded_and_features_follow_solo_learns_forward(digits_dir, tmp_path):
    _, model = build_model(digits_config("m-mae", digits_dir, tmp_path))
    model.eval()
    images = torch.randn(4, 3, 32, 32)
    mask, pred = analyze._masked_reconstruction(model, images, seed=3)
    again, _ = analyze._masked_reconstruction(model, images, seed=3)
    other, _ = analyze._masked_reconstruction(model, images, seed=4)
    assert mask.shape == (4, 16) and pred.shape == (4, 16, 8 * 8 * 3)
    assert mask.sum(1).tolist() == [12.0] * 4  # mask ratio 0.75 of 16 patches
    assert torch.equal(mask, again) and not torch.equal(mask, other)
    with torch.no_grad():
        tokens = analyze._tokens(model.backbone, images)
        assert torch.allclose(
            model.backbone.forward_head(tokens), model.backbone(images), atol=1e-5
        )


def test_smae_without_its_critic_falls_back_to_the_backbone(
    digits_dir, small_digits, tmp_path_factory, tmp_path, capsys
):
    critic = save_critic(tmp_path / "critic.pt", build_critic(10), 10, top1=10.0)
    run = _train(
        "smae",
        digits_dir,
        tmp_path_factory,
        f"++method_kwargs.smae.critic={critic}",
        "++method_kwargs.smae.calibration_batches=1",
        tiny_vit=True,
    )
    critic.unlink()
    written = _analyze(
        run,
        small_digits / "split",
        tmp_path / "out",
        "--classes",
        "2",
        "--figures",
        "reconstructions",
        "attention",
    )
    assert sorted(written) == ["attention"]
    assert _png_size(written["attention"]) == (400, 360)  # the tiny ViT: 2 heads (3: 460, 4: 560)
    assert "cannot rebuild method 'smae'" in capsys.readouterr().out


def test_existing_png_needs_overwrite(simclr_run, small_digits, tmp_path):
    (tmp_path / "keys.png").write_bytes(b"old")
    with pytest.raises(ConfigError, match=r"--out: .*keys\.png.*--overwrite"):
        _analyze(
            simclr_run, small_digits / "split", tmp_path, "--classes", "2", "--figures", "keys"
        )
    assert (tmp_path / "keys.png").read_bytes() == b"old"
    written = _analyze(
        simclr_run,
        small_digits / "split",
        tmp_path,
        "--classes",
        "2",
        "--figures",
        "keys",
        "--overwrite",
    )
    assert _png_size(written["keys"]) == SIZES["keys"]


def test_resnet_checkpoint_is_refused_naming_the_backbone(simclr_run, small_digits, tmp_path):
    run = tmp_path / "resnet"
    shutil.copytree(simclr_run, run)
    args = json.loads((run / "args.json").read_text())
    args["backbone"] = {"name": "resnet18", "kwargs": {}}
    (run / "args.json").write_text(json.dumps(args))
    with pytest.raises(ConfigError, match=r"backbone.name: 'resnet18'.*allowed: \[.*'vit_tiny'"):
        _analyze(run, small_digits / "split", tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--out", "OUT"], r"--data: required"),
        (["--data", "MISSING", "--out", "OUT"], r"--data: '.*missing' is not a folder"),
        (
            ["--data", "DATA", "--out", "OUT", "--classes", "11"],
            r"--classes: 11 is not allowed; .* has 3 classes",
        ),
        (
            ["--data", "DATA", "--out", "OUT", "--figures", "umap"],
            r"--figures: \['umap'\] is not allowed",
        ),
        (["--data", "DATA", "--out", "OUT", "--images", "0"], r"--images: 0 is not allowed"),
        (["--data", "DATA", "--out", "OUT", "--per_class", "x"], r"--per_class: invalid int value"),
        (
            ["--data", "DATA", "--out", "OUT", "--seed", "-1"],
            r"--seed: -1 is not allowed; expected a whole number >= 0",
        ),
    ],
)
def test_bad_flags_name_the_flag(simclr_run, small_digits, tmp_path, flags, message):
    paths = {
        "OUT": str(tmp_path / "out"),
        "MISSING": str(tmp_path / "missing"),
        "DATA": str(small_digits / "split"),
    }
    with pytest.raises(ConfigError, match=message):
        analyze.main([str(simclr_run), *(paths.get(flag, flag) for flag in flags)])


def test_checkpoint_without_args_json_is_refused(simclr_run, small_digits, tmp_path):
    lone = tmp_path / "lone.ckpt"
    shutil.copy(next(simclr_run.glob("*.ckpt")), lone)
    with pytest.raises(ConfigError, match=r"CKPT: .*lone\.ckpt has no args.json"):
        analyze.main(
            [str(lone), "--data", str(small_digits / "split"), "--out", str(tmp_path / "out")]
        )


def test_too_few_val_images_for_the_cluster_figure(simclr_run, digits_dir, tmp_path):
    for label in ("0", "1"):  # one folder of 3 images per class: 1 val image each
        (tmp_path / "few" / label).mkdir(parents=True)
        for image in sorted((digits_dir / "train" / label).iterdir())[:3]:
            shutil.copy(image, tmp_path / "few" / label / image.name)
    with pytest.raises(
        ConfigError, match=r"--data: 2 val images in 2 classes are too few for the PaCMAP figure"
    ):
        _analyze(simclr_run, tmp_path / "few", tmp_path / "out")
    written = _analyze(simclr_run, tmp_path / "few", tmp_path / "out", "--figures", "attention")
    assert _png_size(written["attention"]) == (400, 460)  # 2 images still need the minimum width
