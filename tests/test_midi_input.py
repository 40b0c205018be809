"""Setting velocities by playing them on a MIDI keyboard (a fake one here: this machine has no MIDI)."""

from __future__ import annotations

import threading

import mido
import numpy as np
import pytest
from conftest import DEMO

from app.playback.inputs import KeyboardInput
from app.playback.outputs import PlaybackUnavailable


def test_only_struck_keys_count():
    pressed = []
    keyboard = KeyboardInput(lambda note, velocity: pressed.append((note, velocity)))
    for msg in (mido.Message("note_on", note=60, velocity=99), mido.Message("note_on", note=60, velocity=0),
                mido.Message("note_off", note=60), mido.Message("control_change", control=64, value=127)):
        keyboard.receive(msg)
    assert pressed == [(60, 99)]


def test_no_keyboard_or_no_midi_says_why(monkeypatch):
    monkeypatch.setattr(mido, "get_input_names", lambda: [])
    with pytest.raises(PlaybackUnavailable, match="no MIDI input ports found"):
        KeyboardInput.open(None, print)

    def no_backend():
        raise OSError("ALSA lib seq_hw.c: cannot open /dev/snd/seq")

    monkeypatch.setattr(mido, "get_input_names", no_backend)
    with pytest.raises(PlaybackUnavailable, match="MIDI input is unavailable here"):
        KeyboardInput.open("Digital Piano", print)


def test_each_key_struck_sets_the_selected_note_and_moves_on(window, qtbot, monkeypatch):
    window.open_path(DEMO)
    monkeypatch.setattr(mido, "get_input_names", lambda: [])
    window.played.action.trigger()  # nothing to listen to here: it says so and stays off
    assert not window.played.action.isChecked() and "no MIDI input ports" in window.statusBar().currentMessage()
    keyboard = KeyboardInput(window.played.pressed.emit)
    window.played.listen(keyboard)
    doc = window.doc
    order = np.lexsort((doc.notes.pitch, doc.notes.start))
    window.edits.select_neighbour(1)  # the first note
    for velocity, row in ((99, order[0]), (41, order[1])):
        struck = threading.Thread(target=keyboard.receive, args=(mido.Message("note_on", note=60, velocity=velocity),))
        struck.start()  # from another thread, as rtmidi calls back
        struck.join()
        qtbot.waitUntil(lambda row=row, velocity=velocity: doc.notes.velocity[row] == velocity, timeout=5000)
    assert doc.selection[order[2]] and doc.selection.sum() == 1  # ready for the next key
    assert window.undo_stack.text(window.undo_stack.index() - 1) == "Velocity 41 played"
    assert (np.delete(doc.notes.velocity, order[:2]) == 80).all()
    window.make_baseline()
    window.blind_action.trigger()  # a blind test: keys struck change nothing
    assert window.blind.test is not None
    before = doc.state
    window.played.press(60, 70)
    assert doc.state is before
    window.blind.abandon()
    doc.set_selection(np.zeros(len(doc.notes), dtype=bool))
    window.played.press(60, 70)  # nothing selected: says what to do, changes nothing
    assert "Select a piano note first" in window.statusBar().currentMessage()
    assert (np.delete(doc.notes.velocity, order[:2]) == 80).all()


def test_playing_along_sets_the_notes_played_then_and_a_take_is_one_undo_step(window, monkeypatch):
    from test_playback import FakePort

    from app.playback.outputs import PortOutput
    from app.ui.midi_input import PLAYED_ALONG

    window.open_path(DEMO)  # 66 bpm: a sixteenth is 0.227 s
    doc = window.doc
    player = window.transport.ensure_player(PortOutput(FakePort()))
    window.transport.toggle_play()
    seconds = doc.midi.tempo_map.seconds(doc.notes.start)
    c4, e4 = (int(np.flatnonzero((doc.notes.pitch == p) & (doc.notes.start == s))[0]) for p, s in ((60, 0), (64, 120)))
    steps = window.undo_stack.count()
    for row, late, velocity in ((c4, 0.05, 101), (e4, 0.12, 33), (c4, 0.5, 7)):  # the last is too late for C4
        monkeypatch.setattr(player, "position", lambda at=seconds[row] + late: at)
        window.played.press(int(doc.notes.pitch[row]), velocity)
    window.transport.stop()
    assert doc.notes.velocity[c4] == 101 and doc.notes.velocity[e4] == 33
    assert window.undo_stack.count() == steps + 1 and window.undo_stack.text(steps) == PLAYED_ALONG
    window.undo_stack.undo()  # the whole take at once
    assert doc.notes.velocity[c4] == 80 and doc.notes.velocity[e4] == 80
    window.played.press(60, 90)  # stopped again: no note selected, nothing set
    assert (doc.notes.velocity == 80).all()
