"""ASAP score MIDIs as model input, each score note paired with the velocity its performer played.

The pairing goes through the beat annotations (performance time -> score beats, stored
in ``Song.a_start``): a score note takes the performed note of the same pitch whose
warped onset is nearest, within MATCH_TOLERANCE beats, one to one. Used to measure
what users do (give a score, get dynamics) and to train on exactly that input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.encoding import Encoded, EncodingError, encode_beats
from app.core.midi_document import MidiDocument, MidiError
from models.data import Song

MATCH_TOLERANCE = 0.5  # quarter notes between a score note and its performed note, after beat warping


@dataclass(frozen=True)
class ScoreNotes:
    path: Path
    pitch: np.ndarray  # (S,) int
    beats: np.ndarray  # (S,) onset in quarter notes
    velocity: np.ndarray  # (S,) the score's own velocities: its written dynamics, when a notation program set them
    encoded: Encoded


@dataclass(frozen=True)
class ScoreView:
    """One performance seen through its score: the score's notes with the performed velocities."""

    score: ScoreNotes
    performed: np.ndarray  # (S,) index of each score note's performed note in the song; -1 where unmatched
    velocity: np.ndarray  # (S,) performed velocity of each score note; 0 where unmatched

    @property
    def matched(self) -> np.ndarray:
        """(S,) bool: score notes that found their performed note."""
        return self.performed >= 0

    @property
    def usable(self) -> bool:
        """Enough matched notes to score or learn from (r needs at least three)."""
        return int(self.matched.sum()) >= 3


def load_score(path: Path) -> ScoreNotes:
    doc = MidiDocument.load(path)
    notes = doc.notes.take(doc.piano_mask & doc.notes.in_piano_range)
    beats = notes.start / doc.ticks_per_beat
    enc = encode_beats(notes.pitch, beats, notes.end / doc.ticks_per_beat)
    return ScoreNotes(path, notes.pitch.astype(int), beats, notes.velocity.astype(int), enc)


def match_score_notes(score_pitch: np.ndarray, score_beats: np.ndarray, song: Song) -> np.ndarray:
    """For each score note, the index of its performed note (same pitch, nearest warped onset) or -1."""
    match = np.full(len(score_pitch), -1)
    taken = np.zeros(len(song.pitch), bool)
    pairs = []
    for pitch in np.unique(score_pitch):
        s_idx, p_idx = np.flatnonzero(score_pitch == pitch), np.flatnonzero(song.pitch == pitch)
        if not len(p_idx):
            continue
        dist = np.abs(score_beats[s_idx, None] - song.a_start[None, p_idx])  # (S, P)
        for i, j in zip(*np.nonzero(dist <= MATCH_TOLERANCE)):
            pairs.append((dist[i, j], s_idx[i], p_idx[j]))
    for _, s, p in sorted(pairs):  # greedy one-to-one, closest pairs first
        if match[s] < 0 and not taken[p]:
            match[s], taken[p] = p, True
    return match


class ScoreViews:
    """Score views of aligned songs from one data folder; each score MIDI is parsed once."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._scores: dict[Path, ScoreNotes | None] = {}

    def score_for(self, song: Song) -> ScoreNotes | None:
        path = (self.data_dir / song.name).parent / "midi_score.mid"
        if not song.aligned or not path.is_file():
            return None
        if path not in self._scores:
            try:
                self._scores[path] = load_score(path)
            except (MidiError, EncodingError):  # an unusable score only loses this view
                self._scores[path] = None
        return self._scores[path]

    def view(self, song: Song) -> ScoreView | None:
        score = self.score_for(song)
        if score is None:
            return None
        match = match_score_notes(score.pitch, score.beats, song)
        return ScoreView(score, match, np.where(match >= 0, song.velocity[np.maximum(match, 0)], 0))
