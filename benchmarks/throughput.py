"""Training cost of each solo-ext method against its baseline, measured in one process.

    python benchmarks/throughput.py [--dataset cifar100] [--batch 64] [--steps 40] [--pairs m_mae ...]

For every (method, baseline) pair both models are built from the zoo config of the same dataset (same
backbone, batch and crops), then timed step by step, alternating between the two, over full training
steps (forward, backward, AdamW step) on synthetic images; the ratio of throughputs (from median step
times) is printed beside an A/A control (a second copy of the baseline: the machine's timing noise),
the step time, the method's own added work timed alone (MAGMA terms forward+backward, or ColorMAE's
mask sampling), and peak GPU memory when CUDA is present.
The MAGMA term is switched on from step 0 so its cost is in the measurement.
"""

import argparse
import logging
import os
import statistics
import time
import warnings

import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import solo_ext
from solo_ext.cli import zoo_path
from solo_ext.losses import magma_loss, uniformity_loss
from solo_ext.masking import mask_from_scores

# (method config, baseline config, target ratio)
PAIRS = {
    "m_mae": ("m-mae", "mae", 0.995),
    "mu_mae": ("mu-mae", "u-mae", 0.995),
    "m_simclr": ("m-simclr", "simclr", 0.995),
    "m_vicreg": ("m-vicreg", "vicreg", 0.995),
    "colormae": ("colormae", "mae", 0.99),
    "smae": ("smae", "mae-lite", 0.85),  # SMAE's zoo exists for tiny-imagenet (and digits) only
}
PAIR_DATASET = {"smae": "tiny-imagenet"}


def untrained_critic() -> str:
    """A random-init critic: the perceptual loss costs the same whatever the critic's weights."""
    import tempfile

    from solo_ext.losses import build_critic, save_critic

    path = os.path.join(tempfile.mkdtemp(prefix="solo-ext-bench-"), "critic.pt")
    return str(save_critic(path, build_critic(10), 10, top1=0.0))


def build(dataset: str, config: str, batch: int, device: torch.device):
    from solo.args.pretrain import parse_cfg
    from solo.methods import METHODS

    overrides = [f"optimizer.batch_size={batch}", "knn_eval.enabled=false", "data.train_path=/unused", "data.val_path=null"]
    if config.startswith("smae"):
        overrides.append(f"++method_kwargs.smae.critic={untrained_critic()}")
    if config.startswith("m-") or config == "mu-mae":
        overrides.append("++method_kwargs.magma.start_epoch=0")
    with initialize_config_dir(config_dir=str(zoo_path() / "pretrain" / dataset), version_base="1.2"):
        cfg = compose(config_name=config, overrides=overrides)
    OmegaConf.set_struct(cfg, False)
    cfg.data.num_classes = 10  # no dataset folder is read
    cfg.data.dataset = "cifar100" if cfg.data.dataset == "custom" else cfg.data.dataset
    cfg = parse_cfg(cfg)
    torch.manual_seed(0)
    model = METHODS[cfg.method](cfg).to(device)
    crop = cfg.augmentations[0].crop_size
    crops = [torch.randn(batch, 3, crop, crop, device=device) for _ in range(cfg.data.num_large_crops)]
    batch_data = [torch.arange(batch, device=device), crops, torch.randint(0, 10, (batch,), device=device)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    return model, batch_data, optimizer


def step(model, batch_data, optimizer):
    loss = model.training_step(batch_data, 0)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def step_seconds(model, batch_data, optimizer, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    step(model, batch_data, optimizer)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def peak_memory(model, batch_data, optimizer, device) -> float:
    if device.type != "cuda":
        return float("nan")
    torch.cuda.reset_peak_memory_stats(device)
    step(model, batch_data, optimizer)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated(device) / 2**30


def own_work_ms(model, batch: int, device, repeats: int = 50) -> float:
    """The method's own added work, timed alone: MAGMA + uniformity forward/backward on [batch, D]
    features, or ColorMAE's mask sampling (pattern windows + top-k split)."""
    masker = getattr(model, "masker", None)
    if getattr(model, "perceptual", None) is not None:  # SMAE: the critic's forward+backward on a reconstruction
        crop = model.grid * model._vit_patch_size
        reconstruction = torch.randn(batch, 3, crop, crop, device=device, requires_grad=True)
        target = torch.randn(batch, 3, crop, crop, device=device)
        work = lambda: model.perceptual(reconstruction, target).backward()  # noqa: E731
    elif masker is not None:
        work = lambda: mask_from_scores(masker.scores(batch, model.grid), model.mask_ratio)  # noqa: E731
    else:
        dim = model.features_dim
        x, y = (torch.randn(batch, dim, device=device, requires_grad=True) for _ in range(2))
        work = lambda: (magma_loss(x, y) + uniformity_loss(y)).backward()  # noqa: E731
    seconds = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        work()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    return 1e3 * statistics.median(seconds)


def measure(name, dataset, batch, steps, device):
    method_cfg, baseline_cfg, target = PAIRS[name]
    dataset = PAIR_DATASET.get(name, dataset)
    configs = (("method", method_cfg), ("baseline", baseline_cfg), ("control", baseline_cfg))
    models = {label: build(dataset, cfg, batch, device) for label, cfg in configs}
    if hasattr(models["method"][0], "s_pix"):  # SMAE: calibrated constants, as after on_train_start
        models["method"][0].s_pix.fill_(1.0), models["method"][0].s_perc.fill_(1.0)
    for parts in models.values():  # warm-up
        for _ in range(2):
            step(*parts)
    # steps rotate between the models, so slow drifts of the machine hit all alike; the median step time
    # ignores steps slowed by other load. "control" is a second copy of the baseline: its ratio to the
    # baseline shows how finely this machine can resolve a ratio at all.
    seconds = {label: [] for label in models}
    labels = list(models)
    for i in range(steps):
        for label in labels[i % 3 :] + labels[: i % 3]:
            seconds[label].append(step_seconds(*models[label], device))
    speed = {label: batch / statistics.median(values) for label, values in seconds.items()}
    memory = {label: peak_memory(*models[label], device) for label in ("method", "baseline")}
    masker = getattr(models["method"][0], "masker", None)
    if masker is not None:  # ColorMAE: the bank's memory, as stored and in fp16
        bank = masker.bank
        print(f"  colormae bank {tuple(bank.shape)}: {bank.numel() * bank.element_size() / 2**20:.1f} MiB "
              f"as {bank.dtype}, {bank.numel() * 2 / 2**20:.1f} MiB with method_kwargs.colormae.fp16=true", flush=True)
    return dict(
        pair=f"{method_cfg} / {baseline_cfg}", method=speed["method"], baseline=speed["baseline"],
        ratio=speed["method"] / speed["baseline"], control=speed["control"] / speed["baseline"], target=target,
        step_ms=1e3 * batch / speed["baseline"], reg_ms=own_work_ms(models["method"][0], batch, device),
        mem_method=memory["method"], mem_baseline=memory["baseline"],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cifar100", help="zoo_configs/pretrain/<dataset> to take the settings from")
    parser.add_argument("--batch", type=int, default=None, help="default: 256 on GPU, 32 on CPU")
    parser.add_argument("--steps", type=int, default=None, help="timed training steps per model (default 200 GPU / 40 CPU)")
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # solo-learn logs a backbone notice per model
    solo_ext.register()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batch = args.batch or (256 if device.type == "cuda" else 32)
    steps = args.steps or (200 if device.type == "cuda" else 40)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name}; dataset settings: {args.dataset}; batch {batch}; {steps} alternating steps per model")
    print(f"{'pair':<20}{'img/s':>8}{'baseline':>9}{'ratio':>7}{'A/A':>7}{'target':>7}{'step ms':>9}{'own ms':>8}"
          f"{'peak GiB':>9}{'baseline':>9}")
    for pair in args.pairs:
        r = measure(pair, args.dataset, batch, steps, device)
        noise = abs(1 - r["control"])
        verdict = "ok" if r["ratio"] >= r["target"] else ("within noise" if r["ratio"] >= r["target"] - noise else "BELOW")
        print(f"{r['pair']:<20}{r['method']:>8.1f}{r['baseline']:>9.1f}{r['ratio']:>7.3f}{r['control']:>7.3f}"
              f"{r['target']:>7.3f}{r['step_ms']:>9.1f}{r['reg_ms']:>8.2f}{r['mem_method']:>9.2f}{r['mem_baseline']:>9.2f}"
              f"  {verdict}", flush=True)


if __name__ == "__main__":
    main()
