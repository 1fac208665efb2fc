from solo.methods import METHODS
from solo.methods.base import BaseMethod

import solo_ext
from solo_ext.methods import SOLO_EXT_METHODS


def test_register_is_idempotent_and_complete():
    before_backbones = dict(BaseMethod._BACKBONES)
    first = solo_ext.register()
    size = len(METHODS)
    second = solo_ext.register()
    assert first == second == SOLO_EXT_METHODS
    assert len(METHODS) == size
    assert {"m_mae", "u_mae", "mu_mae", "m_simclr", "m_vicreg"} <= set(METHODS)
    assert all(METHODS[name] is cls for name, cls in SOLO_EXT_METHODS.items())
    assert (
        BaseMethod._BACKBONES == before_backbones
    )  # solo-learn's own methods keep their backbones


def test_hydra_plugin_registers_when_solo_learn_is_running(monkeypatch):
    import importlib

    module = importlib.import_module("hydra_plugins.solo_ext_plugin.solo_ext_searchpath")
    for name in SOLO_EXT_METHODS:
        monkeypatch.delitem(METHODS, name)
    assert module.register_if_solo_learn_is_running()
    assert set(SOLO_EXT_METHODS) <= set(METHODS)


def test_hydra_plugin_is_discovered():
    from hydra.core.plugins import Plugins
    from hydra.plugins.search_path_plugin import SearchPathPlugin

    names = [p.__name__ for p in Plugins.instance().discover(SearchPathPlugin)]
    assert "SoloExtSearchPathPlugin" in names
