"""Markers edited in the window: M adds one at the playhead, a name dragged on the ruler moves it, a double-click
or the right-click menu renames or deletes it; each is one undo step and the ruler's strip follows."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEMO
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu
from qt_helpers import click, move, press, release

from app.core.editor import clock
from app.ui import style
from app.ui.ruler import BAR_STRIP, MARKER_STRIP

BEAT = 480  # the demo's ticks per beat


def double_click(widget, pos: QPointF) -> None:
    event = QMouseEvent(QEvent.Type.MouseButtonDblClick, pos, widget.mapToGlobal(pos), Qt.MouseButton.LeftButton,
                        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def name_of(window, tick: int) -> QPointF:
    """A point on the name of the marker at ``tick``, just after its flag."""
    return QPointF(window.view.x_of(tick) + 12, MARKER_STRIP / 2)


@pytest.fixture
def demo(window):
    window.open_path(DEMO)
    window.view.set_snap(1.0)  # snap to beats
    window.view.zoom_x(40 / BEAT / window.view.px_per_tick)  # 40 px a beat
    return window


def test_m_adds_a_marker_at_the_playhead_on_the_beat_and_undo_takes_it_away(demo, qtbot):
    ruler = demo.ruler
    assert ruler.height() == BAR_STRIP  # no markers: no strip
    demo.transport.seek_tick(4 * BEAT + 130)  # a little after beat 5
    qtbot.keyClick(demo, Qt.Key.Key_M)
    assert [(m.tick, m.text) for m in demo.doc.markers] == [(4 * BEAT, "Marker 1")]
    assert ruler.height() == MARKER_STRIP + BAR_STRIP and demo.undo_stack.undoText() == "Add marker"
    assert "Marker 1" in demo.statusBar().currentMessage() and demo.isWindowModified()
    qtbot.keyClick(demo, Qt.Key.Key_M)  # again at the same place: a second name there, not a second flag
    assert [m.text for m in demo.doc.markers] == ["Marker 1 · Marker 2"]
    demo.undo_stack.undo()
    demo.undo_stack.undo()
    assert demo.doc.markers == () and ruler.height() == BAR_STRIP and not demo.isWindowModified()


def test_dragging_a_marker_s_name_moves_it_snapped_in_one_undo_step(demo, qtbot):
    demo.doc.add_marker(4 * BEAT, "Theme")
    ruler, view = demo.ruler, demo.view
    ruler.resize(ruler.width(), ruler.height())
    steps = demo.undo_stack.count()
    start = name_of(demo, 4 * BEAT)
    press(ruler, start)
    assert demo.roll.playhead_tick == 4 * BEAT  # a press alone seeks to the marker, as before
    shift = 3 * BEAT * view.px_per_tick + 7  # three beats and a few pixels: snapped to three beats
    for k in range(1, 5):
        move(ruler, start + QPointF(shift * k / 4, 0))
    assert demo.doc.markers[0].tick == 4 * BEAT  # nothing changes before the drop ...
    image = ruler.grab().toImage()  # ... but the flag is drawn where it would land
    assert image.pixelColor(int(view.x_of(7 * BEAT)) + 1, 2) == style.MARKER
    assert image.pixelColor(int(view.x_of(4 * BEAT)) + 1, 2) != style.MARKER
    release(ruler, start + QPointF(shift, 0))
    assert [(m.tick, m.text) for m in demo.doc.markers] == [(7 * BEAT, "Theme")]
    assert demo.undo_stack.count() == steps + 1 and demo.undo_stack.undoText() == "Move marker"
    press(ruler, name_of(demo, 7 * BEAT))  # a click without a drag moves nothing
    release(ruler, name_of(demo, 7 * BEAT))
    assert demo.undo_stack.count() == steps + 1
    demo.undo_stack.undo()
    assert demo.doc.markers[0].tick == 4 * BEAT


def test_double_clicking_a_name_renames_the_marker(demo, monkeypatch):
    demo.doc.add_marker(0, "Marker 1")
    asked = []

    def answer(text: str, ok: bool = True):
        def get_text(parent, title, label, echo, current):
            asked.append((title, label, current))
            return text, ok
        monkeypatch.setattr(QInputDialog, "getText", get_text)

    answer("  Exposition\n")
    double_click(demo.ruler, name_of(demo, 0))
    assert asked == [("Rename Marker", "Name of the marker at 1.1:", "Marker 1")]
    assert demo.doc.markers[0].text == "Exposition" and demo.undo_stack.undoText() == "Rename marker"
    answer("   ")  # nothing printable: kept, and said why
    double_click(demo.ruler, name_of(demo, 0))
    assert demo.doc.markers[0].text == "Exposition"
    assert demo.statusBar().currentMessage().startswith("A marker needs a name")
    answer("Coda", ok=False)  # Cancel
    double_click(demo.ruler, name_of(demo, 0))
    assert demo.doc.markers[0].text == "Exposition"
    double_click(demo.ruler, QPointF(demo.view.x_of(0) + 12, MARKER_STRIP + 8))  # on the bars: nothing asked
    assert len(asked) == 3


def test_the_right_click_menu_and_shortcuts_add_rename_and_delete(demo, qtbot, monkeypatch):
    ruler, view = demo.ruler, demo.view

    def choose(pos: QPointF, pick: str) -> list[str]:
        menu = ruler.context_menu(pos)
        texts = [a.text() for a in menu.actions() if not a.isSeparator()]
        next(a for a in menu.actions() if a.text() == pick).trigger()
        return texts

    assert choose(QPointF(view.x_of(8 * BEAT + 40), BAR_STRIP - 4), "Add Marker at 3.1") == ["Add Marker at 3.1"]
    assert demo.doc.markers[0].tick == 8 * BEAT  # on the bars, just after bar 3: snapped to it
    ruler.resize(ruler.width(), ruler.height())
    texts = choose(name_of(demo, 8 * BEAT), "Delete Marker")
    assert texts == ["Rename Marker…", "Delete Marker", "Select Section's Notes", "Loop Section", "Add Marker at 3.1"]
    assert demo.doc.markers == ()

    # the real right-click pops the menu up without a nested event loop (the test would hang on exec())
    pos = QPointF(view.x_of(8 * BEAT), BAR_STRIP - 4).toPoint()
    QApplication.sendEvent(ruler, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, ruler.mapToGlobal(pos)))
    popped = [m for m in ruler.findChildren(QMenu) if m.isVisible()]
    assert [a.text() for a in popped[0].actions()] == ["Add Marker at 3.1"]
    popped[0].close()

    demo.doc.add_marker(0, "Intro")
    demo.doc.add_marker(8 * BEAT, "Theme")
    demo.transport.seek_tick(10 * BEAT)  # in the Theme's section
    monkeypatch.setattr(QInputDialog, "getText", lambda *args: ("Theme (LH)", True))
    qtbot.keyClick(demo, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    assert [m.text for m in demo.doc.markers] == ["Intro", "Theme (LH)"]
    delete = next(a for a in demo.actions() if a.text() == "&Delete Marker")
    delete.trigger()
    assert [m.text for m in demo.doc.markers] == ["Intro"]
    demo.doc.delete_marker(0)
    delete.trigger()
    assert demo.statusBar().currentMessage() == "No marker at or before the playhead."


def test_a_section_s_notes_are_selected_from_the_menu_key_or_the_ruler(demo, qtbot):
    doc, ruler = demo.doc, demo.ruler
    demo.transport.seek_tick(6 * BEAT)
    qtbot.keyClick(demo, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not doc.selection.any() and demo.statusBar().currentMessage().startswith("No marker at or before")
    doc.add_marker(4 * BEAT, "Theme")
    doc.add_marker(12 * BEAT, "Coda")
    qtbot.keyClick(demo, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    expected = doc.piano_mask & (doc.notes.start >= 4 * BEAT) & (doc.notes.start < 12 * BEAT)
    assert expected.sum() > 10 and (doc.selection == expected).all()
    assert demo.statusBar().currentMessage() == f"Selected the {expected.sum()} piano notes of “Theme” (2.1 to 4.1)."

    ruler.resize(ruler.width(), ruler.height())
    menu = ruler.context_menu(name_of(demo, 12 * BEAT))
    next(a for a in menu.actions() if a.text() == "Select Section's Notes").trigger()
    assert (doc.selection == doc.piano_mask & (doc.notes.start >= 12 * BEAT)).all()
    assert demo.statusBar().currentMessage().endswith("of “Coda” (4.1 to the end).")
    assert not demo.transport.loop_action.isChecked()
    doc.set_selection(np.zeros(len(doc.notes), bool))
    menu = ruler.context_menu(name_of(demo, 4 * BEAT))
    next(a for a in menu.actions() if a.text() == "Loop Section").trigger()  # the Theme, looped
    assert (doc.selection == expected).all() and demo.transport.loop_action.isChecked()


def panel_rows(panel) -> list[tuple[str, str]]:
    return [(panel.topLevelItem(i).text(0), panel.topLevelItem(i).text(1)) for i in range(panel.topLevelItemCount())]


def test_the_markers_panel_lists_them_goes_to_one_on_a_click_and_follows_edits_and_undo(demo, qtbot):
    panel = demo.markers_panel
    assert panel_rows(panel) == [("", "No markers yet: M adds one at the playhead.")]
    demo.doc.add_marker(0, "Intro")
    demo.doc.add_marker(8 * BEAT, "Theme")  # bar 3 in the demo's 4/4
    seconds = demo.doc.midi.tempo_map.seconds(np.array([8.0 * BEAT]))[0]
    assert panel_rows(panel) == [("1.1  0:00.0", "Intro"), (f"3.1  {clock(float(seconds))}", "Theme")]
    item = panel.topLevelItem(1)
    click(panel.viewport(), QPointF(panel.visualItemRect(item).center()))
    assert demo.roll.playhead_tick == 8 * BEAT
    assert panel.topLevelItem(1).font(1).bold() and not panel.topLevelItem(0).font(1).bold()  # the section playing
    demo.transport.seek_tick(BEAT)
    assert panel.topLevelItem(0).font(1).bold() and not panel.topLevelItem(1).font(1).bold()
    demo.undo_stack.undo()
    assert panel_rows(panel) == [("1.1  0:00.0", "Intro")]


def test_a_name_edited_in_the_panel_renames_the_marker_and_delete_there_removes_the_marker_not_the_notes(demo, qtbot):
    panel = demo.markers_panel
    demo.doc.add_marker(4 * BEAT, "Marker 1")
    panel.topLevelItem(0).setText(1, "  Bridge ")  # as the item view commits a name typed in place
    qtbot.waitUntil(lambda: demo.doc.markers[0].text == "Bridge")
    assert demo.undo_stack.undoText() == "Rename marker" and panel_rows(panel)[0][1] == "Bridge"
    panel.topLevelItem(0).setText(1, "   ")  # nothing printable: kept, said, and the list shows the kept name
    qtbot.waitUntil(lambda: demo.statusBar().currentMessage().startswith("A marker needs a name"))
    assert demo.doc.markers[0].text == "Bridge" and panel_rows(panel)[0][1] == "Bridge"

    demo.edits.select_all()
    notes = len(demo.doc.notes)
    panel.setFocus()
    panel.setCurrentItem(panel.topLevelItem(0))
    qtbot.keyClick(panel, Qt.Key.Key_Delete)
    assert demo.doc.markers == () and len(demo.doc.notes) == notes and demo.undo_stack.undoText() == "Delete marker"
    demo.roll.setFocus()
    qtbot.keyClick(demo.roll, Qt.Key.Key_Delete)  # elsewhere Delete still deletes the selected notes
    assert len(demo.doc.notes) == 0


def test_the_velocity_lane_shows_where_each_section_begins(demo, qtbot):
    lane, view = demo.lane, demo.view
    demo.doc.add_marker(0, "Intro")  # the marker strip is open from here on: the views keep their sizes
    qtbot.wait(20)
    unmarked = lane.grab().toImage()
    tick = 4 * BEAT + 60  # between two sixteenths' bars
    demo.doc.add_marker(tick, "Theme")
    qtbot.wait(20)
    marked = lane.grab().toImage()
    assert marked.size() == unmarked.size()

    def changed(column: int) -> int:
        return sum(marked.pixelColor(column, y) != unmarked.pixelColor(column, y) for y in range(marked.height()))

    x = int(view.x_of(tick))
    assert changed(x) > marked.height() // 4 and changed(x + 3) == 0 and changed(x - 3) == 0


def test_the_markers_panel_keeps_its_place_and_the_bold_row_across_an_edit(demo, qtbot):
    panel = demo.markers_panel
    panel.resize(300, 150)  # room for a few rows: the list scrolls
    for k in range(40):
        demo.doc.add_marker(k * BEAT, f"Bar {k}")
    demo.transport.seek_tick(BEAT + 10)  # paused, in the second section
    assert panel.topLevelItem(1).font(1).bold()
    bar = panel.verticalScrollBar()
    bar.setValue(bar.maximum())
    at = bar.value()
    assert at > 0
    panel.topLevelItem(39).setText(1, "Coda")
    qtbot.waitUntil(lambda: demo.doc.markers[-1].text == "Coda")
    assert panel_rows(panel)[-1][1] == "Coda" and bar.value() == at  # not back at the top
    assert panel.topLevelItem(1).font(1).bold() and not panel.topLevelItem(39).font(1).bold()


def test_the_markers_panel_s_menu_selects_loops_renames_and_deletes_like_the_ruler_s(demo, qtbot):
    panel, doc = demo.markers_panel, demo.doc
    assert panel.context_menu(panel.topLevelItem(0)) is None  # the empty list's hint has no menu
    doc.add_marker(4 * BEAT, "Theme")
    doc.add_marker(12 * BEAT, "Coda")

    def choose(row: int, text: str) -> None:
        menu = panel.context_menu(panel.topLevelItem(row))
        next(a for a in menu.actions() if a.text() == text).trigger()

    choose(0, "Loop Section")
    assert (doc.selection == doc.piano_mask & (doc.notes.start >= 4 * BEAT) & (doc.notes.start < 12 * BEAT)).all()
    assert demo.transport.loop_action.isChecked()
    choose(1, "Select Section's Notes")
    assert (doc.selection == doc.piano_mask & (doc.notes.start >= 12 * BEAT)).all()
    choose(1, "Rename Marker")
    assert panel.state() == panel.State.EditingState  # the name is open for typing in place
    choose(0, "Delete Marker")
    assert [m.text for m in doc.markers] == ["Coda"]
    pos = panel.visualItemRect(panel.topLevelItem(0)).center()  # a real right-click pops it up, not exec()
    QApplication.sendEvent(panel.viewport(), QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                               panel.viewport().mapToGlobal(pos)))
    popped = [m for m in panel.findChildren(QMenu) if m.isVisible()]
    assert len(popped) == 1 and popped[0].actions()[0].text() == "Rename Marker"
    popped[0].close()
