"""The simple rule a trained model must beat (constant and random baselines live in ``models.evaluate``)."""

from __future__ import annotations

import numpy as np


def chord_rule(pitch: np.ndarray, onset_step: np.ndarray, level: float) -> np.ndarray:
    """Melody-on-top rule: the top note of each onset louder, bass softer, inner softest, high register louder."""
    pitch = np.asarray(pitch, float)
    order = np.lexsort((pitch, onset_step))
    step, p = np.asarray(onset_step)[order], pitch[order]
    first = np.r_[True, step[1:] != step[:-1]]
    last = np.r_[step[1:] != step[:-1], True]
    size = np.diff(np.flatnonzero(np.r_[first, True]))
    chord = np.repeat(size, size) > 1
    v = level + 0.2 * (p - 66)  # brighter, louder register
    v += np.where(last, 6.0, np.where(first & chord, -3.0, -8.0))  # top / bass / inner voices
    out = np.empty_like(v)
    out[order] = v
    return np.clip(out, 1, 127)
