"""Training cost of each solo-ext method against its baseline, measured in one process.

    python benchmarks/throughput.py [--dataset cifar100] [--batch 64] [--steps 10] [--rounds 7] [--pairs m_mae ...]

For every (method, baseline) pair both models are built from the zoo config of the same dataset (same
backbone, batch and crops), then timed in alternating rounds of full training steps (forward, backward,
AdamW step) on synthetic images; the ratio of throughputs is printed, with peak GPU memory when
CUDA is present. Throughput is the best of the rounds (other load only slows a round down). The MAGMA term is switched on from step 0 so its cost is in the measurement.
"""

import argparse
import logging
import time
import warnings

import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import solo_ext
from solo_ext.cli import zoo_path

# (method config, baseline config, target ratio)
PAIRS = {
    "m_mae": ("m-mae", "mae", 0.995),
    "mu_mae": ("mu-mae", "u-mae", 0.995),
    "m_simclr": ("m-simclr", "simclr", 0.995),
    "m_vicreg": ("m-vicreg", "vicreg", 0.995),
}


def build(dataset: str, config: str, batch: int, device: torch.device):
    from solo.args.pretrain import parse_cfg
    from solo.methods import METHODS

    overrides = [f"optimizer.batch_size={batch}", "knn_eval.enabled=false", "data.train_path=/unused", "data.val_path=null"]
    if config.startswith("m") and config != "mae":
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


def images_per_second(model, batch_data, optimizer, steps: int, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step(model, batch_data, optimizer)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_data[1][0].size(0) / (time.perf_counter() - start)


def peak_memory(model, batch_data, optimizer, device) -> float:
    if device.type != "cuda":
        return float("nan")
    torch.cuda.reset_peak_memory_stats(device)
    step(model, batch_data, optimizer)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated(device) / 2**30


def measure(name, dataset, batch, steps, rounds, device):
    method_cfg, baseline_cfg, target = PAIRS[name]
    models = {label: build(dataset, cfg, batch, device) for label, cfg in (("method", method_cfg), ("baseline", baseline_cfg))}
    for parts in models.values():  # warm-up
        for _ in range(2):
            step(*parts)
    speeds = {"method": [], "baseline": []}
    for r in range(rounds):
        order = ("method", "baseline") if r % 2 == 0 else ("baseline", "method")
        for label in order:
            speeds[label].append(images_per_second(*models[label], steps, device))
    # best round: interference from the rest of the machine only ever slows a round down
    method_speed, baseline_speed = (max(speeds[k]) for k in ("method", "baseline"))
    memory = {label: peak_memory(*parts, device) for label, parts in models.items()}
    return dict(
        pair=f"{method_cfg} / {baseline_cfg}", method=method_speed, baseline=baseline_speed,
        ratio=method_speed / baseline_speed, target=target, mem_method=memory["method"], mem_baseline=memory["baseline"],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cifar100", help="zoo_configs/pretrain/<dataset> to take the settings from")
    parser.add_argument("--batch", type=int, default=None, help="default: 256 on GPU, 32 on CPU")
    parser.add_argument("--steps", type=int, default=None, help="training steps per timed round (default 20 GPU / 5 CPU)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # solo-learn logs a backbone notice per model
    solo_ext.register()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batch = args.batch or (256 if device.type == "cuda" else 32)
    steps = args.steps or (20 if device.type == "cuda" else 5)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name}; dataset settings: {args.dataset}; batch {batch}; {args.rounds} rounds x {steps} steps")
    print(f"{'pair':<22}{'img/s':>10}{'baseline':>10}{'ratio':>8}{'target':>8}{'peak GiB':>10}{'baseline':>10}")
    for pair in args.pairs:
        r = measure(pair, args.dataset, batch, steps, args.rounds, device)
        verdict = "ok" if r["ratio"] >= r["target"] else "BELOW"
        print(f"{r['pair']:<22}{r['method']:>10.1f}{r['baseline']:>10.1f}{r['ratio']:>8.3f}{r['target']:>8.3f}"
              f"{r['mem_method']:>10.2f}{r['mem_baseline']:>10.2f}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
