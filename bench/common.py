"""Helpers shared by the benchmarks: data location, timing, synthetic files."""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import mido
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("STYLENET_DATA", ROOT.parent / "shared" / "data"))


def longest_file() -> Path:
    """The largest performance file in the shared data (most notes)."""
    files = [p for p in DATA.rglob("*.mid") if p.name != "midi_score.mid"]
    return max(files, key=lambda p: p.stat().st_size)


def timeit(fn: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    """(median, min) seconds over ``repeat`` runs after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def synthetic_midi(notes: int, seed: int = 0, ticks_per_beat: int = 480) -> bytes:
    """A two-hand piano file with ``notes`` notes: 16th-note texture, chords, varied velocity."""
    rng = np.random.default_rng(seed)
    events = []
    for k in range(notes):
        start = (k // 3) * ticks_per_beat // 4
        pitch = int(rng.integers(36, 96))
        events += [(start, 1, mido.Message("note_on", note=pitch, velocity=int(rng.integers(30, 110)))),
                   (start + ticks_per_beat // 2, 0, mido.Message("note_off", note=pitch, velocity=0))]
    events.sort(key=lambda e: (e[0], e[1]))
    track, last = mido.MidiTrack(), 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    midi.tracks += [mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000)]), track]
    buf = io.BytesIO()
    midi.save(file=buf)
    return buf.getvalue()
