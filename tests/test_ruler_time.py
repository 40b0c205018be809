"""The ruler in minutes and seconds (View ▸ Ruler in Minutes and Seconds): for performances recorded without a
musical grid, such as ASAP's at a default 120 bpm, whose bar numbers mean nothing."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEMO
from PySide6.QtGui import QAction, QColor

from app.ui.ruler import BAR_STRIP, TIME_STEPS, time_label


@pytest.fixture
def demo(window):
    window.open_path(DEMO)
    return window


@pytest.mark.parametrize(("seconds", "step", "text"), [
    (0.0, 5.0, "0:00"), (65.0, 5.0, "1:05"), (65.5, 0.5, "1:05.5"), (3725.0, 300.0, "1:02:05"), (59.96, 1.0, "1:00")])
def test_time_ruler_labels(seconds, step, text):
    assert time_label(seconds, step) == text


def test_the_ruler_counts_minutes_and_seconds_for_a_performance_without_a_grid(demo, qtbot, settings):
    ruler, view = demo.ruler, demo.view
    switch = next(a for a in demo.findChildren(QAction) if a.text() == "&Ruler in Minutes and Seconds")
    bars = ruler.grab().toImage()
    switch.trigger()
    assert ruler.show_time and settings.get("ruler_time")
    tempo = demo.doc.midi.tempo_map
    step, xs, seconds = ruler.time_marks()
    assert np.allclose(xs, view.x_of(tempo.ticks(seconds)))  # at their times, tempo included
    px_per_second = view.px_per_tick * view.ticks_per_beat * tempo.bpm_at(0) / 60  # the demo keeps one tempo
    finer = TIME_STEPS[TIME_STEPS.index(step) - 1]
    assert finer * px_per_second < 60 <= step * px_per_second  # the finest step whose labels do not crowd
    image = ruler.grab().toImage()
    assert image != bars
    x = next(int(x) for x in xs.tolist() if x > 10)
    assert image.pixelColor(x, BAR_STRIP - 2) == QColor("#c9ced6")  # a mark's line, at its time
    switch.trigger()
    assert not ruler.show_time and ruler.grab().toImage() == bars
