"""solo_ext must import, and fail clearly where solo-learn is needed, when solo-learn is absent."""

import subprocess
import sys
import textwrap

import pytest

HIDE_SOLO = textwrap.dedent(
    """
    import sys
    class HideSolo:
        def find_spec(self, name, path=None, target=None):
            if name == "solo" or name.startswith("solo."):
                raise ModuleNotFoundError(f"No module named {name!r}")
    sys.meta_path.insert(0, HideSolo())
    """
)


def run(code):
    return subprocess.run(
        [sys.executable, "-c", HIDE_SOLO + textwrap.dedent(code)], capture_output=True, text=True
    )


@pytest.mark.slow
def test_core_imports_and_register_explains():
    result = run(
        """
        import solo_ext, solo_ext.losses, solo_ext.masking, solo_ext.backbones, solo_ext.schedules, solo_ext.config
        import solo_ext.distributed, solo_ext.data.digits, solo_ext.data.tiny_imagenet, solo_ext.data.frame_pairs
        import solo_ext.launch.results, solo_ext.reporting.tables, solo_ext.data.cub200, solo_ext.analysis
        loaded = {m.split(".")[0] for m in sys.modules}
        assert not loaded & {"solo", "lightning"}, "the core imports solo or lightning"
        try:
            solo_ext.register()
        except solo_ext.SoloLearnMissingError as err:
            print("MESSAGE", err)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "solo-learn >= 1.0.6" in result.stdout and "vturrisi/solo-learn" in result.stdout


def test_cli_needs_solo_learn_with_one_message():
    result = run("from solo_ext.cli import main; main(['pretrain', '--config-name', 'x'])")
    assert result.returncode != 0
    assert "solo-ext pretrain: solo-ext needs solo-learn >= 1.0.6" in result.stderr
    assert "Traceback" not in result.stderr
