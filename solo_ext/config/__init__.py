"""Parsing and checking of solo-ext's configs (pure python + omegaconf, no solo-learn).

``fields``: the Field language (type, range, default, message). ``method_kwargs``: every method's keys and
the Settings of its own section. ``rules``: the checks beyond single keys, and where they are raised.
Every check raises ConfigError naming the key, the value and what is allowed, where the config enters.
"""

from solo_ext.config.fields import (
    REQUIRED,
    ConfigError,
    Field,
    check_known_keys,
    config_key,
    parse_fields,
    to_plain,
)
from solo_ext.config.method_kwargs import (
    METHOD_KWARGS,
    ColorMAESettings,
    MagmaSettings,
    MethodKwargs,
    SMAESettings,
    ViCMAESettings,
    check_method_kwargs,
)
from solo_ext.config.rules import RULES, Rule

__all__ = ["METHOD_KWARGS", "REQUIRED", "RULES", "ColorMAESettings", "ConfigError", "Field", "MagmaSettings",
           "MethodKwargs", "Rule", "SMAESettings", "ViCMAESettings", "check_known_keys", "check_method_kwargs", "config_key",
           "parse_fields", "to_plain"]
