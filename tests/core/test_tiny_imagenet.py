import json

import numpy as np
import pytest
from PIL import Image

from solo_ext.data.tiny_imagenet import SourceFolderError, fraction_subsets, prepare_tiny_imagenet

WNIDS = ["n01443537", "n01629819", "n01641577"]


@pytest.fixture
def fake_tin(tmp_path):
    """A tiny-imagenet-200-shaped folder: 3 classes, 20 train and 4 val images each (8x8 RGB)."""
    src = tmp_path / "tiny-imagenet-200"
    rng = np.random.default_rng(0)
    (src / "val" / "images").mkdir(parents=True)
    lines = []
    for c, wnid in enumerate(WNIDS):
        folder = src / "train" / wnid / "images"
        folder.mkdir(parents=True)
        (src / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
        for i in range(20):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(
                folder / f"{wnid}_{i}.JPEG"
            )
        for i in range(4):
            name = f"val_{c * 4 + i}.JPEG"
            Image.fromarray(np.full((8, 8, 3), 40 * c, dtype=np.uint8)).save(
                src / "val" / "images" / name
            )
            lines.append(f"{name}\t{wnid}\t0\t0\t7\t7")
    (src / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    (src / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    return src


def test_rebuilds_class_folders_and_stats(fake_tin, tmp_path):
    out = tmp_path / "out"
    stats = prepare_tiny_imagenet(fake_tin, out)
    assert sorted(p.name for p in (out / "val").iterdir()) == WNIDS
    for c, wnid in enumerate(WNIDS):
        assert len(list((out / "train" / wnid).iterdir())) == 20
        val = sorted((out / "val" / wnid).iterdir())
        assert sorted(p.name for p in val) == sorted(f"val_{c * 4 + i}.JPEG" for i in range(4))
        assert np.asarray(Image.open(val[0]))[0, 0, 0] == pytest.approx(
            40 * c, abs=2
        )  # the right images
    assert (out / "train" / WNIDS[0] / f"{WNIDS[0]}_0.JPEG").is_symlink()
    pixels = np.concatenate(
        [
            np.asarray(Image.open(p), dtype=float).reshape(-1, 3) / 255
            for p in sorted((fake_tin / "train").rglob("*.JPEG"))
        ]
    )
    assert np.allclose(stats["mean"], pixels.mean(0), atol=1e-4) and np.allclose(
        stats["std"], pixels.std(0), atol=1e-4
    )
    assert json.loads((out / "stats.json").read_text())["val"] == 12


def test_fractions_per_class_and_deterministic(fake_tin, tmp_path):
    stats = prepare_tiny_imagenet(fake_tin, tmp_path / "a", copy=True, fractions=[0.1, 0.5])
    assert stats["fractions"] == {"0.1": 6, "0.5": 30}
    for wnid in WNIDS:
        assert len(list((tmp_path / "a" / "train_10pct" / wnid).iterdir())) == 2
        assert len(list((tmp_path / "a" / "train_50pct" / wnid).iterdir())) == 10
    fraction_subsets(tmp_path / "a" / "train", tmp_path / "b", [0.1])
    names = lambda root: sorted(p.name for p in root.rglob("*.JPEG"))  # noqa: E731
    assert names(tmp_path / "a" / "train_10pct") == names(tmp_path / "b" / "train_10pct")


def test_wrong_folder_and_no_overwrite(fake_tin, tmp_path):
    with pytest.raises(SourceFolderError, match="wnids.txt"):
        prepare_tiny_imagenet(tmp_path / "nothing", tmp_path / "out")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="--overwrite"):
        prepare_tiny_imagenet(fake_tin, tmp_path / "out")
    prepare_tiny_imagenet(fake_tin, tmp_path / "out", overwrite=True)
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="--fraction"):
        fraction_subsets(tmp_path / "out" / "train", tmp_path / "c", [1.5])
