"""Lightning DDP pretraining steps on CPU (gloo), recording what each rank computed.

    python tests/integration/ddp_worker.py DIGITS_DIR OUT_DIR '[[NAME, PROBE, CONFIG, [OVERRIDE, ...]], ...]'

Run as a script, not inside pytest: with ``strategy: ddp`` Lightning starts rank 1 by re-running this
command line (``sys.argv``) with LOCAL_RANK=1, so both ranks run every job here in order: build the zoo's
digits CONFIG, train one step through ``solo_ext.launch.pretrain.pretrain`` (our launcher, its
``build_trainer`` and solo-learn's data loader, which Lightning re-samples with a DistributedSampler) and write
``OUT_DIR/NAME/rank<r>.pt``. Jobs after the first reuse the two processes and their process group (Lightning
sees LOCAL_RANK set and launches nothing), which saves a start-up per job.

PROBE says what to record, by wrapping methods of the model instance (nothing global changes):
  magma     the block features the regulariser received (before any gather), the logged MAGMA loss, the
            regulariser's returned term and the first training forward's mask
  contrast  ViC-MAE's projections, dataset indexes and contrastive loss; the first index of every rank's
            batch is replaced by SHARED_INDEX, so one image is a positive across the two ranks
  bank      ColorMAE's bank device against the model's; rank 1 adds 1 to its bank before training, so a
            bank that DDP broadcast from rank 0 would lose the difference
"""

import json
import sys
from pathlib import Path

import torch

SHARED_INDEX = (
    10**6
)  # beyond any digits index: the DistributedSampler gives each rank different images
BATCH_PER_RANK = 8


def overrides(*extra):
    """Overrides of a ``digits_config``: two CPU processes under DDP, one step, no validation or checkpoints."""
    return [
        "devices=[0,1]",
        "strategy=ddp",
        "accelerator=cpu",
        f"optimizer.batch_size={BATCH_PER_RANK}",
        "limit_train_batches=1",
        "data.val_path=null",
        "knn_eval.enabled=false",
        "checkpoint.enabled=false",
        "+enable_model_summary=false",
        *extra,
    ]


def probe_magma(model, record):
    regulariser, log_dict, forward = model.regulariser, model.log_dict, model.forward

    def recording_forward(X):
        out = forward(X)
        if model.training and "mask" not in record:
            record["mask"] = out["mask"].detach().clone()
        return out

    def recording_regulariser(block_feats, feats):
        record["block_feats"] = {layer: f.detach().clone() for layer, f in block_feats.items()}
        record["reference_layers"], record["target_layer"] = (
            list(model.reference_layers),
            model.target_layer,
        )
        term = regulariser(block_feats, feats)
        record["regulariser"] = term.detach().clone()
        return term

    def recording_log_dict(metrics, *args, **kwargs):
        if "train_magma_loss" in metrics:
            record["logged_magma_loss"] = metrics["train_magma_loss"].detach().clone()
            record["logged_magma_weight"] = float(metrics["train_magma_weight"])
        return log_dict(metrics, *args, **kwargs)

    model.regulariser, model.log_dict, model.forward = (
        recording_regulariser,
        recording_log_dict,
        recording_forward,
    )


def probe_contrast(model, record):
    training_step, contrastive_loss = model.training_step, model.contrastive_loss

    def recording_training_step(batch, batch_idx):
        record["dataset_indexes"] = batch[0].clone()
        batch[0][0] = SHARED_INDEX
        return training_step(batch, batch_idx)

    def recording_contrastive_loss(projections, indexes):
        loss = contrastive_loss(projections, indexes)
        record["projections"] = [p.detach().clone() for p in projections]
        record["indexes"], record["loss"] = indexes.clone(), loss.detach().clone()
        return loss

    model.training_step, model.contrastive_loss = (
        recording_training_step,
        recording_contrastive_loss,
    )


def probe_bank(model, record):
    epoch_start, mask_scores = model.on_train_epoch_start, model.mask_scores

    def perturbing_epoch_start():
        epoch_start()
        if model.global_rank == 1:
            model.masker.bank = model.masker.bank + 1.0

    def recording_mask_scores(X):
        bank = model.masker.bank
        scores = mask_scores(X)
        record.update(
            bank_device=str(bank.device),
            model_device=str(model.device),
            input_device=str(X.device),
            pattern_indexes=model.masker.last_index.clone(),
            bank_sum=float(bank.double().sum()),
            bank_numel=bank.numel(),
            bank_in_state_dict=any("bank" in key for key in model.state_dict()),
            bank_in_buffers=any(b is bank for b in model.buffers()),
        )
        return scores

    model.on_train_epoch_start, model.mask_scores = perturbing_epoch_start, recording_mask_scores


PROBES = {"magma": probe_magma, "contrast": probe_contrast, "bank": probe_bank}


def run_job(name, probe, config, extra, digits_dir, out_dir):
    import solo_ext.launch.pretrain as launcher
    from tests.integration.helpers import digits_config

    record = {}
    build_model = launcher.build_model

    def build_and_probe(cfg):
        cfg, model = build_model(cfg)
        PROBES[probe](model, record)
        return cfg, model

    launcher.build_model = build_and_probe  # this process only
    try:
        job_dir = Path(out_dir) / name
        job_dir.mkdir(exist_ok=True)
        trainer = launcher.pretrain(digits_config(config, digits_dir, job_dir, *overrides(*extra)))
    finally:
        launcher.build_model = build_model
    model = trainer.lightning_module
    record.update(
        rank=trainer.global_rank,
        world_size=trainer.world_size,
        strategy=type(trainer.strategy).__name__,
        global_step=trainer.global_step,
        param_checksum=sum(float(p.detach().double().sum()) for p in model.parameters()),
    )
    torch.save(record, job_dir / f"rank{trainer.global_rank}.pt")


def main(digits_dir, out_dir, jobs):
    import solo_ext

    solo_ext.register()
    for name, probe, config, extra in json.loads(jobs):
        run_job(name, probe, config, extra, digits_dir, out_dir)


if __name__ == "__main__":
    main(*sys.argv[1:])
