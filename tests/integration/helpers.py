"""Own helpers for the integration tests: zoo digits configs shrunk to a few CPU steps, a tiny ViT for tests
that need "a ViT" rather than the zoo's, and the one way the tests start a fresh Python."""

import os
import subprocess
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir

from solo_ext.cli import zoo_path
from solo_ext.config.method_kwargs import MagmaSettings
from solo_ext.config.specs import SPECS


def _solo_learn_source():
    """SOLO_LEARN_SRC, or the source tree of an editable solo-learn install (main_pretrain.py beside solo/)."""
    if os.environ.get("SOLO_LEARN_SRC"):
        return os.environ["SOLO_LEARN_SRC"]
    import solo

    tree = Path(solo.__file__).resolve().parents[1]
    return str(tree) if (tree / "main_pretrain.py").is_file() else None


SOLO_LEARN_SRC = _solo_learn_source()
MAIN_PRETRAIN = Path(SOLO_LEARN_SRC) / "main_pretrain.py" if SOLO_LEARN_SRC else None
MAIN_LINEAR = Path(SOLO_LEARN_SRC) / "main_linear.py" if SOLO_LEARN_SRC else None
# solo-learn's scripts count len(devices) and Lightning wants an int on CPU: the string "1" satisfies both
ONE_CPU_DEVICE = "devices='1'"

# A 2-block, 32-wide ViT (solo-ext's vit_lite reshaped through backbone.kwargs), at the zoo's patch and image
# size. A training step costs a fraction of ViT-Tiny's 12 blocks of width 192.
TINY_VIT = (
    "backbone.name=vit_lite",
    "++backbone.kwargs.depth=2",
    "++backbone.kwargs.embed_dim=32",
    "++backbone.kwargs.num_heads=2",
)
TINY_VIT_DEPTH, TINY_VIT_WIDTH, TINY_VIT_HEADS = 2, 32, 2
# the MAE family's decoder, shrunk alike
TINY_DECODER = {"decoder_embed_dim": 32, "decoder_depth": 1, "decoder_num_heads": 2}


def digits_config(
    method_file: str, digits_dir, tmp_path, *overrides, task="pretrain", tiny_vit=False
):
    """A zoo digits config shrunk to a couple of batches, writing into tmp_path.

    ``tiny_vit``: pretrain on TINY_VIT with a TINY_DECODER (MAE family), MAGMA's reference block inside its
    depth (block 0); an override of the test that names one of these keys wins."""
    base = [
        f"data.train_path={digits_dir}/train",
        f"data.val_path={digits_dir}/val",
        f"checkpoint.dir={tmp_path}/trained_models",
        "max_epochs=1",
        "+limit_train_batches=2",
        "+num_sanity_val_steps=0",
        "+enable_progress_bar=false",
        "data.num_workers=0",
    ]
    if task == "pretrain":
        base += ["optimizer.batch_size=16"]
    config_dir = str(zoo_path() / task / "digits")
    overrides = list(overrides)
    if tiny_vit:
        if task != "pretrain":
            raise ValueError("tiny_vit: only a pretraining config builds its backbone")
        with initialize_config_dir(config_dir=config_dir, version_base="1.2"):
            method = compose(config_name=method_file, overrides=[*base, *overrides]).method
        base += TINY_VIT
        # after the test's own overrides (which may delete a whole section), unless they set the key
        overrides += [
            tiny
            for tiny in tiny_method_overrides(method)
            if not any(tiny.split("=")[0].lstrip("+") in given for given in overrides)
        ]
    with initialize_config_dir(config_dir=config_dir, version_base="1.2"):
        return compose(config_name=method_file, overrides=[*base, *overrides])


def tiny_method_overrides(method: str) -> list:
    """The method's overrides that go with TINY_VIT: a small MAE decoder, MAGMA's reference block 0."""
    spec = SPECS.get(method)
    out = []
    if method == "mae" or (spec is not None and spec.host == "mae"):
        out += [f"++method_kwargs.{key}={value}" for key, value in TINY_DECODER.items()]
    if spec is not None and spec.section is MagmaSettings:
        out.append("++method_kwargs.magma.reference_layers=[0]")
    return out


def zoo_args(config: str, task: str = "pretrain") -> list:
    """``--config-path``/``--config-name`` of a zoo digits config, as a user passes them to a script."""
    return ["--config-path", str(zoo_path() / task / "digits"), "--config-name", config]


def short_run(digits_dir, checkpoint_dir, *, val: bool = True, batches: int = 2) -> list:
    """Command-line overrides that make a zoo digits pretraining config a ``batches``-step CPU run."""
    return [
        f"data.train_path={digits_dir}/train",
        f"data.val_path={digits_dir}/val" if val else "data.val_path=null",
        f"checkpoint.dir={checkpoint_dir}",
        "max_epochs=1",
        f"+limit_train_batches={batches}",
        "optimizer.batch_size=16",
        "data.num_workers=0",
        "+enable_progress_bar=false",
    ]


def run_python(*argv, cwd, timeout: float = 900, env: dict = None) -> subprocess.CompletedProcess:
    """``python <argv>`` in ``cwd`` (this interpreter), text output captured, wandb off, killed after
    ``timeout`` s (generous: a fresh Python imports solo-learn in tens of seconds on a loaded machine)."""
    return subprocess.run(
        [sys.executable, *map(str, argv)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "WANDB_MODE": "disabled", **(env or {})},
        check=False,
    )


def solo_ext_command(*argv, cwd, **kwargs) -> subprocess.CompletedProcess:
    """``solo-ext <argv>`` as a user types it (through ``python -m solo_ext.cli``)."""
    return run_python("-m", "solo_ext.cli", *argv, cwd=cwd, **kwargs)


def assert_succeeded(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Exit code 0, else the end of what the process said."""
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result


def run_main_linear(ckpt, digits_dir, out: Path, *overrides) -> subprocess.CompletedProcess:
    """solo-learn's own main_linear.py on our digits linear config: one training step, one validation batch,
    writing into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    return run_python(
        MAIN_LINEAR,
        *zoo_args("linear", task="linear"),
        f"pretrained_feature_extractor='{ckpt}'",
        f"data.train_path={digits_dir}/train",
        f"data.val_path={digits_dir}/val",
        "checkpoint.dir=trained_models",
        "max_epochs=1",
        "+limit_train_batches=1",
        "+limit_val_batches=1",
        "optimizer.batch_size=16",
        "data.num_workers=0",
        "+num_sanity_val_steps=0",
        "+enable_progress_bar=false",
        ONE_CPU_DEVICE,
        *overrides,
        cwd=out,
    )
