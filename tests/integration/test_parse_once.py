"""A model construction parses its method's own method_kwargs section once: add_and_assert_specific_cfg
checks it and writes it back, __init__ takes the parsed settings (docs/architecture.md)."""

import pytest

from solo_ext.config import SPECS
from solo_ext.config import fields as config_fields
from solo_ext.launch.pretrain import build_model
from tests.integration.helpers import digits_config

# one zoo preset per family: MAGMA on MAE, MAGMA on SimCLR, SMAE, ColorMAE, ViC-MAE
PRESETS = {
    "m-mae": ("m_mae", ()),
    "m-simclr": ("m_simclr", ()),
    "smae": ("smae", ("++method_kwargs.smae.alpha=0",)),  # no critic to load
    "colormae": ("colormae", ()),
    "vicmae": ("vicmae", ()),
}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_a_model_construction_parses_its_section_once(preset, digits_dir, tmp_path, monkeypatch):
    method, overrides = PRESETS[preset]
    section = SPECS[method].section
    calls = {"from_method_kwargs": 0, "parse_fields": 0}

    original = section.__dict__["from_method_kwargs"].__func__

    def counted(cls, *args, **kwargs):
        calls["from_method_kwargs"] += 1
        return original(cls, *args, **kwargs)

    parse_fields = config_fields.parse_fields

    def counted_fields(node, fields, key, *args, **kwargs):
        calls["parse_fields"] += key == f"method_kwargs.{section.KEY}"
        return parse_fields(node, fields, key, *args, **kwargs)

    monkeypatch.setattr(section, "from_method_kwargs", classmethod(counted))
    monkeypatch.setattr(config_fields, "parse_fields", counted_fields)

    cfg, model = build_model(digits_config(preset, digits_dir, tmp_path, *overrides))

    assert calls == {"from_method_kwargs": 1, "parse_fields": 1}
    assert isinstance(model.settings, section)
    assert cfg.method_kwargs[section.KEY] == model.settings.as_dict()  # written back, complete
    assert getattr(model, section.KEY) is model.settings  # what the method's code reads


def test_a_config_the_checks_never_saw_is_refused(digits_dir, tmp_path):
    """__init__ takes the section parsed for its own cfg object, never another construction's."""
    from solo_ext.methods.base import _keep_parsed, _take_parsed

    cfg = digits_config("m-mae", digits_dir, tmp_path)
    other = digits_config("m-mae", digits_dir, tmp_path)
    _keep_parsed(cfg, SPECS["m_mae"].settings_defaults())
    with pytest.raises(RuntimeError, match="did not parse"):
        _take_parsed(other)
    assert _take_parsed(cfg) == SPECS["m_mae"].settings_defaults()
