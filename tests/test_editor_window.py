"""The editor window, driven through real mouse gestures placed with the view's geometry."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import DEMO, REAL_FILES, ROOT
from midi_factory import riff_midi
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from qt_helpers import click, drag, paint_every_version
from qt_helpers import move as qt_move
from qt_helpers import press as qt_press
from qt_helpers import release as qt_release

import app.ui.exporting as exporting
import app.ui.main_window as main_window
from app.core.editor import EditorDocument, Version
from app.core.humanise import Cancelled
from app.core.midi_document import MidiDocument
from app.ui.main_window import MainWindow

TPB = 480


@pytest.fixture
def demo(window):
    assert window.open_path(DEMO)
    v = window.view  # 120 px per beat, C6 at the top: bar 1 of the prelude fills the roll
    v.px_per_tick, v.left_tick, v.key_height, v.top_pitch = 0.25, 0.0, 12.0, 92.0
    v.changed.emit()
    return window


def notes_set(doc) -> set[tuple[int, int, int]]:
    n = doc.notes
    return set(zip(n.pitch.tolist(), n.start.tolist(), n.end.tolist()))


def selected_set(doc) -> set[tuple[int, int, int]]:
    n, chosen = doc.notes, doc.selection
    return set(zip(n.pitch[chosen].tolist(), n.start[chosen].tolist(), n.end[chosen].tolist()))


def row_of(doc, pitch: int, start: int) -> int:
    return int(np.flatnonzero((doc.notes.pitch == pitch) & (doc.notes.start == start))[0])


def test_open_shows_the_piece_in_status_bar(demo):
    labels = demo.status_labels
    assert labels["file"].text() == DEMO.name and labels["meter"].text() == "4/4"
    assert labels["tempo"].text() == "66.0 bpm" and labels["notes"].text().startswith("309 piano")
    assert labels["device"].text() == "device: cpu"


def test_draw_a_note_then_undo_and_redo(demo, qtbot):
    before = notes_set(demo.doc)
    demo.draw_action.trigger()
    drag(demo.roll, demo.view.point_at(88, 2 * TPB + 10), demo.view.point_at(88, 3 * TPB + 10))
    assert notes_set(demo.doc) - before == {(88, 960, 1440)}
    demo.undo_stack.undo()
    assert notes_set(demo.doc) == before
    demo.undo_stack.redo()
    assert (88, 960, 1440) in notes_set(demo.doc)


def test_drag_moves_a_note_snapped_in_one_undo_step(demo):
    before = notes_set(demo.doc)
    start = demo.view.point_at(67, 300)  # the 16th G4 at ticks 240-360
    drag(demo.roll, start, start + QPointF(120 * 1.02, -2 * 12))  # one beat later, two semitones up
    after = notes_set(demo.doc)
    assert before - after == {(67, 240, 360)} and after - before == {(69, 720, 840)}
    assert demo.undo_stack.count() == 1
    demo.undo_stack.undo()
    assert notes_set(demo.doc) == before


def test_drag_note_end_resizes(demo):
    end = demo.view.point_at(60, 960) - QPointF(2, 0)  # inside the resize grip of C4 (0-960)
    drag(demo.roll, end, end + QPointF(60, 0))  # +240 ticks
    assert (60, 0, 1200) in notes_set(demo.doc) and (60, 0, 960) not in notes_set(demo.doc)


def test_dragging_a_note_shows_where_it_lands_and_how_long_it_is(demo):
    roll, view = demo.roll, demo.view
    qt_press(roll, view.point_at(72, 400))  # C5 at 360-480 (480 ticks a beat, 4/4)
    assert roll.interaction.text() == "C5 · bar 1, beat 1.75 · 0.25 beats"
    qt_move(roll, view.point_at(73, 520))  # a semitone up, a sixteenth later (snapped)
    assert roll.interaction.text() == "C#5 · bar 1, beat 2 · 0.25 beats"
    qt_release(roll, view.point_at(73, 520))
    assert roll.interaction is None and (73, 480, 600) in notes_set(demo.doc)
    end = view.point_at(60, 960) - QPointF(2, 0)  # the resize grip of C4 (0-960)
    qt_press(roll, end)
    qt_move(roll, end + QPointF(60, 0))  # +240 ticks
    assert roll.interaction.text() == "C4 · bar 1, beat 1 · 2.5 beats"
    qt_release(roll, end + QPointF(60, 0))
    assert (60, 0, 1200) in notes_set(demo.doc)


def test_the_outlines_of_dragged_notes_show_them_where_the_edit_will_leave_them(demo, monkeypatch):
    roll, view, doc = demo.roll, demo.view, demo.doc
    drawn = []
    paint = roll.paint_ghosts
    monkeypatch.setattr(roll, "paint_ghosts", lambda p, notes: (drawn.append(notes), paint(p, notes)))
    g4, c5 = row_of(doc, 67, 240), row_of(doc, 72, 360)
    click(roll, view.point_at(67, 300))
    click(roll, view.point_at(72, 400), Qt.KeyboardModifier.ControlModifier)
    qt_press(roll, view.point_at(67, 300))
    qt_move(roll, view.point_at(67, 300 - 960))  # two beats left: the pair stops where G4 reaches the start
    roll.grab()
    rects = roll.note_rects(np.array([g4, c5]), drawn[-1])
    assert [r.x() for r in rects] == [view.x_of(0), view.x_of(120)]
    qt_release(roll, view.point_at(67, 300 - 960))
    assert {(67, 0, 120), (72, 120, 240)} <= notes_set(doc)  # where the outlines were
    end = view.point_at(67, 120) - QPointF(2, 0)  # G4's resize grip, dragged far left of its start
    qt_press(roll, end)
    qt_move(roll, end - QPointF(200, 0))
    roll.grab()
    assert roll.note_rects(np.array([g4]), drawn[-1])[0].width() == view.snap_ticks * view.px_per_tick  # shortest
    qt_release(roll, end - QPointF(200, 0))
    assert (67, 0, view.snap_ticks) in notes_set(doc)


def test_velocities_are_written_on_notes_with_room_for_them_unless_switched_off(demo):
    roll, view, doc = demo.roll, demo.view, demo.doc
    c4 = roll.note_rects(np.array([row_of(doc, 60, 0)]))[0].toRect()  # 240 x 11 px at this zoom

    def note_pixels():
        return roll.grab().toImage().copy(c4)

    with_numbers = note_pixels()
    action = next(a for a in demo.actions() if a.text() == "Velocity &Numbers on Notes")
    assert action.isChecked()
    action.trigger()
    assert not roll.show_numbers and not demo.settings.get("velocity_numbers")
    plain = note_pixels()
    assert with_numbers != plain
    colours = {plain.pixel(x, y) for x in range(plain.width()) for y in range(plain.height())}
    assert len(colours) <= 2  # the note's colour (and its edge): nothing written on it
    action.trigger()
    roll.blind = True  # a blind test: the numbers would tell the versions apart
    blind = note_pixels()
    assert len({blind.pixel(x, y) for x in range(blind.width()) for y in range(blind.height())}) <= 2
    roll.blind = False
    view.key_height = 9.0  # too low a row for a number
    view.changed.emit()
    c4 = roll.note_rects(np.array([row_of(doc, 60, 0)]))[0].toRect()
    short = note_pixels()
    assert len({short.pixel(x, y) for x in range(short.width()) for y in range(short.height())}) <= 2


def test_z_zooms_to_the_selected_notes_and_with_none_to_the_song(demo, qtbot):
    roll, view, doc = demo.roll, demo.view, demo.doc
    chosen = np.zeros(len(doc.notes), dtype=bool)
    chosen[[row_of(doc, 60, 960), row_of(doc, 76, 1440)]] = True  # C4 at 960-1920, E5 at 1440-1560
    doc.set_selection(chosen)
    qtbot.keyClick(demo, Qt.Key.Key_Z)
    assert view.left_tick == 720 and abs(view.tick_at(roll.width()) - (720 + 1440 * 1.02)) < 2  # 240 margin
    assert view.pitch_at(0) >= 76 and view.pitch_at(roll.height() - 1) <= 60
    doc.set_selection(np.zeros(len(doc.notes), dtype=bool))
    qtbot.keyClick(demo, Qt.Key.Key_Z)
    assert view.tick_at(roll.width()) >= doc.notes.end.max()  # the whole song


def test_arrow_keys_move_and_delete_removes_the_selection(demo, qtbot):
    click(demo.roll, demo.view.point_at(72, 400))  # C5 at 360-480
    assert demo.doc.selection.sum() == 1
    qtbot.keyClick(demo.roll, Qt.Key.Key_Right)
    qtbot.keyClick(demo.roll, Qt.Key.Key_Up)
    assert (73, 480, 600) in notes_set(demo.doc)
    count = len(demo.doc.notes)
    demo.edits.delete_selection()
    assert len(demo.doc.notes) == count - 1 and (73, 480, 600) not in notes_set(demo.doc)
    assert demo.undo_stack.count() == 3


def test_ctrl_up_and_down_make_the_selection_louder_or_softer_one_undo_step_each(demo, qtbot):
    demo.show()
    qtbot.waitExposed(demo)
    demo.activateWindow()
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(demo.roll, Qt.Key.Key_Up, ctrl)  # nothing selected: nothing changes, and it says why
    assert demo.undo_stack.count() == 0 and "Select the piano notes" in demo.statusBar().currentMessage()
    click(demo.roll, demo.view.point_at(72, 400))  # C5 at 360-480, velocity 80
    row = int(np.flatnonzero(demo.doc.selection)[0])
    qtbot.keyClick(demo.roll, Qt.Key.Key_Up, ctrl)
    qtbot.keyClick(demo.roll, Qt.Key.Key_Up, ctrl)
    qtbot.keyClick(demo.roll, Qt.Key.Key_Down, ctrl | shift)
    assert int(demo.doc.notes.velocity[row]) == 89 and (72, 360, 480) in notes_set(demo.doc)  # not moved
    assert (demo.doc.notes.velocity == 80).sum() == len(demo.doc.notes) - 1
    assert [demo.undo_stack.text(k) for k in range(demo.undo_stack.count())] == ["Velocity +5", "Velocity +5",
                                                                                 "Velocity -1"]
    demo.doc.nudge_velocities(np.array([row]), 100)
    assert int(demo.doc.notes.velocity[row]) == 127  # within MIDI's range
    demo.doc.nudge_velocities(np.array([row]), -200)
    assert int(demo.doc.notes.velocity[row]) == 1  # 0 would be a note-off


def test_alt_arrows_step_through_notes_into_view_and_sound_them(demo, qtbot):
    demo.show()
    qtbot.waitExposed(demo)
    demo.activateWindow()
    heard, released = [], []
    demo.roll.audition_pressed.connect(lambda channel, pitch, velocity: heard.append(pitch))
    demo.roll.audition_released.connect(lambda: released.append(True))
    demo.view.zoom_x(8.0)  # a few beats on screen
    n = demo.doc.notes
    order = np.lexsort((n.pitch, n.start))
    for _ in range(40):
        qtbot.keyClick(demo.roll, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    row = int(order[39])
    assert np.flatnonzero(demo.doc.selection).tolist() == [row] and heard[-1] == int(n.pitch[row])
    assert 0 <= demo.view.x_of(float(n.start[row])) <= demo.roll.width()  # followed into view
    assert demo.undo_stack.count() == 0  # Alt+arrows select; plain arrows would have moved the note
    qtbot.keyClick(demo.roll, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert np.flatnonzero(demo.doc.selection).tolist() == [int(order[38])]
    qtbot.waitUntil(lambda: bool(released), timeout=2_000)  # each stepped-to note sounds briefly
    assert len(released) < len(heard) / 4  # a pending release is restarted by the next step, not one per press


def test_copy_paste_duplicate_and_cut_with_their_shortcuts(demo, qtbot):
    keys = {"Copy": Qt.Key.Key_C, "Paste at Playhead": Qt.Key.Key_V, "Duplicate": Qt.Key.Key_D, "Cut": Qt.Key.Key_X}

    def act(text):  # the real key press, through the window's shortcut map
        qtbot.keyClick(demo.roll, keys[text], Qt.KeyboardModifier.ControlModifier)

    demo.show()
    qtbot.waitExposed(demo)
    demo.activateWindow()

    before = notes_set(demo.doc)
    act("Copy")  # nothing selected: nothing copied
    assert demo.edits.clipboard is None and "Select the notes" in demo.statusBar().currentMessage()
    click(demo.roll, demo.view.point_at(60, 100))
    click(demo.roll, demo.view.point_at(64, 200), Qt.KeyboardModifier.ControlModifier)
    picked = selected_set(demo.doc)
    first = min(s for _, s, _ in picked)
    act("Copy")
    demo.roll.playhead_tick = 4 * TPB * 2 + 17.0  # bar 3, a little late: the paste snaps to the 1/16 grid
    act("Paste at Playhead")
    pasted = {(p, s - first + 8 * TPB, e - first + 8 * TPB) for p, s, e in picked}
    assert notes_set(demo.doc) == before | pasted
    assert selected_set(demo.doc) == pasted
    act("Duplicate")  # right after the pasted notes, on the grid
    length = max(e for _, _, e in picked) - first
    step = -(-length // 120) * 120
    assert notes_set(demo.doc) == before | pasted | {(p, s + step, e + step) for p, s, e in pasted}
    assert demo.tracks.item(0).text().endswith(f"({len(before) + 4}\u00a0notes)")  # the part list counts them
    act("Cut")
    assert notes_set(demo.doc) == before | pasted and len(demo.edits.clipboard.notes) == 2
    assert [demo.undo_stack.text(i) for i in range(demo.undo_stack.count())][-3:] == [
        "Paste notes", "Paste notes", "Cut notes"]
    for _ in range(3):
        demo.undo_stack.undo()
    assert notes_set(demo.doc) == before and demo.tracks.item(0).text().endswith(f"({len(before)}\u00a0notes)")
    demo.set_document(EditorDocument.open(DEMO))  # the clipboard outlives the file it came from
    demo.roll.playhead_tick = None  # nothing played: the paste goes to the left edge of the view
    act("Paste at Playhead")
    assert len(demo.doc.notes) == len(before) + 2 and demo.doc.notes.start[-2:].min() == demo.view.snap(
        demo.view.left_tick)


def test_ctrl_click_and_rubber_band_select(demo):
    click(demo.roll, demo.view.point_at(60, 100))
    click(demo.roll, demo.view.point_at(64, 200), Qt.KeyboardModifier.ControlModifier)
    assert demo.doc.selection.sum() == 2
    a, b = demo.view.point_at(86, 230), demo.view.point_at(66, 500)
    drag(demo.roll, a, b)
    n, v = demo.doc.notes, demo.view
    expected = (n.start <= v.tick_at(b.x())) & (n.end >= v.tick_at(a.x())) & (n.pitch >= 66) & (n.pitch <= 86)
    assert np.array_equal(demo.doc.selection, expected) and expected.sum() >= 3


def test_velocity_lane_drag_sets_one_bar(demo):
    row = row_of(demo.doc, 60, 0)
    lane = demo.lane
    drag(lane, lane.point_at(row), lane.point_at(row, 120))
    assert abs(int(demo.doc.notes.velocity[row]) - 120) <= 1
    assert (demo.doc.notes.velocity == 80).sum() == len(demo.doc.notes) - 1
    demo.undo_stack.undo()
    assert demo.doc.notes.velocity[row] == 80


def test_velocity_lane_drag_across_draws_a_ramp(demo):
    lane, doc = demo.lane, demo.doc
    a = QPointF(demo.view.x_of(0), float(lane.y_of(40)))
    b = QPointF(demo.view.x_of(840), float(lane.y_of(100)))
    drag(lane, a, b, steps=10)
    rows = np.flatnonzero(doc.notes.start <= 840)
    order = rows[np.argsort(doc.notes.start[rows], kind="stable")]
    v = doc.notes.velocity[order].astype(int)
    assert abs(v[0] - 40) <= 1 and abs(v[-1] - 100) <= 1 and np.all(np.diff(v) >= 0)
    assert demo.undo_stack.count() == 1


def test_shift_drag_in_the_velocity_lane_draws_freehand(demo):
    lane, doc, view = demo.lane, demo.doc, demo.view
    shift = Qt.KeyboardModifier.ShiftModifier
    at = lambda tick, velocity: QPointF(view.x_of(tick), float(lane.y_of(velocity)))  # noqa: E731
    qt_press(lane, at(0, 100), shift)  # a V: loud, soft at beat 2, loud again at beat 3
    for k in range(1, 21):
        tick = 960 * k / 20
        qt_move(lane, at(tick, 100 - 60 * (1 - abs(tick - 480) / 480)))
    assert lane.drag_text().startswith("freehand 40–100 · ")
    qt_release(lane, at(960, 100))
    rows = np.flatnonzero(doc.notes.start <= 960)
    v, start = doc.notes.velocity[rows].astype(int), doc.notes.start[rows]
    expected = 100 - 60 * (1 - np.abs(start - 480) / 480)
    assert np.max(np.abs(v - expected)) <= 2
    assert (doc.notes.velocity == 80).sum() == len(doc.notes) - len(rows)
    assert demo.undo_stack.count() == 1 and demo.undo_stack.text(0) == "Draw velocities"


def test_ctrl_drag_in_the_lane_raises_a_phrase_and_keeps_its_detail(demo):
    lane, doc, view = demo.lane, demo.doc, demo.view
    ctrl = Qt.KeyboardModifier.ControlModifier
    doc.set_velocities(np.arange(len(doc.notes)), 60 + 10 * (np.arange(len(doc.notes)) % 2))  # 60, 70, 60...
    before = doc.notes.velocity.astype(int)
    at = lambda tick, velocity: QPointF(view.x_of(tick), float(lane.y_of(velocity)))  # noqa: E731
    qt_press(lane, at(960, 40), ctrl)
    qt_move(lane, at(960, 60))  # up by 20, straight up: the narrowest brush (sigma 1 s)
    assert lane.drag_text().startswith("phrase +20 · ")
    qt_release(lane, at(960, 60))
    seconds, centre = doc.midi.tempo_map.seconds(doc.notes.start), 2 * 60 / 66  # two beats at 66 bpm
    weight = np.exp(-0.5 * (seconds - centre) ** 2) * (np.abs(seconds - centre) <= 3)  # sigma 1 s, 3 sigma
    expected = np.clip(np.rint(before + 20 * weight), 1, 127)
    assert np.array_equal(doc.notes.velocity, expected)
    raised = doc.notes.velocity.astype(int) - before
    assert raised.max() == 20 and (raised[seconds > 5] == 0).all()  # 3 s past the centre: untouched
    assert demo.undo_stack.text(demo.undo_stack.index() - 1) == "Phrase +20"
    count = demo.undo_stack.count()
    qt_press(lane, at(960, 40), ctrl)
    qt_release(lane, at(960, 40))  # a click: nothing changes, no undo step
    assert demo.undo_stack.count() == count
    demo.undo_stack.undo()
    far = np.abs(seconds - centre - 4.0) < 0.3  # notes 4 s after the centre
    qt_press(lane, at(960, 40), ctrl)
    qt_release(lane, at(960 + 4 * 480, 60))  # also 4 beats (3.6 s) sideways: a brush that wide
    assert (doc.notes.velocity[far].astype(int) - before[far] >= 10).all()


def test_a_velocity_drag_shows_what_it_sets_until_it_is_dropped(demo):
    lane, doc = demo.lane, demo.doc
    row = row_of(doc, 60, 0)
    qt_press(lane, lane.point_at(row))
    qt_move(lane, lane.point_at(row, 110))
    assert lane.drag_text() == "velocity 110 · 1 note"
    qt_move(lane, QPointF(demo.view.x_of(840), float(lane.y_of(100))))  # sideways: a ramp from the first bar
    ramp = int((doc.notes.start <= 840).sum())
    assert lane.drag_text() == f"80 → 100 · {ramp} notes"
    shown = lane.grab().toImage()
    qt_release(lane, QPointF(demo.view.x_of(840), float(lane.y_of(100))))
    after = lane.grab().toImage()
    assert shown != after  # the readout goes with the drag
    assert doc.notes.velocity[row] == 80 and lane.drag is None


def test_humanise_runs_in_background_and_is_one_undo_step(demo, qtbot):
    original = demo.doc.notes.velocity.copy()
    with qtbot.waitSignal(demo.humanise_finished, timeout=60_000):
        demo.panel.humanise_button.click()
    doc = demo.doc
    assert doc.version is Version.STYLISED and doc.state.style == "classical"
    assert (doc.state.stylised != original).mean() > 0.9
    made = doc.state.stylised
    assert f"Velocities {made.min()}–{made.max()}, mean {made.mean():.0f}." in demo.panel.info.text()
    assert np.array_equal(doc.notes.velocity, original)  # Original version untouched
    assert demo.version_actions[Version.STYLISED].isEnabled()
    demo.undo_stack.undo()
    assert doc.state.stylised is None and doc.version is Version.ORIGINAL
    assert demo.version_actions[Version.ORIGINAL].isChecked()
    assert not demo.version_actions[Version.STYLISED].isEnabled()
    demo.undo_stack.redo()
    assert doc.state.stylised is not None


def test_humanise_after_humanise_lets_go_of_the_threads_that_have_ended(demo, qtbot):
    for _ in range(5):
        with qtbot.waitSignal(demo.humanise_finished, timeout=60_000):
            demo.panel.humanise_button.click()
    assert len(demo.threads) <= 2  # the last run's, and the one before it if it was still finishing


def test_a_humanise_overtaken_by_a_note_edit_is_discarded_without_a_box(demo, qtbot, monkeypatch):
    monkeypatch.setattr("app.ui.main_window.QMessageBox.warning", lambda *a: pytest.fail("a modal box"))
    with qtbot.waitSignal(demo.humanise_finished, timeout=60_000):
        demo.humanise()
        demo.doc.move_notes(np.array([0]), 120, 0)  # before the result comes back to this thread
    assert demo.doc.state.stylised is None and "Humanise discarded" in demo.panel.info.text()
    assert demo.undo_stack.text(demo.undo_stack.index() - 1) == "Move notes"


def test_the_strength_slider_blends_the_last_humanise_again_without_a_second_run(demo, qtbot, monkeypatch):
    predictor = demo.holder.get()
    runs = []
    predict = predictor.predict
    monkeypatch.setattr(predictor, "predict", lambda *a, **k: runs.append(1) or predict(*a, **k))
    with qtbot.waitSignal(demo.humanise_finished, timeout=60_000):
        demo.panel.humanise_button.click()
    doc, original = demo.doc, demo.doc.notes.velocity.astype(float)
    full = doc.state.stylised.copy()  # at the default 100%
    demo.panel.strength.setValue(50)
    qtbot.waitUntil(lambda: demo.undo_stack.count() == 2, timeout=2_000)
    assert demo.undo_stack.text(1) == "Humanise strength 50%" and len(runs) == 1
    assert np.array_equal(doc.state.stylised, np.clip(np.rint((original + full) / 2), 1, 127))
    assert doc.version is Version.STYLISED and "Strength 50%" in demo.panel.info.text()
    demo.undo_stack.undo()  # back to 100%: still one it made, so the slider goes on working
    demo.panel.strength.setValue(20)
    qtbot.waitUntil(lambda: demo.undo_stack.text(demo.undo_stack.count() - 1) == "Humanise strength 20%",
                    timeout=2_000)
    doc.set_velocities(np.array([0]), np.array([127]))  # the Stylised version edited by hand
    count = demo.undo_stack.count()
    demo.panel.strength.setValue(70)
    qtbot.wait(400)
    assert demo.undo_stack.count() == count and doc.state.stylised[0] == 127  # the edit is not blended away
    assert len(runs) == 1


def test_humanise_selection_only_and_strength(demo, qtbot):
    sel = np.zeros(len(demo.doc.notes), bool)
    sel[:12] = True
    demo.doc.set_selection(sel)
    demo.panel.selection_only.setChecked(True)
    demo.panel.strength.setValue(50)
    with qtbot.waitSignal(demo.humanise_finished, timeout=60_000):
        demo.humanise()
    stylised = demo.doc.state.stylised
    assert np.all(stylised[~sel] == 80) and (stylised[sel] != 80).any()


def test_sections_humanised_one_after_another_build_one_stylised_version_each_in_its_style(demo, qtbot):
    doc, panel = demo.doc, demo.panel
    first, second = np.zeros(len(doc.notes), bool), np.zeros(len(doc.notes), bool)
    first[:12], second[12:24] = True, True
    panel.selection_only.setChecked(True)
    for selection, style in ((first, "classical"), (second, "jazz")):
        doc.set_selection(selection)
        panel.style_box.setCurrentIndex(panel.style_box.findData(style))
        with qtbot.waitSignal(demo.humanise_finished, timeout=60_000):
            demo.humanise()
        if style == "classical":
            classical = doc.state.stylised.copy()
    stylised = doc.state.stylised
    assert np.array_equal(stylised[first], classical[first])  # the first section kept its Classical velocities
    assert (stylised[second] != 80).any() and np.all(stylised[~(first | second)] == 80)
    panel.strength.setValue(0)  # the slider blends the last run's section only
    qtbot.waitUntil(lambda: np.all(doc.state.stylised[second] == 80))
    assert np.array_equal(doc.state.stylised[first], classical[first]) and np.all(doc.state.stylised[second] == 80)
    demo.undo_stack.undo()
    demo.undo_stack.undo()
    assert np.array_equal(doc.state.stylised, classical)

    demo.make_baseline()  # the baseline too: a second section's noise leaves the first's as it was
    before = doc.state.baseline.copy()
    doc.set_selection(first)
    panel.seed.setValue(7)
    demo.make_baseline()
    baseline = doc.state.baseline
    assert np.array_equal(baseline[second], before[second]) and (baseline[second] != 80).any()
    assert (baseline[first] != 80).any() and np.all(baseline[~(first | second)] == 80)


class SlowPredictor:
    styles = ("classical", "jazz")
    device_name = "fake"
    written_weight = 0.5

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def predict(self, notes, tpb, mask, style, progress=None):
        if self.fail:
            raise RuntimeError("GPU fell off the bus")
        for k in range(200):
            time.sleep(0.01)
            if progress is not None and progress(k / 200) is False:
                raise Cancelled()
        return np.full(len(notes), 64)


@pytest.mark.parametrize("fail", [False, True])
def test_cancel_and_worker_errors_never_crash(qtbot, settings, monkeypatch, fail):
    shown = []
    monkeypatch.setattr("app.ui.main_window.QMessageBox.warning", lambda *a: shown.append(a[1:]))
    win = MainWindow(settings, loader=lambda: SlowPredictor(fail))
    win.confirm = lambda *args: True
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.panel.humanise_button.isEnabled(), timeout=10_000)
    win.open_path(DEMO)
    with qtbot.waitSignal(win.humanise_finished, timeout=10_000):
        win.humanise()
        assert win.panel.cancel_button.isVisibleTo(win.panel)
        win.cancel_humanise()
    assert win.doc.state.stylised is None
    assert (shown and "GPU fell off" in shown[0][1]) if fail else ("cancelled" in win.panel.info.text())


def test_closing_while_the_model_still_loads_waits_for_the_loader(qtbot, settings):
    import threading

    release = threading.Event()
    threading.Timer(0.5, release.set).start()  # a load that outlasts the click on close
    win = MainWindow(settings, loader=lambda: (release.wait(10), SlowPredictor())[1])
    qtbot.addWidget(win)
    assert not release.is_set()
    win.close()  # a QThread destroyed while running would abort the process
    assert release.is_set() and all(thread.isFinished() for thread in win.threads)


def test_no_checkpoint_disables_humanise_with_reason(qtbot, settings, tmp_path):
    from models.inference import StyleNetPredictor

    win = MainWindow(settings, loader=lambda: StyleNetPredictor.from_checkpoint(tmp_path / "none.pt"))
    win.confirm = lambda *args: True
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: "unavailable" in win.panel.info.text(), timeout=10_000)
    assert not win.panel.humanise_button.isEnabled() and "no StyleNet checkpoint" in win.panel.info.text()
    win.make_baseline()  # the baseline still works
    assert win.doc.version is Version.BASELINE


def test_baseline_version_switch_and_export_reload(demo, qtbot, tmp_path):
    demo.panel.seed.setValue(7)
    demo.make_baseline()
    with qtbot.waitSignal(demo.humanise_finished, timeout=60_000):
        demo.humanise()
    for version in Version:
        demo.version_actions[version].trigger()
        assert demo.doc.version is version
    for version in Version:
        out = tmp_path / f"{version.value}.mid"
        assert demo.exporter.export_to(out, version)
        back = MidiDocument.load(out)
        for col in ("pitch", "start", "end", "channel", "track"):
            assert np.array_equal(getattr(back.notes, col), getattr(demo.doc.notes, col))
        assert np.array_equal(back.notes.velocity, demo.doc.state.velocities(version))


def test_never_overwrites_the_opened_file_without_confirmation(window, tmp_path, monkeypatch):
    path = tmp_path / "mine.mid"
    shutil.copy(DEMO, path)
    window.open_path(path)
    window.make_baseline()
    monkeypatch.setattr(window, "confirm", lambda *a: False)
    assert not window.exporter.export_to(path, Version.BASELINE)
    assert path.read_bytes() == DEMO.read_bytes()
    monkeypatch.setattr(window, "confirm", lambda *a: True)
    assert window.exporter.export_to(path, Version.BASELINE)
    assert path.read_bytes() != DEMO.read_bytes()


def test_save_asks_for_a_file_once_then_saves_there_and_export_offers_where_it_went(window, tmp_path,
                                                                                      monkeypatch):
    path = tmp_path / "mine.mid"
    shutil.copy(DEMO, path)
    window.open_path(path)
    asked, confirmed = [], []
    monkeypatch.setattr("app.ui.main_window.QFileDialog.getSaveFileName",
                        lambda parent, title, offered, *a: (asked.append(offered), (str(path), ""))[1])
    monkeypatch.setattr(window, "confirm", lambda *a: confirmed.append(a) or True)
    window.doc.nudge_velocities(np.array([0]), 5)
    save = next(a for a in window.actions() if a.text() == "&Save")
    assert save.shortcut().toString() == "Ctrl+S"
    save.trigger()  # the first time: Save As, which offers NAME.original.mid and asks before replacing the opened file
    assert asked == [str(tmp_path / "mine.original.mid")] and len(confirmed) == 1 and not window.doc.modified
    window.doc.nudge_velocities(np.array([0]), 5)
    save.trigger()  # then to the same file, without asking again
    assert len(asked) == 1 and len(confirmed) == 1 and not window.doc.modified
    assert MidiDocument.load(path).notes.velocity[0] == 90
    window.make_baseline()
    monkeypatch.setattr("app.ui.exporting.QInputDialog.getItem", lambda *a: ("Baseline", True))
    window.exporter.export_dialog()
    assert asked[-1] == str(tmp_path / "mine.baseline.mid")  # first export: beside the opened file
    window.exporter.export_dialog()
    assert asked[-1] == str(path)  # then where it went last
    window.open_path(DEMO)
    window.make_baseline()
    window.exporter.export_dialog()
    assert asked[-1] == str(DEMO.with_name(f"{DEMO.stem}.baseline.mid"))  # another file starts afresh


def test_bad_file_shows_a_message_and_keeps_the_document(demo, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("app.ui.main_window.QMessageBox.warning", lambda *a: shown.append(a[2]))
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00")
    assert not demo.open_path(bad)
    assert shown and "truncated" in shown[0] and demo.doc.midi.path.name == DEMO.name


def test_drop_a_file_and_recent_files(window, settings, shared_data):
    path = shared_data / "jazz/mckenzie/AfterYou.mid"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier))
    assert window.doc.midi.path == path
    assert settings.get("recent_files")[0] == str(path.resolve())
    assert [a.text() for a in window.recent_menu.actions()] == ["AfterYou.mid"]


@pytest.mark.parametrize(("name", "wrap"), [("Karaoke Song.kar", False), ("WIN95.RMI", True), ("song.wav", False)])
def test_a_midi_file_by_any_of_its_names_can_be_dropped_on_the_window(window, tmp_path, name, wrap):
    path = tmp_path / name
    path.write_bytes(riff_midi(DEMO.read_bytes()) if wrap else DEMO.read_bytes())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    args = (QPointF(50, 50).toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(*args)
    enter.setAccepted(False)
    window.dragEnterEvent(enter)
    assert enter.isAccepted() == (not name.endswith(".wav"))
    if enter.isAccepted():
        window.dropEvent(QDropEvent(QPointF(50, 50), *args[1:]))
        assert window.doc.midi.path == path and len(window.doc.notes) == 309


def test_open_dialog_lists_midi_files_whatever_the_case_of_their_suffix(window, tmp_path, monkeypatch):
    # Linux's native dialog matches filters case-sensitively: SONG.MID must match a pattern as written.
    from fnmatch import fnmatchcase

    shutil.copy(DEMO, tmp_path / "OLD SONG.MID")
    offered = []

    def dialog(parent, title, folder, filters):
        offered.append(filters.split(";;")[0])
        return str(tmp_path / "OLD SONG.MID"), offered[-1]

    monkeypatch.setattr(main_window.QFileDialog, "getOpenFileName", dialog)
    window.open_dialog()
    patterns = offered[0][offered[0].index("(") + 1:-1].split()
    for name in ("OLD SONG.MID", "song.mid", "Song.midi", "SONG.MIDI", "song.kar", "CANYON.RMI", "song.smf"):
        assert any(fnmatchcase(name, p) for p in patterns), name
    assert window.doc.midi.path == tmp_path / "OLD SONG.MID"


def test_track_list_changes_the_piano_part(window, shared_data):
    window.open_path(shared_data / "jazz/mckenzie/AfterYou.mid")
    items = [window.tracks.item(i) for i in range(window.tracks.count())]
    assert [i.checkState() == Qt.CheckState.Checked for i in items] == [True, True, False, False]
    assert not items[3].flags() & Qt.ItemFlag.ItemIsEnabled  # drums
    items[2].setCheckState(Qt.CheckState.Checked)  # the bass joins the piano part
    assert (3, 1) in window.doc.midi.piano_parts  # track 4 (0-based 3), channel 2
    assert window.doc.piano_mask.sum() == 1286 + 1142 + 683


def test_preferences_are_remembered(qtbot, settings, tiny_checkpoint):
    first = MainWindow(settings, loader=lambda: SlowPredictor())
    qtbot.addWidget(first)
    first.snap_box.setCurrentText("1/32")
    first.panel.strength.setValue(35)
    first.panel.seed.setValue(11)
    first.make_baseline()
    first.doc.mark_saved()
    first.close()
    second = MainWindow(settings, loader=lambda: SlowPredictor())
    second.confirm = lambda *args: True
    qtbot.addWidget(second)
    assert second.snap_box.currentText() == "1/32" and second.view.snap_beats == 0.125
    assert second.panel.seed.value() == 11


def test_screenshot_command_renders_the_window_and_leaves_the_users_settings_alone(tmp_path):
    out, config = tmp_path / "shot.png", tmp_path / "config"
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--screenshot", str(out), str(DEMO), "--version",
                           "baseline", "--size", "1000x700"], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
                               "XDG_CONFIG_HOME": str(config)})
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 700)
    assert not config.exists() or not any(config.rglob("*")), "the screenshot wrote the user's settings"


def test_screenshot_of_a_bad_file_says_why_instead_of_waiting_on_a_dialog(tmp_path):
    bad = tmp_path / "notes.mid"
    bad.write_text("not midi")
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--screenshot", str(tmp_path / "shot.png"),
                           str(bad)], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
                               "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert proc.returncode == 2 and "notes.mid: not a MIDI file" in proc.stderr
    assert "Traceback" not in proc.stderr and "QThread" not in proc.stderr
    assert not (tmp_path / "shot.png").exists()


def test_a_screenshot_shows_the_panel_once_the_model_has_loaded_or_failed(qtbot, settings, tmp_path):
    from app.ui.screenshot import render_screenshot

    def slow_model():
        time.sleep(0.5)  # a checkpoint loading from a cold disk
        return SlowPredictor()

    def no_model():
        raise OSError("no model in this test")

    for loader, says in ((slow_model, "StyleNet ready on fake."), (no_model, "Humanise is unavailable: ")):
        window = MainWindow(settings, loader=loader)
        qtbot.addWidget(window)
        started = time.monotonic()
        assert render_screenshot(window, str(DEMO), tmp_path / "shot.png", "original", "classical", (800, 600)) == 0
        assert window.panel.info.text().startswith(says), "the picture showed 'Loading the StyleNet checkpoint…'"
        assert time.monotonic() - started < 30  # a failure settles it too, without the minute's wait


@pytest.mark.qt_no_exception_capture  # the error is the point: it must fail the render, not the test
def test_screenshot_fails_when_painting_raises(qtbot, settings, tmp_path, monkeypatch, capsys):
    from app.ui.screenshot import render_screenshot

    # raised by C code (numpy), called from Python through Qt (grab): this crashed PySide before the views'
    # handlers were guarded; then it wrote a picture of a broken window and said nothing
    monkeypatch.setattr(EditorDocument, "shown_velocities", lambda self: np.zeros((0, 2))[0])

    def no_model():
        raise OSError("no model in this test")

    window = MainWindow(settings, loader=no_model)
    qtbot.addWidget(window)
    status = render_screenshot(window, str(DEMO), tmp_path / "shot.png", "original", "classical", (800, 600))
    assert status == 1
    err = capsys.readouterr().err
    assert "unexpected error(s) while rendering, the first: IndexError" in err
    assert "Traceback" in err  # each printed in full as it happened, for a bug report


def test_painting_does_not_corrupt_reference_counts(demo):
    """PySide6 6.12.0 decremented None's refcount on every QPainter call until Python aborted."""
    import sys

    before = sys.getrefcount(None)
    for _ in range(50):
        demo.roll.repaint()
        demo.lane.repaint()
        demo.ruler.repaint()
    assert sys.getrefcount(None) >= before - 100


class FlatPredictor:
    """Predicts 64 everywhere: what a Humanise shows then comes from the written dynamics alone."""

    styles = ("classical",)
    device_name = "fake"
    written_weight = 1.0

    def predict(self, notes, tpb, mask, style, progress=None):
        return np.full(len(notes), 64, dtype=np.int16)


def test_keep_written_dynamics_is_a_remembered_choice(qtbot, settings, tmp_path):
    from midi_factory import midi_bytes, note, track

    path = tmp_path / "p_then_f.mid"
    path.write_bytes(midi_bytes([track([e for i in range(32) for e in note(60 + i % 12, i * TPB, i * TPB + 400,
                                                                            49 if i < 16 else 96)])]))
    win = MainWindow(settings, loader=FlatPredictor)
    win.confirm = lambda *args: True
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.panel.humanise_button.isEnabled(), timeout=10_000)
    assert win.panel.keep_written.isChecked() and win.open_path(DEMO)
    with qtbot.waitSignal(win.humanise_finished, timeout=10_000):  # every note at 80: nothing written to keep
        win.humanise()
    assert (win.doc.state.stylised == 64).all() and "written" not in win.panel.info.text()
    assert win.open_path(path)
    soft = win.doc.notes.velocity == 49
    for keep in (True, False):
        win.panel.keep_written.setChecked(keep)
        with qtbot.waitSignal(win.humanise_finished, timeout=10_000):
            win.humanise()
        stylised = win.doc.state.stylised
        assert (stylised[~soft].mean() > stylised[soft].mean() + 20) if keep else (stylised == 64).all()
        assert ("written dynamics were kept" in win.panel.info.text()) is keep
    win.close()
    again = MainWindow(settings, loader=FlatPredictor)
    qtbot.addWidget(again)
    assert not again.panel.keep_written.isChecked()


def test_opening_a_bad_file_at_launch_reports_it_and_keeps_the_editor(qtbot, settings, monkeypatch, tmp_path):
    """A double-clicked broken file must not make the app vanish after its error dialog."""
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QMessageBox

    import app.ui.main_window as main_window
    from app.ui.launch import ICON, launch

    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd")
    windows, warnings = [], []

    def make_window(recovery=None):
        windows.append(MainWindow(settings, loader=SlowPredictor, recovery=recovery))
        windows[-1].confirm = lambda *args: True
        qtbot.addWidget(windows[-1])
        return windows[-1]

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(main_window, "MainWindow", make_window)
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    monkeypatch.setattr(QApplication, "exec", lambda *args: 0)
    assert launch([str(bad)]) == 0
    assert len(warnings) == 1 and "broken.mid" in warnings[0]
    assert windows[0].isVisible() and windows[0].doc.midi.path is None  # the empty editor, ready for File > Open
    assert ICON.is_file() and not QGuiApplication.windowIcon().isNull()


def test_a_file_opened_before_the_window_shows_fills_the_roll_once_shown(qtbot, settings):
    """`python main.py FILE` opens the file first; the song must then fit the real, larger roll."""
    win = MainWindow(settings, loader=SlowPredictor)
    win.confirm = lambda *args: True
    qtbot.addWidget(win)
    win.open_path(DEMO)
    win.resize(1500, 900)
    win.show()
    end = int(win.doc.notes.end.max())
    qtbot.waitUntil(lambda: 0.9 * win.roll.width() <= win.view.x_of(end) <= win.roll.width(), timeout=5000)


def test_scrollbars_show_the_visible_share_and_reach_both_ends(window, demo):
    window.fit_song()
    h, v = window.hscroll, window.vscroll
    assert h.pageStep() / (h.maximum() + h.pageStep()) > 0.8  # nearly the whole song is on screen
    window.view.zoom_x(4.0)
    assert h.pageStep() / (h.maximum() + h.pageStep()) < 0.3
    h.setValue(h.maximum())  # the end of the song comes into view
    assert window.view.x_of(int(window.doc.notes.end.max())) < window.roll.width()
    v.setValue(v.maximum())  # the lowest key comes into view, not beyond
    assert window.view.pitch_at(window.roll.height() - 1) <= 1
    window.view.scroll_to(left_tick=window.view.left_tick * 3)  # the wheel went past the end
    assert h.value() == int(window.view.left_tick)  # the range grew; the thumb did not jump back


def test_velocity_lane_shows_the_sustain_pedal(window, tmp_path):
    import mido
    from midi_factory import midi_bytes, note, track

    from app.ui import style

    def pedal(tick: int, value: int) -> tuple[int, mido.Message]:
        return (tick, mido.Message("control_change", control=64, value=value))

    path = tmp_path / "pedalled.mid"
    path.write_bytes(midi_bytes([track([*note(60, 0, 1920), pedal(480, 127), pedal(960, 0)])]))
    assert not window.pedal_label.isVisible()  # the empty editor has no pedalling to label
    assert window.open_path(path)
    assert window.pedal_label.isVisible()
    v, lane = window.view, window.lane
    v.px_per_tick, v.left_tick = 0.25, 0.0
    v.changed.emit()
    image = lane.grab().toImage()
    strip_y = lane.height() - 3
    assert image.pixelColor(int(v.x_of(720)), strip_y) == style.PEDAL  # pedal down from beat 2 to beat 3
    for tick in (240, 1200):
        assert image.pixelColor(int(v.x_of(tick)), strip_y) != style.PEDAL


def test_velocity_lane_draws_the_phrase_level_dynamics_curve(window, tmp_path):
    from midi_factory import midi_bytes, note, track

    soft = [e for k in range(16) for e in note(60, 240 * k, 240 * k + 200, velocity=40)]  # bars 1-2 at 120 bpm
    loud = [e for k in range(16, 32) for e in note(60, 240 * k, 240 * k + 200, velocity=100)]  # bars 3-4
    path = tmp_path / "crescendo.mid"
    path.write_bytes(midi_bytes([track(soft + loud)]))
    assert window.open_path(path)
    v, lane = window.view, window.lane
    v.px_per_tick, v.left_tick = 0.08, 0.0  # the four bars in 620 px
    v.changed.emit()

    def curve_height(tick: int) -> list[int]:
        """Rows of the lane image where the (light) curve crosses the column between two bars at ``tick``."""
        image, x = lane.grab().toImage(), int(v.x_of(tick))
        return [y for y in range(lane.height()) if image.pixelColor(x, y).lightness() > 150]

    for tick, velocity in ((600, 40), (7080, 100)):  # mid bar 1 and mid bar 4: far (> 3 s) from the change
        rows = curve_height(tick)
        assert rows and all(abs(y - float(lane.y_of(velocity))) <= 2 for y in rows)
    middle = curve_height(3840 - 120)  # just before the change: between the two levels
    assert middle and float(lane.y_of(95)) < np.mean(middle) < float(lane.y_of(45))
    parts = set(window.doc.midi.piano_parts)
    window.doc.set_piano_parts(set())  # no piano part ticked: no curve
    assert not curve_height(600)
    window.doc.set_piano_parts(parts)
    action = next(a for a in window.actions() if a.text() == "&Dynamics Curve")
    action.trigger()
    assert not lane.curve and not window.settings.get("dynamics_curve") and not curve_height(600)


def test_scale_velocities_dialog_applies_to_the_selection_as_one_undo_step(demo, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from app.ui.velocity_dialogs import ScaleVelocitiesDialog

    doc = demo.doc
    rows = np.array([row_of(doc, 60, 0), row_of(doc, 64, 120)])
    doc.set_velocities(rows, np.array([60, 100]), "Set velocity")
    selection = np.zeros(len(doc.notes), dtype=bool)
    selection[rows] = True
    doc.set_selection(selection)
    seen = []

    def answer(dialog: ScaleVelocitiesDialog) -> QDialog.DialogCode:
        seen.append(dialog.target_label.text())
        dialog.range_percent.setValue(50)
        dialog.offset.setValue(10)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ScaleVelocitiesDialog, "exec", answer)
    index = demo.undo_stack.index()
    demo.edits.scale_velocities_dialog()
    assert "the 2 selected piano notes of the Original version" in seen[0]
    assert doc.notes.velocity[rows].tolist() == [80, 100]  # mean 80, spread halved, +10
    assert (np.delete(doc.notes.velocity, rows) == 80).all()
    assert demo.undo_stack.index() == index + 1
    demo.undo_stack.undo()
    assert doc.notes.velocity[rows].tolist() == [60, 100]
    monkeypatch.setattr(ScaleVelocitiesDialog, "exec", lambda dialog: QDialog.DialogCode.Rejected)
    demo.edits.scale_velocities_dialog()
    assert demo.undo_stack.index() == index and doc.notes.velocity[rows].tolist() == [60, 100]

    def crescendo(dialog: ScaleVelocitiesDialog) -> QDialog.DialogCode:
        dialog.offset.setValue(4)
        assert dialog.end_offset.value() == 4  # the end follows a plain level change
        dialog.end_offset.setValue(24)
        dialog.offset.setValue(-6)
        assert dialog.end_offset.value() == 24  # until it is set apart
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ScaleVelocitiesDialog, "exec", crescendo)
    demo.edits.scale_velocities_dialog()
    assert doc.notes.velocity[rows].tolist() == [54, 124]  # C4 at the start -6, E4 at the end +24
    assert demo.undo_stack.text(demo.undo_stack.index() - 1) == "Crescendo -6 → +24"


def test_bring_out_top_voice_raises_the_melody_over_the_rest_in_one_step(demo, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from app.core.dynamics import top_voice
    from app.ui.velocity_dialogs import VoicingDialog

    doc = demo.doc
    n = doc.notes
    on_top = top_voice(n.start, n.end, n.pitch)  # the demo is all piano, on a score's grid
    assert 0 < on_top.sum() < len(n)

    def answer(dialog: VoicingDialog) -> QDialog.DialogCode:
        assert dialog.top.value() == 6 and "all 309 piano notes" in dialog.target_label.text()
        dialog.top.setValue(10)
        dialog.others.setValue(-4)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(VoicingDialog, "exec", answer)
    next(a for a in demo.actions() if a.text() == "Bring Out Top &Voice…").trigger()
    assert (doc.notes.velocity[on_top] == 90).all() and (doc.notes.velocity[~on_top] == 76).all()
    assert demo.undo_stack.text(demo.undo_stack.index() - 1) == "Voicing: top +10, others -4"
    demo.undo_stack.undo()
    assert (doc.notes.velocity == 80).all()


def test_fit_to_range_dialog_maps_the_shown_velocities_onto_the_chosen_range(demo, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from app.ui.velocity_dialogs import FitRangeDialog

    doc = demo.doc
    doc.set_velocities(np.arange(len(doc.notes)), 30 + np.arange(len(doc.notes)) % 80)  # 30..109

    def answer(dialog: FitRangeDialog) -> QDialog.DialogCode:
        assert (dialog.low.value(), dialog.high.value()) == (30, 109) and "now 30–109" in dialog.target_label.text()
        dialog.high.setValue(20)  # below the lowest: the lowest follows it down
        assert dialog.low.value() == 20
        dialog.high.setValue(96)
        dialog.low.setValue(48)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(FitRangeDialog, "exec", answer)
    next(a for a in demo.actions() if a.text() == "&Fit to Range…").trigger()
    v = doc.notes.velocity
    assert (v.min(), v.max()) == (48, 96) and demo.undo_stack.text(demo.undo_stack.index() - 1) == "Fit to 48–96"


def test_the_painted_views_have_names_for_screen_readers(window):
    names = {w.accessibleName() for w in (window.roll, window.keyboard, window.ruler, window.lane, window.lane_grip)}
    assert names == {"Piano roll", "Keyboard", "Ruler", "Velocity lane", "Velocity lane height"}
    assert all(w.accessibleDescription() for w in (window.roll, window.lane))
    assert window.transport.position_label.accessibleName() == "Playhead position"


def help_actions(window):
    return next(a for a in window.menuBar().actions() if a.text() == "&Help").menu().actions()


def test_keyboard_and_mouse_lists_every_shortcut(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from app.ui.help import shortcut_rows

    rows = {what: keys for keys, what in shortcut_rows(window)}
    assert rows["Scale Velocities"] == "Ctrl+Shift+V" and rows["Humanise"] == "Ctrl+H" and "Space" in rows.values()
    assert rows["Keyboard and Mouse"] == "F1" and "draw a ramp" in " ".join(rows)
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: shown.append(text))
    next(a for a in help_actions(window) if a.text() == "&Keyboard and Mouse").trigger()
    assert "<b>Ctrl+Shift+V</b>" in shown[0]


def test_help_about_names_the_model_and_its_figures(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    about = next(a for a in help_actions(window) if a.text() == "&About StyleNet Studio")
    about.trigger()
    text = shown[0]
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"StyleNet Studio {version}" in text and "a StyleNet model (Classical, Jazz), running on cpu" in text
    assert "non-commercial" not in text  # the tiny test checkpoint is not the bundled model


def test_about_of_the_bundled_model_gives_its_test_figures_and_licence():
    from models.inference import StyleNetPredictor

    bundled = StyleNetPredictor.from_checkpoint()
    lines = bundled.describe()
    assert "an ensemble of StyleNet models (3 for Classical, 2 for Jazz)" in lines[0]
    card = (ROOT / "models" / "MODEL_CARD.md").read_text()
    r = bundled.loaded.meta["evaluation"]["classical"]["quantised_performance"]["model"]["r"]
    assert f"r {r:.3f}" in " ".join(lines) and f"r {r:.3f}" in card  # the card's figure, from the checkpoint
    assert any("non-commercial" in line for line in lines)


def test_model_card_without_a_viewer_says_where_it_is(window, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or False)
    card = next(a for a in help_actions(window) if a.text() == "&Model Card")
    card.trigger()
    assert opened and opened[0].endswith("MODEL_CARD.md")
    assert "MODEL_CARD.md" in window.statusBar().currentMessage()


def test_hovering_a_note_names_it_and_its_velocity_in_every_version(demo, qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    row = row_of(demo.doc, 64, 120)  # E4, the prelude's second sixteenth
    demo.make_baseline()
    baseline = int(demo.doc.state.baseline[row])
    point = demo.view.point_at(64, 120 + 30).toPoint()
    QApplication.sendEvent(demo.roll, QHelpEvent(QEvent.Type.ToolTip, point, demo.roll.mapToGlobal(point)))
    text = QToolTip.text()
    assert text.startswith("E4 · bar 1, beat 1.25 · ")
    assert text.endswith(f"velocity: Original 80, Baseline {baseline}")
    QToolTip.hideText()
    empty = demo.view.point_at(100, 0).toPoint()  # no note up there
    QApplication.sendEvent(demo.roll, QHelpEvent(QEvent.Type.ToolTip, empty, demo.roll.mapToGlobal(empty)))
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2000)


def test_hovering_a_velocity_bar_describes_its_note(demo):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    lane, doc = demo.lane, demo.doc
    row = row_of(doc, 60, 0)
    doc.set_velocities(np.array([row]), np.array([30]))  # the only note at tick 0
    point = lane.point_at(row).toPoint()
    QApplication.sendEvent(lane, QHelpEvent(QEvent.Type.ToolTip, point, lane.mapToGlobal(point)))
    assert QToolTip.text() == doc.describe_note(row) and QToolTip.text().startswith("C4 · bar 1, beat 1 · ")
    assert QToolTip.text().endswith("velocity: Original 30")
    QToolTip.hideText()


def test_export_all_versions_side_by_side(demo, qtbot, tmp_path, monkeypatch):
    demo.make_baseline()
    with qtbot.waitSignal(demo.humanise_finished, timeout=60_000):
        demo.humanise()
    monkeypatch.setattr("app.ui.exporting.QInputDialog.getItem", lambda *a: (exporting.ALL_VERSIONS, True))
    chosen = str(tmp_path / "prelude.mid")
    monkeypatch.setattr("app.ui.main_window.QFileDialog.getSaveFileName", lambda *a: (chosen, ""))
    demo.exporter.export_dialog()
    names = sorted(p.name for p in tmp_path.glob("prelude.*.mid"))
    assert names == ["prelude.baseline.mid", "prelude.original.mid", "prelude.stylised.mid"]
    for version in Version:
        again = MidiDocument.load(tmp_path / f"prelude.{version.value}.mid")
        assert np.array_equal(again.notes.velocity, demo.doc.state.velocities(version))
    assert not demo.doc.modified  # the score and the Stylised version are both in files now


def test_panels_come_back_from_the_view_menu_and_keep_their_place(window, qtbot, settings):
    from PySide6.QtWidgets import QUndoView

    humanise_dock, _, history_dock, _ = window.docks
    view_menu = next(a for a in window.menuBar().actions() if a.text() == "&View").menu()
    panels = next(a for a in view_menu.actions() if a.text() == "&Panels").menu()
    assert [a.text() for a in panels.actions()] == ["Humanise", "Tracks (checked = piano part)", "History",
                                                        "Markers"]
    humanise_dock.close()
    assert not humanise_dock.isVisible()
    panels.actions()[0].trigger()
    assert humanise_dock.isVisible()
    window.open_path(DEMO)
    window.make_baseline()
    history = history_dock.widget()
    assert isinstance(history, QUndoView) and history.stack() is window.undo_stack
    assert window.undo_stack.text(window.undo_stack.count() - 1) == "Random baseline (seed 0)"
    history_dock.close()
    window.close()
    again = MainWindow(settings, loader=SlowPredictor)
    qtbot.addWidget(again)
    again.show()
    assert again.docks[0].isVisible() and not again.docks[2].isVisible()  # as the last window left them
    again.doc.mark_saved()


def test_the_empty_editor_says_how_to_start_and_opens_the_demo(qtbot, settings):
    from app.ui import style

    win = MainWindow(settings, loader=SlowPredictor)
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()

    def hint_pixels() -> int:
        image = win.roll.grab().toImage()
        hint = style.HINT_TEXT
        return sum(1 for x in range(0, image.width(), 2) for y in range(image.height() // 3, 2 * image.height() // 3, 2)
                   if abs(image.pixelColor(x, y).red() - hint.red()) < 12
                   and abs(image.pixelColor(x, y).blue() - hint.blue()) < 12)

    assert hint_pixels() > 50
    demo_action = next(a for a in win.file_menu.actions() if a.text() == "Open &Demo Song")
    demo_action.trigger()
    assert win.doc.midi.path == DEMO and len(win.doc.notes) == 309
    assert hint_pixels() == 0


def test_the_velocity_lane_grip_resizes_it_within_limits_and_the_height_is_kept(window, settings, qtbot):
    grip, lane = window.lane_grip, window.lane
    assert lane.height() == 140
    drag(grip, QPointF(100, 2), QPointF(100, -58))  # up 60 px: a taller lane, finer velocity steps
    assert lane.height() == 200 and settings.get("lane_height") == 200
    drag(grip, QPointF(100, 2), QPointF(100, 600))  # far down: never too short to use
    assert lane.height() == 90 and settings.get("lane_height") == 90
    again = MainWindow(settings, loader=window.holder.get)  # the model already loaded: nothing to wait for
    qtbot.addWidget(again)
    assert again.lane.height() == 90


def test_a_piece_too_long_to_humanise_fails_with_the_reason_not_an_exception_name(tiny_checkpoint):
    from midi_factory import midi_bytes, note, track

    from app.core.humanise import humanise_mask
    from app.ui.worker import HumaniseJob, HumaniseSnapshot, PredictorHolder
    from models.inference import StyleNetPredictor

    far = 600_000 * 120  # 600,000 sixteenths in: more steps than the model takes
    doc = MidiDocument.from_bytes(midi_bytes([track(note(60, 0, 480) + note(64, far, far + 480))]))
    snapshot = HumaniseSnapshot(doc.notes, doc.ticks_per_beat, humanise_mask(doc.notes, doc.piano_mask),
                                "jazz", 1.0)
    job = HumaniseJob(PredictorHolder(lambda: StyleNetPredictor.from_checkpoint(tiny_checkpoint, "cpu")), snapshot)
    messages: list[str] = []
    job.failed.connect(messages.append)
    job.run()  # on this thread: the signal is delivered at once
    assert messages and messages[0].startswith("the piece is 600,004 sixteenth notes long (37,500 bars of 4/4)")
    assert "at most 250,000 (15,625 bars) can be humanised" in messages[0]


def test_opening_another_file_clears_the_last_humanise_report(window, qtbot, tmp_path):
    window.open_path(DEMO)
    with qtbot.waitSignal(window.humanise_finished, timeout=60_000):
        window.humanise()
    assert window.panel.info.text().startswith("Humanised ")
    other = tmp_path / "other.mid"
    shutil.copy(DEMO, other)
    assert window.open_path(other)
    assert window.panel.info.text() == "StyleNet ready on cpu." and window.humaniser.last is None


@pytest.mark.parametrize("rel", [*REAL_FILES, "classical/asap/Bach/Fugue/bwv_883/Khmara04.mid"])
def test_real_files_open_and_paint_in_every_version(window, shared_data, rel):
    # Khmara04's pedal is only ever touched (all values below 64): opening it raised, and the views then
    # crashed the editor (bench/bench_corpus_gui.py opens all 1,596 shared files this way)
    errors: list[str] = []
    window.show_error = lambda title, text: errors.append(text)
    assert window.open_path(shared_data / rel) and not errors
    paint_every_version(window)
    assert window.pedal_label.isVisible() == (len(window.doc.midi.pedal_spans()) > 0)
    window.doc.set_version(Version.ORIGINAL)
    edit_a_note_with_the_mouse(window)
    window.doc.mark_saved()


def edit_a_note_with_the_mouse(window) -> None:
    """Zoom to a long piano note in the middle of a real file, click it, set its velocity in the lane and
    move it up a semitone in the roll: each one undo step that touches that note alone."""
    doc, view, roll, lane = window.doc, window.view, window.roll, window.lane
    window.resize(1200, 800)
    window.show()
    n, tpb = doc.notes, view.ticks_per_beat
    long = np.flatnonzero(doc.piano_mask & (n.end - n.start >= tpb // 2) & (n.pitch < 127))
    row = int(long[len(long) // 2])
    start, pitch = int(n.start[row]), int(n.pitch[row])
    tick = start + min(tpb // 4, (int(n.end[row]) - start) // 3)  # well inside the note, off its resize grip
    view.fit(max(0, start - 2 * tpb), start + 2 * tpb, pitch - 6, pitch + 6, roll.width(), roll.height())
    at = view.point_at(pitch, tick)
    click(roll, at)
    assert doc.selection.sum() == 1
    row = int(np.flatnonzero(doc.selection)[0])  # the note drawn on top where two of one pitch overlap
    before = (doc.notes.pitch.copy(), doc.notes.start.copy(), doc.notes.velocity.copy())
    steps = window.undo_stack.count()
    target = 120 if before[2][row] < 100 else 30
    drag(lane, lane.point_at(row), lane.point_at(row, target))
    velocity = doc.notes.velocity.copy()
    assert abs(int(velocity[row]) - target) <= 1
    assert np.array_equal(np.delete(velocity, row), np.delete(before[2], row))
    drag(roll, at, view.point_at(pitch + 1, tick))
    assert doc.notes.pitch[row] == pitch + 1 and np.array_equal(np.delete(doc.notes.pitch, row),
                                                                 np.delete(before[0], row))
    assert window.undo_stack.count() == steps + 2
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert all(np.array_equal(a, b) for a, b in zip(before, (doc.notes.pitch, doc.notes.start, doc.notes.velocity)))


def octave_label_ink(qtbot, key_height: float) -> list[float]:
    """Where C4's name is inked on the keyboard (rows of dark pixels right of the black keys), in rows of keys
    from the top of C4's row."""
    from app.ui.geometry import ViewState
    from app.ui.lanes import Keyboard

    view = ViewState()
    view.key_height, view.top_pitch = key_height, 60 + 100 / key_height  # C4's row starts 100 px down
    keys = Keyboard(view)
    qtbot.addWidget(keys)
    keys.resize(keys.width(), 200)
    image = keys.grab().toImage()
    text_columns = range(int(keys.width() * 0.62) + 2, keys.width())
    middle = int(100 + key_height / 2)  # C5 and C3 are 36 px away or more
    inked = [y for y in range(middle - 15, middle + 16)
             if any(image.pixelColor(x, y).lightness() < 100 for x in text_columns)]
    return [(y - 100) / key_height for y in inked]


@pytest.mark.parametrize("key_height", [3.0, 5.0, 7.0])
def test_zoomed_out_the_keyboard_still_names_each_c_in_full_on_its_row(qtbot, key_height):
    full = octave_label_ink(qtbot, 30.0)  # rows taller than the text: nothing to clip
    ink = octave_label_ink(qtbot, key_height)
    assert len(ink) == len(full) > 5  # the whole name: not clipped to a row lower than the text
    assert abs((ink[0] + ink[-1]) / 2 - 0.5) * key_height <= 1.0  # centred on C4's row


@pytest.mark.parametrize(("bar_px", "every"), [(200.0, 1), (60.0, 1), (59.9, 2), (31.0, 2), (16.0, 4), (7.9, 8),
                                               (0.5, 128)])
def test_bars_are_marked_in_4_and_8_bar_phrases_when_zoomed_out(bar_px, every):
    from app.ui.geometry import bar_group

    assert bar_group(bar_px, 60.0) == every  # 1, 2, 4, 8...: never every 7th bar


def test_zoomed_out_the_roll_draws_strong_bar_lines_only_every_4th_bar_and_faint_ones_between(demo):
    from app.ui import style

    v, roll = demo.view, demo.roll
    v.px_per_tick, v.left_tick, v.top_pitch = 5 / (4 * 480), 0.0, 127.0  # bars 5 px wide; above the notes
    v.changed.emit()
    row = roll.grab().toImage()
    strong = [x for x in range(roll.width()) if row.pixelColor(x, 5) == style.BAR_LINE]
    faint = [x for x in range(100) if row.pixelColor(x, 5) == style.BEAT_LINE]
    assert strong[:3] == [0, 20, 40] and [x for x in faint if x % 5 == 0][:4] == [5, 10, 15, 25]
