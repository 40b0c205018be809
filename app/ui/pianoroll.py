"""The piano roll: custom-painted notes, selection and mouse/keyboard editing.

Each mouse gesture is a small interaction object that previews while dragging
and commits exactly one document edit (one undo step) on release.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from app.core.editor import EditorDocument
from app.core.notes import NoteTable
from app.core.timing import bar_lines
from app.ui import style
from app.ui.errors import reports_errors
from app.ui.geometry import ViewState, bar_group, time_grid
from app.ui.painted import PaintedView
from app.ui.tooltips import note_tooltips

RESIZE_GRIP_PX = 6
BAR_LINE_SPACING_PX = 16.0  # bar lines closer than this would wall the notes in: only every 2nd, 4th... is
EMPTY_HINT = ("Open a MIDI file (Ctrl+O) or drop one here.\n"
              "File ▸ Open Demo Song loads a Bach prelude to try Humanise on.\n"
              "Or press D and draw notes.")


class Interaction:
    """A mouse gesture in progress; subclasses preview in ``paint`` and commit in ``release``."""

    def __init__(self, roll: PianoRoll, pos: QPointF) -> None:
        self.roll, self.origin, self.pos = roll, pos, pos

    def move(self, pos: QPointF) -> None:
        self.pos = pos
        self.roll.update()

    def release(self, pos: QPointF) -> None:
        self.pos = pos

    def paint(self, painter: QPainter) -> None:
        pass

    def text(self) -> str | None:
        """What the gesture would make, shown beside the pointer (None: nothing to say)."""
        return None


class RubberBand(Interaction):
    def __init__(self, roll: PianoRoll, pos: QPointF, extend: bool) -> None:
        super().__init__(roll, pos)
        self.base = roll.doc.selection.copy() if extend else np.zeros(len(roll.doc.notes), bool)

    def rect(self) -> QRectF:
        return QRectF(self.origin, self.pos).normalized()

    def release(self, pos: QPointF) -> None:
        super().release(pos)
        r, view, n = self.rect(), self.roll.view, self.roll.doc.notes
        t0, t1 = view.tick_at(r.left()), view.tick_at(r.right())
        p_hi, p_lo = view.pitch_at(r.top()), view.pitch_at(r.bottom())
        hit = (n.start <= t1) & (n.end >= t0) & (n.pitch >= p_lo) & (n.pitch <= p_hi) & self.roll.editable_mask()
        self.roll.doc.set_selection(self.base | hit)

    def paint(self, painter: QPainter) -> None:
        painter.setPen(QPen(style.SELECTED_OUTLINE, 1, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.rect())


class MoveNotes(Interaction):
    def __init__(self, roll: PianoRoll, pos: QPointF, row: int) -> None:
        super().__init__(roll, pos)
        self.row = row  # the note under the mouse: it sounds at each new pitch it is dragged to

    def move(self, pos: QPointF) -> None:
        super().move(pos)
        self.roll.audition(self.row, self.offsets()[1])

    def offsets(self) -> tuple[int, int]:
        view = self.roll.view
        dtick = view.tick_at(self.pos.x()) - view.tick_at(self.origin.x())
        if view.snap_beats:
            dtick = view.snap(dtick)
        return int(dtick), view.pitch_at(self.pos.y()) - view.pitch_at(self.origin.y())

    def release(self, pos: QPointF) -> None:
        super().release(pos)
        dtick, dpitch = self.offsets()
        if dtick or dpitch:
            self.roll.doc.move_notes(np.flatnonzero(self.roll.doc.selection), dtick, dpitch)

    def paint(self, painter: QPainter) -> None:
        doc = self.roll.doc
        self.roll.paint_ghosts(painter, doc.moved(np.flatnonzero(doc.selection), *self.offsets()))

    def text(self) -> str:
        """Where the grabbed note lands."""
        doc = self.roll.doc
        return doc.describe_row(doc.moved(np.flatnonzero(doc.selection), *self.offsets()), self.row)


class ResizeNotes(Interaction):
    def __init__(self, roll: PianoRoll, pos: QPointF, row: int) -> None:
        super().__init__(roll, pos)
        self.row = row  # the note whose end is dragged: its new length is shown

    def text(self) -> str:
        """How long the grabbed note becomes."""
        doc, rows = self.roll.doc, np.flatnonzero(self.roll.doc.selection)
        return doc.describe_row(doc.resized(rows, self.delta(), self.roll.view.snap_ticks), self.row)

    def delta(self) -> int:
        view = self.roll.view
        d = view.tick_at(self.pos.x()) - view.tick_at(self.origin.x())
        return int(view.snap(d)) if view.snap_beats else int(d)

    def release(self, pos: QPointF) -> None:
        super().release(pos)
        if self.delta():
            self.roll.doc.resize_notes(np.flatnonzero(self.roll.doc.selection), self.delta(), self.roll.view.snap_ticks)

    def paint(self, painter: QPainter) -> None:
        doc = self.roll.doc
        self.roll.paint_ghosts(painter, doc.resized(np.flatnonzero(doc.selection), self.delta(),
                                                    self.roll.view.snap_ticks))


class DrawNote(Interaction):
    def span(self) -> tuple[int, int, int]:
        view = self.roll.view
        start = view.snap(view.tick_at(self.origin.x())) if view.snap_beats else int(view.tick_at(self.origin.x()))
        start = max(0, start)
        end = max(view.snap(view.tick_at(self.pos.x())), start + view.snap_ticks) if view.snap_beats else \
            max(int(view.tick_at(self.pos.x())), start + view.ticks_per_beat // 4)
        return view.pitch_at(self.origin.y()), start, end

    def release(self, pos: QPointF) -> None:
        super().release(pos)
        pitch, start, end = self.span()
        track, channel = self.roll.target_part()
        self.roll.doc.add_note(pitch, start, end, self.roll.draw_velocity, track, channel)

    def text(self) -> str:
        return self.roll.doc.describe_place(*self.span())

    def paint(self, painter: QPainter) -> None:
        pitch, start, end = self.span()
        v = self.roll.view
        painter.setBrush(style.velocity_colour(self.roll.draw_velocity))
        painter.setPen(QPen(style.SELECTED_OUTLINE, 1))
        painter.drawRect(QRectF(v.x_of(start), v.y_of(pitch), (end - start) * v.px_per_tick, v.key_height))


NUMBER_MIN_KEY_PX = 11  # rows lower than this have no room for a velocity number
NUMBER_MOST = 1500


@reports_errors
class PianoRoll(PaintedView):
    """Notes of the document in the shared view; only piano-part notes are editable, others dimmed."""

    playhead_moved = Signal(float)
    audition_pressed = Signal(int, int, int)  # channel, pitch, velocity: a note was clicked, dragged or drawn
    audition_released = Signal()

    def __init__(self, doc: EditorDocument, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc, self.view = doc, view
        self.draw_mode = False
        self.blind = False  # a blind test is on: one colour for every note
        self.show_numbers = True  # each note's velocity written on it, where there is room
        self.draw_velocity = 80
        self.playhead_tick: float | None = None
        self.interaction: Interaction | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(200, 120)
        view.changed.connect(self.update)
        self.tooltips = note_tooltips(self, self.note_at)

    def set_document(self, doc: EditorDocument) -> None:
        self.doc = doc
        self.update()

    # -- hit testing ------------------------------------------------------------
    def editable_mask(self) -> np.ndarray:
        return self.doc.piano_mask

    def note_at(self, pos: QPointF) -> int | None:
        """Row of the editable note under ``pos`` (the latest-starting one), or None."""
        n, v = self.doc.notes, self.view
        tick, pitch = v.tick_at(pos.x()), v.pitch_at(pos.y())
        min_ticks = 3 / v.px_per_tick  # tiny notes stay clickable
        hit = np.flatnonzero((n.pitch == pitch) & (n.start <= tick) & (np.maximum(n.end, n.start + min_ticks) >= tick)
                             & self.editable_mask())
        return int(hit[np.argmax(n.start[hit])]) if len(hit) else None

    def target_part(self) -> tuple[int, int]:
        """Where drawn notes go: the selection's part, else the first piano part."""
        n, sel = self.doc.notes, self.doc.selection
        if sel.any():
            k = int(np.flatnonzero(sel)[0])
            return int(n.track[k]), int(n.channel[k])
        parts = sorted(self.doc.midi.piano_parts) or [(0, 0)]
        return parts[0]

    def audition(self, row: int, dpitch: int = 0) -> None:
        """Let the note of ``row`` be heard (``dpitch`` semitones away while it is dragged), at its shown velocity."""
        n = self.doc.notes
        pitch = min(127, max(0, int(n.pitch[row]) + dpitch))
        self.audition_pressed.emit(int(n.channel[row]), pitch, int(self.doc.shown_velocities()[row]))

    def start_drawing(self, pos: QPointF) -> None:
        self.interaction = DrawNote(self, pos)
        pitch = min(127, max(0, self.view.pitch_at(pos.y())))
        self.audition_pressed.emit(self.target_part()[1], pitch, self.draw_velocity)

    # -- mouse ------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos, mods = event.position(), event.modifiers()
        row = self.note_at(pos)
        additive = bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        if row is None:
            if self.draw_mode:
                self.start_drawing(pos)
                return
            self.interaction = RubberBand(self, pos, additive)
            if not additive:
                self.doc.set_selection(np.zeros(len(self.doc.notes), bool))
            return
        self.audition(row)
        sel = self.doc.selection.copy()
        if mods & Qt.KeyboardModifier.ControlModifier:
            sel[row] = not sel[row]
        elif mods & Qt.KeyboardModifier.ShiftModifier:
            sel[row] = True
        elif not sel[row]:
            sel[:] = False
            sel[row] = True
        self.doc.set_selection(sel)
        if sel[row]:
            right = self.view.x_of(float(self.doc.notes.end[row]))
            near_end = right - pos.x() <= RESIZE_GRIP_PX
            self.interaction = ResizeNotes(self, pos, row) if near_end else MoveNotes(self, pos, row)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.interaction is not None:
            self.interaction.move(event.position())
            return
        row = self.note_at(event.position())
        near_end = row is not None and self.view.x_of(float(self.doc.notes.end[row])) - event.position().x() <= \
            RESIZE_GRIP_PX
        self.setCursor(Qt.CursorShape.SizeHorCursor if near_end else Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.audition_released.emit()
        if self.interaction is not None:
            interaction, self.interaction = self.interaction, None
            interaction.release(event.position())
            self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.note_at(event.position()) is None and not self.draw_mode:
            self.start_drawing(event.position())  # double-click on empty space draws a note

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0 or event.angleDelta().x() / 120.0
        mods, v = event.modifiers(), self.view
        if mods & Qt.KeyboardModifier.ControlModifier and mods & Qt.KeyboardModifier.ShiftModifier:
            v.zoom_y(1.15 ** steps, event.position().y())
        elif mods & Qt.KeyboardModifier.ControlModifier:
            v.zoom_x(1.2 ** steps, event.position().x())
        elif mods & Qt.KeyboardModifier.ShiftModifier or event.angleDelta().x():
            v.scroll_to(left_tick=v.left_tick - steps * 60 / v.px_per_tick)
        else:
            v.scroll_to(top_pitch=v.top_pitch + steps * 3)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        rows = np.flatnonzero(self.doc.selection)
        key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        step = self.view.snap_ticks
        moves: dict[int, tuple[int, int]] = {
            Qt.Key.Key_Left: (-step, 0), Qt.Key.Key_Right: (step, 0),
            Qt.Key.Key_Up: (0, 12 if shift else 1), Qt.Key.Key_Down: (0, -12 if shift else -1)}
        if key in moves and len(rows):
            self.doc.move_notes(rows, *moves[key])
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and len(rows):
            self.doc.delete_notes(rows)
        else:
            super().keyPressEvent(event)

    # -- painting ------------------------------------------------------------------
    def visible_rows(self) -> np.ndarray:
        n, v = self.doc.notes, self.view
        t0, t1 = v.tick_at(0), v.tick_at(self.width())
        hi, lo = v.pitch_at(0), v.pitch_at(self.height())
        return np.flatnonzero((n.start <= t1) & (n.end >= t0) & (n.pitch >= lo) & (n.pitch <= hi))

    def one_per_pixel(self, rows: np.ndarray) -> np.ndarray:
        """Level of detail: when zoomed out, keep the longest note per (pixel column, key, colour);
        the rest would be painted on exactly the same pixels."""
        if len(rows) < 2000:
            return rows
        n, v = self.doc.notes, self.view
        x = ((n.start[rows] - v.left_tick) * v.px_per_tick).astype(np.int64)
        bucket = self.doc.shown_velocities()[rows] // 8 + 16 * (~self.doc.piano_mask[rows])
        key = (x * 128 + n.pitch[rows]) * 32 + bucket
        order = np.lexsort((-(n.end[rows] - n.start[rows]), key))  # longest first within each key
        _, first = np.unique(key[order], return_index=True)
        return np.sort(rows[order[first]])

    def note_rects(self, rows: np.ndarray, notes: NoteTable | None = None) -> list[QRectF]:
        """Rectangles of ``rows`` of the document's notes, or of ``notes`` (e.g. as a drag would leave them)."""
        n, v = self.doc.notes if notes is None else notes, self.view
        x = (n.start[rows] - v.left_tick) * v.px_per_tick
        w = np.maximum((n.end[rows] - n.start[rows]) * v.px_per_tick, 2.0)
        y = (v.top_pitch - n.pitch[rows]) * v.key_height
        h = max(v.key_height - 1.0, 1.0)
        return [QRectF(a, b, c, h) for a, b, c in zip(x.tolist(), y.tolist(), w.tolist())]

    def paint_readout(self, p: QPainter, interaction: Interaction) -> None:
        """The gesture's text beside the pointer, once it has moved."""
        text = interaction.text()
        if text is not None and interaction.pos != interaction.origin:
            style.draw_readout(p, text, interaction.pos, self.width())

    def paint_ghosts(self, painter: QPainter, notes: NoteTable) -> None:
        """Dashed outlines of the selected notes where a drag would leave them (``notes``: the whole table after
        the edit, so the outlines obey the same clamps as the edit itself)."""
        painter.setPen(QPen(style.SELECTED_OUTLINE, 1, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRects(self.note_rects(np.flatnonzero(self.doc.selection), notes))

    def _paint(self, p: QPainter) -> None:
        w, h, v = self.width(), self.height(), self.view
        p.fillRect(self.rect(), style.BACKGROUND)
        for pitch in range(max(0, v.pitch_at(h)), min(127, v.pitch_at(0)) + 1):
            p.fillRect(QRectF(0, v.y_of(pitch), w, v.key_height), style.BLACK_ROW if style.is_black(pitch)
                       else style.WHITE_ROW)
        self.paint_grid(p)
        rows = self.one_per_pixel(self.visible_rows())
        piano = self.doc.piano_mask[rows]
        velocity = self.doc.shown_velocities()[rows]
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(style.DIMMED_NOTE)
        p.drawRects(self.note_rects(rows[~piano]))
        if self.blind:  # one colour for every note: the colours would tell the versions apart
            velocity = np.full(len(velocity), 64)
        buckets = (velocity[piano] // 8) * 8 + 4  # 16 colour buckets keep brush changes few
        for b in np.unique(buckets):
            p.setBrush(style.velocity_colour(int(b)))
            p.drawRects(self.note_rects(rows[piano][buckets == b]))
        if self.show_numbers and not self.blind:
            self.paint_velocity_numbers(p, rows[piano], velocity[piano])
        selected = rows[self.doc.selection[rows]]
        if len(selected):
            p.setPen(QPen(style.SELECTED_OUTLINE, 1.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRects(self.note_rects(selected))
        if self.interaction is not None:
            self.interaction.paint(p)
            self.paint_readout(p, self.interaction)
        if self.playhead_tick is not None:
            x = v.x_of(self.playhead_tick)
            p.setPen(QPen(style.PLAYHEAD, 1.5))
            p.drawLine(QPointF(x, 0), QPointF(x, h))
        if not len(self.doc.notes) and self.doc.midi.path is None and not self.draw_mode:
            p.setPen(style.HINT_TEXT)  # the empty editor says how to start
            p.drawText(QRectF(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, EMPTY_HINT)

    def paint_velocity_numbers(self, p: QPainter, rows: np.ndarray, velocity: np.ndarray) -> None:
        """Each note's velocity written inside it, where it is tall and long enough to hold the number
        (zoomed in): dark on light colours, light on dark ones."""
        v = self.view
        if v.key_height < NUMBER_MIN_KEY_PX or not len(rows):
            return
        font = p.font()
        font.setPixelSize(int(min(11, v.key_height - 3)))
        p.setFont(font)
        room = (self.doc.notes.end[rows] - self.doc.notes.start[rows]) * v.px_per_tick
        fits = room >= p.fontMetrics().horizontalAdvance("127") + 4
        if fits.sum() > NUMBER_MOST:  # a screenful of numbers is noise, and slow to draw
            return
        left = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        for rect, value in zip(self.note_rects(rows[fits]), velocity[fits].tolist()):
            p.setPen(style.NUMBER_ON_LIGHT if style.velocity_colour(value).lightness() > 110 else style.NUMBER_ON_DARK)
            p.drawText(rect.adjusted(2, 0, 0, 0), left, str(value))

    def paint_grid(self, p: QPainter) -> None:
        if self.view.time_grid:
            self._paint_time_grid(p)
        else:
            self._paint_bar_grid(p)
        style.draw_marker_lines(p, [self.view.x_of(float(m.tick)) for m in self.doc.markers], self.width(),
                                self.height())

    def _paint_time_grid(self, p: QPainter) -> None:
        """Lines at the time ruler's marks: strong at its labels, faint at its ticks between."""
        h = self.height()
        grid = time_grid(self.view, self.doc.midi.tempo_map, self.width())
        for pen, xs in ((style.BEAT_LINE, grid.minor_xs), (style.BAR_LINE, grid.xs)):
            p.setPen(QPen(pen, 1))
            p.drawLines([QLineF(x, 0, x, h) for x in xs.tolist()])

    def _paint_bar_grid(self, p: QPainter) -> None:
        v, h = self.view, self.height()
        tpb = v.ticks_per_beat
        t0, t1 = v.tick_at(0), v.tick_at(self.width())
        beat_px = tpb * v.px_per_tick
        if beat_px >= 6:
            p.setPen(QPen(style.BEAT_LINE, 1))
            beats = range(int(t0 // tpb), int(t1 // tpb) + 1)
            p.drawLines([QLineF(x, 0, x, h) for x in (v.x_of(float(b * tpb)) for b in beats)])
        bars = [(v.x_of(float(t)), n) for t, n in bar_lines(self.doc.midi.time_signatures, tpb, int(t1) + 1)
                if t >= t0]
        every = bar_group(4 * beat_px, BAR_LINE_SPACING_PX)  # zoomed out, the bars between fade to beat lines
        for pen, strong in ((style.BEAT_LINE, False), (style.BAR_LINE, True)):
            p.setPen(QPen(pen, 1))
            p.drawLines([QLineF(x, 0, x, h) for x, n in bars if ((n - 1) % every == 0) == strong])
