"""solo-ext: recent self-supervised methods as a solo-learn plugin.

Layout: ``losses``, ``backbones``, ``schedules``, ``distributed`` are pure torch and import neither
solo-learn nor Lightning; ``methods`` (solo-learn glue), ``launch`` and ``cli`` need solo-learn;
``tools`` prepares data.
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
