"""Own helpers for the integration tests: zoo digits configs shrunk to a few CPU steps."""

import os
from pathlib import Path

from hydra import compose, initialize_config_dir

from solo_ext.cli import zoo_path


def _solo_learn_source():
    """SOLO_LEARN_SRC, or the source tree of an editable solo-learn install (main_pretrain.py beside solo/)."""
    if os.environ.get("SOLO_LEARN_SRC"):
        return os.environ["SOLO_LEARN_SRC"]
    import solo

    tree = Path(solo.__file__).resolve().parents[1]
    return str(tree) if (tree / "main_pretrain.py").is_file() else None


SOLO_LEARN_SRC = _solo_learn_source()


def digits_config(method_file: str, digits_dir, tmp_path, *overrides, task="pretrain"):
    """A zoo digits config shrunk to a couple of batches, writing into tmp_path."""
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
    with initialize_config_dir(config_dir=str(zoo_path() / task / "digits"), version_base="1.2"):
        return compose(config_name=method_file, overrides=[*base, *overrides])
