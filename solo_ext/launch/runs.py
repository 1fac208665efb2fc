"""Run folders that never collide, checkpoints that are never half-written, resumes that skip broken files.

Every run writes into its own folder ``<checkpoint.dir>/<method>/<run id>/`` (args.json, checkpoints, CSV or
wandb logs). The folder is claimed with one ``mkdir`` — atomic on every local and network file system — so two
runs started together, from any working directory, never share one; only a resumed run writes into the folder
of the checkpoint it resumes from. Checkpoints are written to ``<name>.ckpt.partial`` and renamed when complete,
so a job killed mid-write leaves no truncated ``.ckpt`` behind, and auto-resume passes over (with a warning
naming it) any checkpoint that does not load.
"""

import json
import logging
import os
import secrets
import shlex
import string
import sys
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import List, Optional, Tuple

import torch
from solo.utils.auto_resumer import AutoResumer
from solo.utils.checkpointer import Checkpointer
from solo.utils.misc import omegaconf_select

from solo_ext.config import ConfigError
from solo_ext.launch.checkpoints import load_failure

__all__ = [
    "PARTIAL_SUFFIX",
    "RunCheckpointer",
    "RunFolder",
    "checkpoint_problem",
    "claim_run_folder",
    "exit_interrupted",
    "find_resumable",
    "report_validation",
]

RUN_DIR_ENV = (
    "SOLO_EXT_RUN_DIR"  # hands the claimed folder to the DDP ranks Lightning starts as subprocesses
)
PARTIAL_SUFFIX = ".partial"
_ID_CHARS = string.ascii_lowercase + string.digits  # what wandb accepts as a run id

log = logging.getLogger(__name__)


class RunFolder:
    """The folder of one run and its id (the wandb run id when wandb logs it)."""

    def __init__(self, path: Path, run_id: str, resumed: bool):
        self.path, self.run_id, self.resumed = Path(path), run_id, resumed


def _is_launching_process() -> bool:
    """False in the ranks > 0 that a launcher (Lightning's DDP subprocesses, torchrun, SLURM) started."""
    return all(
        int(os.environ.get(var, "0") or 0) == 0
        for var in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID")
    )


def _new_id() -> str:
    return "".join(secrets.choice(_ID_CHARS) for _ in range(8))


def claim_run_folder(root: Path, wandb: bool, resume_from: Optional[str] = None) -> RunFolder:
    """Claims a fresh run folder below ``root``, or reuses the run folder of ``resume_from``.

    A resumed checkpoint keeps writing into its own run folder when that folder is a run of ``root`` (it
    holds args.json); a checkpoint from anywhere else starts a new folder.
    """
    root = Path(root).resolve()
    if not _is_launching_process():  # ranks > 0 write nothing; they use the folder rank 0 claimed
        path = Path(os.environ.get(RUN_DIR_ENV, root / "rank-not-zero"))
        return RunFolder(path, path.name, resumed=resume_from is not None)
    if resume_from is not None:
        folder = Path(resume_from).resolve().parent
        if folder.parent == root and (folder / "args.json").is_file():
            os.environ[RUN_DIR_ENV] = str(folder)
            return RunFolder(folder, _resumed_id(folder), resumed=True)
    root.mkdir(parents=True, exist_ok=True)
    while True:
        run_id = _new_id()
        path = root / (run_id if wandb else f"offline-{run_id}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        os.environ[RUN_DIR_ENV] = str(path)
        return RunFolder(path, run_id, resumed=False)


def _resumed_id(folder: Path) -> str:
    args = json.loads((folder / "args.json").read_text())
    return args.get("wandb_run_id") or folder.name.removeprefix("offline-")


class RunCheckpointer(Checkpointer):
    """solo-learn's Checkpointer (same file names, args.json, frequency, keep_prev) writing into a claimed run
    folder, each checkpoint written under a temporary name and renamed once complete."""

    def __init__(self, cfg, run: RunFolder, frequency: int = 1, keep_prev: bool = False):
        super().__init__(cfg, logdir=run.path.parent, frequency=frequency, keep_prev=keep_prev)
        self.run = run

    def initial_setup(self, trainer) -> None:
        self.path = self.run.path
        self.wandb_run_id = self.run.run_id if self.cfg.wandb.enabled else None
        self.ckpt_placeholder = f"{self.cfg.name}-{self.path.name}" + "-ep={}.ckpt"
        self.last_ckpt = None  # a resumed run keeps the checkpoint it resumed from
        if trainer.is_global_zero:
            self.path.mkdir(parents=True, exist_ok=True)

    def save(self, trainer) -> None:
        if trainer.sanity_checking:
            return
        ckpt = self.path / self.ckpt_placeholder.format(trainer.current_epoch)
        partial = ckpt.with_name(ckpt.name + PARTIAL_SUFFIX)
        trainer.save_checkpoint(
            partial
        )  # every rank takes part; rank 0 writes, then all meet at a barrier
        if trainer.is_global_zero:
            os.replace(partial, ckpt)
            if self.last_ckpt and self.last_ckpt != ckpt and not self.keep_prev:
                os.remove(self.last_ckpt)
        self.last_ckpt = ckpt


def checkpoint_problem(path) -> Optional[str]:
    """Why ``path`` cannot be resumed from (truncated, not a checkpoint, ...), or None when it loads."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - any failure to load is the answer
        return load_failure(err, path)
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        return "not a Lightning checkpoint (no state_dict)"
    return None


def _run_folders(root: Path, max_hours: float) -> List[Tuple[float, Path]]:
    """(newest checkpoint time, folder) of every run folder below ``root`` with a checkpoint, newest first."""
    oldest = (datetime.now() - timedelta(hours=max_hours)).timestamp()
    folders = []
    for args in Path(root).rglob("args.json"):
        times = [ckpt.stat().st_mtime for ckpt in args.parent.glob("*.ckpt")]
        if times and max(times) >= oldest:
            folders.append((max(times), args.parent))
    return sorted(folders, reverse=True)


def find_resumable(root, cfg) -> Tuple[Optional[Path], Optional[str]]:
    """solo-learn's auto-resume (newest run below ``root`` whose args.json matches the settings solo-learn's
    AutoResumer compares, within ``auto_resume.max_hours``), passing over checkpoints that do not load."""
    max_hours = float(omegaconf_select(cfg, "auto_resume.max_hours", 36))
    for _, folder in _run_folders(root, max_hours):
        try:
            args = json.loads((folder / "args.json").read_text())
        except (OSError, ValueError) as err:
            warnings.warn(
                f"auto_resume: skipping run folder {folder}: its args.json does not read ({err})",
                stacklevel=2,
            )
            continue
        if any(
            _select(args, key) != omegaconf_select(cfg, key, None)
            for key in AutoResumer.SHOULD_MATCH
        ):
            continue
        for ckpt in sorted(folder.glob("*.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True):
            problem = checkpoint_problem(ckpt)
            if problem is None:
                return ckpt, args.get("wandb_run_id")
            warnings.warn(
                f"auto_resume: skipping {ckpt}: it does not load ({problem}); delete it to silence this",
                stacklevel=2,
            )
    return None, None


def _select(args: dict, dotted: str):
    value = args
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def resumable_checkpoint(path: str) -> str:
    """``resume_from_checkpoint``, checked: one clear error when the file is missing or does not load."""
    if not os.path.isfile(path):
        raise ConfigError(f"resume_from_checkpoint: {path!r} is not a file")
    problem = checkpoint_problem(path)
    if problem is not None:
        raise ConfigError(
            f"resume_from_checkpoint: {path!r} does not load ({problem}); "
            "pick an earlier checkpoint of the run, or drop the key to start afresh"
        )
    return path


def report_validation(trainer) -> None:
    """The last validation metrics, one line (rank 0)."""
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val_")}
    if metrics and trainer.is_global_zero:
        print("final validation: " + ", ".join(f"{k}={v:.2f}" for k, v in sorted(metrics.items())))


def exit_interrupted(command: str, trainer, argv, program: str = "") -> None:
    """An interrupted run is no finished run: say so, where its last checkpoint is, how to resume; exit 130."""
    program = program or f"solo-ext {command}"
    checkpointer = next(
        (c for c in getattr(trainer, "callbacks", []) if isinstance(c, RunCheckpointer)), None
    )
    last = getattr(checkpointer, "last_ckpt", None)
    lines = [f"{program}: interrupted before the end of training."]
    if last is not None:
        again = shlex.join(arg for arg in argv if "resume_from_checkpoint=" not in arg)
        lines += [
            f"  last checkpoint: {last}",
            f"  resume with: {program} {again} +resume_from_checkpoint='{last}'",
            "  (or add auto_resume.enabled=true to the same command)",
        ]
    else:
        lines.append(
            "  no checkpoint was written (checkpoints are written at the end of each epoch)."
        )
    print("\n".join(lines), file=sys.stderr)
    sys.exit(130)
