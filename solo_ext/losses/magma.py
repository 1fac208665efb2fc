"""MAGMA's batch-wide Laplacian regulariser (Dondera et al., "MAGMA: Manifold Regularization for MAEs",
WACV 2025).

For a batch of B images, ``x_i`` (reference layer k) builds a Gaussian affinity graph and ``y_i``
(regularised layer l) is asked to be smooth on it::

    d_ij  = ||x_i - x_j||^2
    gamma = std_{i != j}(d_ij)                       (unbiased)
    W_ij  = exp(-rbf_scale * d_ij / gamma),  W_ii = 0
    deg_i = sum_j W_ij
    Lap   = I - diag(deg + eps)^-1/2 W diag(deg + eps)^-1/2
    L     = trace(y^T Lap y) / B^2

The paper prints ``D^-1/2 W D^-1/2`` without ``I -``; that sign would reward spreading neighbours apart.

Usage::

    feats = capture(...)                       # patch-mean block features, [B, D]
    loss = magma_loss(feats[10], feats[11])    # scalar, differentiable in both
"""

import torch

__all__ = ["magma_loss"]


def magma_loss(
    reference: torch.Tensor, target: torch.Tensor, rbf_scale: float = 1.0, eps: float = 1e-4
) -> torch.Tensor:
    """Laplacian smoothness of ``target`` on the affinity graph of ``reference``.

    Args:
        reference: Z^(k), [B, D_k]. Gradients flow into it through W, deg and gamma.
        target: Z^(l), [B, D_l].
        rbf_scale: multiplies d_ij / gamma inside the exponential (0.5 is the paper's 2-sigma form).
        eps: added to the degrees before the inverse square root.

    Returns:
        fp32 scalar, computed in fp32 whatever the input dtype (d_ij overflows fp16 for ViT features).

    Degenerate batches stay finite:
        * B = 1 has no pair to compare: the loss is 0 (still attached to both inputs, zero gradient).
        * When every off-diagonal distance is the same (B = 2, identical rows, an equidistant batch),
          gamma is 0 and no pair is closer than another: the graph is then the complete graph with
          unit weights (W_ij = 1 for i != j), with no gradient into ``reference``.
        * Very large features are centred before the distance computation, which keeps the Gram form
          ||a||^2 + ||b||^2 - 2<a, b> from cancelling catastrophically; exp underflows to 0 for far
          pairs, and eps keeps isolated points finite.
    """
    if reference.dim() != 2 or target.dim() != 2 or reference.size(0) != target.size(0):
        raise ValueError(
            "magma_loss expects reference [B, D_k] and target [B, D_l] with the same B; "
            f"got {tuple(reference.shape)} and {tuple(target.shape)}"
        )
    with torch.autocast(device_type=reference.device.type, enabled=False):
        x = reference.float()
        y = target.float()
        batch = x.size(0)
        if batch < 2:
            return 0.0 * (x.sum() + y.sum())

        x = x - x.mean(dim=0, keepdim=True)
        sq_norms = x.square().sum(dim=1)  # [B]
        dist = (sq_norms[:, None] + sq_norms[None, :] - 2.0 * x @ x.T).clamp_min(0.0)  # [B, B]
        off_diag = ~torch.eye(batch, dtype=torch.bool, device=x.device)
        pair_dist = dist[off_diag]  # [B*(B-1)]

        variance = pair_dist.var()
        degenerate = variance <= (torch.finfo(torch.float32).eps * pair_dist.mean()).square()
        gamma = variance.clamp_min(torch.finfo(torch.float32).tiny).sqrt()
        inv_bandwidth = torch.where(degenerate, torch.zeros_like(gamma), rbf_scale / gamma)

        affinity = torch.exp(-dist * inv_bandwidth) * off_diag  # W, [B, B], zero diagonal
        inv_sqrt_degree = (affinity.sum(dim=1) + eps).rsqrt()  # [B]

        # trace(y^T (I - D^-1/2 W D^-1/2) y) = ||y||^2 - sum_ij W_ij <y_i / sqrt(deg_i), y_j / sqrt(deg_j)>
        y_scaled = y * inv_sqrt_degree[:, None]  # [B, D_l]
        smoothness = y.square().sum() - ((affinity @ y_scaled) * y_scaled).sum()
        return smoothness / batch**2
