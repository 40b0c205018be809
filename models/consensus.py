"""Consensus targets: what the pianists of a piece agree on, as a less noisy training target.

ASAP has several performances of most pieces. Through the score (``models.score_view``)
each performed note is paired with a score note; there, each performance's velocities
are standardised (z) and averaged over the performances that played the note. One
performance's consensus target for a note is then its own mean and SD applied to

    own_weight * z_own + (1 - own_weight) * z_consensus

so the target keeps the performer's overall level and range but loses the part of
the dynamics no score predicts (the performer's idiosyncrasies and noise). On the
classical training split the consensus of the *other* performances predicts a
performance with r = 0.75, far above what a model reaches, which makes it a good
teacher. Songs without a score, or with a piece played once, keep their own velocities.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from models.data import Song
from models.score_view import ScoreView, ScoreViews


def consensus_songs(songs: list[Song], views: ScoreViews, own_weight: float) -> tuple[list[Song], int]:
    """The songs with consensus-blended velocities, and how many songs changed.

    Parameters
    ----------
    songs : performances of one style (one split: never mix splits, or the test set leaks)
    views : where the score MIDIs come from
    own_weight : 1 keeps each performance's own velocities, 0 uses the consensus alone
    """
    out, changed = list(songs), 0
    for members in _pieces_played_twice(songs, views):
        z = np.array([_score_z(view) for _, view in members])  # (P, S), NaN where unmatched
        consensus = _nanmean(z, min_known=2)  # (S,)
        for (i, view), z_own in zip(members, z):
            out[i] = _blend(songs[i], view, z_own, consensus, own_weight)
            changed += 1
    return out, changed


def human_agreement(songs: list[Song], views: ScoreViews) -> dict[str, float]:
    """How well other pianists predict one pianist, on the score notes both played: a reference for the
    model's score-input r (what the score and shared taste determine), not a bar.

    Per performance of a piece played at least twice: ``one_other_r``, its mean r with each other
    performance; ``others_r``, its r with the mean z of all the others; ``others_level_mae_share``, the
    level-matched MAE of that mean shape at the pianist's own level and SD (nothing fitted), as a share
    of the constant's. Averaged over performances.
    """
    pieces = _pieces_played_twice(songs, views)
    one, others, mae, const = [], [], [], []
    for members in pieces:
        z = np.array([_score_z(view) for _, view in members])  # (P, S), NaN where unmatched
        for i, (_, view) in enumerate(members):
            own = np.where(view.matched, view.velocity, np.nan).astype(float)  # (S,)
            pairs = [_r(own, z[j]) for j in range(len(members)) if j != i]
            mean_z = _nanmean(np.delete(z, i, axis=0))
            ok = ~np.isnan(own) & ~np.isnan(mean_z)
            if ok.sum() < 3:
                continue
            h = own[ok]
            one.append(float(np.nanmean(pairs)))
            others.append(_r(own, mean_z))
            mae.append(float(np.abs(h.mean() + h.std() * mean_z[ok] - h).mean()))
            const.append(float(np.abs(h - h.mean()).mean()))
    return {"performances": len(others), "pieces": len(pieces),
            "one_other_r": float(np.mean(one)) if one else float("nan"),
            "others_r": float(np.mean(others)) if others else float("nan"),
            "others_level_mae_share": float(np.mean(mae) / np.mean(const)) if mae else float("nan")}


def _pieces_played_twice(songs: list[Song], views: ScoreViews) -> list[list[tuple[int, ScoreView]]]:
    """(index in ``songs``, score view) of the usable performances, grouped by score; pieces played once left out."""
    by_score: dict[Path, list[tuple[int, ScoreView]]] = defaultdict(list)
    for i, song in enumerate(songs):
        view = views.view(song)
        if view is not None and view.usable:
            by_score[view.score.path].append((i, view))
    return [members for members in by_score.values() if len(members) >= 2]


def _r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r over the positions where both are known (NaN with fewer than three)."""
    ok = ~np.isnan(a) & ~np.isnan(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1]) if ok.sum() >= 3 else float("nan")


def _nanmean(z: np.ndarray, min_known: int = 1) -> np.ndarray:
    """(S,) mean over the rows that are known at each position; NaN where fewer than ``min_known`` are
    (without numpy's empty-slice warning)."""
    known = (~np.isnan(z)).sum(axis=0)
    return np.where(known >= min_known, np.nansum(z, axis=0) / np.maximum(known, 1), np.nan)


def _score_z(view: ScoreView) -> np.ndarray:
    """(S,) standardised performed velocity of each score note (NaN where unmatched)."""
    v = view.velocity[view.matched].astype(float)
    z = np.full(len(view.performed), np.nan)
    z[view.matched] = (v - v.mean()) / max(float(v.std()), 1e-6)
    return z


def _blend(song: Song, view: ScoreView, z_own: np.ndarray, consensus: np.ndarray, own_weight: float) -> Song:
    ok = view.matched & ~np.isnan(consensus)
    own = view.velocity[view.matched].astype(float)
    mean, sd = own.mean(), max(float(own.std()), 1e-6)
    velocity = song.velocity.copy()
    z = own_weight * z_own[ok] + (1.0 - own_weight) * consensus[ok]
    velocity[view.performed[ok]] = np.clip(np.rint(mean + sd * z), 1, 127).astype(velocity.dtype)
    return replace(song, velocity=velocity)
