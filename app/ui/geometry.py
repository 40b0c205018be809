"""One scroll/zoom state shared by the keyboard, ruler, piano roll and velocity lane.

Geometry has an inverse (``tick_at``/``pitch_at`` for ``x_of``/``y_of``) and
``point_at(pitch, tick)`` so tests can click on real notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from PySide6.QtCore import QObject, QPointF, Signal

from app.core.timing import TempoMap

LOWEST, HIGHEST = 0, 127  # MIDI pitches the roll can show
Num = TypeVar("Num", float, np.ndarray)  # scalar or vectorised mapping
SNAP_CHOICES = {"1/4": 1.0, "1/8": 0.5, "1/16": 0.25, "1/32": 0.125, "Off": 0.0}  # in beats
TIME_STEPS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
TIME_LABEL_PX = 60.0  # the time ruler's labels (and the roll's strong lines) at least this far apart
TIME_MINOR_PX = 8.0  # its unlabelled ticks (and the roll's faint lines) at least this far apart


def bar_group(bar_px: float, min_px: float) -> int:
    """How many bars apart to mark bars that are ``bar_px`` wide so the marks are ``min_px`` apart or more:
    1, 2, 4, 8... bars, so marks fall on bars 1, 5, 9 or 1, 9, 17, the 4- and 8-bar phrases a musician counts
    in (never every 7th bar)."""
    every = 1
    while every * bar_px < min_px and every < 1 << 20:
        every *= 2
    return every


def time_marks(view: ViewState, tempo: TempoMap, width: float, spacing: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(step in seconds, (K,) x of each mark in view, (K,) its seconds) for the finest step of
    :data:`TIME_STEPS` whose marks are ``spacing`` px apart or more (tempo changes included)."""
    s0, s1 = tempo.seconds(np.array([max(0.0, view.left_tick), max(0.0, view.tick_at(width))]))
    for step in TIME_STEPS:
        last = step == TIME_STEPS[-1]  # however close its marks: a song of hours zoomed right out
        if (s1 - s0) / step > width / spacing + 2 and not last:
            continue  # closer on average than ``spacing``: not worth placing them
        seconds = np.arange(np.floor(s0 / step), np.ceil(s1 / step) + 1) * step
        xs = view.x_of(tempo.ticks(seconds))
        if last or len(seconds) < 2 or np.diff(xs).min() >= spacing:
            break
    return step, xs, seconds


@dataclass(frozen=True)
class TimeGrid:
    """Where the minutes-and-seconds grid falls in view: labelled marks every ``step`` seconds (``xs``, ``seconds``:
    (K,) each) and unlabelled ones between them (``minor_xs``, empty where none fit)."""

    step: float
    xs: np.ndarray
    seconds: np.ndarray
    minor_xs: np.ndarray


def time_grid(view: ViewState, tempo: TempoMap, width: float) -> TimeGrid:
    """The time grid the ruler labels and the roll lines: labels :data:`TIME_LABEL_PX` apart or more, minor marks
    :data:`TIME_MINOR_PX` apart or more at a step that divides the labels' (1 s between 5 s labels, not 2 s)."""
    step, xs, seconds = time_marks(view, tempo, width, TIME_LABEL_PX)
    minor_step, minor_xs, _ = time_marks(view, tempo, width, TIME_MINOR_PX)
    divides = minor_step < step and abs(step / minor_step - round(step / minor_step)) < 1e-6
    return TimeGrid(step, xs, seconds, minor_xs if divides else np.empty(0))


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
        self.time_grid = False  # ruler and roll in minutes and seconds instead of bars and beats

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

    def set_time_grid(self, on: bool) -> None:
        self.time_grid = on
        self.changed.emit()

    def set_snap(self, beats: float) -> None:
        self.snap_beats = beats
        self.changed.emit()
