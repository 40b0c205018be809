"""Random edit sequences: every version survives export and a crash-recovery round trip, note for note."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import mido
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from midi_factory import midi_bytes, note, track

from app.core.editor import EditorDocument, Version
from app.core.midi_document import MidiDocument
from app.core.recovery import RecoveryStore, left_behind, restore


def piece() -> EditorDocument:
    """A piano part with a pedal and a program change, a string part, and drums: only the piano is humanised."""
    piano = [(0, mido.Message("program_change", program=0)), (0, mido.Message("control_change", control=64, value=127))]
    for k in range(12):
        piano += note(48 + (k * 5) % 30, k * 240, k * 240 + 200, 60 + k)
    strings = [(0, mido.Message("program_change", program=48, channel=1)), *note(40, 0, 1920, 70, channel=1)]
    drums = note(36, 0, 100, 100, channel=9) + note(38, 480, 580, 90, channel=9)
    return EditorDocument(MidiDocument.from_bytes(midi_bytes([track(piano), track(strings), track(drums)])))


ops = st.one_of(
    st.tuples(st.just("velocity"), st.integers(0, 99), st.integers(-20, 150)),
    st.tuples(st.just("scale"), st.floats(0.0, 3.0), st.integers(-40, 40), st.integers(-40, 40)),
    st.tuples(st.just("voice"), st.integers(-30, 30), st.integers(-30, 30)),
    st.tuples(st.just("fit"), st.integers(1, 127), st.integers(1, 127)),
    st.tuples(st.just("move"), st.integers(0, 99), st.integers(-500, 500), st.integers(-3, 3)),
    st.tuples(st.just("resize"), st.integers(0, 99), st.integers(-300, 300)),
    st.tuples(st.just("add"), st.integers(21, 108), st.integers(0, 3000), st.integers(1, 127)),
    st.tuples(st.just("delete"), st.integers(0, 99)),
    st.tuples(st.just("baseline"), st.integers(0, 9)),
    st.tuples(st.just("stylise"), st.integers(0, 9)),
    st.tuples(st.just("show"), st.sampled_from(list(Version))),
    st.tuples(st.just("undo"), st.integers(0, 99)),
    st.tuples(st.just("copy"), st.integers(0, 99), st.integers(1, 5)),
    st.tuples(st.just("paste"), st.integers(0, 4000)),
)


def apply(doc: EditorDocument, op: tuple, history: list, board: list) -> None:
    """Carry out ``op``; ``board`` holds the last copied clip (copied from an earlier state, pasted later)."""
    kind, n = op[0], len(doc.notes)
    row = np.array([op[1] % n]) if n and kind in ("velocity", "move", "resize", "delete") else np.array([], int)
    if kind == "velocity" and len(row):
        doc.set_velocities(row, np.array([op[2]]))
    elif kind == "scale" and n:
        doc.scale_velocities(np.flatnonzero(doc.piano_mask), op[1], op[2], op[3])  # a crescendo if they differ
    elif kind == "fit" and n:
        doc.fit_velocities(np.flatnonzero(doc.piano_mask), min(op[1], op[2]), max(op[1], op[2]))
    elif kind == "voice" and n:
        doc.voice_velocities(np.flatnonzero(doc.piano_mask), op[1], op[2])
    elif kind == "move" and len(row):
        doc.move_notes(row, op[2], op[3])
    elif kind == "resize" and len(row):
        doc.resize_notes(row, op[2], 10)
    elif kind == "add":
        doc.add_note(op[1], op[2], op[2] + 120, op[3], 0, 0)
    elif kind == "delete" and len(row) and n > 1:
        doc.delete_notes(row)
    elif kind in ("baseline", "stylise"):
        velocity = np.random.default_rng(op[1]).integers(1, 128, n)
        doc.set_version_velocities(Version.BASELINE if kind == "baseline" else Version.STYLISED, velocity, kind,
                                   style="jazz" if kind == "stylise" else None)
    elif kind == "show" and op[1] in doc.available_versions():
        doc.set_version(op[1])
    elif kind == "undo" and history:
        doc.restore(history[op[1] % len(history)])
    elif kind == "copy" and n:
        board[:] = [doc.copy_notes((op[1] + np.arange(op[2])) % n)]
    elif kind == "paste" and board:
        doc.paste_notes(board[0], op[1])


def notes_of(midi: MidiDocument) -> Counter:
    n = midi.notes
    return Counter(zip(n.track.tolist(), n.channel.tolist(), n.pitch.tolist(), n.start.tolist(), n.end.tolist(),
                       n.velocity.tolist()))


def expected(doc: EditorDocument, version: Version) -> Counter:
    n, v = doc.notes, doc.state.velocities(version)
    assert v is not None
    return as_read(zip(n.track.tolist(), n.channel.tolist(), n.pitch.tolist(), n.start.tolist(), n.end.tolist(),
                       np.asarray(v).tolist()))


def as_read(notes) -> Counter:
    """The notes as any MIDI reader gets them back: a key's note-offs pair with its note-ons first in, first
    out, so where a note of one key lies inside another (struck later, released sooner) the two come back
    as overlapping notes with their ends swapped. Every other layout reads back unchanged."""
    keys: dict[tuple, list[tuple[int, int, int]]] = {}
    for track_, channel, pitch, start, end, velocity in notes:
        keys.setdefault((track_, channel, pitch), []).append((start, end, velocity))
    out: Counter = Counter()
    for key, group in keys.items():
        strikes, ends = sorted(group), sorted(end for _, end, _ in group)
        out.update((*key, start, end, velocity) for (start, _, velocity), end in zip(strikes, ends))
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(ops, max_size=14))
def test_every_version_survives_export_and_recovery(sequence):
    doc = piece()
    history, board = [], []
    for op in sequence:
        history.append(doc.state)
        apply(doc, op, history, board)
        for version in doc.available_versions():  # versions stay aligned with the notes, velocities legal
            v = doc.state.velocities(version)
            assert v is not None and len(v) == len(doc.notes) and v.min() >= 1 and v.max() <= 127
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for version in doc.available_versions():
            doc.export(root / f"{version.value}.mid", version)
            assert notes_of(MidiDocument.load(root / f"{version.value}.mid")) == expected(doc, version), version
        store = RecoveryStore(root / "recovery")
        store.write(doc)
        assert store._lock is not None
        store._lock.close()
        (work,) = left_behind(root / "recovery")
        back = restore(work)
        assert back.available_versions() == doc.available_versions() and back.state.style == doc.state.style
        for version in doc.available_versions():
            assert expected(back, version) == expected(doc, version), version
            back.export(root / f"back.{version.value}.mid", version)
            assert notes_of(MidiDocument.load(root / f"back.{version.value}.mid")) == expected(doc, version)
