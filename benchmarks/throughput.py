"""Training cost of each solo-ext method against its baseline, measured in one process.

    python benchmarks/throughput.py [--dataset cifar100] [--batch 64] [--steps 40] [--pairs m_mae ...]
        [--no-memory] [--json PATH [--overwrite]] [--compare benchmarks/baseline/throughput.json]

For every (method, baseline) pair both models are built from the zoo config of the same dataset (same
backbone, batch and crops), then timed step by step, alternating between the two, over full training
steps (forward, backward, AdamW step) on synthetic images; the ratio of throughputs (from median step
times) is printed beside an A/A control (a second copy of the baseline: the machine's timing noise),
the step time, the method's own added work timed alone (MAGMA terms forward+backward, ColorMAE's mask
sampling, SMAE's critic, ViC-MAE's projector and contrastive loss), and the peak memory of each model:
on a GPU the peak allocated during a training step; on a CPU the peak resident memory of a fresh process
that builds the model and runs three training steps (python, torch and the model included).
The MAGMA term is switched on from step 0 so its cost is in the measurement (the pairs and their
settings are the methods' specs: MethodSpec.benchmarks; --list prints them).

Each pair's verdict comes from benchmarks/verdict.py: INVALID when the A/A control is outside
1 +- --aa-tolerance or the load average shows other work on the cores (the process then exits 1),
else OK / WITHIN NOISE / BELOW against the target. Results go to a JSON file (--json) as well as
the table; --compare BASELINE.json flags ratios that fell beyond --compare-tolerance (exit 3);
--update BASELINE.json writes this run's valid pairs into it (e.g. to remeasure one pair quietly).
See benchmarks/README.md.
"""

import argparse
import datetime
import json
import logging
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Dict, Optional

import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import solo_ext
from solo_ext.config.specs import Benchmark, benchmarks
from solo_ext.config.zoo import zoo_path
from solo_ext.losses import magma_loss, uniformity_loss
from solo_ext.masking import mask_from_scores

if not __package__:  # run as a script (python benchmarks/throughput.py): the checkout's benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.verdict import (  # noqa: E402
    AA_TOLERANCE,
    COMPARE_TOLERANCE,
    LOAD_SLACK,
    compare,
    judge,
    load_reasons,
    ratio_ci,
)

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results" / "throughput-latest.json"


# --pairs name -> a method's zoo preset against its baseline's, declared by the methods' specs
# (MethodSpec.benchmarks in solo_ext/config/specs.py)
PAIRS: Dict[str, Benchmark] = benchmarks()


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
    overrides = [
        f"optimizer.batch_size={batch}",
        "knn_eval.enabled=false",
        "data.train_path=/unused",
        "data.val_path=null",
        *extra,
    ]
    if method:
        overrides.append(f"method={method}")
    if config.startswith("smae"):
        overrides.append(f"++method_kwargs.smae.critic={untrained_critic()}")
    with initialize_config_dir(
        config_dir=str(zoo_path() / "pretrain" / dataset), version_base="1.2"
    ):
        cfg = compose(config_name=config, overrides=overrides)
    OmegaConf.set_struct(cfg, False)
    cfg.data.num_classes = 10  # no dataset folder is read
    cfg.data.dataset = "cifar100" if cfg.data.dataset == "custom" else cfg.data.dataset
    cfg = parse_cfg(cfg)
    torch.manual_seed(0)
    model = METHODS[cfg.method](cfg).to(device)
    crop = cfg.augmentations[0].crop_size
    crops = [
        torch.randn(batch, 3, crop, crop, device=device) for _ in range(cfg.data.num_large_crops)
    ]
    batch_data = [
        torch.arange(batch, device=device),
        crops,
        torch.randint(0, 10, (batch,), device=device),
    ]
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
    peak_kib = next(
        int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")
    )
    print(peak_kib / 2**20)


def own_work_ms(model, batch: int, device, repeats: int = 50) -> float:
    """The method's own added work, timed alone: MAGMA + uniformity forward/backward on [batch, D]
    features, ColorMAE's mask sampling (pattern windows + top-k split), SMAE's critic, or ViC-MAE's
    projector + contrastive loss on two views' pooled features."""
    masker = getattr(model, "masker", None)
    if hasattr(model, "contrastive_loss"):  # ViC-MAE
        pooled = [
            torch.randn(batch, model.features_dim, device=device, requires_grad=True)
            for _ in range(2)
        ]
        indexes = torch.arange(batch, device=device)
        work = lambda: model.contrastive_loss(
            [model.projector(p) for p in pooled], indexes
        ).backward()  # noqa: E731
    elif (
        getattr(model, "perceptual", None) is not None
    ):  # SMAE: the critic's forward+backward on a reconstruction
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
    method_cfg, baseline_cfg, target = pair.preset, pair.baseline, pair.target
    dataset = pair.dataset or dataset
    configs = (
        ("method", method_cfg, (*pair.overrides, *pair.setup)),
        ("baseline", baseline_cfg, ()),
        ("control", baseline_cfg, ()),
    )
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
    load_after = load_average()  # before the memory probes, which run processes of their own
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
        print(
            f"  colormae bank {tuple(bank.shape)} stored as {bank.dtype}: "
            f"{bank.numel() * bank.element_size() / 2**20:.1f} MiB "
            f"(fp32 {bank.numel() * 4 / 2**20:.1f} MiB, fp16 {bank.numel() * 2 / 2**20:.1f} MiB)",
            flush=True,
        )
    options = "".join(" " + o.split(".")[-1] for o in pair.overrides)
    label = f"{method_cfg}{options} / {baseline_cfg.replace(':', ' as ')}"
    return dict(
        pair=name,
        label=label,
        dataset=dataset,
        method_config=method_cfg,
        baseline_config=baseline_cfg,
        overrides=list(pair.overrides),
        target=target,
        throughput={key: value for key, value in speed.items()},  # img/s from the median step time
        step_ms={key: 1e3 * statistics.median(values) for key, values in seconds.items()},
        step_seconds=seconds,  # every timed step, round by round
        ratio=speed["method"] / speed["baseline"],
        ratio_ci95=ratio_ci(seconds["method"], seconds["baseline"]),
        aa=speed["control"] / speed["baseline"],
        aa_ci95=ratio_ci(seconds["control"], seconds["baseline"]),
        own_work_ms=own_work_ms(models["method"][0], batch, device),
        peak_gib={key: None if math.isnan(value) else value for key, value in memory.items()},
        load_after=load_after,
    )


def load_average() -> Optional[float]:
    """The 1-minute load average, or None where the platform has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def git_commit() -> Optional[str]:
    try:
        result = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def write_json(path: Path, results: dict) -> None:
    """Written whole after every pair (an interrupted run keeps what it measured)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    os.replace(tmp, path)


def read_baseline(parser, path: str, option: str = "--compare") -> dict:
    try:
        baseline = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        parser.error(f"{option} {path}: cannot read it as JSON ({error})")
    if not isinstance(baseline, dict) or not {"settings", "pairs"} <= set(baseline):
        parser.error(f"{option} {path}: not a throughput results file (no 'settings' and 'pairs')")
    return baseline


def update_baseline(path: Path, baseline: dict, results: dict) -> list:
    """Replaces ``baseline``'s entries of the pairs ``results`` measured validly (an INVALID measurement
    never replaces an entry) and adds those it lacks; each such entry records the machine state it was
    measured in, the file lists the update and its validity is recomputed from all its pairs. Returns
    the pairs written."""
    machine = {key: results["machine"][key] for key in ("date", "git_commit")}
    fresh = {
        p["pair"]: {**p, "machine": {**machine, "load_before": p["load_before"]}}
        for p in results["pairs"]
        if p["valid"]
    }
    known = {p["pair"] for p in baseline["pairs"]}
    pairs = [fresh.get(p["pair"], p) for p in baseline["pairs"]]
    pairs += [p for name, p in fresh.items() if name not in known]
    reasons = "; ".join(f"{p['pair']}: {p['verdict']}" for p in pairs if not p["valid"])
    updates = baseline.get("updates", [])
    if fresh:
        updates = [*updates, {**machine, "command": results["command"], "pairs": list(fresh)}]
    updated = dict(baseline, pairs=pairs, valid=not reasons, invalid_reason=reasons or None)
    write_json(path, dict(updated, updates=updates))
    return list(fresh)


def print_comparison(results: dict, baseline: dict, path: str, tolerance: float) -> bool:
    """Prints each pair against the baseline; True when a pair regressed."""
    date = baseline.get("machine", {}).get("date", "?")
    print(f"\nagainst {path} ({date}; regression: ratio fell by more than {tolerance:g}):")
    print(f"  {'pair':<12}{'ratio':>7}{'baseline':>9}{'change':>8}  status")
    comparisons = compare(results, baseline, tolerance)
    for c in comparisons:
        base = "-" if c.baseline_ratio is None else f"{c.baseline_ratio:.3f}"
        judged = c.status == "ok" or c.regression  # a change that was not compared is not shown
        change = f"{c.change:+.3f}" if judged else "-"
        print(f"  {c.pair:<12}{c.ratio:>7.3f}{base:>9}{change:>8}  {c.status}")
    return any(c.regression for c in comparisons)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        default="cifar100",
        help="zoo_configs/pretrain/<dataset> to take the settings from",
    )
    parser.add_argument("--batch", type=int, default=None, help="default: 256 on GPU, 32 on CPU")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="timed training steps per model (default 200 GPU / 40 CPU)",
    )
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument(
        "--json",
        default=None,
        metavar="PATH",
        help=f"results file (default {DEFAULT_JSON.relative_to(HERE.parent)}, "
        "replaced by every run; a file named here is never replaced without "
        "--overwrite)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    parser.add_argument(
        "--update",
        default=None,
        metavar="BASELINE",
        help="after the run, replace the measured pairs in this results file (e.g. "
        "benchmarks/baseline/throughput.json) with this run's valid measurements, keeping its other "
        "pairs; it must have been measured with the same settings",
    )
    parser.add_argument(
        "--compare",
        default=None,
        metavar="BASELINE",
        help="results file to compare against, e.g. benchmarks/baseline/throughput.json",
    )
    parser.add_argument(
        "--aa-tolerance",
        type=float,
        default=AA_TOLERANCE,
        help=f"INVALID when |A/A - 1| exceeds this (default {AA_TOLERANCE})",
    )
    parser.add_argument(
        "--compare-tolerance",
        type=float,
        default=COMPARE_TOLERANCE,
        help=f"REGRESSION when a ratio fell by more than this (default {COMPARE_TOLERANCE})",
    )
    parser.add_argument(
        "--list", action="store_true", help="print the pairs (from the methods' specs) and exit"
    )
    # internal: one model in a fresh process
    parser.add_argument("--peak-rss-of", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak_rss_of:
        return _report_peak_rss(*args.peak_rss_of)
    if args.list:
        for key in args.pairs:
            print(key, PAIRS[key])
        return 0
    if args.steps is not None and args.steps < 2:
        parser.error(f"--steps must be at least 2, got {args.steps}")
    for option in ("aa_tolerance", "compare_tolerance"):
        if not getattr(args, option) >= 0:
            parser.error(f"--{option.replace('_', '-')} must be >= 0, got {getattr(args, option)}")
    json_path = Path(args.json) if args.json else DEFAULT_JSON
    if args.json and json_path.exists() and not args.overwrite:
        parser.error(
            f"--json {args.json} exists; pass --overwrite to replace it, or name another file"
        )
    baseline = read_baseline(parser, args.compare) if args.compare else None
    to_update = read_baseline(parser, args.update, "--update") if args.update else None
    if args.update and Path(args.update).resolve() == json_path.resolve():
        parser.error("--update names the --json file: the run's own results would replace it first")
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # solo-learn logs a backbone notice per model
    solo_ext.register()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batch = args.batch or (256 if device.type == "cuda" else 32)
    steps = args.steps or (200 if device.type == "cuda" else 40)
    cores = usable_cores()
    threads = 1 if device.type == "cuda" else torch.get_num_threads()  # this run's busy cores
    if device.type == "cuda":
        name = torch.cuda.get_device_name()
    else:
        name = f"CPU ({torch.get_num_threads()} threads)"
    load_before = load_average()
    busy = load_reasons(load_before, None, cores, threads)
    if busy:
        print(
            f"warning: the machine is busy ({busy[0]}): other work on the cores makes the "
            "timings INVALID; rerun when it is quiet",
            file=sys.stderr,
            flush=True,
        )
    results = dict(
        benchmark="throughput",
        schema=1,
        command=["benchmarks/throughput.py", *(sys.argv[1:] if argv is None else argv)],
        settings=dict(
            device=name, dataset=args.dataset, batch=batch, steps=steps, memory=not args.no_memory
        ),
        tolerances=dict(aa=args.aa_tolerance, load_slack=LOAD_SLACK),
        machine=dict(
            date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            cores=cores,
            threads=threads,
            torch=torch.__version__,
            python=platform.python_version(),
            platform=platform.platform(),
            git_commit=git_commit(),
            load_before=load_before,
            load_after=None,
        ),
        complete=False,
        valid=None,
        invalid_reason=None,
        pairs=[],
    )
    if to_update is not None:  # ratios measured with other settings are not comparable
        differ = [
            f"{key} {to_update['settings'].get(key)} there, {value} here"
            for key, value in results["settings"].items()
            if to_update["settings"].get(key) != value
        ]
        if differ:
            parser.error(
                f"--update {args.update}: measured with other settings ({'; '.join(differ)})"
            )
    load_text = "unknown" if load_before is None else f"{load_before:.2f}"
    print(
        f"device: {name}; dataset settings: {args.dataset}; batch {batch}; "
        f"{steps} alternating steps per model; load average {load_text} on {cores} cores"
    )
    print(
        f"{'pair':<28}{'img/s':>8}{'baseline':>9}{'ratio':>7}{'95% CI':>14}{'A/A':>7}"
        f"{'target':>7}"
        f"{'step ms':>9}{'own ms':>8}{'peak GiB':>9}{'baseline':>9}  "
        f"({'GPU: allocated in a step' if device.type == 'cuda' else 'CPU: process RSS'})"
    )
    for i, pair in enumerate(args.pairs):
        r = measure(pair, args.dataset, batch, steps, device, memory=not args.no_memory)
        # the load read before the run is other work's alone only for the first pair; later pairs
        # are judged by the load read when their own timing ended
        load = load_reasons(load_before if i == 0 else None, r["load_after"], cores, threads)
        verdict = judge(
            r["ratio"], r["target"], r["aa"], args.aa_tolerance, load, tuple(r["ratio_ci95"])
        )
        r.update(
            verdict=str(verdict),
            valid=verdict.valid,
            aa_tolerance=args.aa_tolerance,
            load_before=load_before if i == 0 else None,
        )
        results["pairs"].append(r)
        write_json(json_path, results)
        low, high = r["ratio_ci95"]
        memory = [f"{g:>9.2f}" if g is not None else f"{'-':>9}" for g in r["peak_gib"].values()]
        speed = r["throughput"]
        print(
            f"{r['label']:<28}{speed['method']:>8.1f}{speed['baseline']:>9.1f}"
            f"{r['ratio']:>7.3f}{f'{low:.3f}-{high:.3f}':>14}{r['aa']:>7.3f}{r['target']:>7.3f}"
            f"{r['step_ms']['baseline']:>9.1f}{r['own_work_ms']:>8.2f}{''.join(memory)}"
            f"  {verdict}",
            flush=True,
        )
    invalid = [p["pair"] for p in results["pairs"] if not p["valid"]]
    results["machine"]["load_after"] = load_average()
    reasons = "; ".join(f"{p['pair']}: {p['verdict']}" for p in results["pairs"] if not p["valid"])
    results.update(complete=True, valid=not invalid, invalid_reason=reasons or None)
    write_json(json_path, results)
    print(f"results: {json_path}")
    if to_update is not None:
        written = update_baseline(Path(args.update), to_update, results)
        kept = [p for p in args.pairs if p not in written]
        print(
            f"--update {args.update}: wrote {', '.join(written) or 'no pair'}"
            + (f"; left {', '.join(kept)} as it was (INVALID here)" if kept else "")
        )
    regressed = baseline is not None and print_comparison(
        results, baseline, args.compare, args.compare_tolerance
    )
    if invalid:
        print(
            f"INVALID measurement ({', '.join(invalid)}): the A/A control or the load average "
            "says this machine could not resolve the ratios; rerun on a quiet machine",
            file=sys.stderr,
        )
        return 1
    if regressed:
        print(f"REGRESSION against {args.compare}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
