from pathlib import Path

import yaml

from solo_ext.tools.zoo import DATASETS, generate

ZOO = Path(__file__).resolve().parents[2] / "zoo_configs"


def test_committed_zoo_matches_the_tables():
    for relative, text in generate().items():
        assert (ZOO / relative).read_text() == text, f"{relative} is stale: run python -m solo_ext.tools.zoo"


def test_pairs_differ_only_by_the_regulariser():
    for dataset in DATASETS:
        for base, variant in [("mae", "m-mae"), ("simclr", "m-simclr"), ("vicreg", "m-vicreg"), ("u-mae", "mu-mae"),
                              ("mae", "colormae")]:
            if not (ZOO / f"pretrain/{dataset}/{variant}.yaml").exists():
                continue
            a = yaml.safe_load((ZOO / f"pretrain/{dataset}/{base}.yaml").read_text())
            b = yaml.safe_load((ZOO / f"pretrain/{dataset}/{variant}.yaml").read_text())
            for cfg in (a, b):
                cfg.pop("name"), cfg.pop("method"), cfg["method_kwargs"].pop("magma", None)
                cfg["method_kwargs"].pop("colormae", None)
            assert a == b, (dataset, base, variant)


def test_paper_settings():
    cifar = yaml.safe_load((ZOO / "pretrain/cifar100/m-mae.yaml").read_text())
    assert cifar["max_epochs"] == 2000 and cifar["optimizer"]["lr"] == 1.5e-4
    assert cifar["method_kwargs"]["magma"]["start_epoch"] == 60 and cifar["backbone"]["kwargs"]["patch_size"] == 4
    in100 = yaml.safe_load((ZOO / "pretrain/imagenet100/mu-mae.yaml").read_text())
    assert in100["backbone"]["name"] == "vit_base" and in100["method_kwargs"]["uniformity_weight"] == 0.01
    linear = yaml.safe_load((ZOO / "linear/cifar100/linear.yaml").read_text())
    assert linear["scheduler"]["lr_decay_steps"] == [60, 80] and linear["optimizer"]["lr"] == 0.1


def test_evaluation_protocols():
    vic = yaml.safe_load((ZOO / "linear/imagenet/vicmae-linear.yaml").read_text())
    assert vic["head_batchnorm"] is True and vic["max_epochs"] == 90
    assert vic["optimizer"] == {"name": "sgd", "batch_size": 256, "lr": 0.1, "weight_decay": 0.0}
    color = yaml.safe_load((ZOO / "linear/imagenet/colormae-linear.yaml").read_text())
    assert color["head_batchnorm"] is True and color["optimizer"]["name"] == "lars" and color["scheduler"]["warmup_epochs"] == 10
    tin = yaml.safe_load((ZOO / "linear/tiny-imagenet/smae-finetune.yaml").read_text())
    cub = yaml.safe_load((ZOO / "linear/cub200/smae-finetune.yaml").read_text())
    assert cub["finetune"] is True and cub["optimizer"]["lr"] == tin["optimizer"]["lr"] / 2  # the paper halves it on CUB
    assert cub["data"]["augmentations"] == tin["data"]["augmentations"]  # 64 px, pretraining statistics
    for dataset in DATASETS:  # every zoo method has its probe
        methods = {p.stem for p in (ZOO / "pretrain" / dataset).glob("*.yaml")}
        probes = {p.stem for p in (ZOO / "linear" / dataset).glob("*.yaml")}
        assert "linear" in probes
        assert ("colormae" not in methods) or "colormae-linear" in probes
        assert ("vicmae" not in methods) or "vicmae-linear" in probes
        assert ("smae" not in methods) or {"smae-linear", "smae-finetune"} <= probes
