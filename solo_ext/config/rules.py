"""The checks that involve more than one key, a file, the backbone or the crops: where each is raised.

Per-key checks (unknown keys, types, ranges, choices, required keys) come from the tables in
``solo_ext.config.method_kwargs``; these are the others. ``docs/config-checks.md`` is generated from both
(``python -m dev.config_docs``) and every rule has a test named ``test_rule_<id>``.
"""

from typing import NamedTuple, Sequence, Tuple

from solo_ext.config.method_kwargs import MagmaSettings
from solo_ext.config.specs import SPECS, MethodSpec

__all__ = ["RULES", "Rule", "WARNING"]


class Rule(NamedTuple):
    id: str
    methods: str
    key: str
    check: str
    where: str


# the backbone rules name the methods and backbones of the specs (MethodSpec.check_backbone raises them)
_MASKING = [spec for spec in SPECS.values() if spec.host == "mae"]
_MAGMA = [spec for spec in SPECS.values() if spec.section is MagmaSettings]


def _names(specs: Sequence[MethodSpec]) -> str:
    return ", ".join(spec.name for spec in specs)


def _backbones(specs: Sequence[MethodSpec]) -> str:
    return ", ".join(dict.fromkeys(name for spec in specs for name in spec.backbones))


RULES: Tuple[Rule, ...] = (
    Rule(
        "unknown_key",
        "all",
        "method_kwargs.*",
        "a key that is not in the method's table (a typo) is refused, with the allowed keys listed",
        "config parsing",
    ),
    Rule(
        "required_key",
        "all",
        "method_kwargs.<host keys>",
        "solo-learn's required keys (MAE decoder size, "
        "SimCLR/VICReg projector and temperature) must be present (solo-learn only has a bare assert)",
        "config parsing",
    ),
    Rule(
        "decoder_heads_divide",
        "MAE family",
        "method_kwargs.decoder_num_heads",
        "must divide decoder_embed_dim",
        "config parsing",
    ),
    Rule(
        "masking_vit",
        _names(_MASKING),
        "backbone.name",
        f"a ViT that can mask: {_backbones(_MASKING)}",
        "config parsing",
    ),
    Rule(
        "magma_vit",
        _names(_MAGMA),
        "backbone.name",
        "a ViT (MAGMA regularises transformer blocks; ResNets are refused)",
        "config parsing",
    ),
    Rule(
        "magma_layers_in_depth",
        "MAGMA family",
        "method_kwargs.magma.reference_layers / target_layer",
        "every block index lies in [-depth, depth - 1] of the built backbone",
        "model construction",
    ),
    Rule(
        "magma_reference_not_target",
        "MAGMA family",
        "method_kwargs.magma.reference_layers",
        "at least one reference layer differs from the target layer",
        "model construction",
    ),
    Rule(
        "large_crops",
        "all",
        "augmentations",
        "the number of large crops the method trains with: MAE family "
        "any >= 1, m_simclr / m_vicreg / vicmae exactly 2",
        "solo-ext pretrain",
    ),
    Rule(
        "vicmae_crops",
        "vicmae",
        "augmentations",
        "exactly 2 large crops and no small ones (also under solo-learn's main_pretrain.py)",
        "config parsing",
    ),
    Rule(
        "smae_critic_required",
        "smae",
        "method_kwargs.smae.critic",
        "a critic path when alpha > 0",
        "config parsing",
    ),
    Rule(
        "smae_critic_file",
        "smae",
        "method_kwargs.smae.critic",
        "the file exists, reads, and is a SqueezeNet-1.1 critic of the expected format",
        "config parsing (exists), model construction (contents)",
    ),
    Rule(
        "colormae_patterns_file",
        "colormae",
        "method_kwargs.colormae.patterns / schedule[i].patterns",
        "the file exists, is an .npz holding a float [P, S, S] bank without NaN, S >= the patch grid",
        "config parsing (exists), model construction (contents)",
    ),
    Rule(
        "colormae_pattern_size",
        "colormae",
        "method_kwargs.colormae.pattern_size",
        "a generated bank's pattern_size >= the patch grid",
        "model construction",
    ),
    Rule(
        "colormae_official_batch",
        "colormae",
        "method_kwargs.colormae.mode",
        "official mode draws patterns 0..B-1: optimizer.batch_size <= the bank's patterns",
        "model construction",
    ),
    Rule(
        "colormae_schedule_entry",
        "colormae",
        "method_kwargs.colormae.schedule[i]",
        "each entry is {start_epoch: N, color: C} or {start_epoch: N, patterns: FILE}",
        "config parsing",
    ),
    Rule(
        "vicmae_learnable_temperature",
        "vicmae",
        "method_kwargs.vicmae.learnable_temperature",
        "true only with loss: clip",
        "config parsing",
    ),
    Rule(
        "vicmae_clip_temperature",
        "vicmae",
        "method_kwargs.vicmae.temperature",
        ">= 0.01 with loss: clip (its logit scale ln(1/T) is clamped to <= ln 100)",
        "model construction",
    ),
    Rule(
        "devices_list",
        "all (launchers)",
        "devices",
        "a non-empty list of device ids, a count >= 1 or ids as a string ('0,1')",
        "solo-ext pretrain / linear",
    ),
    Rule(
        "video_source",
        "vicmae (data.format: video)",
        "data.train_path / data.max_frame_gap / data.fraction",
        "a folder of clips (frame folders or video files), a whole max_frame_gap >= 0, no data.fraction",
        "solo-ext pretrain",
    ),
    Rule(
        "linear_backbone",
        "solo-ext linear / knn",
        "backbone.name",
        "a backbone given in the linear config must be the one the checkpoint was trained with",
        "solo-ext linear",
    ),
    Rule("head_batchnorm", "solo-ext linear", "head_batchnorm", "true or false", "solo-ext linear"),
    Rule(
        "max_epochs_whole",
        "all (launchers)",
        "max_epochs",
        "a whole number >= 1 (solo-learn's scheduler divides by it: 0 ended in a ZeroDivisionError)",
        "solo-ext pretrain / linear, before anything is built",
    ),
    Rule(
        "batch_size_whole",
        "all (launchers)",
        "optimizer.batch_size",
        "a whole number >= 1",
        "solo-ext pretrain / linear, before anything is built",
    ),
    Rule(
        "batch_fits_train_set",
        "all (launchers)",
        "optimizer.batch_size",
        "<= the training images per device: the loaders drop the last incomplete batch, so a "
        "larger batch ran no step, wrote no checkpoint and exited 0",
        "solo-ext pretrain / linear, once the training data is read",
    ),
    Rule(
        "patch_divides_image",
        "ViT backbones",
        "backbone.kwargs.patch_size",
        "divides backbone.kwargs.img_size and every augmentations[i].crop_size (solo-learn's bare "
        "assert came at the first training step)",
        "solo-ext pretrain / linear, before anything is built",
    ),
    Rule(
        "val_class_folders",
        "all (image folders)",
        "data.val_path",
        "the same class folders as data.train_path (ImageFolder numbers each folder's classes on "
        "its own: a class missing from val shifted every label after it)",
        "solo-ext pretrain / linear / knn, before anything is built",
    ),
    Rule(
        "magma_window_opens",
        "MAGMA family",
        "method_kwargs.magma.start_epoch / duration",
        "with weight > 0 the MAGMA window opens before max_epochs; otherwise a warning "
        "(MagmaNeverOn) says the run trains without MAGMA. A warning, not an error: a short "
        "smoke run of a preset keeps the paper's schedule on purpose",
        "model construction (warning)",
    ),
)

# rules that warn instead of refusing (their ``where`` ends with "(warning)")
WARNING = "(warning)"
