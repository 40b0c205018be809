"""Real mouse gestures for widget tests (press, moves with the button held, release)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


def _send(widget: QWidget, kind: QEvent.Type, pos: QPointF, buttons, modifiers=NONE) -> None:
    button = LEFT if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def click(widget: QWidget, pos: QPointF, modifiers=NONE) -> None:
    _send(widget, QEvent.Type.MouseButtonPress, pos, LEFT, modifiers)
    _send(widget, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton, modifiers)


def drag(widget: QWidget, start: QPointF, end: QPointF, steps: int = 6, modifiers=NONE) -> None:
    _send(widget, QEvent.Type.MouseButtonPress, start, LEFT, modifiers)
    for k in range(1, steps + 1):
        t = k / steps
        _send(widget, QEvent.Type.MouseMove, start + (end - start) * t, LEFT, modifiers)
    _send(widget, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton, modifiers)


def press(widget: QWidget, pos: QPointF, modifiers=NONE) -> None:
    _send(widget, QEvent.Type.MouseButtonPress, pos, LEFT, modifiers)


def move(widget: QWidget, pos: QPointF) -> None:
    """A move with the left button held (between :func:`press` and :func:`release`)."""
    _send(widget, QEvent.Type.MouseMove, pos, LEFT)


def release(widget: QWidget, pos: QPointF) -> None:
    _send(widget, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton)


def paint_every_version(window) -> None:
    """Make the random baseline, then paint the window once in each version the document has."""
    window.make_baseline()
    for version in window.doc.available_versions():
        window.doc.set_version(version)
        assert not window.grab().isNull()
