"""A MAGMA weight whose epoch window never opens within max_epochs is said, not silently ignored (#16)."""

import warnings

import pytest
from omegaconf import OmegaConf
from solo.args.pretrain import parse_cfg
from solo.methods import METHODS

from solo_ext.config import MagmaSettings
from solo_ext.methods.magma import MagmaNeverOn, magma_never_on
from tests.integration.helpers import digits_config


@pytest.mark.parametrize(
    "settings,max_epochs,said",
    [
        (MagmaSettings(weight=0.1, start_epoch=5), 5, "start_epoch: 5 >= max_epochs 5"),
        (MagmaSettings(weight=0.1, start_epoch=5), 3, "start_epoch: 5 >= max_epochs 3"),
        (MagmaSettings(weight=0.1, start_epoch=0, duration=0), 5, "duration: 0"),
        (MagmaSettings(weight=0.1, start_epoch=4), 5, ""),  # the last epoch is regularised
        (MagmaSettings(weight=0.0, start_epoch=9), 5, ""),  # U-MAE: nothing to switch on
    ],
)
def test_window_that_never_opens(settings, max_epochs, said):
    reason = magma_never_on(settings, max_epochs)
    assert (said in reason) if said else reason == ""
    if said:
        assert reason.startswith("method_kwargs.magma.") and "never switches on" in reason


def _checked(cfg):
    cfg = parse_cfg(OmegaConf.create(OmegaConf.to_container(cfg, resolve=True)))
    return METHODS[cfg.method].add_and_assert_specific_cfg(cfg)


def test_config_check_warns_once_with_the_keys(digits_dir, tmp_path):
    late = digits_config(
        "m-mae", digits_dir, tmp_path, "max_epochs=3", "++method_kwargs.magma.start_epoch=3"
    )
    with pytest.warns(MagmaNeverOn, match=r"start_epoch: 3 >= max_epochs 3"):
        _checked(late)
    opens = digits_config(
        "m-mae", digits_dir, tmp_path, "max_epochs=3", "++method_kwargs.magma.start_epoch=2"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", MagmaNeverOn)
        _checked(opens)
