"""Offline evaluation of one pretraining checkpoint for the fidelity study: kNN and linear probe.

The backbone is rebuilt from the args.json beside the checkpoint
(``solo_ext.launch.evaluate.load_backbone``), frozen, and its features of the train and val
ImageFolders are taken at the pretraining crop size and mean/std (``extract``). On them:

- kNN top-1: solo-learn's weighted kNN, k = 10, Euclidean distance (MAGMA's protocol);
- linear top-1: logistic regression on the standardised train features, scored on val
  (``solo_ext.analysis.linear_probe_accuracy``).

Both in %. The study calls ``evaluate_checkpoint`` in its own process (one import of solo-learn
for all runs), from several threads at once; the images of each split are decoded and transformed
once per process (``split_tensors``) and shared by every run evaluated on them. The same evaluation
as a command::

    python -m solo_ext.reporting.evaluation --checkpoint-dir RUN/attempt-1 \
        --train DATA/train --val DATA/val --seed 0 --out RUN/eval.json
"""

import argparse
import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

__all__ = [
    "KNN_DISTANCE",
    "KNN_K",
    "PROBE",
    "evaluate_checkpoint",
    "main",
    "preload",
    "split_tensors",
    "write_json_atomically",
]

KNN_K = 10
KNN_DISTANCE = "euclidean"
PROBE = "logistic regression on standardised frozen features (scikit-learn lbfgs, max_iter 2000)"
BATCH_SIZE = 256

# (folder, crop size, mean, std) -> (images [N, C, H, W], labels [N]), and a lock per key
_SPLITS: Dict[tuple, tuple] = {}
_SPLIT_LOCKS: Dict[tuple, threading.Lock] = {}
_SPLIT_LOCKS_GUARD = threading.Lock()


def split_tensors(
    path, crop_size: int, mean: Sequence[float], std: Sequence[float]
) -> Tuple["torch.Tensor", "torch.Tensor"]:  # noqa: F821
    """The images of an ImageFolder split through the evaluation transform, with their labels,
    made once per process and kept.

    Every run of a study is evaluated on the same images at the same transform. Decoding them
    again for each run, in evaluation threads that share one interpreter lock, was most of an
    evaluation's time (measured on the GPU preset: ~150 of ~200 s per Fashion-MNIST run). The
    tensors are exactly what the transform gives image by image, in ImageFolder order."""
    import torch
    from torchvision.datasets import ImageFolder

    from solo_ext.launch.data import eval_transform

    key = (str(Path(path).resolve()), int(crop_size), tuple(mean), tuple(std))
    with _SPLIT_LOCKS_GUARD:
        lock = _SPLIT_LOCKS.setdefault(key, threading.Lock())
    with lock:  # one thread decodes a split; the others wait for it rather than decode it too
        if key not in _SPLITS:
            dataset = ImageFolder(key[0], eval_transform(crop_size, mean, std))
            images = torch.stack([dataset[i][0] for i in range(len(dataset))])
            _SPLITS[key] = images, torch.as_tensor(dataset.targets)
    return _SPLITS[key]


def preload() -> None:
    """Imports what ``evaluate_checkpoint`` needs and registers solo-ext's backbones (vit_lite).

    Call it from the main thread before evaluating in worker threads: modules imported for the
    first time by two threads at once can be seen half-initialised."""
    import sklearn.linear_model  # noqa: F401  (linear_probe_accuracy imports these when called)
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    import solo.utils.knn  # noqa: F401
    import torchvision.datasets  # noqa: F401

    import solo_ext
    import solo_ext.launch.evaluate  # noqa: F401

    solo_ext.register()


def evaluate_checkpoint(
    checkpoint_dir,
    train_path,
    val_path,
    seed: int = 0,
    device: Optional[str] = None,
) -> dict:
    """{"knn_top1", "linear_top1", "checkpoint", ...} of the newest .ckpt in ``checkpoint_dir``
    (or of that file)."""
    import torch
    from solo.utils.knn import WeightedKNNClassifier
    from timm.data.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

    from solo_ext.analysis import linear_probe_accuracy
    from solo_ext.launch.checkpoints import find_trained_run
    from solo_ext.launch.evaluate import extract, load_backbone

    preload()
    start = time.perf_counter()
    run = find_trained_run(checkpoint_dir, "--checkpoint-dir")
    backbone, _ = load_backbone(run, "custom")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    backbone.to(device)
    augmentation = (run.args or {}).get("augmentations", [{}])[0]
    transform = (
        augmentation.get("crop_size", 224),
        augmentation.get("mean", IMAGENET_DEFAULT_MEAN),
        augmentation.get("std", IMAGENET_DEFAULT_STD),
    )
    features = {}
    for split, path in (("train", train_path), ("val", val_path)):
        images, labels = split_tensors(path, *transform)
        batches = zip(images.split(BATCH_SIZE), labels.split(BATCH_SIZE))
        features[split] = extract(batches, backbone, device)  # ([N, D], [N])
    (train_x, train_y), (val_x, val_y) = features["train"], features["val"]

    knn = WeightedKNNClassifier(k=KNN_K, distance_fx=KNN_DISTANCE)
    knn(train_features=train_x, train_targets=train_y, test_features=val_x, test_targets=val_y)
    knn_top1, _ = knn.compute()
    linear_top1 = 100.0 * linear_probe_accuracy(train_x, train_y, val_x, val_y, seed=seed)
    result = {"knn_top1": float(knn_top1), "linear_top1": float(linear_top1)}
    bad = {name: value for name, value in result.items() if not math.isfinite(value)}
    if bad:
        raise ValueError(f"{run.checkpoint}: non-finite evaluation {bad} (diverged features?)")
    return {
        **result,
        "checkpoint": str(run.checkpoint),
        "train_images": len(train_y),
        "val_images": len(val_y),
        "protocol": {
            "knn": f"k={KNN_K}, {KNN_DISTANCE}, solo-learn's weighted kNN",
            "probe": PROBE,
        },
        "eval_seconds": round(time.perf_counter() - start, 1),
    }


def write_json_atomically(path, record: dict) -> Path:
    """Writes through a temporary file: readers never see half a file, even after a kill."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    os.replace(partial, path)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m solo_ext.reporting.evaluation",
        description="kNN (k=10, Euclidean) and logistic-regression top-1 of a checkpoint.",
    )
    parser.add_argument(
        "--checkpoint-dir", required=True, help="a folder holding the run's .ckpt (newest used)"
    )
    parser.add_argument(
        "--train", required=True, help="train ImageFolder (kNN memory, probe training)"
    )
    parser.add_argument("--val", required=True, help="val ImageFolder (scored)")
    parser.add_argument("--seed", type=int, default=0, help="the probe's random_state")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    args = parser.parse_args(argv)
    result = evaluate_checkpoint(
        args.checkpoint_dir, args.train, args.val, seed=args.seed, device=args.device
    )
    write_json_atomically(args.out, result)
    print(
        f"kNN top-1 {result['knn_top1']:.2f}  linear top-1 {result['linear_top1']:.2f}"
        f" -> {args.out}"
    )


if __name__ == "__main__":
    main()
