"""Silently wrong results (#16), the checks that need no solo-learn: train/val class
folders, damaged files in `solo-ext table`."""

import json

import pytest

from solo_ext.config import ConfigError
from solo_ext.launch.data import check_class_folders, check_split_classes
from solo_ext.launch.results import write_results
from solo_ext.reporting.tables import main as table_main


def folders(root, names):
    for name in names:
        (root / name).mkdir(parents=True)
    return root


def test_val_missing_a_class_is_refused_naming_both_folders_and_the_class(tmp_path):
    train = folders(tmp_path / "train", ["0", "1", "2"])
    val = folders(tmp_path / "val", ["1", "2"])  # ImageFolder would relabel '1' as 0
    with pytest.raises(ConfigError) as err:
        check_class_folders(train, val, "data.val_path")
    message = str(err.value)
    assert message.startswith("data.val_path: ") and str(train) in message and str(val) in message
    assert "missing in val: ['0']" in message and "only in val" not in message


def test_val_with_an_extra_class_is_refused(tmp_path):
    train = folders(tmp_path / "train", ["a", "b"])
    val = folders(tmp_path / "val", ["a", "b", "c"])
    with pytest.raises(ConfigError, match=r"--val_data_path: .*\(only in val: \['c'\]\)"):
        check_class_folders(train, val, "--val_data_path")


def test_same_class_folders_and_non_folder_datasets_pass(tmp_path):
    train = folders(tmp_path / "train", ["a", "b"])
    val = folders(tmp_path / "val", ["b", "a"])
    check_class_folders(train, val, "data.val_path")
    (tmp_path / "train" / "c").mkdir()
    check_split_classes(
        "cifar10", "image_folder", train, val, "data.val_path"
    )  # a torchvision archive folder
    check_split_classes("custom", "h5", train, val, "data.val_path")
    with pytest.raises(ConfigError, match="missing in val"):
        check_split_classes("custom", "image_folder", train, val, "data.val_path")


def test_a_subset_of_classes_only_needs_those_in_val(tmp_path):
    """solo-ext analyze looks at the first N classes: val must hold them, other folders not."""
    train = folders(tmp_path / "train", ["a", "b", "c"])
    val = folders(tmp_path / "val", ["a", "b", "x"])
    check_class_folders(train, val, "--data", classes=["a", "b"])
    with pytest.raises(ConfigError, match=r"--data: .*missing in val: \['c'\]"):
        check_class_folders(train, val, "--data", classes=["a", "c"])


def linear_record(root, rel, acc1, seed):
    pretrain = {"name": "m", "method": "m_mae", "seed": seed, "data": {"dataset": "cifar100"}}
    return write_results(
        root / rel,
        "linear",
        {"acc1": acc1},
        dataset="cifar100",
        train_path="./datasets",
        val_path="./datasets",
        pretrained_checkpoint="last.ckpt",
        pretrain=pretrain,
    )


@pytest.mark.parametrize("damage", ["truncated", "empty", "no_acc1", "schema", "nan"])
def test_table_names_a_damaged_results_file_instead_of_dropping_it(damage, tmp_path, capsys):
    runs = tmp_path / "runs"
    for seed, acc in ((1, 40.0), (2, 42.0)):
        linear_record(runs, f"s{seed}/linear/results.json", acc, seed)
    damaged = linear_record(runs, "s3/linear/results.json", 90.0, 3)
    text = damaged.read_text()
    record = json.loads(text)
    if damage == "truncated":
        damaged.write_text(text[: len(text) // 2])
    elif damage == "empty":
        damaged.write_text("")
    elif damage == "no_acc1":
        record["metrics"] = {"acc5": 99.0}
        damaged.write_text(json.dumps(record))
    elif damage == "schema":
        record["solo_ext_results"] = 7
        damaged.write_text(json.dumps(record))
    else:
        damaged.write_text(text.replace("90.0", "NaN"))
    with pytest.raises(ValueError) as err:
        table_main([str(runs), "--out", str(tmp_path / "t")])
    assert str(err.value).startswith(f"{damaged}: damaged solo-ext results file")
    assert not (tmp_path / "t.md").exists()


def test_table_still_skips_json_files_that_are_not_results(tmp_path):
    runs = tmp_path / "runs"
    for seed, acc in ((1, 40.0), (2, 42.0)):
        linear_record(runs, f"s{seed}/linear/results.json", acc, seed)
    (runs / "s1" / "linear" / "args.json").write_text(json.dumps({"method": "linear"}))
    (runs / "s1" / "stats.json").write_text("{not json, and no results mark")
    md, _ = table_main([str(runs), "--out", str(tmp_path / "t")])
    assert "41.00 ± 1.41" in md.read_text()


def probe_cfg(digits_dir, **augmentations):
    from omegaconf import OmegaConf

    return OmegaConf.create(
        {
            "data": {
                "train_path": str(digits_dir / "train"),
                "val_path": str(digits_dir / "val"),
                "num_workers": 0,
                "augmentations": {"crop_size": 32, **augmentations},
            },
            "optimizer": {"batch_size": 64},
        }
    )


def test_the_digits_probe_trains_on_the_pretraining_crops_without_flips(digits_dir):
    """solo-learn's probe augmentation (8 % crops, flips) took the digits probe from 87 % to 46 %
    (docs/evaluation.md)."""
    import yaml
    from torchvision import transforms

    from dev.zoo import generate
    from solo_ext.launch.data import custom_loaders

    preset = yaml.safe_load(generate()["linear/digits/linear.yaml"])
    assert preset["head_batchnorm"] is True
    train_loader, _ = custom_loaders(probe_cfg(digits_dir, **preset["data"]["augmentations"]))
    steps = {type(t): t for t in train_loader.dataset.transform.transforms}
    assert (
        steps[transforms.RandomResizedCrop].scale == (0.5, 1.0)
        and steps[transforms.RandomHorizontalFlip].p == 0.0
    )
    default, _ = custom_loaders(
        probe_cfg(digits_dir)
    )  # solo-learn's augmentation stays the default
    steps = {type(t): t for t in default.dataset.transform.transforms}
    assert (
        steps[transforms.RandomResizedCrop].scale == (0.08, 1.0)
        and steps[transforms.RandomHorizontalFlip].p == 0.5
    )
    with pytest.raises(ConfigError, match=r"^data.augmentations.crop_min_scale: 0 is not allowed"):
        custom_loaders(probe_cfg(digits_dir, crop_min_scale=0))
