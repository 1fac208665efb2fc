import pytest
import torch

from solo_ext.losses import (
    PerceptualLoss,
    build_critic,
    load_critic_features,
    patchify,
    pixel_loss,
    save_critic,
    unpatchify,
)


def test_unpatchify_inverts_patchify():
    images = torch.randn(2, 3, 32, 32)
    assert patchify(images, 8).shape == (2, 16, 192)
    assert torch.equal(unpatchify(patchify(images, 8), 8), images)


def test_pixel_loss_over_all_or_masked_patches():
    images = torch.randn(2, 3, 16, 16)
    pred = patchify(images, 4).clone()
    mask = torch.zeros(2, 16)
    mask[:, :4] = 1
    pred[:, 0] += 1.0  # error only on patch 0 (masked)
    assert torch.isclose(pixel_loss(pred, images, mask, 4, on="all"), torch.tensor(1 / 16))
    assert torch.isclose(pixel_loss(pred, images, mask, 4, on="masked"), torch.tensor(1 / 4))


def test_pixel_loss_normalises_half_images_in_fp32():
    """fp16 patch variances of 1e4-scale pixels overflow: the normalised targets used to collapse to 0."""
    images = torch.randn(2, 3, 16, 16) * 1e4
    pred = torch.zeros(2, 4, 192, dtype=torch.float16)
    mask = torch.ones(2, 4)
    loss = pixel_loss(pred, images.half(), mask, 8, norm_pix=True)
    assert loss.dtype == torch.float32
    assert torch.equal(
        loss, pixel_loss(pred.float(), images.half().float(), mask, 8, norm_pix=True)
    )
    assert torch.isclose(
        loss, torch.tensor(1.0), atol=0.02
    )  # unit-variance targets, zero prediction


@pytest.fixture(scope="module")
def critic_file(tmp_path_factory):
    torch.manual_seed(0)
    return save_critic(
        tmp_path_factory.mktemp("critic") / "critic.pt", build_critic(10), 10, top1=12.5
    )


def test_perceptual_loss_zero_for_identical_positive_otherwise(critic_file):
    loss_fn = PerceptualLoss(load_critic_features(critic_file))
    images = torch.randn(2, 3, 64, 64)
    assert loss_fn(images, images).item() == 0.0
    assert loss_fn(images + torch.randn_like(images), images).item() > 0


def test_gradients_reach_the_reconstruction_not_the_critic(critic_file):
    loss_fn = PerceptualLoss(load_critic_features(critic_file)).train()
    assert not loss_fn.critic.training
    reconstruction = torch.randn(2, 3, 64, 64, requires_grad=True)
    loss_fn(reconstruction, torch.randn(2, 3, 64, 64)).backward()
    assert reconstruction.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in loss_fn.critic.parameters())


def test_critic_features_shape(critic_file):
    assert load_critic_features(critic_file)(torch.randn(1, 3, 64, 64)).shape == (1, 128, 15, 15)


def test_bad_critic_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_critic_features(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="cannot be read"):
        load_critic_features(tmp_path / "junk.pt")
    torch.save({"arch": "resnet18", "state_dict": {}}, tmp_path / "resnet.pt")
    with pytest.raises(ValueError, match="not a squeezenet1_1 critic"):
        load_critic_features(tmp_path / "resnet.pt")
    torch.save(
        {"arch": "squeezenet1_1", "num_classes": 10, "state_dict": {"w": torch.zeros(1)}},
        tmp_path / "bad.pt",
    )
    with pytest.raises(ValueError, match="does not fit"):
        load_critic_features(tmp_path / "bad.pt")
