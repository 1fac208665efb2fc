"""Video as two-view pretraining data: two frames of one clip, ``gap`` frames apart, are the two crops.

A clip is a folder of frame images (ordered by file name) or a video file, decoded with PyAV (PyPI ``av``,
which bundles FFmpeg; ``pip install 'solo-ext[video]'``). Layouts:

    ROOT/<class>/<clip>      labels from the class folders (sorted, 0..C-1)
    ROOT/<clip>              no labels (label -1)

Each item is ``(index, [view_a, view_b], label)``, solo-learn's batch format: ``gap ~ U{0..max_frame_gap}``
(clamped to the clip's length), a uniformly drawn first frame; view_a goes through the first augmentation
pipeline and view_b through the second. The index is the clip's, so both views are each other's positives.

Usage::

    dataset = FramePairDataset("clips/", [aug_1, aug_2], max_frame_gap=8)
    index, (view_a, view_b), label = dataset[0]
"""

from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from PIL import Image
from torch.utils.data import Dataset

__all__ = [
    "FRAME_SUFFIXES",
    "VIDEO_SUFFIXES",
    "FramePairDataset",
    "video_frame_count",
    "video_frames",
]

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")


def _import_av():
    try:
        import av
    except ImportError:
        raise ImportError(
            "reading video files needs PyAV: pip install 'solo-ext[video]' (or extract frames into folders)"
        ) from None
    return av


def video_frame_count(path: Path) -> int:
    """Frames of the first video stream (from the container header, else by counting packets: no decoding)."""
    av = _import_av()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.frames > 0:
            return int(stream.frames)
        return sum(1 for packet in container.demux(stream) if packet.size > 0)


def video_frames(path: Path, wanted: Sequence[int]) -> Dict[int, Image.Image]:
    """The frames at positions ``wanted`` as RGB images, decoding from the start up to the last one."""
    av = _import_av()
    last, found = max(wanted), {}
    with av.open(str(path)) as container:
        for position, frame in enumerate(container.decode(video=0)):
            if position in wanted:
                found[position] = frame.to_image().convert("RGB")
            if position == last:
                break
    if len(found) < len(set(wanted)):
        raise ValueError(
            f"{path}: holds fewer frames than its header says ({len(found)} of {sorted(set(wanted))} decoded)"
        )
    return found


def _frames(folder: Path) -> List[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)


def _is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES


def _clips_in(folder: Path) -> List[Path]:
    return sorted(p for p in folder.iterdir() if (p.is_dir() and _frames(p)) or _is_video(p))


class FramePairDataset(Dataset):
    def __init__(self, root, transforms: Sequence[Callable], max_frame_gap: int = 4):
        root = Path(str(root))
        if len(transforms) != 2:
            raise ValueError(
                f"augmentations: video frame pairs need exactly 2 large crops; got {len(transforms)}"
            )
        if (
            isinstance(max_frame_gap, bool)
            or not isinstance(max_frame_gap, int)
            or max_frame_gap < 0
        ):
            raise ValueError(
                f"data.max_frame_gap: {max_frame_gap!r} is not allowed; expected a whole number >= 0"
            )
        if not root.is_dir():
            raise FileNotFoundError(f"data.train_path: {root} is not a folder of clips")
        self.transforms = list(transforms)
        self.max_frame_gap = max_frame_gap
        self.clips: List[Tuple[Path, int]] = []
        self._lengths: Dict[Path, int] = {}
        unlabelled = _clips_in(root)
        classes = [
            p for p in sorted(root.iterdir()) if p.is_dir() and not _frames(p) and _clips_in(p)
        ]
        if unlabelled and classes:
            raise ValueError(
                f"data.train_path: {root} mixes clips ({unlabelled[0].name}) and class folders "
                f"({classes[0].name}); allowed: ROOT/<class>/<clip> or ROOT/<clip>"
            )
        if classes:
            self.clips = [
                (clip, label) for label, folder in enumerate(classes) for clip in _clips_in(folder)
            ]
        else:
            self.clips = [(clip, -1) for clip in unlabelled]
        if not self.clips:
            raise FileNotFoundError(
                f"data.train_path: {root} holds no clip (a folder of {'/'.join(FRAME_SUFFIXES)} "
                f"frames or a {'/'.join(VIDEO_SUFFIXES)} file)"
            )
        if any(_is_video(clip) for clip, _ in self.clips):
            _import_av()  # fail at start-up, not in a worker

    def __len__(self) -> int:
        return len(self.clips)

    def frame_indexes(self, length: int) -> Tuple[int, int]:
        """(first, first + gap) with gap ~ U{0..min(max_frame_gap, length - 1)} and first uniform."""
        gap = int(torch.randint(min(self.max_frame_gap, length - 1) + 1, ()))
        start = int(torch.randint(length - gap, ()))
        return start, start + gap

    def _pair(self, clip: Path) -> Tuple[Image.Image, Image.Image]:
        if clip.is_dir():
            frames = _frames(clip)
            first, second = self.frame_indexes(len(frames))
            return tuple(Image.open(frames[i]).convert("RGB") for i in (first, second))
        if clip not in self._lengths:
            self._lengths[clip] = video_frame_count(clip)
            if self._lengths[clip] < 1:
                raise ValueError(f"data.train_path: {clip} holds no video frame")
        first, second = self.frame_indexes(self._lengths[clip])
        decoded = video_frames(clip, (first, second))
        return decoded[first], decoded[second]

    def __getitem__(self, index: int):
        clip, label = self.clips[index]
        views = [transform(frame) for transform, frame in zip(self.transforms, self._pair(clip))]
        return index, views, label
