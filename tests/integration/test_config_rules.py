"""test_rule_<id> for the config rules that need solo-learn (the pure ones are in tests/core/test_config_checks.py)."""

import pytest
import torch
from omegaconf import OmegaConf

from solo_ext.config import ConfigError
from solo_ext.config.rules import WARNING
from solo_ext.launch.evaluate import linear
from solo_ext.launch.pretrain import build_model, pretrain
from tests.core.test_config_checks import RULES, SOLO_LEARN_RULES, documented_key
from tests.integration.helpers import digits_config


def refused(method_file, digits_dir, tmp_path, *overrides, match):
    with pytest.raises(ConfigError, match=match):
        build_model(digits_config(method_file, digits_dir, tmp_path, *overrides))


@pytest.mark.parametrize("method_file", ["m-mae", "u-mae", "mu-mae", "colormae", "vicmae"])
def test_rule_masking_vit(method_file, digits_dir, tmp_path):
    refused(
        method_file,
        digits_dir,
        tmp_path,
        "backbone.name=resnet18",
        match=r"backbone.name: 'resnet18' is not allowed .*allowed: "
        r"\['vit_tiny', 'vit_small', 'vit_base', 'vit_large', 'vit_lite'\]",
    )


@pytest.mark.parametrize("method_file", ["m-simclr", "m-vicreg"])
def test_rule_magma_vit(method_file, digits_dir, tmp_path):
    refused(
        method_file,
        digits_dir,
        tmp_path,
        "backbone.name=resnet18",
        match=r"backbone.name: 'resnet18' is not allowed .*MAGMA",
    )


def test_rule_magma_layers_in_depth(digits_dir, tmp_path):
    refused(
        "m-mae",
        digits_dir,
        tmp_path,
        "++method_kwargs.magma.reference_layers=[12]",
        match=r"method_kwargs.magma.reference_layers: 12 is not a block of this backbone; "
        r"allowed: integers in \[-12, 11\]",
    )
    refused(
        "m-vicreg",
        digits_dir,
        tmp_path,
        "++method_kwargs.magma.target_layer=-13",
        match="method_kwargs.magma.target_layer: -13",
    )


def test_rule_magma_reference_not_target(digits_dir, tmp_path):
    refused(
        "m-mae",
        digits_dir,
        tmp_path,
        "++method_kwargs.magma.reference_layers=[11]",
        match="method_kwargs.magma.reference_layers: every reference layer equals target_layer",
    )


@pytest.mark.parametrize(
    "method_file,override",
    [
        ("m-simclr", "augmentations.0.num_crops=1"),
        ("m-vicreg", "augmentations.0.num_crops=2"),
        ("vicmae", "augmentations.1.num_crops=2"),
    ],
)
def test_rule_large_crops(method_file, override, digits_dir, tmp_path):
    refused(
        method_file,
        digits_dir,
        tmp_path,
        override,
        match=r"augmentations: method .* cannot train with \d large crop\(s\).*allowed: \[2\]",
    )


def test_rule_vicmae_crops(digits_dir, tmp_path):
    from solo.args.pretrain import parse_cfg
    from solo.methods import METHODS

    cfg = digits_config(
        "vicmae", digits_dir, tmp_path, "augmentations.1.crop_size=16"
    )  # 1 large + 1 small crop
    OmegaConf.set_struct(cfg, False)
    with pytest.raises(
        ConfigError,
        match="augmentations: ViC-MAE trains on exactly 2 large crops and no small ones; got 1 large and 1 small",
    ):
        METHODS["vicmae"](parse_cfg(cfg))  # as solo-learn's main_pretrain.py builds it


def test_rule_colormae_pattern_size(digits_dir, tmp_path):
    refused(
        "colormae",
        digits_dir,
        tmp_path,
        "++method_kwargs.colormae.pattern_size=8",
        "backbone.kwargs.patch_size=2",
        match="method_kwargs.colormae.pattern_size: 8 is smaller than the patch grid",
    )


def test_rule_colormae_official_batch(digits_dir, tmp_path):
    refused(
        "colormae",
        digits_dir,
        tmp_path,
        "++method_kwargs.colormae.num_patterns=8",
        "++method_kwargs.colormae.mode=official",
        match=r"method_kwargs.colormae.mode: 'official' draws patterns 0..B-1 but "
        r"optimizer.batch_size=16 exceeds the 8 patterns",
    )


@pytest.mark.parametrize("learnable", ["true", "false"])
def test_rule_vicmae_clip_temperature(learnable, digits_dir, tmp_path):
    refused(
        "vicmae-paper",
        digits_dir,
        tmp_path,
        "method_kwargs.vicmae.temperature=0.005",
        f"++method_kwargs.vicmae.learnable_temperature={learnable}",
        match=r"method_kwargs.vicmae.temperature: 0.005 is not allowed with loss: clip.*allowed: a number >= 0.01",
    )


@pytest.mark.parametrize("devices", ["0", "-1", "abc", "'0,x'", "[]"])
def test_rule_devices_list(devices, digits_dir, tmp_path):
    refused(
        "m-mae",
        digits_dir,
        tmp_path,
        f"devices={devices}",
        match=r"devices: .* is not allowed; expected a list of device ids",
    )


@pytest.mark.parametrize(
    "devices,expected", [("1", [0]), ("2", [0, 1]), ("'1'", [0]), ("'0,1'", [0, 1]), ("[3]", [3])]
)
def test_devices_count_or_string_becomes_the_id_list(devices, expected):
    from omegaconf import OmegaConf

    from solo_ext.launch.common import check_devices

    cfg = OmegaConf.create(f"devices: {devices}")
    check_devices(cfg)
    assert list(cfg.devices) == expected


def test_rule_smae_critic_file_at_model_construction(digits_dir, tmp_path):
    bad = tmp_path / "not-a-critic.pt"
    torch.save({"weights": torch.zeros(3)}, bad)
    refused(
        "smae",
        digits_dir,
        tmp_path,
        f"method_kwargs.smae.critic={bad}",
        match="method_kwargs.smae.critic: .* is not a squeezenet1_1 critic",
    )


@pytest.fixture(scope="module")
def m_mae_checkpoint(digits_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("rules_run")
    pretrain(digits_config("m-mae", digits_dir, out, tiny_vit=True))
    return next((out / "trained_models").rglob("*.ckpt"))


def test_rule_linear_backbone(m_mae_checkpoint, digits_dir, tmp_path):
    cfg = digits_config(
        "linear",
        digits_dir,
        tmp_path,
        f"pretrained_feature_extractor='{m_mae_checkpoint}'",
        "+backbone.name=vit_small",
        task="linear",
    )
    with pytest.raises(
        ConfigError,
        match=r"backbone.name: 'vit_small' differs from the backbone the checkpoint was trained with \('vit_lite'\)",
    ):
        linear(cfg)


def test_rule_head_batchnorm(m_mae_checkpoint, digits_dir, tmp_path):
    cfg = digits_config(
        "linear",
        digits_dir,
        tmp_path,
        f"pretrained_feature_extractor='{m_mae_checkpoint}'",
        "++head_batchnorm=1",
        task="linear",
    )
    with pytest.raises(
        ConfigError, match="head_batchnorm: 1 is not allowed; expected true or false"
    ):
        linear(cfg)


def vicmae_one_large_crop(digits_dir, tmp_path):
    from solo.args.pretrain import parse_cfg
    from solo.methods import METHODS

    cfg = digits_config("vicmae", digits_dir, tmp_path, "augmentations.1.crop_size=16")
    OmegaConf.set_struct(cfg, False)
    METHODS["vicmae"](parse_cfg(cfg))


def linear_with(checkpoint, digits_dir, tmp_path, override):
    linear(
        digits_config(
            "linear",
            digits_dir,
            tmp_path,
            f"pretrained_feature_extractor='{checkpoint}'",
            override,
            task="linear",
        )
    )


def model(method_file, *overrides):
    return lambda digits_dir, tmp_path, _: build_model(
        digits_config(method_file, digits_dir, tmp_path, *overrides)
    )


# rule id -> (the key its error must start with, the smallest violation(digits_dir, tmp_path, m-mae checkpoint))
SOLO_LEARN_VIOLATIONS = {
    "masking_vit": ("backbone.name", model("colormae", "backbone.name=resnet18")),
    "magma_vit": ("backbone.name", model("m-simclr", "backbone.name=resnet18")),
    "magma_layers_in_depth": (
        "method_kwargs.magma.reference_layers",
        model("m-mae", "++method_kwargs.magma.reference_layers=[12]"),
    ),
    "magma_reference_not_target": (
        "method_kwargs.magma.reference_layers",
        model("m-mae", "++method_kwargs.magma.reference_layers=[11]"),
    ),
    "large_crops": ("augmentations", model("m-simclr", "augmentations.0.num_crops=1")),
    "vicmae_crops": (
        "augmentations",
        lambda digits_dir, tmp_path, _: vicmae_one_large_crop(digits_dir, tmp_path),
    ),
    "colormae_pattern_size": (
        "method_kwargs.colormae.pattern_size",
        model(
            "colormae", "++method_kwargs.colormae.pattern_size=8", "backbone.kwargs.patch_size=2"
        ),
    ),
    "colormae_official_batch": (
        "method_kwargs.colormae.mode",
        model(
            "colormae",
            "++method_kwargs.colormae.num_patterns=8",
            "++method_kwargs.colormae.mode=official",
        ),
    ),
    "vicmae_clip_temperature": (
        "method_kwargs.vicmae.temperature",
        model("vicmae-paper", "method_kwargs.vicmae.temperature=0.005"),
    ),
    "devices_list": ("devices", model("m-mae", "devices=0")),
    "linear_backbone": (
        "backbone.name",
        lambda d, t, ckpt: linear_with(ckpt(), d, t, "+backbone.name=vit_small"),
    ),
    "head_batchnorm": (
        "head_batchnorm",
        lambda d, t, ckpt: linear_with(ckpt(), d, t, "++head_batchnorm=1"),
    ),
    "batch_fits_train_set": (
        "optimizer.batch_size",
        lambda d, t, _: pretrain(digits_config("m-mae", d, t, "optimizer.batch_size=4096")),
    ),
    "magma_window_opens": (
        "method_kwargs.magma.start_epoch",
        model("m-mae", "max_epochs=2", "method_kwargs.magma.start_epoch=2"),
    ),
}


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.id in SOLO_LEARN_RULES], ids=lambda rule: rule.id
)
def test_solo_learn_rule_refuses_with_its_documented_key(rule, digits_dir, tmp_path, request):
    """The other half of tests/core/test_config_checks.py::test_rule_refuses_with_its_documented_key."""
    assert rule.id in SOLO_LEARN_VIOLATIONS, (
        f"rule {rule.id!r} is in SOLO_LEARN_RULES but has no violation here"
    )
    key, violate = SOLO_LEARN_VIOLATIONS[rule.id]
    checkpoint = lambda: request.getfixturevalue("m_mae_checkpoint")  # noqa: E731
    if rule.where.endswith(WARNING):  # it warns, once, and the model is built
        with pytest.warns(UserWarning) as caught:
            assert violate(digits_dir, tmp_path, checkpoint) is not None
        messages = [str(w.message) for w in caught if str(w.message).startswith(f"{key}: ")]
        assert len(messages) == 1, [str(w.message) for w in caught]
        assert key.startswith(documented_key(rule))
        return
    with pytest.raises(ConfigError) as err:
        violate(digits_dir, tmp_path, checkpoint)
    assert key.startswith(documented_key(rule)) and str(err.value).startswith(f"{key}: "), str(
        err.value
    )
