"""Humanise: new velocities for the piano part, from a model or the random baseline.

Qt-free and model-agnostic: anything with the :class:`VelocityPredictor` shape
works (StyleNet lives in ``models.inference``). Results are whole velocity
arrays for the note table, so the caller applies them as one edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from app.core.errors import UserError
from app.core.notes import NoteTable

BASELINE_RANGE = (40, 100)  # uniform random baseline: audible, never 0 (a note-off), never slammed
WRITTEN_MIN_SD = 1.0  # velocity SD below which a part has no written dynamics (all notes alike)
WRITTEN_Z_CLIP = 3.0  # a few accents in an otherwise flat part must not swamp the prediction

ProgressFn = Callable[[float], bool]  # fraction done -> False to cancel


class Cancelled(Exception):
    """The user cancelled a running job (a Humanise, an audio render)."""


class NoCheckpointError(UserError):
    """No trained StyleNet checkpoint is available; ``str()`` says what to do."""


class VelocityPredictor(Protocol):
    styles: tuple[str, ...]
    written_weight: float  # how much the input's own (written) dynamics count; see with_written_dynamics

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


def scale_dynamics(velocity: np.ndarray, range_factor: float, offset: float | np.ndarray) -> np.ndarray:
    """(M,) velocities with their spread about their own mean times ``range_factor`` (1 keeps it, 0 flattens,
    1.5 makes the dynamics half again as wide) and ``offset`` (one for all, or (M,) one per note) added;
    rounded to 1..127."""
    if range_factor < 0:
        raise ValueError(f"range factor must be 0 or more, got {range_factor}")
    v = np.asarray(velocity, float)
    if not len(v):
        return v.astype(np.int16)
    scaled = v.mean() + range_factor * (v - v.mean()) + offset
    return np.clip(np.rint(scaled), 1, 127).astype(np.int16)


def fit_to_range(velocity: np.ndarray, low: int, high: int) -> np.ndarray:
    """(M,) velocities mapped linearly from their own lowest..highest onto ``low..high`` (1..127), so their
    shape is kept and they fit what an instrument sounds best in; all alike go to the middle of the range."""
    if not 1 <= low <= high <= 127:
        raise ValueError(f"the range must lie within 1..127, lowest first (got {low}..{high})")
    v = np.asarray(velocity, float)
    if not len(v):
        return v.astype(np.int16)
    span = float(v.max() - v.min())
    fitted = low + (v - v.min()) * (high - low) / span if span > 0 else np.full(len(v), (low + high) / 2)
    return np.clip(np.rint(fitted), low, high).astype(np.int16)


def ramp(starts: np.ndarray, first: float, last: float) -> np.ndarray:
    """(M,) from ``first`` at the earliest of ``starts`` (M,) (note onsets) to ``last`` at the latest, in
    proportion to the time between: a crescendo or diminuendo to add to velocities, which keeps how each
    note stands out from its neighbours. Notes that start together get the same amount."""
    t = np.asarray(starts, float)
    span = float(t.max() - t.min()) if len(t) else 0.0
    position = (t - t.min()) / span if span > 0 else np.zeros(len(t))
    return first + (last - first) * position


def uses_written_dynamics(written: np.ndarray, weight: float) -> bool:
    """Whether :func:`with_written_dynamics` changes anything: a positive weight, and velocities that vary
    enough to be dynamics someone wrote (not one value for every note)."""
    w = np.asarray(written, float)
    return weight > 0 and len(w) >= 2 and float(w.std()) >= WRITTEN_MIN_SD


def with_written_dynamics(predicted: np.ndarray, written: np.ndarray, weight: float) -> np.ndarray:
    """Predicted velocities combined with the dynamics written in the input.

    Scores exported from notation programs carry their dynamics marks (p, f, hairpins,
    accents) as velocities; a humaniser that replaced them would lose what the composer
    wrote. Both sides are standardised over the notes, added as ``z_pred + weight * z_written``,
    and mapped back onto the prediction's own mean and SD, so level and spread stay the
    model's and only the shape takes the written dynamics in. A part whose velocities are
    all alike has nothing written and gets ``predicted`` back unchanged.

    Parameters
    ----------
    predicted, written : (M,) velocities of the same notes
    weight : 0 ignores the written dynamics (``models.evaluate --calibrate`` fits it on validation scores)

    Returns
    -------
    (M,) float velocities (not rounded)
    """
    p, w = np.asarray(predicted, float), np.asarray(written, float)
    if not uses_written_dynamics(w, weight):
        return p
    z_written = np.clip((w - w.mean()) / w.std(), -WRITTEN_Z_CLIP, WRITTEN_Z_CLIP)
    flat = p.std() <= 1e-9
    z_pred = np.zeros_like(p) if flat else (p - p.mean()) / p.std()
    combined = z_pred + weight * z_written
    sd = w.std() if flat else p.std()  # a flat prediction borrows the written spread
    return p.mean() + sd * (combined - combined.mean()) / combined.std()


def baseline_velocities(notes: NoteTable, mask: np.ndarray, seed: int | None,
                        low: int = BASELINE_RANGE[0], high: int = BASELINE_RANGE[1]) -> np.ndarray:
    """The random-velocity baseline: masked notes uniform in ``low..high`` (never 0), others unchanged."""
    rng = np.random.default_rng(seed)
    out = np.array(notes.velocity, dtype=np.int16, copy=True)
    out[mask] = rng.integers(low, high + 1, size=int(mask.sum()))
    return out


def stylised_velocities(notes: NoteTable, ticks_per_beat: int, mask: np.ndarray, predictor: VelocityPredictor,
                        style: str, strength: float = 1.0, progress: ProgressFn | None = None,
                        keep_written: bool = True) -> np.ndarray:
    """Model velocities for the masked notes, blended with the current ones by ``strength``.

    With ``keep_written`` the current velocities, where they vary, count as written dynamics
    (see :func:`with_written_dynamics`) with the predictor's ``written_weight``.
    """
    if style not in predictor.styles:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(predictor.styles)}")
    predicted = np.array(predictor.predict(notes, ticks_per_beat, mask, style, progress))  # ours to change
    if keep_written and mask.any():
        combined = with_written_dynamics(predicted[mask], notes.velocity[mask], predictor.written_weight)
        predicted[mask] = np.clip(np.rint(combined), 1, 127)
    return blended(notes.velocity, predicted, mask, strength)


def blended(current: np.ndarray, predicted: np.ndarray, mask: np.ndarray, strength: float) -> np.ndarray:
    """(N,) ``current`` velocities with the masked ones moved ``strength`` of the way to ``predicted`` (N,):
    the step after the model, so that another strength needs no second run."""
    out = np.array(current, dtype=np.int16, copy=True)
    out[mask] = blend(np.asarray(current)[mask], np.asarray(predicted)[mask], strength)
    return out
