"""Where the zoo of yaml presets is: the installed package data ``solo_ext.zoo``, or ``zoo_configs/`` of the
source checkout in use."""

from pathlib import Path

__all__ = ["zoo_path"]


def zoo_path() -> Path:
    checkout = Path(__file__).resolve().parents[2] / "zoo_configs"
    if checkout.is_dir():
        return checkout
    from importlib.resources import files

    return Path(str(files("solo_ext.zoo")))
