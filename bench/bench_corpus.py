"""Every MIDI file of the shared data through the CLI's path: load → humanise → save → re-read (issue: model).

    .venv/bin/python bench/bench_corpus.py [--limit N] [--style classical|jazz|auto]

For each file (performances and ASAP score MIDIs) it checks what a user relies on: the file opens, the
piano part is humanised by the bundled model, the saved file differs from the input only in the
velocities of piano note-ons (every other event, time and track untouched), and every velocity lies in
1..127. It prints failures by name, then the time per file (median, 95th percentile, slowest) and the
notes per second end to end. ``auto`` humanises ASAP files as Classical and the jazz files as Jazz.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

import mido
import numpy as np
import torch
from common import DATA

from app.core.humanise import humanise_mask, stylised_velocities
from app.core.midi_document import MidiDocument, MidiError
from models.inference import StyleNetPredictor


def absolute(track: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    """``track``'s messages with absolute ticks (delta times differ once a velocity changes nothing else)."""
    tick, out = 0, []
    for msg in track:
        tick += msg.time
        out.append((tick, msg.copy(time=0)))
    return out


def only_piano_velocities_changed(before: mido.MidiFile, after: mido.MidiFile,
                                  piano: set[tuple[int, int]]) -> str:
    """'' when ``after`` differs from ``before`` only in piano note-on velocities (all in 1..127), else why."""
    if (before.type, before.ticks_per_beat, len(before.tracks)) != (after.type, after.ticks_per_beat,
                                                                      len(after.tracks)):
        return "file type, ticks per beat or track count changed"
    for t, (a, b) in enumerate(zip(before.tracks, after.tracks, strict=True)):
        ea, eb = absolute(a), absolute(b)
        if len(ea) != len(eb):
            return f"track {t}: {len(ea)} events became {len(eb)}"
        for (ta, ma), (tb, mb) in zip(ea, eb, strict=True):
            if ta == tb and ma == mb:
                continue
            piano_on = ma.type == "note_on" and ma.velocity > 0 and (t, ma.channel) in piano
            if ta != tb or not piano_on or ma.copy(velocity=mb.velocity) != mb or not 1 <= mb.velocity <= 127:
                return f"track {t} tick {ta}: {ma} became {mb} at tick {tb}"
    return ""


def check(path: Path, predictor: StyleNetPredictor, style: str) -> tuple[int, float, str]:
    """(piano notes humanised, seconds, problem or '') for one file."""
    t0 = time.perf_counter()
    try:
        doc = MidiDocument.load(path)
    except MidiError as exc:
        return 0, time.perf_counter() - t0, f"refused: {exc}"
    mask = humanise_mask(doc.notes, doc.piano_mask)
    if not mask.any():
        return 0, time.perf_counter() - t0, "no piano notes"
    velocity = stylised_velocities(doc.notes, doc.ticks_per_beat, mask, predictor, style)
    doc.notes = doc.notes.with_velocities(velocity)
    data = doc.to_bytes()
    seconds = time.perf_counter() - t0
    problem = only_piano_velocities_changed(mido.MidiFile(path), mido.MidiFile(file=io.BytesIO(data)),
                                            doc.piano_parts)
    if not problem and np.all(velocity[mask] == doc.loaded_notes.velocity[mask]):
        problem = "no velocity changed"
    return int(mask.sum()), seconds, problem


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, default=0, help="check only the first N files (0: all)")
    p.add_argument("--style", default="auto", choices=["auto", "classical", "jazz"])
    p.add_argument("--only", default="", help="check only files whose path contains this text")
    args = p.parse_args()
    torch.set_num_threads(2)
    files = sorted(f for f in DATA.rglob("*") if f.suffix.lower() == ".mid" and args.only in str(f))  # and .MID
    files = files[: args.limit or None]
    predictor = StyleNetPredictor.from_checkpoint(None, "cpu")
    times: list[tuple[float, int, Path]] = []
    failures: list[str] = []
    t_all = time.perf_counter()
    for k, path in enumerate(files, 1):
        style = args.style if args.style != "auto" else ("jazz" if "jazz" in path.parts else "classical")
        try:
            notes, seconds, problem = check(path, predictor, style)
        except Exception as exc:  # the point is to list every kind of failure
            notes, seconds, problem = 0, 0.0, f"{type(exc).__name__}: {exc}"
        rel = path.relative_to(DATA)
        if problem:
            failures.append(f"{rel}: {problem}")
            print(f"FAIL {rel}: {problem}", flush=True)
        else:
            times.append((seconds, notes, rel))
        if k % 100 == 0:
            print(f"{k}/{len(files)} files, {time.perf_counter() - t_all:.0f} s", flush=True)
    print(f"\n{len(files)} files, {len(times)} passed, {len(failures)} failed, "
          f"{time.perf_counter() - t_all:.0f} s in all")
    if times:
        secs = sorted(t for t, _, _ in times)
        slowest = max(times)
        notes = sum(n for _, n, _ in times)
        print(f"load → humanise → save per file: median {statistics.median(secs) * 1000:.0f} ms, "
              f"95th percentile {secs[int(0.95 * (len(secs) - 1))] * 1000:.0f} ms, slowest "
              f"{slowest[0] * 1000:.0f} ms ({slowest[2]}, {slowest[1]} piano notes); "
              f"{notes / sum(secs):,.0f} piano notes/s over {notes:,} notes")


if __name__ == "__main__":
    main()
