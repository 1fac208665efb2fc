"""Test tiers: a plain ``pytest tests`` runs the fast tier; ``slow`` and ``ddp`` tests run with ``--all-tiers``
(or SOLO_EXT_ALL_TIERS=1), with an explicit ``-m`` expression (``-m slow``, ``-m "ddp or not ddp"``), or when named by
node id (``tests/integration/test_ddp.py::test_x``)."""

import os
from pathlib import Path

import pytest

TIERS = {
    "slow": "seconds or more each: starts a fresh Python, trains long or composes many configs",
    "ddp": "starts several processes (gloo / Lightning DDP)",
}


def pytest_addoption(parser):
    parser.addoption(
        "--all-tiers",
        action="store_true",
        default=False,
        help="run the slow and ddp tiers too (also: SOLO_EXT_ALL_TIERS=1)",
    )


# The tests train tiny models, where a second torch thread gains little; on a shared 2-core machine OpenMP's
# spinning threads made each step 4x slower (a digits M-MAE step under load 6: 39 s with 2 threads, 8.5 s with 1).
# One thread here and in every Python the tests start, unless OMP_NUM_THREADS says otherwise.
TEST_THREADS = "1"


def pytest_configure(config):
    if "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = TEST_THREADS
        import torch

        torch.set_num_threads(int(TEST_THREADS))
    for name, what in TIERS.items():
        config.addinivalue_line(
            "markers", f"{name}: {what}; not in the default run (--all-tiers runs it)"
        )


def _named(config):
    """The node ids given on the command line (path::name), relative to the root directory."""
    named = []
    for arg in config.args:
        if "::" in arg:
            path, rest = arg.split("::", 1)
            named.append(
                f"{Path(os.path.relpath(Path(path).resolve(), config.rootpath)).as_posix()}::{rest}"
            )
    return named


def pytest_collection_modifyitems(config, items):
    if (
        config.getoption("--all-tiers")
        or os.environ.get("SOLO_EXT_ALL_TIERS") == "1"
        or config.option.markexpr
    ):
        return
    named = _named(config)
    keep, tiered = [], []
    for item in items:
        in_tier = any(item.get_closest_marker(name) for name in TIERS)
        (tiered if in_tier and not any(item.nodeid.startswith(n) for n in named) else keep).append(
            item
        )
    if tiered:
        config.hook.pytest_deselected(items=tiered)
        items[:] = keep


def pytest_report_header(config):
    if config.getoption("--all-tiers") or os.environ.get("SOLO_EXT_ALL_TIERS") == "1":
        return "solo-ext test tiers: all"
    if config.option.markexpr:
        return f"solo-ext test tiers: -m {config.option.markexpr!r}"
    return "solo-ext test tiers: fast (slow and ddp deselected; --all-tiers runs them)"


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory):
    """The real embedded digits exported once per session as train/ and val/ ImageFolders."""
    from solo_ext.data.digits import export_digits

    out = tmp_path_factory.mktemp("digits")
    export_digits(out)
    return out
