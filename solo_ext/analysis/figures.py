"""The analysis figures as PNGs, drawn with matplotlib's Agg canvas at fixed pixel sizes (no tight bounding
box), so a PNG's size depends only on the number of panels. Usage::

    write_heatmaps("keys.png", to_display(images, mean, std), keys.transpose(0, 1), ["block 0", ...], "keys")

matplotlib is imported where used (``pip install 'solo-ext[analysis]'``).
"""

import math
import textwrap
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from solo_ext.analysis.metrics import _numpy, _require

__all__ = ["write_heatmaps", "write_masks", "write_pacmap", "write_reconstructions"]

DPI = 100
CELL = 100  # pixels per image panel
MARGIN = 10
TITLE_HEIGHT = 50  # figure title and column labels
LABEL_WIDTH = 80  # row labels
LABEL_CHARS = 14  # what fits LABEL_WIDTH at font size 7 (ImageNet wnids: 9)
MAX_COLUMNS = 8  # mask panels per row
MIN_WIDTH = 400  # room for a two-line title above few panels
TITLE_FONT = 8
TITLE_CHAR_WIDTH = 6.5  # pixels per character at TITLE_FONT, with room to spare
PACMAP_SIZE = (700, 600)
MASK_GREY = 0.5  # display value of masked patches


def _panel_figure(
    rows: int,
    cols: int,
    title: str,
    row_labels: Optional[Sequence[str]] = None,
    col_labels: Optional[Sequence[str]] = None,
):
    """A figure of rows × cols CELL-pixel image panels at fixed pixel geometry; returns (figure, axes[r][c]).

    Width: max(MIN_WIDTH, (LABEL_WIDTH or MARGIN) + cols·CELL + MARGIN), panels centred; height:
    TITLE_HEIGHT + rows·CELL + MARGIN. The title is wrapped to the width.
    """
    figure_module = _require("matplotlib.figure")
    label_width = LABEL_WIDTH if row_labels else MARGIN
    width = max(MIN_WIDTH, label_width + cols * CELL + MARGIN)
    height = TITLE_HEIGHT + rows * CELL + MARGIN
    left = label_width + (width - label_width - cols * CELL - MARGIN) // 2
    fig = figure_module.Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    wrapped = textwrap.fill(title, width=int(width / TITLE_CHAR_WIDTH))
    fig.text(0.5, 1 - 4 / height, wrapped, ha="center", va="top", fontsize=TITLE_FONT)
    pad = 2
    axes = []
    for r in range(rows):
        row = []
        for c in range(cols):
            x0, y0 = left + c * CELL + pad, height - TITLE_HEIGHT - (r + 1) * CELL + pad
            ax = fig.add_axes(
                [x0 / width, y0 / height, (CELL - 2 * pad) / width, (CELL - 2 * pad) / height]
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and col_labels:
                ax.set_title(col_labels[c], fontsize=7, pad=2)
            if c == 0 and row_labels:
                ax.set_ylabel(
                    str(row_labels[r])[:LABEL_CHARS],
                    fontsize=7,
                    rotation=0,
                    ha="right",
                    va="center",
                    labelpad=4,
                )
            row.append(ax)
        axes.append(row)
    return fig, axes


def _save(fig, path) -> Path:
    path = Path(path)
    fig.savefig(path, dpi=DPI, format="png")
    return path


def _greyed(images: np.ndarray, masks: np.ndarray, keep: float) -> np.ndarray:
    """images [B, H, W, 3] with masked pixels (masks [B, H, W], 1 = masked) blended towards grey."""
    m = masks[..., None]
    return images * (1 - m) + (keep * images + (1 - keep) * MASK_GREY) * m


def write_reconstructions(
    path,
    originals: np.ndarray,
    reconstructions: np.ndarray,
    masks: np.ndarray,
    row_labels: Optional[Sequence[str]] = None,
    title: str = "MAE reconstructions",
) -> Path:
    """One row per image: masked input | reconstruction with visible patches pasted | original.

    originals, reconstructions [B, H, W, 3] in [0, 1]; masks [B, H, W] (1 = masked).
    Size: max(400, (LABEL_WIDTH or MARGIN) + 3·CELL + MARGIN) by TITLE_HEIGHT + B·CELL + MARGIN pixels.
    """
    fig, axes = _panel_figure(
        len(originals),
        3,
        title,
        row_labels,
        ["masked input", "reconstruction + visible", "original"],
    )
    masked = _greyed(originals, masks, keep=0.0)
    for r in range(len(originals)):
        for c, image in enumerate((masked[r], reconstructions[r], originals[r])):
            axes[r][c].imshow(image, interpolation="antialiased")
    return _save(fig, path)


def write_masks(
    path, images: np.ndarray, masks: np.ndarray, title: str = "masks (grey = masked)"
) -> Path:
    """Each image with its masked patches greyed, up to MAX_COLUMNS per row.

    images [B, H, W, 3] in [0, 1]; masks [B, H, W] (1 = masked).
    Size: max(400, 2·MARGIN + min(B, 8)·CELL) by TITLE_HEIGHT + ceil(B / 8)·CELL + MARGIN pixels.
    """
    cols = min(len(images), MAX_COLUMNS)
    rows = math.ceil(len(images) / cols)
    fig, axes = _panel_figure(rows, cols, title)
    greyed = _greyed(images, masks, keep=0.3)
    for i in range(rows * cols):
        ax = axes[i // cols][i % cols]
        if i < len(images):
            ax.imshow(greyed[i], interpolation="antialiased")
        else:
            ax.set_axis_off()
    return _save(fig, path)


def write_heatmaps(path, images: np.ndarray, maps, row_labels: Sequence[str], title: str) -> Path:
    """Top row the images, then one row per map set, each map overlaid on its image (per-panel min-max).

    images [B, H, W, 3] in [0, 1]; maps [R, B, gh, gw] (e.g. blocks × images of key components, or
    heads × images of attention), drawn patch by patch (no interpolation) over the image.
    Size: max(400, LABEL_WIDTH + B·CELL + MARGIN) by TITLE_HEIGHT + (R + 1)·CELL + MARGIN pixels.
    """
    maps = _numpy(maps, np.float32)
    rows, cols = maps.shape[0] + 1, len(images)
    fig, axes = _panel_figure(rows, cols, title, ["image", *row_labels])
    height, width = images.shape[1:3]
    for c in range(cols):
        axes[0][c].imshow(images[c], interpolation="antialiased")
        for r in range(1, rows):
            values = maps[r - 1, c]
            spread = values.max() - values.min()
            scaled = (values - values.min()) / spread if spread > 0 else np.zeros_like(values)
            ax = axes[r][c]
            ax.imshow(images[c], interpolation="antialiased")
            ax.imshow(
                scaled,
                cmap="inferno",
                alpha=0.6,
                interpolation="nearest",
                extent=(0, width, height, 0),
                vmin=0,
                vmax=1,
            )
    return _save(fig, path)


def write_pacmap(
    path, embedding: np.ndarray, labels, class_names: Sequence[str], title: str
) -> Path:
    """Scatter of a 2-D embedding [N, 2] coloured by ``labels`` [N] (indexes into class_names). 700×600 px."""
    figure_module = _require("matplotlib.figure")
    matplotlib = _require("matplotlib")
    embedding, labels = _numpy(embedding), _numpy(labels)
    width, height = PACMAP_SIZE
    fig = figure_module.Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    ax = fig.add_axes([0.07, 0.07, 0.66, 0.80])
    palette = matplotlib.colormaps["tab10" if len(class_names) <= 10 else "tab20"]
    for index, name in enumerate(class_names):
        chosen = labels == index
        ax.scatter(
            embedding[chosen, 0],
            embedding[chosen, 1],
            s=10,
            color=palette(index % palette.N),
            label=str(name),
        )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize=7,
        frameon=False,
        markerscale=1.5,
        ncol=1 if len(class_names) <= 25 else 2,
    )
    fig.suptitle(title, fontsize=TITLE_FONT + 1)
    return _save(fig, path)
