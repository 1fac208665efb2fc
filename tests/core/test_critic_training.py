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
