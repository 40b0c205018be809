"""Encoded songs and random training windows (batches of one style)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.encoding import N_INPUTS, N_KEYS, Encoded, encode_beats, target
from models.data import Song


@dataclass(frozen=True)
class EncodedSong:
    encoded: Encoded
    inputs: np.ndarray  # (T, 176) uint8
    target: np.ndarray  # (T, 88) float16, velocity / 127
    mask: np.ndarray  # (T, 88) bool, onset cells


def encode_song(song: Song, aligned: bool, sustain: bool = False) -> EncodedSong:
    """Encode on the score's beat grid (``aligned``) or the file's own grid."""
    start, end = (song.a_start, song.a_end) if aligned else (song.start, song.end)
    enc = encode_beats(song.pitch, start, end)
    y, mask = target(enc, song.velocity, sustain=sustain)
    return EncodedSong(enc, enc.inputs.astype(np.uint8), y.astype(np.float16), mask)


class WindowSampler:
    """Random fixed-length windows from the songs of one style; songs are encoded once, lazily.

    ``aligned_fraction`` of the windows of songs that have a beat alignment use
    the score grid, the rest the file's grid, so the model sees both inputs.
    """

    def __init__(self, songs: list[Song], window: int, aligned_fraction: float, sustain: bool = False) -> None:
        if not songs:
            raise ValueError("no songs to sample from")
        self.songs, self.window, self.aligned_fraction, self.sustain = songs, window, aligned_fraction, sustain
        self._cache: dict[tuple[int, bool], EncodedSong] = {}

    def _encoded(self, i: int, aligned: bool) -> EncodedSong:
        key = (i, aligned)
        if key not in self._cache:
            self._cache[key] = encode_song(self.songs[i], aligned, self.sustain)
        return self._cache[key]

    def batch(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``size`` windows of distinct songs (when there are enough).

        Returns
        -------
        x : (B, W, 176) float32;  y : (B, W, 88) float32;  mask : (B, W, 88) bool
        """
        picks = rng.choice(len(self.songs), size=size, replace=len(self.songs) < size)
        x = np.zeros((size, self.window, N_INPUTS), np.float32)
        y = np.zeros((size, self.window, N_KEYS), np.float32)
        m = np.zeros((size, self.window, N_KEYS), bool)
        for b, i in enumerate(picks):
            aligned = self.songs[i].aligned and rng.random() < self.aligned_fraction
            es = self._encoded(int(i), aligned)
            steps = es.inputs.shape[0]
            s = int(rng.integers(0, max(steps - self.window, 0) + 1))
            n = min(self.window, steps - s)
            x[b, :n], y[b, :n], m[b, :n] = es.inputs[s:s + n], es.target[s:s + n], es.mask[s:s + n]
        return x, y, m
