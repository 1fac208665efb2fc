"""Makes solo-ext visible to any Hydra app, solo-learn's unmodified main_pretrain.py included.

Hydra imports every module of the ``hydra_plugins`` namespace before it composes the config, so this
module (a) appends the installed zoo to the config search path and (b) registers the solo-ext methods
into ``solo.methods.METHODS`` when the running app has imported solo-learn. Apps that never import
solo-learn pay for nothing but this import.
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

        solo_ext.register()
    except Exception as err:  # a plugin must not break unrelated Hydra apps; say why loudly instead
        warnings.warn(f"solo-ext could not register its methods into solo-learn: {err}")
        return False
    return True


class SoloExtSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        search_path.append(provider="solo-ext", path="pkg://solo_ext.zoo")
        register_if_solo_learn_is_running()


register_if_solo_learn_is_running()
