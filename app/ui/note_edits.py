"""The Edit menu's note and velocity commands: clipboard, selection stepping, nudges and velocity dialogs.

Each edit goes through the document, which makes it one undo step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QByteArray, QMimeData, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog

from app.core.clip_transfer import CLIP_MIME, clip_from_bytes, clip_to_bytes
from app.core.editor import NoteClip
from app.ui.velocity_dialogs import FitRangeDialog, ScaleVelocitiesDialog, VoicingDialog

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


class NoteEdits:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.clipboard: NoteClip | None = None  # copied notes; kept when another file opens
        self.published = b""  # the same, as put on the desktop's clipboard
        self.step_release = QTimer(window, singleShot=True, interval=250)  # ends the sound of a stepped-to note
        self.step_release.timeout.connect(window.roll.audition_released.emit)

    def _say(self, text: str, ms: int = 4000) -> None:
        self.window.statusBar().showMessage(text, ms)

    def select_all(self) -> None:
        doc = self.window.doc
        doc.set_selection(doc.piano_mask)

    def delete_selection(self) -> None:
        doc = self.window.doc
        rows = np.flatnonzero(doc.selection)
        if len(rows):
            doc.delete_notes(rows)

    def copy_selection(self) -> bool:
        clip = self.window.doc.copy_notes(np.flatnonzero(self.window.doc.selection))
        if clip is None:
            self._say("Select the notes to copy first")
            return False
        self.clipboard = clip
        self.published = clip_to_bytes(clip)
        data = QMimeData()  # the clipboard takes it over
        data.setData(CLIP_MIME, QByteArray(self.published))
        QGuiApplication.clipboard().setMimeData(data)
        self._say(f"Copied {len(clip.notes)} notes", 3000)
        return True

    def clip_to_paste(self) -> NoteClip | None:
        """What a paste inserts: notes that another window (this program's, in another process) has put on the
        desktop's clipboard since this one copied, else this window's own last copy, which keeps each note's
        track and channel when pasted back into the file it came from. ValueError for notes on the clipboard
        that cannot be read."""
        offered = QGuiApplication.clipboard().mimeData()
        if offered is None or not offered.hasFormat(CLIP_MIME):
            return self.clipboard
        data = bytes(offered.data(CLIP_MIME).data())
        return self.clipboard if data == self.published else clip_from_bytes(data)

    def cut_selection(self) -> None:
        if self.copy_selection():
            doc = self.window.doc
            doc.delete_notes(np.flatnonzero(doc.selection), "Cut notes")

    def paste(self) -> None:
        """The copied notes, first onset at the playhead (or, before playing, at the left of the view), snapped."""
        try:
            clip = self.clip_to_paste()
        except ValueError as exc:
            self._say(f"The notes on the clipboard cannot be pasted: {exc}", 8000)
            return
        if clip is None:
            self._say("Nothing to paste: copy or cut notes first")
            return
        w = self.window
        tick = w.roll.playhead_tick if w.roll.playhead_tick is not None else w.view.left_tick
        try:
            w.doc.paste_notes(clip, w.view.snap(tick) if w.view.snap_beats else round(tick))
        except ValueError as exc:
            w.show_error("Cannot paste", str(exc))

    def duplicate_selection(self) -> None:
        """The selected notes again, right after themselves (on the snap grid): one undo step."""
        doc = self.window.doc
        rows = np.flatnonzero(doc.selection)
        clip = doc.copy_notes(rows)
        if clip is None:
            self._say("Select the notes to duplicate first")
            return
        step = self.window.view.snap_ticks
        doc.paste_notes(clip, int(doc.notes.start[rows].min()) + -(-clip.length // step) * step)

    def _edit_targets(self, verb: str) -> tuple[np.ndarray, str]:
        """The piano notes a velocity edit applies to (the selected ones, else all) and how a dialog names them;
        no rows (and a status message) when there are none."""
        doc = self.window.doc
        piano = doc.piano_mask
        chosen = piano & doc.selection
        rows = np.flatnonzero(chosen if chosen.any() else piano)
        if not len(rows):
            self._say(f"No piano notes to {verb}.")
        which = f"the {len(rows)} selected piano notes" if chosen.any() else f"all {len(rows)} piano notes"
        return rows, f"{which} of the {doc.version.label} version"

    def _velocity_dialog(self, verb: str, make: Callable[[np.ndarray, str], QDialog],
                         apply: Callable[[np.ndarray, Any], None]) -> None:
        """``make(rows, which)`` a dialog for the selected piano notes (else all); when accepted, ``apply``."""
        rows, which = self._edit_targets(verb)
        if not len(rows):
            return
        dialog = make(rows, which)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            apply(rows, dialog)

    def scale_velocities_dialog(self) -> None:
        """Widen/narrow the shown version's dynamics and shift its level, evenly or as a crescendo."""
        w = self.window
        self._velocity_dialog("scale", lambda rows, which: ScaleVelocitiesDialog(which, w),
                              lambda rows, d: w.doc.scale_velocities(rows, d.range_factor, d.offset.value(),
                                                                     d.end_offset.value()))

    def fit_range_dialog(self) -> None:
        """Map the shown version's velocities onto a chosen range."""
        w = self.window

        def make(rows: np.ndarray, which: str) -> QDialog:
            now = w.doc.shown_velocities()[rows]
            return FitRangeDialog(which, (int(now.min()), int(now.max())), w)

        self._velocity_dialog("fit", make, lambda rows, d: w.doc.fit_velocities(rows, d.low.value(), d.high.value()))

    def voicing_dialog(self) -> None:
        """Play out the top voice over the rest, by amounts chosen."""
        w = self.window
        self._velocity_dialog("voice", lambda rows, which: VoicingDialog(which, w),
                              lambda rows, d: w.doc.voice_velocities(rows, d.top.value(), d.others.value()))

    def select_neighbour(self, step: int, sound: bool = True) -> None:
        """Step through the piano notes from the keyboard (then Ctrl+Up/Down sets how loud each is): the note
        is brought into view and (with ``sound``) sounds briefly."""
        w = self.window
        row = w.doc.select_neighbour(step, from_tick=w.view.tick_at(0))
        if row is None:
            return
        n, v, roll = w.doc.notes, w.view, w.roll
        v.keep_in_view(float(n.start[row]), roll.width())
        if not 0 <= v.y_of(float(n.pitch[row])) <= roll.height() - v.key_height:
            v.scroll_to(top_pitch=float(n.pitch[row]) + roll.height() / v.key_height / 2)
        if sound:
            self.sound_briefly(row)

    def sound_briefly(self, row: int) -> None:
        """Note ``row`` at its shown velocity, for a moment."""
        self.window.roll.audition(row)
        self.step_release.start()  # one pending release, owned by the window: it goes with it

    def nudge_velocities(self, delta: int) -> None:
        """The selected piano notes of the shown version louder or softer by ``delta``."""
        doc = self.window.doc
        rows = np.flatnonzero(doc.piano_mask & doc.selection)
        if not len(rows):
            self._say("Select the piano notes to make louder or softer first")
            return
        doc.nudge_velocities(rows, delta)
