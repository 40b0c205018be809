"""Encoded songs and random training windows (batches of one style)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.encoding import N_INPUTS, N_KEYS, Encoded, encode_beats, target
from models.data import Song
from models.score_view import ScoreView, ScoreViews
from models.stylenet import shift_keys


@dataclass(frozen=True)
class EncodedSong:
    encoded: Encoded
    inputs: np.ndarray  # (T, 176) uint8
    target: np.ndarray  # (T, 88) float16, velocity / 127
    mask: np.ndarray  # (T, 88) bool, onset cells


STRETCH_LEVELS = 5  # tempi a stretched song is encoded at
CENTRE = 64  # centred targets: each song's mean velocity moved here


def centred(velocity: np.ndarray) -> np.ndarray:
    """Velocities with the song's mean moved to CENTRE: the model learns dynamics, not a piano's level."""
    v = np.asarray(velocity, float)
    return np.clip(np.rint(v - v.mean() + CENTRE), 1, 127) if len(v) else v


def encode_song(song: Song, aligned: bool, sustain: bool = False, centre: bool = False,
                stretch: float = 1.0) -> EncodedSong:
    """Encode on the score's beat grid (``aligned``) or the file's own grid, its time scaled by ``stretch``
    (> 1: played slower)."""
    start, end = (song.a_start, song.a_end) if aligned else (song.start, song.end)
    enc = encode_beats(song.pitch, start * stretch, end * stretch)
    y, mask = target(enc, centred(song.velocity) if centre else song.velocity, sustain=sustain)
    return EncodedSong(enc, enc.inputs.astype(np.uint8), y.astype(np.float16), mask)


def encode_score_view(view: ScoreView, centre: bool = False) -> EncodedSong:
    """The score's notes as input; only score notes with a performed partner carry a target."""
    enc = view.score.encoded
    velocity = view.velocity.copy()
    if centre:
        velocity[view.matched] = centred(velocity[view.matched])
    y, mask = target(enc, velocity)
    unmatched = ~view.matched
    mask[enc.onset_step[unmatched], enc.key[unmatched]] = False
    mask[enc.onset_step[view.matched], enc.key[view.matched]] = True  # a shared cell keeps its matched note
    return EncodedSong(enc, enc.inputs.astype(np.uint8), y.astype(np.float16), mask)


class WindowSampler:
    """Random fixed-length windows from the songs of one style; songs are encoded once, lazily.

    ``aligned_fraction`` of the windows of songs that have a beat alignment use
    the score grid, the rest the file's grid, so the model sees both inputs.
    With ``score_views``, ``score_fraction`` of those songs' windows instead take the
    score MIDI itself as input (what users give the app) with the performed velocities.
    ``stretch`` s plays file-grid windows at a random one of STRETCH_LEVELS tempi from 1/(1+s) to
    1+s times the performed one (levels, not a continuum, so each song is encoded a bounded number of times).
    ``note_dropout`` p removes each note of a window from its input with probability p (its sounding too)
    and from the loss: the model cannot rely on any one note being there.
    """

    def __init__(self, songs: list[Song], window: int, aligned_fraction: float, sustain: bool = False,
                 centre: bool = False, phase: int = 1, transpose: int = 0,
                 score_views: ScoreViews | None = None, score_fraction: float = 0.0, stretch: float = 0.0,
                 note_dropout: float = 0.0) -> None:
        if not songs:
            raise ValueError("no songs to sample from")
        self.songs, self.window, self.aligned_fraction, self.sustain = songs, window, aligned_fraction, sustain
        self.centre = centre
        self.phase = phase  # windows start on multiples of this many steps (16: bar lines of 4/4 scores)
        self.transpose = transpose  # random shift of +-this many semitones per window
        self.score_views, self.score_fraction = score_views, score_fraction
        self.stretches = np.geomspace(1 / (1 + stretch), 1 + stretch, STRETCH_LEVELS) if stretch else np.ones(1)
        self.note_dropout = note_dropout
        self._cache: dict[tuple[int, bool, float], EncodedSong] = {}
        self._scores: dict[int, EncodedSong | None] = {}

    def _encoded(self, i: int, aligned: bool, stretch: float = 1.0) -> EncodedSong:
        key = (i, aligned, stretch)
        if key not in self._cache:
            self._cache[key] = encode_song(self.songs[i], aligned, self.sustain, self.centre, stretch)
        return self._cache[key]

    def _file_view(self, i: int, rng: np.random.Generator) -> EncodedSong:
        # No draw without stretching: the random stream (and so a seeded run) stays what it was before --stretch.
        stretch = float(rng.choice(self.stretches)) if len(self.stretches) > 1 else 1.0
        return self._encoded(i, False, stretch)

    def _score_encoded(self, i: int) -> EncodedSong | None:
        """Song ``i`` seen through its score MIDI, or None when it has no usable score."""
        if i not in self._scores:
            view = self.score_views.view(self.songs[i]) if self.score_views is not None else None
            self._scores[i] = encode_score_view(view, self.centre) if view is not None and view.usable else None
        return self._scores[i]

    def _pick_view(self, i: int, rng: np.random.Generator) -> EncodedSong:
        if not self.songs[i].aligned:
            return self._file_view(i, rng)
        if self.score_fraction and rng.random() < self.score_fraction:
            es = self._score_encoded(i)
            if es is not None:
                return es
        return self._encoded(i, True) if rng.random() < self.aligned_fraction else self._file_view(i, rng)

    def batch(self, rng: np.random.Generator, size: int,
              one_song: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``size`` windows of distinct songs (when there are enough), or all of one song (``one_song``).

        Returns
        -------
        x : (B, W, 176) float32;  y : (B, W, 88) float32;  mask : (B, W, 88) bool
        """
        if one_song:
            picks = np.full(size, rng.integers(len(self.songs)))
        else:
            picks = rng.choice(len(self.songs), size=size, replace=len(self.songs) < size)
        x = np.zeros((size, self.window, N_INPUTS), np.float32)
        y = np.zeros((size, self.window, N_KEYS), np.float32)
        m = np.zeros((size, self.window, N_KEYS), bool)
        for b, i in enumerate(picks):
            es = self._pick_view(int(i), rng)
            steps = es.inputs.shape[0]
            s = int(rng.integers(0, max(steps - self.window, 0) // self.phase + 1)) * self.phase
            n = min(self.window, steps - s)
            x[b, :n], y[b, :n], m[b, :n] = es.inputs[s:s + n], es.target[s:s + n], es.mask[s:s + n]
            if self.note_dropout:
                drop_notes(x[b], m[b], es.encoded, s, n, self.note_dropout, rng)
            if self.transpose:
                k = int(rng.integers(-self.transpose, self.transpose + 1))
                x[b], y[b], m[b] = shift_keys(x[b], k), shift_keys(y[b], k), shift_keys(m[b], k)
        return x, y, m


def drop_notes(x: np.ndarray, m: np.ndarray, enc: Encoded, start: int, n: int, p: float,
               rng: np.random.Generator) -> None:
    """Remove each note sounding in steps [start, start + n) with probability ``p`` from the window's
    input ``x`` (W, 176) and loss mask ``m`` (W, 88), in place. Notes that stay are re-drawn, so a kept
    note sharing a cell with a dropped one keeps its onset and sound."""
    end = enc.onset_step + enc.duration
    near = np.flatnonzero((enc.onset_step < start + n) & (end > start))
    kept = near[rng.random(len(near)) >= p]
    on = enc.onset_step[kept] - start
    key = enc.key[kept]
    x[:n] = 0.0
    inside = on >= 0
    x[on[inside], key[inside]] = 1.0
    sounding = np.zeros((n + 1, N_KEYS), np.int32)
    np.add.at(sounding, (np.clip(on, 0, n), key), 1)
    np.add.at(sounding, (np.clip(end[kept] - start, 0, n), key), -1)
    x[:n, N_KEYS:] = np.cumsum(sounding, axis=0)[:n] > 0
    m[:n] &= x[:n, :N_KEYS] > 0
