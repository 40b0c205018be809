"""Playback: schedules for the versions (what Play waits for), offline render speed, scheduler jitter on a
fake port, version-switch latency (issue: playback).

    .venv/bin/python bench/bench_playback.py [--seconds 300]
"""

from __future__ import annotations

import argparse
import statistics
import time

import mido
import numpy as np
from common import DATA, timeit

from app.core.humanise import baseline_velocities, humanise_mask
from app.core.midi_document import MidiDocument
from app.playback.outputs import PortOutput
from app.playback.player import Player
from app.playback.render import render
from app.playback.schedule import build_schedule
from app.playback.versions import schedules_for

PIECE = "classical/asap/Beethoven/Piano_Sonatas/24-1_no_2_repeat/MERJAN01.mid"  # 299 s
LONGEST = "classical/asap/Schubert/Wanderer_fantasie/Kolessova02.mid"  # 15,979 notes, 69,570 events


class NullPort(mido.ports.BaseOutput):
    def _send(self, msg: mido.Message) -> None:
        pass


def time_schedules() -> None:
    """Three versions of the longest file: one shared event list (what the app does) against a schedule
    built per version from the file it would save, in the same run. (Before the events were shared, each
    build also copied every message: 2,154 ms for the three, measured on the development machine.)"""
    doc = MidiDocument.load(DATA / LONGEST)
    mask = humanise_mask(doc.notes, doc.piano_mask)
    versions = {"original": np.array(doc.notes.velocity), "baseline": baseline_velocities(doc.notes, mask, 0),
                "stylised": baseline_velocities(doc.notes, mask, 1)}

    def per_version() -> None:
        kept = doc.notes
        for velocity in versions.values():
            doc.notes = kept.with_velocities(velocity)
            build_schedule(doc)
        doc.notes = kept

    shared = timeit(lambda: schedules_for(doc, versions), repeat=3)[1]
    separate = timeit(per_version, repeat=3)[1]
    print(f"schedules for 3 versions of {LONGEST.rsplit('/', 1)[1]} ({len(doc.notes)} notes): shared events "
          f"{shared * 1000:.0f} ms, one build per version {separate * 1000:.0f} ms "
          f"({separate / shared:.1f}x; min of 3 after a warm-up)")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=300.0, help="how much of the piece to play in real time")
    args = p.parse_args()
    time_schedules()
    doc = MidiDocument.load(DATA / PIECE)
    mask = humanise_mask(doc.notes, doc.piano_mask)
    schedules = schedules_for(doc, {"original": np.array(doc.notes.velocity),
                                    "baseline": baseline_velocities(doc.notes, mask, 0)})
    original = schedules["original"]
    t0 = time.perf_counter()
    audio = render(original)
    elapsed = time.perf_counter() - t0
    print(f"piece: {PIECE} ({original.duration:.0f} s, {len(original)} events)")
    print(f"offline render: {len(audio) / 44100:.0f} s of audio in {elapsed:.1f} s = "
          f"{len(audio) / 44100 / elapsed:.0f}x real time (target >= 50x)")

    player = Player(PortOutput(NullPort()), schedules, "original")
    player.record_timing = True
    player.play()
    switches, end = [], time.perf_counter() + args.seconds
    version = "original"
    while time.perf_counter() < end and player.playing:
        time.sleep(0.25)
        version = "baseline" if version == "original" else "original"
        s0 = time.perf_counter()
        player.switch(version)
        switches.append(time.perf_counter() - s0)
    player.stop()
    late = np.array([actual - due for due, actual in player.sent]) * 1000
    print(f"scheduler over {args.seconds:.0f} s ({len(late)} events): lateness median {np.median(late):.3f} ms, "
          f"p99 {np.percentile(late, 99):.3f} ms, max {late.max():.3f} ms")
    print(f"version switch ({len(switches)} switches while playing): median "
          f"{statistics.median(switches) * 1000:.2f} ms, max {max(switches) * 1000:.2f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
