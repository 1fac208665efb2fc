import filecmp
import json

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from solo_ext.data.digits import OutputNotEmptyError, export_digits


def test_split_counts_and_labels(digits_dir):
    digits = load_digits()
    seen = []
    for split in ("train", "val"):
        for folder in sorted((digits_dir / split).iterdir()):
            for png in folder.glob("*.png"):
                index = int(png.stem)
                assert digits.target[index] == int(folder.name)  # correctly labelled
                image = Image.open(png)
                assert image.size == (32, 32) and image.mode == "RGB"
                seen.append(index)
    assert sorted(seen) == list(range(len(digits.target)))  # every image exactly once
    stats = json.loads((digits_dir / "stats.json").read_text())
    assert stats["train"] == 1437 and stats["val"] == 360
    val_per_class = [len(list((digits_dir / "val" / str(c)).glob("*.png"))) for c in range(10)]
    assert max(val_per_class) - min(val_per_class) <= 2  # stratified


def test_image_content_follows_the_source(digits_dir):
    digits = load_digits()
    png = next((digits_dir / "train" / "0").glob("*.png"))
    image = np.asarray(Image.open(png).convert("L").resize((8, 8), Image.BOX), dtype=float)
    source = digits.images[int(png.stem)] * 255 / 16
    assert np.corrcoef(image.ravel(), source.ravel())[0, 1] > 0.9


def test_deterministic(digits_dir, tmp_path):
    export_digits(tmp_path / "again")
    diff = filecmp.dircmp(digits_dir / "train" / "7", tmp_path / "again" / "train" / "7")
    assert not diff.left_only and not diff.right_only
    assert (
        filecmp.cmpfiles(diff.left, diff.right, diff.common_files, shallow=False)[0]
        == diff.common_files
    )


def test_refuses_non_empty_unless_asked(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(OutputNotEmptyError, match="--overwrite"):
        export_digits(tmp_path)
    export_digits(tmp_path, overwrite=True)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert len(list((tmp_path / "val").rglob("*.png"))) == 360
