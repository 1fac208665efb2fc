import pytest
from omegaconf import OmegaConf

from solo_ext.config import ConfigError, MagmaSettings, to_plain

DEFAULTS = MagmaSettings()


def parse(method_kwargs, defaults=DEFAULTS):
    return MagmaSettings.from_method_kwargs(OmegaConf.create(method_kwargs), defaults)


def test_defaults_and_overrides():
    s = parse({"magma": {"weight": 0.1, "reference_layers": [8, 9]}, "uniformity_weight": 0.01})
    assert (s.weight, s.start_epoch, s.duration, s.reference_layers, s.target_layer) == (
        0.1,
        10,
        100,
        (8, 9),
        -1,
    )
    assert s.uniformity_weight == 0.01 and s.gather is False
    assert parse({}) == DEFAULTS
    assert parse({}, MagmaSettings(weight=0.0, uniformity_weight=0.01)).weight == 0.0


def test_round_trip_through_yaml():
    s = parse({"magma": {"reference_layers": 9}})
    assert parse({"magma": s.as_dict(), "uniformity_weight": s.uniformity_weight}) == s


@pytest.mark.parametrize(
    "magma,key",
    [
        ({"wieght": 1.0}, "unknown key"),
        ({"weight": -1.0}, "method_kwargs.magma.weight"),
        ({"duration": -1}, "method_kwargs.magma.duration"),
        ({"start_epoch": 2.5}, "method_kwargs.magma.start_epoch"),
        ({"reference_layers": []}, "method_kwargs.magma.reference_layers"),
        ({"reference_layers": ["a"]}, "method_kwargs.magma.reference_layers"),
        ({"rbf_scale": 0}, "method_kwargs.magma.rbf_scale"),
        ({"gather": "yes"}, "method_kwargs.magma.gather"),
    ],
)
def test_bad_values_name_the_key(magma, key):
    with pytest.raises(ConfigError, match=key):
        parse({"magma": magma})


def test_negative_uniformity_weight():
    with pytest.raises(ConfigError, match="method_kwargs.uniformity_weight"):
        parse({"uniformity_weight": -0.1})


def test_to_plain():
    plain = to_plain(OmegaConf.create({"betas": [0.9, 0.95]}))
    assert plain == {"betas": [0.9, 0.95]} and type(plain["betas"]) is list
