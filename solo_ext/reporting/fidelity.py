"""`solo-ext fidelity`: the papers' headline comparisons as paired, seeded runs on real data.

    solo-ext fidelity --out runs/fidelity                # CPU study: all pairs, datasets, seeds
    solo-ext fidelity --out runs/fidelity --dry-run      # every command; which runs are done
    solo-ext fidelity --out runs/fidelity --report-only  # the report files, no training
    solo-ext fidelity --out runs/fidelity --sweep        # + knobs of pairs that did not reproduce

What is compared is data: ``PAIRS`` (method and baseline presets of the zoo, the paper's claim, the
datasets, the sweep knobs) and ``BUDGETS`` (data subset, epochs, device, parallel runs). A preset
several pairs use (MAE) is trained once per dataset and seed. Each run is one `solo-ext pretrain`
of a zoo preset with ``++seed=S``, its own ``checkpoint.dir`` and the online kNN off, then the
offline evaluation of its final checkpoint (``solo_ext.reporting.evaluation``: kNN with k = 10 and
Euclidean distance, and a logistic-regression probe).

Files below --out::

    runs/<dataset>/<preset>[--<knob>-<value>]/seed<S>/
        attempt-<n>/   checkpoint.dir of the n-th start (pretrain.log: its stdout and stderr)
        train.json     written when a start exits 0 with a checkpoint: which one, how long
        eval.json      the numbers; a run with it is done and skipped
        eval.log       the traceback of a failed evaluation
    study.json         the budget the runs were made with (another budget is refused)
    results.json, fidelity.md, fidelity.png

A run folder without train.json was left by an interrupted or failed start: it is kept, never
counted as done, and the run starts again in the next attempt-<n>. Nothing below --out is deleted.
"""

import argparse
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from solo_ext.host import SoloLearnMissingError, require_solo_learn
from solo_ext.reporting.evaluation import write_json_atomically
from solo_ext.reporting.paired import (
    GAIN,
    METRICS,
    Comparison,
    compare,
    write_figure,
    write_markdown,
    write_results_json,
)

__all__ = [
    "BUDGETS",
    "PAIRS",
    "Budget",
    "Knob",
    "Pair",
    "Plan",
    "Run",
    "main",
    "make_plan",
    "run_state",
]

# ------------------------------------------------------------------------------------------------
# what is compared

MAGMA = "MAGMA (Dondera et al., WACV 2025) Table 1, https://arxiv.org/abs/2412.02871"
COLORMAE = "ColorMAE (Hinojosa et al., ECCV 2024), green noise vs random masks, https://arxiv.org/abs/2407.13036"
SMAE = "SMAE, [Re] MAE small scale (Charisoudis et al., ReScience C 2023), https://openreview.net/forum?id=KXfjZPL5pqr"
VICMAE = "ViC-MAE (Hernandez et al., ECCV 2024), contrastive term on vs off, https://arxiv.org/abs/2303.12001"
BOTH = ("digits", "fashion-mnist")
FASHION = ("fashion-mnist",)


@dataclass(frozen=True)
class Knob:
    """A sweep axis: the override ``key`` and its values (``of_epochs``: fractions of epochs)."""

    name: str
    key: str
    values: Tuple
    of_epochs: bool = False


@dataclass(frozen=True)
class Pair:
    """A paper's claim "method beats baseline": two zoo presets trained with the same seeds."""

    key: str
    method: str  # zoo preset
    baseline: str  # zoo preset
    method_name: str
    baseline_name: str
    source: str
    datasets: Tuple[str, ...]
    # --sweep: each knob is swept alone around the preset, each value against the baseline
    knobs: Tuple[Knob, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.method_name} vs {self.baseline_name}"


MAGMA_KNOBS = (
    Knob("weight", "method_kwargs.magma.weight", (0.01, 0.1, 1.0)),
    Knob("start_epoch", "method_kwargs.magma.start_epoch", (0.0, 1 / 3, 2 / 3), of_epochs=True),
)
COLOR_KNOBS = (Knob("color", "method_kwargs.colormae.color", ("red", "blue", "green", "purple")),)
ALPHA_KNOBS = (Knob("alpha", "method_kwargs.smae.alpha", (0.25, 0.5, 1.0)),)
CON_KNOBS = (Knob("con_weight", "method_kwargs.vicmae.con_weight", (0.01, 0.03, 0.1, 0.3)),)
PAIRS = (
    Pair("m-mae", "m-mae", "mae", "M-MAE", "MAE", MAGMA, BOTH, MAGMA_KNOBS),
    Pair("mu-mae", "mu-mae", "u-mae", "MU-MAE", "U-MAE", MAGMA, BOTH, MAGMA_KNOBS),
    Pair("m-simclr", "m-simclr", "simclr", "M-SimCLR", "SimCLR", MAGMA, BOTH, MAGMA_KNOBS),
    Pair("m-vicreg", "m-vicreg", "vicreg", "M-VICReg", "VICReg", MAGMA, BOTH, MAGMA_KNOBS),
    Pair("colormae", "colormae", "mae", "ColorMAE-G", "MAE", COLORMAE, FASHION, COLOR_KNOBS),
    Pair("smae", "smae", "mae-lite", "SMAE", "MAE-Lite", SMAE, FASHION, ALPHA_KNOBS),
    Pair("vicmae", "vicmae", "vicmae-mae", "ViC-MAE", "2-view MAE", VICMAE, FASHION, CON_KNOBS),
)

# ------------------------------------------------------------------------------------------------
# how much compute


@dataclass(frozen=True)
class DataSpec:
    """`solo-ext data <command> --out <data root>/<folder> <options>`; done with stats.json."""

    command: str
    folder: str
    options: Tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Budget:
    name: str
    data: Dict[str, DataSpec]
    max_epochs: Dict[
        str, Optional[int]
    ]  # None: the preset's; otherwise epoch-valued keys are scaled with it
    overrides: Tuple[str, ...]  # added to every pretraining run
    critic_epochs: int  # SMAE's critic (`solo-ext critic train`), trained once per dataset
    jobs: int  # runs trained at the same time
    threads: int  # torch threads of each run (OMP_NUM_THREADS)
    num_workers: int  # data loader workers of each run
    duration: str


# Epoch-valued keys follow a changed max_epochs proportionally, so a schedule keeps its shape.
EPOCH_KEYS = (
    "scheduler.warmup_epochs",
    "method_kwargs.magma.start_epoch",
    "method_kwargs.magma.duration",
    "method_kwargs.vicmae.con_start_epoch",
)

DIGITS = DataSpec("digits", "digits", summary="all 1,437 train / 360 val images, 32 px")
CPU_PER_CLASS = (100, 100)  # Fashion-MNIST train, val images per class of the CPU budget
GPU_PER_CLASS = (200, 1000)  # the GPU budget: val 1,000 per class is the whole test set
BUDGETS = {
    # Sized from the costs measured on the 2-core machine (about 10,600 CPU-seconds with these
    # epochs; the presets' are digits 15, Fashion-MNIST 20). MEASURED 2026-11-30: the whole command
    # in a fresh folder on the idle machine took 5,458 s wall (critic 111 s, 63 runs 10,571
    # run-seconds), rc 0.
    "cpu": Budget(
        name="cpu",
        data={
            "digits": DIGITS,
            "fashion-mnist": DataSpec(
                "fashion-mnist",
                "fashion-mnist-train{}-val{}".format(*CPU_PER_CLASS),
                (
                    "--train-per-class",
                    str(CPU_PER_CLASS[0]),
                    "--val-per-class",
                    str(CPU_PER_CLASS[1]),
                ),
                summary="{} train / {} val images per class (seeded subsets), 32 px".format(
                    *CPU_PER_CLASS
                ),
            ),
        },
        max_epochs={"digits": 8, "fashion-mnist": 8},
        overrides=("accelerator=cpu", "precision=32", "devices=[0]"),
        critic_epochs=30,
        jobs=2,
        threads=1,
        num_workers=0,
        duration="91 minutes measured for the whole command on 2 otherwise idle CPU cores",
    ),
    "gpu": Budget(
        name="gpu",
        data={
            "digits": DIGITS,
            "fashion-mnist": DataSpec(
                "fashion-mnist",
                "fashion-mnist-train{}-val{}".format(*GPU_PER_CLASS),
                (
                    "--train-per-class",
                    str(GPU_PER_CLASS[0]),
                    "--val-per-class",
                    str(GPU_PER_CLASS[1]),
                ),
                summary="{} train / {} val images per class (seeded train subset, the whole "
                "test set), 32 px".format(*GPU_PER_CLASS),
            ),
        },
        # Sized from MEASURED partial runs on one H200 with 16 cores. 2026-11-29: the first preset
        # (60,000 images) was loader-bound, ~90 minutes. 2026-11-30, at 300 train / 1,000 val images
        # per class x 10 epochs and digits x 15, 8 runs at a time: 32 of the 63 runs in 531 s.
        # Pretraining took 48-78 s per digits run, 57-64 s per Fashion-MNIST MAE-family run and
        # 114 s for SimCLR, of which ~20 s is start-up; the evaluation took 150-170 s per
        # Fashion-MNIST run, each of 8 threads decoding the same 13,000 images under one interpreter
        # lock; they are now decoded once per study (evaluation.split_tensors). Scaled from those
        # rates to 200 per class x 8 epochs and digits x 10. A check of that size (seed 0 only,
        # 2026-11-30) prepared data and critic in 55 s and ran the 8 digits runs in 54-107 s each
        # (start-up of 8 processes at once dominates); its Fashion-MNIST wave was cut by the
        # device-time limit. From those rates: ~4,300 run-seconds, about 10 minutes, not yet timed.
        max_epochs={"digits": 10, "fashion-mnist": 8},
        overrides=("accelerator=gpu", "precision=16-mixed", "devices=[0]"),
        critic_epochs=20,
        jobs=8,
        threads=1,
        num_workers=2,
        duration="about 10 minutes on one H200 with 16 CPU cores, estimated from measured "
        "partial runs (the whole command at this size not yet timed)",
    ),
}


def describe(budget: Budget) -> str:
    """The budget in one paragraph (help text and fidelity.md)."""
    epochs = ", ".join(
        f"{d} {e if e is not None else 'as the preset'}" for d, e in budget.max_epochs.items()
    )
    data = "; ".join(f"{d}: {spec.summary}" for d, spec in budget.data.items())
    device = " ".join(o for o in budget.overrides)
    return (
        f"{data}. Epochs: {epochs} (batch as in the presets; MAGMA and ViC-MAE start epochs "
        f"and warm-up scaled with the epochs). {device}; {budget.jobs} run(s) at a time with "
        f"{budget.threads} torch thread(s) and {budget.num_workers} loader worker(s) each; SMAE "
        f"critic {budget.critic_epochs} epochs. "
        f"Duration: {budget.duration}."
    )


# ------------------------------------------------------------------------------------------------
# the plan: which runs, with which commands


@dataclass(frozen=True)
class Run:
    """One pretraining run and its evaluation; ``variant`` names a sweep point ("weight=1.0")."""

    dataset: str
    preset: str
    seed: int
    folder: Path
    overrides: Tuple[str, ...]  # every Hydra override but checkpoint.dir (one per attempt)
    data_dir: Path
    variant: Optional[str] = None
    critic: Optional[Path] = None

    @property
    def name(self) -> str:
        variant = f" [{self.variant}]" if self.variant else ""
        return f"{self.dataset} {self.preset}{variant} seed{self.seed}"

    @property
    def key(self) -> Tuple:
        return self.dataset, self.preset, self.variant, self.seed


@dataclass
class Plan:
    budget: Budget
    out: Path
    data_root: Path
    seeds: Tuple[int, ...]
    datasets: Tuple[str, ...]
    pairs: Tuple[Pair, ...]
    zoo: Path
    presets: Dict[Tuple[str, str], object] = field(
        default_factory=dict
    )  # (dataset, preset) -> composed config
    runs: List[Run] = field(default_factory=list)

    def data_dir(self, dataset: str) -> Path:
        return self.data_root / self.budget.data[dataset].folder

    def critic_path(self, dataset: str) -> Path:
        return (
            self.data_root
            / "critics"
            / f"{self.budget.data[dataset].folder}-squeezenet1_1-{self.budget.critic_epochs}ep.pt"
        )


def solo_ext_command() -> List[str]:
    """The `solo-ext` executable, or this interpreter running its module when it is not on PATH."""
    return ["solo-ext"] if shutil.which("solo-ext") else [sys.executable, "-m", "solo_ext.cli"]


def hydra_value(value) -> str:
    """A Python value as a Hydra override value (paths with unusual characters quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, (Path, str)) and not re.fullmatch(r"[\w./-]+", text):
        if "'" in text:
            raise ValueError(f"a path with a quote cannot be passed to Hydra: {text!r}")
        return f"'{text}'"
    return text


def load_preset(zoo: Path, dataset: str, preset: str):
    """The zoo preset composed by Hydra (defaults such as the augmentation file included)."""
    from hydra import compose, initialize_config_dir

    folder = zoo / "pretrain" / dataset
    if not (folder / f"{preset}.yaml").is_file():
        raise FileNotFoundError(
            f"zoo preset {folder / preset}.yaml does not exist (needed by the fidelity study)"
        )
    with initialize_config_dir(config_dir=str(folder), version_base="1.2"):
        return compose(config_name=preset)


def _select(cfg, key: str):
    from omegaconf import OmegaConf

    return OmegaConf.select(cfg, key, default=None)


def knob_values(plan: Plan, dataset: str, preset: str, knob: Knob) -> List[Tuple[str, object]]:
    """(label, value) of each sweep point of ``knob``, but the main run's value."""
    main_value = run_settings(plan, dataset, preset, 0, None, None).get(knob.key)
    if main_value is None:
        main_value = hydra_value(_select(plan.presets[(dataset, preset)], knob.key))
    points = []
    for raw in knob.values:
        value = int(round(raw * _epochs(plan, dataset, preset))) if knob.of_epochs else raw
        if hydra_value(value) != main_value:
            points.append((f"{knob.name}={value}", value))
    return points


def run_settings(
    plan: Plan,
    dataset: str,
    preset: str,
    seed: int,
    variant: Optional[Tuple[str, object]],
    critic: Optional[Path],
) -> Dict[str, str]:
    """The Hydra overrides of one run, key -> value (a later setting of a key wins)."""
    cfg = plan.presets[(dataset, preset)]
    data = plan.data_dir(dataset)
    settings = {
        "data.train_path": hydra_value(data / "train"),
        "data.val_path": hydra_value(data / "val"),
        "++seed": str(seed),
        "knn_eval.enabled": "false",
        "data.num_workers": str(plan.budget.num_workers),
        "++enable_progress_bar": "false",
        "++log_every_n_steps": "10",  # the CSV log's loss curve of short runs
        "++limit_val_batches": "0",  # no online validation: the offline evaluation replaces it
    }
    epochs = plan.budget.max_epochs.get(dataset)
    if epochs is not None and epochs != cfg.max_epochs:
        settings["max_epochs"] = str(epochs)
        for key in EPOCH_KEYS:
            value = _select(cfg, key)
            if value is not None:
                settings[key] = str(int(round(value * epochs / cfg.max_epochs)))
    for override in plan.budget.overrides:
        key, value = override.split("=", 1)
        settings[key] = value
    if critic is not None:
        settings["method_kwargs.smae.critic"] = hydra_value(critic)
    if variant is not None:
        key, value = variant
        settings[key] = hydra_value(value)
    return settings


def _epochs(plan: Plan, dataset: str, preset: str) -> int:
    return plan.budget.max_epochs.get(dataset) or plan.presets[(dataset, preset)].max_epochs


def _needs_critic(cfg) -> bool:
    return (
        _select(cfg, "method_kwargs.smae.critic") is not None
        and (_select(cfg, "method_kwargs.smae.alpha") or 0) > 0
    )


def make_run(
    plan: Plan,
    dataset: str,
    preset: str,
    seed: int,
    knob: Optional[Knob] = None,
    point: Optional[Tuple[str, object]] = None,
) -> Run:
    cfg = plan.presets[(dataset, preset)]
    critic = plan.critic_path(dataset) if _needs_critic(cfg) else None
    variant = None if knob is None else point[0]
    slug = preset if knob is None else f"{preset}--{knob.name}-{point[1]}"
    folder = plan.out / "runs" / dataset / slug / f"seed{seed}"
    settings = run_settings(
        plan, dataset, preset, seed, None if knob is None else (knob.key, point[1]), critic
    )
    overrides = tuple(f"{key}={value}" for key, value in settings.items())
    return Run(dataset, preset, seed, folder, overrides, plan.data_dir(dataset), variant, critic)


def make_plan(
    out,
    budget: Budget,
    seeds: Sequence[int],
    datasets: Sequence[str],
    pairs: Sequence[Pair],
    data_root=None,
    zoo: Optional[Path] = None,
) -> Plan:
    """The main runs: each pair's method and baseline on its datasets and seeds, each once."""
    from solo_ext.config.zoo import zoo_path

    out = Path(out).resolve()
    plan = Plan(
        budget,
        out,
        Path(data_root).resolve() if data_root else out / "data",
        tuple(seeds),
        tuple(datasets),
        tuple(pairs),
        Path(zoo) if zoo else zoo_path(),
    )
    seen = set()
    for dataset in datasets:
        for seed in seeds:
            for pair in pairs:
                if dataset not in pair.datasets:
                    continue
                for preset in (pair.baseline, pair.method):
                    if (dataset, preset) not in plan.presets:
                        plan.presets[(dataset, preset)] = load_preset(plan.zoo, dataset, preset)
                    run = make_run(plan, dataset, preset, seed)
                    if run.key not in seen:
                        seen.add(run.key)
                        plan.runs.append(run)
    return plan


def sweep_runs(plan: Plan, pair: Pair, dataset: str) -> List[Run]:
    """Every sweep point of ``pair`` on ``dataset`` (but the preset's values) for every seed."""
    return [
        make_run(plan, dataset, pair.method, seed, knob, point)
        for knob in pair.knobs
        for point in knob_values(plan, dataset, pair.method, knob)
        for seed in plan.seeds
    ]


def data_command(plan: Plan, dataset: str) -> List[str]:
    spec = plan.budget.data[dataset]
    return [
        *solo_ext_command(),
        "data",
        spec.command,
        "--out",
        str(plan.data_dir(dataset)),
        *spec.options,
    ]


def _flags(options: Dict[str, object]) -> List[str]:
    return [part for flag, value in options.items() for part in (flag, str(value))]


def critic_command(plan: Plan, dataset: str, out: Path) -> List[str]:
    """SMAE's critic on the study's train/val data, at the SMAE preset's crop size and mean/std.

    It trains alone, before the runs: it gets every run's loader workers."""
    cfg = next(cfg for (d, _), cfg in plan.presets.items() if d == dataset and _needs_critic(cfg))
    augmentation = cfg.augmentations[0]
    epochs = plan.budget.critic_epochs
    options = {
        "--data": plan.data_dir(dataset),
        "--out": out,
        "--size": augmentation.crop_size,
        "--epochs": epochs,
        "--warmup_epochs": max(1, epochs // 10),
        "--workers": plan.budget.jobs * plan.budget.num_workers,
    }
    normalisation = ["--mean", *map(str, augmentation.mean), "--std", *map(str, augmentation.std)]
    return [*solo_ext_command(), "critic", "train", *_flags(options), *normalisation]


def pretrain_command(plan: Plan, run: Run, attempt: Path) -> List[str]:
    config = {"--config-path": plan.zoo / "pretrain" / run.dataset, "--config-name": run.preset}
    checkpoint_dir = f"checkpoint.dir={hydra_value(attempt)}"
    return [*solo_ext_command(), "pretrain", *_flags(config), *run.overrides, checkpoint_dir]


def eval_command(run: Run, checkpoint_dir: Path) -> List[str]:
    options = {
        "--checkpoint-dir": checkpoint_dir,
        "--train": run.data_dir / "train",
        "--val": run.data_dir / "val",
        "--seed": run.seed,
        "--out": run.folder / "eval.json",
    }
    return [sys.executable, "-m", "solo_ext.reporting.evaluation", *_flags(options)]


# ------------------------------------------------------------------------------------------------
# the state of a run folder

NEW, PARTIAL, TRAINED, DONE = "new", "partial", "trained", "done"


def read_json(path: Path) -> Optional[dict]:
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def finished_eval(folder: Path) -> Optional[dict]:
    """eval.json's record when it holds a finite number for every metric, else None."""
    record = read_json(Path(folder) / "eval.json")
    if record is None:
        return None
    values = [record.get(metric) for metric in METRICS]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        return None
    return record


def trained_checkpoint(folder: Path) -> Optional[Path]:
    """The checkpoint train.json names, if a start wrote it (finished) and the file is there."""
    record = read_json(Path(folder) / "train.json")
    if record is None or not record.get("checkpoint"):
        return None
    checkpoint = Path(record["checkpoint"])
    return checkpoint if checkpoint.is_file() else None


def attempts(folder: Path) -> List[Path]:
    found = [
        p
        for p in Path(folder).glob("attempt-*")
        if p.is_dir() and p.name.split("-", 1)[1].isdigit()
    ]
    return sorted(found, key=lambda p: int(p.name.split("-", 1)[1]))


def next_attempt(folder: Path) -> Path:
    previous = attempts(folder)
    return (
        Path(folder) / f"attempt-{int(previous[-1].name.split('-', 1)[1]) + 1 if previous else 1}"
    )


def run_state(folder: Path) -> str:
    """DONE (eval.json with finite numbers), TRAINED (train.json, no evaluation yet), PARTIAL (an
    attempt folder without a finished start: interrupted or failed), NEW."""
    if finished_eval(folder) is not None:
        return DONE
    if trained_checkpoint(folder) is not None:
        return TRAINED
    return PARTIAL if attempts(folder) else NEW


def describe_state(folder: Path) -> str:
    state = run_state(folder)
    if state == DONE:
        record = finished_eval(folder)
        return f"done (knn {record['knn_top1']:.2f}, linear {record['linear_top1']:.2f})"
    if state == TRAINED:
        return f"trained, to evaluate ({trained_checkpoint(folder)})"
    if state == PARTIAL:
        left = ", ".join(p.name for p in attempts(folder))
        again = next_attempt(folder).name
        return f"partial ({left} left by an interrupted or failed start, kept): starts {again}"
    return "new"


# ------------------------------------------------------------------------------------------------
# running


@dataclass
class Outcome:
    run: Run
    status: str  # done | skipped | failed | interrupted
    seconds: float = 0.0
    record: Optional[dict] = None
    log: Optional[Path] = None
    reason: str = ""


class Runner:
    """Trains and evaluates runs, ``budget.jobs`` at a time; Ctrl-C stops the children, then all."""

    def __init__(self, plan: Plan, echo=print):
        self.plan = plan
        self.echo = echo
        self.stop = threading.Event()
        self.children = set()
        self.lock = threading.Lock()
        self.completed = 0
        self.total = 0

    def _say(self, text: str) -> None:
        with self.lock:
            self.echo(text)
            sys.stdout.flush()

    def environment(self, threads: int) -> Dict[str, str]:
        return {
            **os.environ,
            "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "PYTHONUNBUFFERED": "1",
            "WANDB_MODE": "disabled",
            "HYDRA_FULL_ERROR": "1",
        }

    def call(self, argv: List[str], log: Path, cwd: Path, threads: Optional[int] = None) -> int:
        """Runs ``argv`` with stdout and stderr appended to ``log``; returns its exit status.

        ``threads``: torch threads of the child, by default the budget's per run (data and critic
        preparation run alone and get every run's threads)."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as handle:
            handle.write(f"$ {shlex.join(argv)}\n")
            handle.flush()
            if self.stop.is_set():
                return 130
            env = self.environment(threads or self.plan.budget.threads)
            process = subprocess.Popen(
                argv, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd, env=env
            )
            with self.lock:
                self.children.add(process)
            try:
                return process.wait()
            finally:
                with self.lock:
                    self.children.discard(process)

    @property
    def all_threads(self) -> int:
        return self.plan.budget.jobs * self.plan.budget.threads

    def interrupt_children(self) -> None:
        with self.lock:
            for process in self.children:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)

    # data and critics come first, one at a time, with every thread of the machine

    def prepare(self, runs: Sequence[Run]) -> bool:
        pending = [run for run in runs if run_state(run.folder) != DONE]
        for dataset in dict.fromkeys(run.dataset for run in pending):
            folder = self.plan.data_dir(dataset)
            if not (folder / "stats.json").is_file():
                if folder.exists() and any(folder.iterdir()):
                    self._say(
                        f"data {dataset}: {folder} exists without stats.json (interrupted?); "
                        "remove it or choose another --data-root"
                    )
                    return False
                log = self.plan.data_root / f"{self.plan.budget.data[dataset].folder}.log"
                started = time.perf_counter()
                code = self.call(
                    data_command(self.plan, dataset), log, self.plan.data_root, self.all_threads
                )
                if code != 0:
                    self._say(f"data {dataset}: FAILED (exit {code}), log: {log}")
                    return False
                self._say(
                    f"data {dataset}: prepared in {time.perf_counter() - started:.0f} s ({folder})"
                )
            critic = next(
                (run.critic for run in pending if run.dataset == dataset and run.critic), None
            )
            if (
                critic is not None
                and not critic.is_file()
                and not self.train_critic(dataset, critic)
            ):
                return False
        return True

    def train_critic(self, dataset: str, critic: Path) -> bool:
        critic.parent.mkdir(parents=True, exist_ok=True)
        attempt = 1
        while critic.with_name(f"{critic.stem}.attempt-{attempt}{critic.suffix}").exists():
            attempt += 1  # a file left by an interrupted training stays where it is
        partial = critic.with_name(f"{critic.stem}.attempt-{attempt}{critic.suffix}")
        log = critic.with_suffix(".log")
        started = time.perf_counter()
        code = self.call(
            critic_command(self.plan, dataset, partial), log, critic.parent, self.all_threads
        )
        if code != 0 or not partial.is_file():
            self._say(f"critic {dataset}: FAILED (exit {code}), log: {log}")
            return False
        os.replace(partial, critic)
        self._say(f"critic {dataset}: trained in {time.perf_counter() - started:.0f} s ({critic})")
        return True

    def execute(self, runs: Sequence[Run]) -> List[Outcome]:
        self.completed, self.total = 0, len(runs)
        if not self.prepare(runs):
            return [
                Outcome(run, "failed", reason="data or critic preparation failed") for run in runs
            ]
        with warnings.catch_warnings():  # the host libraries' deprecation notices, once per study
            warnings.simplefilter("ignore")
            import torch

            from solo_ext.reporting.evaluation import preload

            preload()
        torch.set_num_threads(self.plan.budget.threads)  # the evaluations share this process
        with ThreadPoolExecutor(max_workers=self.plan.budget.jobs) as pool:
            futures = [pool.submit(self.train_and_evaluate, run) for run in runs]
            try:
                return [future.result() for future in futures]
            except KeyboardInterrupt:
                self.stop.set()
                self.interrupt_children()
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def train_and_evaluate(self, run: Run) -> Outcome:
        if self.stop.is_set():
            return Outcome(run, "interrupted")
        state = run_state(run.folder)
        if state == DONE:
            return self._report(Outcome(run, "skipped", record=finished_eval(run.folder)))
        started = time.perf_counter()
        if state != TRAINED:
            outcome = self.pretrain(run)
            if outcome is not None:
                outcome.seconds = time.perf_counter() - started
                return self._report(outcome)
        train = read_json(run.folder / "train.json")
        try:
            import torch

            from solo_ext.reporting.evaluation import evaluate_checkpoint

            torch.set_num_threads(self.plan.budget.threads)  # OpenMP keeps it per thread
            result = evaluate_checkpoint(
                train["checkpoint"], run.data_dir / "train", run.data_dir / "val", seed=run.seed
            )
        except Exception as err:  # one run's failed evaluation is that run's, not the study's
            log = run.folder / "eval.log"
            log.write_text(traceback.format_exc())
            why = f"evaluation: {type(err).__name__}: {err}".splitlines()[0]
            return self._report(
                Outcome(run, "failed", time.perf_counter() - started, log=log, reason=why)
            )
        record = {
            **result,
            "dataset": run.dataset,
            "preset": run.preset,
            "variant": run.variant,
            "seed": run.seed,
            "pretrain_seconds": train.get("seconds"),
            "overrides": list(run.overrides),
        }
        write_json_atomically(run.folder / "eval.json", record)
        return self._report(Outcome(run, "done", time.perf_counter() - started, record=record))

    def pretrain(self, run: Run) -> Optional[Outcome]:
        """Starts the run in a fresh attempt folder; None if it ended with a checkpoint."""
        attempt = next_attempt(run.folder)
        attempt.mkdir(parents=True)
        log = attempt / "pretrain.log"
        argv = pretrain_command(self.plan, run, attempt)
        started = time.perf_counter()
        code = self.call(argv, log, attempt)
        if self.stop.is_set():
            return Outcome(run, "interrupted", log=log)
        if code != 0:
            return Outcome(run, "failed", log=log, reason=f"pretrain exit {code}")
        checkpoints = sorted(attempt.rglob("*.ckpt"), key=lambda p: p.stat().st_mtime)
        if not checkpoints:
            return Outcome(run, "failed", log=log, reason="pretrain wrote no .ckpt")
        seconds = round(time.perf_counter() - started, 1)
        record = {
            "checkpoint": str(checkpoints[-1]),
            "attempt": attempt.name,
            "seconds": seconds,
            "command": shlex.join(argv),
        }
        write_json_atomically(run.folder / "train.json", record)
        return None

    def _report(self, outcome: Outcome) -> Outcome:
        with self.lock:
            self.completed += 1
            count = f"[{self.completed:>{len(str(self.total))}}/{self.total}]"
        line = f"{count} {outcome.run.name}: "
        if outcome.status in ("done", "skipped"):
            numbers = (
                f"knn {outcome.record['knn_top1']:.2f}  linear {outcome.record['linear_top1']:.2f}"
            )
            line += (
                f"done in {outcome.seconds:.0f} s  {numbers}"
                if outcome.status == "done"
                else f"skipped (eval.json exists)  {numbers}"
            )
        elif outcome.status == "failed":
            line += f"FAILED ({outcome.reason}) after {outcome.seconds:.0f} s, log: {outcome.log}"
        else:
            line += "interrupted"
        self._say(line)
        return outcome


# ------------------------------------------------------------------------------------------------
# the report


def comparisons(plan: Plan, sweeps: bool = True) -> List[Comparison]:
    """Each pair × dataset × metric over the seeds where both runs are done; then sweep points."""
    rows = []
    for pair in plan.pairs:
        for dataset in plan.datasets:
            if dataset not in pair.datasets:
                continue
            baseline = {
                seed: finished_eval(make_run(plan, dataset, pair.baseline, seed).folder)
                for seed in plan.seeds
            }
            methods = [
                (
                    None,
                    pair.label,
                    {seed: make_run(plan, dataset, pair.method, seed) for seed in plan.seeds},
                )
            ]
            if sweeps:
                for knob in pair.knobs:
                    for point in knob_values(plan, dataset, pair.method, knob):
                        label = f"{pair.method_name} {point[0]} vs {pair.baseline_name}"
                        runs = {
                            seed: make_run(plan, dataset, pair.method, seed, knob, point)
                            for seed in plan.seeds
                        }
                        if any(run_state(run.folder) == DONE for run in runs.values()):
                            methods.append((point[0], label, runs))
            for variant, label, runs in methods:
                method = {seed: finished_eval(run.folder) for seed, run in runs.items()}
                seeds = [seed for seed in plan.seeds if baseline[seed] and method[seed]]
                for metric in METRICS:
                    rows.append(
                        compare(
                            label,
                            dataset,
                            metric,
                            seeds,
                            [baseline[s][metric] for s in seeds],
                            [method[s][metric] for s in seeds],
                            pair=pair.key,
                            source=pair.source,
                            variant=variant,
                        )
                    )
    return rows


def not_reproduced(plan: Plan, rows: Sequence[Comparison]) -> List[Tuple[Pair, str]]:
    """(pair, dataset) whose main comparison is not "gain reproduced" on every metric."""
    found = []
    for pair in plan.pairs:
        for dataset in plan.datasets:
            main_rows = [
                r for r in rows if r.pair == pair.key and r.dataset == dataset and r.variant is None
            ]
            if main_rows and not all(r.verdict == GAIN for r in main_rows):
                found.append((pair, dataset))
    return found


def run_records(plan: Plan, runs: Sequence[Run]) -> List[dict]:
    records = []
    for run in runs:
        state = run_state(run.folder)
        record = {
            "dataset": run.dataset,
            "preset": run.preset,
            "variant": run.variant,
            "seed": run.seed,
            "status": state,
            "folder": str(run.folder),
        }
        if state == DONE:
            found = finished_eval(run.folder)
            record.update(
                {metric: found[metric] for metric in METRICS},
                seconds=(found.get("pretrain_seconds") or 0) + (found.get("eval_seconds") or 0),
                checkpoint=found.get("checkpoint"),
            )
        records.append(record)
    return records


def budget_record(budget: Budget) -> dict:
    return {
        "preset": budget.name,
        "data": {k: [v.command, v.folder, *v.options] for k, v in budget.data.items()},
        "max_epochs": budget.max_epochs,
        "overrides": list(budget.overrides),
        "critic_epochs": budget.critic_epochs,
        "num_workers": budget.num_workers,
        "threads": budget.threads,
    }


def reported_runs(plan: Plan) -> List[Run]:
    """The main runs, then every sweep run that was started."""
    started = [
        run
        for pair in plan.pairs
        for dataset in plan.datasets
        if dataset in pair.datasets
        for run in sweep_runs(plan, pair, dataset)
        if run_state(run.folder) != NEW
    ]
    return [*plan.runs, *started]


PROTOCOL = (
    "Protocol: each run pretrains a zoo preset (`++seed=S`, online kNN off), then its final "
    "checkpoint is evaluated offline on the val split: solo-learn's weighted kNN (k = 10, "
    "Euclidean; MAGMA's protocol) and a logistic-regression probe on standardised frozen "
    "features. Δ = method − baseline with the same seed; 95 % interval from Student's t with "
    'n − 1 degrees of freedom; verdict "gain reproduced" if its lower bound is > 0, "worse" if '
    'its upper bound is < 0, else "no difference".'
)


def write_report(plan: Plan, command: str) -> List[Path]:
    plan.out.mkdir(parents=True, exist_ok=True)
    rows = comparisons(plan)
    records = run_records(plan, reported_runs(plan))
    study = read_json(plan.out / "study.json") or {}
    epochs = {f"{d}/{p}": _epochs(plan, d, p) for d, p in plan.presets}
    header = [
        f"Study command: `{study.get('command', command)}`"
        + (
            f"  \nReport written by: `{command}`"
            if study.get("command", command) != command
            else ""
        ),
        "",
        f"Budget `--preset {plan.budget.name}`: {describe(plan.budget)}",
        "",
        "Data folders: " + "; ".join(f"{d}: {plan.data_dir(d)}" for d in plan.datasets) + ".",
        "",
        f"Seeds: {' '.join(map(str, plan.seeds))}. Epochs per preset: "
        + ", ".join(f"{k} {v}" for k, v in sorted(epochs.items()))
        + ".",
        "",
        PROTOCOL,
        "",
        "Claims tested: " + "; ".join(f"{p.label}: {p.source}" for p in plan.pairs) + ".",
    ]
    study_record = {
        "command": study.get("command", command),
        "budget": budget_record(plan.budget),
        "seeds": list(plan.seeds),
        "datasets": list(plan.datasets),
        "pairs": [p.key for p in plan.pairs],
        "description": describe(plan.budget),
        "epochs": epochs,
    }
    return [
        write_results_json(plan.out / "results.json", rows, records, study_record),
        write_markdown(
            plan.out / "fidelity.md",
            rows,
            records,
            header,
            title="Fidelity study: paired comparisons on real data",
        ),
        write_figure(plan.out / "fidelity.png", rows),
    ]


# ------------------------------------------------------------------------------------------------
# the command


def check_study_file(plan: Plan, command: Optional[str] = None) -> None:
    """Refuses an --out made with another budget (runs would mix, the report would mislabel them);
    with ``command`` (a training invocation), records this budget and command."""
    path = plan.out / "study.json"
    record = read_json(path)
    wanted = budget_record(plan.budget)
    if record is not None and record.get("budget") != wanted:
        raise ValueError(
            f"--out: {plan.out} holds runs made with another budget (--preset "
            f"{record.get('budget', {}).get('preset')}, see {path}); choose another --out"
        )
    if command is not None:
        plan.out.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, {"command": command, "budget": wanted})


def dry_run(plan: Plan, sweep: bool, echo=print) -> None:
    states = {run.key: run_state(run.folder) for run in plan.runs}
    done = sum(state == DONE for state in states.values())
    echo(
        f"solo-ext fidelity --dry-run: preset {plan.budget.name}, {len(plan.runs)} runs "
        f"({done} done, {len(plan.runs) - done} to run); nothing is started"
    )
    for dataset in plan.datasets:
        folder = plan.data_dir(dataset)
        ready = (folder / "stats.json").is_file()
        echo(
            f"data {dataset}: "
            + (f"ready ({folder})" if ready else shlex.join(data_command(plan, dataset)))
        )
        critic = plan.critic_path(dataset)
        needs = any(
            run.critic for run in plan.runs if run.dataset == dataset and states[run.key] != DONE
        )
        if needs:
            echo(
                f"critic {dataset}: "
                + (
                    f"ready ({critic})"
                    if critic.is_file()
                    else shlex.join(critic_command(plan, dataset, critic))
                )
            )
    for run in plan.runs:
        _echo_run(plan, run, echo)
    if not sweep:
        return
    rows = comparisons(plan, sweeps=False)
    complete = {(r.pair, r.dataset) for r in rows if r.n == len(plan.seeds)}
    for pair in plan.pairs:
        for dataset in plan.datasets:
            if dataset not in pair.datasets or not pair.knobs:
                continue
            if (pair.key, dataset) in complete and (pair, dataset) not in not_reproduced(
                plan, rows
            ):
                echo(f"sweep {pair.key} {dataset}: not needed (gain reproduced on every metric)")
                continue
            when = (
                ""
                if (pair.key, dataset) in complete
                else " (run only if the gain does not reproduce)"
            )
            echo(f"sweep {pair.key} {dataset}{when}:")
            for run in sweep_runs(plan, pair, dataset):
                _echo_run(plan, run, echo)


def _echo_run(plan: Plan, run: Run, echo) -> None:
    state = run_state(run.folder)
    echo(f"run {run.name}: {describe_state(run.folder)}")
    if state == DONE:
        return
    attempt = next_attempt(run.folder)
    if state != TRAINED:
        argv = shlex.join(pretrain_command(plan, run, attempt))
        env = f"OMP_NUM_THREADS={plan.budget.threads}"
        echo(f"  pretrain: (cd {attempt} && {env} {argv} >> {attempt / 'pretrain.log'} 2>&1)")
    checkpoint = trained_checkpoint(run.folder) or attempt
    echo(f"  eval (in the study's process, as): {shlex.join(eval_command(run, checkpoint))}")


# CPU seconds of one torch thread per image and epoch, measured on the 2-core AMD EPYC this was
# built on (digits presets, 2-epoch runs minus start-up); they size the CPU budget.
MEASURED = (
    "MAE, U-MAE, M-MAE, MU-MAE 6.8 ms; ColorMAE 7.3; SimCLR, M-SimCLR 23.8; VICReg, M-VICReg 23; "
    "MAE-Lite 12.6; SMAE 17.7; ViC-MAE 19.7; plus about 8 s start-up and 13 s (ViT-Tiny) to 30 s "
    "(ViT-Lite at 64 px) evaluation per run; the SMAE critic 5.6 ms per image and epoch"
)


def _grid(knob: Knob) -> str:
    values = "/".join(f"{v:.2f}" if knob.of_epochs else str(v) for v in knob.values)
    return f"{knob.name} {values}{' x epochs' if knob.of_epochs else ''}"


def help_epilog() -> str:
    budgets = "\n".join(
        textwrap.fill(
            f"{name}: {describe(budget)}", 100, initial_indent="  ", subsequent_indent="    "
        )
        for name, budget in BUDGETS.items()
    )
    knobs = "; ".join(
        f"{pair.method_name}: " + ", ".join(map(_grid, pair.knobs)) for pair in PAIRS if pair.knobs
    )
    sweep = (
        "--sweep: for each pair and dataset whose gain did not reproduce on every metric, one knob "
        "at a time around the preset (the preset's value is the main run), same seeds, each point "
        f"against the same baseline runs: {knobs}. On the CPU budget a point costs about 1 (MAE "
        "family) to 5 (SimCLR/VICReg) CPU-minutes per seed."
    )
    return "\n\n".join(
        [
            f"budgets (--preset):\n{budgets}",
            textwrap.fill(f"measured cost per image and epoch (1 thread): {MEASURED}.", 100),
            textwrap.fill(sweep, 100),
        ]
    )


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="solo-ext fidelity",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=help_epilog(),
        description="Rerun the papers' headline comparisons (method vs baseline) as paired, seeded "
        "experiments on real data, evaluate every final checkpoint offline (kNN k=10 Euclidean, "
        "logistic-regression probe) and write OUT/results.json, OUT/fidelity.md and "
        "OUT/fidelity.png.",
    )
    parser.add_argument(
        "--out", required=True, help="study folder (runs, data by default, report files)"
    )
    parser.add_argument(
        "--data-root", default=None, help="where the datasets are prepared (default: OUT/data)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=list(BOTH), choices=list(BOTH))
    parser.add_argument(
        "--pairs", nargs="+", default=[p.key for p in PAIRS], choices=[p.key for p in PAIRS]
    )
    parser.add_argument(
        "--preset", default="cpu", choices=list(BUDGETS), help="the compute budget (below)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print every command and which runs are done; run nothing",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the finished runs; train nothing",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="then sweep the knob of each pair whose gain did not reproduce",
    )
    return parser


def main(argv=None) -> int:
    """Returns the exit status: 0, 1 if a run failed, 130 when interrupted."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    if len(set(args.seeds)) != len(args.seeds):
        raise ValueError(f"--seeds: {args.seeds} repeats a seed; expected distinct seeds")
    command = shlex.join(["solo-ext", "fidelity", *argv])
    pairs = tuple(p for p in PAIRS if p.key in args.pairs)
    plan = make_plan(
        args.out, BUDGETS[args.preset], args.seeds, args.datasets, pairs, args.data_root
    )
    if not plan.runs:
        raise ValueError(
            f"--pairs {' '.join(args.pairs)} have no run on --datasets {' '.join(args.datasets)}"
        )
    check_study_file(plan)
    if args.dry_run:
        try:
            dry_run(plan, args.sweep)
        except BrokenPipeError:  # its reader stopped early (| head): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    failed = False
    if not args.report_only:
        try:
            require_solo_learn()  # training and evaluation need it; the plan and the report do not
        except SoloLearnMissingError as err:
            print(f"solo-ext fidelity: {err}", file=sys.stderr)
            return 2
        check_study_file(plan, command)
        runner = Runner(plan)
        try:
            outcomes = runner.execute(plan.runs)
            if args.sweep:
                todo = not_reproduced(plan, comparisons(plan, sweeps=False))
                extra = [run for pair, dataset in todo for run in sweep_runs(plan, pair, dataset)]
                print(f"sweeps: {len(extra)} runs for {len(todo)} pair/dataset(s) not reproduced")
                outcomes += runner.execute(extra)
        except KeyboardInterrupt:
            print(
                "interrupted: finished runs are kept; run the same command again to continue",
                file=sys.stderr,
            )
            write_report(plan, command)
            return 130
        failed = any(o.status == "failed" for o in outcomes)
    written = write_report(plan, command)
    print("wrote " + ", ".join(str(p) for p in written))
    if failed:
        print(
            "some runs FAILED (their logs are named above); rerun the same command to retry them",
            file=sys.stderr,
        )
    return 1 if failed else 0
