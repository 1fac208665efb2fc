import numpy as np
import pytest
import torch

from solo_ext.config import ColorMAESettings, ConfigError
from solo_ext.masking import (
    ColoredNoiseMasker,
    generate_patterns,
    load_patterns,
    mask_from_scores,
    save_patterns,
)
from solo_ext.masking.colored_noise import radial_power_spectrum


def bands(color):
    spectrum = radial_power_spectrum(generate_patterns(color, num=16, size=64, seed=1), bins=16)
    return spectrum[:2].mean(), spectrum[5:8].mean(), spectrum[13:].mean()  # low, mid, high


def test_spectra_have_their_colour():
    low, mid, high = bands("red")
    assert low > 10 * high and low > mid  # low-pass
    low, mid, high = bands("blue")
    assert high > 10 * low and high > mid  # high-pass
    low, mid, high = bands("green")
    assert mid > 5 * low and mid > 2 * high  # band-pass
    low, mid, high = bands("purple")
    assert low > 3 * mid and high > 3 * mid  # band-stop


def test_patterns_standardised_and_seeded():
    bank = generate_patterns("green", num=3, size=32, seed=7)
    assert bank.dtype == np.float32 and bank.shape == (3, 32, 32)
    assert np.allclose(bank.mean(axis=(1, 2)), 0, atol=1e-5) and np.allclose(
        bank.std(axis=(1, 2)), 1, atol=1e-4
    )
    assert np.array_equal(bank, generate_patterns("green", num=3, size=32, seed=7))
    assert not np.array_equal(bank, generate_patterns("green", num=3, size=32, seed=8))
    half = generate_patterns(
        "green", num=3, size=32, seed=7, dtype=np.float16
    )  # filled in half precision
    assert half.dtype == np.float16 and np.array_equal(half, bank.astype(np.float16))


def test_save_load_round_trip_and_official_layout(tmp_path):
    bank = generate_patterns("red", num=2, size=16)
    path = save_patterns(tmp_path / "red.npz", bank)
    assert np.array_equal(np.load(path)[np.load(path).files[0]], bank)  # first array = the bank
    assert np.array_equal(load_patterns(path), bank)
    with pytest.raises(FileExistsError, match="overwrite"):
        save_patterns(path, bank)
    np.savez(
        tmp_path / "official.npz", arr_0=bank.astype(np.float64)
    )  # other name and dtype load too
    assert load_patterns(tmp_path / "official.npz").dtype == np.float32


@pytest.mark.parametrize(
    "array,match",
    [
        (np.zeros((2, 8), np.float32), "expected float"),
        (np.zeros((2, 8, 4), np.float32), "expected float"),
        (np.full((1, 8, 8), np.nan, np.float32), "NaN"),
        (np.zeros((1, 4, 4), np.float32), "grid"),
    ],
)
def test_bad_pattern_files_name_the_file(tmp_path, array, match):
    np.savez(tmp_path / "bad.npz", array)
    with pytest.raises(ValueError, match=match) as err:
        load_patterns(tmp_path / "bad.npz", min_size=8)
    assert "bad.npz" in str(err.value)
    assert not isinstance(
        err.value, ConfigError
    )  # the core knows no config keys; the glue names them


def test_missing_file():
    with pytest.raises(ValueError, match="does not exist"):
        load_patterns("/nonexistent/bank.npz")


def test_unknown_colour():
    with pytest.raises(
        ValueError, match=r"colour 'pink' is unknown; allowed: \['red', 'blue', 'green', 'purple'\]"
    ):
        generate_patterns("pink", num=1, size=16)


def test_masks_keep_exactly_the_top_of_their_window():
    bank = torch.from_numpy(generate_patterns("green", num=8, size=16))
    masker = ColoredNoiseMasker(bank)
    scores = masker.scores(5, grid=8, generator=torch.Generator().manual_seed(0))
    keep = mask_from_scores(scores, 0.75)
    assert torch.equal(keep.mask.sum(1), torch.full((5,), 48.0))  # int(64 * 0.25) = 16 visible
    for b in range(5):
        assert set(keep.ids_keep[b].tolist()) == set(scores[b].topk(16).indices.tolist())
    # each window is a real, possibly flipped, 8x8 crop of its pattern
    window = scores[0].view(8, 8)
    pattern = bank[masker.last_index[0]]
    crops = [pattern[i : i + 8, j : j + 8] for i in range(9) for j in range(9)]
    variants = [
        c for crop in crops for c in (crop, crop.flip(-1), crop.flip(-2), crop.flip(-1).flip(-2))
    ]
    assert any(torch.equal(window, v) for v in variants)


def test_per_sample_draws_many_patterns_and_offsets():
    masker = ColoredNoiseMasker(torch.from_numpy(generate_patterns("blue", num=64, size=32)))
    scores = masker.scores(32, grid=8, generator=torch.Generator().manual_seed(1))
    assert len(set(masker.last_index.tolist())) > 20
    assert len({tuple(row.tolist()) for row in scores}) == 32


def test_official_mode_shares_one_crop():
    bank = torch.from_numpy(generate_patterns("green", num=16, size=32))
    masker = ColoredNoiseMasker(bank, mode="official")
    scores = masker.scores(6, grid=8, generator=torch.Generator().manual_seed(2)).view(6, 8, 8)
    assert torch.equal(masker.last_index, torch.arange(6))  # patterns 0..B-1
    # the same offset and flips for every sample: locate sample 0's window, check the others there
    found = None
    for i in range(25):
        for j in range(25):
            for flip in ((), (-1,), (-2,), (-1, -2)):
                crop = bank[0, i : i + 8, j : j + 8]
                crop = crop.flip(flip) if flip else crop
                if torch.equal(crop, scores[0]):
                    found = (i, j, flip)
    assert found is not None
    i, j, flip = found
    for b in range(6):
        crop = bank[b, i : i + 8, j : j + 8]
        assert torch.equal(crop.flip(flip) if flip else crop, scores[b])
    with pytest.raises(ValueError, match="'official' uses patterns 0..B-1 but B=17 > 16 patterns"):
        masker.scores(17, grid=8)


def test_bank_moves_with_the_module_but_is_no_state_or_ddp_buffer():
    masker = ColoredNoiseMasker(torch.randn(4, 16, 16), fp16=True)
    assert (
        "bank" not in masker.state_dict()
        and not list(masker.buffers())
        and masker.bank.dtype == torch.float16
    )
    wrapper = torch.nn.Sequential(masker)
    wrapper.to(torch.device("meta"))
    assert masker.bank.device.type == "meta" and masker.bank.dtype == torch.float16
    wrapper.to(torch.float32)
    assert masker.bank.dtype == torch.float16  # storage precision is the masker's choice
    assert (
        ColoredNoiseMasker(torch.randn(4, 16, 16)).bank.element_size()
        == 2 * masker.bank.element_size()
    )


def test_settings_parse_and_refuse():
    s = ColorMAESettings.from_method_kwargs(
        {"colormae": {"schedule": [{"start_epoch": 200, "color": "blue"}]}}
    )
    assert s.source_for_epoch(199) == ("green", None) and s.source_for_epoch(200) == ("blue", None)
    for bad, key in [
        ({"color": "pink"}, "color"),
        ({"mode": "shared"}, "mode"),
        ({"num_pattern": 3}, "unknown"),
        ({"schedule": [{"start_epoch": 1}]}, "schedule"),
        ({"fp16": "yes"}, "fp16"),
    ]:
        with pytest.raises(ConfigError, match=key):
            ColorMAESettings.from_method_kwargs({"colormae": bad})
