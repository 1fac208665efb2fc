import json
import tarfile

import numpy as np
import pytest
from PIL import Image

from solo_ext.data.cub200 import SourceArchiveError, prepare_cub200

CLASSES = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"]


@pytest.fixture
def fake_cub(tmp_path):
    """CUB_200_2011-shaped: 3 classes x 4 images of 90x60 (even ids train), with every metadata file."""
    src = tmp_path / "CUB_200_2011"
    rng = np.random.default_rng(0)
    images, labels, split = [], [], []
    image_id = 0
    for c, name in enumerate(CLASSES):
        (src / "images" / name).mkdir(parents=True)
        for i in range(4):
            image_id += 1
            pixels = rng.integers(0, 255, (60, 90, 3), dtype=np.uint8)
            pixels[:, :15] = 0  # dark left strip: removed by the centre crop
            Image.fromarray(pixels).save(src / "images" / name / f"{name}_{i}.jpg", quality=95)
            images.append(f"{image_id} {name}/{name}_{i}.jpg")
            labels.append(f"{image_id} {c + 1}")
            split.append(f"{image_id} {int(image_id % 2 == 0)}")
    (src / "images.txt").write_text("\n".join(images) + "\n")
    (src / "image_class_labels.txt").write_text("\n".join(labels) + "\n")
    (src / "train_test_split.txt").write_text("\n".join(split) + "\n")
    (src / "classes.txt").write_text(
        "\n".join(f"{c + 1} {n}" for c, n in enumerate(CLASSES)) + "\n"
    )
    return src


def test_folder_gives_split_class_folders_at_the_size(fake_cub, tmp_path):
    stats = prepare_cub200(fake_cub, tmp_path / "out", size=16)
    assert stats["train"] == 6 and stats["val"] == 6 and stats["classes"] == 3
    for split in ("train", "val"):
        assert sorted(p.name for p in (tmp_path / "out" / split).iterdir()) == CLASSES
    files = sorted((tmp_path / "out").rglob("*.png"))
    assert len(files) == 12 and all(Image.open(f).size == (16, 16) for f in files)
    first = np.asarray(Image.open(tmp_path / "out" / "val" / CLASSES[0] / f"{CLASSES[0]}_0.png"))
    assert (
        first[:, 0].mean() > 30
    )  # the dark 15-px strip of a 90-px-wide image lies outside the centre crop
    assert json.loads((tmp_path / "out" / "stats.json").read_text())["mean"] == stats["mean"]


def test_archive_streams_to_the_same_files(fake_cub, tmp_path):
    archive = tmp_path / "CUB_200_2011.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(fake_cub, arcname="CUB_200_2011")
    from_folder = prepare_cub200(fake_cub, tmp_path / "a", size=16)
    from_archive = prepare_cub200(archive, tmp_path / "b", size=16)
    assert from_folder == from_archive
    for path in (tmp_path / "a").rglob("*.png"):
        twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
        assert np.array_equal(np.asarray(Image.open(path)), np.asarray(Image.open(twin)))


def test_bad_sources_and_output_safety(fake_cub, tmp_path):
    with pytest.raises(SourceArchiveError, match="--src"):
        prepare_cub200(tmp_path / "nothing", tmp_path / "out")
    (fake_cub / "train_test_split.txt").rename(fake_cub / "split.bak")
    with pytest.raises(SourceArchiveError, match="train_test_split.txt missing"):
        prepare_cub200(fake_cub, tmp_path / "out")
    (fake_cub / "split.bak").rename(fake_cub / "train_test_split.txt")
    mine = tmp_path / "out" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")
    with pytest.raises(FileExistsError, match="--overwrite"):
        prepare_cub200(fake_cub, tmp_path / "out", size=16)
    prepare_cub200(fake_cub, tmp_path / "out", size=16, overwrite=True)
    assert mine.read_text() == "keep me"  # --overwrite replaces only what the command writes
    with pytest.raises(ValueError, match="--size"):
        prepare_cub200(fake_cub, tmp_path / "out2", size=2)
