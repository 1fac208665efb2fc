"""One test per config check: generated from the key tables, and test_rule_<id> for every pure rule
(tests/integration/test_config_rules.py holds the rules that need solo-learn)."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from dev.config_docs import render
from solo_ext.config import (
    METHOD_KWARGS,
    REQUIRED,
    RULES,
    ColorMAESettings,
    ConfigError,
    MagmaSettings,
    SMAESettings,
    ViCMAESettings,
    check_method_kwargs,
    config_key,
)
from solo_ext.config.training import check_patch_size, check_training_keys

HOST_VALID = {
    "MAE": {"decoder_embed_dim": 8, "decoder_depth": 1, "decoder_num_heads": 2},
    "SimCLR": {"proj_hidden_dim": 8, "proj_output_dim": 4, "temperature": 0.2},
    "VICReg": {"proj_hidden_dim": 8, "proj_output_dim": 4},
}
SECTION_VALID = {"smae": {"alpha": 0.0}}  # alpha 0 needs no critic file
SECTION_PARSERS = {
    "magma": lambda kwargs: MagmaSettings.from_method_kwargs(kwargs, MagmaSettings()),
    "smae": SMAESettings.from_method_kwargs,
    "colormae": ColorMAESettings.from_method_kwargs,
    "vicmae": ViCMAESettings.from_method_kwargs,
}


def parse(method, kwargs):
    """What a method does with its method_kwargs at config time: the table, then its section."""
    kwargs = OmegaConf.create(kwargs)
    check_method_kwargs(method, kwargs)
    table = METHOD_KWARGS[method]
    return SECTION_PARSERS[table.section](kwargs)


def valid(method):
    table = METHOD_KWARGS[method]
    return {**HOST_VALID[table.host], table.section: dict(SECTION_VALID.get(table.section, {}))}


def bad_values(field):
    """(description, value) pairs that break the field: wrong types and each bound."""
    wrong_type = {
        "int": [1.5, "3", True],
        "number": ["0.5", True],
        "bool": ["yes", 1],
        "choice": ["nope", 3],
        "str": [5, ""],
        "int_list": [[], ["a"], 1.5],
        "list": ["x", {"a": 1}],
    }[field.kind]
    cases = [(f"type {type(v).__name__}", v) for v in wrong_type]
    if field.low is not None:
        cases.append(("below low", field.low if field.low_open else field.low - 1))
    if field.high is not None:
        cases.append(("above high", field.high if field.high_open else field.high + 1))
    if not field.nullable and field.kind not in ("list",):
        cases.append(("null", None))
    return cases


KEY_CASES = []
for method, table in METHOD_KWARGS.items():
    for field in table.fields:
        for what, value in bad_values(field):
            KEY_CASES.append(
                pytest.param(method, None, field, value, id=f"{method}-{field.name}-{what}")
            )
    for field in table.section_fields:
        for what, value in bad_values(field):
            KEY_CASES.append(
                pytest.param(
                    method,
                    table.section,
                    field,
                    value,
                    id=f"{method}-{table.section}.{field.name}-{what}",
                )
            )


@pytest.mark.parametrize("method,section,field,value", KEY_CASES)
def test_key_check(method, section, field, value):
    kwargs = valid(method)
    (kwargs[section] if section else kwargs)[field.name] = value
    key = f"method_kwargs.{section + '.' if section else ''}{field.name}"
    with pytest.raises(ConfigError) as err:
        parse(method, kwargs)
    message = str(err.value)
    assert message.startswith(f"{key}: ") and repr(value) in message and field.allowed() in message


@pytest.mark.parametrize("method", list(METHOD_KWARGS))
def test_valid_configs_parse_with_defaults(method):
    kwargs = valid(method)
    checked = check_method_kwargs(method, OmegaConf.create(kwargs))
    for field in METHOD_KWARGS[method].fields:
        if field.default is not REQUIRED and field.name not in kwargs:
            assert checked[field.name] == field.default
    parse(method, kwargs)


def test_rule_unknown_key():
    for method, table in METHOD_KWARGS.items():
        typo = {**valid(method), "mask_ratoi": 0.5}
        with pytest.raises(
            ConfigError, match=r"method_kwargs: unknown key\(s\) \['mask_ratoi'\]; allowed: .*"
        ):
            parse(method, typo)
        in_section = valid(method)
        in_section[table.section]["wieght"] = 1
        with pytest.raises(
            ConfigError, match=rf"method_kwargs.{table.section}: unknown key\(s\) \['wieght'\]"
        ):
            parse(method, in_section)


def test_rule_required_key():
    for method, table in METHOD_KWARGS.items():
        for field in table.fields:
            if field.default is REQUIRED:
                kwargs = valid(method)
                del kwargs[field.name]
                with pytest.raises(
                    ConfigError, match=rf"method_kwargs.{field.name}: missing; expected"
                ):
                    parse(method, kwargs)


def test_rule_decoder_heads_divide():
    kwargs = {**valid("m_mae"), "decoder_embed_dim": 10, "decoder_num_heads": 4}
    with pytest.raises(
        ConfigError, match="method_kwargs.decoder_num_heads: 4 does not divide decoder_embed_dim 10"
    ):
        parse("m_mae", kwargs)


def test_rule_smae_critic_required():
    kwargs = valid("smae")
    kwargs["smae"] = {"alpha": 0.5}
    with pytest.raises(
        ConfigError, match="method_kwargs.smae.critic: null is not allowed with alpha 0.5"
    ):
        parse("smae", kwargs)


def test_rule_smae_critic_file(tmp_path):
    from solo_ext.losses import load_critic_features

    kwargs = valid("smae")
    kwargs["smae"] = {"alpha": 0.5, "critic": str(tmp_path / "missing.pt")}
    with pytest.raises(
        ConfigError, match="method_kwargs.smae.critic: .*missing.pt' is not an existing file"
    ):
        parse("smae", kwargs)
    wrong = tmp_path / "wrong.pt"
    torch.save({"arch": "resnet18", "state_dict": {}}, wrong)
    with pytest.raises(
        ConfigError, match="method_kwargs.smae.critic: .* is not a squeezenet1_1 critic"
    ):
        with config_key("method_kwargs.smae.critic"):  # as the SMAE glue loads it
            load_critic_features(wrong)


def test_rule_colormae_patterns_file(tmp_path):
    from solo_ext.masking import load_patterns

    kwargs = valid("colormae")
    kwargs["colormae"] = {"patterns": str(tmp_path / "none.npz")}
    with pytest.raises(
        ConfigError, match="method_kwargs.colormae.patterns: .*none.npz' is not an existing file"
    ):
        parse("colormae", kwargs)
    kwargs["colormae"] = {"schedule": [{"start_epoch": 3, "patterns": str(tmp_path / "later.npz")}]}
    with pytest.raises(
        ConfigError,
        match=r"method_kwargs.colormae.schedule\[0\].patterns: .*later.npz' is not an existing file",
    ):
        parse("colormae", kwargs)
    small = tmp_path / "small.npz"
    np.savez(small, np.zeros((4, 6, 6), dtype=np.float32))
    with pytest.raises(
        ConfigError,
        match="method_kwargs.colormae.patterns: patterns of .* are 6² but the patch grid is 8²",
    ):
        with config_key("method_kwargs.colormae.patterns"):  # as the ColorMAE glue loads it
            load_patterns(small, min_size=8)
    nan = tmp_path / "nan.npz"
    np.savez(nan, np.full((2, 8, 8), np.nan, dtype=np.float32))
    with pytest.raises(
        ConfigError, match="method_kwargs.colormae.patterns: pattern file .* contains NaN"
    ):
        with config_key("method_kwargs.colormae.patterns"):
            load_patterns(nan, min_size=8)


def test_rule_colormae_schedule_entry():
    for entry, where in (
        ({"color": "red"}, r"schedule\[0\]"),
        ({"start_epoch": 2, "color": "red", "patterns": "x.npz"}, r"schedule\[0\]"),
        ({"start_epoch": 2, "colour": "red"}, r"schedule\[0\]"),
        ({"start_epoch": -1, "color": "red"}, r"schedule\[0\].start_epoch"),
        ({"start_epoch": 2, "color": "pink"}, r"schedule\[0\].color"),
    ):
        kwargs = valid("colormae")
        kwargs["colormae"] = {"schedule": [entry]}
        with pytest.raises(ConfigError, match=rf"method_kwargs.colormae.{where}: "):
            parse("colormae", kwargs)
    kwargs = valid("colormae")
    kwargs["colormae"] = {
        "color": "green",
        "schedule": [{"start_epoch": 5, "color": "blue"}, {"start_epoch": 2, "color": "red"}],
    }
    settings = parse("colormae", kwargs)
    assert [settings.source_for_epoch(e)[0] for e in (0, 2, 5)] == ["green", "red", "blue"]


def test_rule_vicmae_learnable_temperature():
    kwargs = valid("vicmae")
    kwargs["vicmae"] = {"learnable_temperature": True, "loss": "nt_xent"}
    with pytest.raises(
        ConfigError,
        match="method_kwargs.vicmae.learnable_temperature: true is not allowed with loss 'nt_xent'",
    ):
        parse("vicmae", kwargs)
    kwargs["vicmae"]["loss"] = "clip"
    assert parse("vicmae", kwargs).learnable_temperature


def test_rule_video_source(tmp_path):
    from torchvision import transforms

    from solo_ext.data.frame_pairs import FramePairDataset

    views = [transforms.ToTensor()] * 2
    with pytest.raises(FileNotFoundError, match="data.train_path: .* is not a folder of clips"):
        FramePairDataset(tmp_path / "absent", views)
    with pytest.raises(FileNotFoundError, match="data.train_path: .* holds no clip"):
        FramePairDataset(tmp_path, views)
    with pytest.raises(ValueError, match="data.max_frame_gap: 1.5 is not allowed"):
        FramePairDataset(tmp_path, views, max_frame_gap=1.5)


# The rules whose violation needs solo-learn (a built model, a launcher): refused in
# tests/integration/test_config_rules.py::test_solo_learn_rule_refuses_with_its_documented_key.
SOLO_LEARN_RULES = (
    "masking_vit",
    "magma_vit",
    "magma_layers_in_depth",
    "magma_reference_not_target",
    "large_crops",
    "vicmae_crops",
    "colormae_pattern_size",
    "colormae_official_batch",
    "vicmae_clip_temperature",
    "devices_list",
    "linear_backbone",
    "head_batchnorm",
    "batch_fits_train_set",
    "magma_window_opens",
)


def with_section(method, **section):
    kwargs = valid(method)
    kwargs[METHOD_KWARGS[method].section].update(section)
    return kwargs


def absent_clips(tmp_path):
    from torchvision import transforms

    from solo_ext.data.frame_pairs import FramePairDataset

    FramePairDataset(tmp_path / "absent", [transforms.ToTensor()] * 2)


def training_cfg(max_epochs=2, batch_size=8):
    return OmegaConf.create({"max_epochs": max_epochs, "optimizer": {"batch_size": batch_size}})


def val_lacks_a_class(tmp_path):
    from solo_ext.launch.data import check_split_classes

    for split, classes in (("train", "abc"), ("val", "ac")):
        for name in classes:
            (tmp_path / split / name).mkdir(parents=True)
            (tmp_path / split / name / "0.png").write_bytes(b"")
    check_split_classes(
        "custom", "image_folder", tmp_path / "train", tmp_path / "val", "data.val_path"
    )


# rule id -> (the key its error must start with, the smallest violation)
PURE_VIOLATIONS = {
    "unknown_key": (
        "method_kwargs",
        lambda tmp: parse("m_mae", {**valid("m_mae"), "mask_ratoi": 0.5}),
    ),
    "required_key": (
        "method_kwargs.temperature",
        lambda tmp: parse(
            "m_simclr", {k: v for k, v in valid("m_simclr").items() if k != "temperature"}
        ),
    ),
    "decoder_heads_divide": (
        "method_kwargs.decoder_num_heads",
        lambda tmp: parse(
            "m_mae", {**valid("m_mae"), "decoder_embed_dim": 10, "decoder_num_heads": 4}
        ),
    ),
    "smae_critic_required": (
        "method_kwargs.smae.critic",
        lambda tmp: parse("smae", with_section("smae", alpha=0.5)),
    ),
    "smae_critic_file": (
        "method_kwargs.smae.critic",
        lambda tmp: parse("smae", with_section("smae", alpha=0.5, critic=str(tmp / "missing.pt"))),
    ),
    "colormae_patterns_file": (
        "method_kwargs.colormae.patterns",
        lambda tmp: parse("colormae", with_section("colormae", patterns=str(tmp / "none.npz"))),
    ),
    "colormae_schedule_entry": (
        "method_kwargs.colormae.schedule[0].color",
        lambda tmp: parse(
            "colormae", with_section("colormae", schedule=[{"start_epoch": 2, "color": "pink"}])
        ),
    ),
    "vicmae_learnable_temperature": (
        "method_kwargs.vicmae.learnable_temperature",
        lambda tmp: parse(
            "vicmae", with_section("vicmae", learnable_temperature=True, loss="nt_xent")
        ),
    ),
    "video_source": ("data.train_path", absent_clips),
    "max_epochs_whole": (
        "max_epochs",
        lambda tmp: check_training_keys(training_cfg(max_epochs=0)),
    ),
    "batch_size_whole": (
        "optimizer.batch_size",
        lambda tmp: check_training_keys(training_cfg(batch_size=0)),
    ),
    "patch_divides_image": (
        "backbone.kwargs.patch_size",
        lambda tmp: check_patch_size(
            OmegaConf.create(
                {
                    "backbone": {"name": "vit_tiny", "kwargs": {"patch_size": 5}},
                    "augmentations": [{"crop_size": 32}],
                }
            )
        ),
    ),
    "val_class_folders": ("data.val_path", val_lacks_a_class),
}


def documented_key(rule):
    """The key docs/config-checks.md names for a rule, up to its first placeholder ('<', '*', '[i]', ' / ')."""
    return re.split(r"[ <*\[]", rule.key)[0].rstrip(".")


def test_solo_learn_rules_are_rules():
    assert set(SOLO_LEARN_RULES) <= {rule.id for rule in RULES}


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.id not in SOLO_LEARN_RULES], ids=lambda rule: rule.id
)
def test_rule_refuses_with_its_documented_key(rule, tmp_path):
    """Every rule that needs no solo-learn, violated: one error whose message starts with the rule's key."""
    assert rule.id in PURE_VIOLATIONS, (
        f"rule {rule.id!r}: no violation here and not in SOLO_LEARN_RULES"
    )
    key, violate = PURE_VIOLATIONS[rule.id]
    with pytest.raises((ConfigError, ValueError, FileNotFoundError)) as err:
        violate(tmp_path)
    assert key.startswith(documented_key(rule)) and str(err.value).startswith(f"{key}: "), str(
        err.value
    )


def test_docs_are_current():
    docs = Path(__file__).resolve().parents[2] / "docs" / "config-checks.md"
    assert docs.read_text() == render(), (
        "docs/config-checks.md is stale: run python -m dev.config_docs"
    )
