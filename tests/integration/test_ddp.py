"""The methods under real Lightning DDP: 2 CPU processes (gloo), one training step through `solo-ext pretrain`'s
launcher, each rank fed its half of the batch by Lightning's DistributedSampler.

``ddp_worker.py`` runs every job once, as a script in a subprocess. It uses ``strategy: ddp``, the strategy of our
multi-GPU configs (``build_trainer`` makes it a DDPStrategy), which starts rank 1 by re-running the script's command
line: that cannot happen inside pytest itself. (``ddp_spawn`` would pickle the model, and with it the recording
wrappers, into fresh processes.) The worker records what every rank computed; here one process recomputes the loss
over the concatenated batch, without a process group.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from solo_ext.launch.pretrain import build_model
from solo_ext.losses import magma_loss
from tests.integration import ddp_worker
from tests.integration.helpers import digits_config, solo_ext_command, zoo_args

pytestmark = pytest.mark.ddp
REPO = Path(__file__).resolve().parents[2]
WORLD = 2

MAGMA_ON = ["++method_kwargs.magma.start_epoch=0", "++method_kwargs.magma.weight=0.5"]
JOBS = [
    # name, probe, zoo digits config, overrides
    ("magma-gather", "magma", "m-mae", ["++method_kwargs.magma.gather=true", *MAGMA_ON]),
    ("magma-local", "magma", "m-mae", ["++method_kwargs.magma.gather=false", *MAGMA_ON]),
    ("vicmae", "contrast", "vicmae", []),
    ("vicmae-paper", "contrast", "vicmae-paper", []),
    ("colormae", "bank", "colormae", []),
]


@pytest.fixture(scope="module")
def ddp_runs(digits_dir, tmp_path_factory):
    """Runs every job once in the same two DDP processes; returns a function: job name -> records in rank order."""
    out_dir = tmp_path_factory.mktemp("ddp")
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "WANDB_MODE": "disabled"}
    command = [sys.executable, ddp_worker.__file__, str(digits_dir), str(out_dir), json.dumps(JOBS)]
    proc = subprocess.Popen(
        command,
        cwd=out_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # its own group: a hung rank is killed with the launcher
    try:
        output, _ = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"DDP run timed out:\n{output[-3000:]}")
    assert proc.returncode == 0, output[-3000:]

    def records(name):
        ranks = [
            torch.load(out_dir / name / f"rank{rank}.pt", weights_only=False)
            for rank in range(WORLD)
        ]
        for rank, r in enumerate(ranks):
            assert (r["rank"], r["world_size"], r["strategy"], r["global_step"]) == (
                rank,
                WORLD,
                "DDPStrategy",
                1,
            )
        # DDP averaged the gradients: both ranks took the same optimizer step
        assert ranks[0]["param_checksum"] == pytest.approx(ranks[1]["param_checksum"], rel=1e-9)
        return ranks

    return records


def mean_magma(block_feats, references, target):
    return sum(magma_loss(block_feats[k], block_feats[target]) for k in references) / len(
        references
    )


@pytest.mark.parametrize("gather", [True, False])
def test_mmae_magma_loss_under_ddp(gather, ddp_runs):
    """gather: true gives every rank the MAGMA loss of the concatenated batch (and trains on it); gather: false
    the loss of its own half (the paper's per-device graph)."""
    ranks = ddp_runs("magma-gather" if gather else "magma-local")
    references, target = ranks[0]["reference_layers"], ranks[0]["target_layer"]
    layers = [*references, target]
    global_feats = {
        layer: torch.cat([r["block_feats"][layer] for r in ranks]) for layer in layers
    }  # [WORLD·B, D]
    assert global_feats[target].shape[0] == WORLD * ddp_worker.BATCH_PER_RANK
    global_loss = mean_magma(global_feats, references, target)
    for r in ranks:
        local_loss = mean_magma(r["block_feats"], references, target)
        assert not torch.allclose(
            local_loss, global_loss, rtol=1e-3
        )  # the check can tell the two apart
        expected = global_loss if gather else local_loss
        assert torch.allclose(r["logged_magma_loss"], expected, rtol=1e-5)
        assert r["logged_magma_weight"] == 0.5
        assert torch.allclose(
            r["regulariser"], 0.5 * expected, rtol=1e-5
        )  # the term added to the training loss


@pytest.mark.parametrize("preset", ["vicmae", "vicmae-paper"])
def test_vicmae_contrastive_loss_under_ddp(preset, ddp_runs, digits_dir, tmp_path):
    """The mean of the ranks' contrastive losses (what DDP's gradient averaging trains) is the one-process loss
    over the concatenated batch, with an image present on both ranks counted as a positive across them."""
    ranks = ddp_runs(preset)
    real = [r["dataset_indexes"] for r in ranks]
    assert (
        len(set(torch.cat(real).tolist())) == WORLD * ddp_worker.BATCH_PER_RANK
    )  # DistributedSampler split the data
    for r in ranks:
        assert r["indexes"][0] == ddp_worker.SHARED_INDEX and torch.equal(
            r["indexes"][1:], r["dataset_indexes"][1:]
        )

    _, model = build_model(digits_config(preset, digits_dir, tmp_path, *ddp_worker.overrides()))
    views = [
        torch.cat([r["projections"][v] for r in ranks]) for v in range(2)
    ]  # [WORLD·B, P] per view, rank order
    expected = model.contrastive_loss(views, torch.cat([r["indexes"] for r in ranks]))
    got = torch.stack([r["loss"] for r in ranks])
    assert torch.allclose(got.mean(), expected, rtol=1e-5)
    for r, loss in zip(ranks, got):  # each rank's own half alone would give a different loss
        assert not torch.allclose(
            model.contrastive_loss(r["projections"], r["indexes"]), loss, rtol=1e-3
        )


def test_colormae_bank_is_per_rank_and_never_broadcast(ddp_runs):
    """On each rank the bank sits on the model's device and outside state_dict/buffers; rank 1 changed its
    bank before training and still has its own at the step (DDP broadcasts registered buffers from rank 0)."""
    ranks = ddp_runs("colormae")
    for r in ranks:
        assert r["bank_device"] == r["model_device"] == r["input_device"]
        assert not r["bank_in_state_dict"] and not r["bank_in_buffers"]
    assert ranks[1]["bank_sum"] - ranks[0]["bank_sum"] == pytest.approx(
        ranks[1]["bank_numel"], rel=1e-6
    )


def test_ranks_draw_their_own_masks(ddp_runs):
    """solo-learn seeds every rank alike; solo-ext's launcher reseeds rank r with seed + r (RankSeed), so the
    ranks' MAE masks and ColorMAE's pattern choices differ, as in MAE's reference code."""
    magma = ddp_runs("magma-gather")
    assert magma[0]["mask"].shape == magma[1]["mask"].shape and not torch.equal(
        magma[0]["mask"], magma[1]["mask"]
    )
    colormae = ddp_runs("colormae")
    assert not torch.equal(colormae[0]["pattern_indexes"], colormae[1]["pattern_indexes"])


def test_solo_ext_pretrain_command_starts_every_ddp_rank(digits_dir, tmp_path):
    """devices=[0,1] strategy=ddp from the command line: Lightning starts rank 1 by re-running the command, which
    must still name the pretrain command after Hydra has parsed its overrides."""
    result = solo_ext_command(
        "pretrain",
        *zoo_args("m-mae"),
        f"data.train_path={digits_dir}/train",
        "data.val_path=null",
        "devices=[0,1]",
        "strategy=ddp",
        "max_epochs=1",
        "+limit_train_batches=1",
        "optimizer.batch_size=8",
        "knn_eval.enabled=false",
        "checkpoint.enabled=false",
        "data.num_workers=0",
        "hydra/job_logging=default",
        cwd=tmp_path,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in output
