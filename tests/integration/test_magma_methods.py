import pytest
import torch
from omegaconf import OmegaConf
from solo.args.pretrain import parse_cfg
from solo.methods import METHODS

from solo_ext.config import ConfigError
from solo_ext.launch.pretrain import build_model
from tests.integration.helpers import digits_config


def parsed(cfg):
    OmegaConf.set_struct(cfg, False)
    return parse_cfg(cfg)


def fake_batch(n=8, crops=1, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = [torch.randn(n, 3, size, size, generator=g) for _ in range(crops)]
    return [torch.arange(n), images, torch.randint(0, 10, (n,), generator=g)]


def losses_on_the_same_batch(model, other):
    """Both models with model's weights, one training step each on the same batch and random masks."""
    other.load_state_dict(model.state_dict())
    batch = fake_batch()
    losses = []
    for m in (model, other):
        torch.manual_seed(1)
        losses.append(m.training_step(batch, 0))
    return losses


def test_m_mae_with_zero_weights_is_solo_learns_mae(digits_dir, tmp_path):
    overrides = ["++method_kwargs.magma.weight=0", "++method_kwargs.uniformity_weight=0"]
    cfg_ours = parsed(digits_config("m-mae", digits_dir, tmp_path, *overrides, tiny_vit=True))
    cfg_mae = parsed(digits_config("mae", digits_dir, tmp_path, tiny_vit=True))
    torch.manual_seed(0)
    ours = METHODS["m_mae"](cfg_ours)
    torch.manual_seed(0)
    mae = METHODS["mae"](cfg_mae)
    assert type(mae.backbone) is type(ours.backbone)  # both the masking MAE ViT
    loss_ours, loss_mae = losses_on_the_same_batch(ours, mae)
    assert torch.equal(loss_ours, loss_mae)


def test_m_mae_adds_the_weighted_regulariser(digits_dir, tmp_path):
    cfg = parsed(
        digits_config(
            "m-mae", digits_dir, tmp_path, "++method_kwargs.magma.start_epoch=0", tiny_vit=True
        )
    )
    model = METHODS["m_mae"](cfg)
    zero = METHODS["m_mae"](
        parsed(
            digits_config(
                "m-mae", digits_dir, tmp_path, "++method_kwargs.magma.weight=0", tiny_vit=True
            )
        )
    )
    with_reg, without = losses_on_the_same_batch(model, zero)
    assert with_reg > without
    with_reg.backward()
    assert all(len(b._forward_hooks) == 0 for b in model.backbone.blocks)  # nothing left behind


@pytest.mark.parametrize("method_file,magma_weight", [("u-mae", 0.0), ("mu-mae", 1.0)])
def test_u_mae_and_mu_mae_default_weights_reach_the_loss(
    method_file, magma_weight, digits_dir, tmp_path
):
    """With neither weight in the config (MAGMA window open): U-MAE's loss is MAE's + 0.01 L_unif, MU-MAE's is
    MAE's + 1 L_magma + 0.01 L_unif (the papers' weights), L_* as the method logs them."""
    unset = [
        "~method_kwargs.uniformity_weight",
        *(["~method_kwargs.magma"] if magma_weight else []),
        "+method_kwargs.magma.start_epoch=0",
    ]
    model = METHODS[method_file.replace("-", "_")](
        parsed(digits_config(method_file, digits_dir, tmp_path, *unset, tiny_vit=True))
    )
    mae = METHODS["mae"](parsed(digits_config("mae", digits_dir, tmp_path, tiny_vit=True)))
    logged = {}
    model.log_dict = lambda values, **kwargs: logged.update(values)
    loss, host = losses_on_the_same_batch(model, mae)
    magma, uniformity = logged["train_magma_loss"].item(), logged["train_uniformity_loss"].item()
    assert magma > 0 and uniformity > 0
    assert (loss - host).item() == pytest.approx(magma_weight * magma + 0.01 * uniformity, rel=1e-3)


@pytest.mark.parametrize("method_file", ["m-simclr", "m-vicreg"])
def test_two_view_methods_regularise_first_crop(method_file, digits_dir, tmp_path):
    """The regulariser is added to the host loss, and its gradient reaches the first crop's pixels, not the
    second's."""
    cfg = parsed(
        digits_config(
            method_file, digits_dir, tmp_path, "++method_kwargs.magma.start_epoch=0", tiny_vit=True
        )
    )
    model = METHODS[cfg.method](cfg)
    without = METHODS[cfg.method](
        parsed(
            digits_config(
                method_file, digits_dir, tmp_path, "++method_kwargs.magma.weight=0", tiny_vit=True
            )
        )
    )
    without.load_state_dict(model.state_dict())
    regularisers = []
    regulariser = model.regulariser
    model.regulariser = lambda *args: regularisers.append(regulariser(*args)) or regularisers[-1]
    batch = fake_batch(crops=2)
    first, second = (crop.requires_grad_(True) for crop in batch[1])
    loss = model.training_step(batch, 0)
    (term,) = regularisers
    assert term > 0
    assert torch.allclose(loss - term, without.training_step(fake_batch(crops=2), 0), atol=1e-6)
    grad_first, grad_second = torch.autograd.grad(term, [first, second], allow_unused=True)
    assert grad_first is not None and grad_first.abs().sum() > 0
    assert grad_second is None or not grad_second.any()


@pytest.mark.parametrize(
    "method_file,override,key",
    [
        (
            "m-mae",
            "++method_kwargs.magma.reference_layers=[12]",
            "method_kwargs.magma.reference_layers",
        ),
        ("m-mae", "++method_kwargs.magma.target_layer=-13", "method_kwargs.magma.target_layer"),
        ("m-mae", "++method_kwargs.magma.weight=-1", "method_kwargs.magma.weight"),
        ("m-mae", "++method_kwargs.magma.duration=-10", "method_kwargs.magma.duration"),
        (
            "m-mae",
            "++method_kwargs.magma.reference_layers=[-1]",
            "method_kwargs.magma.reference_layers",
        ),
        ("m-mae", "backbone.name=resnet18", "backbone.name"),
        ("m-simclr", "backbone.name=resnet18", "backbone.name"),
        ("m-simclr", "augmentations.0.num_crops=1", "augmentations"),
        ("m-mae", "devices=0", "devices"),  # a count must be >= 1 (devices=1 means [0])
        ("m-mae", "method_kwargs.mask_ratio=1.0", "method_kwargs.mask_ratio"),
    ],
)
def test_bad_config_names_the_key(method_file, override, key, digits_dir, tmp_path):
    with pytest.raises(ConfigError, match=key):
        build_model(digits_config(method_file, digits_dir, tmp_path, override, tiny_vit=True))


def test_external_mask_scores_run_through_the_mae_vit(digits_dir, tmp_path):
    """A subclass choosing masks by scores matches solo-learn's masking when the scores are -noise."""
    from solo_ext.methods.mae_family import MaskedViTMAE

    class NoiseScores(MaskedViTMAE):
        def mask_scores(self, X):
            return -torch.rand(X.size(0), self.backbone.patch_embed.num_patches)

    cfg = parsed(digits_config("mae", digits_dir, tmp_path, tiny_vit=True))
    torch.manual_seed(0)
    external = NoiseScores(cfg)
    host = METHODS["mae"](parsed(digits_config("mae", digits_dir, tmp_path, tiny_vit=True)))
    host.load_state_dict(external.state_dict(), strict=False)
    images = fake_batch()[1][0]
    torch.manual_seed(3)
    out_external = external(images)
    torch.manual_seed(3)
    out_host = host(images)
    assert torch.equal(out_external["mask"], out_host["mask"])
    assert torch.allclose(out_external["pred"], out_host["pred"], atol=1e-6)
    assert torch.allclose(out_external["feats"], out_host["feats"], atol=1e-6)
    external.eval()
    assert "mask" not in external(images)  # evaluation sees the whole image
