"""The one place that knows how to tell a user that solo-learn is missing."""

import importlib.util

__all__ = ["SOLO_LEARN_MISSING", "SoloLearnMissingError", "require_solo_learn", "solo_learn_available"]

SOLO_LEARN_MISSING = (
    "solo-ext needs solo-learn >= 1.0.6, which is installed from its GitHub repository "
    "(vturrisi/solo-learn), not from PyPI (PyPI's 'solo-learn' is an unrelated 2021 release). "
    "Install it into this Python with: pip install 'setuptools<82' && "
    "pip install --no-build-isolation git+https://github.com/vturrisi/solo-learn.git "
    "(its setup.py imports pkg_resources, removed in setuptools 82)."
)


class SoloLearnMissingError(ImportError):
    """solo-learn (>= 1.0.6, from its repository) is not importable."""


def solo_learn_available() -> bool:
    return importlib.util.find_spec("solo") is not None


def require_solo_learn() -> None:
    """Raises SoloLearnMissingError with install instructions unless solo-learn >= 1.0.6 imports."""
    try:
        import solo.methods  # noqa: F401
    except ImportError as err:
        raise SoloLearnMissingError(f"{SOLO_LEARN_MISSING} (import failed: {err})") from err
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("solo-learn")
    except PackageNotFoundError:
        return  # importable from a source tree on sys.path
    parts = tuple(int(p) for p in installed.split(".")[:3] if p.isdigit())
    if parts < (1, 0, 6):
        raise SoloLearnMissingError(f"found solo-learn {installed}. {SOLO_LEARN_MISSING}")
