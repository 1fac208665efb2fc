"""The `solo-ext` command.

solo-ext pretrain --config-path DIR --config-name NAME [key=value ...]   # Hydra, as solo-learn's main_pretrain.py
solo-ext linear   --config-path DIR --config-name NAME [key=value ...]   # Hydra, as solo-learn's main_linear.py
solo-ext knn --pretrained_checkpoint_dir DIR --dataset custom --train_data_path ... --val_data_path ...
solo-ext zoo [--list]                # path of the installed zoo_configs (listing on stderr)
solo-ext data digits --out DIR [--overwrite]
solo-ext data tiny-imagenet --src tiny-imagenet-200 --out DIR [--copy] [--fraction 0.01 0.05 0.1]
solo-ext data cub200 --src CUB_200_2011.tgz --out DIR [--size 64]
solo-ext data fashion-mnist --out DIR [--src DIR] [--size 32] [--train-per-class N] [--val-per-class N] [--overwrite]
solo-ext colormae patterns --color green --num 3072 --size 256 --seed 0 --out FILE.npz
solo-ext colormae preview --patterns FILE.npz --grid 14 --mask_ratio 0.75 --out masks.png
solo-ext critic train --data DIR --out critic.pt [--size 64 --mean ... --std ... --epochs 200]
solo-ext table RUN_DIR [RUN_DIR ...] [--paper magma-table1] [--out PREFIX] [--overwrite]
solo-ext sweep magma-table1 --dataset cifar100 [--gpus 0] [--seeds "5 6 7"] [--out DIR] [--dry-run] [-- overrides]
solo-ext analyze CKPT --data DIR --out OUT [--classes 10] [--images 8] [--figures ...]   # PNG figures
solo-ext fidelity --out DIR [--preset cpu|gpu] [--seeds 0 1 2] [--dry-run] [--report-only] [--sweep]   # paired study
"""

import argparse
import logging
import os
import re
import shlex
import sys
import warnings

from solo_ext.config.zoo import zoo_path
from solo_ext.host import SoloLearnMissingError, require_solo_learn

HYDRA_COMMANDS = ("pretrain", "linear")

# Third-party warnings that every command would print before its own output, none about the user's run:
# (message regex, matched from its start, category). Set by our entry points only; a user's own script that
# imports solo_ext keeps all its warnings.
HARMLESS_WARNINGS = (
    (
        r"pkg_resources is deprecated as an API",
        UserWarning,
    ),  # Lightning 2.1.2 imports pkg_resources
    (r"Importing from timm\.", FutureWarning),  # solo-learn imports timm's old module paths
    (
        r"Overwriting \w+ in registry with solo\.backbones\.",
        UserWarning,
    ),  # solo-learn's convnext/poolformer
    (
        r"`torch\.cuda\.amp\.custom_(fwd|bwd)\(args\.\.\.\)` is deprecated",
        FutureWarning,
    ),  # solo-learn
    (
        r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        Warning,
    ),  # Lightning 2.1.2 on a newer torch
    (
        r"'pin_memory' argument is set as true but no accelerator is found",
        UserWarning,
    ),  # solo-learn on CPU
)
# solo-learn's ViT factory logs its choice at WARNING on the root logger for every ViT it builds (the
# study's evaluations, knn, linear, analyze): which backbone class it used, not a problem with the run
HARMLESS_LOGS = (r"Using custom backbone for \w+$", r"No custom backbone found for \w+, defaulting")


class _HarmlessLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(re.match(pattern, record.getMessage()) for pattern in HARMLESS_LOGS)


# Hydra flags followed by a value (the value is no override)
_HYDRA_VALUE_FLAGS = (
    "--config-path",
    "-cp",
    "--config-name",
    "-cn",
    "--config-dir",
    "-cd",
    "--cfg",
    "-c",
    "--package",
    "-p",
    "--experimental-rerun",
)
_HYDRA_INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")


def silence_harmless_warnings() -> None:
    """Hides HARMLESS_WARNINGS and HARMLESS_LOGS in this process; forked DataLoader workers inherit
    the filters, and Lightning's DDP ranks re-run this command, which sets them again."""
    for message, category in HARMLESS_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    root = logging.getLogger()
    if not any(isinstance(f, _HarmlessLogFilter) for f in root.filters):
        root.addFilter(_HarmlessLogFilter())


def bad_override(argv) -> str:
    """One line about the first Hydra override that Hydra's grammar cannot parse, or ''."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in _HYDRA_VALUE_FLAGS or (
                arg in ("--info", "-i") and i + 1 < len(argv) and argv[i + 1] in _HYDRA_INFO_CHOICES
            )
            continue
        try:
            parser.parse_overrides([arg])
        except OverrideParseException as err:
            reason = (str(err).splitlines() or ["unparsable"])[0]
            key, _, value = arg.partition("=")
            quoted = f'{key}="{value}"'
            why = "its value holds '='" if "=" in value else reason
            return (
                f"override {arg!r}: Hydra cannot parse it ({why}); quote the value: {shlex.quote(quoted)} "
                "(in bash: single quotes around the whole override, double quotes around the value)"
            )
    return ""


def _absolute_config_path(argv):
    """Hydra resolves a relative --config-path against the calling file; users mean their working directory."""
    fixed = list(argv)
    for i, arg in enumerate(fixed):
        if arg in ("--config-path", "-cp") and i + 1 < len(fixed):
            fixed[i + 1] = os.path.abspath(fixed[i + 1])
        elif arg.startswith("--config-path="):
            fixed[i] = "--config-path=" + os.path.abspath(arg.split("=", 1)[1])
    return fixed


def _run_hydra(command: str, argv) -> None:
    problem = bad_override(argv)
    if problem:
        sys.exit(f"solo-ext {command}: {problem}")
    import hydra
    from omegaconf import DictConfig

    import solo_ext
    from solo_ext.config import ConfigError
    from solo_ext.launch.data_checks import SampleLoadError

    solo_ext.register()
    if command == "pretrain":
        from solo_ext.launch.pretrain import pretrain as task
    else:
        from solo_ext.launch.evaluate import linear as task
    from solo_ext.launch.runs import exit_interrupted, report_validation

    relaunch = [sys.argv[0], command, *_absolute_config_path(argv)]

    @hydra.main(version_base="1.2", config_path=None)
    def main(cfg: DictConfig) -> None:
        # Lightning's DDP launcher starts ranks 1.. by re-running sys.argv (plus Hydra run-dir overrides): give it
        # back the whole command line, which had to be hidden from Hydra's own parsing
        sys.argv = relaunch
        try:
            trainer = task(cfg)
        except ConfigError as err:  # Hydra would wrap it in its own report; keep the one clear line
            sys.exit(f"solo-ext {command}: config error: {err}")
        except SampleLoadError as err:
            sys.exit(f"solo-ext {command}: data error: {err.one_line}")
        except KeyboardInterrupt:  # before or after Lightning's fit, which catches it itself
            exit_interrupted(command, None, argv)
        if trainer.interrupted:
            exit_interrupted(command, trainer, argv)
        report_validation(trainer)

    sys.argv = [f"solo-ext {command}", *_absolute_config_path(argv)]
    main()


def _zoo(argv) -> None:
    parser = argparse.ArgumentParser(
        prog="solo-ext zoo", description="Print the installed zoo's path."
    )
    parser.add_argument("--list", action="store_true", help="list the configs on stdout instead")
    args = parser.parse_args(argv)
    root = zoo_path()
    configs = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.yaml")
        if "augmentations" not in p.parts and "wandb" not in p.parts
    )
    if args.list:
        print("\n".join(configs))
        return
    print(root)
    if sys.stderr.isatty():
        print(
            f"{len(configs)} configs (solo-ext zoo --list): "
            f"e.g. --config-path {root}/pretrain/digits --config-name m-mae",
            file=sys.stderr,
        )


def _data(argv) -> None:
    parser = argparse.ArgumentParser(
        prog="solo-ext data", description="Prepare datasets as ImageFolders."
    )
    sub = parser.add_subparsers(dest="dataset", required=True)
    digits = sub.add_parser(
        "digits", help="scikit-learn's embedded digits as 32x32 RGB PNGs (train/val)"
    )
    digits.add_argument("--out", required=True)
    digits.add_argument(
        "--overwrite", action="store_true", help="replace train/ and val/ of a non-empty --out"
    )
    tin = sub.add_parser(
        "tiny-imagenet", help="an extracted tiny-imagenet-200 as train/ and val/ class folders"
    )
    tin.add_argument("--src", required=True, help="the extracted tiny-imagenet-200 folder")
    tin.add_argument("--out", required=True)
    tin.add_argument("--copy", action="store_true", help="copy images instead of linking them")
    tin.add_argument(
        "--fraction",
        type=float,
        nargs="*",
        default=[],
        help="per-class subsets, e.g. 0.01 0.05 0.1",
    )
    tin.add_argument(
        "--overwrite",
        action="store_true",
        help="replace what this command wrote to a non-empty --out",
    )
    cub = sub.add_parser(
        "cub200",
        help="CUB-200-2011 (archive or extracted folder) resized to --size, official split",
    )
    cub.add_argument(
        "--src", required=True, help="CUB_200_2011.tgz or the extracted CUB_200_2011 folder"
    )
    cub.add_argument("--out", required=True)
    cub.add_argument(
        "--size",
        type=int,
        default=64,
        help="shorter side resized to this, then centre-cropped square",
    )
    cub.add_argument(
        "--overwrite",
        action="store_true",
        help="replace what this command wrote to a non-empty --out",
    )
    fmnist = sub.add_parser(
        "fashion-mnist", help="Fashion-MNIST's idx files as RGB PNGs resized to --size (train/val)"
    )
    fmnist.add_argument("--out", required=True)
    fmnist.add_argument(
        "--src",
        default=None,
        help="folder of the four idx files (default: the Debian package's "
        "/usr/share/datasets/fashion-mnist)",
    )
    fmnist.add_argument(
        "--size", type=int, default=32, help="side of the written images (28 keeps the pixels)"
    )
    fmnist.add_argument(
        "--train-per-class",
        type=int,
        default=None,
        help="a seeded subset of N train images per class",
    )
    fmnist.add_argument(
        "--val-per-class", type=int, default=None, help="a seeded subset of N val images per class"
    )
    fmnist.add_argument(
        "--overwrite",
        action="store_true",
        help="replace what this command wrote to a non-empty --out",
    )
    args = parser.parse_args(argv)
    from solo_ext.data.cub200 import prepare_cub200
    from solo_ext.data.digits import OutputNotEmptyError, export_digits
    from solo_ext.data.fashion_mnist import DEFAULT_SRC, prepare_fashion_mnist
    from solo_ext.data.tiny_imagenet import prepare_tiny_imagenet

    try:
        if args.dataset == "digits":
            stats = export_digits(args.out, overwrite=args.overwrite)
        elif args.dataset == "cub200":
            stats = prepare_cub200(args.src, args.out, args.size, args.overwrite)
        elif args.dataset == "fashion-mnist":
            stats = prepare_fashion_mnist(
                args.out,
                args.src or DEFAULT_SRC,
                args.size,
                args.train_per_class,
                args.val_per_class,
                args.overwrite,
            )
        else:
            stats = prepare_tiny_imagenet(
                args.src, args.out, args.copy, args.fraction, args.overwrite
            )
    except (OutputNotEmptyError, FileExistsError, FileNotFoundError, ValueError) as err:
        sys.exit(f"solo-ext data {args.dataset}: {err}")
    print(
        f"wrote {stats['train']} train and {stats['val']} val images to {args.out} "
        f"(mean {stats['mean']}, std {stats['std']})"
    )


def main(argv=None) -> None:
    silence_harmless_warnings()
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = [
        "pretrain",
        "linear",
        "knn",
        "zoo",
        "data",
        "colormae",
        "critic",
        "table",
        "sweep",
        "analyze",
        "fidelity",
    ]
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        print(__doc__)
        sys.exit(0 if argv and argv[0] in ("-h", "--help") else 2)
    command, rest = argv[0], argv[1:]
    if command == "zoo":
        return _zoo(rest)
    if command == "data":
        return _data(rest)
    if command == "fidelity":
        from solo_ext.reporting.fidelity import (
            main as fidelity_main,
        )  # says itself when solo-learn is missing

        try:
            sys.exit(fidelity_main(rest))
        except (ValueError, FileNotFoundError) as err:
            sys.exit(f"solo-ext fidelity: {err}")
    if command == "sweep":
        from solo_ext.reporting.sweep import main as sweep_main

        sys.exit(sweep_main(rest))
    if command == "table":
        from solo_ext.reporting.tables import main as table_main

        try:
            table_main(rest)
        except (ValueError, FileNotFoundError, FileExistsError) as err:
            sys.exit(f"solo-ext table: {err}")
        return None

    from solo_ext.config import ConfigError

    if command in ("colormae", "critic"):
        from solo_ext.launch.colormae_patterns import main as colormae_main
        from solo_ext.launch.critic import main as critic_main

        try:
            return {"colormae": colormae_main, "critic": critic_main}[command](rest)
        except (ConfigError, FileExistsError, FileNotFoundError) as err:
            sys.exit(f"solo-ext {command}: {err}")

    try:
        require_solo_learn()
        if command in HYDRA_COMMANDS:
            _run_hydra(command, rest)
        else:
            import solo_ext
            from solo_ext.launch.analyze import main as analyze_main
            from solo_ext.launch.data_checks import SampleLoadError
            from solo_ext.launch.evaluate import knn_main

            solo_ext.register()
            try:
                {"knn": knn_main, "analyze": analyze_main}[command](rest)
            except SampleLoadError as err:
                sys.exit(f"solo-ext {command}: data error: {err.one_line}")
    except (
        SoloLearnMissingError,
        ImportError,
    ) as err:  # ImportError: an optional extra, e.g. [analysis]
        sys.exit(f"solo-ext {command}: {err}")
    except ConfigError as err:
        sys.exit(f"solo-ext {command}: config error: {err}")


if __name__ == "__main__":
    main()
