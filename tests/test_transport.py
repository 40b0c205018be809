"""The transport in the window: graceful without audio, A/B/C switching on a fake port, seek, audio export."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import DEMO
from PySide6.QtCore import QPointF
from qt_helpers import click
from test_playback import FakePort, read_wav

from app.core.editor import Version
from app.playback.outputs import PlaybackUnavailable, PortOutput
from app.playback.render import loudness_db
from app.playback.versions import PEAK_CEILING_DB


def test_no_audio_device_says_why_where_it_is_seen_and_editing_goes_on(window, monkeypatch):
    def no_sound_card(soundfont=None):
        raise PlaybackUnavailable("no audio device could be opened for FluidSynth")

    monkeypatch.setattr("app.ui.transport.FluidSynthOutput", no_sound_card)
    window.open_path(DEMO)
    window.transport.output_box.setCurrentIndex(window.transport.output_box.findData("fluidsynth"))
    window.transport.toggle_play()
    assert window.transport.player is None and "Cannot play" in window.transport.status.text()
    status = window.transport.status  # in the status bar, which a narrow window does not fold away
    assert status.parent() is window.statusBar() and status.isVisible() and "no audio device" in status.text()
    window.make_baseline()
    assert window.doc.version is Version.BASELINE


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
    window.transport.choose_port()
    assert "unavailable here" in window.transport.status.text()
    monkeypatch.setattr("mido.get_output_names", lambda: ["Synth A", "DAW in"])
    monkeypatch.setattr("app.ui.transport.QInputDialog.getItem", lambda *a: ("DAW in", True))
    window.transport.choose_port()
    assert window.settings.get("midi_port") == "DAW in"
    assert window.transport.output_box.currentData() == "port"
