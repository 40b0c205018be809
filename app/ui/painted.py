"""The base of the custom-painted views (roll, keyboard, ruler, lane grip, velocity lane)."""

from __future__ import annotations

from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from app.ui.errors import reports_errors


@reports_errors
class PaintedView(QWidget):
    """A view that draws itself in :meth:`_paint`. The painter is ended even when drawing raises (Qt crashes
    at exit on a painter left active), and the error is reported, not raised into Qt."""

    def paintEvent(self, event: QPaintEvent) -> None:
        with QPainter(self) as p:
            self._paint(p)

    def _paint(self, p: QPainter) -> None:
        raise NotImplementedError
