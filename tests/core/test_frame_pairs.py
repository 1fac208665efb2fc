import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

from solo_ext.data.frame_pairs import FramePairDataset, video_frame_count

TO_TENSOR = [transforms.ToTensor(), transforms.ToTensor()]


@pytest.fixture
def clips(tmp_path):
    """2 classes x 2 clips of 12 frames; pixel value = 20·clip + frame, so a view tells where it came from."""
    for c in range(2):
        for k in range(2):
            clip = tmp_path / f"class{c}" / f"clip{k}"
            clip.mkdir(parents=True)
            for f in range(12):
                value = 20 * (2 * c + k) + f
                Image.fromarray(np.full((8, 8, 3), value, dtype=np.uint8)).save(
                    clip / f"{f:04d}.png"
                )
    return tmp_path


def encode_video(path, num_frames, codec):
    """A 16x16 clip whose frame f is grey level 20·f (recoverable within ±3 after lossy coding)."""
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height = 16, 16
        stream.pix_fmt = "yuv444p" if codec == "ffv1" else "yuv420p"
        for f in range(num_frames):
            frame = av.VideoFrame.from_ndarray(
                np.full((16, 16, 3), 20 * f, dtype=np.uint8), format="rgb24"
            )
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("max_gap", [0, 3, 11, 50])
def test_two_frames_of_one_clip_within_the_gap(clips, max_gap):
    torch.manual_seed(0)
    dataset = FramePairDataset(clips, TO_TENSOR, max_frame_gap=max_gap)
    assert len(dataset) == 4
    gaps = []
    for _ in range(30):
        for i in range(4):
            index, (a, b), label = dataset[i]
            value_a, value_b = round(a[0, 0, 0].item() * 255), round(b[0, 0, 0].item() * 255)
            assert index == i and label == i // 2
            assert value_a // 20 == value_b // 20 == i  # same clip, the right one
            gaps.append(value_b - value_a)
    assert min(gaps) >= 0 and max(gaps) <= min(max_gap, 11)
    if max_gap >= 3:
        assert len(set(gaps)) > 2  # the gap is drawn, not fixed


def test_batch_format_through_a_dataloader(clips):
    dataset = FramePairDataset(clips, TO_TENSOR, max_frame_gap=2)
    indexes, views, labels = next(iter(torch.utils.data.DataLoader(dataset, batch_size=4)))
    assert indexes.tolist() == [0, 1, 2, 3] and labels.tolist() == [0, 0, 1, 1]
    assert len(views) == 2 and views[0].shape == (4, 3, 8, 8)


@pytest.mark.parametrize(
    "codec,suffix", [("mpeg4", ".mp4"), ("ffv1", ".mkv")]
)  # frame count in the header / by packets
def test_video_files_give_frames_gap_apart(tmp_path, codec, suffix):
    for c in range(2):
        (tmp_path / f"class{c}").mkdir()
        encode_video(tmp_path / f"class{c}" / f"clip{suffix}", 10 + c, codec)
    assert video_frame_count(tmp_path / "class1" / f"clip{suffix}") == 11
    torch.manual_seed(0)
    dataset = FramePairDataset(tmp_path, TO_TENSOR, max_frame_gap=4)
    gaps = []
    for _ in range(15):
        for i in range(2):
            index, (a, b), label = dataset[i]
            assert index == i and label == i and a.shape == (3, 16, 16)
            first, second = (round(v[0, 8, 8].item() * 255 / 20) for v in (a, b))
            assert 0 <= first <= second < 10 + i
            gaps.append(second - first)
    assert max(gaps) <= 4 and len(set(gaps)) > 2


def test_unlabelled_video_files(tmp_path):
    encode_video(tmp_path / "a.mp4", 5, "mpeg4")
    dataset = FramePairDataset(tmp_path, TO_TENSOR, max_frame_gap=1)
    assert len(dataset) == 1 and dataset[0][2] == -1


def test_unlabelled_layout_and_errors(tmp_path):
    clip = tmp_path / "clipA"
    clip.mkdir()
    for f in range(3):
        Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(clip / f"{f}.png")
    dataset = FramePairDataset(tmp_path, TO_TENSOR)
    assert dataset[0][2] == -1
    with pytest.raises(ValueError, match="exactly 2"):
        FramePairDataset(tmp_path, [transforms.ToTensor()])
    with pytest.raises(ValueError, match="data.max_frame_gap"):
        FramePairDataset(tmp_path, TO_TENSOR, max_frame_gap=-1)
    with pytest.raises(FileNotFoundError, match="no clip"):
        FramePairDataset(tmp_path / "clipA", TO_TENSOR)
    (tmp_path / "class0" / "clipB").mkdir(parents=True)
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(
        tmp_path / "class0" / "clipB" / "0.png"
    )
    with pytest.raises(ValueError, match="mixes clips"):
        FramePairDataset(tmp_path, TO_TENSOR)
