"""Parsing and checking of solo-ext's ``method_kwargs`` (pure python + omegaconf, no solo-learn).

Every check raises ConfigError naming the key, the value and what is allowed, where the config enters.
"""

from dataclasses import dataclass
from typing import Any, Mapping, Tuple

from omegaconf import DictConfig, ListConfig, OmegaConf

__all__ = ["ConfigError", "MagmaSettings", "check_known_keys", "to_plain"]


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
        node = to_plain(method_kwargs.get("magma", None)) or {}
        if not isinstance(node, dict):
            raise ConfigError(f"method_kwargs.magma: {node!r} is not allowed; expected a mapping with keys {list(cls.KEYS)}")
        check_known_keys(node, cls.KEYS, "method_kwargs.magma")
        get = lambda name: node.get(name, getattr(defaults, name))  # noqa: E731

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
