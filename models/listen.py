"""Listening check: ``python -m models.listen --data ../shared/data``.

Each test piece (its first performance) is rendered through FluidSynth three times with the same notes,
timing and pedal: with the pianist's velocities, with the model's (the performance's velocities hidden,
as with a flat score) and with flat velocities. Their *loudness range* (``loudness_range_db``, how far
the music moves between soft and loud over 3-second stretches) says whether the model's dynamics are
as wide as a pianist's where one listens, not only per note; the flat render shows what the notes alone
give (register, texture, pedal).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from app.core.humanise import NoCheckpointError, VelocityPredictor, humanise_mask, stylised_velocities
from app.core.midi_document import MidiDocument
from app.playback.outputs import PlaybackUnavailable, find_soundfont
from app.playback.render import loudness_range_db, render
from app.playback.versions import schedules_for
from models.data import DataError, read_splits
from models.scoring import piece_of
from models.stylenet import CheckpointError

FLAT = 64  # any constant: a flat part carries no written dynamics, so the model sees only its notes


def piece_ranges(doc: MidiDocument, predictor: VelocityPredictor, style: str,
                 soundfont: str | None = None) -> dict[str, float]:
    """Loudness range in dB of ``doc`` rendered with its own (``human``), the model's and flat velocities."""
    mask = humanise_mask(doc.notes, doc.piano_mask)
    human = np.array(doc.notes.velocity)
    flat = np.where(mask, FLAT, human)
    model = stylised_velocities(doc.notes.with_velocities(flat), doc.ticks_per_beat, mask, predictor, style)
    schedules = schedules_for(doc, {"human": human, "model": model, "flat": flat})
    return {name: loudness_range_db(render(schedule, soundfont)) for name, schedule in schedules.items()}


def one_per_piece(files: list[str], data: Path) -> list[str]:
    """The first performance of each piece among ``files`` (paths in ``data``; performances of one piece
    sound alike)."""
    firsts: dict[str, str] = {}
    for rel in files:
        firsts.setdefault(piece_of(rel, data), rel)
    return list(firsts.values())


def summary(rows: list[dict[str, float]]) -> dict[str, float]:
    human = np.array([r["human"] for r in rows])
    out = {f"{k}_mean_db": float(np.mean([r[k] for r in rows])) for k in ("human", "model", "flat")}
    for k in ("model", "flat"):
        mine = np.array([r[k] for r in rows])
        out[f"{k}_abs_diff_db"] = float(np.abs(mine - human).mean())
        varies = len(rows) > 2 and mine.std() > 0 and human.std() > 0
        out[f"{k}_r_over_pieces"] = float(np.corrcoef(mine, human)[0, 1]) if varies else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    from models.inference import StyleNetPredictor

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--limit", type=int, default=0, help="pieces per style (0 = all)")
    p.add_argument("--soundfont", help=".sf2/.sf3 file (default: an installed General MIDI soundfont); the "
                   "ranges differ between soundfonts' piano samples, so the card names the one it used")
    args = p.parse_args(argv)
    try:
        predictor = StyleNetPredictor.from_checkpoint(args.checkpoint, "cpu")
        splits = read_splits(args.data)
        soundfont = str(find_soundfont(args.soundfont))
    except (NoCheckpointError, CheckpointError, DataError, PlaybackUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"rendering with {soundfont}", flush=True)
    for style in predictor.styles:
        rows = []
        files = splits.get(style, {}).get(args.split, [])
        for rel in one_per_piece(files, args.data)[: args.limit or None]:
            rows.append(piece_ranges(MidiDocument.load(args.data / rel), predictor, style, soundfont))
            print(f"{rel}: " + ", ".join(f"{k} {v:.1f} dB" for k, v in rows[-1].items()), flush=True)
        print(f"{style}: {len(rows)} pieces " + json.dumps({k: round(v, 2) for k, v in summary(rows).items()}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
