"""Columnar, immutable note table: what the editor, the encoder and the model share."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

PIANO_LOW, PIANO_HIGH = 21, 108  # A0..C8, the 88 keys StyleNet sees


PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_name(pitch: int) -> str:
    """Scientific pitch name, middle C (60) = C4."""
    return f"{PITCH_CLASSES[pitch % 12]}{pitch // 12 - 1}"


def _frozen(a: np.ndarray, dtype: type) -> np.ndarray:
    out: np.ndarray = np.array(a, dtype=dtype, copy=True).reshape(-1)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class NoteTable:
    """N notes as parallel read-only arrays, sorted by (start, pitch) on load.

    Attributes
    ----------
    pitch, velocity, channel : np.ndarray
        (N,) int16. Velocity is 1..127 (a note-on with velocity 0 is a note-off).
    start, end : np.ndarray
        (N,) int64 ticks; ``end >= start`` (zero-length notes are kept).
    track : np.ndarray
        (N,) int16 index of the MIDI track the note lives in.
    on_ref : np.ndarray
        (N,) int64 index of the note-on message inside its track, or -1 for a
        note created in the editor. Lets a save patch velocities in place.
    """

    pitch: np.ndarray  # constructors accept any array-like; __post_init__ makes read-only arrays
    start: np.ndarray
    end: np.ndarray
    velocity: np.ndarray
    channel: np.ndarray
    track: np.ndarray
    on_ref: np.ndarray

    def __post_init__(self) -> None:
        types = {"start": np.int64, "end": np.int64, "on_ref": np.int64}
        for f in fields(self):
            object.__setattr__(self, f.name, _frozen(getattr(self, f.name), types.get(f.name, np.int16)))
        n = len(self.pitch)
        if any(len(getattr(self, f.name)) != n for f in fields(self)):
            raise ValueError("NoteTable columns differ in length")

    @classmethod
    def empty(cls) -> NoteTable:
        z = np.zeros(0)
        return cls(z, z, z, z, z, z, z)

    def __len__(self) -> int:
        return len(self.pitch)

    @property
    def in_piano_range(self) -> np.ndarray:
        """(N,) bool: the note is one of the 88 keys StyleNet models."""
        return (self.pitch >= PIANO_LOW) & (self.pitch <= PIANO_HIGH)

    def with_velocities(self, velocity: np.ndarray) -> NoteTable:
        v = np.asarray(velocity)
        if v.shape != self.velocity.shape:
            raise ValueError(f"expected {self.velocity.shape} velocities, got {v.shape}")
        if len(v) and (v.min() < 1 or v.max() > 127):
            raise ValueError("velocities must lie in 1..127")
        return replace(self, velocity=v)

    def with_columns(self, **columns: np.ndarray) -> NoteTable:
        return replace(self, **columns)

    def take(self, index: np.ndarray) -> NoteTable:
        """Rows ``index`` (int indices or bool mask) as a new table."""
        return NoteTable(*(getattr(self, f.name)[index] for f in fields(self)))

    def append(self, other: NoteTable) -> NoteTable:
        return NoteTable(*(np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self)))

    def _part_keys(self) -> np.ndarray:
        """(N,) int64: one number per (track, channel) part, track * 16 + channel."""
        return self.track.astype(np.int64) * 16 + self.channel

    def part_mask(self, parts: frozenset[tuple[int, int]]) -> np.ndarray:
        """(N,) bool: the note belongs to one of the ``(track, channel)`` parts."""
        if not parts or not len(self):
            return np.zeros(len(self), dtype=bool)
        return np.isin(self._part_keys(), [t * 16 + c for t, c in parts])

    def part_counts(self) -> dict[tuple[int, int], int]:
        """How many notes each ``(track, channel)`` part has."""
        keys, counts = np.unique(self._part_keys(), return_counts=True)
        return {(int(k) // 16, int(k) % 16): int(n) for k, n in zip(keys, counts)}

    def same_places(self, other: NoteTable) -> bool:
        """The same notes at the same times (their velocities may differ)."""
        return self is other or (len(self) == len(other) and all(
            np.array_equal(getattr(self, c), getattr(other, c)) for c in ("pitch", "start", "end", "channel", "track")))

    def same_as(self, other: NoteTable) -> bool:
        return len(self) == len(other) and all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)
        )
