"""Parsing and checking of solo-ext's ``method_kwargs`` (pure python + omegaconf, no solo-learn).

Every check raises ConfigError naming the key, the value and what is allowed, where the config enters.
"""

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple

from omegaconf import DictConfig, ListConfig, OmegaConf

__all__ = ["ColorMAESettings", "ConfigError", "MagmaSettings", "SMAESettings", "ViCMAESettings", "check_known_keys", "to_plain"]


class ConfigError(ValueError):
    """A config value that solo-ext cannot run with."""


def to_plain(value: Any) -> Any:
    """OmegaConf containers to plain python (checkpoints then load under torch.load(weights_only=True))."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


def check_known_keys(node: Mapping, allowed, key: str) -> None:
    unknown = sorted(set(node.keys()) - set(allowed))
    if unknown:
        raise ConfigError(f"{key}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _section(method_kwargs: Mapping, name: str, keys, defaults):
    """(``method_kwargs.<name>`` as a checked plain dict, its config key, a getter falling back to defaults)."""
    node = to_plain(method_kwargs.get(name, None)) or {}
    key = f"method_kwargs.{name}"
    if not isinstance(node, dict):
        raise ConfigError(f"{key}: {node!r} is not allowed; expected a mapping with keys {list(keys)}")
    check_known_keys(node, keys, key)
    return node, key, lambda field: node.get(field, getattr(defaults, field))


def _number(value: Any, key: str, minimum: float = 0.0, strictly: bool = False) -> float:
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) or value != value
    if bad or (value <= minimum if strictly else value < minimum):
        relation = ">" if strictly else ">="
        raise ConfigError(f"{key}: {value!r} is not allowed; expected a number {relation} {minimum}")
    return float(value)


def _whole(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{key}: {value!r} is not allowed; expected a whole number >= 0")
    return value


def _layer(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key}: {value!r} is not allowed; expected a block index (int, negative counts from the end)")
    return value


@dataclass(frozen=True)
class MagmaSettings:
    """``method_kwargs.magma`` of every MAGMA-family method, and ``method_kwargs.uniformity_weight``.

    weight/start_epoch/duration: the epoch window schedule w(epoch) (see schedules.WindowedWeight);
    reference_layers: blocks whose patch means build the graph; target_layer: the regularised block;
    rbf_scale: multiplies d/gamma in the kernel; gather: build the graph over the all-gathered global batch.
    """

    weight: float = 1.0
    start_epoch: int = 10
    duration: int = 100
    reference_layers: Tuple[int, ...] = (10,)
    target_layer: int = -1
    rbf_scale: float = 1.0
    gather: bool = False
    uniformity_weight: float = 0.0

    KEYS = ("weight", "start_epoch", "duration", "reference_layers", "target_layer", "rbf_scale", "gather")

    @classmethod
    def from_method_kwargs(cls, method_kwargs: Mapping, defaults: "MagmaSettings") -> "MagmaSettings":
        _, _, get = _section(method_kwargs, "magma", cls.KEYS, defaults)

        layers = get("reference_layers")
        if isinstance(layers, int) and not isinstance(layers, bool):
            layers = [layers]
        if not isinstance(layers, (list, tuple)) or not layers:
            raise ConfigError(
                f"method_kwargs.magma.reference_layers: {layers!r} is not allowed; expected a non-empty list of block indexes"
            )
        gather = get("gather")
        if not isinstance(gather, bool):
            raise ConfigError(f"method_kwargs.magma.gather: {gather!r} is not allowed; expected true or false")
        return cls(
            weight=_number(get("weight"), "method_kwargs.magma.weight"),
            start_epoch=_whole(get("start_epoch"), "method_kwargs.magma.start_epoch"),
            duration=_whole(get("duration"), "method_kwargs.magma.duration"),
            reference_layers=tuple(_layer(v, "method_kwargs.magma.reference_layers") for v in layers),
            target_layer=_layer(get("target_layer"), "method_kwargs.magma.target_layer"),
            rbf_scale=_number(get("rbf_scale"), "method_kwargs.magma.rbf_scale", strictly=True),
            gather=gather,
            uniformity_weight=_number(
                method_kwargs.get("uniformity_weight", defaults.uniformity_weight), "method_kwargs.uniformity_weight"
            ),
        )

    def as_dict(self) -> dict:
        return {key: (list(v) if isinstance(v := getattr(self, key), tuple) else v) for key in self.KEYS}


@dataclass(frozen=True)
class ColorMAESettings:
    """``method_kwargs.colormae``: where the pattern bank comes from and how masks are drawn.

    patterns: an .npz bank (ours or the official files); null generates one from color/num_patterns/
    pattern_size/seed at start-up. mode: per_sample | official. fp16: store the bank in half precision.
    schedule: optional list of {start_epoch, color | patterns} switching the bank from that epoch on.
    """

    patterns: Optional[str] = None
    color: str = "green"
    num_patterns: int = 3072
    pattern_size: int = 256
    seed: int = 0
    mode: str = "per_sample"
    fp16: bool = False
    schedule: Tuple[Tuple[int, str, Optional[str]], ...] = ()  # (start_epoch, color, patterns)

    KEYS = ("patterns", "color", "num_patterns", "pattern_size", "seed", "mode", "fp16", "schedule")
    COLORS = ("red", "blue", "green", "purple")
    MODES = ("per_sample", "official")

    @classmethod
    def from_method_kwargs(cls, method_kwargs: Mapping) -> "ColorMAESettings":
        _, key, get = _section(method_kwargs, "colormae", cls.KEYS, cls)
        color, mode, fp16, patterns = get("color"), get("mode"), get("fp16"), get("patterns")
        if color not in cls.COLORS:
            raise ConfigError(f"{key}.color: {color!r} is unknown; allowed: {list(cls.COLORS)}")
        if mode not in cls.MODES:
            raise ConfigError(f"{key}.mode: {mode!r} is unknown; allowed: {list(cls.MODES)}")
        if not isinstance(fp16, bool):
            raise ConfigError(f"{key}.fp16: {fp16!r} is not allowed; expected true or false")
        if patterns is not None and not isinstance(patterns, str):
            raise ConfigError(f"{key}.patterns: {patterns!r} is not allowed; expected a path to an .npz or null")
        num, size = _whole(get("num_patterns"), f"{key}.num_patterns"), _whole(get("pattern_size"), f"{key}.pattern_size")
        if num < 1 or size < 1:
            raise ConfigError(f"{key}.num_patterns/pattern_size: {num}/{size} is not allowed; expected whole numbers >= 1")
        schedule = []
        for i, entry in enumerate(get("schedule") or ()):
            where = f"{key}.schedule[{i}]"
            if not isinstance(entry, dict) or "start_epoch" not in entry or len(set(entry) & {"color", "patterns"}) != 1:
                raise ConfigError(f"{where}: {entry!r} is not allowed; expected {{start_epoch: N, color: C}} or {{start_epoch: N, patterns: FILE}}")
            check_known_keys(entry, ("start_epoch", "color", "patterns"), where)
            if "color" in entry and entry["color"] not in cls.COLORS:
                raise ConfigError(f"{where}.color: {entry['color']!r} is unknown; allowed: {list(cls.COLORS)}")
            schedule.append((_whole(entry["start_epoch"], f"{where}.start_epoch"), entry.get("color", color), entry.get("patterns")))
        return cls(patterns, color, num, size, _whole(get("seed"), f"{key}.seed"), mode, fp16, tuple(sorted(schedule)))

    def source_for_epoch(self, epoch: int) -> Tuple[str, Optional[str]]:
        """(color, patterns file) of the bank in use at ``epoch``: the last schedule entry started, else the base."""
        source = (self.color, self.patterns)
        for start, color, patterns in self.schedule:
            if start <= epoch:
                source = (color, patterns)
        return source

    def as_dict(self) -> dict:
        node = {key: getattr(self, key) for key in self.KEYS if key != "schedule"}
        node["schedule"] = [
            {"start_epoch": s, **({"patterns": p} if p is not None else {"color": c})} for s, c, p in self.schedule
        ]
        return node


@dataclass(frozen=True)
class SMAESettings:
    """``method_kwargs.smae``: L = (1 − alpha)·s_pix·L_pix + alpha·s_perc·L_perc.

    alpha: 0 = pixel loss only (MAE-like), 1 = perceptual only. pixel_loss: over ``all`` patches (SMAE) or
    the ``masked`` ones (MAE). critic: checkpoint from `solo-ext critic train` (needed when alpha > 0).
    masking: ``random`` (MAE's) or ``block``. block_bank_size: block masks precomputed at start-up.
    calibration_batches: no-grad batches setting s_pix = mean(1/L_pix), s_perc = mean(1/L_perc).
    """

    alpha: float = 0.5
    pixel_loss: str = "all"
    critic: Optional[str] = None
    masking: str = "random"
    block_bank_size: int = 10000
    calibration_batches: int = 10

    KEYS = ("alpha", "pixel_loss", "critic", "masking", "block_bank_size", "calibration_batches")

    @classmethod
    def from_method_kwargs(cls, method_kwargs: Mapping) -> "SMAESettings":
        _, key, get = _section(method_kwargs, "smae", cls.KEYS, cls)
        alpha = _number(get("alpha"), f"{key}.alpha")
        if alpha > 1:
            raise ConfigError(f"{key}.alpha: {alpha!r} is not allowed; expected a number in [0, 1]")
        for name, allowed in (("pixel_loss", ("all", "masked")), ("masking", ("random", "block"))):
            if get(name) not in allowed:
                raise ConfigError(f"{key}.{name}: {get(name)!r} is unknown; allowed: {list(allowed)}")
        critic = get("critic")
        if alpha > 0 and not isinstance(critic, str):
            raise ConfigError(f"{key}.critic: {critic!r} is not allowed with alpha {alpha} > 0; "
                              "expected the path of a critic checkpoint (solo-ext critic train)")
        bank, batches = _whole(get("block_bank_size"), f"{key}.block_bank_size"), _whole(get("calibration_batches"), f"{key}.calibration_batches")
        if bank < 1 or batches < 1:
            raise ConfigError(f"{key}.block_bank_size/calibration_batches: {bank}/{batches}; expected whole numbers >= 1")
        return cls(alpha, get("pixel_loss"), critic, get("masking"), bank, batches)

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in self.KEYS}


@dataclass(frozen=True)
class ViCMAESettings:
    """``method_kwargs.vicmae``: L = rec_weight·L_rec + w_con(epoch)·L_con, w_con = con_weight from con_start_epoch.

    loss: nt_xent (the official code: solo-learn's SimCLR loss) | clip (the paper: CLIP-style, both directions).
    temperature: T (clip: logit scale ln(1/T)); learnable_temperature: clip only, clamped to scale <= 100.
    projector: code (D-4096-4096-128, BN+ReLU) | paper (D-2D-2D-2D); proj_hidden_dim/proj_output_dim override.
    """

    loss: str = "nt_xent"
    temperature: float = 0.1
    learnable_temperature: bool = False
    projector: str = "code"
    proj_hidden_dim: Optional[int] = None
    proj_output_dim: Optional[int] = None
    rec_weight: float = 0.97
    con_weight: float = 0.03
    con_start_epoch: int = 0

    KEYS = ("loss", "temperature", "learnable_temperature", "projector", "proj_hidden_dim", "proj_output_dim",
            "rec_weight", "con_weight", "con_start_epoch")

    @classmethod
    def from_method_kwargs(cls, method_kwargs: Mapping) -> "ViCMAESettings":
        _, key, get = _section(method_kwargs, "vicmae", cls.KEYS, cls)
        for name, allowed in (("loss", ("nt_xent", "clip")), ("projector", ("code", "paper"))):
            if get(name) not in allowed:
                raise ConfigError(f"{key}.{name}: {get(name)!r} is unknown; allowed: {list(allowed)}")
        if not isinstance(get("learnable_temperature"), bool):
            raise ConfigError(f"{key}.learnable_temperature: {get('learnable_temperature')!r}; expected true or false")
        if get("learnable_temperature") and get("loss") != "clip":
            raise ConfigError(f"{key}.learnable_temperature: true is only allowed with loss: clip")
        dims = []
        for name in ("proj_hidden_dim", "proj_output_dim"):
            value = get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{key}.{name}: {value!r} is not allowed; expected a whole number >= 1 or null")
            dims.append(value)
        return cls(get("loss"), _number(get("temperature"), f"{key}.temperature", strictly=True), get("learnable_temperature"),
                   get("projector"), dims[0], dims[1], _number(get("rec_weight"), f"{key}.rec_weight"),
                   _number(get("con_weight"), f"{key}.con_weight"), _whole(get("con_start_epoch"), f"{key}.con_start_epoch"))

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in self.KEYS}
