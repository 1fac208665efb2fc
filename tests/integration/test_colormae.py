import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from solo.args.pretrain import parse_cfg
from solo.methods import METHODS

from solo_ext.config import ConfigError
from solo_ext.launch.pretrain import build_model, pretrain
from solo_ext.masking import generate_patterns, save_patterns
from tests.integration.helpers import digits_config


def model_for(digits_dir, tmp_path, *overrides):
    cfg = digits_config("colormae", digits_dir, tmp_path, *overrides, tiny_vit=True)
    OmegaConf.set_struct(cfg, False)
    return METHODS["colormae"](parse_cfg(cfg))


def test_training_masks_follow_the_pattern_bank(digits_dir, tmp_path):
    model = model_for(digits_dir, tmp_path)
    assert model.grid == 4 and "masker.bank" not in model.state_dict()
    assert "masker.bank" not in dict(
        model.named_buffers()
    )  # DDP broadcasts registered buffers every step
    images = torch.randn(6, 3, 32, 32)
    torch.manual_seed(0)
    out = model(images)
    # recompute the scores the masker drew: same RNG state, same call
    torch.manual_seed(0)
    scores = model.masker.scores(6, 4)
    kept = 1 - out["mask"]
    assert torch.equal(kept.sum(1), torch.full((6,), 4.0))  # int(16 * 0.25)
    for b in range(6):
        assert set(kept[b].nonzero().flatten().tolist()) == set(scores[b].topk(4).indices.tolist())
    model.eval()
    assert "mask" not in model(images)


def test_trains_through_the_launcher_with_online_eval(digits_dir, tmp_path):
    trainer = pretrain(digits_config("colormae", digits_dir, tmp_path, tiny_vit=True))
    assert {"train_reconstruction_loss", "val_acc1", "val_knn_acc1"} <= set(
        trainer.callback_metrics
    )
    ckpt = next((tmp_path / "trained_models" / "colormae").rglob("*.ckpt"))
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    assert not any("bank" in k for k in state)  # the bank never reaches a checkpoint


def test_pattern_file_and_schedule(digits_dir, tmp_path):
    path = save_patterns(tmp_path / "red.npz", generate_patterns("red", num=8, size=16, seed=3))
    model = model_for(
        digits_dir,
        tmp_path,
        f"++method_kwargs.colormae.patterns={path}",
        "++method_kwargs.colormae.schedule=[{start_epoch: 1, color: blue}]",
    )
    assert torch.equal(model.masker.bank, torch.from_numpy(np.load(path)["patterns"]))

    class Epoch:  # the bank in use is a function of the epoch, as after a resume
        current_epoch = 1

    type(model).current_epoch = property(lambda self: Epoch.current_epoch)
    try:
        model.on_train_epoch_start()
        assert model.masker.bank.shape == (256, 64, 64)  # generated blue bank (digits zoo size)
        expected = torch.from_numpy(generate_patterns("blue", 256, 64, 0))
        assert torch.equal(model.masker.bank, expected)
    finally:
        del type(model).current_epoch


@pytest.mark.parametrize(
    "override,key",
    [
        ("++method_kwargs.colormae.color=pink", "method_kwargs.colormae.color"),
        ("++method_kwargs.colormae.patterns=/missing/bank.npz", "method_kwargs.colormae.patterns"),
        ("++method_kwargs.colormae.pattern_size=2", "method_kwargs.colormae.pattern_size"),
        ("method_kwargs.mask_ratio=0", "method_kwargs.mask_ratio"),
        ("++method_kwargs.colormae.mode=shared", "method_kwargs.colormae.mode"),
        (
            ("++method_kwargs.colormae.num_patterns=8", "++method_kwargs.colormae.mode=official"),
            "method_kwargs.colormae.mode",
        ),
    ],
)
def test_bad_config_names_the_key(override, key, digits_dir, tmp_path):
    overrides = (override,) if isinstance(override, str) else override
    with pytest.raises(ConfigError, match=key):
        build_model(digits_config("colormae", digits_dir, tmp_path, *overrides, tiny_vit=True))
