"""A small declarative language for config keys: a Field states a key's type, range, choices and default,
checks a value, and says in words what is allowed (pure python + omegaconf, no solo-learn).

Usage::

    MASK_RATIO = Field("mask_ratio", "number", 0.75, low=0, high=1, low_open=True, high_open=True)
    MASK_RATIO.check(0.9, "method_kwargs.mask_ratio")      # 0.9
    MASK_RATIO.check(1.5, "method_kwargs.mask_ratio")
    # ConfigError: method_kwargs.mask_ratio: 1.5 is not allowed; expected a number in (0, 1)
    parse_fields({"mask_ratio": 0.5}, [MASK_RATIO], "method_kwargs")   # {"mask_ratio": 0.5}
"""

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Dict, Mapping, Optional, Sequence, Tuple

from omegaconf import DictConfig, ListConfig, OmegaConf

__all__ = [
    "REQUIRED",
    "ConfigError",
    "Field",
    "check_known_keys",
    "config_key",
    "parse_fields",
    "to_plain",
]


class ConfigError(ValueError):
    """A config value that solo-ext cannot run with."""


@contextmanager
def config_key(key: str, hint: str = ""):
    """Turns the core's ValueError about its own parameter into a ConfigError naming the config key (or CLI
    flag) the value came from, with an optional hint of what to do::

        with config_key("method_kwargs.colormae.patterns"):
            bank = load_patterns(path)   # ValueError: pattern file 'x.npz' does not exist
        # ConfigError: method_kwargs.colormae.patterns: pattern file 'x.npz' does not exist
    """
    try:
        yield
    except ConfigError:
        raise
    except ValueError as err:
        raise ConfigError(f"{key}: {err}" + (f"; {hint}" if hint else "")) from None


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED = _Required()
KINDS = ("int", "number", "bool", "choice", "str", "int_list", "list")


def to_plain(value: Any) -> Any:
    """OmegaConf containers to plain python (checkpoints then load under torch.load(weights_only=True))."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


def check_known_keys(node: Mapping, allowed, key: str) -> None:
    unknown = sorted(set(node.keys()) - set(allowed))
    if unknown:
        raise ConfigError(f"{key}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    )  # NaN is no number


@dataclass(frozen=True)
class Field:
    """One config key. ``low``/``high`` bound numbers (closed unless ``*_open``); ``nullable`` admits null;
    ``item`` checks each element of a ``list`` field (raising ConfigError itself)."""

    name: str
    kind: str
    default: Any = REQUIRED
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    high_open: bool = False
    choices: Tuple[str, ...] = ()
    nullable: bool = False
    doc: str = ""
    item: Optional[Callable[[Any, str], Any]] = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Field {self.name}: kind {self.kind!r} is unknown; allowed: {KINDS}")

    def _range(self) -> str:
        if self.low is not None and self.high is not None:
            return f" in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f" {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f" {'<' if self.high_open else '<='} {self.high:g}"
        return ""

    def allowed(self) -> str:
        """What the key accepts, in words (used in errors and in the docs table)."""
        text = {
            "int": "a whole number" + self._range(),
            "number": "a number" + self._range(),
            "bool": "true or false",
            "choice": f"one of {list(self.choices)}",
            "str": "a path (string)",
            "int_list": "a non-empty list of whole numbers (or one number)",
            "list": "a list",
        }[self.kind]
        return text + (" or null" if self.nullable else "")

    def _in_range(self, value: float) -> bool:
        low_ok = self.low is None or (value > self.low if self.low_open else value >= self.low)
        high_ok = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return low_ok and high_ok

    def check(self, value: Any, key: str) -> Any:
        """The value (lists as tuples for int_list) if allowed; else ConfigError naming key, value and
        what is allowed."""
        value = to_plain(value)
        if isinstance(value, tuple):  # defaults are written as tuples
            value = list(value)
        if value is None and self.nullable:
            return None
        ok = {
            "int": lambda v: _is_int(v) and self._in_range(v),
            "number": lambda v: _is_number(v) and self._in_range(v),
            "bool": lambda v: isinstance(v, bool),
            "choice": lambda v: isinstance(v, str) and v in self.choices,
            "str": lambda v: isinstance(v, str) and v != "",
            "int_list": lambda v: (
                _is_int(v) or (isinstance(v, list) and len(v) > 0 and all(_is_int(x) for x in v))
            ),
            "list": lambda v: isinstance(v, list),
        }[self.kind](value)
        if not ok:
            raise ConfigError(f"{key}: {value!r} is not allowed; expected {self.allowed()}")
        if self.kind == "number":
            return float(value)
        if self.kind == "int_list":
            return (value,) if _is_int(value) else tuple(value)
        if self.kind == "list" and self.item is not None:
            return tuple(self.item(entry, f"{key}[{i}]") for i, entry in enumerate(value))
        return value


def parse_fields(
    node: Optional[Mapping],
    fields: Sequence[Field],
    key: str,
    defaults: Optional[Mapping[str, Any]] = None,
    extra_keys: Sequence[str] = (),
) -> Dict[str, Any]:
    """Checks every field of ``node`` (a mapping at config key ``key``): no unknown keys (``extra_keys`` are
    allowed but not parsed here), each value allowed, required keys present; returns {name: value} with the
    defaults (``defaults`` overriding the fields' own) filled in."""
    node = to_plain(node)
    if node is None:
        node = {}
    if not isinstance(node, dict):
        raise ConfigError(
            f"{key}: {node!r} is not allowed; expected a mapping with keys {[f.name for f in fields]}"
        )
    check_known_keys(node, [f.name for f in fields] + list(extra_keys), key)
    defaults = defaults or {}
    parsed = {}
    for field in fields:
        value = node.get(field.name, defaults.get(field.name, field.default))
        if value is REQUIRED:
            raise ConfigError(f"{key}.{field.name}: missing; expected {field.allowed()}")
        parsed[field.name] = field.check(value, f"{key}.{field.name}")
    return parsed


def setting(kind: str, default: Any = REQUIRED, **spec) -> Any:
    """A dataclass field of a config section that carries its Field (type, range, choices, doc) as
    metadata: the section's dataclass is the one place its keys and defaults are written::

        @dataclass(frozen=True)
        class MySection(Section):
            weight: float = setting("number", 1.0, low=0, doc="lambda")
    """
    import dataclasses

    return dataclasses.field(default=default, metadata={"field": Field("", kind, default, **spec)})


class Section:
    """Base of a ``method_kwargs.<section>`` dataclass whose fields are declared with ``setting``.

    ``KEY``: the section's name under ``method_kwargs``. ``from_method_kwargs(method_kwargs, defaults)``
    parses it (a method's own defaults fill in what the yaml leaves out); ``write_to`` puts the checked,
    complete values back into the config.
    """

    KEY: ClassVar[str] = ""

    @classmethod
    def parse_own(
        cls, method_kwargs: Mapping, defaults: Optional["Section"] = None
    ) -> Dict[str, Any]:
        """{key: checked value} of ``method_kwargs.<KEY>``, ``defaults`` (a Section) filling in absent keys."""
        own = {key: getattr(defaults, key) for key in cls.keys()} if defaults is not None else None
        return parse_fields(
            method_kwargs.get(cls.KEY, None), cls.fields(), f"method_kwargs.{cls.KEY}", own
        )

    @classmethod
    def from_method_kwargs(
        cls, method_kwargs: Mapping, defaults: Optional["Section"] = None
    ) -> "Section":
        return cls(**cls.parse_own(method_kwargs, defaults))

    def write_to(self, method_kwargs) -> None:
        """Writes the checked values back (args.json and checkpoints then hold plain, complete values)."""
        method_kwargs[self.KEY] = self.as_dict()

    @classmethod
    def fields(cls, defaults: Optional[Mapping[str, Any]] = None) -> Tuple[Field, ...]:
        """The section's Fields, named after the dataclass fields; ``defaults`` (a method's own) replace
        the declared ones."""
        import dataclasses

        defaults = defaults or {}
        found = []
        for f in dataclasses.fields(cls):
            field = f.metadata.get("field")
            if field is not None and not f.metadata.get("top_level", False):
                found.append(
                    dataclasses.replace(
                        field, name=f.name, default=defaults.get(f.name, field.default)
                    )
                )
        return tuple(found)

    @classmethod
    def keys(cls) -> Tuple[str, ...]:
        return tuple(f.name for f in cls.fields())

    def as_dict(self) -> dict:
        return {
            key: (list(v) if isinstance(v := getattr(self, key), tuple) else v)
            for key in self.keys()
        }
