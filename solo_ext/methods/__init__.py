"""solo-learn glue: method classes and their registration into ``solo.methods.METHODS``.

Importing this package needs solo-learn; ``solo_ext.register()`` checks for it first.
"""

from solo_ext.methods.backbones import EXTRA_BACKBONES
from solo_ext.methods.base import SoloExtMethod, accepts_large_crops
from solo_ext.methods.colormae import ColorMAE
from solo_ext.methods.magma import MMAE, MUMAE, UMAE, MSimCLR, MVICReg
from solo_ext.methods.smae import SMAE
from solo_ext.methods.vicmae import ViCMAE

__all__ = ["SOLO_EXT_METHODS", "register_methods", "accepts_large_crops", "SoloExtMethod", "ViCMAE"]

# yaml `method:` name -> class. Only implemented methods are listed.
SOLO_EXT_METHODS = {
    "m_mae": MMAE,
    "u_mae": UMAE,
    "mu_mae": MUMAE,
    "m_simclr": MSimCLR,
    "m_vicreg": MVICReg,
    "colormae": ColorMAE,
    "smae": SMAE,
    "vicmae": ViCMAE,
}


def register_methods() -> dict:
    """Inserts the solo-ext methods into solo-learn's shared METHODS table and the extra backbones into
    BaseMethod._BACKBONES, so every launcher and evaluation script of this process sees them (idempotent)."""
    from solo.methods import METHODS
    from solo.methods.base import BaseMethod

    METHODS.update(SOLO_EXT_METHODS)
    BaseMethod._BACKBONES.update(EXTRA_BACKBONES)
    return dict(SOLO_EXT_METHODS)
