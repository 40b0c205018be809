"""Run a model over encoded songs and score its note velocities against the human ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from models.data import Song
from models.metrics import PieceScore, score_piece, summarise
from models.stylenet import InferenceSettings, Net, predict
from models.windows import encode_song


def note_velocities(model: Net, inputs: np.ndarray, onset_step: np.ndarray, key: np.ndarray, style: str,
                    device: torch.device | str = "cpu", settings: InferenceSettings | None = None,
                    workers: int = 0) -> np.ndarray:
    """(M,) predicted velocities (1..127, float) at the given onset cells; ``workers`` as in ``predict``."""
    y = predict(model, inputs.astype(np.float32), style, settings, device=device, workers=workers)  # (T, 88)
    return np.clip(np.rint(y[onset_step, key] * 127.0), 1, 127)


def spread_about_mean(v: np.ndarray, factor: float, level: float | None = None) -> np.ndarray:
    """Stretch velocities about their mean (undoes the flattening regression learns), then move
    the mean to ``level`` if given (centred models predict shape, not a piano's level)."""
    if not len(v):
        return v
    centre = v.mean() if level is None else level
    return np.clip(np.rint(centre + factor * (v - v.mean())), 1, 127)


# f(inputs, onset_step, key, human) -> velocities; baselines use only what they need
Predictor = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
Predictors = dict[str, Predictor]


def score_songs(songs: list[Song], fns: Predictors, aligned: bool) -> dict[str, list[PieceScore]]:
    """Per predictor, one score per song; ``aligned`` uses the score grid where a song has one."""
    scores: dict[str, list[PieceScore]] = {name: [] for name in fns}
    for song in songs:
        es = encode_song(song, aligned and song.aligned)
        human = song.velocity.astype(float)
        for name, fn in fns.items():
            scores[name].append(score_piece(fn(es.inputs, es.encoded.onset_step, es.encoded.key, human), human))
    return scores


def run_songs(songs: list[Song], fns: Predictors, aligned: bool) -> dict[str, dict[str, float]]:
    """Per predictor, figures averaged over songs (see :func:`score_songs`)."""
    return {name: summarise(s) for name, s in score_songs(songs, fns, aligned).items()}


def piece_of(name: str, data: Path) -> str:
    """The piece a performance (its path relative to ``data``) plays: its folder when the folder holds a
    score (ASAP's layout: one score, several pianists), else the file itself."""
    folder = name.rsplit("/", 1)[0]
    return folder if (Path(data) / folder / "midi_score.mid").exists() else name
