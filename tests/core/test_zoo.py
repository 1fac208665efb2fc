from collections.abc import Mapping
from pathlib import Path
from typing import Dict, Tuple

import pytest
import yaml

from dev.zoo import DATASETS, generate, zoo_presets
from solo_ext.config import SPECS
from solo_ext.config.specs import HOSTS, Preset

ZOO = Path(__file__).resolve().parents[2] / "zoo_configs"


def test_committed_zoo_matches_the_tables():
    for relative, text in generate().items():
        assert (ZOO / relative).read_text() == text, f"{relative} is stale: run python -m dev.zoo"


ABSENT = "<absent>"


def _host(method: str) -> str:
    return method if method in HOSTS else SPECS[method].host


def declared_difference(a: Tuple[str, Preset], b: Tuple[str, Preset]) -> set:
    """The dotted keys two presets' declarations ((yaml method, Preset), as the specs give them) set
    differently: ``method``, a top-level method_kwargs key, a section's key, or a whole section that only
    one of them has (the recipe completes a section with the dataset's values)."""
    (method_a, preset_a), (method_b, preset_b) = a, b
    keys = {"method"} if method_a != method_b else set()
    kwargs_a, kwargs_b = preset_a.method_kwargs, preset_b.method_kwargs
    for key in kwargs_a.keys() | kwargs_b.keys():
        value_a, value_b = kwargs_a.get(key, ABSENT), kwargs_b.get(key, ABSENT)
        if isinstance(value_a, Mapping) and isinstance(value_b, Mapping):
            keys |= {
                f"method_kwargs.{key}.{k}"
                for k in value_a.keys() | value_b.keys()
                if value_a.get(k, ABSENT) != value_b.get(k, ABSENT)
            }
        elif value_a != value_b:
            keys.add(f"method_kwargs.{key}")
    return keys


def comparable_pairs() -> Dict[Tuple[str, str], set]:
    """{(preset, preset): the dotted keys their yaml files may differ in besides the name}, for every two
    presets of one recipe and variant whose methods extend the same solo-learn method: a baseline and
    its variant share all settings but what the variant's paper adds (its declaration in the spec)."""
    presets = zoo_presets()
    pairs = {}
    for i, (method_a, a) in enumerate(presets):
        for method_b, b in presets[i + 1 :]:
            if (a.recipe, a.variant, _host(method_a)) == (b.recipe, b.variant, _host(method_b)):
                pairs[a.stem, b.stem] = declared_difference((method_a, a), (method_b, b))
    return pairs


PAIRS = comparable_pairs()


def test_every_method_is_compared_with_its_baseline_preset():
    """Each spec's own presets on its baseline preset's recipe are pairs with that preset, and the pairs
    allow no more than the declarations differ in (M-MAE: its section; MU-MAE against U-MAE: MAGMA's
    section only; ViC-MAE against its two-view MAE: the two loss weights)."""
    stems = {preset.stem: (method, preset) for method, preset in zoo_presets()}
    for spec in SPECS.values():
        _, base = stems[spec.baseline_preset]
        for preset in spec.presets:
            same_recipe = (preset.recipe, preset.variant) == (base.recipe, base.variant)
            if preset.method is None and same_recipe and preset is not base:
                assert {(base.stem, preset.stem), (preset.stem, base.stem)} & set(PAIRS), preset
    assert PAIRS["mae", "m-mae"] == {"method", "method_kwargs.magma"}
    assert PAIRS["u-mae", "mu-mae"] == {"method", "method_kwargs.magma"}
    assert PAIRS["m-mae", "mu-mae"] == {"method", "method_kwargs.uniformity_weight"}
    assert PAIRS["mae-lite", "smae-block"] == {
        "method",
        "method_kwargs.mask_ratio",
        "method_kwargs.smae",
    }  # blocks cover 50%
    assert PAIRS["vicmae", "vicmae-mae"] == {
        "method_kwargs.vicmae.rec_weight",
        "method_kwargs.vicmae.con_weight",
    }


def flat(tree, prefix=""):
    """{dotted key: leaf} of a loaded yaml (lists are leaves)."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    leaves = {}
    for key, value in tree.items():
        leaves.update(flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return leaves


def differing_keys(a: dict, b: dict) -> set:
    a, b = flat(a), flat(b)
    return {key for key in a.keys() | b.keys() if a.get(key, "<absent>") != b.get(key, "<absent>")}


def test_flat_diff_sees_changed_added_and_removed_leaves():
    a = {
        "name": "x",
        "optimizer": {"lr": 1.0, "kwargs": {"betas": [0.9, 0.95]}},
        "method_kwargs": {"magma": {"weight": 1}},
    }
    b = {
        "name": "y",
        "optimizer": {"lr": 1.0, "kwargs": {"betas": [0.9, 0.999]}},
        "method_kwargs": {},
        "extra": 0,
    }
    assert differing_keys(a, b) == {
        "name",
        "optimizer.kwargs.betas",
        "method_kwargs.magma.weight",
        "extra",
    }


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_pairs_differ_only_by_what_the_paper_adds(dataset):
    pairs = [
        pair
        for pair in PAIRS
        if all((ZOO / f"pretrain/{dataset}/{stem}.yaml").exists() for stem in pair)
    ]
    if dataset == "fashion-mnist":
        assert pairs == list(PAIRS)  # every comparison of the zoo exists on Fashion-MNIST
    assert pairs, dataset
    for base, variant in pairs:
        a, b = (
            yaml.safe_load((ZOO / f"pretrain/{dataset}/{stem}.yaml").read_text())
            for stem in (base, variant)
        )
        changed = differing_keys(a, b) - {"name"}
        allowed = PAIRS[base, variant]
        outside = {
            key for key in changed if not any(key == k or key.startswith(k + ".") for k in allowed)
        }
        assert not outside, (dataset, base, variant, outside)
        assert changed - {"method"}, (dataset, base, variant, "the variant adds nothing")


def test_vicmae_baseline_is_the_code_preset_without_the_contrastive_term():
    for dataset in DATASETS:
        if not (ZOO / f"pretrain/{dataset}/vicmae-mae.yaml").exists():
            continue
        code = yaml.safe_load((ZOO / f"pretrain/{dataset}/vicmae.yaml").read_text())[
            "method_kwargs"
        ]["vicmae"]
        base = yaml.safe_load((ZOO / f"pretrain/{dataset}/vicmae-mae.yaml").read_text())[
            "method_kwargs"
        ]["vicmae"]
        assert (base["rec_weight"], base["con_weight"]) == (1.0, 0.0)
        assert code["con_weight"] > 0 and code["con_start_epoch"] == 0


def test_vicmae_follows_the_official_optimiser_and_views():
    """The official code: timm's parameter groups (no weight decay on biases and norm layers; solo-learn's
    exclude_bias_n_norm_wd splits 1-d parameters the same way) and Gaussian blur on view 1 only."""
    presets = sorted(ZOO.glob("pretrain/*/vicmae*.yaml"))
    assert len(presets) == 3 * len({p.parent for p in presets})
    for path in presets:
        assert yaml.safe_load(path.read_text())["optimizer"]["exclude_bias_n_norm_wd"] is True, path
    for dataset in ("imagenet", "imagenet100"):
        first, second = yaml.safe_load(
            (ZOO / f"pretrain/{dataset}/augmentations/vicmae-code.yaml").read_text()
        )
        assert (first["gaussian_blur"]["prob"], second["gaussian_blur"]["prob"]) == (1.0, 0.0)
        assert (first["solarization"]["prob"], second["solarization"]["prob"]) == (0.0, 0.2)


def test_fashion_mnist_is_digits_scaled_to_its_epochs():
    """Same CPU recipe as digits (every preset, batch 64, fp32, 2 workers, 32 px), 20 epochs, MAGMA's start at
    the same fraction of training, the dataset's own statistics and flips."""
    stems = lambda dataset, task: sorted(
        p.relative_to(ZOO / task / dataset) for p in (ZOO / task / dataset).rglob("*.yaml")
    )  # noqa: E731
    for task in ("pretrain", "linear"):
        assert stems("fashion-mnist", task) == stems("digits", task)
    for stem in ("m-mae", "m-simclr", "m-vicreg", "mu-mae"):
        digits = yaml.safe_load((ZOO / f"pretrain/digits/{stem}.yaml").read_text())
        fashion = yaml.safe_load((ZOO / f"pretrain/fashion-mnist/{stem}.yaml").read_text())
        assert (
            fashion["max_epochs"] == 20
            and fashion["accelerator"] == "cpu"
            and fashion["precision"] == 32
        )
        assert fashion["data"]["num_workers"] == 2 and fashion["optimizer"]["batch_size"] == 64
        assert fashion["data"]["train_path"] == "./data/fashion-mnist/train"
        fraction = digits["method_kwargs"]["magma"]["start_epoch"] / digits["max_epochs"]
        assert fashion["method_kwargs"]["magma"]["start_epoch"] == round(
            fraction * fashion["max_epochs"]
        )
        assert (
            fashion["method_kwargs"]["magma"]["weight"]
            == digits["method_kwargs"]["magma"]["weight"]
            < 1
        )
    smae = yaml.safe_load((ZOO / "pretrain/fashion-mnist/smae.yaml").read_text())
    assert smae["backbone"]["kwargs"]["img_size"] == 64
    assert smae["method_kwargs"]["smae"]["critic"] == "./critics/fashion-mnist-squeezenet1_1.pt"
    colormae = yaml.safe_load((ZOO / "pretrain/fashion-mnist/colormae.yaml").read_text())[
        "method_kwargs"
    ]["colormae"]
    assert colormae["num_patterns"] <= 256
    aug = yaml.safe_load(
        (ZOO / "pretrain/fashion-mnist/augmentations/reconstruction.yaml").read_text()
    )[0]
    assert aug["horizontal_flip"]["prob"] == 0.5 and aug["crop_size"] == 32
    assert (
        aug["mean"] == [0.2878] * 3 and aug["std"] == [0.3459] * 3
    )  # solo-ext data fashion-mnist, 60k train at 32 px
    linear = yaml.safe_load((ZOO / "linear/fashion-mnist/linear.yaml").read_text())
    assert linear["data"]["augmentations"]["mean"] == aug["mean"]


def test_paper_settings():
    cifar = yaml.safe_load((ZOO / "pretrain/cifar100/m-mae.yaml").read_text())
    assert cifar["max_epochs"] == 2000 and cifar["optimizer"]["lr"] == 1.5e-4
    assert (
        cifar["method_kwargs"]["magma"]["start_epoch"] == 60
        and cifar["backbone"]["kwargs"]["patch_size"] == 4
    )
    in100 = yaml.safe_load((ZOO / "pretrain/imagenet100/mu-mae.yaml").read_text())
    assert (
        in100["backbone"]["name"] == "vit_base"
        and in100["method_kwargs"]["uniformity_weight"] == 0.01
    )
    linear = yaml.safe_load((ZOO / "linear/cifar100/linear.yaml").read_text())
    assert linear["scheduler"]["lr_decay_steps"] == [60, 80] and linear["optimizer"]["lr"] == 0.1


def test_evaluation_protocols():
    vic = yaml.safe_load((ZOO / "linear/imagenet/vicmae-linear.yaml").read_text())
    assert vic["head_batchnorm"] is True and vic["max_epochs"] == 90
    assert vic["optimizer"] == {"name": "sgd", "batch_size": 256, "lr": 0.1, "weight_decay": 0.0}
    color = yaml.safe_load((ZOO / "linear/imagenet/colormae-linear.yaml").read_text())
    assert (
        color["head_batchnorm"] is True
        and color["optimizer"]["name"] == "lars"
        and color["scheduler"]["warmup_epochs"] == 10
    )
    tin = yaml.safe_load((ZOO / "linear/tiny-imagenet/smae-finetune.yaml").read_text())
    cub = yaml.safe_load((ZOO / "linear/cub200/smae-finetune.yaml").read_text())
    assert (
        cub["finetune"] is True and cub["optimizer"]["lr"] == tin["optimizer"]["lr"] / 2
    )  # the paper halves it on CUB
    assert (
        cub["data"]["augmentations"] == tin["data"]["augmentations"]
    )  # 64 px, pretraining statistics
    for dataset in DATASETS:  # every zoo method has its probe
        methods = {p.stem for p in (ZOO / "pretrain" / dataset).glob("*.yaml")}
        probes = {p.stem for p in (ZOO / "linear" / dataset).glob("*.yaml")}
        assert "linear" in probes
        assert ("colormae" not in methods) or "colormae-linear" in probes
        assert ("vicmae" not in methods) or "vicmae-linear" in probes
        assert ("smae" not in methods) or {"smae-linear", "smae-finetune"} <= probes
