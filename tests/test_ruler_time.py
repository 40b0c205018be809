"""The ruler in minutes and seconds (View ▸ Ruler in Minutes and Seconds): for performances recorded without a
musical grid, such as ASAP's at a default 120 bpm, whose bar numbers mean nothing."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEMO
from PySide6.QtGui import QAction, QColor

from app.ui import style
from app.ui.geometry import TIME_LABEL_PX, TIME_STEPS
from app.ui.ruler import BAR_STRIP, time_label


@pytest.fixture
def demo(window):  # 4/4, 66 bpm slowing at the end
    window.open_path(DEMO)
    return window


@pytest.mark.parametrize(("seconds", "step", "text"), [
    (0.0, 5.0, "0:00"), (65.0, 5.0, "1:05"), (65.5, 0.5, "1:05.5"), (3725.0, 300.0, "1:02:05"), (59.96, 1.0, "1:00")])
def test_time_ruler_labels(seconds, step, text):
    assert time_label(seconds, step) == text


def test_the_ruler_and_the_roll_count_minutes_and_seconds_for_a_performance_without_a_grid(demo, settings):
    ruler, roll, view = demo.ruler, demo.roll, demo.view
    switch = next(a for a in demo.findChildren(QAction) if a.text() == "&Ruler in Minutes and Seconds")
    demo.transport.seek_tick(480 * 5)
    assert demo.transport.position_label.text().startswith("2.2 · 0:04.5 / ")
    bars, bar_lines = ruler.grab().toImage(), roll.grab().toImage()
    switch.trigger()
    assert view.time_grid and settings.get("ruler_time")
    assert demo.transport.position_label.text().startswith("0:04.5 / ")  # no bar.beat: it means nothing here
    tempo = demo.doc.midi.tempo_map
    grid = ruler.time_grid()
    assert np.allclose(grid.xs, view.x_of(tempo.ticks(grid.seconds)))  # at their times, tempo included
    assert np.diff(grid.xs).min() >= TIME_LABEL_PX  # labels that do not crowd ...
    finer = TIME_STEPS[TIME_STEPS.index(grid.step) - 1]
    shown = np.arange(0, grid.seconds[-1], finer)
    assert np.diff(view.x_of(tempo.ticks(shown))).min() < TIME_LABEL_PX  # ... at the finest step that does not
    minor = np.diff(tempo.seconds(view.tick_at(grid.minor_xs)))  # ticks between, at a step dividing the labels'
    assert len(minor) and np.allclose(minor, minor[0]) and round(grid.step / minor[0], 6) % 1 == 0
    image, lines = ruler.grab().toImage(), roll.grab().toImage()
    assert image != bars and lines != bar_lines
    x = next(int(x) for x in grid.xs.tolist() if x > 10)
    assert image.pixelColor(x, BAR_STRIP - 2) == QColor("#c9ced6")  # a mark's line, at its time
    assert lines.pixelColor(x, 2) == style.BAR_LINE  # and the roll's strong line under it (top row: no notes)
    switch.trigger()
    assert not view.time_grid and ruler.grab().toImage() == bars and roll.grab().toImage() == bar_lines
    assert demo.transport.position_label.text().startswith("2.2 · 0:04.5 / ")
