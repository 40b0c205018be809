"""Training data: performances -> note lists in beats, cached as compact ``.npz`` files.

A data folder has the layout of ``../shared/data``: ``splits.json`` mapping each
style to ``train``/``val``/``test`` lists of MIDI paths (relative to the folder).
Each performance becomes its piano part's in-range notes with two positions:

* ``start``/``end``: quarter-note beats on the file's own grid (the paper's
  "quantised performance"; for ASAP that is a 120 bpm *time* grid);
* ``a_start``/``a_end``: beats of the *score*, when the file has ASAP beat
  annotations (performance time -> score beat, piecewise linear), else NaN.
  Inputs built from these look like the scores users give the app.
"""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.errors import UserError
from app.core.midi_document import MidiDocument, MidiError

COLUMNS = ("pitch", "velocity", "start", "end", "a_start", "a_end")


class DataError(UserError):
    """A data folder that cannot be used; ``str()`` says why, for the user."""


SPLITS_SHAPE = '{"classical": {"train": ["a.mid", ...], "val": [...], "test": [...]}, "jazz": {...}}'


def read_splits(data_dir: Path) -> dict[str, dict[str, list[str]]]:
    """``splits.json`` of a data folder: each style's splits, each a list of MIDI paths in the folder."""
    path = Path(data_dir) / "splits.json"
    if not path.is_file():
        raise DataError(f"{path} not found: a data folder needs splits.json (see models/MODEL_CARD.md)")
    try:
        splits = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} is not readable JSON ({exc})") from None
    if not (isinstance(splits, dict) and splits and all(
            isinstance(parts, dict) and all(isinstance(files, list) and all(isinstance(f, str) for f in files)
                                            for files in parts.values()) for parts in splits.values())):
        raise DataError(f"{path} must map each style to its splits, each a list of MIDI paths: {SPLITS_SHAPE}")
    return splits


def read_beats(path: Path) -> np.ndarray:
    """Beat times (s) from an ASAP annotation file (``time<TAB>time<TAB>label`` per line)."""
    rows = [line.split("\t")[0] for line in path.read_text().splitlines() if line.strip()]
    return np.array([float(r) for r in rows], dtype=np.float64)


def _extrapolating_interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    y = np.interp(x, xp, fp)
    lo, hi = x < xp[0], x > xp[-1]
    y[lo] = fp[0] + (x[lo] - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    y[hi] = fp[-1] + (x[hi] - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return y


@dataclass(frozen=True)
class BeatMap:
    """Matched beats of a performance and its score: seconds <-> score quarter-note beats."""

    perf_seconds: np.ndarray  # (K,)
    score_beats: np.ndarray  # (K,) quarter notes in the score MIDI

    def to_score(self, seconds: np.ndarray) -> np.ndarray:
        return _extrapolating_interp(np.asarray(seconds, float), self.perf_seconds, self.score_beats)

    def to_performance(self, beats: np.ndarray) -> np.ndarray:
        return _extrapolating_interp(np.asarray(beats, float), self.score_beats, self.perf_seconds)


def asap_beat_map(performance: Path) -> BeatMap | None:
    """The beat map of an ASAP performance, or None when its annotations are missing or unusable."""
    folder = performance.parent
    perf_ann = folder / f"{performance.stem}_annotations.txt"
    score_ann, score_mid = folder / "midi_score_annotations.txt", folder / "midi_score.mid"
    if not (perf_ann.is_file() and score_ann.is_file() and score_mid.is_file()):
        return None
    perf, score_s = read_beats(perf_ann), read_beats(score_ann)
    if len(perf) != len(score_s) or len(perf) < 2:
        return None
    tempo = MidiDocument.load(score_mid).tempo_map
    beats = tempo.ticks(score_s) / tempo.ticks_per_beat
    keep = np.concatenate([[True], (np.diff(perf) > 0) & (np.diff(beats) > 0)])  # strictly increasing pairs
    if keep.sum() < 2:
        return None
    return BeatMap(perf[keep], beats[keep])


def performance_notes(path: Path) -> dict[str, np.ndarray]:
    """Piano-part notes in 21..108 of one performance as the columns of :data:`COLUMNS`."""
    doc = MidiDocument.load(path)
    notes = doc.notes.take(doc.piano_mask & doc.notes.in_piano_range)
    tpb = doc.ticks_per_beat
    out: dict[str, np.ndarray] = {"pitch": notes.pitch.astype(np.int16), "velocity": notes.velocity.astype(np.int16),
           "start": notes.start / tpb, "end": notes.end / tpb}
    beat_map = asap_beat_map(path)
    if beat_map is None:
        out["a_start"] = out["a_end"] = np.full(len(notes), np.nan)
    else:
        out["a_start"] = beat_map.to_score(doc.seconds(notes.start))
        out["a_end"] = beat_map.to_score(doc.seconds(notes.end))
    return out


def _load_one(args: tuple[Path, str]) -> tuple[str, dict[str, np.ndarray] | str]:
    root, rel = args
    try:
        return rel, performance_notes(root / rel)
    except (MidiError, OSError, ValueError) as exc:
        return rel, str(exc)


@dataclass
class Song:
    name: str
    pitch: np.ndarray
    velocity: np.ndarray
    start: np.ndarray
    end: np.ndarray
    a_start: np.ndarray
    a_end: np.ndarray

    @property
    def aligned(self) -> bool:
        return bool(len(self.a_start)) and not np.isnan(self.a_start).any()


def build_cache(data_dir: Path, cache_dir: Path, workers: int = 2) -> None:
    """Parse every performance in ``splits.json`` once; write ``{style}_{split}.npz``."""
    data_dir, cache_dir = Path(data_dir), Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for style, splits in read_splits(data_dir).items():
        for split, files in splits.items():
            target = cache_dir / f"{style}_{split}.npz"
            if target.exists():
                continue
            with multiprocessing.get_context("spawn").Pool(workers) as pool:
                results = pool.map(_load_one, [(data_dir, f) for f in files], chunksize=4)
            songs = [(rel, r) for rel, r in results if isinstance(r, dict) and len(r["pitch"])]
            skipped = [f"{rel}: {r}" for rel, r in results if not isinstance(r, dict)]
            if skipped:
                print(f"{style}/{split}: skipped {len(skipped)} unreadable file(s): {skipped[:3]}")
            if files and not songs:
                why = skipped[0] if skipped else "none has piano notes in the 88-key range"
                raise DataError(f"{style}/{split}: none of its {len(files)} files could be used ({why})")
            lengths = [len(r["pitch"]) for _, r in songs]
            arrays = {c: np.concatenate([r[c] for _, r in songs] or [np.zeros(0)]) for c in COLUMNS}
            arrays["names"] = np.array([rel for rel, _ in songs])
            arrays["offsets"] = np.concatenate([[0], np.cumsum(lengths)])
            np.savez_compressed(target, **arrays)  # type: ignore[arg-type]  # numpy stub types allow_pickle
            print(f"{style}/{split}: {len(songs)} songs, {sum(lengths)} notes -> {target}")


def load_songs(cache_dir: Path, style: str, split: str) -> list[Song]:
    with np.load(Path(cache_dir) / f"{style}_{split}.npz") as z:
        off, names = z["offsets"], z["names"]
        cols = {c: z[c] for c in COLUMNS}
    return [Song(str(names[i]), *(cols[c][off[i]:off[i + 1]] for c in COLUMNS)) for i in range(len(names))]
