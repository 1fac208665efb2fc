"""solo-learn glue: method classes and their registration into ``solo.methods.METHODS``.

Importing this package needs solo-learn; ``solo_ext.register()`` checks for it first.
"""

from solo_ext.methods.base import SoloExtMethod, accepts_large_crops
from solo_ext.methods.colormae import ColorMAE
from solo_ext.methods.magma import MMAE, MSimCLR, MUMAE, MVICReg, UMAE

__all__ = ["SOLO_EXT_METHODS", "register_methods", "accepts_large_crops", "SoloExtMethod"]

# yaml `method:` name -> class. Only implemented methods are listed.
SOLO_EXT_METHODS = {
    "m_mae": MMAE,
    "u_mae": UMAE,
    "mu_mae": MUMAE,
    "m_simclr": MSimCLR,
    "m_vicreg": MVICReg,
    "colormae": ColorMAE,
}


def register_methods() -> dict:
    """Inserts the solo-ext methods into solo-learn's shared METHODS table (idempotent)."""
    from solo.methods import METHODS

    METHODS.update(SOLO_EXT_METHODS)
    return dict(SOLO_EXT_METHODS)
