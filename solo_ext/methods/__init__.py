"""solo-learn glue: method classes and their registration into ``solo.methods.METHODS``.

Importing this package needs solo-learn; ``solo_ext.register()`` checks for it first. Which class a
method name trains is its spec's ``method_class`` (solo_ext/config/specs.py): the specs are the one list.
"""

from importlib import import_module

from solo_ext.config import SPECS
from solo_ext.methods.backbones import EXTRA_BACKBONES
from solo_ext.methods.base import SoloExtMethod, accepts_large_crops
from solo_ext.methods.vicmae import ViCMAE

__all__ = ["SOLO_EXT_METHODS", "register_methods", "accepts_large_crops", "SoloExtMethod", "ViCMAE"]


def method_class(name: str) -> type:
    """The class of method ``name``, as its spec names it ("module:Class" under solo_ext.methods)."""
    path = SPECS[name].method_class
    module, _, cls = path.partition(":")
    if not module or not cls:
        raise ValueError(
            f"SPECS[{name!r}].method_class: {path!r} is not allowed; expected 'module:Class' of a "
            "module in solo_ext/methods/"
        )
    return getattr(import_module(f"solo_ext.methods.{module}"), cls)


# yaml `method:` name -> class
SOLO_EXT_METHODS = {name: method_class(name) for name in SPECS}


def register_methods() -> dict:
    """Inserts the solo-ext methods into solo-learn's shared METHODS table and the extra backbones into
    BaseMethod._BACKBONES, so every launcher and evaluation script of this process sees them (idempotent)."""
    from solo.methods import METHODS
    from solo.methods.base import BaseMethod

    METHODS.update(SOLO_EXT_METHODS)
    BaseMethod._BACKBONES.update(EXTRA_BACKBONES)
    return dict(SOLO_EXT_METHODS)
