"""The Markers panel: the song's markers as a list (where, name), as a DAW's marker list.

A click on a row moves the playhead to the marker; a double-click on a name (or F2) edits it in place; Delete
removes the marker of the current row; the right-click menu also selects or loops its section. The section the
playhead is in is shown in bold and kept in view. The panel only asks: the window's marker commands make each
edit, one undo step, and the panel is refilled from the document.
"""

from __future__ import annotations

import textwrap

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QMenu, QTreeWidget, QTreeWidgetItem, QWidget

from app.core.editor import EditorDocument, clock
from app.core.markers import Markers
from app.ui.errors import reports_errors

WHERE, NAME = 0, 1  # columns
EMPTY_TEXT = "No markers yet: M adds one at the playhead."
DELETE_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)


@reports_errors
class MarkersPanel(QTreeWidget):
    seek_requested = Signal(float)  # the marker's tick
    rename_requested = Signal(int, str)  # the marker's tick, the name typed
    delete_requested = Signal(int)
    select_section_requested = Signal(int)  # the marker's tick
    loop_section_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Where", "Marker"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setWordWrap(False)  # a long teacher's note is elided; its tooltip has all of it
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.itemClicked.connect(self._go)
        self.itemActivated.connect(self._go)  # Enter
        self.itemChanged.connect(self._edited)
        self._shown: tuple[EditorDocument, Markers] | None = None
        self._filling = False
        self._playing = -1  # the row in bold
        self._playhead = 0.0  # the tick it is bold for

    # -- showing ------------------------------------------------------------------------
    def show_markers(self, doc: EditorDocument, force: bool = False) -> None:
        """Refill the list where the document or its markers changed (or ``force``: after an edit was refused)."""
        if not force and self._shown is not None and self._shown[0] is doc and self._shown[1] is doc.markers:
            return
        self._shown, self._playing = (doc, doc.markers), -1
        scrolled = self.verticalScrollBar().value()  # an edit far down the list leaves it where it was
        self._filling = True
        self.clear()
        seconds = doc.midi.tempo_map.seconds(np.array([m.tick for m in doc.markers], dtype=float))
        for marker, at in zip(doc.markers, seconds):
            item = QTreeWidgetItem([f"{doc.bar_and_beat(marker.tick)}  {clock(float(at))}", marker.text])
            item.setData(WHERE, Qt.ItemDataRole.UserRole, marker.tick)
            item.setToolTip(NAME, textwrap.fill(marker.text, 80))  # as the ruler's: not a screen wide
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.addTopLevelItem(item)
        if not doc.markers:
            hint = QTreeWidgetItem(["", EMPTY_TEXT])
            hint.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addTopLevelItem(hint)
        self._filling = False
        self.resizeColumnToContents(WHERE)
        self.verticalScrollBar().setValue(scrolled)
        self.show_playhead(self._playhead, follow=False)  # still bold after an edit, playing or not

    def show_playhead(self, tick: float, follow: bool = True) -> None:
        """Bold the row of the section ``tick`` is in (the last marker at or before it), scrolled into view
        with ``follow``."""
        markers = self._shown[1] if self._shown is not None else ()
        self._playhead = tick
        playing = sum(1 for m in markers if m.tick <= tick) - 1
        if playing == self._playing:
            return
        self._filling = True  # a font is not an edit
        for row, bold in ((self._playing, False), (playing, True)):
            item = self.topLevelItem(row) if 0 <= row < len(markers) else None
            if item is not None:
                for column in (WHERE, NAME):
                    font = item.font(column)
                    font.setBold(bold)
                    item.setFont(column, font)
        self._filling = False
        self._playing = playing
        self.resizeColumnToContents(WHERE)  # bold is wider: its time would be cut short
        now = self.topLevelItem(playing) if 0 <= playing < len(markers) else None
        if now is not None and follow:  # followed while the song plays, as the roll follows the playhead
            self.scrollToItem(now, QAbstractItemView.ScrollHint.EnsureVisible)

    @staticmethod
    def tick_of(item: QTreeWidgetItem) -> int | None:
        tick = item.data(WHERE, Qt.ItemDataRole.UserRole)
        return None if tick is None else int(tick)

    # -- asking ---------------------------------------------------------------------------
    def _go(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        tick = self.tick_of(item)
        if tick is not None:
            self.seek_requested.emit(float(tick))

    def _edited(self, item: QTreeWidgetItem, column: int) -> None:
        tick = self.tick_of(item)
        if self._filling or column != NAME or tick is None:
            return
        typed = item.text(NAME)  # asked once the view has finished committing the edit: the answer refills the list
        QTimer.singleShot(0, lambda: self.rename_requested.emit(tick, typed))

    def context_menu(self, item: QTreeWidgetItem) -> QMenu | None:
        """What the ruler's menu offers for a marker, for the marker of ``item`` (None: the empty list's hint)."""
        tick = self.tick_of(item)
        if tick is None:
            return None
        menu = QMenu(self)
        menu.addAction("Rename Marker", lambda: self.editItem(item, NAME))
        menu.addAction("Delete Marker", lambda: self.delete_requested.emit(tick))
        menu.addAction("Select Section's Notes", lambda: self.select_section_requested.emit(tick))
        menu.addAction("Loop Section", lambda: self.loop_section_requested.emit(tick))
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.itemAt(event.pos())
        menu = self.context_menu(item) if item is not None else None
        if menu is not None:
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(event.globalPos())  # not exec(): no nested event loop while the song plays

    def event(self, event: QEvent) -> bool:
        # Delete here removes a marker, not the selected notes (the window's Delete shortcut)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.key() in DELETE_KEYS and self.state() != QAbstractItemView.State.EditingState:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        item = self.currentItem()
        tick = self.tick_of(item) if item is not None else None
        if event.key() in DELETE_KEYS and tick is not None:
            self.delete_requested.emit(tick)
        else:
            super().keyPressEvent(event)
