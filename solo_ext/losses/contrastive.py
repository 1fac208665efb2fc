"""ViC-MAE's contrastive losses, with positives found by dataset index (pure torch, computed in fp32).

Both losses compare *rows* (this rank's projections) with *columns* (every rank's projections, all-gathered).
Row i's positives are the columns that carry row i's dataset index: the other view of the same image, and
any duplicate of that image in the global batch. Labels therefore never come from positions (``arange(B)``)
and cannot go wrong across ranks, which is the official ViC-MAE code's cross-GPU bug.

NT-Xent (SimCLR; the official code's form). Rows are both views stacked; row i's own column is excluded:

    ℓ_i = −log( Σ_{j ∈ P(i)} exp(s_ij / T) / Σ_{j ≠ i} exp(s_ij / T) ),   s_ij = cos(z_i, z_j)

It equals solo-learn's ``simclr_loss_func`` but is evaluated with log-sum-exp, so it stays finite for any T.

CLIP-style (the paper). Rows are one view, columns the other view; τ is the log logit scale ln(1/T):

    ctr(p, z) = 2 · CE(exp(min(τ, ln 100)) · p̂ ẑᵀ, targets uniform over P(i)),     L_con = ctr(p, z) + ctr(z, p)

A learnable τ learns up to and including the bound: at τ = ln 100 (T = 0.01) the gradient still flows, so a
trainer that clamps τ to ≤ MAX_LOGIT_SCALE after each step (as CLIP does) keeps it learning; above the bound
the scale is constant and τ gets no gradient.

Usage::

    z = torch.cat([proj_1, proj_2])                                      # [2B, D], both views
    loss = nt_xent_loss(z, idx.repeat(2), gather(z), gather(idx.repeat(2)), 0.1, self_offset=rank * 2 * B)
    loss = clip_contrastive_loss(p1, idx, gather(p2), gather(idx), tau) + clip_contrastive_loss(
        p2, idx, gather(p1), gather(idx), tau
    )
"""

import math
from typing import Optional

import torch
import torch.nn.functional as F

__all__ = ["MAX_LOGIT_SCALE", "clip_contrastive_loss", "nt_xent_loss"]

# CLIP's bound of the log logit scale, ln 100, as the float32 number a scale parameter initialised at
# ln(1/0.01) holds (float32 rounds ln 100 up: against the float64 value, T = 0.01 started out of bounds)
MAX_LOGIT_SCALE = float(torch.tensor(math.log(100.0), dtype=torch.float32))


def _positives(row_indexes: torch.Tensor, column_indexes: torch.Tensor, loss: str) -> torch.Tensor:
    positives = row_indexes[:, None] == column_indexes[None, :]  # [N, M]
    if not positives.any(dim=1).all():
        raise ValueError(
            f"{loss}: a row has no positive column (its dataset index appears in no other view)"
        )
    return positives


def nt_xent_loss(
    rows: torch.Tensor,
    row_indexes: torch.Tensor,
    columns: Optional[torch.Tensor] = None,
    column_indexes: Optional[torch.Tensor] = None,
    temperature: float = 0.1,
    self_offset: int = 0,
) -> torch.Tensor:
    """NT-Xent of ``rows`` [N, D] against ``columns`` [M, D] (default: the rows); row i is column
    ``self_offset + i``."""
    if columns is None:
        columns, column_indexes = rows, row_indexes
    with torch.autocast(device_type=rows.device.type, enabled=False):
        logits = (
            F.normalize(rows.float(), dim=1) @ F.normalize(columns.float(), dim=1).T / temperature
        )  # [N, M]
        own = torch.zeros_like(logits, dtype=torch.bool)
        own[:, self_offset : self_offset + rows.size(0)].fill_diagonal_(True)
        positives = _positives(row_indexes, column_indexes, "nt_xent_loss") & ~own
        if not positives.any(dim=1).all():
            raise ValueError(
                "nt_xent_loss: a row has no positive column other than itself (a view without its pair)"
            )
        logits = logits.masked_fill(own, float("-inf"))
        positive_logits = logits.masked_fill(~positives, float("-inf"))
        return (torch.logsumexp(logits, dim=1) - torch.logsumexp(positive_logits, dim=1)).mean()


def clip_contrastive_loss(
    rows: torch.Tensor,
    row_indexes: torch.Tensor,
    columns: torch.Tensor,
    column_indexes: torch.Tensor,
    logit_scale: torch.Tensor,
) -> torch.Tensor:
    """One direction of the CLIP-style loss: 2 · cross-entropy of ``rows`` [N, D] against ``columns`` [M, D]."""
    with torch.autocast(device_type=rows.device.type, enabled=False):
        tau = logit_scale.float()
        # not clamp(max=...): its gradient is zero at the bound itself, where T = 0.01 starts
        scale = torch.where(
            tau <= MAX_LOGIT_SCALE, tau, torch.full_like(tau, MAX_LOGIT_SCALE)
        ).exp()
        logits = (
            scale * F.normalize(rows.float(), dim=1) @ F.normalize(columns.float(), dim=1).T
        )  # [N, M]
        positives = _positives(row_indexes, column_indexes, "clip_contrastive_loss").float()
        targets = positives / positives.sum(
            dim=1, keepdim=True
        )  # uniform over the positives of each row
        return 2.0 * -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
