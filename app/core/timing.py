"""Tempo and meter of a MIDI file: ticks <-> seconds, bars and beats."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_TEMPO = 500_000  # µs per quarter note (120 bpm), the MIDI default


@dataclass(frozen=True)
class TimeSignature:
    tick: int
    numerator: int
    denominator: int


@dataclass(frozen=True)
class TempoMap:
    """Piecewise-constant tempo over a tick timeline.

    Attributes
    ----------
    ticks_per_beat : int
        The file's division (ticks per quarter note).
    change_ticks : np.ndarray
        (K,) int64, ascending; the first entry is always 0.
    tempos : np.ndarray
        (K,) int64, µs per quarter note from ``change_ticks[k]`` on.
    """

    ticks_per_beat: int
    change_ticks: np.ndarray
    tempos: np.ndarray

    @classmethod
    def from_changes(cls, ticks_per_beat: int, changes: list[tuple[int, int]]) -> TempoMap:
        """Build from ``(tick, tempo)`` pairs in any order; the last change at a tick wins."""
        by_tick: dict[int, int] = {0: DEFAULT_TEMPO}
        for tick, tempo in sorted(changes, key=lambda c: c[0]):
            by_tick[tick] = tempo
        ticks = np.array(sorted(by_tick), dtype=np.int64)
        tempos = np.array([by_tick[t] for t in ticks], dtype=np.int64)
        return cls(ticks_per_beat, ticks, tempos)

    @property
    def _change_seconds(self) -> np.ndarray:
        spans = np.diff(self.change_ticks) * self.tempos[:-1] / 1e6 / self.ticks_per_beat
        return np.concatenate([[0.0], np.cumsum(spans)])

    def seconds(self, ticks: np.ndarray | int) -> np.ndarray:
        """Seconds from the start of the file at each tick (vectorised)."""
        t = np.asarray(ticks, dtype=np.float64)
        k = np.searchsorted(self.change_ticks, t, side="right") - 1
        k = np.clip(k, 0, len(self.change_ticks) - 1)
        return self._change_seconds[k] + (t - self.change_ticks[k]) * self.tempos[k] / 1e6 / self.ticks_per_beat

    def ticks(self, seconds: np.ndarray | float) -> np.ndarray:
        """Inverse of :meth:`seconds` (float ticks)."""
        s = np.asarray(seconds, dtype=np.float64)
        starts = self._change_seconds
        k = np.clip(np.searchsorted(starts, s, side="right") - 1, 0, len(starts) - 1)
        return self.change_ticks[k] + (s - starts[k]) * 1e6 * self.ticks_per_beat / self.tempos[k]

    def bpm_at(self, tick: int) -> float:
        k = max(0, int(np.searchsorted(self.change_ticks, tick, side="right")) - 1)
        return 60e6 / float(self.tempos[k])


def bar_lines(signatures: list[TimeSignature], ticks_per_beat: int, end_tick: int) -> list[tuple[int, int]]:
    """Ticks of each bar start up to ``end_tick`` as ``(tick, bar_number)``, bars counted from 1."""
    sigs = signatures or [TimeSignature(0, 4, 4)]
    if sigs[0].tick > 0:
        sigs = [TimeSignature(0, 4, 4), *sigs]
    bars: list[tuple[int, int]] = []
    number = 1
    for i, sig in enumerate(sigs):
        stop = sigs[i + 1].tick if i + 1 < len(sigs) else end_tick + 1
        bar_len = max(1, ticks_per_beat * 4 * sig.numerator // sig.denominator)
        tick = sig.tick
        while tick < stop and tick <= end_tick:
            bars.append((tick, number))
            number += 1
            tick += bar_len
    return bars


def signature_at(signatures: list[TimeSignature], tick: float) -> TimeSignature | None:
    """The time signature in force at ``tick`` (None before the first: 4/4 by MIDI's default)."""
    in_force = [s for s in signatures if s.tick <= tick]
    return in_force[-1] if in_force else None


def bar_beat(signatures: list[TimeSignature], ticks_per_beat: int, tick: int) -> tuple[int, float]:
    """Where ``tick`` lies as (bar from 1, beat from 1 in the bar's time-signature unit, fractional)."""
    bars = bar_lines(signatures, ticks_per_beat, tick)
    start, number = bars[-1]
    sig = signature_at(signatures, start)
    denominator = sig.denominator if sig else 4
    return number, 1 + (tick - start) * denominator / (4 * ticks_per_beat)
