import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import davies_bouldin_score

from solo_ext import analysis
from solo_ext.analysis import (
    attention_weights,
    capture_queries_keys,
    cls_attention_maps,
    davies_bouldin_index,
    key_component_maps,
    leading_component,
    linear_probe_accuracy,
    pixel_mask,
    reconstruct_images,
    to_display,
)
from solo_ext.losses import patchify


@pytest.fixture(scope="module")
def vit():
    timm_vit = pytest.importorskip("timm.models.vision_transformer")
    torch.manual_seed(0)
    model = timm_vit.VisionTransformer(
        img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2, num_classes=0
    )
    return model.eval()


@pytest.fixture(scope="module")
def images():
    return torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_davies_bouldin_matches_sklearn_on_random_and_clustered_data():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 7)), rng.integers(0, 4, 60)
    assert davies_bouldin_index(x, y) == pytest.approx(davies_bouldin_score(x, y), rel=1e-10)
    blobs, labels = make_blobs(
        n_samples=200, centers=5, n_features=16, cluster_std=0.5, random_state=0
    )
    ours = davies_bouldin_index(torch.from_numpy(blobs).float(), torch.from_numpy(labels))
    assert ours == pytest.approx(davies_bouldin_score(blobs, labels), rel=1e-5)
    assert ours < 0.5 < davies_bouldin_index(x, y)  # well separated clusters score lower


def test_davies_bouldin_edge_cases():
    points = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    assert (
        davies_bouldin_index(points, [0, 0, 1, 1])
        == davies_bouldin_score(points, [0, 0, 1, 1])
        == 0.0
    )
    with pytest.raises(ValueError, match="2 to N-1 clusters"):
        davies_bouldin_index(points, [0, 0, 0, 0])


def _attention_input(vit, images):
    """The normalised tokens each block's attention receives, recorded with a plain hook."""
    inputs = []
    handles = [
        block.attn.register_forward_hook(lambda m, args, out: inputs.append(args[0]))
        for block in vit.blocks
    ]
    return inputs, handles


def test_captured_keys_and_queries_equal_a_manual_projection(vit, images):
    inputs, handles = _attention_input(vit, images)
    with torch.no_grad(), capture_queries_keys(vit.blocks) as captured:
        vit.forward_features(images)
    for handle in handles:
        handle.remove()
    dim, heads = 32, 2
    for block, x, q, k in zip(vit.blocks, inputs, captured.queries, captured.keys):
        weight, bias = block.attn.qkv.weight, block.attn.qkv.bias
        bias = torch.zeros(3 * dim) if bias is None else bias
        manual_k = x @ weight[dim : 2 * dim].T + bias[dim : 2 * dim]  # [B, T, D]
        manual_q = x @ weight[:dim].T + bias[:dim]
        expected_k = manual_k.reshape(3, 17, heads, dim // heads).permute(
            0, 2, 1, 3
        )  # [B, heads, T, D/heads]
        expected_q = manual_q.reshape(3, 17, heads, dim // heads).permute(0, 2, 1, 3)
        assert k.shape == (3, heads, 17, dim // heads)
        assert torch.allclose(k, expected_k, atol=1e-5) and torch.allclose(q, expected_q, atol=1e-5)
    assert all(not block.attn.qkv._forward_hooks for block in vit.blocks)  # hooks removed on exit


def test_attention_from_captured_qk_reproduces_the_blocks_output(vit, images):
    inputs, handles = _attention_input(vit, images)
    outputs = []
    handles.append(
        vit.blocks[-1].attn.register_forward_hook(lambda m, args, out: outputs.append(out))
    )
    with torch.no_grad(), capture_queries_keys(vit.blocks) as captured:
        vit.forward_features(images)
    for handle in handles:
        handle.remove()
    q, k = captured.queries[-1], captured.keys[-1]
    weights = attention_weights(q, k)  # [B, heads, T, T]
    assert weights.shape == (3, 2, 17, 17)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 2, 17), atol=1e-6)
    manual = torch.exp(q @ k.transpose(-2, -1) / 4.0)  # d = 16 per head: √d = 4
    assert torch.allclose(weights, manual / manual.sum(-1, keepdim=True), atol=1e-6)

    attn = vit.blocks[-1].attn
    v = (
        (inputs[-1] @ attn.qkv.weight[64:].T + attn.qkv.bias[64:])
        .reshape(3, 17, 2, 16)
        .permute(0, 2, 1, 3)
    )
    mixed = (weights @ v).transpose(1, 2).reshape(3, 17, 32)
    assert torch.allclose(
        attn.proj(mixed), outputs[0], atol=1e-5
    )  # the weights the fused kernel used

    maps = cls_attention_maps(q, k, (4, 4))
    assert maps.shape == (3, 2, 4, 4)
    assert torch.equal(maps.reshape(3, 2, 16), weights[:, :, 0, 1:])


def test_capture_refuses_blocks_without_attention():
    with pytest.raises(ValueError, match="block 0 .*attn.qkv"):
        with capture_queries_keys([torch.nn.Linear(2, 2)]):
            pass


def test_leading_component_matches_pca_up_to_sign_with_a_fixed_sign():
    x = torch.randn(40, 6, generator=torch.Generator().manual_seed(2)) * torch.tensor(
        [5.0, 1, 1, 0.5, 0.2, 0.1]
    )
    ours = leading_component(x).numpy()
    reference = PCA(n_components=1).fit_transform(x.numpy().astype(np.float64))[:, 0]
    sign = np.sign(ours @ reference)
    assert np.allclose(ours, sign * reference, atol=1e-5)
    assert ours[np.abs(ours).argmax()] > 0
    assert torch.allclose(leading_component(-x), leading_component(x), atol=1e-5)  # sign is fixed
    batched = leading_component(torch.stack([x, 2 * x]))
    assert torch.allclose(batched[0], leading_component(x))
    assert torch.allclose(batched[1], 2 * leading_component(x), atol=1e-5)


def test_key_component_maps_project_patch_keys_per_image_and_block(vit, images):
    with torch.no_grad(), capture_queries_keys(vit.blocks) as captured:
        vit.forward_features(images)
    maps = key_component_maps(captured.keys, (4, 4))
    assert maps.shape == (3, 2, 4, 4)  # [B, blocks, grid, grid]
    components = [
        [leading_component(k[i].permute(1, 0, 2).reshape(17, 32)[1:]) for k in captured.keys]
        for i in range(3)
    ]
    for i in range(
        3
    ):  # image i: block 0 as leading_component, block 1 the same up to sign, agreeing with block 0
        assert torch.allclose(maps[i, 0].flatten(), components[i][0], atol=1e-5)
        block1 = maps[i, 1].flatten()
        assert torch.allclose(block1.abs(), components[i][1].abs(), atol=1e-5)
        centred = lambda t: t - t.mean()  # noqa: E731
        assert (centred(block1) * centred(maps[i, 0].flatten())).sum() >= 0


def test_reconstruction_pastes_visible_patches_and_undoes_norm_pix():
    images = torch.randn(2, 3, 16, 16)
    mask = torch.zeros(2, 16)
    mask[:, ::2] = 1
    target = patchify(images, 4)  # [B, L, 48]
    assert torch.allclose(reconstruct_images(images, target, mask, 4), images, atol=1e-6)
    standardised = (target - target.mean(-1, keepdim=True)) / (
        target.var(-1, keepdim=True) + 1e-6
    ).sqrt()
    assert torch.allclose(
        reconstruct_images(images, standardised, mask, 4, norm_pix=True), images, atol=1e-5
    )
    zeros = reconstruct_images(images, torch.zeros_like(target), mask, 4)
    assert torch.equal(
        patchify(zeros, 4)[:, 1::2], target[:, 1::2]
    )  # visible patches are the originals
    assert torch.count_nonzero(patchify(zeros, 4)[:, ::2]) == 0  # masked ones the prediction


def test_pixel_mask_and_display_conversion():
    mask = torch.zeros(1, 4)
    mask[0, 1] = 1  # top-right patch of a 2×2 grid
    pixels = pixel_mask(mask, (2, 2), 3)
    assert pixels.shape == (1, 6, 6) and pixels[0, :3, 3:].eq(1).all() and pixels.sum() == 9
    images = torch.full((1, 3, 2, 2), 2.0)
    shown = to_display(images, [0.1, 0.2, 0.3], [0.1, 0.1, 0.1])
    assert shown.shape == (1, 2, 2, 3) and np.allclose(shown[0, 0, 0], [0.3, 0.4, 0.5])
    assert to_display(torch.full((1, 3, 1, 1), 50.0), [0.5] * 3, [0.5] * 3).max() == 1.0


def test_linear_probe_separates_separable_classes():
    blobs, labels = make_blobs(
        n_samples=80, centers=3, n_features=5, cluster_std=0.3, random_state=1
    )
    assert linear_probe_accuracy(blobs[:60], labels[:60], blobs[60:], labels[60:]) == 1.0
    noise = np.random.default_rng(0).normal(size=(80, 5))
    assert linear_probe_accuracy(noise[:60], labels[:60], noise[60:], labels[60:]) < 1.0


def test_missing_optional_dependency_says_how_to_install():
    with pytest.raises(ImportError, match=r"pip install 'solo-ext\[analysis\]'"):
        analysis.metrics._require("a_module_that_is_not_installed")


def _png_size(path):
    from PIL import Image

    assert path.stat().st_size > 0
    with Image.open(path) as png:
        assert png.format == "PNG"
        assert np.asarray(png.convert("L")).std() > 0  # something was drawn
        return png.size


def test_figure_writers_write_pngs_of_fixed_pixel_size(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    shown = rng.random((3, 32, 32, 3))
    masks = pixel_mask((torch.rand(3, 16) > 0.5).float(), (4, 4), 8).numpy()
    assert _png_size(
        analysis.write_reconstructions(tmp_path / "r.png", shown, shown, masks, ["a", "b", "c"])
    ) == (400, 360)
    assert _png_size(analysis.write_masks(tmp_path / "m.png", shown, masks)) == (
        400,
        160,
    )  # at least 400 wide
    ten = rng.random((10, 32, 32, 3))
    ten_masks = np.zeros((10, 32, 32))
    assert _png_size(analysis.write_masks(tmp_path / "m10.png", ten, ten_masks)) == (
        820,
        260,
    )  # 8 per row
    maps = torch.rand(2, 3, 4, 4)  # [rows, images, grid, grid]
    assert _png_size(
        analysis.write_heatmaps(tmp_path / "h.png", shown, maps, ["block 0", "block 1"], "keys")
    ) == (400, 360)
    embedding, labels = rng.normal(size=(30, 2)), np.arange(30) % 3
    scatter = analysis.write_pacmap(
        tmp_path / "p.png", embedding, labels, ["x", "y", "z"], "PaCMAP\nDBI=1"
    )
    assert _png_size(scatter) == (700, 600)


def test_imports_neither_solo_learn_nor_lightning_and_plots_lazily():
    code = textwrap.dedent(
        """
        import sys
        import solo_ext.analysis
        heavy = ("solo", "lightning", "matplotlib", "pacmap", "sklearn")
        print(sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
