"""Every ``method_kwargs`` key of every solo-ext method: type, range, default (pure python + omegaconf).

One table per method (``METHOD_KWARGS``): the host's keys (solo-learn's MAE, SimCLR or VICReg, which solo-learn
itself only asserts or silently defaults) plus solo-ext's, and the method's own section (``magma``, ``smae``,
``colormae``, ``vicmae``), parsed into a frozen Settings object. Checks that involve more than one key, a file
or the backbone are listed in ``solo_ext.config.rules`` and raised where the config enters.
"""

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Mapping, Optional, Tuple

from solo_ext.config.fields import (
    REQUIRED,
    ConfigError,
    Field,
    Section,
    check_known_keys,
    setting,
)
from solo_ext.masking.choices import COLORS
from solo_ext.masking.choices import MODES as COLOR_MODES

__all__ = [
    "MAE_FIELDS",
    "SIMCLR_FIELDS",
    "VICREG_FIELDS",
    "MethodKwargs",
    "ColorMAESettings",
    "MagmaSettings",
    "SMAESettings",
    "ViCMAESettings",
]


def _whole(name, default, low=0, **kw) -> Field:
    return Field(name, "int", default, low=low, **kw)


def _weight(name, default, **kw) -> Field:
    return Field(name, "number", default, low=0, **kw)


# ------------------------------------------------------------------ hosts (solo-learn's own keys)
MAE_FIELDS = (
    _whole("decoder_embed_dim", REQUIRED, low=1, doc="MAE decoder width"),
    _whole("decoder_depth", REQUIRED, low=1, doc="MAE decoder blocks"),
    _whole(
        "decoder_num_heads", REQUIRED, low=1, doc="MAE decoder heads; must divide decoder_embed_dim"
    ),
    Field(
        "mask_ratio",
        "number",
        0.75,
        low=0,
        high=1,
        low_open=True,
        high_open=True,
        doc="fraction of patches masked",
    ),
    Field("norm_pix_loss", "bool", False, doc="per-patch normalised pixel targets"),
)
SIMCLR_FIELDS = (
    _whole("proj_hidden_dim", REQUIRED, low=1, doc="projector hidden width"),
    _whole("proj_output_dim", REQUIRED, low=1, doc="projector output width"),
    Field("temperature", "number", REQUIRED, low=0, low_open=True, doc="NT-Xent temperature"),
)
VICREG_FIELDS = (
    _whole("proj_hidden_dim", REQUIRED, low=1, doc="projector hidden width"),
    _whole("proj_output_dim", REQUIRED, low=1, doc="projector output width"),
    _weight("sim_loss_weight", 25.0, doc="invariance term weight"),
    _weight("var_loss_weight", 25.0, doc="variance term weight"),
    _weight("cov_loss_weight", 1.0, doc="covariance term weight"),
)


# ------------------------------------------------------------------ sections (solo-ext's own keys)
# Each section is one frozen dataclass whose fields carry their Field (``setting``): the only place a key,
# its range and its default are written. A method's own defaults (U-MAE's weight 0, say) are in its spec.


@dataclass(frozen=True)
class MagmaSettings(Section):
    """``method_kwargs.magma`` of every MAGMA-family method, and ``method_kwargs.uniformity_weight``.

    weight/start_epoch/duration: the epoch window schedule w(epoch) (see schedules.WindowedWeight);
    reference_layers: blocks whose patch means build the graph; target_layer: the regularised block;
    rbf_scale: multiplies d/gamma in the kernel; gather: build the graph over the all-gathered global batch.
    """

    KEY: ClassVar[str] = "magma"

    weight: float = setting("number", 1.0, low=0, doc="λ of w(epoch)")
    start_epoch: int = setting("int", 10, low=0, doc="e_st (0-based epoch)")
    duration: int = setting("int", 100, low=0, doc="e_dur in epochs")
    reference_layers: Tuple[int, ...] = setting(
        "int_list", (10,), doc="blocks k building the graph; negative counts from the end"
    )
    target_layer: int = setting(
        "int", -1, doc="block l that is regularised; negative counts from the end"
    )
    rbf_scale: float = setting(
        "number", 1.0, low=0, low_open=True, doc="W = exp(-rbf_scale · d / γ)"
    )
    gather: bool = setting("bool", False, doc="graph over the all-gathered global batch under DDP")
    uniformity_weight: float = field(
        default=0.0,
        metadata={
            "top_level": True,
            "field": Field(
                "uniformity_weight",
                "number",
                0.0,
                low=0,
                doc="U-MAE's uniformity term weight (constant from epoch 0)",
            ),
        },
    )

    @classmethod
    def uniformity_field(cls, default: float) -> Field:
        """``method_kwargs.uniformity_weight`` (a top-level key) with a method's default."""
        declared = next(f for f in fields(cls) if f.name == "uniformity_weight").metadata["field"]
        return replace(declared, default=default)

    @classmethod
    def from_method_kwargs(
        cls, method_kwargs: Mapping, defaults: Optional["MagmaSettings"] = None
    ) -> "MagmaSettings":
        defaults = defaults if defaults is not None else cls()
        uniformity = cls.uniformity_field(defaults.uniformity_weight)
        value = method_kwargs.get("uniformity_weight", defaults.uniformity_weight)
        return cls(
            **cls.parse_own(method_kwargs, defaults),
            uniformity_weight=uniformity.check(value, "method_kwargs.uniformity_weight"),
        )

    def write_to(self, method_kwargs) -> None:
        super().write_to(method_kwargs)
        method_kwargs["uniformity_weight"] = self.uniformity_weight


@dataclass(frozen=True)
class SMAESettings(Section):
    """``method_kwargs.smae``: L = (1 − alpha)·s_pix·L_pix + alpha·s_perc·L_perc.

    alpha: 0 = pixel loss only (MAE-like), 1 = perceptual only. pixel_loss: over ``all`` patches (SMAE) or
    the ``masked`` ones (MAE). critic: checkpoint from `solo-ext critic train` (needed when alpha > 0).
    masking: ``random`` (MAE's) or ``block``. block_bank_size: block masks precomputed at start-up.
    calibration_batches: no-grad batches setting s_pix = mean(1/L_pix), s_perc = mean(1/L_perc).
    """

    KEY: ClassVar[str] = "smae"

    alpha: float = setting(
        "number", 0.5, low=0, high=1, doc="0: pixel loss only, 1: perceptual only"
    )
    pixel_loss: str = setting(
        "choice",
        "all",
        choices=("all", "masked"),
        doc="pixel MSE over all patches (SMAE) or masked ones (MAE)",
    )
    critic: Optional[str] = setting(
        "str",
        None,
        nullable=True,
        doc="critic checkpoint (solo-ext critic train); needed when alpha > 0",
    )
    masking: str = setting(
        "choice", "random", choices=("random", "block"), doc="MAE's random masks or block masks"
    )
    block_bank_size: int = setting("int", 10000, low=1, doc="block masks precomputed at start-up")
    calibration_batches: int = setting(
        "int", 10, low=1, doc="no-grad batches setting s_pix and s_perc"
    )

    @classmethod
    def from_method_kwargs(
        cls, method_kwargs: Mapping, defaults: Optional["SMAESettings"] = None
    ) -> "SMAESettings":
        settings = cls(**cls.parse_own(method_kwargs, defaults))
        if settings.alpha > 0:
            if settings.critic is None:
                raise ConfigError(
                    f"method_kwargs.smae.critic: null is not allowed with alpha {settings.alpha} > 0; "
                    "expected the path of a critic checkpoint (solo-ext critic train)"
                )
            _existing_file(
                settings.critic,
                "method_kwargs.smae.critic",
                "train one with `solo-ext critic train`",
            )
        return settings


def _existing_file(path: str, key: str, hint: str) -> None:
    if not Path(path).is_file():
        raise ConfigError(f"{key}: {path!r} is not an existing file; {hint}")


def _schedule_entry(entry: Any, key: str) -> Tuple[int, Optional[str], Optional[str]]:
    """{start_epoch: N, color: C} or {start_epoch: N, patterns: FILE} → (start_epoch, color or None,
    patterns or None)."""
    if (
        not isinstance(entry, dict)
        or "start_epoch" not in entry
        or len(set(entry) & {"color", "patterns"}) != 1
    ):
        raise ConfigError(
            f"{key}: {entry!r} is not allowed; expected {{start_epoch: N, color: C}} or "
            "{start_epoch: N, patterns: FILE}"
        )
    check_known_keys(entry, ("start_epoch", "color", "patterns"), key)
    start = _whole("start_epoch", REQUIRED).check(entry["start_epoch"], f"{key}.start_epoch")
    if "color" in entry:
        return (
            start,
            Field("color", "choice", choices=COLORS).check(entry["color"], f"{key}.color"),
            None,
        )
    patterns = Field("patterns", "str").check(entry["patterns"], f"{key}.patterns")
    _existing_file(patterns, f"{key}.patterns", "write one with `solo-ext colormae patterns`")
    return start, None, patterns


@dataclass(frozen=True)
class ColorMAESettings(Section):
    """``method_kwargs.colormae``: where the pattern bank comes from and how masks are drawn.

    patterns: an .npz bank (ours or the official files); null generates one from color/num_patterns/
    pattern_size/seed at start-up. mode: per_sample | official. fp16: store the bank in half precision.
    schedule: optional list of {start_epoch, color | patterns} switching the bank from that epoch on.
    """

    KEY: ClassVar[str] = "colormae"

    patterns: Optional[str] = setting(
        "str",
        None,
        nullable=True,
        doc="an .npz bank (ours or the official files); null: generate one",
    )
    color: str = setting("choice", "green", choices=COLORS, doc="noise colour of a generated bank")
    num_patterns: int = setting("int", 3072, low=1, doc="patterns in a generated bank")
    pattern_size: int = setting(
        "int", 256, low=8, doc="side of a generated pattern; >= the patch grid"
    )
    seed: int = setting("int", 0, low=0, doc="seed of a generated bank")
    mode: str = setting(
        "choice",
        "per_sample",
        choices=COLOR_MODES,
        doc="per_sample, or the reference code's official sampling",
    )
    fp16: bool = setting("bool", False, doc="store the bank in half precision")
    schedule: Tuple[Tuple[int, str, Optional[str]], ...] = (
        setting(  # (start_epoch, color, patterns)
            "list",
            (),
            item=_schedule_entry,
            doc="[{start_epoch, color | patterns}]: switch the bank",
        )
    )

    COLORS = COLORS
    MODES = COLOR_MODES

    @classmethod
    def from_method_kwargs(
        cls, method_kwargs: Mapping, defaults: Optional["ColorMAESettings"] = None
    ) -> "ColorMAESettings":
        parsed = cls.parse_own(method_kwargs, defaults)
        if parsed["patterns"] is not None:
            _existing_file(
                parsed["patterns"],
                "method_kwargs.colormae.patterns",
                "write one with `solo-ext colormae patterns`",
            )
        parsed["schedule"] = tuple(
            sorted(
                (start, color or parsed["color"], patterns)
                for start, color, patterns in parsed["schedule"]
            )
        )
        return cls(**parsed)

    def source_for_epoch(self, epoch: int) -> Tuple[str, Optional[str]]:
        """(color, patterns file) of the bank in use at ``epoch``: the last schedule entry started, else the base."""
        source = (self.color, self.patterns)
        for start, color, patterns in self.schedule:
            if start <= epoch:
                source = (color, patterns)
        return source

    def as_dict(self) -> dict:
        node = {key: getattr(self, key) for key in self.keys() if key != "schedule"}
        node["schedule"] = [
            {"start_epoch": s, **({"patterns": p} if p is not None else {"color": c})}
            for s, c, p in self.schedule
        ]
        return node


@dataclass(frozen=True)
class ViCMAESettings(Section):
    """``method_kwargs.vicmae``: L = rec_weight·L_rec + w_con(epoch)·L_con, w_con = con_weight from con_start_epoch.

    loss: nt_xent (the official code: SimCLR's loss) | clip (the paper: CLIP-style, both directions).
    temperature: T (clip: logit scale ln(1/T)); learnable_temperature: clip only, clamped to scale <= 100.
    projector: code (D-4096-4096-128, BN+ReLU) | paper (D-2D-2D-2D); proj_hidden_dim/proj_output_dim override.
    """

    KEY: ClassVar[str] = "vicmae"

    loss: str = setting(
        "choice",
        "nt_xent",
        choices=("nt_xent", "clip"),
        doc="nt_xent (the official code) or clip (the paper)",
    )
    temperature: float = setting(
        "number", 0.1, low=0, low_open=True, doc="T; clip: logit scale ln(1/T)"
    )
    learnable_temperature: bool = setting("bool", False, doc="clip only: learn the logit scale")
    projector: str = setting(
        "choice", "code", choices=("code", "paper"), doc="code: D-4096-4096-128, paper: D-2D-2D-2D"
    )
    proj_hidden_dim: Optional[int] = setting(
        "int", None, low=1, nullable=True, doc="overrides the preset's hidden width"
    )
    proj_output_dim: Optional[int] = setting(
        "int", None, low=1, nullable=True, doc="overrides the preset's output width"
    )
    rec_weight: float = setting("number", 0.97, low=0, doc="weight of the reconstruction loss")
    con_weight: float = setting(
        "number", 0.03, low=0, doc="weight of the contrastive loss from con_start_epoch on"
    )
    con_start_epoch: int = setting("int", 0, low=0, doc="first epoch with the contrastive loss")

    @classmethod
    def from_method_kwargs(
        cls, method_kwargs: Mapping, defaults: Optional["ViCMAESettings"] = None
    ) -> "ViCMAESettings":
        settings = cls(**cls.parse_own(method_kwargs, defaults))
        if settings.learnable_temperature and settings.loss != "clip":
            raise ConfigError(
                f"method_kwargs.vicmae.learnable_temperature: true is not allowed with loss "
                f"{settings.loss!r}; allowed only with loss: clip"
            )
        return settings


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class MethodKwargs:
    """The top-level ``method_kwargs`` keys of one method, and the name of its own section (if any)."""

    host: str
    fields: Tuple[Field, ...]
    section: Optional[str] = None
    section_fields: Tuple[Field, ...] = ()
