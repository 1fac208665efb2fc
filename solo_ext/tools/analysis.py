"""Qualitative analysis of ViT representations: the figures of MAGMA §5.4 and of MAE/ColorMAE (pure torch).

What each figure shows, and the function computing it:

- **cluster quality**: ``davies_bouldin_index`` of backbone features, ``linear_probe_accuracy`` (logistic
  regression), ``pacmap_embedding`` for the 2-D scatter (MAGMA: PaCMAP of 10 classes with the DBI);
- **key features**: ``capture_queries_keys`` hooks every block's ``attn.qkv`` (timm-style ViT blocks), and
  ``key_component_maps`` projects each image's patch keys on their leading principal component
  (``leading_component``) per block -> a grid×grid heatmap per block (MAGMA's key-PCA figure);
- **attention**: ``cls_attention_maps``, the last block's [CLS] → patch softmax(q·kᵀ/√d) per head (timm's
  fused attention never materialises the weights, so they are recomputed from the captured q, k);
- **reconstructions / masks**: ``reconstruct_images`` (MAE's visualisation: predictions de-normalised with each
  original patch's mean/var under norm_pix_loss, visible patches pasted back), ``pixel_mask``.

``write_*`` draw them with matplotlib's Agg canvas at fixed pixel sizes (no tight bounding box), so a PNG's
size depends only on the number of panels. Usage::

    with capture_queries_keys(vit.blocks) as qk:
        vit.forward_features(images)                         # [B, 1 + L, D]
    keys = key_component_maps(qk.keys, grid=(8, 8))          # [B, blocks, 8, 8]
    heads = cls_attention_maps(qk.queries[-1], qk.keys[-1], grid=(8, 8))   # [B, heads, 8, 8]
    write_heatmaps("keys.png", to_display(images, mean, std), keys.transpose(0, 1), ["block 0", ...], "keys")

Imports neither solo-learn nor Lightning; matplotlib, pacmap and scikit-learn are imported where used.
"""

import math
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from solo_ext.losses.reconstruction import patchify, unpatchify

__all__ = [
    "QueryKeyCapture",
    "attention_weights",
    "capture_queries_keys",
    "cls_attention_maps",
    "davies_bouldin_index",
    "key_component_maps",
    "leading_component",
    "linear_probe_accuracy",
    "pacmap_embedding",
    "pixel_mask",
    "reconstruct_images",
    "to_display",
    "write_heatmaps",
    "write_masks",
    "write_pacmap",
    "write_reconstructions",
]

INSTALL_HINT = "pip install 'solo-ext[analysis]'"

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
EPS_NORM_PIX = 1e-6  # MAE's variance epsilon of norm_pix_loss targets


def _require(module: str):
    """Imports an optional analysis dependency, or stops with one line saying how to get it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"solo-ext analysis needs {module.split('.')[0]} ({err}): {INSTALL_HINT}") from None


def _numpy(values, dtype=None) -> np.ndarray:
    """A tensor (any device) or array-like as a numpy array."""
    return np.asarray(values.detach().cpu() if torch.is_tensor(values) else values, dtype=dtype)


# ---------------------------------------------------------------------------------------------------------
# cluster quality


def davies_bouldin_index(features, labels) -> float:
    """Davies-Bouldin index of ``features`` [N, D] clustered by ``labels`` [N] (lower = better separated).

        S_i = mean_{x in i} ||x − c_i||,   M_ij = ||c_i − c_j||,   DBI = mean_i max_{j≠i} (S_i + S_j) / M_ij

    Equal to scikit-learn's ``davies_bouldin_score`` (clusters with coinciding centroids are never each other's
    worst pair; 0 when every cluster is a point or all centroids coincide).
    """
    x = _numpy(features, np.float64)
    classes, y = np.unique(_numpy(labels), return_inverse=True)
    if not 2 <= len(classes) <= len(x) - 1:
        raise ValueError(f"the Davies-Bouldin index needs 2 to N-1 clusters; got {len(classes)} for {len(x)} points")
    centroids = np.stack([x[y == c].mean(0) for c in range(len(classes))])  # [K, D]
    spread = np.array([np.linalg.norm(x[y == c] - centroids[c], axis=1).mean() for c in range(len(classes))])  # [K]
    separation = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1)  # [K, K]
    if np.allclose(spread, 0) or np.allclose(separation, 0):
        return 0.0
    separation[separation == 0] = np.inf
    ratio = (spread[:, None] + spread[None]) / separation  # [K, K], 0 on the diagonal
    return float(ratio.max(axis=1).mean())


def linear_probe_accuracy(train_features, train_labels, test_features, test_labels, seed: int = 0) -> float:
    """Top-1 accuracy in [0, 1] of a logistic regression fit on standardised train features [N, D]."""
    pipeline = _require("sklearn.pipeline")
    preprocessing = _require("sklearn.preprocessing")
    linear_model = _require("sklearn.linear_model")
    probe = pipeline.make_pipeline(
        preprocessing.StandardScaler(), linear_model.LogisticRegression(max_iter=2000, random_state=seed)
    )
    probe.fit(_numpy(train_features), _numpy(train_labels))
    return float(probe.score(_numpy(test_features), _numpy(test_labels)))


def pacmap_embedding(features, seed: int = 0) -> np.ndarray:
    """[N, D] -> [N, 2] PaCMAP embedding (PCA initialisation, fixed seed).

    PaCMAP's 10 near neighbours (plus 20 far pairs) per point need N well above 30, so small N gets N // 4.
    """
    pacmap = _require("pacmap")
    x = _numpy(features, np.float32)
    neighbours = max(1, min(10, len(x) // 4))
    reducer = pacmap.PaCMAP(n_components=2, n_neighbors=neighbours, random_state=seed, verbose=False)
    return reducer.fit_transform(x, init="pca")


# ---------------------------------------------------------------------------------------------------------
# queries, keys and attention of timm-style ViT blocks


class QueryKeyCapture:
    """Per block, the queries and keys [B, heads, T, D/heads] of the last forward pass (after q_norm/k_norm)."""

    def __init__(self, depth: int):
        self.queries: List[Optional[torch.Tensor]] = [None] * depth
        self.keys: List[Optional[torch.Tensor]] = [None] * depth


@contextmanager
def capture_queries_keys(blocks: Sequence[nn.Module]) -> Iterator[QueryKeyCapture]:
    """Forward hooks on each block's ``attn.qkv`` Linear while the context is open.

    qkv output [B, T, 3·D] is split as timm's Attention splits it: [B, T, 3, heads, D/heads] -> q, k, v each
    [B, heads, T, D/heads]; q_norm/k_norm (identities unless qk_norm) are applied as the block applies them.
    """
    capture = QueryKeyCapture(len(blocks))
    handles = []
    for index, block in enumerate(blocks):
        attn = getattr(block, "attn", None)
        if attn is None or not isinstance(getattr(attn, "qkv", None), nn.Linear) or not hasattr(attn, "num_heads"):
            raise ValueError(f"block {index} ({type(block).__name__}) is not a timm-style ViT block with attn.qkv")

        def hook(module, inputs, output, index=index, attn=attn):
            batch, tokens, width = output.shape
            heads = attn.num_heads
            qkv = output.reshape(batch, tokens, 3, heads, width // (3 * heads)).permute(2, 0, 3, 1, 4)
            q, k, _ = qkv.unbind(0)  # each [B, heads, T, D/heads]
            capture.queries[index] = getattr(attn, "q_norm", nn.Identity())(q).detach()
            capture.keys[index] = getattr(attn, "k_norm", nn.Identity())(k).detach()

        handles.append(attn.qkv.register_forward_hook(hook))
    try:
        yield capture
    finally:
        for handle in handles:
            handle.remove()


def attention_weights(queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """softmax(q·kᵀ / √d) over keys: [B, heads, T, d] × 2 -> [B, heads, T, T], each row sums to 1."""
    scale = queries.size(-1) ** -0.5
    return torch.softmax((queries.float() * scale) @ keys.float().transpose(-2, -1), dim=-1)


def cls_attention_maps(queries: torch.Tensor, keys: torch.Tensor, grid: Tuple[int, int],
                       prefix_tokens: int = 1) -> torch.Tensor:
    """The [CLS] token's attention to each patch, per head: [B, heads, gh, gw] (softmax over all T tokens)."""
    cls_row = attention_weights(queries, keys)[:, :, 0, prefix_tokens:]  # [B, heads, L]
    return cls_row.reshape(*cls_row.shape[:2], *grid)


def leading_component(x: torch.Tensor) -> torch.Tensor:
    """Projection of the rows of ``x`` [..., N, D] on their first principal component -> [..., N].

    Rows are centred; the principal axis is the first right singular vector. Its sign is arbitrary, so it is
    fixed to make the largest-magnitude projection positive (same picture for the same features).
    """
    centred = x.double() - x.double().mean(-2, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    projection = (centred @ vh[..., 0, :].unsqueeze(-1)).squeeze(-1)  # [..., N]
    peak = projection.gather(-1, projection.abs().argmax(-1, keepdim=True))
    return (projection * torch.where(peak < 0, -1.0, 1.0)).float()


def key_component_maps(keys: Sequence[torch.Tensor], grid: Tuple[int, int], prefix_tokens: int = 1) -> torch.Tensor:
    """Per image and block, the leading PCA component of the patch tokens' keys: [B, blocks, gh, gw].

    Each block's keys [B, heads, T, d] are concatenated over heads to [B, T, heads·d] (the key vector the block
    compares with queries); the cls/prefix tokens are left out. A component's sign is arbitrary, so block 0
    follows ``leading_component`` and every later block is flipped where it anti-correlates with the block
    before it: a map that persists through the blocks keeps its colours.
    """
    maps = []
    for k in keys:
        batch, heads, tokens, dim = k.shape
        patch_keys = k.permute(0, 2, 1, 3).reshape(batch, tokens, heads * dim)[:, prefix_tokens:]  # [B, L, D]
        component = leading_component(patch_keys)  # [B, L]
        if maps:
            previous = maps[-1]
            agreement = ((component - component.mean(1, keepdim=True)) * (previous - previous.mean(1, keepdim=True))).sum(1)
            component = component * torch.where(agreement < 0, -1.0, 1.0).unsqueeze(1)
        maps.append(component)
    return torch.stack(maps, dim=1).reshape(len(maps[0]), len(maps), *grid)


# ---------------------------------------------------------------------------------------------------------
# reconstructions and masks


def reconstruct_images(images: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor, patch: int,
                       norm_pix: bool = False) -> torch.Tensor:
    """MAE's reconstruction with the visible patches pasted back: [B, 3, H, W] in the images' normalisation.

    images [B, 3, H, W] (the decoder's input), pred [B, L, p·p·3], mask [B, L] (1 = masked). Under
    norm_pix_loss the decoder predicts each patch standardised, so it is mapped back with the original patch's
    mean and variance (pred · √(var + 1e-6) + mean), as MAE's visualisation does.
    """
    target = patchify(images, patch)  # [B, L, p*p*3]
    pred = pred.float()
    if norm_pix:
        mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
        pred = pred * (var + EPS_NORM_PIX).sqrt() + mean
    pasted = target * (1 - mask.unsqueeze(-1)) + pred * mask.unsqueeze(-1)
    return unpatchify(pasted, patch, channels=images.size(1))


def pixel_mask(mask: torch.Tensor, grid: Tuple[int, int], patch: int) -> torch.Tensor:
    """[B, L] patch mask (1 = masked) -> [B, gh·p, gw·p] pixel mask."""
    grid_mask = mask.float().reshape(-1, *grid)
    return grid_mask.repeat_interleave(patch, dim=1).repeat_interleave(patch, dim=2)


def to_display(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Normalised [B, 3, H, W] -> [B, H, W, 3] floats in [0, 1] (x · std + mean, clipped)."""
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    pixels = (images.detach().float().cpu() * std_t + mean_t).clamp(0, 1)
    return pixels.permute(0, 2, 3, 1).numpy()


# ---------------------------------------------------------------------------------------------------------
# figures


def _panel_figure(rows: int, cols: int, title: str, row_labels: Optional[Sequence[str]] = None,
                  col_labels: Optional[Sequence[str]] = None):
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
            ax = fig.add_axes([x0 / width, y0 / height, (CELL - 2 * pad) / width, (CELL - 2 * pad) / height])
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and col_labels:
                ax.set_title(col_labels[c], fontsize=7, pad=2)
            if c == 0 and row_labels:
                ax.set_ylabel(str(row_labels[r])[:LABEL_CHARS], fontsize=7, rotation=0, ha="right", va="center", labelpad=4)
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


def write_reconstructions(path, originals: np.ndarray, reconstructions: np.ndarray, masks: np.ndarray,
                          row_labels: Optional[Sequence[str]] = None, title: str = "MAE reconstructions") -> Path:
    """One row per image: masked input | reconstruction with visible patches pasted | original.

    originals, reconstructions [B, H, W, 3] in [0, 1]; masks [B, H, W] (1 = masked).
    Size: max(400, (LABEL_WIDTH or MARGIN) + 3·CELL + MARGIN) by TITLE_HEIGHT + B·CELL + MARGIN pixels.
    """
    fig, axes = _panel_figure(len(originals), 3, title, row_labels,
                              ["masked input", "reconstruction + visible", "original"])
    masked = _greyed(originals, masks, keep=0.0)
    for r in range(len(originals)):
        for c, image in enumerate((masked[r], reconstructions[r], originals[r])):
            axes[r][c].imshow(image, interpolation="antialiased")
    return _save(fig, path)


def write_masks(path, images: np.ndarray, masks: np.ndarray, title: str = "masks (grey = masked)") -> Path:
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
            ax.imshow(scaled, cmap="inferno", alpha=0.6, interpolation="nearest", extent=(0, width, height, 0),
                      vmin=0, vmax=1)
    return _save(fig, path)


def write_pacmap(path, embedding: np.ndarray, labels, class_names: Sequence[str], title: str) -> Path:
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
        ax.scatter(embedding[chosen, 0], embedding[chosen, 1], s=10, color=palette(index % palette.N), label=str(name))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False, markerscale=1.5,
              ncol=1 if len(class_names) <= 25 else 2)
    fig.suptitle(title, fontsize=TITLE_FONT + 1)
    return _save(fig, path)
