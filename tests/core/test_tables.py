import csv
import json

import pytest

from solo_ext.config import MagmaSettings, SMAESettings
from solo_ext.launch.results import write_results
from solo_ext.reporting.paper_tables import PAPER_TABLES
from solo_ext.reporting.tables import CSV_FIELDS, dataset_key, main, pretrain_facts

# method_kwargs sections with every default resolved, as the methods write them into args.json
MAGMA = MagmaSettings.from_method_kwargs({}, MagmaSettings()).as_dict()
SMAE = {
    **SMAESettings.from_method_kwargs({"smae": {"alpha": 0.0}}).as_dict(),
    "critic": "c.pt",
}  # alpha: per run


def args_json(
    method,
    dataset="cifar100",
    seed=5,
    backbone="vit_tiny",
    train_path="./datasets",
    epochs=2000,
    **method_kwargs,
):
    """A pretraining args.json as solo-ext writes it (defaults resolved into method_kwargs)."""
    return {
        "name": f"{method}-{dataset}-seed{seed}",
        "method": method,
        "seed": seed,
        "max_epochs": epochs,
        "backbone": {"name": backbone, "kwargs": {"patch_size": 4}},
        "data": {"dataset": dataset, "train_path": train_path, "val_path": train_path},
        "method_kwargs": method_kwargs,
    }


def m_mae(dataset="cifar100", seed=5, weight=1.0, start_epoch=60, duration=100, **kwargs):
    magma = {**MAGMA, "weight": weight, "start_epoch": start_epoch, "duration": duration}
    return args_json(
        "m_mae",
        dataset,
        seed,
        mask_ratio=0.75,
        norm_pix_loss=False,
        magma=magma,
        uniformity_weight=0.0,
        **kwargs,
    )


def record(
    root,
    rel,
    task,
    acc1,
    acc5=None,
    *,
    pretrain,
    dataset=None,
    train_path=None,
    written="2026-01-01T00:00:00",
    settings=None,
    extra=None,
):
    """Writes a results file with write_results, then fixes its `written` stamp."""
    metrics = {"acc1": acc1, **({} if acc5 is None else {"acc5": acc5})}
    data = (pretrain or {}).get("data", {})
    path = write_results(
        root / rel,
        task,
        metrics,
        dataset=dataset or data.get("dataset"),
        train_path=train_path or data.get("train_path"),
        val_path=None,
        pretrained_checkpoint="last.ckpt",
        pretrain=pretrain,
        settings=settings,
        extra=extra,
    )
    stored = json.loads(path.read_text())
    stored["written"] = written
    path.write_text(json.dumps(stored))
    return path


def knn_all(acc10, acc20=50.0):
    return {
        "all": [
            {"k": 10, "distance": "euclidean", "T": None, "acc1": acc10, "acc5": 80.0},
            {"k": 20, "distance": "euclidean", "T": None, "acc1": acc20, "acc5": 81.0},
        ]
    }


@pytest.fixture
def magma_runs(tmp_path):
    """Table-1 style runs: 3 seeds of M-MAE on CIFAR-100 (+ an older rerun of seed 5), kNN for 2 seeds, MAE on
    Tiny-ImageNet (custom), two MAE groups competing for one cell, and two runs that fit no Table-1 cell."""
    runs = tmp_path / "runs"
    files = {}
    for seed, acc in ((5, 43.0), (6, 44.0), (7, 45.0)):
        files[f"linear{seed}"] = record(
            runs,
            f"m-mae/seed{seed}/linear/results.json",
            "linear",
            acc,
            70.0 + seed,
            pretrain=m_mae(seed=seed),
            written="2026-02-01T00:00:00",
        )
    files["old5"] = record(
        runs,
        "m-mae/seed5-first/linear/results.json",
        "linear",
        10.0,
        20.0,
        pretrain=m_mae(seed=5),
        written="2026-01-15T00:00:00",
    )
    for seed, acc in ((5, 40.0), (6, 41.0)):
        files[f"knn{seed}"] = record(
            runs,
            f"m-mae/seed{seed}/knn.json",
            "knn",
            acc,
            80.0,
            pretrain=m_mae(seed=seed),
            settings={"k": [10, 20], "distance_function": ["euclidean"]},
            extra=knn_all(acc),
        )
    tin = "datasets/Tiny-ImageNet-200-folders/train"
    files["tin"] = record(
        runs,
        "mae-tin/seed5/results.json",
        "linear",
        18.0,
        40.0,
        dataset="custom",
        train_path=tin,
        pretrain=args_json(
            "mae", "custom", 5, train_path=tin, epochs=800, mask_ratio=0.75, norm_pix_loss=False
        ),
    )
    for seed, acc in ((5, 38.0), (6, 39.0)):
        files[f"mae800_{seed}"] = record(
            runs,
            f"mae-800/seed{seed}/results.json",
            "linear",
            acc,
            pretrain=args_json("mae", seed=seed, epochs=800, mask_ratio=0.75, norm_pix_loss=False),
        )
    files["mae2000"] = record(
        runs,
        "mae-2000/seed5/results.json",
        "linear",
        20.0,
        pretrain=args_json("mae", seed=5, epochs=2000, mask_ratio=0.75, norm_pix_loss=False),
    )
    files["lambda01"] = record(
        runs, "m-mae-w0.1/seed5/results.json", "linear", 30.0, pretrain=m_mae(weight=0.1)
    )
    digits = "data/digits/train"
    files["digits"] = record(
        runs,
        "digits/results.json",
        "linear",
        31.0,
        dataset="custom",
        train_path=digits,
        pretrain=m_mae("custom", train_path=digits),
    )
    return tmp_path, files


def read_csv(path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == CSV_FIELDS
        return {(row["row"], row["column"], row["metric"]): row for row in reader}


def table_lines(markdown):
    return [line for line in markdown.splitlines() if line.startswith("|")]


def test_table1_cells_hold_mean_std_n_paper_and_difference(magma_runs):
    root, files = magma_runs
    md, csv_path = main([str(root / "runs"), "--paper", "magma-table1", "--out", str(root / "t1")])
    assert (md, csv_path) == (root / "t1.md", root / "t1.csv")
    rows = read_csv(csv_path)
    assert len(rows) == 8 * 8  # one row per cell and metric

    linear = rows[
        ("M-MAE", "CIFAR-100 linear", "acc1")
    ]  # seed 5's older record (10.0) is replaced by the newer
    assert (float(linear["ours_mean"]), float(linear["ours_std"]), int(linear["n"])) == (
        44.0,
        1.0,
        3,
    )
    assert float(linear["paper"]) == 43.3 and float(linear["diff"]) == pytest.approx(0.7)
    assert linear["status"] == "ok"
    assert sorted(linear["runs"].split(";")) == sorted(str(files[f"linear{s}"]) for s in (5, 6, 7))
    assert json.loads(linear["settings"])["magma_start_epoch"] == 60

    knn = rows[("M-MAE", "CIFAR-100 kNN", "acc1")]  # the k=10 Euclidean entry, not k=20 (50.0)
    assert float(knn["ours_mean"]) == 40.5 and float(knn["ours_std"]) == pytest.approx(
        0.7071, abs=1e-4
    )
    assert int(knn["n"]) == 2 and float(knn["diff"]) == pytest.approx(-0.2)

    tin = rows[("MAE", "Tiny-ImageNet linear", "acc1")]  # custom dataset recognised from its path
    assert (float(tin["ours_mean"]), tin["ours_std"], int(tin["n"]), float(tin["paper"])) == (
        18.0,
        "",
        1,
        17.8,
    )
    assert float(tin["diff"]) == pytest.approx(0.2)

    mae = rows[
        ("MAE", "CIFAR-100 linear", "acc1")
    ]  # the 2-seed group wins over the 1-seed group, never mixed
    assert (float(mae["ours_mean"]), int(mae["n"])) == (38.5, 2)
    assert json.loads(mae["settings"])["max_epochs"] == 800

    missing = rows[("SimCLR", "STL-10 linear", "acc1")]
    assert (
        missing["status"],
        missing["ours_mean"],
        missing["n"],
        float(missing["paper"]),
        missing["diff"],
    ) == ("missing", "", "0", 90.4, "")


def test_table1_markdown_shape_and_stdout(magma_runs, capsys):
    root, _ = magma_runs
    md, _ = main([str(root / "runs"), "--paper", "magma-table1", "--out", str(root / "t1")])
    text = md.read_text()
    assert capsys.readouterr().out == text
    lines = table_lines(text)
    assert len(lines) == 1 + 1 + 8  # header, separator, one line per row
    assert lines[1] == "|" + "---|" * 9
    assert all(
        line.count(" | ") == 8 for line in lines[:1] + lines[2:]
    )  # 9 cells: row label + 8 columns
    cells = {line.split(" | ")[0].strip("| "): line.split(" | ")[1:] for line in lines[2:]}
    assert list(cells) == [
        "MAE",
        "M-MAE",
        "U-MAE",
        "MU-MAE",
        "SimCLR",
        "M-SimCLR",
        "VICReg",
        "M-VICReg",
    ]
    assert cells["M-MAE"][0] == "44.00 ± 1.00 (n=3) / 43.3 / +0.70"
    assert cells["M-MAE"][1] == "40.50 ± 0.71 (n=2) / 40.7 / -0.20"
    assert cells["MAE"][4] == "18.00 / 17.8 / +0.20"  # n = 1: no std
    assert cells["SimCLR"][2] == "missing / 90.4 / –"


def test_unmatched_runs_and_replaced_duplicates_are_listed(magma_runs):
    root, files = magma_runs
    md, _ = main([str(root / "runs"), "--paper", "magma-table1", "--out", str(root / "t1")])
    notes = md.read_text().split("Not in this table (3 results files):")[1].splitlines()
    listed = {line.split("`")[1]: line for line in notes if line.startswith("- `")}
    assert set(listed) == {str(files["lambda01"]), str(files["digits"]), str(files["mae2000"])}
    assert (
        "λ=0.1" in listed[str(files["lambda01"])]
        and "no cell of this table matches" in listed[str(files["lambda01"])]
    )
    assert "linear on digits" in listed[str(files["digits"])]
    assert (
        "another run group" in listed[str(files["mae2000"])]
        and "800 ep" in listed[str(files["mae2000"])]
    )
    duplicate = [line for line in md.read_text().splitlines() if str(files["old5"]) in line]
    assert (
        len(duplicate) == 1
        and f"kept `{files['linear5']}`" in duplicate[0]
        and "seed 5" in duplicate[0]
    )


def test_generic_table_one_row_per_run_group(magma_runs, monkeypatch):
    root, files = magma_runs
    monkeypatch.chdir(root)
    md, csv_path = main(["runs"])
    assert (md.name, csv_path.name) == (
        "table.md",
        "table.csv",
    )  # default prefix in the current directory
    lines = table_lines(md.read_text())
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == [
        "pretraining run group",
        "CIFAR-100 linear",
        "CIFAR-100 knn k=10 euclidean",
        "CIFAR-100 knn k=20 euclidean",
        "Tiny-ImageNet linear",
        "digits linear",
    ]
    labels = [line.split(" | ")[0].strip("| ") for line in lines[2:]]
    # mae: 800/2000 epochs on CIFAR-100, 800 on Tiny-ImageNet; m_mae: λ 1 and 0.1 on CIFAR-100, digits
    assert len(labels) == 6 and len(set(labels)) == 6
    assert any("λ=0.1" in label for label in labels) and any("λ=1" in label for label in labels)
    rows = read_csv(csv_path)
    mmae = next(
        label
        for label in labels
        if label.startswith("m_mae") and "λ=1" in label and "CIFAR-100" in label
    )
    assert float(rows[(mmae, "CIFAR-100 linear", "acc1")]["ours_mean"]) == 44.0
    assert float(rows[(mmae, "CIFAR-100 linear", "acc5")]["ours_mean"]) == pytest.approx(
        (75 + 76 + 77) / 3
    )
    assert float(rows[(mmae, "CIFAR-100 knn k=20 euclidean", "acc1")]["ours_mean"]) == 50.0
    assert {r["paper"] for r in rows.values()} == {""}


def test_table4_rows_follow_the_one_factor_sweep(tmp_path):
    runs = tmp_path / "runs"
    imnet = dict(dataset="imagenet100", backbone="vit_base")
    record(
        runs,
        "w0.1/results.json",
        "linear",
        61.0,
        pretrain=m_mae(weight=0.1, start_epoch=10, **imnet),
    )
    for seed, acc in ((5, 66.0), (6, 65.0)):
        record(
            runs,
            f"st20/{seed}/results.json",
            "linear",
            acc,
            pretrain=m_mae(seed=seed, start_epoch=20, **imnet),
        )
    record(
        runs,
        "mae/results.json",
        "linear",
        57.0,
        pretrain=args_json("mae", mask_ratio=0.75, norm_pix_loss=True, **imnet),
    )
    _, csv_path = main([str(runs), "--paper", "magma-table4", "--out", str(tmp_path / "t4")])
    rows = read_csv(csv_path)
    assert len(rows) == 13
    lam = rows[("M-MAE λ=0.1", "ImageNet-100 linear", "acc1")]
    assert (float(lam["ours_mean"]), float(lam["paper"])) == (61.0, 60.0) and float(
        lam["diff"]
    ) == pytest.approx(1.0)
    start = rows[("M-MAE e_st=20", "ImageNet-100 linear", "acc1")]
    assert (float(start["ours_mean"]), int(start["n"]), float(start["paper"])) == (65.5, 2, 65.5)
    assert float(start["diff"]) == pytest.approx(0.0)
    baseline = rows[("MAE (baseline)", "ImageNet-100 linear", "acc1")]
    assert (float(baseline["ours_mean"]), float(baseline["paper"])) == (57.0, 58.0)
    assert (
        rows[("M-MAE λ=1, e_st=10, e_dur=100 (default)", "ImageNet-100 linear", "acc1")]["status"]
        == "missing"
    )


def test_smae_finetune_rows_and_paper_only_rows(tmp_path):
    runs, tin, cub = (
        tmp_path / "runs",
        "datasets/tiny-imagenet-200/train",
        "data/CUB_200_2011/train",
    )

    def smae(alpha, masking, pixel_loss="all"):
        return args_json(
            "smae",
            "custom",
            train_path=tin,
            backbone="vit_lite",
            epochs=400,
            mask_ratio=0.75 if masking == "random" else 0.5,
            norm_pix_loss=False,
            smae={**SMAE, "alpha": alpha, "masking": masking, "pixel_loss": pixel_loss},
        )

    mae = args_json(
        "mae",
        "custom",
        train_path=tin,
        backbone="vit_lite",
        epochs=400,
        mask_ratio=0.75,
        norm_pix_loss=False,
    )
    record(runs, "mae/tin.json", "finetune", 54.0, pretrain=mae)
    record(runs, "mae/cub.json", "finetune", 43.0, pretrain=mae, dataset="custom", train_path=cub)
    record(runs, "mae-block/tin.json", "finetune", 49.0, pretrain=smae(0.0, "block", "masked"))
    all_patches = record(
        runs, "a0-all-block/tin.json", "finetune", 47.0, pretrain=smae(0.0, "block", "all")
    )
    record(runs, "a1-block/tin.json", "finetune", 52.05, pretrain=smae(1.0, "block", "masked"))
    half_mae = record(
        runs,
        "mae-half/tin.json",
        "finetune",
        45.0,
        pretrain={**mae, "method_kwargs": {**mae["method_kwargs"], "mask_ratio": 0.5}},
    )
    _, csv_path = main([str(runs), "--paper", "smae-finetune", "--out", str(tmp_path / "s")])
    rows = read_csv(csv_path)
    assert float(rows[("MAE random 75%", "Tiny-ImageNet fine-tune", "acc1")]["ours_mean"]) == 54.0
    cub_cell = rows[("MAE random 75%", "CUB-200 fine-tune", "acc1")]
    assert (float(cub_cell["ours_mean"]), float(cub_cell["paper"])) == (43.0, 42.54)
    assert float(rows[("MAE block 50%", "Tiny-ImageNet fine-tune", "acc1")]["ours_mean"]) == 49.0
    alpha1 = rows[("SMAE α=1 block 50%", "Tiny-ImageNet fine-tune", "acc1")]
    assert float(alpha1["diff"]) == pytest.approx(1.0)
    supervised = rows[("Supervised (paper only)", "Tiny-ImageNet fine-tune", "acc1")]
    assert (supervised["status"], supervised["ours_mean"], float(supervised["paper"])) == (
        "paper-only",
        "",
        48.58,
    )
    assert (
        rows[("Supervised (paper only)", "CUB-200 fine-tune", "acc1")]["paper"] == "19.70"
    )  # as printed in the paper
    text = (tmp_path / "s.md").read_text()
    assert "| Supervised (paper only) | – / 48.58 / – | – / 19.70 / – |" in text
    unmatched = text.split("Not in this table (2 results files):")[1]
    assert (
        f"`{all_patches}`" in unmatched
    )  # alpha 0 with the pixel loss on all patches is not the paper's MAE
    assert f"`{half_mae}`" in unmatched  # solo-learn's mae masks at random, never in blocks


def test_vicmae_reports_top5_and_colormae_sweeps(tmp_path):
    runs = tmp_path / "runs"
    vicmae = {
        "loss": "nt_xent",
        "temperature": 0.1,
        "learnable_temperature": False,
        "projector": "code",
        "proj_hidden_dim": None,
        "proj_output_dim": None,
        "rec_weight": 0.97,
        "con_weight": 0.03,
        "con_start_epoch": 0,
    }
    record(
        runs,
        "vicmae/results.json",
        "linear",
        66.66,
        85.22,
        pretrain=args_json(
            "vicmae", "imagenet", backbone="vit_base", mask_ratio=0.5, vicmae=vicmae
        ),
    )
    _, csv_path = main([str(runs), "--paper", "vicmae-linear", "--out", str(tmp_path / "v")])
    rows = read_csv(csv_path)
    top5 = rows[("ViC-MAE, code preset (nt_xent)", "ImageNet linear top-5", "acc5")]
    assert (float(top5["ours_mean"]), float(top5["paper"])) == (85.22, 86.22) and float(
        top5["diff"]
    ) == pytest.approx(-1.0)
    assert (
        rows[("ViC-MAE, paper preset (clip)", "ImageNet linear top-1", "acc1")]["status"]
        == "missing"
    )
    assert (
        rows[("MAE+VICReg (paper only)", "ImageNet linear top-1", "acc1")]["status"] == "paper-only"
    )

    colormae = {
        "patterns": None,
        "color": "green",
        "num_patterns": 3072,
        "pattern_size": 256,
        "seed": 0,
        "mode": "per_sample",
        "fp16": False,
        "schedule": [],
    }
    pretrain = args_json(
        "colormae", "imagenet", backbone="vit_base", mask_ratio=0.5, colormae=colormae
    )
    record(runs, "colormae/ft.json", "finetune", 83.0, pretrain=pretrain)
    record(
        runs,
        "colormae/file.json",
        "finetune",
        80.0,
        pretrain=args_json(
            "colormae",
            "imagenet",
            backbone="vit_base",
            mask_ratio=0.5,
            colormae={**colormae, "patterns": "g.npz"},
        ),
    )
    _, csv_path = main([str(runs), "--paper", "colormae-mask-ratio", "--out", str(tmp_path / "c")])
    rows = read_csv(csv_path)
    cell = rows[("ColorMAE-G mask 50%", "ImageNet fine-tune", "acc1")]
    assert (float(cell["ours_mean"]), int(cell["n"]), float(cell["paper"])) == (83.0, 1, 82.97)
    assert rows[("ColorMAE-G mask 50%", "ImageNet linear", "acc1")]["status"] == "missing"


def test_knn_settings_without_all_list_and_label_subsets(tmp_path):
    runs = tmp_path / "runs"
    record(
        runs, "knn.json", "knn", 39.0, pretrain=m_mae(), settings={"k": 10, "distance": "euclidean"}
    )
    cosine = record(
        runs,
        "cos.json",
        "knn",
        99.0,
        pretrain=m_mae(seed=6),
        settings={"k": [10], "distance_function": ["cosine"], "T": [0.07]},
    )
    subset = record(
        runs, "sub.json", "linear", 12.0, pretrain=m_mae(), train_path="tiny/train_10pct"
    )
    md, csv_path = main([str(runs), "--paper", "magma-table1", "--out", str(tmp_path / "k")])
    cell = read_csv(csv_path)[("M-MAE", "CIFAR-100 kNN", "acc1")]
    assert (float(cell["ours_mean"]), int(cell["n"])) == (39.0, 1)
    notes = md.read_text().split("Not in this table (2 results files):")[1]
    assert f"`{cosine}`" in notes and "knn k=10 cosine T=0.07" in notes and f"`{subset}`" in notes


def test_refuses_to_overwrite_either_file(magma_runs):
    root, _ = magma_runs
    argv = [str(root / "runs"), "--out", str(root / "out" / "t")]
    md, csv_path = main(argv)
    first = csv_path.read_text()
    md.unlink()  # one of the two is enough to refuse
    with pytest.raises(FileExistsError, match=r"t\.csv exists; pass --overwrite"):
        main(argv)
    assert not md.exists() and csv_path.read_text() == first  # nothing written
    main(argv + ["--overwrite"])
    assert md.exists()


def test_bad_input_errors(tmp_path, magma_runs):
    root, _ = magma_runs
    with pytest.raises(
        ValueError,
        match="--paper: 'magma-table9' is unknown; allowed: magma-table1, magma-table4, magma-table5, "
        "smae-finetune, smae-mask-ratio, vicmae-linear, colormae-mask-ratio, colormae-patterns",
    ):
        main([str(root / "runs"), "--paper", "magma-table9", "--out", str(tmp_path / "x")])
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "args.json").write_text(
        json.dumps({"method": "mae"})
    )  # a json that is not a results file
    with pytest.raises(ValueError, match="RUN_DIR: no solo-ext results files below"):
        main([str(empty), "--out", str(tmp_path / "x")])
    with pytest.raises(FileNotFoundError, match="RUN_DIR: .*nowhere does not exist"):
        main([str(root / "runs"), str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x.md").exists()


def test_dataset_names_from_custom_paths():
    assert dataset_key("custom", "/data/Tiny_ImageNet/train") == "tiny-imagenet"
    assert dataset_key("custom", "/data/CUB_200_2011/images") == "cub200"
    assert dataset_key("custom", "/data/cub200/train") == "cub200"
    assert dataset_key("custom", "/data/incubator/train") == "custom:/data/incubator/train"
    assert dataset_key("custom", None, "/x/digits/val") == "digits"
    assert dataset_key("cifar100", "/data/digits") == "cifar100"


def test_magma_schedule_facts_only_count_when_lambda_is_nonzero():
    u_mae = args_json(
        "u_mae",
        mask_ratio=0.75,
        magma={**MAGMA, "weight": 0.0, "start_epoch": 60},
        uniformity_weight=0.01,
    )
    facts = pretrain_facts(u_mae)
    assert facts["magma_weight"] == 0.0 and facts["uniformity_weight"] == 0.01
    assert "magma_start_epoch" not in facts and "magma_duration" not in facts
    assert pretrain_facts(m_mae())["magma_reference_layers"] == (10,)
    assert pretrain_facts(None) == {}


def test_paper_numbers_match_the_specs():
    cells = {
        name: {key: cell.paper for key, cell in table.cells.items()}
        for name, table in PAPER_TABLES.items()
    }
    assert cells["magma-table1"][("MU-MAE", "ImageNet-100 kNN")] == "60.1"
    assert cells["magma-table1"][("M-SimCLR", "Tiny-ImageNet linear")] == "51.0"
    assert cells["magma-table4"][("M-MAE e_dur=390", "ImageNet-100 linear")] == "68.5"
    assert (
        cells["magma-table5"][("MU-MAE", "ViT-S")] == "62"
        and cells["magma-table5"][("U-MAE", "ViT-L")] == "78.2"
    )
    assert cells["smae-finetune"][("SMAE α=0.5 block 50%", "CUB-200 fine-tune")] == "47.50"
    assert cells["smae-mask-ratio"][("MAE mask 65%", "Tiny-ImageNet linear")] == "32.32"
    assert cells["vicmae-linear"][("MAE+SimSiam (paper only)", "ImageNet linear top-5")] == "82.88"
    assert cells["colormae-mask-ratio"][("ColorMAE-G mask 85%", "ImageNet linear")] == "60.12"
    assert cells["colormae-patterns"][("ColorMAE-G 512 patterns", "ImageNet linear")] == "62.43"
    sizes = {name: (len(table.rows), len(table.columns)) for name, table in PAPER_TABLES.items()}
    assert sizes == {
        "magma-table1": (8, 8),
        "magma-table4": (13, 1),
        "magma-table5": (4, 3),
        "smae-finetune": (8, 2),
        "smae-mask-ratio": (8, 1),
        "vicmae-linear": (4, 2),
        "colormae-mask-ratio": (5, 2),
        "colormae-patterns": (4, 2),
    }
