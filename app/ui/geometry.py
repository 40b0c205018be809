"""One scroll/zoom state shared by the keyboard, ruler, piano roll and velocity lane.

Geometry has an inverse (``tick_at``/``pitch_at`` for ``x_of``/``y_of``) and
``point_at(pitch, tick)`` so tests can click on real notes.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
from PySide6.QtCore import QObject, QPointF, Signal

LOWEST, HIGHEST = 0, 127  # MIDI pitches the roll can show
Num = TypeVar("Num", float, np.ndarray)  # scalar or vectorised mapping
SNAP_CHOICES = {"1/4": 1.0, "1/8": 0.5, "1/16": 0.25, "1/32": 0.125, "Off": 0.0}  # in beats


def bar_group(bar_px: float, min_px: float) -> int:
    """How many bars apart to mark bars that are ``bar_px`` wide so the marks are ``min_px`` apart or more:
    1, 2, 4, 8... bars, so marks fall on bars 1, 5, 9 or 1, 9, 17, the 4- and 8-bar phrases a musician counts
    in (never every 7th bar)."""
    every = 1
    while every * bar_px < min_px and every < 1 << 20:
        every *= 2
    return every


class ViewState(QObject):
    """Horizontal: ``left_tick`` at x=0, ``px_per_tick``. Vertical: ``top_pitch`` row at y=0, ``key_height``."""

    changed = Signal()

    def __init__(self, ticks_per_beat: int = 480) -> None:
        super().__init__()
        self.ticks_per_beat = ticks_per_beat
        self.px_per_tick = 40.0 / ticks_per_beat  # 40 px per beat
        self.left_tick = 0.0
        self.key_height = 10.0
        self.top_pitch = 96.0  # fractional: scrolls smoothly
        self.snap_beats = 0.25

    # -- mapping -------------------------------------------------------------
    def x_of(self, tick: Num) -> Num:
        return (tick - self.left_tick) * self.px_per_tick

    def tick_at(self, x: Num) -> Num:
        return self.left_tick + x / self.px_per_tick

    def y_of(self, pitch: float) -> float:
        """Top edge of the row of ``pitch``."""
        return (self.top_pitch - pitch) * self.key_height

    def pitch_at(self, y: float) -> int:
        return math.ceil(self.top_pitch - y / self.key_height)

    def point_at(self, pitch: int, tick: float) -> QPointF:
        """Centre of ``pitch``'s row at ``tick``: where to click to hit that note."""
        return QPointF(self.x_of(tick), self.y_of(pitch) + self.key_height / 2)

    def snap(self, tick: float) -> int:
        step = self.snap_beats * self.ticks_per_beat
        return int(round(tick / step) * step) if step > 0 else round(tick)

    @property
    def snap_ticks(self) -> int:
        return max(1, int(self.snap_beats * self.ticks_per_beat)) if self.snap_beats else 1

    # -- changes ---------------------------------------------------------------
    def scroll_to(self, left_tick: float | None = None, top_pitch: float | None = None) -> None:
        if left_tick is not None:
            self.left_tick = max(0.0, left_tick)
        if top_pitch is not None:
            self.top_pitch = min(float(HIGHEST), max(float(LOWEST), top_pitch))
        self.changed.emit()

    def keep_in_view(self, tick: float, width: float) -> None:
        """Scroll so that ``tick`` sits a tenth of ``width`` from the left when it is off screen or in the last
        tenth (the playhead, a note stepped to): what comes after it stays in sight."""
        if not 0 <= self.x_of(tick) <= width * 0.9:
            self.scroll_to(left_tick=tick - 0.1 * width / self.px_per_tick)

    def zoom_x(self, factor: float, anchor_x: float = 0.0) -> None:
        anchor = self.tick_at(anchor_x)
        self.px_per_tick = min(4.0, max(0.2 / self.ticks_per_beat, self.px_per_tick * factor))
        self.left_tick = max(0.0, anchor - anchor_x / self.px_per_tick)
        self.changed.emit()

    def zoom_y(self, factor: float, anchor_y: float = 0.0) -> None:
        anchor = self.top_pitch - anchor_y / self.key_height
        self.key_height = min(40.0, max(3.0, self.key_height * factor))
        self.top_pitch = min(float(HIGHEST), anchor + anchor_y / self.key_height)
        self.changed.emit()

    def fit(self, first_tick: int, last_tick: int, low: int, high: int, width: float, height: float) -> None:
        """Show ticks ``first..last`` and pitches ``low..high`` in a ``width`` x ``height`` area."""
        span = max(last_tick - first_tick, self.ticks_per_beat)
        self.px_per_tick = max(width, 50.0) / (span * 1.02)
        self.left_tick = float(first_tick)
        rows = max(high - low + 3, 12)
        self.key_height = min(40.0, max(3.0, height / rows))
        self.top_pitch = min(float(HIGHEST), high + 1.5)
        self.changed.emit()

    def set_snap(self, beats: float) -> None:
        self.snap_beats = beats
        self.changed.emit()
