"""Training cost of each solo-ext method against its baseline, measured in one process.

    python benchmarks/throughput.py [--dataset cifar100] [--batch 64] [--steps 40] [--pairs m_mae ...] [--no-memory]

For every (method, baseline) pair both models are built from the zoo config of the same dataset (same
backbone, batch and crops), then timed step by step, alternating between the two, over full training
steps (forward, backward, AdamW step) on synthetic images; the ratio of throughputs (from median step
times) is printed beside an A/A control (a second copy of the baseline: the machine's timing noise),
the step time, the method's own added work timed alone (MAGMA terms forward+backward, ColorMAE's mask
sampling, SMAE's critic, ViC-MAE's projector and contrastive loss), and the peak memory of each model:
on a GPU the peak allocated during a training step; on a CPU the peak resident memory of a fresh process
that builds the model and runs three training steps (python, torch and the model included).
The MAGMA term is switched on from step 0 so its cost is in the measurement.
"""

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
import warnings
from typing import NamedTuple, Tuple

import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import solo_ext
from solo_ext.cli import zoo_path
from solo_ext.losses import magma_loss, uniformity_loss
from solo_ext.masking import mask_from_scores

class Pair(NamedTuple):
    """A method's zoo config against its baseline's ("config:method" runs another method on a config)."""

    method: str
    baseline: str
    target: float
    overrides: Tuple[str, ...] = ()  # extra Hydra overrides of the method's config


PAIRS = {
    "m_mae": Pair("m-mae", "mae", 0.995),
    "mu_mae": Pair("mu-mae", "u-mae", 0.995),
    "m_simclr": Pair("m-simclr", "simclr", 0.995),
    "m_vicreg": Pair("m-vicreg", "vicreg", 0.995),
    "colormae": Pair("colormae", "mae", 0.99),
    "colormae_fp16": Pair("colormae", "mae", 0.99, ("++method_kwargs.colormae.fp16=true",)),
    "smae": Pair("smae", "mae-lite", 0.85),  # SMAE's zoo exists for tiny-imagenet (and digits) only
    "vicmae": Pair("vicmae", "vicmae:mae", 0.95),  # baseline: solo-learn's MAE on ViC-MAE's two views and settings
    "vicmae_paper": Pair("vicmae-paper", "vicmae-paper:mae", 0.95, ("++method_kwargs.vicmae.con_start_epoch=0",)),
}
PAIR_DATASET = {"smae": "tiny-imagenet"}


def untrained_critic() -> str:
    """A random-init critic: the perceptual loss costs the same whatever the critic's weights."""
    import tempfile

    from solo_ext.losses import build_critic, save_critic

    path = os.path.join(tempfile.mkdtemp(prefix="solo-ext-bench-"), "critic.pt")
    return str(save_critic(path, build_critic(10), 10, top1=0.0))


def build(dataset: str, config: str, batch: int, device: torch.device, extra=()):
    from solo.args.pretrain import parse_cfg
    from solo.methods import METHODS

    config, _, method = config.partition(":")  # "config:method" runs another method on that config
    overrides = [f"optimizer.batch_size={batch}", "knn_eval.enabled=false", "data.train_path=/unused", "data.val_path=null",
                 *extra]
    if method:
        overrides.append(f"method={method}")
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
    """GiB allocated at the peak of one training step (CUDA)."""
    torch.cuda.reset_peak_memory_stats(device)
    step(model, batch_data, optimizer)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated(device) / 2**30


def peak_rss(dataset: str, config: str, batch: int, extra=()) -> float:
    """GiB: peak resident memory of a fresh process that builds ``config`` and runs three training steps (CPU)."""
    command = [sys.executable, __file__, "--peak-rss-of", dataset, config, str(batch), *extra]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def _report_peak_rss(dataset: str, config: str, batch: str, *extra: str) -> None:
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    solo_ext.register()
    parts = build(dataset, config, int(batch), torch.device("cpu"), extra)
    for _ in range(3):
        step(*parts)
    # VmHWM is this process's own high-water mark (ru_maxrss keeps the parent's across fork/exec)
    peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(peak_kib / 2**20)


def own_work_ms(model, batch: int, device, repeats: int = 50) -> float:
    """The method's own added work, timed alone: MAGMA + uniformity forward/backward on [batch, D]
    features, ColorMAE's mask sampling (pattern windows + top-k split), SMAE's critic, or ViC-MAE's
    projector + contrastive loss on two views' pooled features."""
    masker = getattr(model, "masker", None)
    if hasattr(model, "contrastive_loss"):  # ViC-MAE
        pooled = [torch.randn(batch, model.features_dim, device=device, requires_grad=True) for _ in range(2)]
        indexes = torch.arange(batch, device=device)
        work = lambda: model.contrastive_loss([model.projector(p) for p in pooled], indexes).backward()  # noqa: E731
    elif getattr(model, "perceptual", None) is not None:  # SMAE: the critic's forward+backward on a reconstruction
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


def measure(name, dataset, batch, steps, device, memory=True):
    pair = PAIRS[name]
    method_cfg, baseline_cfg, target = pair.method, pair.baseline, pair.target
    dataset = PAIR_DATASET.get(name, dataset)
    configs = (("method", method_cfg, pair.overrides), ("baseline", baseline_cfg, ()), ("control", baseline_cfg, ()))
    models = {label: build(dataset, cfg, batch, device, extra) for label, cfg, extra in configs}
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
    if not memory:
        memory = {"method": float("nan"), "baseline": float("nan")}
    elif device.type == "cuda":
        memory = {label: peak_memory(*models[label], device) for label in ("method", "baseline")}
    else:
        memory = {label: peak_rss(dataset, cfg, batch, extra) for label, cfg, extra in configs[:2]}
    masker = getattr(models["method"][0], "masker", None)
    if masker is not None:  # ColorMAE: the bank's memory, as stored and in fp16
        bank = masker.bank
        print(f"  colormae bank {tuple(bank.shape)} stored as {bank.dtype}: {bank.numel() * bank.element_size() / 2**20:.1f} MiB "
              f"(fp32 {bank.numel() * 4 / 2**20:.1f} MiB, fp16 {bank.numel() * 2 / 2**20:.1f} MiB)", flush=True)
    return dict(
        pair=f"{method_cfg}{' ' + ' '.join(o.split('.')[-1] for o in pair.overrides) if pair.overrides else ''} / "
             f"{baseline_cfg.replace(':', ' as ')}", method=speed["method"], baseline=speed["baseline"],
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
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument("--peak-rss-of", nargs="+", help=argparse.SUPPRESS)  # internal: one model in a fresh process
    args = parser.parse_args(argv)
    if args.peak_rss_of:
        return _report_peak_rss(*args.peak_rss_of)
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # solo-learn logs a backbone notice per model
    solo_ext.register()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batch = args.batch or (256 if device.type == "cuda" else 32)
    steps = args.steps or (200 if device.type == "cuda" else 40)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name}; dataset settings: {args.dataset}; batch {batch}; {steps} alternating steps per model")
    print(f"{'pair':<28}{'img/s':>8}{'baseline':>9}{'ratio':>7}{'A/A':>7}{'target':>7}{'step ms':>9}{'own ms':>8}"
          f"{'peak GiB':>9}{'baseline':>9}  ({'GPU: allocated in a step' if device.type == 'cuda' else 'CPU: process RSS'})")
    for pair in args.pairs:
        r = measure(pair, args.dataset, batch, steps, device, memory=not args.no_memory)
        noise = abs(1 - r["control"])
        verdict = "ok" if r["ratio"] >= r["target"] else ("within noise" if r["ratio"] >= r["target"] - noise else "BELOW")
        print(f"{r['pair']:<28}{r['method']:>8.1f}{r['baseline']:>9.1f}{r['ratio']:>7.3f}{r['control']:>7.3f}"
              f"{r['target']:>7.3f}{r['step_ms']:>9.1f}{r['reg_ms']:>8.2f}{r['mem_method']:>9.2f}{r['mem_baseline']:>9.2f}"
              f"  {verdict}", flush=True)


if __name__ == "__main__":
    main()
