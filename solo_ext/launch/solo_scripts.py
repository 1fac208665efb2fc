"""solo-learn's own, unmodified ``main_pretrain.py`` training solo-ext methods.

solo-learn's script stops any method that trains with other than two large crops on a hard-coded
``assert cfg.method in ["wmse", "mae"]``, so M-MAE, U-MAE, MU-MAE, SMAE and ColorMAE cannot run there as it
is. Our Hydra plugin is imported inside that process before its ``main()`` runs, and calls
:func:`adopt_main_pretrain`. The contract (docs/solo-learn-scripts.md):

- It acts only when the running script (``__main__``) is solo-learn's ``main_pretrain.py``, byte for byte one
  of the versions listed in ``KNOWN_MAIN_PRETRAIN``, and only for a config whose ``method`` is a solo-ext
  method. Then ``main()``'s first step, ``parse_cfg(cfg)``, hands the config to ``solo-ext pretrain``'s
  launcher (same yaml schema, same pipelines, the crop count the config asks for) and ends the process
  when training ends, so the rest of ``main()`` never runs.
- For solo-learn's own methods ``parse_cfg`` is solo-learn's, called with the same config: their runs are
  unchanged.
- Another ``main_pretrain.py`` (another solo-learn version, local edits) is never guessed at: a solo-ext
  method stops there with one message saying to use ``solo-ext pretrain``; built-in methods are left alone.
- Nothing is installed at interpreter start-up (no ``.pth``, no sitecustomize): only Hydra's plugin import.
"""

import hashlib
import sys
from pathlib import Path
from typing import Callable, Optional

__all__ = ["KNOWN_MAIN_PRETRAIN", "adopt_main_pretrain"]

# sha256 of solo-learn's main_pretrain.py in the versions whose main() is known: main() starts with
# `cfg = parse_cfg(cfg)` looked up in the script's globals (solo-learn 1.0.6 as on its main branch, tag 1.0.8).
KNOWN_MAIN_PRETRAIN = {
    "8591a6f5ad15462d824ed8e304a329a87316fef24bd0a082c0944a97b7b257c4": "solo-learn 1.0.6 (main, tag 1.0.8)",
}
_ADOPTED = "_solo_ext_adopted"


def _running_main_pretrain():
    script = sys.modules.get("__main__")
    path = getattr(script, "__file__", None)
    if path is None or Path(path).name != "main_pretrain.py" or not hasattr(script, "main"):
        return None
    return script


def _fingerprint(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _is_solo_ext_method(cfg) -> bool:
    from solo_ext.methods import SOLO_EXT_METHODS

    return cfg.get("method", None) in SOLO_EXT_METHODS


def _unsupported_message(path: str, method: str) -> str:
    return (
        f"solo-ext: {path} is not a main_pretrain.py that solo-ext knows (known: "
        f"{', '.join(KNOWN_MAIN_PRETRAIN.values())}), so method {method!r} cannot run through it. "
        f"Run the same config with: solo-ext pretrain --config-path DIR --config-name NAME [overrides]"
    )


def _train_with_solo_ext(cfg) -> None:
    """Runs ``solo-ext pretrain``'s launcher on ``cfg`` and ends the process as that command would."""
    from solo_ext.config import ConfigError
    from solo_ext.launch.pretrain import pretrain
    from solo_ext.launch.runs import exit_interrupted, report_validation

    try:
        trainer = pretrain(cfg)
    except ConfigError as err:
        sys.exit(f"main_pretrain.py (solo-ext): config error: {err}")
    except KeyboardInterrupt:
        exit_interrupted("pretrain", None, sys.argv[1:], program="python main_pretrain.py")
    if trainer.interrupted:
        exit_interrupted("pretrain", trainer, sys.argv[1:], program="python main_pretrain.py")
    report_validation(trainer)
    sys.exit(0)


def adopt_main_pretrain() -> Optional[str]:
    """Wraps the running main_pretrain.py's ``parse_cfg`` (see the module docstring); returns what was adopted."""
    script = _running_main_pretrain()
    if script is None or not hasattr(script, "parse_cfg"):
        return None
    original: Callable = script.parse_cfg
    if getattr(original, _ADOPTED, False):
        return KNOWN_MAIN_PRETRAIN.get(_fingerprint(script.__file__), "unknown")
    known = KNOWN_MAIN_PRETRAIN.get(_fingerprint(script.__file__))

    def parse_cfg(cfg):
        if not _is_solo_ext_method(cfg):
            return original(cfg)
        if known is None:  # one line, not Hydra's report of an exception
            sys.exit(_unsupported_message(script.__file__, cfg.method))
        _train_with_solo_ext(cfg)

    setattr(parse_cfg, _ADOPTED, True)
    script.parse_cfg = parse_cfg
    return known or "unknown"
