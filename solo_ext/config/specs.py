"""What each solo-ext method is, declared once: its registry name, the paper, the solo-learn method it
extends, the baseline it is compared with, its own ``method_kwargs`` section and defaults, its class, the
backbones it trains, its zoo presets and its throughput pairs.

Every layer reads this table, when it is read: the config checks (``METHOD_KWARGS``, derived here; the
backbone check), the method classes (their section, parsed once, and ``solo_ext.register()``), the docs
generator, the results tables (method order, MAE family), the zoo generator (``dev/zoo.py``) and the
benchmark (``benchmarks/throughput.py``). Adding a method: a section dataclass in ``method_kwargs.py`` if
it has own keys, one ``MethodSpec`` below, its class in ``solo_ext/methods/`` (see docs/architecture.md).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Optional, Tuple, Type

from solo_ext.config.fields import ConfigError, Field, Section, parse_fields
from solo_ext.config.method_kwargs import (
    MAE_FIELDS,
    SIMCLR_FIELDS,
    VICREG_FIELDS,
    ColorMAESettings,
    MagmaSettings,
    MethodKwargs,
    SMAESettings,
    ViCMAESettings,
)

__all__ = [
    "HOSTS",
    "METHOD_KWARGS",
    "Benchmark",
    "MethodSpec",
    "Preset",
    "Probe",
    "SPECS",
    "VITS",
    "check_method_kwargs",
    "benchmarks",
    "mae_family",
    "method_order",
]

# solo-learn methods extended here -> (their name in the key tables, their own method_kwargs keys)
HOSTS: Dict[str, Tuple[str, Tuple[Field, ...]]] = {
    "mae": ("MAE", MAE_FIELDS),
    "simclr": ("SimCLR", SIMCLR_FIELDS),
    "vicreg": ("VICReg", VICREG_FIELDS),
}

MAGMA = "https://arxiv.org/abs/2412.02871"  # Dondera et al., WACV 2025


# the masking MAE ViT, which every solo-ext method builds (solo_ext/methods/base.py): solo-learn's ViTs and
# solo-ext's vit_lite (solo_ext/methods/backbones.py)
VITS = ("vit_tiny", "vit_small", "vit_base", "vit_large", "vit_lite")


@dataclass(frozen=True)
class Preset:
    """One zoo preset of a method: ``zoo_configs/pretrain/<dataset>/<stem>.yaml``, written by
    ``python -m dev.zoo`` for every dataset of its ``recipe`` (the dev.zoo table of training settings it
    follows: ``mae``, ``ssl``, ``smae`` or ``vicmae``). ``method_kwargs``: what the preset adds to the
    recipe's method_kwargs (a section's dict is completed with the dataset's values of that section, e.g.
    MAGMA's start epoch); ``method``: the yaml ``method:`` when it is not the spec's own (a baseline that
    only this method's settings define); ``variant``: the recipe's variant (ViC-MAE: code or paper)."""

    stem: str
    recipe: str
    method_kwargs: Mapping[str, Any] = field(default_factory=dict)
    method: Optional[str] = None
    variant: str = ""


@dataclass(frozen=True)
class Probe:
    """One evaluation preset of a method: ``zoo_configs/linear/<dataset>/<stem>.yaml``, written by
    ``python -m dev.zoo`` for every dataset of the method's presets of ``recipe`` (the dev.zoo recipe
    whose pretraining it evaluates: its images, and its rule from a paper's lr to the yaml's), on top of
    the dataset's linear probe (data and run settings). The paper's protocol: ``optimizer`` at ``lr``
    (the recipe's rule scales it: solo-learn's per 256 images; SMAE's per 128), ``batch`` images per
    device (None: the recipe's batch), ``weight_decay``, ``optimizer_kwargs``, a warm-up cosine schedule
    of ``warmup_epochs`` (stepped per ``interval`` when given), ``epochs`` on ``devices`` GPUs;
    ``head_batchnorm``: MAE's probe (BatchNorm without affine before the head); ``finetune``: the whole
    network trains. The CPU datasets shrink it (the recipe's CPU epochs, batch 64, one device, at most one
    warm-up epoch). ``datasets``: the fields that differ on one dataset; ``transfer``: (pretraining
    dataset, evaluation dataset) for a probe written on another dataset than the model's."""

    stem: str
    recipe: str
    optimizer: str
    lr: float
    epochs: int
    batch: Optional[int] = None
    weight_decay: float = 0.0
    optimizer_kwargs: Mapping[str, Any] = field(default_factory=dict)
    warmup_epochs: int = 0
    interval: Optional[str] = None
    devices: int = 1
    head_batchnorm: bool = False
    finetune: bool = False
    datasets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    transfer: Optional[Tuple[str, str]] = None

    def on(self, dataset: str) -> "Probe":
        """This probe with the fields that differ on ``dataset``."""
        return replace(self, **self.datasets.get(dataset, {}))


@dataclass(frozen=True)
class Benchmark:
    """One pair of ``benchmarks/throughput.py``: the method's zoo preset against its baseline's preset of
    the same dataset. ``baseline`` ``"preset:method"`` runs another method on that preset; ``overrides``
    change the method's preset and are part of the pair's label; ``setup`` switches the method's own work
    on from step 0 so that it is measured; ``dataset``: the zoo dataset when not the run's ``--dataset``."""

    key: str  # the --pairs name
    preset: str
    baseline: str
    target: float  # lowest acceptable throughput ratio, method / baseline
    overrides: Tuple[str, ...] = ()
    setup: Tuple[str, ...] = ()
    dataset: Optional[str] = None


@dataclass(frozen=True)
class MethodSpec:
    """One solo-ext method. ``defaults``: the method's own values of its section's keys (and, for the
    MAGMA family, of the top-level ``uniformity_weight``) where they differ from the section's.
    ``method_class``: its class in ``solo_ext/methods/``; ``backbones``: the ``backbone.name`` values it
    trains; ``presets``: its zoo presets; ``probes``: its own evaluation presets (besides every
    dataset's linear probe); ``baseline_preset``: the zoo preset of the baseline it is compared with;
    ``benchmarks``: its throughput pairs."""

    name: str  # yaml `method:` and solo-learn registry name
    title: str  # as the papers' tables write it
    paper: str  # link (arXiv / OpenReview)
    host: str  # the solo-learn method it extends (a key of HOSTS)
    baseline: str  # registry name of the method it is compared with at equal budget
    section: Optional[Type[Section]] = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # "module:Class" of its solo-learn glue in solo_ext/methods/ (solo_ext.register() imports it)
    method_class: str = ""
    backbones: Tuple[str, ...] = VITS
    presets: Tuple[Preset, ...] = ()
    probes: Tuple[Probe, ...] = ()
    baseline_preset: str = ""
    benchmarks: Tuple[Benchmark, ...] = ()

    def settings_defaults(self) -> Section:
        """The section's dataclass holding this method's defaults."""
        return self.section(**self.defaults)

    def parse_section(self, method_kwargs: Mapping) -> Optional[Section]:
        """The method's own section of ``method_kwargs``, checked, with this method's defaults filled in
        (None for a method without one). A model construction calls it once."""
        if self.section is None:
            return None
        return self.section.from_method_kwargs(method_kwargs, self.settings_defaults())

    def backbone_reason(self) -> str:
        reasons = []
        if self.section is MagmaSettings:
            reasons.append("MAGMA regularises transformer blocks")
        if self.host == "mae":
            reasons.append("the MAE family needs a ViT that can mask")
        return "; ".join(reasons) or "solo-ext builds the masking ViT"

    def check_backbone(self, name: str) -> None:
        if name not in self.backbones:
            raise ConfigError(
                f"backbone.name: {name!r} is not allowed for method {self.name!r} "
                f"({self.backbone_reason()}); allowed: {list(self.backbones)}"
            )

    def kwargs_table(self) -> MethodKwargs:
        host_name, host_fields = HOSTS[self.host]
        top = host_fields
        if self.section is MagmaSettings:
            top = top + (
                MagmaSettings.uniformity_field(self.settings_defaults().uniformity_weight),
            )
        if self.section is None:
            return MethodKwargs(host_name, top)
        section_defaults = {k: v for k, v in self.defaults.items() if k in self.section.keys()}
        return MethodKwargs(host_name, top, self.section.KEY, self.section.fields(section_defaults))


MAGMA_START_AT_ONCE = ("++method_kwargs.magma.start_epoch=0",)
VICMAE_CODE = {
    "loss": "nt_xent",
    "temperature": 0.1,
    "projector": "code",
    "rec_weight": 0.97,
    "con_weight": 0.03,
    "con_start_epoch": 0,
}

# SMAE's Table 6 fine-tuning (lr at batch 128, as its code scales it; schedules step per epoch). Its
# RandAugment is not applied: solo-learn's auto_augment is 224-px only.
SMAE_FINETUNE = Probe(
    "smae-finetune",
    "smae",
    "adamw",
    1.0e-3,
    100,
    weight_decay=0.05,
    optimizer_kwargs={"betas": [0.9, 0.999]},
    warmup_epochs=5,
    interval="epoch",
    finetune=True,
)

SPECS: Dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec(
            "m_mae",
            "M-MAE",
            MAGMA,
            "mae",
            "mae",
            MagmaSettings,
            {"weight": 1.0, "uniformity_weight": 0.0},
            method_class="magma:MMAE",
            presets=(Preset("m-mae", "mae", {"magma": {}}),),
            baseline_preset="mae",
            benchmarks=(Benchmark("m_mae", "m-mae", "mae", 0.995, setup=MAGMA_START_AT_ONCE),),
        ),
        MethodSpec(
            "u_mae",
            "U-MAE",
            "https://arxiv.org/abs/2210.08344",
            "mae",
            "mae",
            MagmaSettings,
            {"weight": 0.0, "uniformity_weight": 0.01},
            method_class="magma:UMAE",
            presets=(Preset("u-mae", "mae", {"uniformity_weight": 0.01}),),
            baseline_preset="mae",
        ),
        MethodSpec(
            "mu_mae",
            "MU-MAE",
            MAGMA,
            "mae",
            "u_mae",
            MagmaSettings,
            {"weight": 1.0, "uniformity_weight": 0.01},
            method_class="magma:MUMAE",
            presets=(Preset("mu-mae", "mae", {"uniformity_weight": 0.01, "magma": {}}),),
            baseline_preset="u-mae",
            benchmarks=(Benchmark("mu_mae", "mu-mae", "u-mae", 0.995, setup=MAGMA_START_AT_ONCE),),
        ),
        MethodSpec(
            "m_simclr",
            "M-SimCLR",
            MAGMA,
            "simclr",
            "simclr",
            MagmaSettings,
            method_class="magma:MSimCLR",
            presets=(Preset("m-simclr", "ssl", {"magma": {}}),),
            baseline_preset="simclr",
            benchmarks=(
                Benchmark("m_simclr", "m-simclr", "simclr", 0.995, setup=MAGMA_START_AT_ONCE),
            ),
        ),
        MethodSpec(
            "m_vicreg",
            "M-VICReg",
            MAGMA,
            "vicreg",
            "vicreg",
            MagmaSettings,
            method_class="magma:MVICReg",
            presets=(Preset("m-vicreg", "ssl", {"magma": {}}),),
            baseline_preset="vicreg",
            benchmarks=(
                Benchmark("m_vicreg", "m-vicreg", "vicreg", 0.995, setup=MAGMA_START_AT_ONCE),
            ),
        ),
        MethodSpec(
            "smae",
            "SMAE",
            "https://openreview.net/forum?id=KXfjZPL5pqr",
            "mae",
            "mae",
            SMAESettings,
            method_class="smae:SMAE",
            presets=(
                # MAE at SMAE's settings (ViT-Lite, no augmentation): the baseline of its table
                Preset("mae-lite", "smae", method="mae"),
                Preset("smae", "smae", {"smae": {"alpha": 0.5, "masking": "random"}}),
                # blocks cover half the grid
                Preset(
                    "smae-block",
                    "smae",
                    {"mask_ratio": 0.5, "smae": {"alpha": 0.5, "masking": "block"}},
                ),
                Preset("smae-perceptual", "smae", {"smae": {"alpha": 1.0, "masking": "random"}}),
            ),
            probes=(
                # Table 6: Adam lr 1e-3 (at batch 128), 50 epochs, 2 warm-up
                Probe("smae-linear", "smae", "adam", 1.0e-3, 50, warmup_epochs=2, interval="epoch"),
                SMAE_FINETUNE,
                # transfer: the Tiny-ImageNet model fine-tuned on CUB-200 at 64 px with half the lr,
                # its images normalised with the pretraining statistics
                replace(SMAE_FINETUNE, lr=5.0e-4, transfer=("tiny-imagenet", "cub200")),
            ),
            baseline_preset="mae-lite",
            # SMAE's zoo exists for tiny-imagenet (and the CPU datasets) only
            benchmarks=(Benchmark("smae", "smae", "mae-lite", 0.85, dataset="tiny-imagenet"),),
        ),
        MethodSpec(
            "colormae",
            "ColorMAE",
            "https://arxiv.org/abs/2407.13036",
            "mae",
            "mae",
            ColorMAESettings,
            method_class="colormae:ColorMAE",
            presets=(Preset("colormae", "mae", {"colormae": {"color": "green"}}),),
            # MAE's linear probe, which ColorMAE follows: LARS 0.1 x batch/256 (weight matrices only),
            # 10 warm-up epochs, 90 epochs; on ImageNet 8 GPUs x 512
            probes=(
                Probe(
                    "colormae-linear",
                    "mae",
                    "lars",
                    0.1,
                    90,
                    batch=256,
                    optimizer_kwargs={"exclude_bias_n_norm": True},
                    warmup_epochs=10,
                    head_batchnorm=True,
                    datasets={"imagenet": {"batch": 512, "devices": 8}},
                ),
            ),
            baseline_preset="mae",
            benchmarks=(
                Benchmark("colormae", "colormae", "mae", 0.99),
                Benchmark(
                    "colormae_fp16",
                    "colormae",
                    "mae",
                    0.99,
                    ("++method_kwargs.colormae.fp16=true",),
                ),
            ),
        ),
        MethodSpec(
            "vicmae",
            "ViC-MAE",
            "https://arxiv.org/abs/2303.12001",
            "mae",
            "mae",
            ViCMAESettings,
            method_class="vicmae:ViCMAE",
            presets=(
                # the official code (NT-Xent, projector D-4096-4096-128, w_con 0.03 from epoch 0)
                Preset("vicmae", "vicmae", {"vicmae": VICMAE_CODE}, variant="code"),
                # the paper's supplement (CLIP-style loss, projector D-2D-2D-2D, w_con 0.025 from a
                # dataset's start epoch)
                Preset(
                    "vicmae-paper",
                    "vicmae",
                    {
                        "vicmae": {
                            "loss": "clip",
                            "temperature": 0.1,
                            "projector": "paper",
                            "rec_weight": 1.0,
                            "con_weight": 0.025,
                        }
                    },
                    variant="paper",
                ),
                # the code preset without the contrastive term: the two-view MAE it is compared with
                Preset(
                    "vicmae-mae",
                    "vicmae",
                    {"vicmae": {**VICMAE_CODE, "rec_weight": 1.0, "con_weight": 0.0}},
                    variant="code",
                ),
            ),
            # its paper's linear probe: SGD lr 0.1, 90 epochs, MAE's BatchNorm before the head
            probes=(
                Probe(
                    "vicmae-linear",
                    "vicmae",
                    "sgd",
                    0.1,
                    90,
                    batch=256,
                    head_batchnorm=True,
                    datasets={"imagenet": {"devices": 8}},
                ),
            ),
            baseline_preset="vicmae-mae",
            # baseline: solo-learn's MAE on ViC-MAE's two views and settings
            benchmarks=(
                Benchmark("vicmae", "vicmae", "vicmae:mae", 0.95),
                Benchmark(
                    "vicmae_paper",
                    "vicmae-paper",
                    "vicmae-paper:mae",
                    0.95,
                    ("++method_kwargs.vicmae.con_start_epoch=0",),
                ),
            ),
        ),
    )
}


class _KwargsTables(Mapping):
    """``METHOD_KWARGS``: each spec's key table, derived from ``SPECS`` when read (a spec registered later
    is seen too)."""

    def __getitem__(self, name: str) -> MethodKwargs:
        return SPECS[name].kwargs_table()

    def __iter__(self):
        return iter(SPECS)

    def __len__(self) -> int:
        return len(SPECS)


# every method_kwargs key of every solo-ext method (the config checks and docs/config-checks.md read it)
METHOD_KWARGS: Mapping[str, MethodKwargs] = _KwargsTables()


def method_order() -> Tuple[str, ...]:
    """Results tables list each solo-learn host before the methods built on it, in the specs' order."""
    order: Dict[str, None] = {}
    for spec in SPECS.values():
        order.setdefault(spec.host)
        order.setdefault(spec.name)
    return tuple(order)


def mae_family() -> Tuple[str, ...]:
    """MAE and every method built on it (they share MAE's evaluation protocol in the papers)."""
    return ("mae",) + tuple(name for name, spec in SPECS.items() if spec.host == "mae")


def benchmarks() -> Dict[str, Benchmark]:
    """Every throughput pair of benchmarks/throughput.py, by --pairs name, in the specs' order."""
    return {b.key: b for spec in SPECS.values() for b in spec.benchmarks}


def check_method_kwargs(method: str, method_kwargs: Mapping) -> Dict[str, Any]:
    """Checks the top-level keys of ``method``'s method_kwargs (unknown, type, range, required; the section
    is parsed by its Settings class); returns them with defaults filled in, lists as lists."""
    table = METHOD_KWARGS[method]
    extra = (table.section,) if table.section else ()
    parsed = parse_fields(method_kwargs, table.fields, "method_kwargs", extra_keys=extra)
    if "decoder_num_heads" in parsed and parsed["decoder_embed_dim"] % parsed["decoder_num_heads"]:
        raise ConfigError(
            f"method_kwargs.decoder_num_heads: {parsed['decoder_num_heads']} does not divide "
            f"decoder_embed_dim {parsed['decoder_embed_dim']}; allowed: a divisor of decoder_embed_dim"
        )
    return {k: list(v) if isinstance(v, tuple) else v for k, v in parsed.items()}
