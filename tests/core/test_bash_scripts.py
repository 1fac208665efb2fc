"""The reproduce_<paper>.sh scripts in --dry-run: the whole chain is printed, nothing runs or is written."""

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "bash_scripts"
pytestmark = pytest.mark.skipif(shutil.which("solo-ext") is None or shutil.which("bash") is None,
                                reason="needs bash and the solo-ext command on PATH (pip install .)")


def dry_run(script, *args, cwd):
    result = subprocess.run(["bash", str(SCRIPTS / script), "--dry-run", "--out", "runs", *args],
                            capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert not (Path(cwd) / "runs").exists() and not (Path(cwd) / "datasets").exists()  # printed, not run
    return [line for line in result.stdout.splitlines() if line.startswith("solo-ext ")]


def test_magma_chain(tmp_path):
    lines = dry_run("reproduce_magma.sh", "--datasets", "cifar100 tiny-imagenet", "--tables", "1 5",
                    "--tiny-imagenet-src", "/data/tiny-imagenet-200", cwd=tmp_path)
    assert lines[0] == "solo-ext data tiny-imagenet --src /data/tiny-imagenet-200 --out datasets/tiny-imagenet "
    pretrain = [line for line in lines if line.startswith("solo-ext pretrain")]
    assert len(pretrain) == 2 * 8 + 2 * 4  # Table 1: 8 rows x 2 datasets; Table 5: 4 rows x ViT-S/L
    assert sum("backbone.name=vit_large" in line for line in pretrain) == 4
    assert sum(line.startswith("solo-ext knn") and "--out runs/" in line for line in lines) == len(pretrain)
    assert lines[-1] == "solo-ext table runs --paper magma-table5 --out runs/magma-table5 --overwrite "
    assert "solo-ext table runs --paper magma-table1 --out runs/magma-table1 --overwrite " in lines


def test_smae_chain(tmp_path):
    lines = dry_run("reproduce_smae.sh", "--tiny-imagenet-src", "/d/tin", "--cub-src", "/d/CUB_200_2011.tgz",
                    "--mask-ratios", "0.5 0.9", cwd=tmp_path)
    assert [line.split()[1:3] for line in lines[:3]] == [["data", "tiny-imagenet"], ["data", "cub200"], ["critic", "train"]]
    finetunes = [line for line in lines if "--config-name smae-finetune" in line]
    assert len(finetunes) == 2 * 7 and sum("linear/cub200" in line for line in finetunes) == 7
    assert sum("method_kwargs.mask_ratio=0.9" in line for line in lines) == 1
    assert lines[-2:] == ["solo-ext table runs --paper smae-finetune --out runs/smae-finetune --overwrite ",
                          "solo-ext table runs --paper smae-mask-ratio --out runs/smae-mask-ratio --overwrite "]


def test_vicmae_and_colormae_chains(tmp_path):
    lines = dry_run("reproduce_vicmae.sh", "--datasets", "imagenet", "--gpus", "0,1,2,3,4,5,6,7", cwd=tmp_path)
    assert [line.split("--config-name ")[1].split()[0] for line in lines if line.startswith("solo-ext pretrain")] == ["vicmae", "vicmae-paper"]
    assert all("devices=\\[0\\,1\\,2\\,3\\,4\\,5\\,6\\,7\\]" in line for line in lines if line.startswith("solo-ext pretrain"))
    assert sum("--config-name vicmae-linear" in line for line in lines) == 2 and lines[-1].startswith("solo-ext table runs --paper vicmae-linear")
    lines = dry_run("reproduce_colormae.sh", "--ablations", "mask_ratio", cwd=tmp_path)
    assert sum("method_kwargs.mask_ratio=" in line for line in lines) == 5
    assert sum("--config-name colormae-linear" in line for line in lines) == 5


def test_bad_arguments_stop_with_a_message(tmp_path):
    result = subprocess.run(["bash", str(SCRIPTS / "reproduce_magma.sh"), "--tables", "9", "--dry-run"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and "--tables: '9' is unknown; allowed: 1 4 5" in result.stderr
    result = subprocess.run(["bash", str(SCRIPTS / "reproduce_smae.sh")], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and "missing datasets/tiny-imagenet: pass --tiny-imagenet-src" in result.stderr
