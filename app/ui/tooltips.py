"""Tooltips of the painted views: the note under the pointer (roll, velocity lane), a marker (ruler)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPointF
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QToolTip, QWidget

from app.ui.errors import reports_errors


@reports_errors
class Tooltips(QObject):
    """Answers a view's tooltip requests with ``text_at`` the pointer, or none.

    An event filter, not an ``event()`` override: with an override every paint and mouse handler of the
    view runs inside a Python call (``super().event``), and there an exception raised by C code (numpy's
    IndexError, ``int("x")``) crashes PySide 6.10-6.12 with a segmentation fault instead of being reported.
    """

    def __init__(self, view: QWidget, text_at: Callable[[QPointF], str | None]) -> None:
        super().__init__(view)
        self.view, self.text_at = view, text_at
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.view or event.type() != QEvent.Type.ToolTip or not isinstance(event, QHelpEvent):
            return False
        text = self.text_at(QPointF(event.pos()))
        if text is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPos(), text, self.view)
        return True


def note_tooltips(view: QWidget, row_at: Callable[[QPointF], int | None]) -> Tooltips:
    """The note under the pointer (``row_at``), described by the view's document; none in a blind test."""
    def text_at(pos: QPointF) -> str | None:
        row = None if getattr(view, "blind", False) else row_at(pos)
        return None if row is None else view.doc.describe_note(row)  # type: ignore[attr-defined]

    return Tooltips(view, text_at)
