"""Phrase-level dynamics: how loud the playing is over a stretch of time, not note by note (Qt-free).

A listener follows dynamics as swells and falls over seconds (a crescendo, a soft passage); single notes
stand out from that curve by voicing and accents. The velocity lane draws the curve so those swells can be
seen, and compared between versions: a random baseline's curve only jitters about its mean, a phrased
version's rises and falls with the music.
"""

from __future__ import annotations

import numpy as np

from app.core.notes import NoteTable

CURVE_SIGMA_SECONDS = 1.0  # a bar at 120 bpm in 4/4 is 2 s: the curve follows phrases, not notes
TOGETHER_BEATS = 1 / 16  # notes this close (a 64th note; 31 ms at 120 bpm) are heard as struck together


def dynamics_curve(onsets: np.ndarray, velocity: np.ndarray, at: np.ndarray,
                   sigma: float = CURVE_SIGMA_SECONDS) -> np.ndarray:
    """Gaussian-weighted mean velocity around each time in ``at``.

    Parameters
    ----------
    onsets : np.ndarray
        (N,) note start times in seconds, ascending.
    velocity : np.ndarray
        (N,) the notes' velocities.
    at : np.ndarray
        (M,) times in seconds to evaluate the curve at.
    sigma : float
        Width of the Gaussian in seconds; notes beyond 3 sigma are left out.

    Returns
    -------
    np.ndarray
        (M,) float64 velocities; NaN where no note lies within 3 sigma (a rest: no line is drawn there).
    """
    onsets, velocity, at = (np.asarray(a, dtype=np.float64) for a in (onsets, velocity, at))
    lo = np.searchsorted(onsets, at - 3 * sigma, side="left")
    hi = np.searchsorted(onsets, at + 3 * sigma, side="right")
    counts = hi - lo
    # every (sample, note) pair within reach, as flat arrays: no (M, N) matrix for a long song
    sample = np.repeat(np.arange(len(at)), counts)
    note = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
    weight = np.exp(-0.5 * ((onsets[note] - at[sample]) / sigma) ** 2)
    total = np.bincount(sample, weights=weight, minlength=len(at))
    weighted = np.bincount(sample, weights=weight * velocity[note], minlength=len(at))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weighted / total, np.nan)


def in_time_order(start: np.ndarray, piano: np.ndarray) -> np.ndarray:
    """(K,) the rows of the piano part (``piano``, (N,) bool) in order of onset (``start``, (N,), any unit):
    what :func:`dynamics_curve` takes its notes in."""
    rows = np.flatnonzero(piano)
    return rows[np.argsort(np.asarray(start)[rows], kind="stable")]


def top_voice(start: np.ndarray, end: np.ndarray, pitch: np.ndarray, together: int = 0) -> np.ndarray:
    """(N,) bool: the notes that are the highest sounding when they are struck, i.e. no note struck with them
    or still held from before is higher (the melody of most piano writing, which pianists play out).

    Parameters
    ----------
    start, end, pitch : np.ndarray
        (N,) each note's onset and release (ticks) and its MIDI pitch.
    together : int
        Notes starting less than this many ticks after a group's first onset count as struck together (a
        played chord is rarely exact); 0: only notes on the same tick.
    """
    start, end, pitch = (np.asarray(a, dtype=np.int64) for a in (start, end, pitch))
    order = np.argsort(start, kind="stable")
    onset, release, key = (a[order].tolist() for a in (start, end, pitch))  # plain lists: a Python loop
    top = [False] * len(onset)
    held: list[tuple[int, int]] = []  # (pitch, end) of the notes struck before the group being looked at
    k = 0
    while k < len(onset):  # one group of notes struck together per pass
        stop = k + 1
        while stop < len(onset) and onset[stop] < onset[k] + max(together, 1):  # 0: the same tick
            stop += 1
        held = [(p, e) for p, e in held if e > onset[k]]
        above = max(max((p for p, _ in held), default=-1), max(key[k:stop]))
        for j in range(k, stop):
            top[j] = key[j] >= above
        held += zip(key[k:stop], release[k:stop])
        k = stop
    out = np.zeros(len(onset), dtype=bool)
    out[order] = top
    return out


def piano_top_voice(notes: NoteTable, piano: np.ndarray, ticks_per_beat: int) -> np.ndarray:
    """(N,) bool: :func:`top_voice` of the piano part (``piano``, (N,) bool), notes within
    :data:`TOGETHER_BEATS` of each other counting as struck together; False for every other note."""
    rows = np.flatnonzero(piano)
    on_top = np.zeros(len(notes), dtype=bool)
    together = max(1, round(TOGETHER_BEATS * ticks_per_beat))
    on_top[rows] = top_voice(notes.start[rows], notes.end[rows], notes.pitch[rows], together)
    return on_top
