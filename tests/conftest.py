import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains for longer than ~20 s; deselect with -m 'not slow'")


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory):
    """The real embedded digits exported once per session as train/ and val/ ImageFolders."""
    from solo_ext.data.digits import export_digits

    out = tmp_path_factory.mktemp("digits")
    export_digits(out)
    return out
