"""The choices of ColorMAE's masking keys, importable without torch (the config layer and the
commands that only read configs, such as ``solo-ext sweep --dry-run``, need them, not the masks)."""

__all__ = ["COLORS", "MODES"]

COLORS = ("red", "blue", "green", "purple")  # the paper's noise colours
MODES = ("per_sample", "official")  # how a batch draws its patterns (see ColoredNoiseMasker)
