"""The note tooltip shared by the piano roll and the velocity lane."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QToolTip, QWidget

from app.core.editor import EditorDocument


def show_note_tooltip(widget: QWidget, event: QEvent, doc: EditorDocument,
                      row_at: Callable[[QPointF], int | None]) -> bool:
    """Handle a tooltip request: describe the note ``row_at`` finds under the pointer (True: handled)."""
    if event.type() != QEvent.Type.ToolTip or not isinstance(event, QHelpEvent):
        return False
    row = None if getattr(widget, "blind", False) else row_at(QPointF(event.pos()))  # a blind test hides them
    if row is None:
        QToolTip.hideText()
    else:
        QToolTip.showText(event.globalPos(), doc.describe_note(row), widget)
    return True
