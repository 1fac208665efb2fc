"""The experiment specs of the paper tables (solo_ext/reporting/paper_tables.py): every run names a zoo preset
that exists, and the runs the spec makes are the runs the tables match. The second check composes each run's
preset on the paper's dataset with the run's overrides (Hydra), turns the result into the args.json solo-ext
would write (the methods' defaults filled in) and fills the tables with it."""

from dataclasses import asdict
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from solo_ext.config.fields import REQUIRED
from solo_ext.config.specs import HOSTS, SPECS
from solo_ext.config.zoo import zoo_path
from solo_ext.reporting.paper_tables import EXPERIMENTS, KNN_MAGMA, PAPER_TABLES
from solo_ext.reporting.tables import _meets, dataset_key, pretrain_facts

ZOO = zoo_path()


def paper_datasets(experiment):
    """The pretraining datasets of the experiment's paper table (digits for an experiment without one)."""
    if experiment.table is None:
        return {"digits"}
    table = PAPER_TABLES[experiment.table]
    return {
        condition["pretrain_dataset"]
        for cell in table.cells.values()
        for condition in cell.match
        if "pretrain_dataset" in condition
    }


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_run_names_a_zoo_preset_and_probe_that_exist(name):
    experiment = EXPERIMENTS[name]
    assert experiment.runs and len({run.folder for run in experiment.runs}) == len(experiment.runs)
    for dataset in paper_datasets(experiment) | {"digits"}:
        for run in experiment.runs:
            assert (ZOO / "pretrain" / dataset / f"{run.config}.yaml").is_file(), (dataset, run)
        eval_datasets = experiment.finetune_on or (dataset,)
        for eval_dataset in eval_datasets:
            assert (ZOO / "linear" / eval_dataset / f"{experiment.probe}.yaml").is_file()


def compose_config(folder: Path, name: str, overrides=()):
    with initialize_config_dir(config_dir=str(folder), version_base="1.2"):
        return OmegaConf.to_container(compose(name, overrides=list(overrides)))


def args_json(dataset, run):
    """What `solo-ext pretrain` would write to args.json for this run: the composed config, with every
    method_kwargs default the method fills in (its spec's section and top-level keys)."""
    cfg = compose_config(ZOO / "pretrain" / dataset, run.config, run.overrides)
    method = cfg["method"]
    kwargs = cfg["method_kwargs"]
    host = SPECS[method].host if method in SPECS else method
    for field in HOSTS[host][1]:
        if field.default is not REQUIRED:
            kwargs.setdefault(field.name, field.default)
    if method in SPECS and SPECS[method].section:
        spec = SPECS[method]
        defaults = asdict(spec.settings_defaults())
        section = spec.section.KEY
        if "uniformity_weight" in defaults:
            kwargs.setdefault("uniformity_weight", defaults.pop("uniformity_weight"))
        kwargs[section] = {**defaults, **(kwargs.get(section) or {})}
    return cfg


def evaluations(experiment, dataset):
    """The facts each evaluation of the experiment adds: (eval, evaluation dataset)."""
    if experiment.finetune_on:
        return [("finetune", d) for d in experiment.finetune_on]
    return [("linear", dataset), (KNN_MAGMA, dataset)]


def filled_cells():
    """{(table, row, column)} the experiments' runs fill on their paper datasets."""
    filled = set()
    for experiment in EXPERIMENTS.values():
        if experiment.table is None:
            continue
        matched = False
        for dataset in paper_datasets(experiment):
            for run in experiment.runs:
                facts = pretrain_facts(args_json(dataset, run))
                for eval_, eval_dataset in evaluations(experiment, dataset):
                    linear = compose_config(ZOO / "linear" / eval_dataset, experiment.probe)
                    data = linear["data"]
                    record = {
                        **facts,
                        "eval": eval_,
                        "train_subset": None,
                        "dataset": dataset_key(
                            data["dataset"], data["train_path"], data["val_path"]
                        ),
                    }
                    for table in PAPER_TABLES.values():
                        for (row, column), cell in table.cells.items():
                            if any(_meets(record, condition) for condition in cell.match):
                                filled.add((table.name, row, column))
                                matched |= table.name == experiment.table
        assert matched, experiment.name  # its runs fill its own table
    return filled


@pytest.mark.slow
def test_the_runs_of_the_spec_fill_every_cell_the_tables_match():
    """Every cell with conditions is filled by some run the spec makes, on the paper's dataset, except the
    ColorMAE fine-tuning columns: solo-ext ships ColorMAE's linear probe only."""
    filled = filled_cells()
    wanted = {
        (table.name, row, column)
        for table in PAPER_TABLES.values()
        for (row, column), cell in table.cells.items()
        if cell.match
    }
    assert wanted - filled == {
        (name, row, "ImageNet fine-tune")
        for name in ("colormae-mask-ratio", "colormae-patterns")
        for row in PAPER_TABLES[name].rows
    }


def test_the_sweeps_follow_the_tables_rows():
    """The grid is the tables': Table 4's runs are its rows, factor by factor; SMAE's mask-ratio runs are its
    table's ratios but the smae experiment's mae-lite one; ColorMAE's runs are its rows' values."""
    table4 = [run.tag for run in EXPERIMENTS["magma-table4"].runs]
    assert table4[:5] == ["w0.01-st10-dur100", "w0.1-st10-dur100", "w1-st10-dur100"] + [
        "w10-st10-dur100",
        "w1-st0-dur100",
    ]
    assert len(table4) == len(PAPER_TABLES["magma-table4"].rows) - 1  # MAE: Table 1's run
    ratios = EXPERIMENTS["smae-mask-ratio"].run_flag.default
    assert ratios == ("0.5", "0.6", "0.65", "0.7", "0.8", "0.85", "0.9")
    assert "mae-lite" in [run.folder for run in EXPERIMENTS["smae"].runs]
    assert [run.overrides for run in EXPERIMENTS["colormae-mask-ratio"].runs][0] == (
        "method_kwargs.mask_ratio=0.20",
    )
    assert [run.folder for run in EXPERIMENTS["magma-table1"].runs] == [
        "mae",
        "m-mae",
        "u-mae",
        "mu-mae",
        "simclr",
        "m-simclr",
        "vicreg",
        "m-vicreg",
    ]
    assert EXPERIMENTS["smae-finetune"].finetune_on == ("tiny-imagenet", "cub200")
