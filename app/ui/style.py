"""Colours shared by the painted views, and the readout they show beside the pointer while dragging."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QLineF, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

BACKGROUND = QColor("#1e2126")
WHITE_ROW = QColor("#262a30")
BLACK_ROW = QColor("#1f2227")
BEAT_LINE = QColor("#30353d")
BAR_LINE = QColor("#4a515c")
DIMMED_NOTE = QColor(120, 125, 135, 70)
SELECTED_OUTLINE = QColor("#ffffff")
PLAYHEAD = QColor("#ff5a5f")
HINT_TEXT = QColor("#8b93a1")
NUMBER_ON_LIGHT = QColor(20, 22, 26, 220)  # a velocity written on a note: on amber and green notes
NUMBER_ON_DARK = QColor(235, 238, 242, 230)  # on blue (soft) ones
CURVE = QColor(255, 255, 255, 190)  # the shown version's phrase-level dynamics in the velocity lane
PEDAL = QColor("#6f86b8")  # the sustain pedal's strip in the velocity lane
MARKER = QColor("#b49be0")  # a marker's flag on the ruler
MARKER_LINE = QColor(180, 155, 224, 120)  # its dashed line down the roll
MARKER_TEXT = QColor("#e4dcf5")
MARKER_STRIP = QColor("#25282d")  # behind the markers, a shade darker than the ruler
VERSION_COLOURS = {"original": QColor("#9aa5b1"), "baseline": QColor("#e0b341"), "stylised": QColor("#e0577a")}
BLACK_KEYS = {1, 3, 6, 8, 10}

_STOPS = [(0, QColor("#2b4a8b")), (64, QColor("#3fa37c")), (96, QColor("#e8b23a")), (127, QColor("#e5484d"))]
VELOCITY_COLOURS = []
for _v in range(128):
    for (v0, c0), (v1, c1) in itertools.pairwise(_STOPS):
        if v0 <= _v <= v1:
            t = (_v - v0) / (v1 - v0)
            VELOCITY_COLOURS.append(QColor(int(c0.red() + t * (c1.red() - c0.red())),
                                           int(c0.green() + t * (c1.green() - c0.green())),
                                           int(c0.blue() + t * (c1.blue() - c0.blue()))))
            break


def velocity_colour(velocity: int) -> QColor:
    """Soft blue through green and amber to loud red."""
    return VELOCITY_COLOURS[max(0, min(127, int(velocity)))]


def is_black(pitch: int) -> bool:
    return pitch % 12 in BLACK_KEYS


def draw_marker_lines(painter: QPainter, xs: list[float], width: int, height: int) -> None:
    """A dashed line down the view at each marker's ``xs`` that is in view: where the ruler's sections begin,
    behind the notes (roll) and bars (velocity lane)."""
    marks = [x for x in xs if 0 <= x <= width]
    if marks:
        painter.setPen(QPen(MARKER_LINE, 1, Qt.PenStyle.DashLine))
        painter.drawLines([QLineF(x, 0, x, height) for x in marks])


def draw_readout(painter: QPainter, text: str, pointer: QPointF, width: int) -> None:
    """``text`` just above and right of ``pointer`` (kept inside ``width``), on a dark box so that what is
    beneath does not hide it: what a drag in progress would make."""
    box = painter.fontMetrics().boundingRect(text).adjusted(-4, -2, 4, 2)
    box.moveTopLeft(QPointF(min(pointer.x() + 14, width - box.width() - 2),
                            max(pointer.y() - box.height() - 8, 2.0)).toPoint())
    painter.fillRect(box, BACKGROUND)
    painter.setPen(SELECTED_OUTLINE)
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
