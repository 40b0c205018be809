"""Whatever MIDI file a user gives, ``humanise`` and ``render`` either work or refuse it in one line (exit 2).

Random but well-formed files (odd ticks per beat, extreme tempos and meters, drums, pedal, zero-length and
unterminated notes, formats 0-2) and byte-corrupted copies of the demo; the same files opened in the editor
window. Found before these tests: a piece too long for the model exited 1 as "unexpected", a render of a file
lasting hours ran the machine out of memory, and (first by a sweep of the shared data in the editor) a piano
part whose pedal is touched but never pressed past half (all values below 64) raised on opening.
"""

from __future__ import annotations

from pathlib import Path

import mido
from conftest import DEMO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from midi_factory import midi_bytes, track
from qt_helpers import paint_every_version

from app.cli import EXIT_BAD_INPUT, EXIT_OK, main
from app.core.humanise import humanise_mask
from app.core.midi_document import MidiDocument

notes = st.lists(st.tuples(st.integers(0, 20_000), st.sampled_from([0, 1, 5, 100, 480, 100_000]),
                           st.integers(0, 127), st.integers(0, 127), st.booleans()), max_size=40)
track_specs = st.lists(st.tuples(st.sampled_from([0, 1, 9, 15]), notes,
                            st.none() | st.integers(1, 16_777_215),  # tempo: microseconds per beat
                            st.none() | st.tuples(st.integers(1, 15), st.sampled_from([1, 2, 4, 8, 16, 32])),
                            st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 127)), max_size=4)),  # pedal
                       min_size=1, max_size=3)


def build(kind: int, ticks_per_beat: int, spec: list) -> bytes:
    built = []
    for channel, played, tempo, meter, pedal in spec[:1] if kind == 0 else spec:
        events: list[tuple[int, mido.Message | mido.MetaMessage]] = []
        if tempo is not None:
            events.append((0, mido.MetaMessage("set_tempo", tempo=tempo)))
        if meter is not None:
            events.append((0, mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1])))
        for on, length, pitch, velocity, released in played:
            events.append((on, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)))
            if released:
                events.append((on + length, mido.Message("note_off", note=pitch, channel=channel)))
        events += [(t, mido.Message("control_change", control=64, value=v, channel=channel)) for t, v in pedal]
        built.append(track(events))
    return midi_bytes(built, ticks_per_beat, kind)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from([0, 1, 1, 2]), ticks_per_beat=st.sampled_from([1, 24, 480, 32767]), spec=track_specs)
def test_any_well_formed_file_opens_in_the_editor_or_is_refused_in_a_dialog(window, tmp_path: Path,
                                                                             kind, ticks_per_beat, spec):
    path = tmp_path / "in.mid"
    path.write_bytes(build(kind, ticks_per_beat, spec))
    refused: list[str] = []
    window.show_error = lambda title, text: refused.append(text)
    if not window.open_path(path):
        assert len(refused) == 1 and "in.mid" in refused[0], refused
        return
    assert not refused
    paint_every_version(window)
    window.doc.mark_saved()


def run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err.strip()


def works_or_refuses(code: int, err: str) -> None:
    assert code in (EXIT_OK, EXIT_BAD_INPUT), err
    if code == EXIT_BAD_INPUT:
        assert err.startswith("error: ") and len(err.splitlines()) == 1 and "unexpected" not in err, err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from([0, 1, 1, 2]), ticks_per_beat=st.sampled_from([1, 24, 480, 32767]), spec=track_specs)
def test_any_well_formed_file_humanises_or_is_refused_in_one_line(tmp_path: Path, tiny_checkpoint, capsys,
                                                                  kind, ticks_per_beat, spec):
    path, out = tmp_path / "in.mid", tmp_path / "out.mid"
    path.write_bytes(build(kind, ticks_per_beat, spec))
    code, err = run(["humanise", str(path), "--style", "jazz", "--checkpoint", str(tiny_checkpoint),
                     "-o", str(out), "--force"], capsys)
    works_or_refuses(code, err)
    if code == EXIT_OK:  # only velocities changed
        before, after = MidiDocument.load(path).notes, MidiDocument.load(out).notes
        assert len(before) == len(after) and (after.start == before.start).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ticks_per_beat=st.sampled_from([1, 24, 480]), spec=track_specs)
def test_any_well_formed_file_renders_or_is_refused_in_one_line(tmp_path: Path, capsys, ticks_per_beat, spec):
    path = tmp_path / "in.mid"
    path.write_bytes(build(1, ticks_per_beat, spec))
    code, err = run(["render", str(path), "--version", "original", "-o", str(tmp_path / "out.wav")], capsys)
    works_or_refuses(code, err)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(["set", "cut", "insert"]), st.floats(0, 1),
                                st.binary(min_size=1, max_size=30)), min_size=1, max_size=6))
def test_a_corrupted_file_humanises_or_is_refused_in_one_line(tmp_path: Path, capsys, edits):
    data = bytearray(DEMO.read_bytes())
    for what, where, stuff in edits:
        at = int(where * (len(data) - 1))
        if what == "set":
            data[at:at + len(stuff)] = stuff
        elif what == "cut":
            del data[at:at + len(stuff) * 8]
        else:
            data[at:at] = stuff
    path = tmp_path / "in.mid"
    path.write_bytes(bytes(data))
    code, err = run(["humanise", str(path), "--baseline", "-o", str(tmp_path / "out.mid"), "--force"], capsys)
    works_or_refuses(code, err)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ticks_per_beat=st.sampled_from([1, 24, 480, 32767]), spec=track_specs)
def test_the_editor_opens_edits_and_humanises_any_well_formed_file_or_says_why(window, qtbot, monkeypatch,
                                                                              tmp_path: Path, ticks_per_beat, spec):
    said: list[str] = []
    monkeypatch.setattr("app.ui.main_window.QMessageBox.warning", lambda parent, title, text: said.append(text))
    path = tmp_path / "in.mid"
    path.write_bytes(build(1, ticks_per_beat, spec))
    if not window.open_path(path):
        assert said and len(said[-1].splitlines()) == 1  # refused, with the reason
        return
    window.grab()  # paints every view of whatever opened
    window.edits.select_all()
    window.view.zoom_x(8.0, 100)
    window.edits.nudge_velocities(5)
    window.make_baseline()
    window.grab()
    if humanise_mask(window.doc.notes, window.doc.piano_mask).any():
        with qtbot.waitSignal(window.humanise_finished, timeout=60_000):
            window.humanise()
    else:  # no piano notes on the 88 keys: said so, nothing run
        window.humanise()
        assert "no piano-part notes" in said[-1]
    window.undo_stack.undo()
    window.grab()
    assert not [text for text in said if "Error:" in text or "Traceback" in text], said
