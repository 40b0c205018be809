"""StyleNet's piano-roll encoding (see ``../shared/docs/stylenet.md``), in numpy.

Grid
    1/16 note: ``STEPS_PER_BEAT`` steps per quarter note of the file's own
    ticks-per-beat, so any time signature works (the grid does not need bars).
    Onsets and ends are rounded to the nearest step; every note sounds for at
    least one step.
Input (T, 176)
    Columns ``0..87``: the key starts a note at this step. Columns ``88..175``:
    the key sounds at this step (onset included). So a key's pair reads
    ``[1, 1]`` at an onset, ``[0, 1]`` while held, ``[0, 0]`` when silent — the
    paper's two bits, stored as two blocks instead of interleaved.
Target (T, 88)
    velocity / 127 at each note's onset cell (and, in the paper-faithful
    ``sustain`` variant, on its held cells too); 0 elsewhere.
Rules
    * Two notes of one pitch starting in one step share an onset cell. The cell
      holds the louder velocity, and decoding gives every such note the cell's
      prediction (you cannot hear two simultaneous strikes of one key).
    * A chord is several keys in one step: nothing special.
    * Notes outside 21..108 (and notes not selected) are not encoded and keep
      their velocity.
Decoding writes ``clip(round(127 * y), 1, 127)`` back onto the original,
unquantised notes; timing and note count never change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.errors import UserError
from app.core.notes import PIANO_LOW, NoteTable

ENCODING_VERSION = 1
STEPS_PER_BEAT = 4  # 1/16 notes
N_KEYS = 88
N_INPUTS = 2 * N_KEYS
MAX_STEPS = 250_000  # ~8.7 h of 16ths at 120 bpm: refuse absurd files instead of eating memory


class EncodingError(ValueError, UserError):
    """The notes cannot be encoded (e.g. the piece is far too long); message is for the user."""


@dataclass(frozen=True)
class Encoded:
    """An encoded piece and where each encoded note sits in it.

    Attributes
    ----------
    inputs : np.ndarray
        (T, 176) float32 model input.
    note_index : np.ndarray
        (M,) int64 rows of the source :class:`NoteTable` that were encoded.
    onset_step, key : np.ndarray
        (M,) int64 onset step and key (pitch - 21) of each encoded note.
    duration : np.ndarray
        (M,) int64 steps each encoded note sounds (>= 1).
    """

    inputs: np.ndarray
    note_index: np.ndarray
    onset_step: np.ndarray
    key: np.ndarray
    duration: np.ndarray

    @property
    def steps(self) -> int:
        return int(self.inputs.shape[0])


def quantise(start_beats: np.ndarray, end_beats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Onset step and duration in steps (>= 1) for positions in quarter-note beats."""
    onset = np.rint(np.asarray(start_beats, dtype=np.float64) * STEPS_PER_BEAT).astype(np.int64)
    offset = np.rint(np.asarray(end_beats, dtype=np.float64) * STEPS_PER_BEAT).astype(np.int64)
    onset = np.maximum(onset, 0)
    return onset, np.maximum(offset - onset, 1)


def encode_beats(pitch: np.ndarray, start_beats: np.ndarray, end_beats: np.ndarray,
                 note_index: np.ndarray | None = None) -> Encoded:
    """Encode notes given in quarter-note beats. Pitches must lie in 21..108.

    Parameters
    ----------
    pitch : (M,) int
    start_beats, end_beats : (M,) float, quarter notes from the start
    note_index : (M,) int, optional
        Carried through to :attr:`Encoded.note_index` (default ``arange(M)``).
    """
    key = np.asarray(pitch, dtype=np.int64) - PIANO_LOW
    if len(key) and (key.min() < 0 or key.max() >= N_KEYS):
        raise EncodingError("only the 88 piano keys (MIDI 21..108) can be encoded")
    onset, duration = quantise(start_beats, end_beats)
    steps = int((onset + duration).max()) if len(onset) else 1
    if steps > MAX_STEPS:
        raise EncodingError(f"the piece is {steps:,} sixteenth notes long ({steps // 16:,} bars of 4/4); at most "
                            f"{MAX_STEPS:,} ({MAX_STEPS // 16:,} bars) can be humanised. A stray late note or a "
                            "damaged file can make a piece this long.")
    inputs = np.zeros((steps, N_INPUTS), dtype=np.float32)
    inputs[onset, key] = 1.0
    # Sounding block: mark [onset, onset + duration) per note with a difference array.
    sounding = np.zeros((steps + 1, N_KEYS), dtype=np.int32)
    np.add.at(sounding, (onset, key), 1)
    np.add.at(sounding, (onset + duration, key), -1)
    inputs[:, N_KEYS:] = np.cumsum(sounding, axis=0)[:steps] > 0
    index = np.arange(len(key)) if note_index is None else np.asarray(note_index, dtype=np.int64)
    return Encoded(inputs, index, onset, key, duration)


def encode(notes: NoteTable, ticks_per_beat: int, mask: np.ndarray | None = None) -> Encoded:
    """Encode the in-range notes of ``notes`` (restricted to ``mask`` if given) on the file's beat grid."""
    selected = notes.in_piano_range if mask is None else (notes.in_piano_range & mask)
    index = np.flatnonzero(selected)
    return encode_beats(notes.pitch[index], notes.start[index] / ticks_per_beat,
                        notes.end[index] / ticks_per_beat, index)


def target(encoded: Encoded, velocity: np.ndarray, sustain: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Training target and onset mask.

    Parameters
    ----------
    velocity : (M,) int, velocity of each encoded note (1..127)
    sustain : also write the velocity on held cells (the paper's original target)

    Returns
    -------
    y : (T, 88) float32, velocity / 127
    onsets : (T, 88) bool, cells where a note starts
    """
    y = np.zeros((encoded.steps, N_KEYS), dtype=np.float32)
    v = np.asarray(velocity, dtype=np.float32) / 127.0
    if sustain:
        for k in np.argsort(v):  # louder notes overwrite softer ones
            s = encoded.onset_step[k]
            y[s:s + encoded.duration[k], encoded.key[k]] = v[k]
    onsets = np.zeros((encoded.steps, N_KEYS), dtype=bool)
    onsets[encoded.onset_step, encoded.key] = True
    np.maximum.at(y, (encoded.onset_step, encoded.key), v)  # shared cell keeps the louder note
    return y, onsets


def decode(encoded: Encoded, predicted: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    """New velocities for every note: encoded notes read their onset cell, others keep theirs.

    Parameters
    ----------
    predicted : (T, 88) float, velocity / 127
    velocity : (N,) int, current velocities of the whole table

    Returns
    -------
    (N,) int16 in 1..127
    """
    if predicted.shape != (encoded.steps, N_KEYS):
        raise ValueError(f"predicted shape {predicted.shape} != {(encoded.steps, N_KEYS)}")
    out = np.array(velocity, dtype=np.int16, copy=True)
    cells = np.asarray(predicted, dtype=np.float64)[encoded.onset_step, encoded.key]
    out[encoded.note_index] = np.clip(np.rint(np.nan_to_num(cells, nan=0.0) * 127.0), 1, 127)
    return out
