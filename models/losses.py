"""Training losses over batches of windows: pred, y, mask are (B, T, 88) velocity/127 and note-onset cells.

Each scores what the evaluation measures a different way; see ``models.train --loss`` and models/EXPERIMENTS.md
for what each one measured.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def masked_loss(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, mode: str,
                level_weight: float = 0.1, penalty: str = "squared") -> torch.Tensor:
    """pred, y, mask: (B, T, 88). ``shape`` scores dynamics within each window apart from its overall
    level (pianos and recordings differ in level by tens of units, which no score can predict); ``corr``
    scores only how the window's dynamics go up and down (1 - Pearson r over its notes), leaving their
    width to the spread calibration. ``penalty``: squared errors (MSE) or absolute ones (MAE, which the
    evaluation reports; a model trained on it predicts the median rather than the mean)."""
    if mode == "all":
        return ((pred - y) ** 2).mean()
    m = mask.float()
    err = (pred - y) * m
    cost = torch.square if penalty == "squared" else torch.abs
    plain = cost(err).sum() / m.sum().clamp(min=1.0)
    if mode == "onset":
        return plain
    if mode == "corr":
        return _one_minus_r(pred, y, m) + level_weight * plain
    dims = (0, 1, 2) if mode == "song-shape" else (1, 2)  # the batch's (one song's) or each window's level
    count = m.sum(dim=dims, keepdim=True).clamp(min=1.0)  # (B or 1, 1, 1)
    offset = err.sum(dim=dims, keepdim=True) / count  # mean error
    shape = cost((err - offset) * m).sum() / m.sum().clamp(min=1.0)
    return shape + level_weight * plain


def _one_minus_r(pred: torch.Tensor, y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Mean over windows with at least 3 notes of 1 - Pearson r between predicted and target onsets."""
    count = m.sum(dim=(1, 2))  # (B,)
    n = count.clamp(min=1.0)[:, None, None]
    dp = (pred - (pred * m).sum(dim=(1, 2), keepdim=True) / n) * m
    dy = (y - (y * m).sum(dim=(1, 2), keepdim=True) / n) * m
    cov = (dp * dy).sum(dim=(1, 2))
    r = cov / torch.sqrt((dp**2).sum(dim=(1, 2)) * (dy**2).sum(dim=(1, 2)) + 1e-8)  # (B,)
    used = (count >= 3).float()
    return ((1.0 - r) * used).sum() / used.sum().clamp(min=1.0)


def slow_curve(v: torch.Tensor, m: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, T, 88) values and onset mask -> (B, T): at each step, the Gaussian-weighted mean (SD ``sigma``
    steps) of the onset values around it; the passage-level part of a velocity curve."""
    radius = int(3 * sigma)
    taps = torch.arange(-radius, radius + 1, dtype=v.dtype, device=v.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)[None, None, :]  # (1, 1, K)
    sums = torch.stack(((v * m).sum(dim=2), m.sum(dim=2)), dim=1).reshape(-1, 1, v.shape[1])  # (2B, 1, T)
    smooth = F.conv1d(sums, kernel, padding=radius).reshape(v.shape[0], 2, v.shape[1])  # (B, 2, T)
    return smooth[:, 0] / smooth[:, 1].clamp(min=1e-6)


def slow_loss(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, sigma: float) -> torch.Tensor:
    """1 - Pearson r between the slow curves of prediction and target, over each window's onsets."""
    m = mask.float()
    slow_p, slow_y = (slow_curve(v, m, sigma)[:, :, None].expand_as(v) for v in (pred, y))
    return _one_minus_r(slow_p, slow_y, m)
