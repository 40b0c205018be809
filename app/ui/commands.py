"""Undo steps: every edit of the document is one :class:`StateCommand` on the window's ``QUndoStack``."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from app.core.editor import EditorDocument, EditorState
from app.ui.errors import reported
from app.ui.midi_input import PLAYED_ALONG

MERGING_ID = 1
MERGING = {PLAYED_ALONG}  # edits whose consecutive steps make one undo step


class StateCommand(QUndoCommand):
    """One undo step: swap the document between two immutable states. Edits named in :data:`MERGING` join the
    step before them when it has the same name (e.g. every key of one play-along take is one step)."""

    def __init__(self, doc: EditorDocument, text: str, before: EditorState, after: EditorState) -> None:
        super().__init__(text)
        self.doc, self.before, self.after = doc, before, after

    @reported  # pushed from Python: an error escaping into Qt here would crash the editor
    def redo(self) -> None:
        self.doc.restore(self.after)

    @reported
    def undo(self) -> None:
        self.doc.restore(self.before)

    def id(self) -> int:
        return MERGING_ID if self.text() in MERGING else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, StateCommand) or other.text() != self.text():
            return False
        self.after = other.after  # one step from before the first edit to after the last
        return True
