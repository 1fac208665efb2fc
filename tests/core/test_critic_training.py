import pytest
import torch

from solo_ext.launch.critic import train_critic
from solo_ext.losses import load_critic_features


@pytest.mark.slow
def test_trains_writes_top1_and_loads_as_a_critic(digits_dir, tmp_path):
    out = tmp_path / "critic.pt"
    top1 = train_critic(
        digits_dir,
        out,
        size=64,
        mean=[0.31] * 3,
        std=[0.35] * 3,
        epochs=1,
        batch=32,
        warmup_epochs=0,
        workers=0,
        device="cpu",
        max_steps=3,
    )
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint["arch"] == "squeezenet1_1" and checkpoint["num_classes"] == 10
    assert checkpoint["top1"] == top1 and 0.0 <= top1 <= 100.0
    assert checkpoint["meta"]["size"] == 64
    assert load_critic_features(out)(torch.randn(1, 3, 64, 64)).shape == (1, 128, 15, 15)
    with pytest.raises(FileExistsError, match="--overwrite"):
        train_critic(digits_dir, out, epochs=1, max_steps=1, workers=0)


def test_wrong_data_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="train"):
        train_critic(tmp_path, tmp_path / "c.pt", epochs=1, workers=0)


def _weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


@pytest.mark.slow
def test_the_seed_fixes_the_critic(digits_dir, tmp_path):
    """Same seed, same weights (the fidelity study's SMAE runs depend on them); another seed differs."""
    common = dict(
        size=32, epochs=1, batch=16, warmup_epochs=0, workers=0, device="cpu", max_steps=2
    )
    for name, seed in (("a.pt", 3), ("b.pt", 3), ("c.pt", 4)):
        train_critic(digits_dir, tmp_path / name, seed=seed, **common)
    a, b, c = (_weights(tmp_path / n) for n in ("a.pt", "b.pt", "c.pt"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
