"""Edit ▸ Markers: add a marker at the playhead, rename or delete the one naming the section it is in, select or
loop that section's notes, step from marker to marker; and what the ruler (double-click, right-click) and the
Markers panel ask for. Each edit is one undo step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu

from app.core import markers as marker_edits
from app.core.markers import LONGEST, Marker

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


class MarkerCommands:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        ruler = window.ruler
        ruler.add_marker_requested.connect(self.add)
        ruler.rename_marker_requested.connect(self.rename)
        ruler.delete_marker_requested.connect(self.delete)
        ruler.select_section_requested.connect(self.select_section)
        ruler.loop_section_requested.connect(self.loop_section)
        panel = window.markers_panel
        panel.seek_requested.connect(lambda tick: window.transport.seek_tick(tick))
        panel.rename_requested.connect(self.rename_to)
        panel.delete_requested.connect(self.delete)
        panel.select_section_requested.connect(self.select_section)
        panel.loop_section_requested.connect(self.loop_section)

    def add_to(self, menu: QMenu) -> None:
        w = self.window
        w._action(menu, "&Add Marker at Playhead", self.add_at_playhead, "M")
        w._action(menu, "&Rename Marker…", lambda: self._on_current(self.rename), "Shift+M")
        w._action(menu, "&Delete Marker", lambda: self._on_current(self.delete))
        w._action(menu, "&Select Section's Notes", lambda: self.select_section(self._playhead()), "Ctrl+Shift+M")
        w._action(menu, "&Loop Section", lambda: self.loop_section(self._playhead()))
        menu.addSeparator()
        w._action(menu, "Go to &Previous Marker", lambda: w.transport.seek_marker(-1), QKeySequence("["))
        w._action(menu, "Go to &Next Marker", lambda: w.transport.seek_marker(1), QKeySequence("]"))

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 5000)

    def _playhead(self) -> float:
        return self.window.roll.playhead_tick or 0.0

    def current(self) -> Marker | None:
        """The marker naming the section the playhead is in: the last one at or before it."""
        span = marker_edits.section(self.window.doc.markers, self._playhead())
        return None if span is None else span[0]

    def _on_current(self, edit: Callable[[int], None]) -> None:
        marker = self.current()
        if marker is None:
            self._say("No marker at or before the playhead.")
        else:
            edit(marker.tick)

    def add_at_playhead(self) -> None:
        """A marker at the playhead, on the snap grid (tapped in while the song plays, it lands on the beat)."""
        self.add(max(0, self.window.view.snap(self._playhead())))

    def add(self, tick: int) -> None:
        doc = self.window.doc
        marker = doc.add_marker(tick)
        self._say(f"Marker “{marker.text}” at {doc.bar_and_beat(tick)}: double-click its name to rename it.")

    def rename(self, tick: int) -> None:
        doc = self.window.doc
        marker = doc.marker_at(tick)
        if marker is None:
            return
        label = f"Name of the marker at {doc.bar_and_beat(tick)}:"
        text, ok = QInputDialog.getText(self.window, "Rename Marker", label, QLineEdit.EchoMode.Normal, marker.text)
        if ok:
            self.rename_to(tick, text)

    def rename_to(self, tick: int, text: str) -> None:
        """Name the marker at ``tick`` ``text`` (typed in a dialog or in the Markers panel); one undo step."""
        doc = self.window.doc
        marker = doc.marker_at(tick)
        if marker is not None and not doc.rename_marker(tick, text):
            self._say(f"A marker needs a name (up to {LONGEST} characters): “{marker.text}” was kept.")
        self.window.markers_panel.show_markers(doc, force=True)  # shows the name as kept, trimmed or refused

    def delete(self, tick: int) -> None:
        doc = self.window.doc
        marker = doc.marker_at(tick)
        if marker is not None:
            doc.delete_marker(tick)
            self._say(f"Deleted marker “{marker.text}” (Ctrl+Z brings it back).")

    def loop_section(self, tick: float) -> None:
        """Select the section's notes and loop them (the transport's Loop selection), to hear it over and over
        while its dynamics are shaped."""
        if self.select_section(tick):
            self.window.transport.loop_action.setChecked(True)

    def select_section(self, tick: float) -> bool:
        """Select the piano notes of the section ``tick`` is in (its marker to the next), so that Loop selection
        plays it and Humanise (only selected notes), Scale Velocities or a phrase drag shape just that part;
        False (said why) where there is no such section or no piano note in it."""
        doc = self.window.doc
        found = doc.section_notes(tick)
        if found is None:
            self._say("No marker at or before the playhead: add one with M.")
            return False
        marker, stop, chosen = found
        until = doc.bar_and_beat(stop) if stop is not None else "the end"
        where = f"“{marker.text}” ({doc.bar_and_beat(marker.tick)} to {until})"
        if not chosen.any():
            self._say(f"No piano notes start in {where}.")
            return False
        doc.set_selection(chosen)
        self._say(f"Selected the {int(chosen.sum())} piano notes of {where}.")
        return True
