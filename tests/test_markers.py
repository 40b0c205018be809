"""Markers are edited as one undo step each, written where DAWs read them, and survive a crash."""

from __future__ import annotations

import io

import mido
import numpy as np
from midi_factory import absolute, midi_bytes, note, track

from app.core.editor import EditorDocument, Version
from app.core.midi_document import MidiDocument
from app.core.recovery import RecoveryStore, left_behind, restore


def marker(tick: int, raw: bytes) -> tuple[int, mido.MetaMessage]:
    return (tick, mido.MetaMessage("marker", text=raw.decode("latin-1")))


def song(*conductor: tuple[int, mido.MetaMessage]) -> bytes:
    """A conductor track (tempo, the given markers) and a piano track with a marker of its own and four notes."""
    tempo = (0, mido.MetaMessage("set_tempo", tempo=600000))
    piano = [(0, mido.Message("program_change", program=0)), (480, mido.Message("control_change", control=64,
                                                                                    value=127)),
             marker(960, b"Bridge"), *note(60, 0, 480, 50), *note(64, 480, 960, 60), *note(67, 960, 1440, 70),
             *note(72, 1440, 1920, 80)]
    return midi_bytes([track([tempo, *conductor]), track(piano)])


def editor(data: bytes) -> tuple[EditorDocument, list[str]]:
    doc = EditorDocument(MidiDocument.from_bytes(data, "song.mid"))
    steps: list[str] = []
    doc.push = lambda text, before, after: (steps.append(text), doc.restore(after))
    return doc, steps


def written(data: bytes) -> list[list[tuple[int, str]]]:
    """Each track's markers as (tick, bytes as Latin-1)."""
    return [[(t, m.text) for t, m in timed(tr) if m.type == "marker"] for tr in reread(data).tracks]


def reread(data: bytes) -> mido.MidiFile:
    return mido.MidiFile(file=io.BytesIO(data))


def timed(tr: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    tick, out = 0, []
    for msg in tr:
        tick += msg.time
        out.append((tick, msg))
    return out


def test_each_marker_edit_is_one_undo_step_and_counts_as_unsaved_score():
    doc, steps = editor(song(marker(0, b"Intro")))
    assert [(m.tick, m.text) for m in doc.markers] == [(0, "Intro"), (960, "Bridge")]
    assert doc.add_marker(1920).text == "Marker 1"  # no name given: the first free number
    assert doc.unsaved == [Version.ORIGINAL]
    assert doc.add_marker(1920, "  Coda\n(repeat) ").text == "Marker 1 · Coda (repeat)"  # one line, joined there
    assert not doc.rename_marker(1920, " \t\n")  # nothing printable: no name, no step
    assert doc.rename_marker(1920, "Coda")
    doc.move_marker(0, 960)  # onto another marker: they share the tick, as when read
    doc.move_marker(1920, -50)  # not before the start
    doc.delete_marker(5)  # no marker there: nothing done
    assert [(m.tick, m.text) for m in doc.markers] == [(0, "Coda"), (960, "Bridge · Intro")]
    doc.delete_marker(0)
    assert steps == ["Add marker", "Add marker", "Rename marker", "Move marker", "Move marker", "Delete marker"]
    doc.add_marker(300, "x" * 500)
    assert len(doc.marker_at(300).text) == 200


def test_edited_markers_are_written_in_the_first_track_and_everything_else_is_kept(tmp_path):
    data = song(marker(0, b"Intro"), marker(1920, b"Coda"))
    doc, _ = editor(data)
    doc.set_version_velocities(Version.STYLISED, np.array([11, 22, 33, 44]), "Humanise", style="classical")
    plain = doc.midi_for(Version.STYLISED).to_bytes()  # before the markers were edited
    doc.rename_marker(960, "Bridge (rubato)")
    doc.move_marker(1920, 4800)  # past the end of every track: the first track now ends there
    doc.export(tmp_path / "out.mid", Version.STYLISED)
    out = (tmp_path / "out.mid").read_bytes()
    assert written(out) == [[(0, "Intro"), (960, "Bridge (rubato)"), (4800, "Coda")], []]
    before, after = reread(plain), reread(out)
    for old, new in zip(before.tracks, after.tracks):  # the other events as they were, at their ticks
        assert [e for e in absolute(new) if "marker" not in e[1] and "end_of_track" not in e[1]] == \
               [e for e in absolute(old) if "marker" not in e[1] and "end_of_track" not in e[1]]
    assert absolute(after.tracks[0])[-1] == (4800, "MetaMessage('end_of_track', time=0)")
    again = MidiDocument.from_bytes(out)
    assert again.notes.velocity.tolist() == [11, 22, 33, 44]
    assert [m.text for m in again.markers] == ["Intro", "Bridge (rubato)", "Coda"]
    assert doc.unsaved == [Version.ORIGINAL]  # the Stylised file has the markers; the Original file does not
    doc.delete_marker(0)
    assert doc.unsaved == [Version.ORIGINAL, Version.STYLISED]


def test_playback_finds_every_note_on_after_the_markers_move():
    doc, _ = editor(song(marker(0, b"Intro")))
    doc.add_marker(480, "A")
    midi, refs = doc.midi_for(Version.ORIGINAL).to_midifile_with_refs()
    for row, ref in enumerate(refs):
        msg = midi.tracks[int(doc.notes.track[row])][int(ref)]
        assert msg.type == "note_on" and msg.note == doc.notes.pitch[row], row


def test_new_marker_text_is_written_as_the_file_writes_its_own():
    def text_written(existing: bytes, typed: str) -> bytes:
        doc, _ = editor(song(marker(0, existing)))
        doc.add_marker(480, typed)
        out = doc.midi_for(Version.ORIGINAL).to_bytes()
        (raw,) = [text for tick, text in written(out)[0] if tick == 480]
        assert {m.tick: m.text for m in MidiDocument.from_bytes(out).markers}[480] == typed  # as typed
        return raw.encode("latin-1")

    assert text_written(b"Intro", "Café") == "Café".encode("cp1252")  # what Windows sequencers write
    assert text_written("Einleitung für".encode(), "Café") == "Café".encode()  # a UTF-8 file
    assert text_written("イントロ".encode("cp932"), "サビ") == "サビ".encode("cp932")  # a Japanese one
    assert text_written(b"Intro", "Coda → サビ") == "Coda → サビ".encode()  # what cp1252 cannot write


def test_unchanged_markers_leave_the_file_as_it_was():
    data = song(marker(0, b"Intro"))
    doc, _ = editor(data)
    doc.add_marker(480, "A")
    doc.delete_marker(480)
    assert not doc.modified
    assert doc.midi_for(Version.ORIGINAL).to_bytes() == data


def test_a_crashed_editor_s_markers_come_back(tmp_path):
    doc, _ = editor(song(marker(0, b"Intro")))
    doc.rename_marker(0, "Einleitung")
    doc.add_marker(1440, "Schluss")
    store = RecoveryStore(tmp_path)
    store.write(doc)
    store._lock.close()  # what a crash does to the lock
    (work,) = left_behind(tmp_path)
    back = restore(work)
    assert back.markers == doc.markers and back.unsaved == [Version.ORIGINAL]


def test_a_section_runs_from_its_marker_to_the_next_and_holds_the_piano_notes_starting_there():
    doc, _ = editor(song(marker(480, b"A")))  # markers: A at 480, Bridge at 960; notes start 0, 480, 960, 1440
    assert doc.section_notes(479) is None  # before the first marker: no section
    found = doc.section_notes(700)
    assert found is not None
    chosen_marker, stop, chosen = found
    assert (chosen_marker.text, stop) == ("A", 960)
    assert doc.notes.start[chosen].tolist() == [480]  # the note starting on the next marker is the next section's
    found = doc.section_notes(960)
    assert found is not None and found[0].text == "Bridge" and found[1] is None
    assert doc.notes.start[found[2]].tolist() == [960, 1440]  # the last section runs to the song's end
