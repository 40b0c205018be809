"""Load + encode + decode + save time for the longest file in the shared data (issue: foundation).

    .venv/bin/python bench/bench_core.py
"""

from __future__ import annotations

from common import DATA, longest_file, synthetic_midi, timeit

from app.core.encoding import decode, encode, target
from app.core.midi_document import MidiDocument


def main() -> None:
    path = longest_file()
    data = path.read_bytes()
    doc = MidiDocument.from_bytes(data)
    enc = encode(doc.notes, doc.ticks_per_beat, doc.piano_mask)
    y, _ = target(enc, doc.notes.velocity[enc.note_index])
    stages = {
        "load": lambda: MidiDocument.from_bytes(data),
        "encode": lambda: encode(doc.notes, doc.ticks_per_beat, doc.piano_mask),
        "decode": lambda: decode(enc, y, doc.notes.velocity),
        "save": doc.to_bytes,
    }
    print(f"file: {path.relative_to(DATA)} ({len(data) / 1024:.0f} KiB, {len(doc.notes)} notes, "
          f"{enc.steps} steps)")
    total = 0.0
    for name, fn in stages.items():
        median, best = timeit(fn)
        total += median
        print(f"  {name:<7} median {median * 1000:8.1f} ms   min {best * 1000:8.1f} ms")
    print(f"  total   median {total * 1000:8.1f} ms")
    synth = synthetic_midi(50_000)
    median, best = timeit(lambda: MidiDocument.from_bytes(synth), repeat=3)
    print(f"synthetic 50,000-note file: load median {median * 1000:.0f} ms (min {best * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
