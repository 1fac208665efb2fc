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
import math
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

__all__ = [
    "MARK",
    "RESULTS_NAME",
    "SCHEMA_VERSION",
    "TASKS",
    "find_results",
    "read_results",
    "write_results",
]

SCHEMA_VERSION = 1
MARK = "solo_ext_results"
RESULTS_NAME = "results.json"  # what `solo-ext linear` writes into its run folder
TASKS = ("linear", "finetune", "knn")


def write_results(
    path,
    task: str,
    metrics: Dict[str, float],
    *,
    dataset: str,
    train_path: Optional[str],
    val_path: Optional[str],
    pretrained_checkpoint: str,
    pretrain: Optional[dict],
    settings: Optional[dict] = None,
    extra: Optional[dict] = None,
    overwrite: bool = False,
) -> Path:
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


def _damaged(path: Path, what: str) -> ValueError:
    return ValueError(
        f"{path}: damaged solo-ext results file ({what}); rerun the evaluation that wrote it, "
        "or move the file out of the RUN_DIR to leave it out"
    )


def _is_accuracy(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_results(path) -> Optional[dict]:
    """The record in ``path``, or None if it is no solo-ext results file (args.json and other JSON files).

    A results file that does not read back whole (truncated, not JSON, an unknown schema or task, top-1 that
    is not a number) raises ValueError naming it: leaving it out would change a mean ± std without a word.
    A file is taken for a results file when it is named ``results.json`` or holds the ``solo_ext_results`` mark.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        if path.name == RESULTS_NAME:
            raise _damaged(path, f"cannot be read: {err.strerror or err}") from None
        return None
    marked = path.name == RESULTS_NAME or MARK.encode() in data
    try:
        record = json.loads(data)
    except ValueError as err:
        if marked:
            raise _damaged(path, f"not JSON: {err}") from None
        return None
    if not isinstance(record, dict) or MARK not in record:
        if path.name == RESULTS_NAME:
            raise _damaged(path, f"no {MARK!r} mark")
        return None
    if record[MARK] != SCHEMA_VERSION:
        raise _damaged(
            path, f"schema {record[MARK]!r}; this solo-ext reads schema {SCHEMA_VERSION}"
        )
    if record.get("task") not in TASKS:
        raise _damaged(path, f"task {record.get('task')!r}; allowed: {list(TASKS)}")
    metrics = record.get("metrics")
    if not isinstance(metrics, dict) or not _is_accuracy(metrics.get("acc1")):
        raise _damaged(path, f"metrics {metrics!r} hold no acc1 number")
    for i, entry in enumerate(record.get("all") or ()):
        if not isinstance(entry, dict) or not _is_accuracy(entry.get("acc1")):
            raise _damaged(path, f"all[{i}] {entry!r} holds no acc1 number")
    return record


def find_results(root) -> Iterator[tuple]:
    """(path, record) of every results file below ``root`` (or ``root`` itself), in path order; a damaged
    results file raises ValueError naming it (``read_results``)."""
    root = Path(root)
    candidates = [root] if root.is_file() else sorted(root.rglob("*.json"))
    for path in candidates:
        record = read_results(path)
        if record is not None:
            yield path, record
