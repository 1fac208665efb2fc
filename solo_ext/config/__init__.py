"""Parsing and checking of solo-ext's configs (pure python + omegaconf, no solo-learn).

``fields``: the Field language (type, range, default, message) and ``Section`` dataclasses whose fields carry
their Field. ``method_kwargs``: the hosts' keys and each method section. ``specs``: what each method is (one
``MethodSpec``), from which the key tables derive. ``rules``: the checks beyond single keys, and where they
are raised. Every check raises ConfigError naming the key, the value and what is allowed.
"""

from solo_ext.config.fields import (
    REQUIRED,
    ConfigError,
    Field,
    Section,
    check_known_keys,
    config_key,
    parse_fields,
    setting,
    to_plain,
)
from solo_ext.config.method_kwargs import (
    ColorMAESettings,
    MagmaSettings,
    MethodKwargs,
    SMAESettings,
    ViCMAESettings,
)
from solo_ext.config.rules import RULES, Rule
from solo_ext.config.specs import METHOD_KWARGS, SPECS, MethodSpec, check_method_kwargs

__all__ = [
    "METHOD_KWARGS",
    "REQUIRED",
    "RULES",
    "SPECS",
    "ColorMAESettings",
    "ConfigError",
    "Field",
    "MagmaSettings",
    "MethodKwargs",
    "MethodSpec",
    "Rule",
    "SMAESettings",
    "Section",
    "ViCMAESettings",
    "check_known_keys",
    "check_method_kwargs",
    "config_key",
    "parse_fields",
    "setting",
    "to_plain",
]
