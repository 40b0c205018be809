"""The note tooltip shared by the piano roll and the velocity lane."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPointF
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QToolTip, QWidget

from app.ui.errors import reports_errors


@reports_errors
class NoteTooltips(QObject):
    """Answers a view's tooltip requests with the note under the pointer (``row_at``) or none.

    An event filter, not an ``event()`` override: with an override every paint and mouse handler of the
    view runs inside a Python call (``super().event``), and there an exception raised by C code (numpy's
    IndexError, ``int("x")``) crashes PySide 6.10-6.12 with a segmentation fault instead of being reported.
    """

    def __init__(self, view: QWidget, row_at: Callable[[QPointF], int | None]) -> None:
        super().__init__(view)
        self.view, self.row_at = view, row_at
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.view or event.type() != QEvent.Type.ToolTip or not isinstance(event, QHelpEvent):
            return False
        view = self.view
        row = None if getattr(view, "blind", False) else self.row_at(QPointF(event.pos()))  # a blind test hides them
        if row is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPos(), view.doc.describe_note(row), view)  # type: ignore[attr-defined]
        return True
