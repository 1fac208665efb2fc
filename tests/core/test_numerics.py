"""Property tests: every loss stays finite, with finite gradients, on adversarial batches.

Batches have 1, 2 or a few rows; each row is random, zero, or a copy, negation or near-copy of an earlier
row (or the whole batch is one repeated row, or zero); magnitudes run from 1e-4 to 1e4, sometimes on a 1e4
common offset; inputs are fp32, fp16 or bf16, or fp32 under CPU autocast (bf16 and fp16). Images are random,
constant or zero at the same scales. The losses are computed in fp32, so for every loss:

* the value is a finite fp32 scalar, equal to the loss of the same inputs upcast to fp32;
* the gradient of each input is finite in fp32, and the value under autocast is the fp32 one;
* the gradient of an fp16/bf16 input is finite whenever the fp32 gradient fits in that dtype. (A true
  gradient above fp16's 65504, e.g. 1/T at T = 1e-6, cannot be stored in fp16; mixed-precision training
  leaves that to its loss scaler.)

Where a degenerate batch has a documented value (MAGMA's B = 1 and complete graph, all-equal logits of
the contrastive losses, uniformity of one direction, perceptual loss of identical images) it is checked.
"""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from solo_ext.losses import (
    PerceptualLoss,
    build_critic,
    clip_contrastive_loss,
    magma_loss,
    nt_xent_loss,
    pixel_loss,
    uniformity_loss,
)
from solo_ext.losses.contrastive import MAX_LOGIT_SCALE

EXAMPLES = settings(max_examples=60, deadline=None, database=None)
FEW_EXAMPLES = settings(max_examples=25, deadline=None, database=None)

DTYPES = st.sampled_from([torch.float32, torch.float16, torch.bfloat16])
AUTOCAST_DTYPES = st.sampled_from([torch.bfloat16, torch.float16])
SCALES = st.sampled_from([1e-4, 1e-2, 1.0, 1e2, 1e4])
ROW_KINDS = st.sampled_from(["random", "zero", "copy", "negated", "jittered"])


@st.composite
def batches(draw, rows=None, dim=None, dtype=None, layout=None):
    """An adversarial [rows, dim] batch; ``layout`` "repeated"/"zero" forces one repeated row or all zeros.

    Each row of a "mixed" batch is random, zero, or a copy, negation or 1e-4-jittered copy of an earlier row.
    """
    rows = draw(st.integers(1, 6)) if rows is None else rows
    dim = draw(st.integers(1, 8)) if dim is None else dim
    dtype = draw(DTYPES) if dtype is None else dtype
    layout = (
        draw(st.sampled_from(["mixed", "mixed", "repeated", "zero"])) if layout is None else layout
    )
    scale, offset = draw(SCALES), draw(st.sampled_from([0.0, 0.0, 1e4]))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    # |values| <= 4e4 + 1e4: every batch is representable in fp16 (max 65504)
    x = torch.randn(rows, dim, generator=generator).clamp(-4, 4) * scale + offset
    kinds = {
        "mixed": draw(st.lists(ROW_KINDS, min_size=rows, max_size=rows)),
        "repeated": ["copy"] * rows,
        "zero": ["zero"] * rows,
    }[layout]
    for i, kind in enumerate(kinds):
        source = draw(st.integers(0, i - 1)) if i > 0 and layout == "mixed" else 0
        if kind == "zero":
            x[i] = 0.0
        elif kind in ("copy", "negated") and i > 0:
            x[i] = x[source] if kind == "copy" else -x[source]
        elif kind == "jittered" and i > 0:  # a near-copy: distances far below the batch's scale
            x[i] = x[source] + torch.randn(dim, generator=generator) * scale * 1e-4
    return x.to(dtype)


def check_loss(loss_fn, *inputs, constants=0):
    """The shared properties (module docstring) of ``loss_fn(*inputs)``; returns the loss and input grads.

    The last ``constants`` inputs are passed without requires_grad (a target the loss does not differentiate).
    """
    trained = len(inputs) - constants
    leaves = [x.detach().clone().requires_grad_(i < trained) for i, x in enumerate(inputs)]
    upcast = [x.detach().float().requires_grad_(i < trained) for i, x in enumerate(inputs)]
    loss, reference = loss_fn(*leaves), loss_fn(*upcast)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert torch.isfinite(loss), loss
    assert torch.equal(loss, reference), (loss, reference)
    loss.backward()
    reference.backward()
    for leaf, exact in zip(leaves[:trained], upcast[:trained]):
        assert leaf.grad is not None and leaf.grad.dtype == leaf.dtype
        assert torch.isfinite(exact.grad).all(), exact.grad
        if exact.grad.abs().max() <= torch.finfo(leaf.dtype).max / 2:
            assert torch.isfinite(leaf.grad).all(), (leaf.dtype, leaf.grad, exact.grad)
    return loss, [exact.grad for exact in upcast[:trained]]


def check_under_autocast(loss_fn, dtype, *inputs, constants=0):
    """fp32 inputs under CPU autocast: the loss opts out of it, so value and gradients are the plain fp32 ones."""
    trained = len(inputs) - constants
    leaves = [x.detach().float().requires_grad_(i < trained) for i, x in enumerate(inputs)]
    plain = [x.detach().float().requires_grad_(i < trained) for i, x in enumerate(inputs)]
    with torch.autocast("cpu", dtype=dtype):
        loss = loss_fn(*leaves)
    expected = loss_fn(*plain)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert torch.equal(loss, expected)
    loss.backward()
    expected.backward()
    for leaf, exact in zip(leaves[:trained], plain[:trained]):
        assert torch.isfinite(leaf.grad).all() and torch.equal(leaf.grad, exact.grad)


# MAGMA ---------------------------------------------------------------------------------------------------


def complete_graph_magma(target, eps=1e-4):
    """The documented degenerate value: W = 1 off the diagonal, every degree B - 1 (fp64)."""
    y = target.double()
    b = y.size(0)
    w = 1.0 - torch.eye(b, dtype=torch.float64)
    return ((y * y).sum() - (w * (y @ y.T)).sum() / (b - 1 + eps)) / b**2


@EXAMPLES
@given(data=st.data(), rows=st.integers(1, 6), rbf_scale=st.sampled_from([0.5, 1.0, 4.0]))
def test_magma_is_finite_on_adversarial_batches(data, rows, rbf_scale):
    reference, target = data.draw(batches(rows=rows)), data.draw(batches(rows=rows))
    check_loss(lambda x, y: magma_loss(x, y, rbf_scale=rbf_scale), reference, target)


@EXAMPLES
@given(data=st.data(), rows=st.integers(1, 6))
def test_magma_degenerate_batches_take_their_documented_values(data, rows):
    """B = 1 is 0; one repeated reference row (and any B = 2) is the unit complete graph, with no
    gradient into the reference."""
    layout = "mixed" if rows <= 2 else data.draw(st.sampled_from(["repeated", "zero"]))
    reference, target = data.draw(batches(rows=rows, layout=layout)), data.draw(batches(rows=rows))
    loss, (reference_grad, _) = check_loss(magma_loss, reference, target)
    assert torch.equal(reference_grad, torch.zeros_like(reference_grad))
    if rows == 1:
        assert loss.item() == 0.0
    else:
        expected = complete_graph_magma(target.float())
        scale = target.float().square().sum().item()  # ||y||², the size of the terms that cancel
        assert math.isclose(loss.item(), expected.item(), rel_tol=1e-5, abs_tol=1e-6 * scale)


@FEW_EXAMPLES
@given(data=st.data(), rows=st.integers(1, 6), dtype=AUTOCAST_DTYPES)
def test_magma_ignores_autocast(data, rows, dtype):
    check_under_autocast(
        magma_loss, dtype, data.draw(batches(rows=rows)), data.draw(batches(rows=rows))
    )


# Uniformity ----------------------------------------------------------------------------------------------


@EXAMPLES
@given(features=batches())
def test_uniformity_is_finite_on_adversarial_batches(features):
    loss, _ = check_loss(uniformity_loss, features)
    assert 0.0 <= loss.item() <= 1.0 + 1e-5


@EXAMPLES
@given(data=st.data(), rows=st.integers(1, 6))
def test_uniformity_of_one_direction_counts_its_nonzero_rows(data, rows):
    """Rows that are zero or ±one vector: every non-zero pair has cos² = 1 and zero rows count 0."""
    direction = data.draw(batches(rows=1))
    signs = [data.draw(st.sampled_from([0.0, 1.0, -1.0])) for _ in range(rows)]
    features = (torch.tensor(signs)[:, None] * direction.float()).to(direction.dtype)
    loss, _ = check_loss(uniformity_loss, features)
    nonzero = sum(1 for s in signs if s != 0.0) if direction.abs().sum() > 0 else 0
    assert math.isclose(loss.item(), nonzero**2 / rows**2, rel_tol=1e-5, abs_tol=1e-7)


@FEW_EXAMPLES
@given(features=batches(), dtype=AUTOCAST_DTYPES)
def test_uniformity_ignores_autocast(features, dtype):
    check_under_autocast(uniformity_loss, dtype, features)


# ViC-MAE contrastive -------------------------------------------------------------------------------------

TEMPERATURES = st.sampled_from([1e-6, 1e-4, 1e-3, 0.01, 0.1, 0.5, 10.0])


@st.composite
def two_view_layouts(draw):
    """(rank, world, per-rank dataset indexes [B]): two views of every image, duplicate images allowed."""
    world = draw(st.sampled_from([1, 2]))
    images = draw(st.integers(1, 3))
    indexes = [
        torch.tensor(draw(st.lists(st.integers(0, 2 * images), min_size=images, max_size=images)))
        for _ in range(world)
    ]
    return draw(st.integers(0, world - 1)), world, indexes


def gathered(own, others, rank):
    """The all-gathered columns: every rank's block in rank order, this rank's at position ``rank``."""
    blocks = list(others)
    blocks.insert(rank, own)
    return torch.cat(blocks)


def cosine_noise(zero):
    """A bound on how far the loss of one repeated row may move per unit of 1/T: the fp32 cosines of equal
    unit vectors are 1 only up to rounding (exactly 0 for zero rows), and 1/T = 1e6 magnifies that."""
    return 0.0 if zero else 32 * torch.finfo(torch.float32).eps


@EXAMPLES
@given(
    data=st.data(),
    layout=two_view_layouts(),
    temperature=TEMPERATURES,
    through_columns=st.booleans(),
)
def test_nt_xent_is_finite_on_adversarial_batches(data, layout, temperature, through_columns):
    rank, world, indexes = layout
    views = 2 * indexes[rank].numel()
    z = data.draw(batches(rows=views, dim=4))  # this rank's two views stacked
    other_indexes = [idx.repeat(2) for r, idx in enumerate(indexes) if r != rank]
    others = [
        data.draw(batches(rows=idx.numel(), dim=4, dtype=z.dtype)) for idx in other_indexes
    ]  # other ranks
    column_indexes = gathered(indexes[rank].repeat(2), other_indexes, rank)
    offset = sum(2 * idx.numel() for idx in indexes[:rank])

    def loss_fn(rows, *other_rows):
        if world == 1 and not through_columns:
            return nt_xent_loss(rows, indexes[rank].repeat(2), temperature=temperature)
        return nt_xent_loss(
            rows,
            indexes[rank].repeat(2),
            gathered(rows, other_rows, rank),
            column_indexes,
            temperature=temperature,
            self_offset=offset,
        )

    check_loss(loss_fn, z, *others)


@EXAMPLES
@given(data=st.data(), layout=two_view_layouts(), temperature=TEMPERATURES, zero=st.booleans())
def test_nt_xent_of_one_repeated_row_is_the_log_count_ratio(data, layout, temperature, zero):
    """Every logit equal: ℓ_i = log((M - 1) / |P(i)|), whatever T."""
    rank, world, indexes = layout
    column_indexes = torch.cat([idx.repeat(2) for idx in indexes])
    offset = sum(2 * idx.numel() for idx in indexes[:rank])
    row = data.draw(batches(rows=1, dim=4, layout="zero" if zero else "mixed"))
    z = row.expand(column_indexes.numel(), -1).clone()
    rows = z[offset : offset + 2 * indexes[rank].numel()]
    row_indexes = indexes[rank].repeat(2)
    loss, _ = check_loss(
        lambda r, c: nt_xent_loss(r, row_indexes, c, column_indexes, temperature, offset), rows, z
    )
    positives = (row_indexes[:, None] == column_indexes[None, :]).sum(
        1
    ) - 1  # minus the row's own column
    expected = torch.log((column_indexes.numel() - 1) / positives.double()).mean()
    noise = cosine_noise(zero) / temperature
    assert math.isclose(loss.item(), expected.item(), rel_tol=1e-5, abs_tol=1e-5 + noise)


@EXAMPLES
@given(data=st.data(), layout=two_view_layouts(), logit_scale=st.floats(-10.0, 10.0))
def test_clip_is_finite_on_adversarial_batches(data, layout, logit_scale):
    rank, world, indexes = layout
    images = indexes[rank].numel()
    first = data.draw(batches(rows=images, dim=4))
    second = data.draw(batches(rows=images, dim=4, dtype=first.dtype))
    other_indexes = [idx for r, idx in enumerate(indexes) if r != rank]
    others = [
        data.draw(batches(rows=idx.numel(), dim=4, dtype=first.dtype)) for idx in other_indexes
    ]  # 2nd views
    column_indexes = gathered(indexes[rank], other_indexes, rank)

    def loss_fn(p, z, scale, *other_z):
        return clip_contrastive_loss(
            p, indexes[rank], gathered(z, other_z, rank), column_indexes, scale
        )

    _, grads = check_loss(loss_fn, first, second, torch.tensor(logit_scale), *others)
    if logit_scale > MAX_LOGIT_SCALE:
        assert grads[2].item() == 0.0  # clamped: the scale no longer learns


@EXAMPLES
@given(
    data=st.data(),
    layout=two_view_layouts(),
    logit_scale=st.floats(-10.0, 10.0),
    zero=st.booleans(),
)
def test_clip_of_one_repeated_row_is_twice_log_columns(data, layout, logit_scale, zero):
    """Every logit equal: the cross-entropy is log M whatever the positives and the scale."""
    rank, world, indexes = layout
    column_indexes = torch.cat(indexes)
    row = data.draw(batches(rows=1, dim=4, layout="zero" if zero else "mixed"))
    p = row.expand(indexes[rank].numel(), -1).clone()
    z = row.expand(column_indexes.numel(), -1).clone()
    scale = torch.tensor(logit_scale)
    loss, _ = check_loss(
        lambda r, c: clip_contrastive_loss(r, indexes[rank], c, column_indexes, scale), p, z
    )
    noise = cosine_noise(zero) * math.exp(min(logit_scale, MAX_LOGIT_SCALE))
    assert math.isclose(
        loss.item(), 2 * math.log(column_indexes.numel()), rel_tol=1e-5, abs_tol=1e-5 + noise
    )


@FEW_EXAMPLES
@given(data=st.data(), images=st.integers(1, 3), temperature=TEMPERATURES, dtype=AUTOCAST_DTYPES)
def test_contrastive_losses_ignore_autocast(data, images, temperature, dtype):
    indexes = torch.arange(images)
    z, p = data.draw(batches(rows=2 * images, dim=4)), data.draw(batches(rows=images, dim=4))
    check_under_autocast(
        lambda rows: nt_xent_loss(rows, indexes.repeat(2), temperature=temperature), dtype, z
    )
    scale = torch.tensor(math.log(1 / temperature))
    check_under_autocast(
        lambda a, b: clip_contrastive_loss(a, indexes, b, indexes, scale), dtype, p, z[images:]
    )


# SMAE perceptual and pixel losses ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def perceptual():
    torch.manual_seed(0)
    return PerceptualLoss(build_critic(10).features[:5])


@st.composite
def images(draw, batch, size, dtype):
    """[batch, 3, size, size] images: random, one constant per image, or zero, at an adversarial scale."""
    kind, scale = draw(st.sampled_from(["random", "constant", "zero"])), draw(SCALES)
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    if kind == "random":
        x = torch.randn(batch, 3, size, size, generator=generator).clamp(-4, 4) * scale
    elif kind == "constant":
        x = (torch.rand(batch, 1, 1, 1, generator=generator) * 2 - 1).expand(
            -1, 3, size, size
        ) * scale
    else:
        x = torch.zeros(batch, 3, size, size)
    return x.contiguous().to(dtype)


@FEW_EXAMPLES
@given(data=st.data(), batch=st.sampled_from([1, 2]), dtype=DTYPES, same=st.booleans())
def test_perceptual_is_finite_on_adversarial_images(perceptual, data, batch, dtype, same):
    target = data.draw(images(batch, 64, dtype))
    reconstruction = target if same else data.draw(images(batch, 64, dtype))
    loss, _ = check_loss(perceptual, reconstruction, target, constants=1)
    assert loss.item() >= 0.0
    if same:
        assert loss.item() == 0.0
    assert all(p.grad is None for p in perceptual.critic.parameters())


@FEW_EXAMPLES
@given(data=st.data(), dtype=AUTOCAST_DTYPES)
def test_perceptual_ignores_autocast(perceptual, data, dtype):
    reconstruction, target = (
        data.draw(images(2, 64, torch.float32)),
        data.draw(images(2, 64, torch.float32)),
    )
    check_under_autocast(perceptual, dtype, reconstruction, target, constants=1)


@EXAMPLES
@given(
    data=st.data(),
    batch=st.sampled_from([1, 2]),
    patch=st.sampled_from([4, 8]),
    dtype=DTYPES,
    on=st.sampled_from(["all", "masked"]),
    norm_pix=st.booleans(),
)
def test_pixel_loss_is_finite_on_adversarial_images(data, batch, patch, dtype, on, norm_pix):
    target = data.draw(images(batch, 16, dtype))
    patches = (16 // patch) ** 2
    pred = data.draw(batches(rows=batch * patches, dim=patch * patch * 3, dtype=dtype)).reshape(
        batch, patches, -1
    )
    cells = batch * patches
    mask = torch.tensor(
        data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=cells, max_size=cells))
    )
    mask = mask.reshape(batch, patches)
    mask[0, 0] = 1.0  # MAE masks at least one patch
    # the images get a gradient too: stricter than training, where they are data
    check_loss(lambda p, x: pixel_loss(p, x, mask, patch, on=on, norm_pix=norm_pix), pred, target)
