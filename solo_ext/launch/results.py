"""The results file every solo-ext evaluation writes, and its reader (pure python).

`solo-ext linear` writes ``results.json`` into its run folder (beside the args.json solo-learn's Checkpointer
writes there); `solo-ext knn --out FILE` writes FILE. `solo-ext table` collects them. One schema for all::

    {
      "solo_ext_results": 1,
      "task": "linear" | "finetune" | "knn",
      "metrics": {"acc1": 43.3, "acc5": 70.1},          # top-1/top-5 in %, the final validation epoch
      "dataset": "cifar100",                              # the evaluation data (solo-learn's name; or "custom")
      "train_path": "...", "val_path": "...",
      "pretrained_checkpoint": ".../last.ckpt",
      "pretrain": {...},                                  # the pretraining run's args.json (method, seed, ...), or null
      "settings": {...},                                  # task settings: epochs/optimizer, or k/distance/T
      "written": "2026-11-23T10:00:00"
    }

A knn file also holds ``"all"``: one {k, distance, T, acc1, acc5} entry per evaluated setting; its
``metrics`` are the first setting's.
"""

import datetime
import json
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

__all__ = ["SCHEMA_VERSION", "TASKS", "find_results", "read_results", "write_results"]

SCHEMA_VERSION = 1
TASKS = ("linear", "finetune", "knn")


def write_results(path, task: str, metrics: Dict[str, float], *, dataset: str, train_path: Optional[str],
                  val_path: Optional[str], pretrained_checkpoint: str, pretrain: Optional[dict],
                  settings: Optional[dict] = None, extra: Optional[dict] = None, overwrite: bool = False) -> Path:
    """Writes one results file; refuses to replace an existing one unless ``overwrite``."""
    if task not in TASKS:
        raise ValueError(f"task: {task!r} is unknown; allowed: {list(TASKS)}")
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; remove it or pass --overwrite to replace it")
    record: Dict[str, Any] = {
        "solo_ext_results": SCHEMA_VERSION,
        "task": task,
        "metrics": {name: float(value) for name, value in metrics.items()},
        "dataset": dataset,
        "train_path": None if train_path is None else str(train_path),
        "val_path": None if val_path is None else str(val_path),
        "pretrained_checkpoint": str(pretrained_checkpoint),
        "pretrain": pretrain,
        "settings": settings or {},
        "written": datetime.datetime.now().isoformat(timespec="seconds"),
        **(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def read_results(path) -> Optional[dict]:
    """The record in ``path``, or None if it is not a solo-ext results file."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("solo_ext_results") != SCHEMA_VERSION or record.get("task") not in TASKS:
        return None
    return record


def find_results(root) -> Iterator[tuple]:
    """(path, record) of every results file below ``root`` (or ``root`` itself), in path order."""
    root = Path(root)
    candidates = [root] if root.is_file() else sorted(root.rglob("*.json"))
    for path in candidates:
        record = read_results(path)
        if record is not None:
            yield path, record
