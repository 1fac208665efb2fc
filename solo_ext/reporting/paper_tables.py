"""The papers' result tables and the experiments behind them, declared once (pure python).

Each table's rows are written once, below, and give both what `solo-ext table --paper NAME` matches results
against and the runs `solo-ext sweep NAME` makes (``EXPERIMENTS``; `bash_scripts/` call it): the zoo preset, the
Hydra overrides that turn it into the row's setting, and the run's folder.

Each table is a grid of rows × columns; every cell holds the paper's number exactly as printed in the paper
cited beside each table and the conditions a results record must meet
to fill it. A condition is a ``{fact: value}`` mapping over the facts ``solo_ext.reporting.tables`` reads from a
record (its docstring lists them); a cell lists alternatives, and a record fills the cell when it meets every
key of one of them. Rows without conditions are the paper's reference rows that solo-ext does not produce
(supervised, DINO, MAE+SimSiam, ...): shown with the paper's number only.
"""

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from solo_ext.config.method_kwargs import MagmaSettings
from solo_ext.config.specs import HOSTS, SPECS, mae_family, method_order
from solo_ext.masking.choices import COLORS

__all__ = [
    "Cell",
    "Column",
    "EXPERIMENTS",
    "Experiment",
    "KNN_MAGMA",
    "MAE_FAMILY",
    "PAPER_TABLES",
    "PaperTable",
    "Run",
    "RunFlag",
]

# the kNN setting of the MAGMA tables (MAGMA, arXiv:2412.02871, evaluation protocol: k = 10, Euclidean)
KNN_MAGMA = "knn k=10 euclidean"
MAE_FAMILY = mae_family()


@dataclass(frozen=True)
class Column:
    """One column: its header and the metric of the results record it shows (acc1 or acc5)."""

    label: str
    metric: str = "acc1"


@dataclass(frozen=True)
class Cell:
    """The paper's number (text as printed; None where the paper has none) and the conditions to fill it."""

    paper: Optional[str]
    match: Tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class PaperTable:
    name: str
    title: str
    source: str  # the paper and table the numbers come from
    protocol: str  # how ours were obtained, printed under the title
    columns: Tuple[Column, ...]
    rows: Tuple[str, ...]
    cells: Dict[Tuple[str, str], Cell] = field(default_factory=dict)  # (row, column label) -> cell

    def paper_only(self, row: str) -> bool:
        return all(not self.cells[(row, column.label)].match for column in self.columns)


@dataclass(frozen=True)
class Run:
    """One pretraining run: zoo_configs/pretrain/<dataset>/<config>.yaml with ``overrides`` (what makes it the
    row's setting), written to OUT/<dataset>/<folder>/seed<S>/."""

    config: str
    tag: str = ""  # tells the runs of one preset apart: folder <config>-<tag>
    overrides: Tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        return f"{self.config}-{self.tag}" if self.tag else self.config

    def name(self, dataset: str, seed: str) -> str:
        """The run's ``name`` override (logger and checkpoint file names)."""
        return "-".join(part for part in (self.config, dataset, self.tag, f"seed{seed}") if part)


@dataclass(frozen=True)
class RunFlag:
    """A `solo-ext sweep` flag whose space-separated values replace an experiment's runs, one run each."""

    flag: str
    help: str
    default: Tuple[str, ...]
    make_run: Callable[[str], Run]


@dataclass(frozen=True)
class Experiment:
    """What `solo-ext sweep NAME` runs for one dataset and each seed: every run pretrained, then linear-probed
    with zoo_configs/linear/<dataset>/<probe>.yaml (folder linear/) and kNN-evaluated (k=10, Euclidean, on
    the probe's data: knn.json). With ``finetune_on``: no pretraining; the finished runs are fine-tuned with
    the probe config of each of those datasets (folder finetune/ on the pretraining dataset, else
    finetune-<dataset>/)."""

    name: str
    doc: str
    runs: Tuple[Run, ...]
    probe: str = "linear"
    table: Optional[str] = None  # the paper table its results fill (some runs' may fill none)
    finetune_on: Tuple[str, ...] = ()
    run_flag: Optional[RunFlag] = None


def _table(name, title, source, protocol, columns, rows: Dict[str, Tuple[Cell, ...]]) -> PaperTable:
    cells = {
        (row, column.label): cell
        for row, row_cells in rows.items()
        for column, cell in zip(columns, row_cells, strict=True)
    }
    return PaperTable(name, title, source, protocol, tuple(columns), tuple(rows), cells)


def _paper_only(*numbers: str) -> Tuple[Cell, ...]:
    return tuple(Cell(number) for number in numbers)


# ---------------------------------------------------------------- MAGMA (arXiv:2412.02871)


def _magma_rows() -> Tuple[Tuple[str, str, Optional[float], Optional[float]], ...]:
    """(row label, method, MAGMA weight λ, uniformity weight) of the MAGMA tables: the methods with a MAGMA
    section and the solo-learn methods they extend, in the specs' order; λ and the uniformity weight are each
    method's defaults (the paper's settings), None where the method has no MAGMA section."""
    magma = {name for name, spec in SPECS.items() if spec.section is MagmaSettings}
    hosts = {SPECS[name].host for name in magma}
    rows = []
    for method in method_order():
        if method in magma:
            defaults = SPECS[method].settings_defaults()
            rows.append((SPECS[method].title, method, defaults.weight, defaults.uniformity_weight))
        elif method in hosts:
            rows.append((HOSTS[method][0], method, None, None))
    return tuple(rows)


_MAGMA_ROWS = _magma_rows()
# Table 1's backbone of the MAE family on ImageNet-100 (ViT-Tiny everywhere else): Table 5's ViT-B column
_MAGMA_MAE_IMAGENET100_BACKBONE = "vit_base"


def _preset(method: str) -> str:
    """The zoo preset of a MAGMA-table method at the paper's settings: its spec's preset; for a solo-learn
    method, the baseline preset of the solo-ext methods compared with it."""
    if method in SPECS:
        return SPECS[method].presets[0].stem
    return next(spec.baseline_preset for spec in SPECS.values() if spec.baseline == method)


_MAGMA_DATASETS = (
    ("CIFAR-100", "cifar100"),
    ("STL-10", "stl10"),
    ("Tiny-ImageNet", "tiny-imagenet"),
    ("ImageNet-100", "imagenet100"),
)


def _magma_run(
    method: str,
    dataset: str,
    weight: Optional[float],
    uniformity: Optional[float],
    backbone: Optional[str] = None,
    start_epoch: Optional[int] = None,
    duration: int = 100,
) -> Dict[str, Any]:
    """Pretraining conditions of a MAGMA-paper run (MAGMA, arXiv:2412.02871, supplement).

    Backbone: ViT-B for the MAE family on ImageNet-100, ViT-Tiny otherwise; e_st: 60 for the MAE family on
    CIFAR-100, 10 otherwise; e_dur 100; layers k=10 → last, rbf_scale 1. Start and duration only count when λ > 0.
    """
    mae_family = method in MAE_FAMILY
    if backbone is None:
        backbone = (
            _MAGMA_MAE_IMAGENET100_BACKBONE
            if mae_family and dataset == "imagenet100"
            else "vit_tiny"
        )
    if start_epoch is None:
        start_epoch = 60 if mae_family and dataset == "cifar100" else 10
    match: Dict[str, Any] = {
        "method": method,
        "backbone": backbone,
        "pretrain_dataset": dataset,
        "dataset": dataset,
        "train_subset": None,
    }
    if mae_family:
        match["mask_ratio"] = 0.75
    if weight is not None:
        match.update(magma_weight=weight, uniformity_weight=uniformity)
        if weight > 0:
            match.update(
                magma_start_epoch=start_epoch,
                magma_duration=duration,
                magma_reference_layers=(10,),
                magma_target_layer=-1,
                magma_rbf_scale=1.0,
            )
    return match


def _magma_table1() -> Tuple[PaperTable, Tuple[Experiment, ...]]:
    # MAGMA (arXiv:2412.02871), Table 1 (linear / kNN top-1 %)
    numbers = {
        "MAE": ("38.2/36.6", "66.5/62.0", "17.8/17.7", "58.0/47.5"),
        "M-MAE": ("43.3/40.7", "71.0/65.9", "20.9/20.5", "69.0/49.8"),
        "U-MAE": ("45.3/45.9", "74.9/72.1", "21.5/19.0", "69.5/56.8"),
        "MU-MAE": ("46.4/46.4", "75.6/73.0", "25.2/23.9", "73.4/60.1"),
        "SimCLR": ("62.8/58.7", "90.4/86.9", "50.9/43.5", "67.8/65.3"),
        "M-SimCLR": ("63.2/59.4", "90.5/86.9", "51.0/44.6", "68.7/65.6"),
        "VICReg": ("63.6/60.8", "87.4/84.5", "45.2/40.5", "68.4/62.1"),
        "M-VICReg": ("64.7/61.9", "87.4/84.5", "45.8/40.5", "70.4/65.1"),
    }
    columns = [
        Column(f"{label} {kind}") for label, _ in _MAGMA_DATASETS for kind in ("linear", "kNN")
    ]
    rows = {}
    for row, method, weight, uniformity in _MAGMA_ROWS:
        cells = []
        for (_, dataset), pair in zip(_MAGMA_DATASETS, numbers[row]):
            linear, knn = pair.split("/")
            run = _magma_run(method, dataset, weight, uniformity)
            cells += [
                Cell(linear, ({**run, "eval": "linear"},)),
                Cell(knn, ({**run, "eval": KNN_MAGMA},)),
            ]
        rows[row] = tuple(cells)
    table = _table(
        "magma-table1",
        "MAGMA Table 1: linear / kNN top-1 (%)",
        "MAGMA (Dondera et al., WACV 2025), Table 1",
        f"linear probe (task linear) and kNN ({KNN_MAGMA}) on the pretraining dataset",
        columns,
        rows,
    )
    runs = tuple(Run(_preset(method)) for _, method, _, _ in _MAGMA_ROWS)
    doc = (
        "MAGMA Table 1 on one dataset: the baseline and MAGMA variant of MAE, U-MAE, SimCLR, VICReg"
    )
    return table, (Experiment(table.name, doc, runs, table=table.name),)


def _magma_table4() -> Tuple[PaperTable, Tuple[Experiment, ...]]:
    # MAGMA (arXiv:2412.02871), Table 4: M-MAE on ImageNet-100, linear top-1;
    # one factor at a time around λ = 1, e_st = 10, e_dur = 100 (the default point is printed once).
    # (row, the factor it varies: 0 λ, 1 e_st, 2 e_dur (the default point: λ's), λ, e_st, e_dur, paper)
    sweep = (
        ("M-MAE λ=1, e_st=10, e_dur=100 (default)", 0, 1.0, 10, 100, "69.0"),
        ("M-MAE λ=0.1", 0, 0.1, 10, 100, "60.0"),
        ("M-MAE λ=0.01", 0, 0.01, 10, 100, "54.6"),
        ("M-MAE λ=10", 0, 10.0, 10, 100, "67.9"),
        ("M-MAE e_st=0", 1, 1.0, 0, 100, "68.2"),
        ("M-MAE e_st=2", 1, 1.0, 2, 100, "69.0"),
        ("M-MAE e_st=20", 1, 1.0, 20, 100, "65.5"),
        ("M-MAE e_st=50", 1, 1.0, 50, 100, "62.7"),
        ("M-MAE e_dur=10", 2, 1.0, 10, 10, "68.5"),
        ("M-MAE e_dur=50", 2, 1.0, 10, 50, "68.8"),
        ("M-MAE e_dur=200", 2, 1.0, 10, 200, "69.0"),
        ("M-MAE e_dur=390", 2, 1.0, 10, 390, "68.5"),
    )
    rows = {
        "MAE (baseline)": (
            Cell("58.0", ({**_magma_run("mae", "imagenet100", None, None), "eval": "linear"},)),
        )
    }
    for label, _, weight, start, duration, number in sweep:
        run = _magma_run("m_mae", "imagenet100", weight, 0.0, start_epoch=start, duration=duration)
        rows[label] = (Cell(number, ({**run, "eval": "linear"},)),)
    table = _table(
        "magma-table4",
        "MAGMA Table 4: M-MAE schedule ablation, ImageNet-100 linear top-1 (%)",
        "MAGMA (Dondera et al., WACV 2025), Table 4",
        "ViT-B/16, mask 0.75; linear probe on ImageNet-100",
        [Column("ImageNet-100 linear")],
        rows,
    )
    # the MAE baseline row is Table 1's run; the others run factor by factor, each in increasing order
    runs = tuple(
        Run(
            _preset("m_mae"),
            f"w{weight:g}-st{start}-dur{duration}",
            (
                f"++method_kwargs.magma.weight={weight:g}",
                f"++method_kwargs.magma.start_epoch={start}",
                f"++method_kwargs.magma.duration={duration}",
            ),
        )
        for _, _, weight, start, duration, _ in sorted(sweep, key=lambda r: (r[1], r[2 + r[1]]))
    )
    doc = "MAGMA Table 4: M-MAE with λ, e_st, e_dur varied one at a time (paper: ImageNet-100)"
    return table, (Experiment(table.name, doc, runs, table=table.name),)


def _magma_table5() -> Tuple[PaperTable, Tuple[Experiment, ...]]:
    # MAGMA (arXiv:2412.02871), Table 5 (ImageNet-100 linear, ViT-S/B/L)
    numbers = {
        "MAE": ("46.8", "57.9", "60.6"),
        "M-MAE": ("61.2", "69.2", "73.9"),
        "U-MAE": ("57.6", "69.5", "78.2"),
        "MU-MAE": ("62", "73.4", "78.4"),
    }
    backbones = (("ViT-S", "vit_small"), ("ViT-B", "vit_base"), ("ViT-L", "vit_large"))
    rows = {}
    for row, method, weight, uniformity in _MAGMA_ROWS[:4]:
        rows[row] = tuple(
            Cell(
                number,
                (
                    {
                        **_magma_run(method, "imagenet100", weight, uniformity, backbone=name),
                        "eval": "linear",
                    },
                ),
            )
            for (_, name), number in zip(backbones, numbers[row])
        )
    table = _table(
        "magma-table5",
        "MAGMA Table 5: ImageNet-100 linear top-1 (%) by backbone",
        "MAGMA (Dondera et al., WACV 2025), Table 5",
        "linear probe on ImageNet-100",
        [Column(label) for label, _ in backbones],
        rows,
    )
    runs = tuple(
        Run(_preset(method), backbone, (f"backbone.name={backbone}",))
        for _, backbone in backbones
        if backbone != _MAGMA_MAE_IMAGENET100_BACKBONE  # Table 1's ImageNet-100 column
        for _, method, _, _ in _MAGMA_ROWS[:4]
    )
    doc = (
        "MAGMA Table 5: the MAE family on the backbones Table 1 does not run (paper: ImageNet-100)"
    )
    return table, (Experiment(table.name, doc, runs, table=table.name),)


# ---------------------------------------------------------------- SMAE (OpenReview KXfjZPL5pqr)

_SMAE_RATIOS = {"random": 0.75, "block": 0.5}  # the paper's mask ratio of each masking
_MAE_LITE = Run(
    SPECS["smae"].baseline_preset
)  # the paper's MAE: random masking at 0.75, raw pixels


def _smae_runs(alpha: float, masking: str) -> Tuple[Run, ...]:
    """The zoo runs of an SMAE-paper setting: ``smae`` with its overrides, and for the paper's MAE (α 0,
    random masking) also solo-learn's ``mae`` on ViT-Lite (``mae-lite``). α 0 is MAE: masked patches only."""
    smae = Run(
        "smae",
        f"a{alpha:g}-{masking}",
        (
            f"++method_kwargs.smae.alpha={alpha:g}",
            f"++method_kwargs.smae.masking={masking}",
            f"method_kwargs.mask_ratio={_SMAE_RATIOS[masking]:g}",
            f"++method_kwargs.smae.pixel_loss={'masked' if alpha == 0 else 'all'}",
        ),
    )
    return (_MAE_LITE, smae) if alpha == 0 and masking == "random" else (smae,)


def _smae_run(alpha: float, masking: str, eval_: str, dataset: str) -> Tuple[Dict[str, Any], ...]:
    """Conditions of an SMAE-paper run: ViT-Lite, Tiny-ImageNet pretraining, raw pixel targets
    (SMAE, OpenReview KXfjZPL5pqr).

    alpha 0 is the paper's MAE: solo-learn's ``mae`` (random masking only) or ``smae`` with alpha 0 and the
    pixel loss on masked patches (``pixel_loss: masked``); ``smae`` with alpha 0 and ``pixel_loss: all`` is a
    different loss and fills no cell. Random masking at ratio 0.75, block masking at 0.5.
    """
    ratio = _SMAE_RATIOS[masking]
    common = {
        "backbone": "vit_lite",
        "pretrain_dataset": "tiny-imagenet",
        "dataset": dataset,
        "train_subset": None,
        "eval": eval_,
        "mask_ratio": ratio,
        "norm_pix_loss": False,
    }
    smae = {**common, "method": "smae", "smae_alpha": alpha, "smae_masking": masking}
    if alpha < 1:  # with alpha 1 the pixel term has weight 0, so its form does not matter
        smae["smae_pixel_loss"] = "masked" if alpha == 0 else "all"
    if alpha == 0 and masking == "random":
        return ({**common, "method": "mae"}, smae)
    return (smae,)


def _smae_finetune() -> Tuple[PaperTable, Tuple[Experiment, ...]]:
    # SMAE (OpenReview KXfjZPL5pqr) (top-1 fine-tuning after Tiny-ImageNet pretraining; TIN / CUB-200 at 64 px)
    columns = (("Tiny-ImageNet fine-tune", "tiny-imagenet"), ("CUB-200 fine-tune", "cub200"))
    sweep = (
        ("MAE random 75%", 0.0, "random", ("55.00", "42.54")),
        ("MAE block 50%", 0.0, "block", ("48.77", "33.50")),
        ("SMAE α=0.5 random 75%", 0.5, "random", ("54.40", "41.50")),
        ("SMAE α=0.5 block 50%", 0.5, "block", ("53.90", "47.50")),
        ("SMAE α=1 random 75%", 1.0, "random", ("52.70", "39.67")),
        ("SMAE α=1 block 50%", 1.0, "block", ("51.05", "42.90")),
    )
    rows = {
        "Supervised (paper only)": _paper_only("48.58", "19.70"),
        "DINO (paper only)": _paper_only("41.72", "24.09"),
    }
    for label, alpha, masking, numbers in sweep:
        rows[label] = tuple(
            Cell(number, _smae_run(alpha, masking, "finetune", dataset))
            for (_, dataset), number in zip(columns, numbers)
        )
    table = _table(
        "smae-finetune",
        "SMAE: fine-tune top-1 (%) after Tiny-ImageNet pretraining",
        "[Re] MAE small scale (Charisoudis et al., ReScience C 2023), fine-tuning results",
        "ViT-Lite 7/4 pretrained on Tiny-ImageNet; fine-tuned (task finetune) at 64 px",
        [Column(label) for label, _ in columns],
        rows,
    )
    runs = tuple(run for _, alpha, masking, _ in sweep for run in _smae_runs(alpha, masking))
    pretraining = Experiment(
        "smae",
        "SMAE: MAE-Lite and α ∈ {0, 0.5, 1} × random (75 %) / block (50 %) masking, with SMAE's linear "
        "probe (needs the critic the configs name)",
        runs,
        probe="smae-linear",
        table="smae-mask-ratio",  # its linear probe of mae-lite is that table's 75 % row
    )
    finetuning = Experiment(
        table.name,
        "SMAE: the smae runs (finished) fine-tuned on the pretraining dataset and on the others given",
        runs,
        probe="smae-finetune",
        table=table.name,
        finetune_on=tuple(dataset for _, dataset in columns),
    )
    return table, (pretraining, finetuning)


def _smae_mask_ratio() -> Tuple[PaperTable, Tuple[Experiment, ...]]:
    # SMAE (OpenReview KXfjZPL5pqr): MAE mask-ratio sweep, linear probe on Tiny-ImageNet (paper: 200 + 50 epochs)
    sweep = (
        ("50%", 0.5, "31.32"),
        ("60%", 0.6, "32.03"),
        ("65%", 0.65, "32.32"),
        ("70%", 0.7, "30.58"),
        ("75%", 0.75, "32.04"),
        ("80%", 0.8, "31.66"),
        ("85%", 0.85, "29.61"),
        ("90%", 0.9, "28.14"),
    )
    rows = {}
    for label, ratio, number in sweep:
        alternatives = tuple(
            {**run, "mask_ratio": ratio}
            for run in _smae_run(0.0, "random", "linear", "tiny-imagenet")
        )
        rows[f"MAE mask {label}"] = (Cell(number, alternatives),)
    table = _table(
        "smae-mask-ratio",
        "SMAE paper: MAE linear probe top-1 (%) by mask ratio",
        "[Re] MAE small scale (Charisoudis et al., ReScience C 2023), mask-ratio sweep",
        "ViT-Lite 7/4 MAE, random masking; linear probe on Tiny-ImageNet",
        [Column("Tiny-ImageNet linear")],
        rows,
    )

    def run(ratio: str) -> Run:
        return Run(_MAE_LITE.config, f"mask{ratio}", (f"method_kwargs.mask_ratio={ratio}",))

    # the paper's ratio is the smae experiment's mae-lite run
    ratios = tuple(f"{ratio:g}" for _, ratio, _ in sweep if ratio != _SMAE_RATIOS["random"])
    flag = RunFlag("--mask-ratios", "the MAE mask ratios, one run each", ratios, run)
    doc = "SMAE: MAE-Lite by mask ratio, with SMAE's linear probe"
    experiment = Experiment(
        table.name,
        doc,
        tuple(map(run, ratios)),
        probe="smae-linear",
        table=table.name,
        run_flag=flag,
    )
    return table, (experiment,)


# ---------------------------------------------------------------- ViC-MAE (arXiv:2303.12001)


def _vicmae_linear() -> Tuple[PaperTable, Tuple[Experiment, ...]]:
    # ViC-MAE (arXiv:2303.12001) (IN-1K, ViT-B): linear probe top-1 / top-5. The published ViC-MAE number came from
    # the code preset; both presets are compared with it, each in its own row.
    columns = (Column("ImageNet linear top-1", "acc1"), Column("ImageNet linear top-5", "acc5"))
    common = {
        "method": "vicmae",
        "backbone": "vit_base",
        "pretrain_dataset": "imagenet",
        "dataset": "imagenet",
        "train_subset": None,
        "eval": "linear",
    }
    code = {**common, "vicmae_loss": "nt_xent", "vicmae_projector": "code"}
    paper = {**common, "vicmae_loss": "clip", "vicmae_projector": "paper"}
    presets = {"vicmae": code, "vicmae-paper": paper}  # zoo preset -> its row's conditions
    rows = {
        "MAE+SimSiam (paper only)": _paper_only("58.58", "82.88"),
        "MAE+VICReg (paper only)": _paper_only("63.86", "84.07"),
        "ViC-MAE, code preset (nt_xent)": (Cell("67.66", (code,)), Cell("86.22", (code,))),
        "ViC-MAE, paper preset (clip)": (Cell("67.66", (paper,)), Cell("86.22", (paper,))),
    }
    table = _table(
        "vicmae-linear",
        "ViC-MAE: ImageNet-1K linear probe top-1 / top-5 (%)",
        "ViC-MAE (Hernandez et al.), ImageNet-1K linear probe",
        "ViT-B pretrained and linear-probed on ImageNet",
        columns,
        rows,
    )
    flag = RunFlag("--presets", "the zoo presets to pretrain, one run each", tuple(presets), Run)
    doc = (
        "ViC-MAE: the code preset (vicmae) and the paper's (vicmae-paper), with the BatchNorm probe"
    )
    experiment = Experiment(
        table.name,
        doc,
        tuple(map(Run, presets)),
        probe="vicmae-linear",
        table=table.name,
        run_flag=flag,
    )
    return table, (experiment,)


# ---------------------------------------------------------------- ColorMAE (arXiv:2407.13036)

_COLORMAE_COLUMNS = (("ImageNet fine-tune", "finetune"), ("ImageNet linear", "linear"))


def _colormae_experiment(ablation: str, values, override: str, table: Optional[str]) -> Experiment:
    """ColorMAE pretraining with one setting varied (``override``: its Hydra key), each run tagged
    ``<ablation>-<value>``, with the MAE-style linear probe (LARS, BatchNorm head)."""
    runs = tuple(
        Run("colormae", f"{ablation}-{value}", (f"{override}={value}",)) for value in values
    )
    doc = f"ColorMAE ablation: {ablation} in {{{', '.join(map(str, values))}}}"
    return Experiment(f"colormae-{ablation.replace('_', '-')}", doc, runs, "colormae-linear", table)


def _colormae_run(mask_ratio: float, num_patterns: int) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Conditions per column: ColorMAE-G (green bank generated from settings, no schedule), ViT-B, ImageNet."""
    run = {
        "method": "colormae",
        "backbone": "vit_base",
        "pretrain_dataset": "imagenet",
        "dataset": "imagenet",
        "train_subset": None,
        "mask_ratio": mask_ratio,
        "colormae_color": "green",
        "colormae_num_patterns": num_patterns,
        "colormae_patterns": None,
        "colormae_schedule": (),
    }
    return tuple({**run, "eval": eval_} for _, eval_ in _COLORMAE_COLUMNS)


def _colormae_mask_ratio() -> Tuple[PaperTable, Tuple[Experiment, ...]]:
    # ColorMAE (arXiv:2407.13036) (ColorMAE-G, ViT-B, 300 epochs, IN-1K): mask ratio sweep, FT / LP
    sweep = (
        ("20%", 0.2, "82.51", "54.18"),
        ("50%", 0.5, "82.97", "61.92"),
        ("75%", 0.75, "82.98", "63.30"),
        ("85%", 0.85, "82.54", "60.12"),
        ("90%", 0.9, "81.89", "57.84"),
    )
    rows = {
        f"ColorMAE-G mask {label}": tuple(
            Cell(number, (run,)) for number, run in zip((ft, lp), _colormae_run(ratio, 3072))
        )
        for label, ratio, ft, lp in sweep
    }
    table = _table(
        "colormae-mask-ratio",
        "ColorMAE-G: ImageNet top-1 (%) by mask ratio",
        "ColorMAE (Hinojosa et al., ECCV 2024), mask-ratio ablation",
        "ViT-B/16, green bank of 3072 patterns; fine-tune (task finetune) and linear probe on ImageNet",
        [Column(label) for label, _ in _COLORMAE_COLUMNS],
        rows,
    )
    ratios = tuple(f"{ratio:.2f}" for _, ratio, _, _ in sweep)
    return table, (
        _colormae_experiment("mask_ratio", ratios, "method_kwargs.mask_ratio", table.name),
    )


def _colormae_patterns() -> Tuple[PaperTable, Tuple[Experiment, ...]]:
    # ColorMAE (arXiv:2407.13036) (ColorMAE-G, ViT-B, 300 epochs, IN-1K): pattern count sweep, FT / LP
    sweep = (
        (64, "82.98", "63.27"),
        (512, "83.00", "62.43"),
        (3072, "82.98", "63.30"),
        (4096, "82.85", "63.16"),
    )
    rows = {
        f"ColorMAE-G {count} patterns": tuple(
            Cell(number, (run,)) for number, run in zip((ft, lp), _colormae_run(0.75, count))
        )
        for count, ft, lp in sweep
    }
    table = _table(
        "colormae-patterns",
        "ColorMAE-G: ImageNet top-1 (%) by number of patterns",
        "ColorMAE (Hinojosa et al., ECCV 2024), pattern-count ablation",
        "ViT-B/16, mask 0.75, green bank; fine-tune (task finetune) and linear probe on ImageNet",
        [Column(label) for label, _ in _COLORMAE_COLUMNS],
        rows,
    )
    counts = tuple(count for count, _, _ in sweep)
    key = "++method_kwargs.colormae.num_patterns"
    return table, (_colormae_experiment("patterns", counts, key, table.name),)


_DECLARED = (
    _magma_table1(),
    _magma_table4(),
    _magma_table5(),
    _smae_finetune(),
    _smae_mask_ratio(),
    _vicmae_linear(),
    _colormae_mask_ratio(),
    _colormae_patterns(),
)
PAPER_TABLES: Dict[str, PaperTable] = {table.name: table for table, _ in _DECLARED}
# `solo-ext sweep NAME`: the paper tables' experiments, and the noise colours (no paper table here)
EXPERIMENTS: Dict[str, Experiment] = {
    experiment.name: experiment
    for experiment in (
        *(experiment for _, experiments in _DECLARED for experiment in experiments),
        _colormae_experiment("colors", COLORS, "++method_kwargs.colormae.color", None),
    )
}
