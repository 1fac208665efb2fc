"""Lost or corrupted work (issue #16): run folders never shared, checkpoints never half-written, auto-resume
passes over broken checkpoints, Ctrl-C exits 130 and says how to resume."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback

import solo_ext.launch.pretrain as pretrain_launcher
from solo_ext.config import ConfigError
from solo_ext.launch.runs import (
    RunCheckpointer,
    RunFolder,
    checkpoint_problem,
    claim_run_folder,
    find_resumable,
)
from tests.integration.helpers import digits_config, zoo_args

SHORT = ["limit_train_batches=1", "data.val_path=null", "knn_eval.enabled=false"]


def run_folders(root: Path):
    return sorted(p for p in (root / "trained_models" / "mae").iterdir() if p.is_dir())


def pretrain_in(cwd: Path, cfg, monkeypatch):
    cwd.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(cwd)
    return pretrain_launcher.pretrain(cfg)


def test_same_checkpoint_dir_from_two_working_directories_gives_two_runs(
    digits_dir, tmp_path, monkeypatch
):
    """The run id used to be lightning_logs/version_N of the working directory: both runs wrote <dir>/mae/0/."""
    first = pretrain_in(
        tmp_path / "a",
        digits_config("mae", digits_dir, tmp_path, *SHORT, "name=first", tiny_vit=True),
        monkeypatch,
    )
    second = pretrain_in(
        tmp_path / "b",
        digits_config("mae", digits_dir, tmp_path, *SHORT, "name=second", tiny_vit=True),
        monkeypatch,
    )
    folders = run_folders(tmp_path)
    assert len(folders) == 2
    names = {json.loads((folder / "args.json").read_text())["name"] for folder in folders}
    assert names == {"first", "second"}
    for folder in folders:  # each folder holds its own run's checkpoint and logs
        (ckpt,) = folder.glob("*.ckpt")
        assert folder.name in ckpt.name and not list(folder.glob("*.partial"))
        (metrics,) = folder.glob("logs/version_*/metrics.csv")
        assert "train_reconstruction_loss" in metrics.read_text()
    assert (
        not (tmp_path / "a" / "lightning_logs").exists()
        and not (tmp_path / "b" / "lightning_logs").exists()
    )
    assert first.global_step == second.global_step == 1


def test_concurrent_claims_get_distinct_folders(tmp_path, monkeypatch):
    claimed, barrier = [], threading.Barrier(8)

    def claim():
        barrier.wait()
        claimed.append(claim_run_folder(tmp_path / "runs", wandb=False).path)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(claimed)) == 8 and all(path.is_dir() for path in claimed)


def test_claim_retries_when_the_id_is_taken(tmp_path, monkeypatch):
    ids = iter(["aaaaaaaa", "aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr("solo_ext.launch.runs._new_id", lambda: next(ids))
    first = claim_run_folder(tmp_path, wandb=True)
    (first.path / "args.json").write_text("{}")
    second = claim_run_folder(tmp_path, wandb=True)
    assert (first.path.name, second.path.name) == ("aaaaaaaa", "bbbbbbbb")
    assert (first.path / "args.json").read_text() == "{}"  # untouched


def test_ranks_above_zero_claim_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("SOLO_EXT_RUN_DIR", str(tmp_path / "runs" / "offline-abc"))
    monkeypatch.setenv("LOCAL_RANK", "1")
    run = claim_run_folder(tmp_path / "runs", wandb=False)
    assert run.path == tmp_path / "runs" / "offline-abc" and not (tmp_path / "runs").exists()


class FakeTrainer:
    """What RunCheckpointer.save uses of a Trainer; save_checkpoint dies after writing ``written`` bytes."""

    sanity_checking, is_global_zero, current_epoch = False, True, 3

    def __init__(self, written=None):
        self.written = written

    def save_checkpoint(self, path):
        data = b"\x50\x4b" * 1000
        Path(path).write_bytes(data if self.written is None else data[: self.written])
        if self.written is not None:
            raise KeyboardInterrupt  # the process is stopped mid-write


def test_checkpoint_is_renamed_only_when_complete(tmp_path):
    from omegaconf import OmegaConf

    cfg = OmegaConf.create({"name": "run", "wandb": {"enabled": False}})
    checkpointer = RunCheckpointer(cfg, RunFolder(tmp_path / "offline-x", "x", resumed=False))
    checkpointer.initial_setup(FakeTrainer())
    with pytest.raises(KeyboardInterrupt):
        checkpointer.save(FakeTrainer(written=100))
    assert not list(
        checkpointer.path.glob("*.ckpt")
    )  # only run-offline-x-ep=3.ckpt.partial is left
    assert [p.name for p in checkpointer.path.iterdir()] == ["run-offline-x-ep=3.ckpt.partial"]
    checkpointer.save(FakeTrainer())
    assert [p.name for p in checkpointer.path.glob("*.ckpt")] == ["run-offline-x-ep=3.ckpt"]
    assert checkpointer.last_ckpt.stat().st_size == 2000


def test_checkpoint_problem_names_truncated_and_foreign_files(tmp_path):
    good = tmp_path / "good.ckpt"
    torch.save({"state_dict": {"w": torch.ones(3)}, "epoch": 0}, good)
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    random_bytes = tmp_path / "random.ckpt"
    random_bytes.write_bytes(os.urandom(512))
    plain = tmp_path / "plain.ckpt"
    torch.save({"w": torch.ones(3)}, plain)
    assert checkpoint_problem(good) is None
    assert checkpoint_problem(truncated) and checkpoint_problem(random_bytes)
    assert checkpoint_problem(plain) == "not a Lightning checkpoint (no state_dict)"


class Killed(RuntimeError):
    pass


class KillAtEpoch(Callback):
    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            raise Killed(f"killed as epoch {self.epoch} starts")


@pytest.fixture(scope="module")
def two_epoch_run(digits_dir, tmp_path_factory):
    """MAE scheduled for three one-step epochs, killed as the third starts: checkpoints of epochs 0 and 1 kept."""
    out = tmp_path_factory.mktemp("two_epochs")
    cfg = digits_config(
        "mae", digits_dir, out, *SHORT, "max_epochs=3", "++checkpoint.keep_prev=true", tiny_vit=True
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(out)
        patch.setattr(pretrain_launcher, "_callbacks", lambda cfg: [KillAtEpoch(2)])
        with pytest.raises(Killed):
            pretrain_launcher.pretrain(cfg)
    (folder,) = run_folders(out)
    return out, folder


def test_auto_resume_skips_a_truncated_checkpoint_with_a_warning(
    two_epoch_run, digits_dir, tmp_path
):
    out, folder = two_epoch_run
    copy = tmp_path / "trained_models" / "mae" / folder.name
    copy.mkdir(parents=True)
    for item in folder.iterdir():
        if item.is_file():
            (copy / item.name).write_bytes(item.read_bytes())
    ep0, ep1 = sorted(copy.glob("*.ckpt"))
    os.utime(ep0, (time.time() - 60, time.time() - 60))
    ep1.write_bytes(ep1.read_bytes()[:1000])  # killed while writing (as before atomic writes)
    cfg, _ = (
        pretrain_launcher.build_model(  # the settings as parsed (lr scaled) are what args.json holds
            digits_config(
                "mae",
                digits_dir,
                tmp_path,
                *SHORT,
                "max_epochs=3",
                "auto_resume.enabled=true",
                tiny_vit=True,
            )
        )
    )
    with pytest.warns(UserWarning, match=f"skipping {ep1}: it does not load"):
        ckpt, _ = find_resumable(tmp_path / "trained_models" / "mae", cfg)
    assert ckpt == ep0


def test_auto_resume_continues_in_the_run_folder(two_epoch_run, digits_dir, tmp_path, monkeypatch):
    out, folder = two_epoch_run
    cfg = digits_config(
        "mae",
        digits_dir,
        out,
        *SHORT,
        "max_epochs=3",
        "++checkpoint.keep_prev=true",
        "auto_resume.enabled=true",
        tiny_vit=True,
    )
    trainer = pretrain_in(tmp_path, cfg, monkeypatch)
    assert trainer.current_epoch == 3 and trainer.global_step == 3  # one more step, not three
    assert run_folders(out) == [folder]  # resumed in its own folder, no new one
    assert sorted(p.name.rsplit("=", 1)[1] for p in folder.glob("*.ckpt")) == [
        "0.ckpt",
        "1.ckpt",
        "2.ckpt",
    ]
    assert sorted(p.name for p in (folder / "logs").iterdir()) == [
        "version_0",
        "version_1",
    ]  # logs kept


def test_resume_from_a_truncated_checkpoint_is_one_clear_error(two_epoch_run, digits_dir, tmp_path):
    _, folder = two_epoch_run
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(sorted(folder.glob("*.ckpt"))[0].read_bytes()[:1000])
    cfg = digits_config(
        "mae", digits_dir, tmp_path, *SHORT, f"+resume_from_checkpoint='{broken}'", tiny_vit=True
    )
    with pytest.raises(ConfigError, match=r"resume_from_checkpoint: .*broken.ckpt' does not load"):
        pretrain_launcher.pretrain(cfg)


@pytest.mark.slow
def test_ctrl_c_exits_130_and_says_how_to_resume(digits_dir, tmp_path):
    """A real `solo-ext pretrain` process, SIGINT once its first checkpoint is on disk."""
    command = [
        sys.executable,
        "-m",
        "solo_ext.cli",
        "pretrain",
        *zoo_args("mae"),
        f"data.train_path={digits_dir}/train",
        "data.val_path=null",
        "knn_eval.enabled=false",
        "checkpoint.dir=trained_models",
        "max_epochs=100000",  # never ends by itself (500 one-step epochs ended in ~2 min)
        "+limit_train_batches=1",
        "+enable_progress_bar=false",
        "data.num_workers=0",
        "optimizer.batch_size=16",
    ]
    # Ctrl-C as in a terminal: a test run started in the background (nohup, `&` in a script, CI)
    # inherits SIGINT ignored, and so would the child, which then trained on and exited 0
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 600  # generous: on a loaded 2-core machine start-up alone took minutes
    while (
        not list(tmp_path.glob("trained_models/mae/*/*.ckpt"))
        and time.time() < deadline
        and process.poll() is None
    ):
        time.sleep(0.2)
    assert process.poll() is None and list(tmp_path.glob("trained_models/mae/*/*.ckpt")), (
        "no checkpoint"
    )
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted before the end of training" in stderr and "final validation" not in stdout
    last = stderr.split("last checkpoint: ")[1].split("\n")[0]
    assert Path(tmp_path, last).is_file() or Path(last).is_file()
    assert f"+resume_from_checkpoint='{last}'" in stderr
