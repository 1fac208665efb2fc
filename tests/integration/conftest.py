"""Integration tests: real solo-learn, real Lightning, a few CPU training steps on the embedded digits."""

import pytest

try:
    import solo.methods  # noqa: F401
except ImportError as err:  # one visible reason for the whole folder
    pytest.skip(
        f"solo-learn is not installed ({err}); see docs/installation.md", allow_module_level=True
    )

import solo_ext

solo_ext.register()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # lightning_logs/ and friends land in tmp
    monkeypatch.setenv("WANDB_MODE", "disabled")
    yield
