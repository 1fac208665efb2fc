"""The fidelity study's offline evaluation decodes each split once and reuses it."""

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("solo", reason="needs solo-learn (see docs/installation.md)")

from solo_ext.launch.data import eval_transform  # noqa: E402
from solo_ext.reporting import evaluation  # noqa: E402

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i in range(3):
            pixels = rng.integers(0, 256, size=(20, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / label / f"{i}.png")
    return tmp_path


def test_split_is_the_transform_of_each_image_in_folder_order(folder):
    images, labels = evaluation.split_tensors(folder, 16, MEAN, STD)
    transform = eval_transform(16, MEAN, STD)
    files = sorted(folder.glob("*/*.png"))
    expected = torch.stack([transform(Image.open(f).convert("RGB")) for f in files])
    assert images.shape == (6, 3, 16, 16)
    assert torch.equal(images, expected)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_split_is_decoded_once_per_transform(folder, monkeypatch):
    calls = []
    monkeypatch.setattr(evaluation, "_SPLITS", {})  # this test's own cache
    from torchvision.datasets import ImageFolder

    load = ImageFolder.__getitem__
    monkeypatch.setattr(
        ImageFolder, "__getitem__", lambda self, i: calls.append(i) or load(self, i)
    )
    first = evaluation.split_tensors(folder, 16, MEAN, STD)
    again = evaluation.split_tensors(folder, 16, MEAN, STD)
    assert again[0] is first[0] and len(calls) == 6
    other = evaluation.split_tensors(folder, 8, MEAN, STD)  # another crop size: its own tensors
    assert other[0].shape == (6, 3, 8, 8) and len(calls) == 12
