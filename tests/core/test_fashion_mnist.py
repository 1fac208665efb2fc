import gzip
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from solo_ext.cli import main
from solo_ext.data.fashion_mnist import (
    CLASS_FOLDERS,
    per_class_subset,
    prepare_fashion_mnist,
    read_idx,
)

TRAIN_PER_CLASS, VAL_PER_CLASS = 6, 3


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(folder, name, data: bytes, compress=True):
    path = folder / (f"{name}.gz" if compress else name)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def fake_split(rng, per_class):
    """Every class `per_class` times in a shuffled order; the images random, each tagged by its row in pixel 0."""
    labels = rng.permutation(np.repeat(np.arange(10), per_class)).astype(np.uint8)
    images = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(len(labels))
    return images, labels


@pytest.fixture
def source(tmp_path):
    """The four idx files of a tiny Fashion-MNIST (gzip), and their arrays."""
    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(1)
    arrays = {"train": fake_split(rng, TRAIN_PER_CLASS), "t10k": fake_split(rng, VAL_PER_CLASS)}
    for prefix, (images, labels) in arrays.items():
        write_idx(src, f"{prefix}-images-idx3-ubyte", idx_bytes(images, 2051))
        write_idx(src, f"{prefix}-labels-idx1-ubyte", idx_bytes(labels, 2049))
    return src, arrays


def written(out, split):
    """{row: (class folder, pixels)} of one written split."""
    return {
        int(p.stem): (p.parent.name, np.asarray(Image.open(p)))
        for p in (out / split).rglob("*.png")
    }


def test_round_trip_at_28_keeps_labels_and_pixels(source, tmp_path):
    src, arrays = source
    stats = prepare_fashion_mnist(tmp_path / "out", src, size=28)
    for split, prefix in (("train", "train"), ("val", "t10k")):
        images, labels = arrays[prefix]
        files = written(tmp_path / "out", split)
        assert sorted(files) == list(range(len(labels)))  # every row once
        for row, (folder, pixels) in files.items():
            assert folder == CLASS_FOLDERS[labels[row]]
            assert pixels.shape == (28, 28, 3) and np.array_equal(pixels[..., 1], images[row])
            assert np.array_equal(pixels[..., 0], pixels[..., 2])
    assert sorted(p.name for p in (tmp_path / "out" / "train").iterdir()) == list(CLASS_FOLDERS)
    train_pixels = arrays["train"][0] / 255.0
    assert (
        stats["mean"] == [round(train_pixels.mean(), 4)] * 3
        and stats["std"] == [round(train_pixels.std(), 4)] * 3
    )
    assert stats["train"] == 60 and stats["val"] == 30 and stats["size"] == 28
    assert stats["per_class"]["val"] == {name: VAL_PER_CLASS for name in CLASS_FOLDERS}
    assert json.loads((tmp_path / "out" / "stats.json").read_text()) == stats


def test_class_folders_sort_in_label_order():
    assert sorted(CLASS_FOLDERS) == list(CLASS_FOLDERS)
    assert [int(name.split("_")[0]) for name in CLASS_FOLDERS] == list(range(10))
    assert CLASS_FOLDERS[0] == "0_tshirt_top" and CLASS_FOLDERS[9] == "9_ankle_boot"


def test_resized_images_follow_the_source(source, tmp_path):
    src, arrays = source
    images = arrays["train"][0].copy()
    images[:, :, :14] = 0  # left half dark, right half bright: must survive a bicubic resize to 32
    images[:, :, 14:] = 255
    write_idx(src, "train-images-idx3-ubyte", idx_bytes(images, 2051))
    stats = prepare_fashion_mnist(tmp_path / "out", src)
    pixels = written(tmp_path / "out", "train")[0][1]
    assert pixels.shape == (32, 32, 3)
    assert pixels[:, :12].max() < 20 and pixels[:, 20:].min() > 235
    assert stats["size"] == 32 and abs(stats["mean"][0] - 0.5) < 0.02


def test_uncompressed_files_are_read_alike(source, tmp_path):
    src, arrays = source
    for path in list(src.iterdir()):
        write_idx(src, path.name[: -len(".gz")], gzip.decompress(path.read_bytes()), compress=False)
        path.unlink()
    assert prepare_fashion_mnist(tmp_path / "out", src, size=28)["train"] == 60


def test_per_class_subset_is_seeded_and_balanced(source, tmp_path):
    src, arrays = source
    labels = arrays["train"][1]
    rows = per_class_subset(labels, 2)
    assert np.array_equal(rows, per_class_subset(labels, 2))  # fixed seed
    assert np.bincount(labels[rows], minlength=10).tolist() == [2] * 10
    assert not np.array_equal(rows, per_class_subset(labels, 2, seed=1))
    stats = prepare_fashion_mnist(tmp_path / "a", src, size=28, train_per_class=2, val_per_class=1)
    prepare_fashion_mnist(tmp_path / "b", src, size=28, train_per_class=2, val_per_class=1)
    assert (
        sorted(written(tmp_path / "a", "train"))
        == sorted(written(tmp_path / "b", "train"))
        == rows.tolist()
    )
    assert stats["train"] == 20 and stats["val"] == 10
    assert stats["per_class"]["train"] == {name: 2 for name in CLASS_FOLDERS}
    with pytest.raises(
        ValueError, match="--train-per-class: 7 is more than the 6 images of class 0_tshirt_top"
    ):
        prepare_fashion_mnist(tmp_path / "c", src, train_per_class=7)


def corrupt(src, name, transform):
    path = src / f"{name}.gz"
    path.write_bytes(gzip.compress(transform(gzip.decompress(path.read_bytes()))))
    return path


@pytest.mark.parametrize(
    "name,transform,message",
    [
        (
            "train-images-idx3-ubyte",
            lambda b: (2049).to_bytes(4, "big") + b[4:],
            "magic number 2049, expected 2051",
        ),
        (
            "t10k-labels-idx1-ubyte",
            lambda b: b"\x00\x00\x09\x01" + b[4:],
            "magic number 2305, expected 2049",
        ),
        (
            "train-images-idx3-ubyte",
            lambda b: b[:-100],
            "the file holds 46940",
        ),  # truncated pixel data
        ("t10k-images-idx3-ubyte", lambda b: b[:10], "truncated header"),
        (
            "train-labels-idx1-ubyte",
            lambda b: b[:4] + (59).to_bytes(4, "big") + b[8:67],
            "59 labels for the 60 images",
        ),
        (
            "t10k-labels-idx1-ubyte",
            lambda b: b[:-1] + b"\x0a",
            "label 10 at row 29 is outside 0..9",
        ),
        (
            "t10k-images-idx3-ubyte",
            lambda b: b[:12] + (27).to_bytes(4, "big") + b[16 : -30 * 28],
            "images are 28x27",
        ),
    ],
)
def test_corrupt_file_is_named(source, tmp_path, name, transform, message):
    path = corrupt(source[0], name, transform)
    with pytest.raises(ValueError, match=message) as err:
        prepare_fashion_mnist(tmp_path / "out", source[0])
    assert str(path) in str(err.value)
    assert not (tmp_path / "out").exists()  # checked before anything is written


def test_broken_gzip_is_named(source, tmp_path):
    path = source[0] / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ValueError, match="not a readable gzip file") as err:
        prepare_fashion_mnist(tmp_path / "out", source[0])
    assert str(path) in str(err.value)


def test_read_idx_shape(source):
    labels = read_idx(source[0] / "t10k-labels-idx1-ubyte.gz", 2049)
    assert labels.shape == (30,) and np.array_equal(labels, source[1]["t10k"][1])


def test_missing_files_point_to_the_package(source, tmp_path):
    (source[0] / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(
        FileNotFoundError,
        match="t10k-labels-idx1-ubyte.gz .*apt-get install -y dataset-fashion-mnist",
    ):
        prepare_fashion_mnist(tmp_path / "out", source[0])
    with pytest.raises(FileNotFoundError, match="is not a folder.*apt-get update"):
        prepare_fashion_mnist(tmp_path / "out", tmp_path / "nowhere")


def test_refuses_non_empty_out_unless_overwrite(source, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="--overwrite"):
        prepare_fashion_mnist(out, source[0], size=28)
    assert not (out / "train").exists()
    prepare_fashion_mnist(out, source[0], size=28, train_per_class=1, overwrite=True)
    stats = prepare_fashion_mnist(
        out, source[0], size=28, overwrite=True
    )  # no leftover from the subset run
    assert len(list((out / "train").rglob("*.png"))) == stats["train"] == 60
    assert (out / "mine.txt").read_text() == "keep me"


def test_cli_writes_and_reports(source, tmp_path, capsys):
    out = tmp_path / "out"
    main(
        [
            "data",
            "fashion-mnist",
            "--src",
            str(source[0]),
            "--out",
            str(out),
            "--train-per-class",
            "1",
            "--size",
            "16",
        ]
    )
    assert "wrote 10 train and 30 val images" in capsys.readouterr().out
    assert Image.open(next((out / "val" / "3_dress").glob("*.png"))).size == (16, 16)
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "fashion-mnist", "--src", str(source[0]), "--out", str(out)])
    assert exit_info.value.code.startswith(
        "solo-ext data fashion-mnist: --out:"
    )  # message on stderr, exit 1
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "data",
                "fashion-mnist",
                "--src",
                str(tmp_path / "missing"),
                "--out",
                str(tmp_path / "other"),
            ]
        )
    assert "dataset-fashion-mnist" in exit_info.value.code


def test_imports_neither_solo_learn_nor_lightning():
    code = (
        "import sys, solo_ext.data.fashion_mnist; "
        "assert not any(m.split('.')[0] in ('solo', 'lightning', 'torch') for m in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
