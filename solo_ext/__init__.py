"""solo-ext: recent self-supervised methods as a solo-learn plugin.

Layers, each importing only those below it (docs/architecture.md; tests/core/test_layering.py checks it):
the core (``losses``, ``masking``, ``backbones``, ``schedules``, ``distributed``: pure torch); ``config``,
``data``, ``analysis``, ``host`` (no solo-learn); ``methods`` (solo-learn glue); ``launch`` (the commands);
``reporting`` (results tables, the fidelity study); ``cli``.
"""

from solo_ext.host import SoloLearnMissingError

__version__ = "0.1.0"
__all__ = ["register", "SoloLearnMissingError", "__version__"]


def register() -> dict:
    """Adds every solo-ext method to ``solo.methods.METHODS`` (idempotent) and returns the added entries.

    Raises SoloLearnMissingError (with install instructions) when solo-learn is not installed.
    """
    from solo_ext.host import require_solo_learn

    require_solo_learn()
    from solo_ext.methods import register_methods

    return register_methods()
