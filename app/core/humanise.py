"""Humanise: new velocities for the piano part, from a model or the random baseline.

Qt-free and model-agnostic: anything with the :class:`VelocityPredictor` shape
works (StyleNet lives in ``models.inference``). Results are whole velocity
arrays for the note table, so the caller applies them as one edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from app.core.notes import NoteTable

BASELINE_RANGE = (40, 100)  # uniform random baseline: audible, never 0 (a note-off), never slammed

ProgressFn = Callable[[float], bool]  # fraction done -> False to cancel


class Cancelled(Exception):
    """The user cancelled a running humanise."""


class NoCheckpointError(Exception):
    """No trained StyleNet checkpoint is available; ``str()`` says what to do."""


class VelocityPredictor(Protocol):
    styles: tuple[str, ...]

    def predict(self, notes: NoteTable, ticks_per_beat: int, mask: np.ndarray, style: str,
                progress: ProgressFn | None = None) -> np.ndarray:
        """(N,) velocities 1..127: predictions where ``mask`` (and in 21..108), current ones elsewhere."""
        ...


def humanise_mask(notes: NoteTable, piano: np.ndarray, selection: np.ndarray | None = None) -> np.ndarray:
    """(N,) bool: the notes Humanise may change — piano part, 88 keys, and the selection if any."""
    mask = piano & notes.in_piano_range
    if selection is not None and selection.any():
        mask &= selection
    return mask


def blend(current: np.ndarray, predicted: np.ndarray, strength: float) -> np.ndarray:
    """``strength`` 0 keeps ``current``, 1 takes ``predicted``; rounded to 1..127."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must lie in 0..1, got {strength}")
    mixed = (1.0 - strength) * np.asarray(current, float) + strength * np.asarray(predicted, float)
    return np.clip(np.rint(mixed), 1, 127).astype(np.int16)


def baseline_velocities(notes: NoteTable, mask: np.ndarray, seed: int | None,
                        low: int = BASELINE_RANGE[0], high: int = BASELINE_RANGE[1]) -> np.ndarray:
    """The random-velocity baseline: masked notes uniform in ``low..high`` (never 0), others unchanged."""
    rng = np.random.default_rng(seed)
    out = np.array(notes.velocity, dtype=np.int16, copy=True)
    out[mask] = rng.integers(low, high + 1, size=int(mask.sum()))
    return out


def stylised_velocities(notes: NoteTable, ticks_per_beat: int, mask: np.ndarray, predictor: VelocityPredictor,
                        style: str, strength: float = 1.0, progress: ProgressFn | None = None) -> np.ndarray:
    """Model velocities for the masked notes, blended with the current ones by ``strength``."""
    if style not in predictor.styles:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(predictor.styles)}")
    predicted = predictor.predict(notes, ticks_per_beat, mask, style, progress)
    out = np.array(notes.velocity, dtype=np.int16, copy=True)
    out[mask] = blend(notes.velocity[mask], predicted[mask], strength)
    return out
