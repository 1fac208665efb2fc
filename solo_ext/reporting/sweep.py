"""`solo-ext sweep`: the runs behind a paper table, pretrained and evaluated in stages that survive a rerun.

    solo-ext sweep EXPERIMENT [EXPERIMENT ...] --dataset NAME [--gpus 0,1] [--seeds "5 6 7"] [--out DIR]
        [--only "GLOB ..."] [--pretrain-args "k=v ..."] [--eval-args "k=v ..."] [--launcher PATH]
        [--presets "..."] [--mask-ratios "..."] [--finetune-on "..."] [--check] [--dry-run] [-- overrides]

The experiments (their runs: zoo preset, Hydra overrides, folder) are declared with the paper tables in
``solo_ext.reporting.paper_tables.EXPERIMENTS``; the bash_scripts/ call this command. For each seed, each
experiment and each run (OUT/<dataset>/<run folder>/seed<S>/): pretraining (pretrain/), the linear probe
(linear/) and kNN (knn.json), or, for a fine-tuning experiment, fine-tuning of the finished pretraining
(finetune/, finetune-<dataset>/). A stage folder gets FINISHED_MARK once its command exited 0 and left its
output; a rerun with the same --out skips finished stages and stops at a folder without the mark (what an
interrupted or failed attempt left), so nothing is overwritten and no half-trained checkpoint is evaluated.
Every command is printed before it runs, quoted as bash's ``printf %q`` quotes (--dry-run: printed only).
"""

import fnmatch
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from solo_ext.config.zoo import zoo_path
from solo_ext.reporting.paper_tables import EXPERIMENTS, Experiment, Run

__all__ = ["FINISHED_MARK", "SweepError", "Sweep", "bash_quoted", "main", "parse_args", "usage"]

FINISHED_MARK = ".finished"
_KNN = ("--k", "10", "--distance_function", "euclidean")  # the MAGMA protocol's kNN
# characters bash's printf %q escapes anywhere; '#' only first, '~' first or after ':' / '='
_BASH_SPECIAL = frozenset(" !\"$&'()*,;<>?[\\]^`{|}")


class SweepError(Exception):
    """A problem with the arguments or a stage: one line, the exit status, whether to print the usage."""

    def __init__(self, message: str, status: int = 2, show_usage: bool = False):
        super().__init__(message)
        self.status = status
        self.show_usage = show_usage


def bash_quoted(arg: str) -> str:
    """``arg`` as bash's ``printf %q`` writes it (a control character: shlex's quoting, as valid)."""
    if not arg:
        return "''"
    if any(ord(c) < 32 or ord(c) == 127 for c in arg):
        return shlex.quote(arg)
    quoted = []
    for i, c in enumerate(arg):
        if (
            c in _BASH_SPECIAL
            or (c == "#" and i == 0)
            or (c == "~" and (i == 0 or arg[i - 1] in ":="))
        ):
            quoted.append("\\")
        quoted.append(c)
    return "".join(quoted)


def hydra_quoted(value: str) -> str:
    """``value`` as a quoted Hydra override value: paths may hold , = [ ] or spaces."""
    return "'" + value.replace("'", "\\'") + "'"


def usage() -> str:
    flags = {}
    for experiment in EXPERIMENTS.values():
        if experiment.run_flag:
            flag = experiment.run_flag
            flags.setdefault(flag.flag, []).append(
                f"{experiment.name}: {flag.help} (default: {' '.join(flag.default)})"
            )
        if experiment.finetune_on:
            flags.setdefault("--finetune-on", []).append(
                f"{experiment.name}: the datasets to fine-tune on (default: "
                f"{' '.join(experiment.finetune_on)})"
            )
    lines = [
        'usage: solo-ext sweep EXPERIMENT [EXPERIMENT ...] --dataset NAME [--gpus 0,1] [--seeds "5 6 7"]',
        '         [--out DIR] [--only "GLOB ..."] [--pretrain-args "k=v ..."] [--eval-args "k=v ..."]',
        "         [--launcher PATH] [--check] [--dry-run] [-- hydra overrides]",
        "experiments (solo_ext/reporting/paper_tables.py):",
        *(f"  {name:<20} {e.doc}" for name, e in EXPERIMENTS.items()),
        "  --dataset        a folder of zoo_configs/pretrain (cifar100, stl10, tiny-imagenet, imagenet100, "
        "digits, ...)",
        "  --gpus           comma-separated device ids, passed as devices=[...]",
        "  --seeds          space-separated seeds, one full run per seed",
        "  --out            output folder; finished stages are skipped on a rerun, never overwritten",
        "  --only           space-separated globs: run only the runs whose folder name (OUT/<dataset>/<name>/"
        "seed<S>,",
        "                   e.g. m-mae or 'smae-a0.5-*') matches one; --dry-run shows the names",
        "  --pretrain-args  space-separated Hydra overrides for the pretraining runs only",
        "  --eval-args      space-separated Hydra overrides for the linear probe / fine-tuning runs only",
        "  --launcher       solo-ext (default: solo-ext pretrain) or the path of solo-learn's own "
        "main_pretrain.py,",
        "                   which then runs every pretraining (solo-ext methods go through our plugin, see",
        "                   docs/solo-learn-scripts.md; solo-learn's own methods run as solo-learn runs them)",
        *(f"  {flag:<16} {'; '.join(texts)}" for flag, texts in flags.items()),
        "  --check          compose every evaluation config with the overrides, then stop (nothing runs)",
        "  --dry-run        print the commands instead of running them",
        "  -- overrides     Hydra overrides for pretraining and evaluation alike: a key must be in both "
        "configs or be",
        "                   written ++key=value (added where missing), e.g. -- max_epochs=1 "
        "++limit_train_batches=2",
    ]
    return "\n".join(lines)


@dataclass
class Sweep:
    """The parsed command line."""

    experiments: Tuple[Experiment, ...]
    dataset: str
    gpus: str = "0"
    seeds: Tuple[str, ...] = ("5",)
    out: str = "sweeps"
    only: Tuple[str, ...] = ()
    pretrain_args: Tuple[str, ...] = ()
    eval_args: Tuple[str, ...] = ()
    launcher: str = "solo-ext"
    run_values: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # --presets etc.
    finetune_on: Optional[Tuple[str, ...]] = None
    check: bool = False
    dry_run: bool = False
    extra: Tuple[str, ...] = ()

    def runs(self, experiment: Experiment) -> Tuple[Run, ...]:
        flag = experiment.run_flag
        if flag and flag.flag in self.run_values:
            return tuple(map(flag.make_run, self.run_values[flag.flag]))
        return experiment.runs

    def selected(self, run: Run) -> bool:
        return not self.only or any(fnmatch.fnmatchcase(run.folder, glob) for glob in self.only)

    def finetune_datasets(self, experiment: Experiment) -> Tuple[str, ...]:
        return self.finetune_on if self.finetune_on is not None else experiment.finetune_on


def parse_args(argv: Sequence[str]) -> Sweep:
    """The flags of the bash_scripts (same names, same messages); raises SweepError."""
    argv = list(argv)
    names = []
    while argv and not argv[0].startswith("-"):
        names.append(argv.pop(0))
    if not names:
        raise SweepError("EXPERIMENT is required", show_usage=True)
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise SweepError(f"EXPERIMENT: '{unknown[0]}' is unknown; allowed: {' '.join(EXPERIMENTS)}")
    experiments = tuple(EXPERIMENTS[name] for name in names)
    run_flags = {e.run_flag.flag for e in experiments if e.run_flag}
    values: Dict[str, str] = {"--gpus": "0", "--seeds": "5", "--out": "sweeps"}
    for name in ("--only", "--pretrain-args", "--eval-args", "--dataset"):
        values[name] = ""
    values["--launcher"] = "solo-ext"
    flags = {"--check": False, "--dry-run": False}
    run_values: Dict[str, Tuple[str, ...]] = {}
    finetune_on = None
    extra: List[str] = []
    while argv:
        arg = argv.pop(0)
        if arg in flags:
            flags[arg] = True
            continue
        if arg in ("-h", "--help"):
            raise SweepError(usage(), status=0)
        if arg == "--":
            extra, argv = argv, []
            break
        if not argv:
            raise SweepError(f"{arg}: needs a value", show_usage=True)
        value = argv.pop(0)
        if arg in values:
            values[arg] = value
        elif arg in run_flags:
            run_values[arg] = tuple(value.split())
        elif arg == "--finetune-on" and any(e.finetune_on for e in experiments):
            finetune_on = tuple(value.split())
        else:
            raise SweepError(f"unknown argument: {arg}", show_usage=True)
    if not values["--dataset"]:
        raise SweepError("--dataset is required", show_usage=True)
    return Sweep(
        experiments=experiments,
        dataset=values["--dataset"],
        gpus=values["--gpus"],
        seeds=tuple(values["--seeds"].split()),
        out=values["--out"],
        only=tuple(values["--only"].split()),
        pretrain_args=tuple(values["--pretrain-args"].split()),
        eval_args=tuple(values["--eval-args"].split()),
        launcher=values["--launcher"],
        run_values=run_values,
        finetune_on=finetune_on,
        check=flags["--check"],
        dry_run=flags["--dry-run"],
        extra=tuple(extra),
    )


def _pretrain_command(launcher: str) -> List[str]:
    if launcher == "solo-ext":
        return ["solo-ext", "pretrain"]
    if launcher.endswith("main_pretrain.py"):
        if not os.path.isfile(launcher):
            raise SweepError(f"--launcher: '{launcher}' is not a file")
        return [
            "python3",
            os.path.join(os.path.abspath(os.path.dirname(launcher)), "main_pretrain.py"),
        ]
    raise SweepError(
        f"--launcher: '{launcher}' is not allowed; allowed: solo-ext, or the path of solo-learn's "
        "main_pretrain.py"
    )


def _probe_data(config_dir: Path, name: str, overrides: Sequence[str]) -> List[str]:
    """The data the probe config reads with these overrides, as `solo-ext knn` flags; SweepError if they do not
    fit it (checked before any run spends time)."""
    from hydra import compose, initialize_config_dir

    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base="1.2"):
            data = compose(name, overrides=list(overrides)).data
        values = [data.dataset, data.train_path, data.val_path, data.format, data.num_workers]
    except Exception as err:  # Hydra's and OmegaConf's errors: the message says what does not fit
        raise SweepError(
            f"{config_dir}/{name}.yaml {' '.join(overrides)}: {err}\n"
            f"stopped before the runs it evaluates: zoo_configs/linear/{config_dir.name}/{name}.yaml is "
            "missing or the evaluation overrides (-- and --eval-args) do not fit it"
        ) from None
    flags = ("--dataset", "--train_data_path", "--val_data_path", "--data_format", "--num_workers")
    return [item for flag, value in zip(flags, values) for item in (flag, str(value))]


class _Runner:
    def __init__(self, sweep: Sweep, zoo: Path):
        self.sweep = sweep
        self.zoo = zoo
        self.pretrain = _pretrain_command(sweep.launcher)
        self.devices = f"devices=[{sweep.gpus}]"
        self.probe_data: Dict[Tuple[str, str], List[str]] = {}

    # ---- stages
    def run(self, command: Sequence[str]) -> None:
        """Prints the command (as bash's printf '%q ' did); runs it unless --dry-run, stops on a failure."""
        print("".join(bash_quoted(arg) + " " for arg in command), flush=True)
        if not self.sweep.dry_run:
            process = subprocess.Popen(list(command))
            while True:
                try:
                    status = process.wait()
                    break
                except (
                    KeyboardInterrupt
                ):  # Ctrl-C reached the command too: it stops as it does alone
                    continue
            if status:
                raise SweepError("", status=status)

    def finished(self, stage_dir: str) -> bool:
        """Whether a stage finished writing ``stage_dir``; stops at a folder it left unfinished."""
        if self.sweep.dry_run:
            return False
        if os.path.exists(os.path.join(stage_dir, FINISHED_MARK)):
            print(f"skip {stage_dir}: finished", flush=True)
            return True
        if os.path.exists(stage_dir):
            raise SweepError(
                f"{stage_dir}: an earlier attempt did not finish (no {FINISHED_MARK} in it); remove it to "
                "run this stage again",
                status=1,
            )
        return False

    def mark_finished(self, stage_dir: str, pattern: str) -> None:
        """The stage's command exited 0; it is finished once it also left a ``pattern`` file there."""
        if self.sweep.dry_run:
            return
        if not next(Path(stage_dir).rglob(pattern), None):  # e.g. a data set with no full batch
            raise SweepError(
                f"{stage_dir}: the command exited 0 but wrote no {pattern} there; the stage is not "
                "finished",
                status=1,
            )
        Path(stage_dir, FINISHED_MARK).touch()

    def checkpoint_dir(self, pretrain_dir: str) -> str:
        """The folder of the newest .ckpt below the finished pretraining folder."""
        if self.sweep.dry_run:
            return pretrain_dir
        if not os.path.exists(os.path.join(pretrain_dir, FINISHED_MARK)):
            raise SweepError(f"no finished pretraining in {pretrain_dir}", status=1)
        checkpoints = list(Path(pretrain_dir).rglob("*.ckpt"))
        if not checkpoints:
            raise SweepError(f"no checkpoint below {pretrain_dir}", status=1)
        newest = max(checkpoints, key=lambda p: (p.stat().st_mtime, str(p)))
        below = newest.parent.relative_to(pretrain_dir)
        return pretrain_dir if str(below) == "." else f"{pretrain_dir}/{below}"

    # ---- evaluations
    def data_flags(self, eval_dataset: str, config: str) -> List[str]:
        key = (eval_dataset, config)
        if key not in self.probe_data:
            overrides = self.sweep.extra + self.sweep.eval_args
            self.probe_data[key] = _probe_data(
                self.zoo / "linear" / eval_dataset, config, overrides
            )
        return self.probe_data[key]

    def evaluations(self, experiment: Experiment) -> Tuple[Tuple[str, str], ...]:
        """(evaluation dataset, probe config) of each evaluation of the experiment's runs."""
        if experiment.finetune_on:
            datasets = self.sweep.finetune_datasets(experiment)
            return tuple((dataset, experiment.probe) for dataset in datasets)
        return ((self.sweep.dataset, experiment.probe),)

    def evaluate(self, eval_dataset: str, config: str, checkpoint_dir: str, out_dir: str) -> None:
        """`solo-ext linear` (probe or fine-tuning) with zoo_configs/linear/<eval_dataset>/<config>.yaml."""
        self.data_flags(eval_dataset, config)
        if self.finished(out_dir):
            return
        self.run(
            [
                "solo-ext",
                "linear",
                "--config-path",
                f"{self.zoo}/linear/{eval_dataset}",
                "--config-name",
                config,
                self.devices,
                *self.sweep.extra,
                *self.sweep.eval_args,
                f"pretrained_feature_extractor={hydra_quoted(checkpoint_dir)}",
                f"checkpoint.dir={hydra_quoted(out_dir)}",
            ]
        )
        self.mark_finished(out_dir, "results.json")

    def knn(self, config: str, checkpoint_dir: str, out: str) -> None:
        """k-NN on the data the probe reads; its json is written only at the end: it exists once finished."""
        flags = self.data_flags(self.sweep.dataset, config)
        if not self.sweep.dry_run and os.path.exists(out):
            print(f"skip {out}: finished", flush=True)
            return
        self.run(
            ["solo-ext", "knn", "--pretrained_checkpoint_dir", checkpoint_dir, *flags, *_KNN]
            + ["--out", out]
        )

    # ---- one run
    def pretrain_and_evaluate(self, experiment: Experiment, run: Run, seed: str, run_dir: str):
        pretrain_dir = f"{run_dir}/pretrain"
        if not self.finished(pretrain_dir):
            # the run's own overrides come after the user's: --, --pretrain-args cannot undo them
            self.run(
                [
                    *self.pretrain,
                    "--config-path",
                    f"{self.zoo}/pretrain/{self.sweep.dataset}",
                    "--config-name",
                    run.config,
                    self.devices,
                    *self.sweep.extra,
                    *self.sweep.pretrain_args,
                    f"name={run.name(self.sweep.dataset, seed)}",
                    *run.overrides,
                    f"++seed={seed}",
                    f"checkpoint.dir={hydra_quoted(pretrain_dir)}",
                ]
            )
            self.mark_finished(pretrain_dir, "*.ckpt")
        checkpoint_dir = self.checkpoint_dir(pretrain_dir)
        self.evaluate(self.sweep.dataset, experiment.probe, checkpoint_dir, f"{run_dir}/linear")
        self.knn(experiment.probe, checkpoint_dir, f"{run_dir}/knn.json")

    def finetune(self, experiment: Experiment, run_dir: str) -> None:
        checkpoint_dir = self.checkpoint_dir(f"{run_dir}/pretrain")
        for eval_dataset, config in self.evaluations(experiment):
            folder = (
                "finetune" if eval_dataset == self.sweep.dataset else f"finetune-{eval_dataset}"
            )
            self.evaluate(eval_dataset, config, checkpoint_dir, f"{run_dir}/{folder}")

    def sweep_all(self) -> None:
        sweep = self.sweep
        # every evaluation config the runs use must take the overrides before the first run starts
        for experiment in sweep.experiments:
            if sweep.check or (sweep.seeds and any(map(sweep.selected, sweep.runs(experiment)))):
                for eval_dataset, config in self.evaluations(experiment):
                    self.data_flags(eval_dataset, config)
        if sweep.check:
            return
        for seed in sweep.seeds:
            for experiment in sweep.experiments:
                for run in filter(sweep.selected, sweep.runs(experiment)):
                    run_dir = f"{sweep.out}/{sweep.dataset}/{run.folder}/seed{seed}"
                    if experiment.finetune_on:
                        self.finetune(experiment, run_dir)
                    else:
                        self.pretrain_and_evaluate(experiment, run, seed, run_dir)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`solo-ext sweep`; returns the exit status (that of a failed command, 2 for bad arguments)."""
    try:
        sweep = parse_args(sys.argv[1:] if argv is None else argv)
        zoo = zoo_path()
        if not (zoo / "pretrain" / sweep.dataset).is_dir():
            allowed = " ".join(sorted(p.name for p in (zoo / "pretrain").iterdir() if p.is_dir()))
            raise SweepError(f"--dataset: no zoo configs for '{sweep.dataset}'; allowed: {allowed}")
        _Runner(sweep, zoo).sweep_all()
    except SweepError as err:
        if err.status == 0:
            print(err)
        elif str(err):
            print(err, file=sys.stderr)
            if err.show_usage:
                print(usage(), file=sys.stderr)
        return err.status
    except KeyboardInterrupt:
        return 130
    return 0
