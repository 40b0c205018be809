"""The transport in the window: graceful without audio, A/B/C switching on a fake port, seek, audio export."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
from conftest import DEMO
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QProgressDialog
from qt_helpers import click, drag
from qt_helpers import move as qt_move
from qt_helpers import press as qt_press
from qt_helpers import release as qt_release
from test_playback import FakePort, piano_and_band, read_wav

from app.core.editor import Version
from app.core.humanise import Cancelled
from app.playback.outputs import BadSoundfont, PlaybackUnavailable, PortOutput, check_soundfont
from app.playback.render import RenderTooLong, loudness_db, render
from app.playback.versions import PEAK_CEILING_DB, schedules_for

SMALL_SOUNDFONT = str(Path(pretty_midi.__file__).with_name("TimGM6mb.sf2"))  # 6 MB, installed with pretty_midi


def test_no_audio_device_says_why_where_it_is_seen_and_editing_goes_on(window, qtbot, monkeypatch):
    def no_sound_card(soundfont=None):
        raise PlaybackUnavailable("no audio device could be opened for FluidSynth")

    monkeypatch.setattr("app.ui.transport.FluidSynthOutput", no_sound_card)
    window.open_path(DEMO)
    window.transport.output_box.setCurrentIndex(window.transport.output_box.findData("fluidsynth"))
    window.transport.toggle_play()
    qtbot.waitUntil(lambda: "Cannot play" in window.transport.status.text(), timeout=10_000)  # opened on a worker
    assert window.transport.player is None and window.transport.play_action.text() == "▶ Play"
    status = window.transport.status  # in the status bar, which a narrow window does not fold away
    assert status.parent() is window.statusBar() and status.isVisible() and "no audio device" in status.text()
    window.make_baseline()
    assert window.doc.version is Version.BASELINE


@pytest.mark.parametrize(("action", "said"), [
    (lambda t, out: t.toggle_play(), "Cannot play: "),
    (lambda t, out: t.export_audio(out / "piece.wav", [Version.ORIGINAL], False), "Audio export failed: "),
    (lambda t, out: t.match_box.setChecked(True), "Cannot match loudness: "),
], ids=["play", "export audio", "match loudness"])
def test_a_missing_soundfont_says_where_to_choose_another(window, qtbot, tmp_path, action, said):
    window.transport.settings.set("soundfont", str(tmp_path / "gone.sf2"))  # chosen once, since deleted
    window.transport.match_box.setChecked(False)
    window.open_path(DEMO)
    window.transport.output_box.setCurrentIndex(window.transport.output_box.findData("fluidsynth"))
    action(window.transport, tmp_path)
    qtbot.waitUntil(lambda: window.transport.status.text().startswith(said), timeout=10_000)  # export: a job
    text = window.transport.status.text()
    assert "gone.sf2 not found" in text and text.endswith("(File ▸ Choose Soundfont…)")
    assert window.transport.player is None and not list(tmp_path.glob("*.wav"))


def test_play_waits_for_a_slow_soundfont_on_a_worker_thread_and_a_second_press_takes_it_back(window, qtbot,
                                                                                             monkeypatch):
    gate, calls, ports = threading.Event(), [], []

    def slow_piano(soundfont=None):  # a concert grand's soundfont: it loads until the test lets it
        calls.append(soundfont)
        if not gate.wait(10):
            raise PlaybackUnavailable("the test never let the soundfont load")
        ports.append(FakePort())
        return PortOutput(ports[-1])

    monkeypatch.setattr("app.ui.transport.FluidSynthOutput", slow_piano)
    window.open_path(DEMO)
    transport = window.transport
    transport.match_box.setChecked(False)
    transport.output_box.setCurrentIndex(transport.output_box.findData("fluidsynth"))
    transport.toggle_play()  # back at once: the window runs on while the soundfont loads
    assert transport.status.text() == "Loading the General MIDI soundfont…"
    assert transport.play_action.text() == "❚❚ Pause" and transport.player is None
    window.transport.audition(0, 60, 90)  # a note click meanwhile does not load it a second time
    qtbot.wait(50)
    gate.set()
    qtbot.waitUntil(lambda: any(m.type == "note_on" for port in ports for _, m in port.log), timeout=10_000)
    assert len(calls) == 1 and transport.player is not None and transport.player.playing
    transport.close_output()
    gate.clear()
    transport.toggle_play()
    transport.toggle_play()  # pressed again while it loads: it opens, and does not play
    assert transport.play_action.text() == "▶ Play"
    gate.set()
    qtbot.waitUntil(lambda: transport.output is not None, timeout=10_000)
    assert transport.player is None and transport.status.text() == "Output: fake"
    transport.close_output()
    gate.clear()
    transport.toggle_play()
    transport.output_box.setCurrentIndex(transport.output_box.findData("port"))  # another output meanwhile
    assert transport.play_action.text() == "▶ Play"
    gate.set()
    qtbot.waitUntil(lambda: len(ports) == 3 and ports[-1].closed, timeout=10_000)  # the late one is closed
    assert transport.output is None and transport.player is None


def test_a_soundfont_that_cannot_be_loaded_is_refused_when_chosen(window, qtbot, tmp_path):
    window.transport.choice.use_soundfont(SMALL_SOUNDFONT)  # loaded on a worker thread
    qtbot.waitUntil(lambda: window.transport.settings.get("soundfont") == SMALL_SOUNDFONT, timeout=10_000)
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"RIFF" + b"\x00" * 100)
    window.transport.choice.use_soundfont(str(bad))
    assert window.transport.status.text() == "Loading soundfont broken.sf2…"
    qtbot.waitUntil(lambda: window.transport.status.text().startswith("Soundfont not changed"), timeout=10_000)
    text = window.transport.status.text()
    assert window.transport.settings.get("soundfont") == SMALL_SOUNDFONT  # the last good choice stays
    assert text.startswith("Soundfont not changed") and "broken.sf2 is not a usable soundfont" in text


def test_a_soundfont_chosen_while_another_loads_wins_whichever_finishes_first(window, qtbot, monkeypatch):
    gate, ports = threading.Event(), {}

    def piano(soundfont):  # the first choice is a large soundfont: it loads until the test lets it
        if soundfont == "first.sf2" and not gate.wait(10):
            raise BadSoundfont("the test never let it load")
        ports[soundfont] = PortOutput(FakePort())
        return ports[soundfont]

    monkeypatch.setattr("app.ui.transport.FluidSynthOutput", piano)
    transport = window.transport
    transport.output_box.setCurrentIndex(transport.output_box.findData("fluidsynth"))
    transport.choice.use_soundfont("first.sf2")
    transport.choice.use_soundfont("second.sf2")
    qtbot.waitUntil(lambda: transport.settings.get("soundfont") == "second.sf2", timeout=10_000)
    assert transport.output is ports["second.sf2"]  # the check opened it: Play will not load it again
    gate.set()
    qtbot.waitUntil(lambda: "first.sf2" in ports, timeout=10_000)
    qtbot.waitUntil(lambda: ports["first.sf2"].port.closed, timeout=10_000)  # delivered late: closed, not used
    assert transport.settings.get("soundfont") == "second.sf2" and transport.status.text() == "Soundfont: second.sf2"
    assert transport.output is ports["second.sf2"] and not ports["second.sf2"].port.closed


def test_a_new_soundfont_plays_on_from_the_playhead_and_a_midi_port_plays_on(window, qtbot, monkeypatch):
    opened, measured = [], []

    def piano(soundfont=None):
        opened.append(soundfont)
        return PortOutput(FakePort())

    def gains(schedules, soundfont, *args, **kwargs):
        measured.append(soundfont)
        return {"original": 0.0}

    monkeypatch.setattr("app.ui.transport.FluidSynthOutput", piano)
    monkeypatch.setattr("app.ui.transport.loudness_gains", gains)
    window.open_path(DEMO)
    transport = window.transport
    transport.match_box.setChecked(True)
    transport.output_box.setCurrentIndex(transport.output_box.findData("fluidsynth"))
    transport.toggle_play()
    qtbot.waitUntil(lambda: transport.player is not None and transport.player.playing, timeout=10_000)
    qtbot.wait(300)
    before, at = transport.output, transport.player.position()
    transport.choice.use_soundfont(SMALL_SOUNDFONT)  # the old piano plays on while the new one loads
    qtbot.waitUntil(lambda: measured[-1:] == [SMALL_SOUNDFONT], timeout=10_000)  # matched through the new one
    assert opened == [None, SMALL_SOUNDFONT] and before.port.closed  # the check opened it: Play loads nothing
    assert transport.output.port.log and transport.player.playing and transport.player.position() >= at
    transport.stop()
    port = PortOutput(FakePort())
    transport.output_box.setCurrentIndex(transport.output_box.findData("port"))
    transport.ensure_player(port)
    transport.toggle_play()
    monkeypatch.setattr("app.ui.output_choice.check_soundfont", lambda path: opened.append(f"checked {path}"))
    transport.choice.use_soundfont("other.sf2")  # through a MIDI port: only checked, and the port plays on
    qtbot.waitUntil(lambda: measured[-1:] == ["other.sf2"], timeout=10_000)
    assert opened[2:] == ["checked other.sf2"] and transport.output is port and not port.port.closed
    assert transport.player.playing

    def no_fluidsynth(soundfont, *args, **kwargs):
        raise PlaybackUnavailable("FluidSynth is not available (no libfluidsynth)")

    said, set_message = [], transport.set_message
    monkeypatch.setattr("app.ui.output_choice.check_soundfont", check_soundfont)  # the real check, on a
    monkeypatch.setattr("app.playback.outputs.new_synth", no_fluidsynth)  # machine without FluidSynth
    monkeypatch.setattr(transport, "set_message", lambda text: said.append(text) or set_message(text))
    transport.choice.use_soundfont("third.sf2")  # it cannot be checked here: accepted, and said
    qtbot.waitUntil(lambda: measured[-1:] == ["third.sf2"], timeout=10_000)
    assert transport.settings.get("soundfont") == "third.sf2" and transport.player.playing
    assert "Soundfont: third.sf2, but FluidSynth is not available (no libfluidsynth)" in said


def test_play_pressed_while_a_chosen_soundfont_loads_waits_for_it(window, qtbot, monkeypatch):
    gate, loads = threading.Event(), []

    def piano(soundfont=None):  # a large soundfont: it loads until the test lets it
        loads.append(soundfont)
        if not gate.wait(10):
            raise PlaybackUnavailable("the test never let it load")
        if soundfont == "broken.sf2":
            raise BadSoundfont("broken.sf2 is not a usable soundfont")
        return PortOutput(FakePort())

    monkeypatch.setattr("app.ui.transport.FluidSynthOutput", piano)
    window.open_path(DEMO)
    transport = window.transport
    transport.match_box.setChecked(False)
    transport.output_box.setCurrentIndex(transport.output_box.findData("fluidsynth"))
    transport.choice.use_soundfont("grand.sf2")
    transport.toggle_play()  # Space while it loads: no second load of the old soundfont alongside
    qtbot.wait(100)
    assert transport.play_action.text() == "❚❚ Pause" and loads == ["grand.sf2"]
    gate.set()
    qtbot.waitUntil(lambda: transport.player is not None and transport.player.playing, timeout=10_000)
    assert transport.output.port.log and loads == ["grand.sf2"]
    transport.close_output()
    gate.clear()
    transport.choice.use_soundfont("broken.sf2")
    transport.toggle_play()
    gate.set()
    qtbot.waitUntil(lambda: transport.status.text().startswith("Soundfont not changed"), timeout=10_000)
    assert transport.play_action.text() == "▶ Play" and transport.player is None  # taken back, and it says why
    assert loads == ["grand.sf2", "broken.sf2"] and transport.settings.get("soundfont") == "grand.sf2"
    transport.toggle_play()  # the next Play opens the last good one
    qtbot.waitUntil(lambda: transport.player is not None and transport.player.playing, timeout=10_000)
    assert loads[-1] == "grand.sf2"


def test_play_switch_versions_and_stop_on_a_fake_port(window, qtbot):
    window.open_path(DEMO)
    window.make_baseline()
    window.version_actions[Version.ORIGINAL].trigger()
    port = FakePort()
    player = window.transport.ensure_player(PortOutput(port))
    assert set(player.schedules) == {"original", "baseline"}
    window.transport.toggle_play()
    qtbot.wait(400)
    before = len(port.log)
    window.version_actions[Version.BASELINE].trigger()  # key 2
    assert player.version == "baseline"
    switched = [m for _, m in port.log[before:]]
    assert any(m.type == "control_change" and m.control == 123 for m in switched)
    qtbot.wait(300)
    window.transport.stop()
    assert not player.playing and window.roll.playhead_tick == 0.0
    played = [m.velocity for _, m in port.log[before:] if m.type == "note_on" and m.velocity > 0]
    assert played and all(m != 80 for m in played[:3])  # baseline velocities, not the flat original


def test_ruler_click_seeks(window):
    window.open_path(DEMO)
    port = FakePort()
    window.transport.ensure_player(PortOutput(port))
    x = window.view.x_of(4 * 480)
    click(window.ruler, QPointF(x, 10))
    assert abs(window.transport.player.position() - 4 * 60 / 66) < 0.05  # 4 beats at 66 bpm
    assert abs(window.roll.playhead_tick - 4 * 480) < 480 / window.view.px_per_tick / 480 * 2 + 5


def test_the_ruler_shows_the_file_s_markers_names_them_and_seeks_to_them(window, qtbot, tmp_path):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    from app.ui import style
    from app.ui.ruler import BAR_STRIP, MARKER_STRIP

    window.open_path(DEMO)
    ruler, view = window.ruler, window.view
    assert ruler.height() == BAR_STRIP and ruler.marker_at(QPointF(view.x_of(0) + 5, 5)) is None
    unmarked = window.roll.grab().toImage()
    marked = tmp_path / "marked.mid"
    midi = mido.MidiFile(DEMO)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("marker", text="Theme " * 30, time=0),
                                       mido.MetaMessage("marker", text="Left hand takes the tune", time=8 * 480)]))
    midi.save(marked)
    window.open_path(marked)
    ruler.resize(ruler.width(), ruler.height())
    assert ruler.height() == MARKER_STRIP + BAR_STRIP
    x = view.x_of(8 * 480)
    image = ruler.grab().toImage()
    assert image.pixelColor(int(x) + 1, MARKER_STRIP // 2) == style.MARKER  # its flag, at its bar
    assert image.pixelColor(int(x) + 1, MARKER_STRIP + BAR_STRIP - 2) != style.MARKER  # not through the bars
    roll = window.roll.grab().toImage()  # the same notes and view: only the marker's dashed line differs

    def changed(column: int) -> int:
        return sum(roll.pixelColor(column, y) != unmarked.pixelColor(column, y) for y in range(roll.height()))

    assert changed(int(x)) > roll.height() // 4 and changed(int(x) + 5) == 0

    label = QPointF(x + 30, MARKER_STRIP / 2)  # on the second marker's label, a beat and more after it
    point = label.toPoint()
    QApplication.sendEvent(ruler, QHelpEvent(QEvent.Type.ToolTip, point, ruler.mapToGlobal(point)))
    assert QToolTip.text().startswith("Left hand takes the tune\n3.1 · 0:07.2 / ")  # 8 beats at 66 bpm: 7.27 s
    QToolTip.hideText()
    window.transport.ensure_player(PortOutput(FakePort()))
    click(ruler, label)
    assert window.roll.playhead_tick == 8 * 480  # the marker's own tick, not the one clicked
    click(ruler, QPointF(x + 30, MARKER_STRIP + 10))  # below, on the bars: where it was clicked
    assert window.roll.playhead_tick == pytest.approx(view.tick_at(x + 30), abs=1)

    view.scroll_to(left_tick=10 * 480)  # the section that began before the view stays named at its left
    assert [(m.text, x0) for m, x0, _ in ruler.marker_spans()] == [("Left hand takes the tune", 0.0)]

    window.transport.seek_marker(-1)  # [ : back to the start of the section playing, then to the one before
    assert window.roll.playhead_tick == 8 * 480
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    assert window.roll.playhead_tick == 0 and view.x_of(0) >= 0  # and in view
    assert window.statusBar().currentMessage().startswith("Marker: Theme Theme")
    point = QPointF(view.x_of(0) + 30, 5).toPoint()  # a long text's tooltip is wrapped, not a screen wide
    QApplication.sendEvent(ruler, QHelpEvent(QEvent.Type.ToolTip, point, ruler.mapToGlobal(point)))
    assert QToolTip.text().splitlines()[:3] == ["Theme " * 12 + "Theme"] * 2 + ["Theme " * 3 + "Theme"]
    QToolTip.hideText()
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.roll.playhead_tick == 8 * 480 and window.transport.player.position() == pytest.approx(8 * 60 / 66)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.roll.playhead_tick == 8 * 480 and window.statusBar().currentMessage() == (
        "No marker after the playhead.")


def test_position_readout_home_end_and_a_new_output_or_file(window, qtbot, tmp_path):
    window.open_path(DEMO)  # 4/4 at 66 bpm
    label = window.transport.position_label
    length = label.text().split(" / ")[1]
    assert label.text() == f"1.1 · 0:00.0 / {length}"
    window.transport.ensure_player(PortOutput(FakePort()))
    click(window.ruler, QPointF(window.view.x_of(5 * 480 + 10), 10))  # 2.2: 5 beats = 4.54 s
    assert label.text() == f"2.2 · 0:04.5 / {length}"
    window.transport.ensure_player(PortOutput(FakePort()))  # another output: it goes on from the playhead
    assert abs(window.transport.player.position() - 5 * 60 / 66) < 0.05
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert label.text() == f"{label.text().split(' · ')[0]} · {length} / {length}"
    assert window.roll.playhead_tick == window.doc.end_tick
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert label.text().startswith("1.1 · 0:00.0") and window.transport.player.position() == 0.0
    click(window.ruler, QPointF(window.view.x_of(8 * 480), 10))
    other = tmp_path / "other.mid"
    window.doc.export(other, Version.ORIGINAL)
    window.open_path(other)  # another file: back to its start, no playhead drawn until it moves
    assert window.roll.playhead_tick is None and label.text().startswith("1.1 · 0:00.0")


def test_the_status_bar_shows_the_tempo_and_meter_at_the_playhead(window, tmp_path):
    import mido
    from midi_factory import midi_bytes, note, track

    meta = [(0, mido.MetaMessage("time_signature", numerator=3, denominator=4)), (0, mido.MetaMessage("set_tempo")),
            (3 * 480, mido.MetaMessage("set_tempo", tempo=1_000_000)),
            (3 * 480, mido.MetaMessage("time_signature", numerator=6, denominator=8))]
    path = tmp_path / "changes.mid"
    path.write_bytes(midi_bytes([track(meta), track(note(60, 0, 480) + note(64, 5 * 480, 6 * 480))]))
    window.open_path(path)
    labels = window.status_labels
    assert (labels["tempo"].text(), labels["meter"].text()) == ("120.0 bpm", "3/4")
    window.transport.seek_tick(4 * 480)
    assert (labels["tempo"].text(), labels["meter"].text()) == ("60.0 bpm", "6/8")
    assert window.transport.position_label.text().startswith("2.3 · 0:02.5")  # 6/8 counts eighths
    window.transport.stop()
    assert (labels["tempo"].text(), labels["meter"].text()) == ("120.0 bpm", "3/4")


def test_the_audio_export_dialog_offers_a_file_beside_the_opened_one(window, monkeypatch):
    offered = []
    monkeypatch.setattr("app.ui.main_window.QFileDialog.getSaveFileName",
                        lambda parent, title, path, kinds: (offered.append((path, kinds)), ("", ""))[1])
    window.open_path(DEMO)
    window.transport.export_audio_dialog()
    window.transport.export_audio_dialog(all_versions=True)
    assert offered == [(str(DEMO.with_name(f"{DEMO.stem}.original.wav")), "WAV audio (*.wav)"),
                       (str(DEMO.with_name(f"{DEMO.stem}.wav")), "WAV audio (*.wav)")]


def test_loudness_gains_and_export_all_three(window, qtbot, tmp_path):
    window.open_path(DEMO)
    window.make_baseline()
    with qtbot.waitSignal(window.humanise_finished, timeout=60_000):
        window.humanise()
    done = []
    window.transport.export_audio(tmp_path / "piece.wav", window.doc.available_versions(), True, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=120_000)
    audio = [read_wav(tmp_path / f"piece.{name}.wav") for name in ("original", "baseline", "stylised")]
    assert max(loudness_db(a) for a in audio) - min(loudness_db(a) for a in audio) < 1.0
    assert window.transport.normalize_action.isChecked()  # the default: the loudest peak at -1 dBFS
    assert max(np.abs(a).max() for a in audio) == pytest.approx(10 ** (PEAK_CEILING_DB / 20), rel=1e-3)
    window.transport.compute_gains()
    qtbot.waitUntil(lambda: bool(window.transport.gains), timeout=60_000)
    assert window.transport.gains["original"] == 0.0 and "dB" in window.transport.gain_label.text()
    time.sleep(0.01)


def test_choose_port_without_midi_backend_explains(window, monkeypatch):
    def broken():
        raise OSError("ALSA lib seq_hw.c: cannot open /dev/snd/seq")

    monkeypatch.setattr("mido.get_output_names", broken)
    window.transport.choice.choose_port()
    assert "unavailable here" in window.transport.status.text()
    monkeypatch.setattr("mido.get_output_names", lambda: ["Synth A", "DAW in"])
    monkeypatch.setattr("app.ui.output_choice.QInputDialog.getItem", lambda *a: ("DAW in", True))
    window.transport.choice.choose_port()
    assert window.settings.get("midi_port") == "DAW in"
    assert window.transport.output_box.currentData() == "port"


def test_a_virtual_port_of_our_own_plays_and_says_what_to_connect(window, monkeypatch):
    opened = []

    def open_output(name, virtual=False):
        opened.append((name, virtual))
        return FakePort()

    monkeypatch.setattr("mido.get_output_names", lambda: [])  # nothing to play through but our own port
    monkeypatch.setattr("mido.open_output", open_output)
    monkeypatch.setattr("app.ui.output_choice.QInputDialog.getItem", lambda _w, _t, _l, items, *a: (items[-1], True))
    window.open_path(DEMO)
    window.transport.match_box.setChecked(False)  # its "Measuring loudness…" would cover the output's name
    window.transport.choice.choose_port()
    assert window.settings.get("midi_port") == "@virtual"
    player = window.transport.ensure_player()
    assert player is not None and opened == [("StyleNet Studio", True)]
    assert "virtual port “StyleNet Studio”" in window.transport.status.text()
    window.transport.close_output()

    def no_virtual_ports(name, virtual=False):
        raise NotImplementedError("Virtual ports are not supported by the Windows MultiMedia API.")

    monkeypatch.setattr("mido.open_output", no_virtual_ports)
    monkeypatch.setattr("sys.platform", "win32")
    assert window.transport.ensure_player() is None
    monkeypatch.undo()
    assert "virtual MIDI port cannot be made here" in window.transport.status.text()
    assert "loopMIDI" in window.transport.status.text()  # what a Windows user can do instead


def _sounded(port: FakePort, start: int = 0) -> list[tuple[str, int, int]]:
    """(kind, pitch, velocity) of the note messages the port got since ``start``."""
    return [(m.type, m.note, m.velocity) for _, m in port.log[start:] if m.type in ("note_on", "note_off")]


def test_clicked_and_dragged_notes_sound_at_each_pitch_and_an_edit_keeps_the_output_open(window):
    window.open_path(DEMO)
    window.make_baseline()  # the shown version's velocities vary: the click must sound the note's own
    port = FakePort()
    window.transport.ensure_output(PortOutput(port))
    n, view = window.doc.notes, window.view
    row = int(np.flatnonzero(window.doc.piano_mask)[0])
    pitch, velocity = int(n.pitch[row]), int(window.doc.shown_velocities()[row])
    grab = view.point_at(pitch, float(n.start[row]) + 10)
    drag(window.roll, grab, grab - QPointF(0, 2 * view.key_height), steps=8)  # up two semitones
    assert _sounded(port) == [("note_on", pitch, velocity), ("note_off", pitch, 0),
                              ("note_on", pitch + 1, velocity), ("note_off", pitch + 1, 0),
                              ("note_on", pitch + 2, velocity), ("note_off", pitch + 2, 0)]
    assert window.doc.notes.pitch[row] == pitch + 2  # the drag was an edit: the document changed ...
    assert window.transport.output is not None and not port.closed  # ... and the output stayed open
    before = len(port.log)
    key_y = view.y_of(60) + view.key_height / 2
    drag(window.keyboard, QPointF(20, key_y), QPointF(20, key_y - view.key_height), steps=4)  # slide C4 -> C#4
    draw = window.roll.draw_velocity
    assert _sounded(port, before) == [("note_on", 60, draw), ("note_off", 60, 0), ("note_on", 61, draw),
                                      ("note_off", 61, 0)]


def test_audition_keeps_quiet_when_off_or_playing_and_a_missing_output_is_tried_once(window, qtbot, monkeypatch):
    window.open_path(DEMO)
    port = FakePort()
    window.transport.ensure_output(PortOutput(port))
    view = window.view
    key = QPointF(20, view.y_of(60) + view.key_height / 2)
    window.transport.audition_action.setChecked(False)
    click(window.keyboard, key)
    assert _sounded(port) == [] and window.settings.get("audition") is False
    window.transport.audition_action.setChecked(True)
    window.transport.toggle_play()
    qtbot.wait(100)
    before = len(port.log)
    window.transport.audition(0, 60, 90)
    assert not any(m == ("note_on", 60, 90) for m in _sounded(port, before))  # the player owns the port now
    window.transport.stop()
    attempts = []

    def no_sound_card(soundfont=None):
        attempts.append(soundfont)
        raise PlaybackUnavailable("no audio device could be opened for FluidSynth")

    monkeypatch.setattr("app.ui.transport.FluidSynthOutput", no_sound_card)
    # a real soundfont: one that cannot be loaded is refused
    monkeypatch.setattr("app.ui.output_choice.QFileDialog.getOpenFileName", lambda *a: (SMALL_SOUNDFONT, ""))
    window.transport.choice.choose_soundfont()  # another piano: the open output is closed, the next sound opens it
    qtbot.waitUntil(lambda: port.closed, timeout=10_000)  # once the soundfont has loaded
    assert window.transport.output is None and attempts == [SMALL_SOUNDFONT]  # the check tried to open it
    said = f"Soundfont: {Path(SMALL_SOUNDFONT).name}, but no audio device could be opened for FluidSynth"
    assert window.transport.status.text() == said  # accepted, and told now, not only at the next Play
    for _ in range(3):
        click(window.keyboard, key)
    qtbot.waitUntil(lambda: "no audio device" in window.transport.status.text(), timeout=10_000)
    click(window.keyboard, key)
    qtbot.wait(50)
    assert len(attempts) == 1 + 1  # the clicks tried once
    window.transport.toggle_play()  # Play tries again: a sound card may have been plugged in since
    qtbot.waitUntil(lambda: len(attempts) == 1 + 2, timeout=10_000)


def test_solo_piano_plays_only_the_piano_part_and_switching_it_carries_on_in_place(window, qtbot, tmp_path):
    piano_and_band(tmp_path / "trio.mid")
    window.open_path(tmp_path / "trio.mid")
    port = FakePort()
    window.transport.ensure_output(PortOutput(port))
    window.transport.solo_action.setChecked(True)
    window.transport.toggle_play()
    qtbot.waitUntil(lambda: window.transport.player.position() > 1.2, timeout=5_000)  # past the third beat
    channels = {m.channel for _, m in port.log if m.type == "note_on" and m.velocity > 0}
    assert channels == {0}
    before, position = len(port.log), window.transport.player.position()
    window.transport.solo_action.setChecked(False)  # the band comes in, from where the piano was
    player = window.transport.player
    assert player.playing and player.position() >= position - 0.05
    qtbot.waitUntil(lambda: any(m.type == "note_on" and m.channel == 9 for _, m in port.log[before:]), timeout=3_000)
    first_new = next(m for _, m in port.log[before:] if m.type == "note_on" and m.channel == 0 and m.velocity)
    assert first_new.note > 61  # not started again from the first beat (C4, C#4)
    window.transport.stop()
    assert window.settings.get("solo_piano") is False


def test_solo_piano_matches_loudness_on_the_piano_alone_and_exports_it_alone(window, qtbot, tmp_path):
    piano_and_band(tmp_path / "trio.mid", piano_velocity=110)
    window.open_path(tmp_path / "trio.mid")
    window.make_baseline()  # uniform 40-100: a softer piano than the original's 110
    transport = window.transport
    transport.compute_gains()
    qtbot.waitUntil(lambda: bool(transport.gains), timeout=60_000)
    with_band = transport.gains["baseline"]
    transport.solo_action.setChecked(True)
    assert transport.gains == {}  # measured on the whole band: no longer what is heard
    transport.compute_gains()
    qtbot.waitUntil(lambda: bool(transport.gains), timeout=60_000)
    alone = transport.gains["baseline"]
    assert alone > with_band + 1.0 > 1.0  # the band no longer hides how much softer the baseline piano is
    done = []
    transport.export_audio(tmp_path / "piano.wav", [Version.BASELINE], False, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)
    piano_only = schedules_for(window.doc.midi_for(Version.ORIGINAL),
                               {"baseline": window.doc.state.velocities(Version.BASELINE)}, window.doc.midi.piano_parts)
    expected, exported = render(piano_only["baseline"]), read_wav(tmp_path / "piano.wav")
    assert exported.shape == expected.shape  # the same audio up to the export's one gain (and 16-bit rounding)
    assert np.corrcoef(exported.ravel(), expected.ravel())[0, 1] > 0.9999
    assert "Solo piano" in transport.status.text()


def test_an_edit_while_playing_carries_on_from_there_with_the_new_velocities(window, qtbot):
    window.open_path(DEMO)  # 66 bpm, flat velocity 80
    port = FakePort()
    window.transport.ensure_output(PortOutput(port))
    window.transport.toggle_play()
    qtbot.waitUntil(lambda: window.transport.player.position() > 0.5, timeout=5_000)
    n, doc, player = window.doc.notes, window.doc, window.transport.player
    ahead = np.flatnonzero(n.start > 2 * 480)[:8]  # from the third beat on: not played yet
    before = len(port.log)
    doc.set_velocities(ahead, np.full(len(ahead), 23))  # what a velocity drag does, one undo step
    assert window.transport.player is player and player.playing  # only velocities: swapped in, no stop
    assert not any(m.type == "control_change" and m.control == 123 for _, m in port.log[before:])
    import gc

    assert gc.get_freeze_count() > 0  # the open file is set aside from full collections: no GC pauses
    doc.move_notes(ahead[:1], 0, 12)  # other notes: built in the background, then on from where it is
    assert window.transport.player is player and player.playing  # nothing waits for the build
    moved = len(port.log)
    qtbot.waitUntil(lambda: window.transport.player is not player, timeout=5_000)
    player = window.transport.player
    assert not any(m.type == "control_change" and m.control == 123 for _, m in port.log[moved:])  # rings on
    assert player.playing and 0.5 < player.position() < 2.5  # carried on from where it was, not from 0
    at = float(window.doc.midi.tempo_map.seconds(np.array(n.start[ahead[-1]])))
    qtbot.waitUntil(lambda: player.position() > at + 0.1, timeout=int(at * 1000) + 5_000)
    played = [m for _, m in port.log if m.type == "note_on" and m.velocity > 0]
    assert sum(m.velocity == 23 for m in played) == len(ahead)
    assert int(n.pitch[ahead[0]]) + 12 in [m.note for m in played if m.velocity == 23]  # moved, kept its velocity
    window.transport.toggle_play()  # pause, edit, play: on from the pause, not from the top
    paused_at = player.position()
    doc.set_velocities(ahead[:1], np.array([99]))
    window.transport.toggle_play()
    assert window.transport.player.position() >= paused_at - 0.01
    window.transport.stop()


def test_loudness_is_matched_again_a_moment_after_edits_while_playing(window, qtbot):
    window.open_path(DEMO)
    window.make_baseline()
    transport = window.transport
    transport.ensure_output(PortOutput(FakePort()))
    transport.toggle_play()  # matching is on: the gains are measured in the background
    qtbot.waitUntil(lambda: "baseline" in transport.gains, timeout=60_000)
    before = transport.gains["baseline"]
    quiet = np.full(len(window.doc.notes), 30, dtype=np.int16)
    window.doc.set_version_velocities(Version.BASELINE, quiet, "Quiet baseline")
    assert transport.gains["baseline"] == before and transport.player.gains_db["baseline"] == before  # no jump
    qtbot.waitUntil(lambda: transport.gains.get("baseline", before) > before + 6.0, timeout=60_000)
    assert transport.player.gains_db["baseline"] == transport.gains["baseline"]
    transport.stop()


def test_drawing_a_note_sounds_it_at_the_drawing_velocity(window):
    window.open_path(DEMO)
    port = FakePort()
    window.transport.ensure_output(PortOutput(port))
    window.draw_action.trigger()  # D
    view = window.view
    spot = view.point_at(100, 2 * 480)  # high above the prelude's notes: empty space
    drag(window.roll, spot, spot + QPointF(3 * view.px_per_tick * 120, 0), steps=3)
    assert _sounded(port) == [("note_on", 100, window.roll.draw_velocity), ("note_off", 100, 0)]
    assert 100 in window.doc.notes.pitch  # and it was drawn


def test_a_velocity_drag_is_heard_while_it_lasts_and_dropping_it_puts_the_velocities_back(window, qtbot):
    window.open_path(DEMO)  # flat velocity 80
    port = FakePort()
    transport = window.transport
    transport.ensure_output(PortOutput(port))
    transport.toggle_play()
    player = transport.player
    row = int(np.flatnonzero(window.doc.notes.start > 4 * 480)[0])  # ahead of the playhead
    lane, press = window.lane, window.lane.point_at(row)
    on = next(k for k in range(len(player.schedule)) if player.schedule.note_row[k] == row)
    qt_press(lane, press)
    qt_move(lane, window.lane.point_at(row, 30))
    assert player.schedule.message(on).velocity == 30 and window.doc.shown_velocities()[row] == 80  # heard only
    qt_move(lane, QPointF(-50, press.y()))  # dragged off every bar
    qt_release(lane, QPointF(-50, press.y()))
    assert player.schedule.message(on).velocity == 80  # dropped: the document's velocity again
    qt_press(lane, press)
    qt_move(lane, window.lane.point_at(row, 110))
    qt_release(lane, window.lane.point_at(row, 110))
    assert window.doc.shown_velocities()[row] == 110 and transport.player is player and player.playing
    assert player.schedule.message(on).velocity == 110
    qtbot.waitUntil(lambda: any(m.type == "note_on" and m.velocity == 110 for _, m in port.log), timeout=8_000)
    transport.stop()


@pytest.mark.parametrize(("raised", "said"), [
    (RenderTooLong("the piece lasts 2 h 30 min"), "Audio export failed: the piece lasts 2 h 30 min"),
    (Cancelled(), "Audio export cancelled: nothing was written."),
])
def test_an_audio_export_that_fails_or_is_cancelled_closes_its_progress_and_says_so(window, qtbot, monkeypatch,
                                                                                      tmp_path, raised, said):
    def export_wavs(*args, **kwargs):
        raise raised

    monkeypatch.setattr("app.ui.transport.export_wavs", export_wavs)
    window.open_path(DEMO)
    done = []
    window.transport.export_audio(tmp_path / "piece.wav", [Version.ORIGINAL], False, done.append)
    qtbot.waitUntil(lambda: said in window.transport.status.text(), timeout=10_000)
    assert not [d for d in window.findChildren(QProgressDialog) if d.isVisible()] and not done
