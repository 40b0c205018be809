"""Edit ▸ Velocity ▸ Play Velocities on a MIDI Keyboard: set the dynamics note by note by playing them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog

from app.playback.inputs import KeyboardInput
from app.playback.outputs import PlaybackUnavailable

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


PLAYED_ALONG = "Velocities played along"  # the undo step of one play-along take (its keys merge into it)
PLAY_ALONG_WITHIN = 0.2  # s: a key played along counts for the note of its pitch this near (output latency)


class PlayedVelocities(QObject):
    """While on, each key struck on a MIDI keyboard sets velocities by how hard it was struck.

    Stopped, it gives the selected piano notes that velocity (one undo step), sounds them so and selects the
    next note: a melody's dynamics, note by note. While the song plays, it is matched to the note of its
    pitch played then (within :data:`PLAY_ALONG_WITHIN`), and a whole take is one undo step."""

    pressed = Signal(int, int)  # (note, velocity), emitted on the port's thread, handled on the main thread

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.keyboard: KeyboardInput | None = None
        self.action = QAction("Play Velocities on a MIDI &Keyboard", window, checkable=True)
        self.action.setToolTip("Each key you strike sets the selected note's velocity, then moves to the next note")
        self.action.toggled.connect(self._toggled)
        self.choose_action = QAction("Choose MIDI &Input Port…", window)
        self.choose_action.triggered.connect(self.choose_port)
        self.pressed.connect(self.press)  # queued: a slot of this main-thread object

    def _toggled(self, on: bool) -> None:
        w = self.window
        self.close()
        if not on:
            return
        try:
            self.keyboard = KeyboardInput.open(w.settings.get("midi_input") or None, self.pressed.emit)
        except PlaybackUnavailable as exc:
            self.action.setChecked(False)
            w.statusBar().showMessage(f"Cannot listen to a MIDI keyboard: {exc}", 10000)
            return
        w.statusBar().showMessage(f"Listening to {self.keyboard.name}: each key you strike sets the selected "
                                  "note's velocity and moves on to the next; while the song plays, play along.", 10000)

    def listen(self, keyboard: KeyboardInput) -> None:
        """Use ``keyboard`` (e.g. a test's, fed by hand) as if it had been opened."""
        self.close()
        self.keyboard = keyboard
        self.action.blockSignals(True)
        self.action.setChecked(True)
        self.action.blockSignals(False)

    def press(self, note: int, velocity: int) -> None:
        w, doc = self.window, self.window.doc
        if w.blind.test is not None:
            return  # editing waits until the blind test is over
        player = w.transport.player
        if player is not None and player.playing:
            row = doc.piano_note_near(note, player.position(), PLAY_ALONG_WITHIN)
            if row is not None:
                doc.set_velocities(np.array([row]), np.array([velocity]), PLAYED_ALONG)
            return
        rows = np.flatnonzero(doc.selection & doc.piano_mask)
        if not len(rows):
            w.statusBar().showMessage("Select a piano note first (Alt+Right selects the next one): each key you "
                                      "strike then sets its velocity.", 6000)
            return
        doc.set_velocities(rows, np.full(len(rows), velocity), f"Velocity {velocity} played")
        w.edits.sound_briefly(int(rows[0]))
        w.edits.select_neighbour(1, sound=False)

    def choose_port(self) -> None:
        w = self.window
        try:
            names = KeyboardInput.port_names()
        except PlaybackUnavailable as exc:
            w.statusBar().showMessage(f"Cannot choose a MIDI input: {exc}", 8000)
            return
        current = w.settings.get("midi_input")
        name, ok = QInputDialog.getItem(w, "MIDI input port", "Listen to:", names,
                                        names.index(current) if current in names else 0, False)
        if ok:
            w.settings.set("midi_input", name)
            if self.action.isChecked():
                self._toggled(True)  # listen to the new one

    def close(self) -> None:
        if self.keyboard is not None:
            self.keyboard.close()
            self.keyboard = None
