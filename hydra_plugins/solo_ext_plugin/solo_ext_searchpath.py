"""Makes solo-ext visible to any Hydra app, solo-learn's unmodified main_pretrain.py included.

Hydra imports every module of the ``hydra_plugins`` namespace before it composes the config, so this
module (a) appends the installed zoo to the config search path, (b) registers the solo-ext methods
into ``solo.methods.METHODS`` when the running app has imported solo-learn and (c) inside solo-learn's own
main_pretrain.py, lets solo-ext methods train through solo-ext's launcher (solo_ext.launch.solo_scripts).
Apps that never import solo-learn pay for nothing but this import.
"""

import sys
import warnings

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


def register_if_solo_learn_is_running() -> bool:
    if "solo.methods" not in sys.modules:
        return False
    try:
        import solo_ext
        from solo_ext.launch.solo_scripts import adopt_main_pretrain

        solo_ext.register()
        adopt_main_pretrain()  # solo-learn's main_pretrain.py: its solo-ext runs go through our launcher
    except Exception as err:  # a plugin must not break unrelated Hydra apps; say why loudly instead
        warnings.warn(f"solo-ext could not register its methods into solo-learn: {err}")
        return False
    return True


class SoloExtSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        search_path.append(provider="solo-ext", path="pkg://solo_ext.zoo")
        register_if_solo_learn_is_running()


register_if_solo_learn_is_running()
