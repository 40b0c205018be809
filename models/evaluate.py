"""Evaluate a checkpoint against baselines: ``python -m models.evaluate --data ../shared/data``.

Per style, on the test split, note level, everything in one run:
1. quantised-performance input (the paper's setting: the file's own grid);
   classical also on the score grid reached through ASAP's beat annotations;
2. score input (classical): ASAP ``midi_score.mid`` -> prediction per score note,
   compared with each performance of the piece through the beat alignment; scored
   with the score's written dynamics (its velocities) kept, as the app does, and from
   its notes alone;
3. style specificity: each style's test data through both heads.
Baselines: constant (the piece's mean human velocity), random (uniform over the
piece's human range, fixed seed), and a melody-on-top chord rule.

``--calibrate`` first fits each head's spread factor and the weight of written dynamics
on the *validation* split and stores them in the checkpoint; ``--write-card`` puts the figures in MODEL_CARD.md
and each head's own figures in the checkpoint (``evaluation``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from app.core.humanise import with_written_dynamics
from models.baselines import chord_rule
from models.consensus import human_agreement
from models.data import DataError, Song, build_cache, load_songs, read_splits
from models.metrics import PieceScore, piece_intervals, score_piece, summarise
from models.score_view import ScoreViews
from models.scoring import (
    Predictor,
    Predictors,
    note_velocities,
    piece_of,
    run_songs,
    score_songs,
    spread_about_mean,
)
from models.stylenet import (
    DEFAULT_CHECKPOINT,
    CheckpointError,
    InferenceSettings,
    LoadedModel,
    load_checkpoint,
    update_checkpoint,
)
from models.windows import encode_song

CARD = Path(__file__).with_name("MODEL_CARD.md")
FIGURES = Path(__file__).with_name("evaluation.json")  # what the card shows, for the reproduction test
PLOTS = Path(__file__).with_name("plots")
SPREAD_RANGE = (0.75, 1.3)  # human-like dynamics: calibrated spread must land here on validation
WRITTEN_WEIGHTS = tuple(np.arange(0.0, 2.01, 0.125).round(3))  # candidate weights of a score's written dynamics

def predictors(loaded: LoadedModel, seed: int) -> Predictors:
    """name -> f(inputs, onset_step, key, human) -> velocities; baselines see only what they need."""
    rng = np.random.default_rng(seed)
    out: Predictors = {}
    target = loaded.meta.get("target", {})
    for style in loaded.styles:
        spread = float(loaded.calibration.get(style, {}).get("spread", 1.0))
        # A centred model sits at its style's mean training level: no peeking at the human level.
        level = target["style_level"][style] if target.get("centred") else None

        def model_fn(x, step, key, human, style=style, spread=spread, level=level):
            raw = note_velocities(loaded.model, x, step, key, style, loaded.device, loaded.inference,
                                  loaded.workers)
            return spread_about_mean(raw, spread, level)

        out[f"stylenet:{style}"] = model_fn
    out["constant"] = lambda x, step, key, human: np.full(len(human), human.mean())
    out["random"] = lambda x, step, key, human: rng.integers(human.min(), human.max() + 1, len(human)).astype(float)
    out["rule"] = lambda x, step, key, human: chord_rule(key + 21, step, human.mean())
    return out


@dataclass(frozen=True)
class ScoreCase:
    """One performance seen through its score: model input, written dynamics and the human answer."""

    inputs: np.ndarray  # (T, 176) the score's encoding
    onset_step: np.ndarray  # (S,)
    key: np.ndarray  # (S,)
    written: np.ndarray  # (S,) the score's own velocities
    human: np.ndarray  # (S,) performed velocity of each score note (mean where unmatched)
    matched: np.ndarray  # (S,) bool


def score_cases(views: ScoreViews, songs: list[Song]) -> tuple[list[ScoreCase], int, int]:
    """Usable score views of ``songs``, with (matched, total) score-note counts over all views."""
    cases, matched, total = [], 0, 0
    for song in songs:
        view = views.view(song)
        if view is None:
            continue
        ok, enc = view.matched, view.score.encoded
        matched, total = matched + int(ok.sum()), total + len(ok)
        if view.usable:
            human = view.velocity.astype(float)
            cases.append(ScoreCase(enc.inputs, enc.onset_step, enc.key, view.score.velocity.astype(float),
                                   np.where(ok, human, human[ok].mean()), ok))
    return cases, matched, total


def case_predictions(fn: Predictor, cases: list[ScoreCase]) -> list[np.ndarray]:
    return [fn(c.inputs, c.onset_step, c.key, c.human) for c in cases]


def written_scores(preds: list[np.ndarray], cases: list[ScoreCase], weight: float) -> list[PieceScore]:
    """Per case, the prediction combined with the score's written dynamics at ``weight``, scored on matched notes."""
    out = []
    for pred, c in zip(preds, cases):
        combined = with_written_dynamics(pred, c.written, weight)
        out.append(score_piece(combined[c.matched], c.human[c.matched]))
    return out


def fit_written_weight(fn: Predictor, cases: list[ScoreCase]) -> float:
    """The weight of the written dynamics that gives ``fn`` its best mean r on ``cases`` (validation)."""
    if not cases:
        return 0.0
    preds = case_predictions(fn, cases)  # run the model once, try every weight
    return float(max(WRITTEN_WEIGHTS, key=lambda w: summarise(written_scores(preds, cases, w))["r"]))


def run_score_input(cases: list[ScoreCase], fns: Predictors, weights: dict[str, float], matched: int,
                    total: int) -> dict[str, object]:
    """Score MIDI in, compared with every aligned performance of the piece. Predictors with a written-dynamics
    weight are scored with it and also on the notes alone; ``written`` is the score's own velocities."""
    out: dict[str, object] = {}
    for name, fn in fns.items():
        preds, weight = case_predictions(fn, cases), weights.get(name, 0.0)
        out[name] = summarise(written_scores(preds, cases, weight))
        if weight > 0:
            out[f"{name} (notes only)"] = summarise(written_scores(preds, cases, 0.0))
    # The score's written dynamics alone (r is NaN, so left out, where a score has none).
    out["written"] = summarise([score_piece(c.written[c.matched], c.human[c.matched]) for c in cases])
    out["match_rate"] = matched / max(total, 1)
    out["written_weights"] = weights
    return out


def calibrate(loaded: LoadedModel, cache: Path, step: float = 0.05) -> dict[str, dict[str, float]]:
    """Per head, the stretch about the piece mean with the lowest validation level-matched MAE
    among those whose validation spread ratio lies in SPREAD_RANGE (regression flattens dynamics);
    stretches from 1 to 4 in steps of ``step``."""
    calibration = {}
    for style in loaded.styles:
        songs = load_songs(cache, style, "val")
        raw = []
        for song in songs:
            es = encode_song(song, song.aligned)
            raw.append(note_velocities(loaded.model, es.inputs, es.encoded.onset_step, es.encoded.key, style,
                                       loaded.device, loaded.inference, loaded.workers))
        best: tuple[float, float, float] | None = None  # (level MAE, factor, spread)
        for factor in np.round(np.arange(1.0, 4.0 + step / 5, step), 6):
            figs = summarise([score_piece(spread_about_mean(p, factor), s.velocity) for p, s in zip(raw, songs)])
            if SPREAD_RANGE[0] <= figs["spread"] <= SPREAD_RANGE[1] and (best is None or figs["level_mae"] < best[0]):
                best = (figs["level_mae"], float(factor), figs["spread"])
        factor = best[1] if best else 1.0
        calibration[style] = {"spread": round(factor, 3), "val_spread": round(best[2], 3) if best else float("nan")}
    loaded.calibration = calibration
    return calibration


def quantised_figures(songs: list[Song], fns: Predictors, style: str, data: Path) -> dict[str, object]:
    """The paper's setting: per predictor, figures over ``songs`` on their own grid; ``intervals``: 95%
    intervals of the style's head over resampled pieces (how far the figures could move with other pieces)."""
    scores = score_songs(songs, fns, aligned=False)
    out: dict[str, object] = {name: summarise(s) for name, s in scores.items()}
    pieces = [piece_of(s.name, data) for s in songs]
    out["intervals"] = piece_intervals(scores[f"stylenet:{style}"], scores["constant"], pieces)
    return out


def plot_piece(loaded: LoadedModel, song: Song, style: str, png: Path, aligned: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    es = encode_song(song, aligned and song.aligned)
    pred = predictors(loaded, 0)[f"stylenet:{style}"](es.inputs, es.encoded.onset_step, es.encoded.key,
                                                       song.velocity)
    order = np.argsort(es.encoded.onset_step, kind="stable")[:400]
    fig, ax = plt.subplots(figsize=(11, 3.5))
    ax.plot(song.velocity[order], ".", ms=4, label="human", color="#333")
    ax.plot(pred[order], ".", ms=4, label=f"StyleNet ({style})", color="#d1495b")
    r = score_piece(pred, song.velocity).r
    ax.set_title(f"{song.name} — first {len(order)} notes, r = {r:.2f}")
    ax.set_xlabel("note (in onset order)"), ax.set_ylabel("velocity"), ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m models.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--cache", type=Path, default=Path("data_cache"))
    p.add_argument("--split", default="test")
    p.add_argument("--calibrate", action="store_true", help="fit spread on val and save it into the checkpoint")
    p.add_argument("--stretch-step", type=float, default=0.05,
                   help="with --calibrate: the stretches tried run from 1 to 4 in steps of this (0.01 compares "
                        "candidates at nearly the same spread)")
    p.add_argument("--write-card", action="store_true", help="write figures into models/MODEL_CARD.md")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shifts", type=int, nargs="+", default=None,
                   help="transpositions averaged at inference, e.g. -1 0 1 (stored in the checkpoint with --calibrate)")
    p.add_argument("--hop", type=int, default=None, help="steps between inference windows (stored likewise)")
    p.add_argument("--window", type=int, default=None, help="steps per inference window (stored likewise)")
    p.add_argument("--written", type=float, default=None,
                   help="weight of a score's written dynamics (default: the checkpoint's; --calibrate fits it on val)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    p.add_argument("--limit", type=int, default=0, help="only the first N songs per style (quick checks)")
    args = p.parse_args(argv)
    if not 0 < args.stretch_step <= 1:
        p.error(f"--stretch-step must be above 0 and at most 1, not {args.stretch_step}")
    return args


def store_calibration(loaded: LoadedModel, args: argparse.Namespace, val_cases: dict[str, list[ScoreCase]]) -> None:
    """Fit each head's spread and (unless given) the written-dynamics weight on validation, and save them
    into the checkpoint file beside its weights and metadata."""
    print("calibration:", calibrate(loaded, args.cache, args.stretch_step))
    if args.written is None:
        fns = predictors(loaded, args.seed)
        fitted = [fit_written_weight(fns[f"stylenet:{s}"], val_cases[s]) for s in loaded.styles if val_cases[s]]
        written = float(np.mean(fitted)) if fitted else 0.0
        loaded.meta["inference"] = replace(loaded.inference, written=written).as_meta()
        print("written-dynamics weight (val score input):", written)
    # A new calibration changes the figures: the stored ones go until --write-card measures them again.
    update_checkpoint(args.checkpoint, drop=("evaluation",), calibration=loaded.calibration,
                      inference=loaded.inference.as_meta())


def head_summary(figures: dict[str, object], styles: tuple[str, ...]) -> dict[str, object]:
    """Each head on its own style, per input setting, beside the constant baseline's level-matched MAE: the
    figures a checkpoint carries so that the file itself says how good it is (``checkpoint['evaluation']``)."""
    out: dict[str, object] = {"split": figures["split"]}
    for style in styles:
        section = figures[style]
        assert isinstance(section, dict)
        out[style] = {setting: {"model": results[f"stylenet:{style}"],
                                "constant_level_mae": results["constant"]["level_mae"]}
                      for setting, results in section.items() if f"stylenet:{style}" in results}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        loaded = load_checkpoint(args.checkpoint, "cpu")
        loaded.workers = args.threads  # windows on threads of their own: see models.inference.cpu_workers
        current = loaded.inference
        loaded.meta["inference"] = InferenceSettings(args.hop or current.hop,
                                                     tuple(sorted(set(args.shifts or current.shifts))),
                                                     current.written if args.written is None else args.written,
                                                     args.window or current.window).as_meta()
        in_data = read_splits(args.data)
        missing = [s for s in loaded.styles if s not in in_data]
        if missing:
            raise DataError(f"{args.data} has no {', '.join(missing)} performances to evaluate "
                            f"{args.checkpoint.name} on")
        build_cache(args.data, args.cache)
    except (DataError, CheckpointError, ValueError) as exc:  # ValueError: --hop/--window that do not fit
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return evaluate(args, loaded)


def evaluate(args: argparse.Namespace, loaded: LoadedModel) -> int:
    """The figures for ``args.split`` (after calibrating on validation with ``--calibrate``), printed and
    written where the arguments say (``loaded.meta['inference']`` already holds the chosen settings)."""
    views = ScoreViews(args.data)
    val_cases = {s: score_cases(views, load_songs(args.cache, s, "val"))[0] for s in loaded.styles}
    if args.calibrate:
        store_calibration(loaded, args, val_cases)
    figures: dict[str, object] = {"split": args.split, "calibration": loaded.calibration,
                                  "inference": loaded.inference.as_meta()}
    for style in loaded.styles:
        songs = load_songs(args.cache, style, args.split)[: args.limit or None]
        fns = predictors(loaded, args.seed)
        section: dict[str, object] = {"quantised_performance": quantised_figures(songs, fns, style, args.data)}
        if any(s.aligned for s in songs):
            section["score_grid_performance"] = run_songs(songs, fns, aligned=True)
            cases, matched, total = score_cases(views, songs)
            weights = {**{f"stylenet:{s}": loaded.inference.written for s in loaded.styles},
                       "rule": fit_written_weight(fns["rule"], val_cases[style])}  # the rule gets its best too
            section["score_input"] = run_score_input(cases, predictors(loaded, args.seed), weights, matched, total)
            agreement = human_agreement(songs, views)
            if agreement["performances"]:  # only where some piece was played twice
                section["human_agreement"] = agreement
        figures[style] = section
        if args.write_card:
            PLOTS.mkdir(exist_ok=True)
            plot_piece(loaded, songs[0], style, PLOTS / f"{style}_test_piece.png", aligned=False)
        print(json.dumps({style: section}, indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    if args.write_card:
        from models.model_card import write_card

        write_card(CARD, figures, loaded)
        FIGURES.write_text(json.dumps(figures, indent=1, sort_keys=True))
        update_checkpoint(args.checkpoint, evaluation=head_summary(figures, loaded.styles))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
