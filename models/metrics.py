"""Note-level figures a musician cares about, computed per piece and averaged over pieces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PieceScore:
    notes: int
    mae: float  # mean |pred - human| in velocity units
    level_mae: float  # MAE after removing the piece's mean offset (overall level differs by piano/recording)
    r: float  # Pearson correlation within the piece (nan when either side is constant)
    spread: float  # SD predicted / SD human


def score_piece(pred: np.ndarray, human: np.ndarray) -> PieceScore:
    p, h = np.asarray(pred, float), np.asarray(human, float)
    err = p - h
    sd_p, sd_h = p.std(), h.std()
    r = float(np.corrcoef(p, h)[0, 1]) if sd_p > 1e-9 and sd_h > 1e-9 and len(p) > 2 else float("nan")
    return PieceScore(len(p), float(np.abs(err).mean()), float(np.abs(err - err.mean()).mean()), r,
                      float(sd_p / sd_h) if sd_h > 1e-9 else float("nan"))


def summarise(scores: list[PieceScore]) -> dict[str, float]:
    """Mean over pieces (each piece counts once, however long)."""
    if not scores:
        return {"pieces": 0, "notes": 0, "mae": float("nan"), "level_mae": float("nan"), "r": float("nan"),
                "spread": float("nan")}
    return {
        "pieces": len(scores),
        "notes": int(sum(s.notes for s in scores)),
        "mae": float(np.mean([s.mae for s in scores])),
        "level_mae": float(np.mean([s.level_mae for s in scores])),
        "r": _nanmean([s.r for s in scores]),  # nan for a constant predictor: r is undefined
        "spread": _nanmean([s.spread for s in scores]),
    }


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def piece_intervals(model: list[PieceScore], constant: list[PieceScore], groups: list[str],
                    resamples: int = 2000, seed: int = 0) -> dict[str, list[float] | int]:
    """95% intervals of the mean r and of the level-matched MAE as a share of the constant's, by resampling
    whole pieces (``groups``: one label per performance; performances of one piece move together, since
    pianists playing the same notes err alike) with replacement."""
    labels = sorted(set(groups))
    members = [np.flatnonzero(np.asarray(groups) == g) for g in labels]
    r = np.array([s.r for s in model])
    mae, base = np.array([s.level_mae for s in model]), np.array([s.level_mae for s in constant])
    rng = np.random.default_rng(seed)
    rs, shares = [], []
    for _ in range(resamples):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(labels), len(labels))])
        rs.append(np.nanmean(r[idx]))
        shares.append(mae[idx].mean() / base[idx].mean())
    return {"r": [float(v) for v in np.percentile(rs, [2.5, 97.5])],
            "level_mae_share": [float(v) for v in np.percentile(shares, [2.5, 97.5])], "pieces": len(labels)}
