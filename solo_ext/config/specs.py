"""What each solo-ext method is, declared once: its registry name, the paper, the solo-learn method it
extends, the baseline it is compared with, its own ``method_kwargs`` section and its own defaults.

Every layer reads this table: the config checks (``METHOD_KWARGS``, derived here), the method classes
(their defaults), the docs generator, the results tables (method order, MAE family) and the benchmark pairs.
Adding a method: a section dataclass in ``method_kwargs.py`` if it has own keys, one ``MethodSpec`` below,
its class in ``solo_ext/methods/`` (see docs/architecture.md).
"""

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple, Type

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
    "MethodSpec",
    "SPECS",
    "check_method_kwargs",
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


@dataclass(frozen=True)
class MethodSpec:
    """One solo-ext method. ``defaults``: the method's own values of its section's keys (and, for the
    MAGMA family, of the top-level ``uniformity_weight``) where they differ from the section's."""

    name: str  # yaml `method:` and solo-learn registry name
    title: str  # as the papers' tables write it
    paper: str  # link (arXiv / OpenReview)
    host: str  # the solo-learn method it extends (a key of HOSTS)
    baseline: str  # registry name of the method it is compared with at equal budget
    section: Optional[Type[Section]] = None
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def settings_defaults(self) -> Section:
        """The section's dataclass holding this method's defaults."""
        return self.section(**self.defaults)

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
        return MethodKwargs(
            host_name, top, _section_name(self.section), self.section.fields(section_defaults)
        )


def _section_name(section: Type[Section]) -> str:
    return {
        MagmaSettings: "magma",
        SMAESettings: "smae",
        ColorMAESettings: "colormae",
        ViCMAESettings: "vicmae",
    }[section]


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
        ),
        MethodSpec(
            "u_mae",
            "U-MAE",
            "https://arxiv.org/abs/2210.08344",
            "mae",
            "mae",
            MagmaSettings,
            {"weight": 0.0, "uniformity_weight": 0.01},
        ),
        MethodSpec(
            "mu_mae",
            "MU-MAE",
            MAGMA,
            "mae",
            "u_mae",
            MagmaSettings,
            {"weight": 1.0, "uniformity_weight": 0.01},
        ),
        MethodSpec("m_simclr", "M-SimCLR", MAGMA, "simclr", "simclr", MagmaSettings),
        MethodSpec("m_vicreg", "M-VICReg", MAGMA, "vicreg", "vicreg", MagmaSettings),
        MethodSpec(
            "smae",
            "SMAE",
            "https://openreview.net/forum?id=KXfjZPL5pqr",
            "mae",
            "mae",
            SMAESettings,
        ),
        MethodSpec(
            "colormae",
            "ColorMAE",
            "https://arxiv.org/abs/2407.13036",
            "mae",
            "mae",
            ColorMAESettings,
        ),
        MethodSpec(
            "vicmae", "ViC-MAE", "https://arxiv.org/abs/2303.12001", "mae", "mae", ViCMAESettings
        ),
    )
}

# every method_kwargs key of every solo-ext method (the config checks and docs/config-checks.md read it)
METHOD_KWARGS: Dict[str, MethodKwargs] = {name: spec.kwargs_table() for name, spec in SPECS.items()}


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
