"""`solo-ext colormae patterns|preview`: write ColorMAE pattern banks and look at the masks they make."""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from solo_ext.config import config_key
from solo_ext.masking import (
    ColoredNoiseMasker,
    generate_patterns,
    load_patterns,
    mask_from_scores,
    save_patterns,
)
from solo_ext.masking.choices import COLORS

__all__ = ["main", "preview_image"]

TILE = 96


def _tile(values: np.ndarray) -> Image.Image:
    scaled = (values - values.min()) / (np.ptp(values) + 1e-12) * 255.0
    return Image.fromarray(scaled.astype(np.uint8), mode="L").resize((TILE, TILE), Image.NEAREST)


def preview_image(
    bank: np.ndarray, grid: int, mask_ratio: float, count: int = 8, seed: int = 0
) -> Image.Image:
    """Per sample (columns): a 64×64 corner of its pattern, the grid×grid window drawn from it (scores), and
    the mask those scores give (white = visible)."""
    count = min(count, len(bank))
    masker = ColoredNoiseMasker(torch.from_numpy(bank))
    scores = masker.scores(count, grid, generator=torch.Generator().manual_seed(seed))
    visible = 1.0 - mask_from_scores(scores, mask_ratio).mask.view(count, grid, grid).numpy()
    windows = scores.view(count, grid, grid).numpy()
    sheet = Image.new("L", (count * (TILE + 4), 3 * (TILE + 4)), color=128)
    for i in range(count):
        pattern = bank[int(masker.last_index[i])] if masker.last_index is not None else bank[i]
        for row, tile in enumerate((pattern[:64, :64], windows[i], visible[i])):
            sheet.paste(_tile(tile), (i * (TILE + 4), row * (TILE + 4)))
    return sheet


def main(argv) -> None:
    parser = argparse.ArgumentParser(
        prog="solo-ext colormae", description="ColorMAE pattern banks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("patterns", help="generate a bank in the official .npz format")
    make.add_argument("--color", required=True, choices=COLORS)
    make.add_argument("--num", type=int, default=3072)
    make.add_argument("--size", type=int, default=256)
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--out", required=True)
    make.add_argument("--overwrite", action="store_true")
    show = sub.add_parser(
        "preview", help="PNG per sample: pattern corner, drawn window, resulting mask"
    )
    show.add_argument("--patterns", required=True, help=".npz bank (ours or official)")
    show.add_argument("--grid", type=int, default=14, help="patch grid side, e.g. 14 for 224/16")
    show.add_argument("--mask_ratio", type=float, default=0.75)
    show.add_argument("--count", type=int, default=8)
    show.add_argument("--out", required=True)
    show.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"--out: {out} exists; pass --overwrite to replace it")
    if args.command == "patterns":
        start = time.perf_counter()
        with config_key("--out"):
            if out.suffix != ".npz":
                raise ValueError(f"{str(out)!r} is not allowed; expected a .npz file name")
        with config_key("--color/--num/--size"):
            bank = generate_patterns(args.color, args.num, args.size, args.seed)
        path = save_patterns(out, bank, overwrite=args.overwrite)
        print(
            f"wrote {args.num} {args.color} patterns of {args.size}² to {path} in {time.perf_counter() - start:.1f} s"
        )
        return
    with config_key("--patterns"):
        bank = load_patterns(args.patterns, min_size=args.grid)
    preview_image(bank, args.grid, args.mask_ratio, args.count).save(out)
    print(f"wrote {out}")
