"""Write the bundled demo: J. S. Bach, Prelude in C major BWV 846 (public domain), bars 1-19 and a close.

Entered by hand from the score as a flat-velocity score MIDI (every note 80),
the way a musician's notation program would export it. Run from the repo root:
``python resources/demo/make_demo.py``.
"""

from pathlib import Path

import mido

TPB = 480
S16 = TPB // 4
# Each bar: five chord tones, arpeggiated c1 c2 c3 c4 c5 c3 c4 c5 twice; c1 held a half note,
# c2 held from its 16th to the end of the half bar (as in the score).
BARS = [
    (60, 64, 67, 72, 76), (60, 62, 69, 74, 77), (59, 62, 67, 74, 77), (60, 64, 67, 72, 76),
    (60, 64, 69, 76, 81), (60, 62, 66, 69, 74), (59, 62, 67, 74, 79), (59, 60, 64, 67, 72),
    (57, 60, 64, 67, 72), (50, 57, 62, 66, 72), (55, 59, 62, 67, 71), (55, 58, 64, 67, 73),
    (53, 57, 62, 69, 74), (53, 56, 62, 65, 71), (52, 55, 60, 67, 72), (52, 53, 57, 60, 65),
    (50, 53, 57, 60, 65), (43, 50, 55, 59, 65), (48, 52, 55, 60, 64),
]
FINAL = (36, 48, 55, 64, 72)


def notes() -> list[tuple[int, int, int]]:
    """(pitch, start tick, end tick)."""
    out = []
    for bar, chord in enumerate(BARS):
        for half in range(2):
            t0 = (bar * 4 + half * 2) * TPB
            out.append((chord[0], t0, t0 + 2 * TPB))
            out.append((chord[1], t0 + S16, t0 + 2 * TPB))
            for i, k in enumerate((2, 3, 4, 2, 3, 4)):
                out.append((chord[k], t0 + (2 + i) * S16, t0 + (3 + i) * S16))
    t_end = len(BARS) * 4 * TPB
    out += [(p, t_end, t_end + 4 * TPB) for p in FINAL]
    return out


def main() -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=TPB)
    meta = mido.MidiTrack([
        mido.MetaMessage("track_name", name="Prelude in C major, BWV 846 (J. S. Bach)"),
        mido.MetaMessage("time_signature", numerator=4, denominator=4),
        mido.MetaMessage("key_signature", key="C"),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(66)),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(58), time=len(BARS) * 4 * TPB),
    ])
    events = []
    for pitch, on, off in notes():
        events += [(on, 1, mido.Message("note_on", note=pitch, velocity=80)),
                   (off, 0, mido.Message("note_off", note=pitch, velocity=0))]
    events.sort(key=lambda e: (e[0], e[1]))
    piano = mido.MidiTrack([mido.MetaMessage("track_name", name="Piano"), mido.Message("program_change", program=0)])
    last = 0
    for tick, _, msg in events:
        piano.append(msg.copy(time=tick - last))
        last = tick
    midi.tracks += [meta, piano]
    midi.save(Path(__file__).with_name("bach_prelude_c_major.mid"))


if __name__ == "__main__":
    main()
