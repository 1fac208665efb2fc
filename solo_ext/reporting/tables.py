"""`solo-ext table`: finished evaluation runs collected into tables, optionally in a paper's layout (pure python).

    solo-ext table RUN_DIR [RUN_DIR ...] [--paper NAME] [--out PREFIX] [--overwrite]

Reads every results file below the RUN_DIRs (``solo_ext.launch.results``: written by `solo-ext linear`, and by
`solo-ext knn --out FILE`), writes PREFIX.md and PREFIX.csv (default PREFIX: ``table``, or the paper table's
name) and prints the Markdown. Without ``--paper``: one row per pretraining run group, one column per evaluation
dataset × evaluation, top-1 in the Markdown (top-1 and top-5 in the CSV). With ``--paper NAME`` (names in
``solo_ext.reporting.paper_tables.PAPER_TABLES``): the paper's rows and columns, each cell ``ours / paper / Δ``.

What is read from a record (its "facts", the keys the paper tables' conditions use):
- ``eval``: ``linear`` | ``finetune`` | ``knn k=K DISTANCE`` (`` T=…`` added for cosine). A knn file gives one
  entry per setting in its ``all`` list (else its ``metrics`` with ``settings``); the MAGMA tables take
  ``knn k=10 euclidean`` only.
- ``dataset`` / ``pretrain_dataset``: solo-learn's name for the evaluation data / the pretraining data
  (``pretrain.data``); ``custom`` is resolved from its train (then val) path, case-insensitive:
  ``tiny-imagenet``/``tiny_imagenet``/``tinyimagenet`` → tiny-imagenet, ``cub`` as a word (``CUB_200_2011``,
  ``cub200``) → cub200, ``digits`` → digits; anything else stays ``custom:<train_path>`` and fills no paper
  cell. ``train_subset``: ``train_10pct``-style folder names (`solo-ext data tiny-imagenet --fraction`), else
  None; paper cells require None (all labels).
- from the pretraining args.json (``pretrain``): ``method``, ``backbone`` (name), ``patch_size``,
  ``max_epochs``, ``mask_ratio``, ``norm_pix_loss``; ``magma_weight`` (λ) and ``uniformity_weight``, plus
  ``magma_start_epoch``, ``magma_duration``, ``magma_reference_layers``, ``magma_target_layer``,
  ``magma_rbf_scale`` only when λ ≠ 0 (they change nothing at λ = 0); ``smae_alpha``, ``smae_masking`` and
  ``smae_pixel_loss`` (not at α = 1, where the pixel term has weight 0); ``colormae_color``,
  ``colormae_num_patterns``, ``colormae_mode``, ``colormae_patterns``, ``colormae_schedule``; ``vicmae_loss``,
  ``vicmae_projector``, ``vicmae_temperature``, ``vicmae_rec_weight``, ``vicmae_con_weight``,
  ``vicmae_con_start_epoch``. solo-ext writes every default into args.json (``add_and_assert_specific_cfg``),
  so a key missing there is unknown and meets no condition. These facts minus the evaluation ones form the
  run group (the "signature"); the seed is not part of it.

Matching rules:
- Rows are identified by ``method`` (``m_mae`` is M-MAE, ``u_mae`` U-MAE, ...) and the paper's settings for
  that cell, listed as data in paper_tables.py: e.g. Table 4's "M-MAE λ=0.1" is ``m_mae``, ViT-B, mask 0.75,
  λ = 0.1, e_st = 10, e_dur = 100, layers [10] → -1, rbf_scale 1, uniformity 0, pretrained and linear-probed on
  ImageNet-100. Table 1 also fixes the backbone (ViT-B for the MAE family on ImageNet-100, else ViT-Tiny) and
  e_st (60 for the MAE family on CIFAR-100, else 10), so sweeps in the same folder do not leak into it.
  SMAE tables: the paper's MAE is ``mae`` or ``smae`` with α = 0 and ``pixel_loss: masked`` (α = 0 with
  ``pixel_loss: all`` is a different loss); ViT-Lite, raw pixels, Tiny-ImageNet pretraining. ColorMAE tables:
  a bank generated from ``color: green`` (not a ``patterns`` file, whose colour args.json does not record), no
  schedule. ViC-MAE: one row per preset (code: nt_xent + code projector; paper: clip + paper projector).
- Numbers compare with a tolerance (0.1 equals 0.10); lists compare element-wise.
- A cell averages over seeds (``pretrain.seed``): mean, and the sample standard deviation (n − 1) when n > 1.
  Several records for the same seed and cell (a rerun): the newest ``written`` is kept, the others are
  listed under the table.
- If records of more than one run group meet a cell's conditions (e.g. 400- and 800-epoch runs), the group
  with the most seeds fills it (ties: the newest ``written``); the other group's files are listed as
  "not in this table" with that reason. Never averaged together.
- A cell without a record says ``missing``; the paper's reference rows that solo-ext does not produce
  (supervised, DINO, MAE+SimSiam, MAE+VICReg) are marked "(paper only)". Files none of whose entries fill a
  cell are listed after the table ("not in this table"), with their settings.
"""

import argparse
import csv
import io
import json
import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from solo_ext.config.specs import method_order
from solo_ext.launch.results import find_results
from solo_ext.reporting.paper_tables import PAPER_TABLES, Cell, PaperTable

__all__ = [
    "CSV_FIELDS",
    "Entry",
    "Report",
    "build_parser",
    "build_report",
    "dataset_key",
    "load_entries",
    "main",
    "pretrain_facts",
    "render_csv",
    "render_markdown",
]

CSV_FIELDS = (
    "table",
    "row",
    "column",
    "metric",
    "ours_mean",
    "ours_std",
    "n",
    "paper",
    "diff",
    "status",
    "runs",
    "settings",
)

# custom ImageFolders recognised from their path, first match wins
_CUSTOM_DATASETS = (
    ("tiny-imagenet", re.compile(r"tiny[-_]?imagenet")),
    ("cub200", re.compile(r"(?<![a-z])cub(?![a-z])")),
    ("digits", re.compile(r"digits")),
)
_TRAIN_SUBSET = re.compile(r"train_\d+pct")
DATASET_LABELS = {
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "stl10": "STL-10",
    "tiny-imagenet": "Tiny-ImageNet",
    "cub200": "CUB-200",
    "imagenet100": "ImageNet-100",
    "imagenet": "ImageNet",
    "digits": "digits",
}
# pretraining facts always shown in a generic row label; the others only where they tell groups apart
_HEAD_FACTS = ("method", "backbone", "patch_size", "pretrain_dataset", "max_epochs")
_SHORT_NAMES = {
    "mask_ratio": "mask",
    "magma_weight": "λ",
    "magma_start_epoch": "e_st",
    "magma_duration": "e_dur",
    "magma_reference_layers": "ref",
    "magma_target_layer": "target",
    "magma_rbf_scale": "rbf",
    "uniformity_weight": "unif",
    "smae_alpha": "α",
    "smae_masking": "masking",
    "smae_pixel_loss": "pixel_loss",
    "colormae_color": "color",
    "colormae_num_patterns": "patterns",
    "colormae_mode": "mode",
    "colormae_patterns": "bank",
    "colormae_schedule": "schedule",
}
_MISSING = object()


def dataset_key(name: Optional[str], *paths: Optional[str]) -> str:
    """solo-learn's dataset name; for ``custom`` the dataset its path names (see the module docstring)."""
    if name != "custom":
        return str(name) if name else "unknown"
    for path in paths:
        for key, pattern in _CUSTOM_DATASETS:
            if path and pattern.search(str(path).lower()):
                return key
    return f"custom:{paths[0] if paths else None}"


def _dataset_label(key: str) -> str:
    return DATASET_LABELS.get(key, key)


def _freeze(value: Any) -> Any:
    """Hashable form of a json value (lists → tuples, dicts → sorted item tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def pretrain_facts(pretrain: Optional[dict]) -> Dict[str, Any]:
    """The pretraining settings that tell runs apart, read from the pretraining args.json (empty if unknown)."""
    if not isinstance(pretrain, dict):
        return {}
    kwargs = pretrain.get("method_kwargs") or {}
    backbone = pretrain.get("backbone") or {}
    data = pretrain.get("data") or {}
    facts = {
        "method": pretrain.get("method"),
        "backbone": backbone.get("name"),
        "patch_size": (backbone.get("kwargs") or {}).get("patch_size"),
        "pretrain_dataset": dataset_key(
            data.get("dataset"), data.get("train_path"), data.get("val_path")
        ),
        "max_epochs": pretrain.get("max_epochs"),
    }
    for key in ("mask_ratio", "norm_pix_loss"):
        if key in kwargs:
            facts[key] = kwargs[key]
    sections = {name: kwargs.get(name) for name in ("magma", "smae", "colormae", "vicmae")}
    magma = sections["magma"]
    if isinstance(magma, dict):
        facts["magma_weight"] = magma.get("weight")
        if not (_is_number(magma.get("weight")) and magma["weight"] == 0):
            for key in ("start_epoch", "duration", "reference_layers", "target_layer", "rbf_scale"):
                facts[f"magma_{key}"] = magma.get(key)
        facts["uniformity_weight"] = kwargs.get("uniformity_weight")
    smae = sections["smae"]
    if isinstance(smae, dict):
        facts.update(smae_alpha=smae.get("alpha"), smae_masking=smae.get("masking"))
        if not (_is_number(smae.get("alpha")) and smae["alpha"] == 1):
            facts["smae_pixel_loss"] = smae.get("pixel_loss")
    for section, keys in (
        ("colormae", ("color", "num_patterns", "mode", "patterns", "schedule")),
        (
            "vicmae",
            ("loss", "projector", "temperature", "rec_weight", "con_weight", "con_start_epoch"),
        ),
    ):
        if isinstance(sections[section], dict):
            facts.update({f"{section}_{key}": sections[section].get(key) for key in keys})
    return {key: _freeze(value) for key, value in facts.items()}


def _single(value: Any) -> Any:
    """A setting stored as a value or a one-element list (argparse nargs); None when it is not one value."""
    if isinstance(value, (list, tuple)):
        return value[0] if len(value) == 1 else None
    return value


def _knn_label(k: Any, distance: Any, temperature: Any) -> str:
    label = f"knn k={k if k is not None else '?'} {distance or '?'}"
    if distance == "cosine" and temperature is not None:
        label += f" T={temperature:g}" if _is_number(temperature) else f" T={temperature}"
    return label


def _evaluations(record: dict) -> List[Tuple[str, Dict[str, float]]]:
    """(eval label, metrics) for each evaluation a record holds: one, or one per kNN setting."""
    metrics = {k: float(v) for k, v in (record.get("metrics") or {}).items() if _is_number(v)}
    if record["task"] != "knn":
        return [(record["task"], metrics)]
    settings = record.get("settings") or {}
    entries = [e for e in record.get("all") or () if isinstance(e, dict)]
    if not entries:
        entries = [
            {
                "k": _single(settings.get("k")),
                "distance": _single(settings.get("distance", settings.get("distance_function"))),
                "T": _single(settings.get("T", settings.get("temperature"))),
                **metrics,
            }
        ]
    return [
        (
            _knn_label(
                e.get("k"),
                e.get("distance", e.get("distance_function")),
                e.get("T", e.get("temperature")),
            ),
            {m: float(e[m]) for m in ("acc1", "acc5") if _is_number(e.get(m))},
        )
        for e in entries
    ]


@dataclass
class Entry:
    """One evaluation of one results file, with the facts the tables match on."""

    path: Path
    eval: str
    metrics: Dict[str, float]
    facts: Dict[str, Any]
    signature: Tuple[Tuple[str, Any], ...]  # the run group: pretraining facts (seed excluded)
    seed: Any
    written: str
    name: str


def load_entries(run_dirs: Sequence[str]) -> List[Entry]:
    """Every evaluation below the RUN_DIRs (each file once, even if two RUN_DIRs overlap)."""
    missing = [str(d) for d in run_dirs if not Path(d).exists()]
    if missing:
        raise FileNotFoundError(f"RUN_DIR: {', '.join(missing)} does not exist")
    entries, seen = [], set()
    for run_dir in run_dirs:
        for path, record in find_results(run_dir):
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            pretrain = record.get("pretrain")
            facts = pretrain_facts(pretrain)
            signature = tuple(facts.items()) or (
                ("pretrained_checkpoint", record.get("pretrained_checkpoint")),
            )
            train_path = record.get("train_path")
            subset = (
                Path(train_path).name
                if train_path and _TRAIN_SUBSET.fullmatch(Path(train_path).name)
                else None
            )
            common = {
                "task": record["task"],
                "dataset": dataset_key(record.get("dataset"), train_path, record.get("val_path")),
                "train_subset": subset,
            }
            for label, metrics in _evaluations(record):
                entries.append(
                    Entry(
                        path=path,
                        eval=label,
                        metrics=metrics,
                        facts={**facts, **common, "eval": label},
                        signature=signature,
                        seed=pretrain.get("seed") if isinstance(pretrain, dict) else None,
                        written=str(record.get("written") or ""),
                        name=str(pretrain.get("name"))
                        if isinstance(pretrain, dict) and pretrain.get("name")
                        else "",
                    )
                )
    if not entries:
        raise ValueError(
            f"RUN_DIR: no solo-ext results files below {', '.join(map(str, run_dirs))} "
            "(they are written by `solo-ext linear` and by `solo-ext knn --out FILE`)"
        )
    return entries


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if _is_number(actual) and _is_number(expected):
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(actual, tuple) and isinstance(expected, tuple):
        return len(actual) == len(expected) and all(_same(a, e) for a, e in zip(actual, expected))
    return actual == expected


def _meets(facts: Dict[str, Any], condition: Dict[str, Any]) -> bool:
    return all(_same(facts.get(key, _MISSING), expected) for key, expected in condition.items())


def _fmt(value: Any) -> str:
    if _is_number(value):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return "null" if value is None else str(value)


def _describe(signature: Tuple[Tuple[str, Any], ...], keys: Optional[Iterable[str]] = None) -> str:
    """Readable run group: method, backbone/patch, pretraining data, epochs, then ``keys`` (all if None)."""
    facts = dict(signature)
    if "method" not in facts:
        return f"unknown pretraining ({_fmt(facts.get('pretrained_checkpoint'))})"
    head = f"{facts['method']} {_fmt(facts['backbone'])}"
    if facts.get("patch_size") is not None:
        head += f"/{_fmt(facts['patch_size'])}"
    head += f" on {_dataset_label(facts['pretrain_dataset'])}"
    if facts.get("max_epochs") is not None:
        head += f", {_fmt(facts['max_epochs'])} ep"
    shown = [k for k in facts if k not in _HEAD_FACTS and (keys is None or k in keys)]
    return ", ".join([head] + [f"{_SHORT_NAMES.get(k, k)}={_fmt(facts[k])}" for k in shown])


@dataclass
class CellValues:
    """The records that fill one cell: one per seed, the newest; and the older ones they replace."""

    kept: List[Entry]
    superseded: List[Tuple[Entry, Entry]]  # (ignored older record, kept record of the same seed)

    def stats(self, metric: str) -> Tuple[Optional[float], Optional[float], int, List[Entry]]:
        used = [e for e in self.kept if metric in e.metrics]
        values = [e.metrics[metric] for e in used]
        if not values:
            return None, None, 0, []
        return (
            statistics.fmean(values),
            (statistics.stdev(values) if len(values) > 1 else None),
            len(values),
            used,
        )


def _newest_per_seed(entries: List[Entry]) -> CellValues:
    by_seed: Dict[Any, List[Entry]] = defaultdict(list)
    for entry in entries:
        by_seed[entry.seed].append(entry)
    kept, superseded = [], []
    for seed in sorted(by_seed, key=str):
        ordered = sorted(by_seed[seed], key=lambda e: (e.written, str(e.path)))
        kept.append(ordered[-1])
        superseded += [(old, ordered[-1]) for old in ordered[:-1]]
    return CellValues(kept, superseded)


def _choose_group(entries: List[Entry]) -> Tuple[List[Entry], List[Entry]]:
    """(records of the run group filling a cell, records of the other groups that met its conditions)."""
    groups: Dict[tuple, List[Entry]] = defaultdict(list)
    for entry in entries:
        groups[entry.signature].append(entry)
    best = max(
        groups,
        key=lambda sig: (len({e.seed for e in groups[sig]}), max(e.written for e in groups[sig])),
    )
    return groups[best], [e for sig, members in groups.items() if sig != best for e in members]


@dataclass
class Report:
    """A table ready to render: Markdown header/body, CSV rows, and the notes printed below the table."""

    heading: List[str]
    header: List[str]
    body: List[List[str]] = field(default_factory=list)
    csv_rows: List[Dict[str, Any]] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def _number(value: Optional[float]) -> Any:
    return "" if value is None else round(value, 4)


def _ours_text(mean: float, std: Optional[float], n: int) -> str:
    return f"{mean:.2f}" if n == 1 else f"{mean:.2f} ± {std:.2f} (n={n})"


def _csv_row(
    table, row, column, metric, mean, std, n, paper: Optional[str], status, used, signature
) -> Dict[str, Any]:
    diff = mean - float(paper) if mean is not None and paper is not None else None
    return {
        "table": table,
        "row": row,
        "column": column,
        "metric": metric,
        "ours_mean": _number(mean),
        "ours_std": _number(std),
        "n": n,
        "paper": "" if paper is None else paper,
        "diff": _number(diff),
        "status": status,
        "runs": ";".join(str(e.path) for e in used),
        "settings": json.dumps(dict(signature), ensure_ascii=False) if signature else "",
    }


@dataclass
class _FilledCell:
    """What fills one paper cell: status ok | missing | paper-only, the statistics, and the records involved."""

    status: str
    mean: Optional[float] = None
    std: Optional[float] = None
    n: int = 0
    kept: List[Entry] = field(default_factory=list)
    chosen: List[Entry] = field(
        default_factory=list
    )  # the run group's records (kept and superseded)
    others: List[Entry] = field(
        default_factory=list
    )  # records of other groups that met the conditions
    superseded: List[Tuple[Entry, Entry]] = field(default_factory=list)


def _fill(cell: Cell, metric: str, entries: List[Entry]) -> _FilledCell:
    if not cell.match:
        return _FilledCell("paper-only")
    matched = [e for e in entries if any(_meets(e.facts, condition) for condition in cell.match)]
    if not matched:
        return _FilledCell("missing")
    chosen, others = _choose_group(matched)
    values = _newest_per_seed(chosen)
    mean, std, n, kept = values.stats(
        metric
    )  # mean None: the group's records lack this metric (e.g. top-5)
    return _FilledCell(
        "ok" if mean is not None else "missing",
        mean,
        std,
        n,
        kept,
        chosen,
        others,
        values.superseded,
    )


def _paper_report(table: PaperTable, entries: List[Entry]) -> Report:
    report = Report(
        [
            f"# {table.name}: {table.title}",
            "",
            f"Paper numbers: {table.source}. Ours: {table.protocol}.",
            "Cell: ours (mean ± std over seeds, n seeds) / paper / Δ = ours − paper; `missing`: no run of ours.",
        ],
        ["method / setting"] + [column.label for column in table.columns],
    )
    used, superseded, rejected = set(), {}, {}
    for row in table.rows:
        cells_text = []
        for column in table.columns:
            cell = table.cells[(row, column.label)]
            filled = _fill(cell, column.metric, entries)
            signature = filled.chosen[0].signature if filled.chosen else ()
            used.update(id(e) for e in filled.chosen)
            for other in filled.others:
                rejected.setdefault(
                    id(other),
                    f"cell {row} / {column.label} is filled by another run group with more "
                    f"seeds or newer records ({_describe(signature)})",
                )
            for old, new in filled.superseded:
                superseded[(str(old.path), old.eval)] = (old, new, row, column.label)

            ours, diff = ("missing" if filled.status == "missing" else "–"), "–"
            if filled.status == "ok":
                ours = _ours_text(filled.mean, filled.std, filled.n)
                diff = f"{filled.mean - float(cell.paper):+.2f}" if cell.paper is not None else "–"
            cells_text.append(f"{ours} / {cell.paper if cell.paper is not None else '–'} / {diff}")
            report.csv_rows.append(
                _csv_row(
                    table.name,
                    row,
                    column.label,
                    column.metric,
                    filled.mean,
                    filled.std,
                    filled.n,
                    cell.paper,
                    filled.status,
                    filled.kept,
                    signature,
                )
            )
        report.body.append([row] + cells_text)
    _add_superseded_notes(report, superseded.values())
    _add_unused_notes(report, entries, used, rejected)
    return report


def _add_superseded_notes(report: Report, superseded) -> None:
    if not superseded:
        return
    report.notes += ["", "Same seed and cell more than once: the newest `written` is kept."]
    for old, new, row, column in sorted(superseded, key=lambda s: (str(s[0].path), s[0].eval)):
        report.notes.append(
            f"- {row} / {column}, seed {_fmt(old.seed)}: kept `{new.path}` (written {new.written}), "
            f"ignored `{old.path}` (written {old.written})"
        )


def _add_unused_notes(
    report: Report, entries: List[Entry], used: set, rejected: Dict[int, str]
) -> None:
    """Lists the files none of whose evaluations fill a cell, each once, with settings and the reason."""
    by_file: Dict[str, List[Entry]] = defaultdict(list)
    for entry in entries:
        by_file[str(entry.path)].append(entry)
    unused = {
        path: group for path, group in by_file.items() if not any(id(e) in used for e in group)
    }
    if not unused:
        return
    report.notes += [
        "",
        f"Not in this table ({len(unused)} results file{'s' if len(unused) != 1 else ''}):",
    ]
    for path, group in sorted(unused.items()):
        first = group[0]
        evaluations = ", ".join(e.eval for e in group)
        reason = next(
            (rejected[id(e)] for e in group if id(e) in rejected),
            "no cell of this table matches its settings",
        )
        name = f"{first.name}, " if first.name else ""
        seed = f", seed {_fmt(first.seed)}" if first.seed is not None else ""
        report.notes.append(
            f"- `{path}`: {name}{_describe(first.signature)}{seed}; {evaluations} on "
            f"{_dataset_label(first.facts['dataset'])}: {reason}"
        )


def _generic_report(entries: List[Entry]) -> Report:
    """One row per run group, one column per evaluation dataset × evaluation; top-1 shown, top-5 in the CSV."""
    groups: Dict[tuple, List[Entry]] = defaultdict(list)
    for entry in entries:
        groups[entry.signature].append(entry)

    def column_key(entry: Entry):
        return entry.facts["dataset"], entry.facts["train_subset"] or "", entry.eval

    dataset_order = list(DATASET_LABELS)
    eval_order = ("linear", "finetune")
    columns = sorted(
        {column_key(e) for e in entries},
        key=lambda c: (
            dataset_order.index(c[0]) if c[0] in dataset_order else len(dataset_order),
            c[0],
            c[1],
            eval_order.index(c[2]) if c[2] in eval_order else len(eval_order),
            c[2],
        ),
    )
    labels = {
        c: " ".join(part for part in (_dataset_label(c[0]), c[1], c[2]) if part) for c in columns
    }

    # show, beyond the head, the settings that differ between groups of the same method
    by_method: Dict[Any, List[dict]] = defaultdict(list)
    for signature in groups:
        by_method[dict(signature).get("method")].append(dict(signature))
    row_labels = {}
    for signature in groups:
        siblings = by_method[dict(signature).get("method")]
        varying = {
            k for s in siblings for k in s if len({repr(t.get(k, _MISSING)) for t in siblings}) > 1
        }
        row_labels[signature] = _describe(signature, varying)
    methods = method_order()  # the specs as they are now
    order = sorted(
        groups,
        key=lambda sig: (
            methods.index(dict(sig).get("method"))
            if dict(sig).get("method") in methods
            else len(methods),
            row_labels[sig],
        ),
    )

    report = Report(
        [
            "# Results: top-1 (%) by pretraining run group and evaluation",
            "",
            "Cell: mean ± std over seeds (n seeds); top-5 in the CSV; `–`: not evaluated.",
        ],
        ["pretraining run group"] + [labels[c] for c in columns],
    )
    superseded = []
    for signature in order:
        cells_text = []
        for column in columns:
            matched = [e for e in groups[signature] if column_key(e) == column]
            if not matched:
                cells_text.append("–")
                continue
            values = _newest_per_seed(matched)
            superseded += [
                (old, new, row_labels[signature], labels[column]) for old, new in values.superseded
            ]
            for metric in ("acc1", "acc5"):
                mean, std, n, kept = values.stats(metric)
                if mean is not None:
                    report.csv_rows.append(
                        _csv_row(
                            "generic",
                            row_labels[signature],
                            labels[column],
                            metric,
                            mean,
                            std,
                            n,
                            None,
                            "ok",
                            kept,
                            signature,
                        )
                    )
                if metric == "acc1":
                    cells_text.append("–" if mean is None else _ours_text(mean, std, n))
        report.body.append([row_labels[signature]] + cells_text)
    _add_superseded_notes(report, superseded)
    return report


def build_report(run_dirs: Sequence[str], paper: Optional[str] = None) -> Report:
    """The table of the results below ``run_dirs``, generic or in the layout of paper table ``paper``."""
    if paper is not None and paper not in PAPER_TABLES:
        raise ValueError(f"--paper: {paper!r} is unknown; allowed: {', '.join(PAPER_TABLES)}")
    entries = load_entries(run_dirs)
    return _paper_report(PAPER_TABLES[paper], entries) if paper else _generic_report(entries)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: Report) -> str:
    lines = list(report.heading) + [""]
    lines.append("| " + " | ".join(map(_markdown_cell, report.header)) + " |")
    lines.append("|" + "---|" * len(report.header))
    lines += ["| " + " | ".join(map(_markdown_cell, row)) + " |" for row in report.body]
    return "\n".join(lines + report.notes) + "\n"


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(report.csv_rows)
    return buffer.getvalue()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="solo-ext table",
        description="Collect finished evaluations (results files) into a table; with --paper, "
        "beside the paper's numbers.",
    )
    parser.add_argument(
        "run_dirs",
        nargs="+",
        metavar="RUN_DIR",
        help="folders searched recursively for results files",
    )
    parser.add_argument(
        "--paper",
        metavar="NAME",
        help=f"lay the cells out as a paper table: {', '.join(PAPER_TABLES)}",
    )
    parser.add_argument(
        "--out",
        metavar="PREFIX",
        help="writes PREFIX.md and PREFIX.csv (default: table, or the paper name)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing PREFIX.md / PREFIX.csv"
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> Tuple[Path, Path]:
    """`solo-ext table`: writes PREFIX.md and PREFIX.csv, prints the Markdown, returns the two paths."""
    args = build_parser().parse_args(argv)
    report = build_report(args.run_dirs, args.paper)
    prefix = Path(args.out or args.paper or "table")
    targets = (prefix.with_name(prefix.name + ".md"), prefix.with_name(prefix.name + ".csv"))
    for target in targets:
        if target.exists() and not args.overwrite:
            raise FileExistsError(f"--out: {target} exists; pass --overwrite to replace it")
    markdown = render_markdown(report)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    targets[0].write_text(markdown)
    targets[1].write_text(render_csv(report))
    print(markdown, end="")
    return targets
