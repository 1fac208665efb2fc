"""The method specs are the one source of what a method is: every layer that lists methods or defaults
agrees with them."""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from dev.config_docs import render
from dev.zoo import DATASETS, generate
from solo_ext.config import METHOD_KWARGS, SPECS, ConfigError, MagmaSettings, check_method_kwargs
from solo_ext.config.fields import Section, setting
from solo_ext.config.specs import (
    HOSTS,
    VITS,
    Benchmark,
    MethodSpec,
    Preset,
    Probe,
    benchmarks,
    mae_family,
    method_order,
)
from solo_ext.reporting.paper_tables import MAE_FAMILY
from solo_ext.reporting.tables import Entry, _generic_report

MAGMA_FAMILY = [name for name, spec in SPECS.items() if spec.section is MagmaSettings]


@pytest.mark.parametrize("name", MAGMA_FAMILY)
def test_the_key_table_and_the_method_use_the_same_defaults(name):
    """What docs/config-checks.md lists as a default is what the method trains with (the U-MAE weight
    once drifted: 1.0 in the docs, 0 in the code)."""
    table = METHOD_KWARGS[name]
    documented = {f.name: f.default for f in table.section_fields}
    documented = {k: list(v) if isinstance(v, tuple) else v for k, v in documented.items()}
    trained = MagmaSettings.from_method_kwargs({}, SPECS[name].settings_defaults())
    assert documented == trained.as_dict()
    uniformity = next(f for f in table.fields if f.name == "uniformity_weight")
    assert uniformity.default == trained.uniformity_weight


def test_method_defaults_of_the_magma_family():
    weights = {
        name: SPECS[name].settings_defaults() for name in ("m_mae", "u_mae", "mu_mae", "m_simclr")
    }
    assert {n: (s.weight, s.uniformity_weight) for n, s in weights.items()} == {
        "m_mae": (1.0, 0.0),
        "u_mae": (0.0, 0.01),
        "mu_mae": (1.0, 0.01),
        "m_simclr": (1.0, 0.0),
    }


def test_u_mae_weight_default_reaches_the_config_docs():
    row = next(
        line for line in render().splitlines() if line.startswith("| `method_kwargs.magma.weight`")
    )
    assert "u_mae: `0.0`" in row and "m_mae: `1.0`" in row


def test_derived_lists():
    assert method_order() == (
        "mae",
        "m_mae",
        "u_mae",
        "mu_mae",
        "simclr",
        "m_simclr",
        "vicreg",
        "m_vicreg",
        "smae",
        "colormae",
        "vicmae",
    )
    assert (
        mae_family()
        == MAE_FAMILY
        == ("mae", "m_mae", "u_mae", "mu_mae", "smae", "colormae", "vicmae")
    )


def test_every_spec_is_complete():
    for name, spec in SPECS.items():
        assert spec.host in HOSTS and (spec.baseline in SPECS or spec.baseline in HOSTS), name
        assert spec.paper.startswith("https://"), name
        checked = check_method_kwargs(name, _required_host_keys(spec.host))
        assert set(checked) == {f.name for f in METHOD_KWARGS[name].fields}


def _required_host_keys(host):
    return {
        "mae": {"decoder_embed_dim": 8, "decoder_depth": 1, "decoder_num_heads": 2},
        "simclr": {"proj_hidden_dim": 8, "proj_output_dim": 4, "temperature": 0.1},
        "vicreg": {"proj_hidden_dim": 8, "proj_output_dim": 4},
    }[host]


def test_every_spec_has_a_method_class():
    pytest.importorskip("solo", reason="solo-learn is not installed")
    from solo_ext.methods import SOLO_EXT_METHODS

    assert set(SOLO_EXT_METHODS) == set(SPECS)
    assert all(cls.KWARGS == name for name, cls in SOLO_EXT_METHODS.items())
    assert all(
        f"{cls.__module__}:{cls.__name__}".endswith(SPECS[name].method_class)
        for name, cls in SOLO_EXT_METHODS.items()
    )


def test_every_preset_probe_and_pair_of_a_spec_is_in_the_zoo():
    """A spec's presets and probes are generated, its baseline preset exists, and its throughput pairs
    name presets of the zoo (``preset:method`` runs another method on a preset)."""
    files = generate()
    stems = {path.split("/")[-1][: -len(".yaml")] for path in files if "augmentations" not in path}
    for spec in SPECS.values():
        assert {p.stem for p in spec.presets} <= stems, spec.name
        transfers = {probe.transfer[1] for probe in spec.probes if probe.transfer}
        for probe in spec.probes:
            datasets = {
                path.split("/")[1] for path in files if path.endswith(f"/{probe.stem}.yaml")
            }
            if probe.transfer is None:  # beside every pretraining preset of the probe's recipe
                assert datasets - transfers == {
                    path.split("/")[1]
                    for path in files
                    for preset in spec.presets
                    if preset.recipe == probe.recipe
                    and path.startswith("pretrain/")
                    and path.endswith(f"/{preset.stem}.yaml")
                }, probe.stem
            else:
                assert probe.transfer[1] in datasets, probe.stem
        assert spec.baseline_preset in stems, spec.name
        for pair in spec.benchmarks:
            assert {pair.preset, pair.baseline.partition(":")[0]} <= stems, pair.key


# ---- the design's test: a method added by its own section and one spec, nothing else edited


@dataclass(frozen=True)
class ToySettings(Section):
    """``method_kwargs.toy`` of a method that exists only in this test."""

    KEY: ClassVar[str] = "toy"

    strength: float = setting("number", 0.5, low=0, doc="how much of the toy term")


TOY = MethodSpec(
    "toy_mae",
    "Toy-MAE",
    "https://example.org/toy",
    "mae",
    "mae",
    ToySettings,
    {"strength": 0.25},
    method_class="toy:ToyMAE",
    presets=(Preset("toy-mae", "mae", {"toy": {"strength": 0.75}}),),
    probes=(Probe("toy-mae-linear", "mae", "sgd", 0.2, 30, batch=128, head_batchnorm=True),),
    baseline_preset="mae",
    benchmarks=(Benchmark("toy_mae", "toy-mae", "mae", 0.9),),
)


@pytest.fixture
def toy(monkeypatch):
    """TOY registered in SPECS for one test (the registry is restored afterwards)."""
    monkeypatch.setitem(SPECS, TOY.name, TOY)
    return TOY


def test_a_registered_spec_reaches_the_config_checks(toy):
    kwargs = {**_required_host_keys("mae"), "toy": {"strength": 2.0}}
    assert METHOD_KWARGS["toy_mae"].section == "toy"
    assert check_method_kwargs("toy_mae", kwargs)["mask_ratio"] == 0.75
    assert toy.parse_section(kwargs) == ToySettings(strength=2.0)
    assert toy.parse_section(_required_host_keys("mae")) == ToySettings(strength=0.25)
    with pytest.raises(ConfigError, match=r"^method_kwargs.toy.strength: -1 is not allowed"):
        toy.parse_section({"toy": {"strength": -1}})
    with pytest.raises(ConfigError, match=r"^method_kwargs: unknown key\(s\) \['tyo'\]"):
        check_method_kwargs("toy_mae", {**kwargs, "tyo": {}})
    with pytest.raises(ConfigError, match=r"^backbone.name: 'resnet18' is not allowed"):
        toy.check_backbone("resnet18")


def test_a_registered_spec_reaches_the_docs_and_the_tables(toy):
    docs = render()
    assert "| `toy_mae` | MAE |" in docs
    row = next(line for line in docs.splitlines() if "`method_kwargs.toy.strength`" in line)
    assert "`0.25`" in row and "how much of the toy term" in row
    assert method_order()[-1] == "toy_mae" and "toy_mae" in mae_family()
    assert benchmarks()["toy_mae"] == toy.benchmarks[0]

    def entry(method):
        facts = {"dataset": "cifar100", "train_subset": None}
        signature = (("method", method), ("backbone", "vit_tiny"), ("pretrain_dataset", "cifar100"))
        return Entry(Path(f"{method}.json"), "linear", {"acc1": 50.0}, facts, signature, 0, "", "")

    # the results table's rows: the specs' order (read when the table is built), unknown methods last
    rows = _generic_report([entry(m) for m in ("a_method", "toy_mae", "mae")]).body
    assert [row[0].split()[0] for row in rows] == ["mae", "toy_mae", "a_method"]


def test_a_registered_spec_reaches_the_zoo(toy):
    """Its preset is written for every dataset of its recipe, and differs from the baseline's preset of
    the same dataset only by the method and its section."""
    files = generate()
    written = sorted(path.split("/")[1] for path in files if path.endswith("/toy-mae.yaml"))
    assert written == sorted(
        n for n, d in DATASETS.items() if "toy-mae" in d.get("presets", ["toy-mae"])
    )
    assert written  # every MAE dataset but ImageNet (ColorMAE's own)
    for dataset in written:
        variant = yaml.safe_load(files[f"pretrain/{dataset}/toy-mae.yaml"])
        base = yaml.safe_load(files[f"pretrain/{dataset}/mae.yaml"])
        assert variant.pop("method") == "toy_mae" and base.pop("method") == "mae"
        assert variant["method_kwargs"].pop("toy") == {"strength": 0.75}
        assert variant.pop("name") == f"toy-mae-{dataset}" and base.pop("name") == f"mae-{dataset}"
        assert variant == base
        # its probe: the dataset's linear probe with the spec's protocol
        probe = yaml.safe_load(files[f"linear/{dataset}/toy-mae-linear.yaml"])
        linear = yaml.safe_load(files[f"linear/{dataset}/linear.yaml"])
        assert probe["name"] == f"toy-mae-linear-{dataset}" and probe["head_batchnorm"] is True
        assert probe["data"]["train_path"] == linear["data"]["train_path"]
        cpu = DATASETS[dataset]["accelerator"] == "cpu"
        assert probe["optimizer"] == {
            "name": "sgd",
            "batch_size": 64 if cpu else 128,
            "lr": 0.2,
            "weight_decay": 0.0,
        }
        assert probe["max_epochs"] == (10 if cpu else 30)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_one_backbone_check_from_the_spec(name):
    """One list (the spec's), one message naming backbone.name and the allowed values."""
    spec = SPECS[name]
    for backbone in spec.backbones:
        spec.check_backbone(backbone)
    with pytest.raises(ConfigError) as err:
        spec.check_backbone("resnet18")
    assert str(err.value) == (
        f"backbone.name: 'resnet18' is not allowed for method {name!r} "
        f"({spec.backbone_reason()}); allowed: {list(VITS)}"
    )
    assert ("MAGMA" in spec.backbone_reason()) == (spec.section is MagmaSettings)


def test_the_backbone_list_is_every_vit_there_is():
    """VITS names solo-learn's ViTs and solo-ext's own: every one of them is built as a masking ViT."""
    pytest.importorskip("solo", reason="solo-learn is not installed")
    from solo.methods.base import BaseMethod

    from solo_ext.methods.backbones import EXTRA_BACKBONES
    from solo_ext.methods.mae_family import MaskedViTMAE

    solo_vits = {name for name in BaseMethod._BACKBONES if name.startswith("vit")}
    assert set(VITS) == solo_vits | set(EXTRA_BACKBONES)
    assert set(VITS) <= set(MaskedViTMAE._BACKBONES)


@pytest.mark.parametrize(
    "probe, message",
    [
        (
            Probe("toy-probe", "smae", "sgd", 0.1, 10, batch=256),
            r"^probe 'toy-probe' of 'toy_mae': no preset of the spec follows its recipe 'smae'; "
            r"allowed: \['mae'\]$",
        ),
        (
            Probe("toy-probe", "mae", "sgd", 0.1, 10),
            r"^probe 'toy-probe': no batch size; the 'mae' recipe has none",
        ),
        (
            Probe("toy-probe", "mae", "sgd", 0.1, 10, batch=256, transfer=("cifar100", "cub")),
            r"^probe 'toy-probe' of 'toy_mae': transfer \('cifar100', 'cub'\) needs .* an "
            r"evaluation dataset of \['cub200'\]$",
        ),
    ],
)
def test_a_probe_the_zoo_cannot_write_is_refused(monkeypatch, probe, message):
    monkeypatch.setitem(SPECS, TOY.name, replace(TOY, probes=(probe,)))
    with pytest.raises(ValueError, match=message):
        generate()
