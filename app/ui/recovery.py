"""Keeps a recovery copy of unsaved work while editing, and offers back what a crashed editor left."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, QTimer
from PySide6.QtWidgets import QInputDialog, QMessageBox

from app.core.editor import EditorState, Version
from app.core.midi_document import MidiError
from app.core.recovery import RecoveredWork, RecoveryStore, discard, left_behind, restore

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

WRITE_DELAY_MS = 2000  # after an edit: a burst of edits is one write, and at most this much work is lost


def default_root() -> Path:
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / "recovery"


class RecoveryKeeper(QObject):
    """Writes ``store`` a while after each edit, clears it once nothing is unsaved."""

    def __init__(self, window: MainWindow, store: RecoveryStore) -> None:
        super().__init__(window)
        self.window, self.store = window, store
        self.written: EditorState | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(WRITE_DELAY_MS)
        self.timer.timeout.connect(self.write)
        self.warned = False

    def document_changed(self) -> None:
        doc = self.window.doc
        if not doc.modified:
            self.forget()
        elif doc.state is not self.written and not self.timer.isActive():
            self.timer.start()

    def write(self) -> None:
        doc = self.window.doc
        if not doc.modified:
            return
        try:
            self.store.write(doc)
            self.written = doc.state
        except (OSError, MidiError) as exc:
            if not self.warned:  # once per session: the editor goes on without a recovery copy
                self.warned = True
                self.window.statusBar().showMessage(f"Cannot keep a recovery copy of unsaved work: {exc}", 10000)

    def forget(self) -> None:
        self.timer.stop()
        self.written = None
        self.store.clear()

    # -- what an editor that crashed left ------------------------------------------------
    def left(self) -> list[RecoveredWork]:
        return left_behind(self.store.root)

    def offer_at_start(self) -> None:
        """Ask about work left by a crashed editor: restore it, discard it, or decide later (File menu)."""
        works = self.left()
        if not works:
            return
        listing = "\n".join(f"• {w.describe()}" for w in works)
        text = f"StyleNet Studio did not close properly and kept unsaved work:\n{listing}"
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved work?", text, parent=self.window)
        restore_button = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        discard_button = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is restore_button:
            self.restore_dialog()
        elif box.clickedButton() is discard_button:
            for work in works:
                discard(work)

    def restore_dialog(self) -> None:
        """File ▸ Restore Unsaved Work: pick one snapshot (if there are several) and open it."""
        works = self.left()
        if not works:
            self.window.statusBar().showMessage("There is no unsaved work from an earlier session.", 5000)
            return
        work = works[0]
        if len(works) > 1:
            labels = [w.describe() for w in works]
            choice, ok = QInputDialog.getItem(self.window, "Restore unsaved work", "Snapshot:", labels, 0, False)
            if not ok:
                return
            work = works[labels.index(choice)]
        self.restore(work)

    def restore(self, work: RecoveredWork) -> bool:
        window = self.window
        if not window.maybe_discard_changes():
            return False
        try:
            doc = restore(work)
        except MidiError as exc:
            window.show_error("Cannot restore", f"The unsaved work on {work.name} cannot be restored: {exc}")
            return False
        window.set_document(doc)
        if doc.state.stylised is not None:
            doc.set_version(Version.STYLISED)
        self.write()  # this editor's own copy first, then the old one can go
        discard(work)
        how = {Version.ORIGINAL: "save the score with Ctrl+S",
               Version.STYLISED: "export the Stylised version with Ctrl+E"}
        window.statusBar().showMessage(f"Restored the unsaved work on {work.name}: "
                                       + " and ".join(how[v] for v in doc.unsaved) + ".", 10000)
        return True
