"""ColorMAE's data-independent masks: filtered-noise pattern banks and the per-batch mask sampler
(Hinojosa, Liu, Ghanem, "ColorMAE: Exploring data-independent masking strategies in Masked
AutoEncoders", ECCV 2024).

With W white noise and G_s * W a Gaussian filter of std s pixels (periodic boundary)::

    red    (low-pass)   G_s * W,                 s ~ U[0.5, 2.0] per pattern
    blue   (high-pass)  W - G_s * W,             s ~ U[0.5, 2.0] per pattern
    green  (band-pass)  G_0.5 * W - G_2.0 * W
    purple (band-stop)  W - (G_0.5 * W - G_2.0 * W)

each pattern standardised to zero mean and unit variance. At train time one pattern pixel is one ViT
patch: a sample's mask is an h×h window of a pattern (random offset and flips) of which the
int(h²·(1−r)) highest values stay visible.

Usage::

    bank = generate_patterns("green", num=3072, size=256, seed=0)     # float32 [P, S, S]
    masker = ColoredNoiseMasker(torch.from_numpy(bank))
    scores = masker.scores(batch_size=B, grid=14)                    # [B, 196]; feed mask_from_scores
"""

from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch import nn

from solo_ext.masking.choices import COLORS, MODES

__all__ = [
    "COLORS",
    "MODES",
    "generate_patterns",
    "save_patterns",
    "load_patterns",
    "radial_power_spectrum",
    "ColoredNoiseMasker",
]

_CHUNK = 256  # patterns filtered at once: bounds the FFT's working memory


def _gaussian_response(size: int, sigma: np.ndarray) -> np.ndarray:
    """Frequency response of G_sigma on a periodic size×size grid, for rfft2: [N, size, size // 2 + 1]."""
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    radius2 = (fx**2 + fy**2)[None]  # cycles per pixel, squared
    return np.exp(
        -2.0 * np.pi**2 * np.asarray(sigma, dtype=np.float64).reshape(-1, 1, 1) ** 2 * radius2
    )


def _filter_chunk(color: str, noise: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    size = noise.shape[-1]
    spectrum = np.fft.rfft2(noise)  # [N, S, S//2+1]
    if color in ("red", "blue"):
        low = _gaussian_response(size, rng.uniform(0.5, 2.0, size=len(noise)))
        response = low if color == "red" else 1.0 - low
    else:
        band = _gaussian_response(size, np.array([0.5])) - _gaussian_response(size, np.array([2.0]))
        response = band if color == "green" else 1.0 - band
    patterns = np.fft.irfft2(spectrum * response, s=(size, size))
    patterns -= patterns.mean(axis=(1, 2), keepdims=True)
    patterns /= patterns.std(axis=(1, 2), keepdims=True) + 1e-12
    return patterns.astype(np.float32)


def generate_patterns(
    color: str, num: int, size: int = 256, seed: int = 0, dtype=np.float32
) -> np.ndarray:
    """A bank of ``num`` standardised ``size``×``size`` noise patterns of one colour, [P, S, S] of ``dtype``
    (float16 halves the bank; it is filled chunk by chunk, so no float32 copy of the whole bank is made)."""
    if color not in COLORS:
        raise ValueError(f"colour {color!r} is unknown; allowed: {list(COLORS)}")
    if num < 1 or size < 8:
        raise ValueError(f"num={num}, size={size} is not allowed; expected num >= 1 and size >= 8")
    rng = np.random.default_rng(seed)
    bank = np.empty((num, size, size), dtype=dtype)
    for start in range(0, num, _CHUNK):
        stop = min(num, start + _CHUNK)
        bank[start:stop] = _filter_chunk(
            color, rng.standard_normal((stop - start, size, size)), rng
        )
    return bank


def save_patterns(path, bank: np.ndarray, overwrite: bool = False) -> Path:
    """Writes the official format: the bank as the first (only) array of an .npz."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"{str(path)!r} is not allowed; expected a .npz file name")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, patterns=bank)
    return path


def load_patterns(path, min_size: int = 1) -> np.ndarray:
    """Loads a bank (ours or the official files): the first array of an .npz, float [P, S, S], finite;
    ValueError naming the file otherwise."""
    path = Path(str(path))
    if not path.is_file():
        raise ValueError(f"pattern file {str(path)!r} does not exist")
    try:
        with np.load(path) as archive:
            if not archive.files:
                raise ValueError(f"pattern file {path} holds no array")
            bank = archive[archive.files[0]]
    except (ValueError, OSError) as err:
        raise ValueError(f"pattern file {path} is not a readable .npz ({err})") from None
    if (
        bank.ndim != 3
        or bank.shape[1] != bank.shape[2]
        or not np.issubdtype(bank.dtype, np.floating)
    ):
        raise ValueError(
            f"pattern file {path} holds {bank.dtype} {bank.shape}; expected float [P, S, S]"
        )
    if bank.shape[1] < min_size:
        raise ValueError(
            f"patterns of {path} are {bank.shape[1]}² but the patch grid is {min_size}²; "
            "allowed: patterns at least as large as the grid"
        )
    if not np.isfinite(bank).all():
        raise ValueError(f"pattern file {path} contains NaN or infinite values")
    return bank.astype(np.float32, copy=False)


def radial_power_spectrum(bank: np.ndarray, bins: int = 16) -> np.ndarray:
    """Mean power per radial frequency bin (0 .. 0.5 cycles/pixel) over the bank: [bins]."""
    size = bank.shape[-1]
    power = np.abs(np.fft.fft2(bank)) ** 2  # [P, S, S]
    f = np.fft.fftfreq(size)
    radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    index = np.minimum((radius / 0.5 * bins).astype(int), bins - 1)
    mean_power = power.mean(axis=0)
    return np.array([mean_power[index == b].mean() for b in range(bins)])


class ColoredNoiseMasker(nn.Module):
    """Samples per-patch scores from a pattern bank.

    The bank follows ``.to(device)``/``.cuda()`` like a buffer (each DDP rank's own device) but is not a
    registered buffer: it stays out of checkpoints, and DDP, which broadcasts every registered buffer
    (persistent or not) from rank 0 at each step, never ships it (805 MB for 3072 × 256² in fp32). Every
    rank builds the same bank. ``fp16=True`` halves its memory (rounding keeps the order of values up to
    ties, which only matter at the keep/mask boundary).

    Modes: ``per_sample`` (each sample its own pattern, offset and flips) or ``official`` (the reference
    code: patterns 0..B-1, one offset and flip pair for the whole batch).
    """

    def __init__(self, bank: torch.Tensor, mode: str = "per_sample", fp16: bool = False):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is unknown; allowed: {list(MODES)}")
        self.mode = mode
        self.bank = bank.to(torch.float16 if fp16 else torch.float32)
        self.last_index: Optional[torch.Tensor] = (
            None  # pattern index of each sample of the last call
        )

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        moved = fn(self.bank)
        # keep our storage dtype: only device moves apply (a model-wide .half() or .float() would not)
        self.bank = moved.to(self.bank.dtype) if moved.is_floating_point() else moved
        return self

    def set_bank(self, bank: torch.Tensor) -> None:
        self.bank = bank.to(device=self.bank.device, dtype=self.bank.dtype)

    def scores(
        self, batch_size: int, grid: int, generator: Optional[torch.Generator] = None
    ) -> torch.Tensor:
        """[B, grid²] float32 scores (higher = kept) from pattern windows."""
        num, size = self.bank.shape[0], self.bank.shape[-1]
        if grid > size:
            raise ValueError(f"patterns are {size}² but the patch grid is {grid}²")
        device = self.bank.device
        rand = lambda high, n: torch.randint(high, (n,), device=device, generator=generator)  # noqa: E731
        if self.mode == "per_sample":
            index, top, left = (
                rand(num, batch_size),
                rand(size - grid + 1, batch_size),
                rand(size - grid + 1, batch_size),
            )
            flips = rand(2, 2 * batch_size).view(2, batch_size).bool()
        else:
            if batch_size > num:
                raise ValueError(
                    f"mode 'official' uses patterns 0..B-1 but B={batch_size} > {num} patterns"
                )
            index = torch.arange(batch_size, device=device)
            top, left = (rand(size - grid + 1, 1).expand(batch_size) for _ in range(2))
            flips = rand(2, 2).view(2, 1).bool().expand(2, batch_size)
        self.last_index = index
        steps = torch.arange(grid, device=device)
        rows = (top[:, None] + steps)[:, :, None]  # [B, h, 1]
        cols = (left[:, None] + steps)[:, None, :]  # [B, 1, h]
        window = self.bank[index[:, None, None], rows, cols].float()  # [B, h, h]
        window = torch.where(flips[0][:, None, None], window.flip(-1), window)
        window = torch.where(flips[1][:, None, None], window.flip(-2), window)
        return window.reshape(batch_size, grid * grid)
