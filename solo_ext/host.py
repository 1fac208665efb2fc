"""The one place that knows how to tell a user that solo-learn is missing, too old, or installed but broken."""

import importlib.util

__all__ = [
    "SOLO_LEARN_MISSING",
    "SOLO_LEARN_GIT",
    "SoloLearnMissingError",
    "require_solo_learn",
    "solo_learn_available",
]

SOLO_LEARN_GIT = "git+https://github.com/vturrisi/solo-learn.git"
_REINSTALL = f"pip install wheel 'setuptools<82' && pip install --no-build-isolation --upgrade {SOLO_LEARN_GIT}"
SOLO_LEARN_MISSING = (
    "solo-ext needs solo-learn >= 1.0.6, which is installed from its GitHub repository "
    "(vturrisi/solo-learn), not from PyPI (PyPI's 'solo-learn' is an unrelated 2021 release). "
    f"Install it into this Python with: {_REINSTALL} "
    "(its setup.py imports pkg_resources, removed in setuptools 82; docs/installation.md has the whole sequence)."
)


class SoloLearnMissingError(ImportError):
    """solo-learn (>= 1.0.6, from its repository) is not importable, too old, or its dependencies are broken."""


def solo_learn_available() -> bool:
    try:
        return importlib.util.find_spec("solo") is not None
    except ImportError:
        return False


def _setuptools_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("setuptools")
    except PackageNotFoundError:
        return "none"


def _broken_install(err: ImportError) -> str:
    """What to do when solo-learn is installed but does not import (one line)."""
    missing = getattr(err, "name", None) or ""
    if missing == "pkg_resources" or "pkg_resources" in str(err):
        return (
            f"solo-learn is installed but Lightning 2.1.2 (which it uses) cannot import: it needs "
            f"pkg_resources, which setuptools {_setuptools_version()} no longer has (removed in 82); "
            "repair with: pip install 'setuptools<82'"
        )
    return (
        f"solo-learn is installed but does not import ({err}); reinstall it with its dependencies: "
        f"{_REINSTALL}"
    )


def require_solo_learn() -> None:
    """Raises SoloLearnMissingError with what to do unless solo-learn >= 1.0.6 imports."""
    if not solo_learn_available():
        raise SoloLearnMissingError(SOLO_LEARN_MISSING)
    try:
        import solo.methods  # noqa: F401
    except ImportError as err:
        top = (getattr(err, "name", None) or "").split(".")[0]
        if (
            top == "solo"
        ):  # a part of solo-learn itself is absent: an incomplete or foreign 'solo' package
            raise SoloLearnMissingError(f"{SOLO_LEARN_MISSING} (import failed: {err})") from err
        raise SoloLearnMissingError(_broken_install(err)) from err
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("solo-learn")
    except PackageNotFoundError:
        return  # importable from a source tree on sys.path
    parts = tuple(int(p) for p in installed.split(".")[:3] if p.isdigit())
    if parts < (1, 0, 6):
        raise SoloLearnMissingError(
            f"found solo-learn {installed}, solo-ext needs >= 1.0.6 (from its repository, "
            f"not PyPI); upgrade with: {_REINSTALL}"
        )
