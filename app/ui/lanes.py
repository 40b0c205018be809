"""The views around the roll: keyboard (left) and velocity lane (bottom); the ruler (top) is in ``ruler``."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from app.core.dynamics import dynamics_curve, in_time_order
from app.core.editor import EditorDocument
from app.core.notes import pitch_name
from app.ui import style
from app.ui.errors import reports_errors
from app.ui.geometry import ViewState
from app.ui.painted import PaintedView
from app.ui.tooltips import note_tooltips

LANE_PAD = 6  # px above 127 in the velocity lane
PEDAL_STRIP = 7  # px below 0: the sustain pedal's strip
BOTTOM_PAD = PEDAL_STRIP + 3
BRUSH_MIN_SIGMA = 1.0  # s: the dynamics brush is at least a phrase wide (a Gaussian of this SD, in time)
CURVE_STEP_PX = 4.0  # the dynamics curve is sampled every this many pixels
BLIND_TEXT = "Velocities are hidden during the blind test."


@reports_errors
class Keyboard(PaintedView):
    """Piano keys beside the roll; pressing one (or sliding over several) asks to hear it."""

    key_pressed = Signal(int)  # pitch
    key_released = Signal()

    def __init__(self, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.setFixedWidth(56)
        view.changed.connect(self.update)

    def _paint(self, p: QPainter) -> None:
        v = self.view
        p.fillRect(self.rect(), QColor("#f4f4f4"))
        shown = range(max(0, v.pitch_at(self.height())), min(127, v.pitch_at(0)) + 1)
        for pitch in shown:
            y = v.y_of(pitch)
            if style.is_black(pitch):
                p.fillRect(QRectF(0, y, self.width() * 0.62, v.key_height), QColor("#222"))
            else:
                p.setPen(QColor("#bbb"))
                p.drawLine(QPointF(0, y + v.key_height), QPointF(self.width(), y + v.key_height))
        # The names of the Cs go on last, each centred on its row and free to overlap the rows beside it, on
        # the white part of the keys (right of the black ones): zoomed out, a row is lower than the text.
        text_height = p.fontMetrics().height()
        if 12 * v.key_height < 1.5 * text_height:
            return  # octaves closer than that would run their names together
        p.setPen(QColor("#333"))
        for pitch in (pitch for pitch in shown if pitch % 12 == 0):
            middle = v.y_of(pitch) + v.key_height / 2
            p.drawText(QRectF(0, middle - text_height / 2, self.width() - 3, text_height),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, pitch_name(pitch))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.key_pressed.emit(self.key_at(event.position().y()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:  # a glissando: the auditioner skips a repeated key
            self.key_pressed.emit(self.key_at(event.position().y()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.key_released.emit()

    def key_at(self, y: float) -> int:
        return min(127, max(0, self.view.pitch_at(y)))

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.view.zoom_y(1.15 ** steps, event.position().y())
        else:
            self.view.scroll_to(top_pitch=self.view.top_pitch + steps * 3)


@reports_errors
class LaneGrip(PaintedView):
    """The strip above the velocity lane: drag it to make the lane taller (finer velocity steps) or shorter."""

    LOWEST, HIGHEST = 90, 600  # px

    resized = Signal(int)  # the lane's new height, when a drag ends

    def __init__(self, lane: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self.setFixedHeight(5)
        self.setCursor(Qt.CursorShape.SizeVerCursor)
        self.setToolTip("Drag to resize the velocity lane")
        self._from: tuple[float, int] | None = None  # (global y, lane height) where the drag began

    def set_height(self, height: int) -> None:
        """The lane's height, kept within LOWEST..HIGHEST."""
        self.lane.setFixedHeight(min(self.HIGHEST, max(self.LOWEST, height)))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._from = (event.globalPosition().y(), self.lane.height())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._from is not None:
            y, height = self._from
            self.set_height(height + round(y - event.globalPosition().y()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._from is not None:
            self._from = None
            self.resized.emit(self.lane.height())

    def _paint(self, p: QPainter) -> None:
        p.fillRect(self.rect(), style.BAR_LINE)


@reports_errors
class VelocityLane(PaintedView):
    """One bar per piano note at its onset; other versions overlaid as thin lines; the sustain pedal as
    a strip along the bottom (it shapes how loud the piano sounds as much as the velocities do).

    Drag a bar up/down to set it; drag sideways to draw a straight ramp over the
    notes in between (the selection, if there is one); Shift+drag draws freehand, each
    bar taking the height of the path above it. One undo step per drag; while it lasts,
    ``previewed`` offers the velocities it would set (playback plays them).
    """

    previewed = Signal(object, object)  # (rows, velocities) of the drag in progress; empty when it is dropped

    def __init__(self, doc: EditorDocument, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc, self.view = doc, view
        self.overlay = True
        self.curve = True  # the phrase-level dynamics curve of each version drawn over the bars
        self.blind = False  # a blind test is on: velocities hidden
        self._onsets: tuple[tuple, np.ndarray, np.ndarray] | None = None  # (what for, piano rows, onsets in s)
        self.drag: tuple[QPointF, QPointF] | None = None
        self.path: list[QPointF] | None = None  # a freehand drag's points, in the order drawn
        self.brush = False  # the drag (with Ctrl) raises or lowers a phrase, keeping its notes' differences
        self.setMinimumHeight(90)
        view.changed.connect(self.update)
        self.tooltips = note_tooltips(self, self.bar_at)

    # -- geometry -------------------------------------------------------------
    def y_of(self, velocity: np.ndarray | float) -> np.ndarray:
        return LANE_PAD + (127 - np.asarray(velocity, float)) * (self.height() - LANE_PAD - BOTTOM_PAD) / 127

    def velocity_at(self, y: float) -> int:
        return int(self.velocities_at(np.array([y]))[0])

    def velocities_at(self, y: np.ndarray) -> np.ndarray:
        """(K,) velocities (1..127) at heights ``y`` (K,)."""
        v = 127 - (np.asarray(y, float) - LANE_PAD) * 127 / max(1.0, self.height() - LANE_PAD - BOTTOM_PAD)
        return np.clip(np.rint(v), 1, 127).astype(np.int64)

    def point_at(self, row: int, velocity: int | None = None) -> QPointF:
        """Top of ``row``'s bar (or the height of ``velocity``): where a test grabs it."""
        v = self.doc.shown_velocities()[row] if velocity is None else velocity
        return QPointF(self.view.x_of(float(self.doc.notes.start[row])), float(self.y_of(v)))

    def rows(self) -> np.ndarray:
        """Visible piano notes; when zoomed out, only the loudest per pixel column (what would show)."""
        n, v = self.doc.notes, self.view
        visible = (n.start >= v.tick_at(-4)) & (n.start <= v.tick_at(self.width() + 4))
        rows = np.flatnonzero(self.doc.piano_mask & visible)
        if len(rows) < 2000:
            return rows
        x = ((n.start[rows] - v.left_tick) * v.px_per_tick).astype(np.int64)
        order = np.lexsort((-self.doc.shown_velocities()[rows], x))
        _, first = np.unique(x[order], return_index=True)
        return np.sort(rows[order[first]])

    def targets(self, x0: float, x1: float) -> np.ndarray:
        """Piano notes whose bar lies between x0 and x1 (within the selection if there is one)."""
        n, v = self.doc.notes, self.view
        lo, hi = min(x0, x1) - 3, max(x0, x1) + 3
        x = (n.start - v.left_tick) * v.px_per_tick
        hit = self.doc.piano_mask & (x >= lo) & (x <= hi)
        if self.doc.selection.any() and (hit & self.doc.selection).any():
            hit &= self.doc.selection
        return np.flatnonzero(hit)

    def bar_at(self, pos: QPointF) -> int | None:
        """Row of the piano note whose bar is under ``pos`` (within 3 px; the one nearest in height)."""
        x = self.view.x_of(self.doc.notes.start.astype(float))
        rows = np.flatnonzero(self.doc.piano_mask & (np.abs(x - pos.x()) <= 3))
        if not len(rows):
            return None
        height = np.abs(self.doc.shown_velocities()[rows].astype(float) - self.velocity_at(pos.y()))
        return int(rows[np.argmin(height)])

    def drag_values(self) -> tuple[np.ndarray, np.ndarray]:
        assert self.drag is not None
        if self.path is not None:
            return self._freehand_values(self.path)
        if self.brush:
            return self._brush_values(*self.drag)
        a, b = self.drag
        rows = self.targets(a.x(), b.x())
        v0, v1 = self.velocity_at(a.y()), self.velocity_at(b.y())
        if abs(b.x() - a.x()) < 4:  # a vertical drag sets the bar(s) under the cursor
            return rows, np.full(len(rows), v1)
        x = self.view.x_of(self.doc.notes.start[rows].astype(float))
        t = np.clip((x - a.x()) / (b.x() - a.x()), 0, 1)
        return rows, np.rint(v0 + t * (v1 - v0))

    def _freehand_values(self, path: list[QPointF]) -> tuple[np.ndarray, np.ndarray]:
        """The bars under a freehand path and the path's velocity above each (by x: where the path went
        back over itself, the later stroke counts)."""
        x = np.array([p.x() for p in path])
        y = np.array([p.y() for p in path])
        keep = len(x) - 1 - np.unique(x[::-1], return_index=True)[1]  # the last point drawn at each x
        x, y = x[keep], y[keep]  # sorted by x
        rows = self.targets(float(x.min()), float(x.max()))
        bars = self.view.x_of(self.doc.notes.start[rows].astype(float))
        return rows, self.velocities_at(np.interp(bars, x, y))

    def _brush_values(self, a: QPointF, b: QPointF) -> tuple[np.ndarray, np.ndarray]:
        """The dynamics brush: the piano notes (the selection's, if any) around the press point louder by the
        drag's height there, less so further away (a Gaussian in seconds, as wide as the drag went sideways,
        at least :data:`BRUSH_MIN_SIGMA`), each keeping how it stands out from its neighbours."""
        delta = self.velocity_at(b.y()) - self.velocity_at(a.y())
        tempo = self.doc.midi.tempo_map
        centre, edge = tempo.seconds(np.maximum(self.view.tick_at(np.array([a.x(), b.x()])), 0.0))
        sigma = max(BRUSH_MIN_SIGMA, abs(float(edge - centre)))
        rows, onsets = self.piano_onsets()
        near = np.abs(onsets - centre) <= 3 * sigma
        if self.doc.selection.any():
            near &= self.doc.selection[rows]
        rows, onsets = rows[near], onsets[near]
        weight = np.exp(-0.5 * ((onsets - centre) / sigma) ** 2)
        values = self.doc.shown_velocities()[rows] + delta * weight
        return rows, np.clip(np.rint(values), 1, 127)

    def brush_text(self) -> str:
        assert self.drag is not None
        a, b = self.drag
        delta = self.velocity_at(b.y()) - self.velocity_at(a.y())
        return f"phrase {delta:+d}"

    # -- mouse ------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.drag = (event.position(), event.position())
            freehand = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.path = [event.position()] if freehand else None
            self.brush = not freehand and bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.drag is not None:
            self.drag = (self.drag[0], event.position())
            if self.path is not None:
                self.path.append(event.position())
            self.previewed.emit(*self.drag_values())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.drag is None:
            return
        self.drag = (self.drag[0], event.position())
        if self.path is not None:
            self.path.append(event.position())
        rows, values = self.drag_values()
        text = "Draw velocities" if self.path is not None else self.brush_text().capitalize() if self.brush else \
            "Draw velocity ramp" if len(rows) > 1 else "Set velocity"
        unchanged = self.brush and np.array_equal(values, self.doc.shown_velocities()[rows])
        self.drag, self.path, self.brush = None, None, False
        if len(rows) and not unchanged:
            self.doc.set_velocities(rows, values, text)
        else:
            self.previewed.emit(rows, values)  # nothing to set: back to the document's velocities
        self.update()

    # -- painting ------------------------------------------------------------------
    def _paint(self, p: QPainter) -> None:
        p.fillRect(self.rect(), style.BACKGROUND)
        if self.blind:
            p.setPen(style.HINT_TEXT)
            p.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter, BLIND_TEXT)
            return
        p.setPen(QPen(style.BEAT_LINE, 1, Qt.PenStyle.DotLine))
        for level in (32, 64, 96):
            guide = float(self.y_of(level))
            p.drawLine(QLineF(0, guide, self.width(), guide))
        # sections as on the roll, so a phrase or ramp drawn here can start and end where a section does
        style.draw_marker_lines(p, [self.view.x_of(float(m.tick)) for m in self.doc.markers], self.width(),
                                self.height())
        rows = self.rows()
        shown = self.doc.shown_velocities()[rows].astype(int)
        dragged = self.drag_values() if self.drag is not None else None
        if dragged is not None:
            override = dict(zip(dragged[0].tolist(), dragged[1].tolist()))
            shown = np.array([override.get(r, s) for r, s in zip(rows.tolist(), shown.tolist())], dtype=int)
        x: np.ndarray = self.view.x_of(self.doc.notes.start[rows].astype(float))
        y: np.ndarray = self.y_of(shown)
        base = float(self.y_of(0))
        # Group bars by colour (16 velocity buckets + selected) and hand Qt plain floats in one call each.
        bucket = np.where(self.doc.selection[rows], -1, (shown // 8) * 8 + 4)
        for b in np.unique(bucket):
            colour = style.SELECTED_OUTLINE if b < 0 else style.velocity_colour(int(b))
            p.setPen(QPen(colour, 2))
            pick = bucket == b
            p.drawLines([QLineF(a, base, a, c) for a, c in zip(x[pick].tolist(), y[pick].tolist())])
        self.paint_pedal(p)
        p.setPen(style.HINT_TEXT)
        for level in (32, 64, 96):  # the scale, at the right edge, over the bars
            p.drawText(QPointF(self.width() - 22, float(self.y_of(level)) - 2), str(level))
        if self.curve:
            self.paint_curves(p, dragged)
        if self.overlay:
            self.paint_overlays(p, rows, x)
        if self.drag is not None and dragged is not None:
            style.draw_readout(p, self.drag_text(dragged), self.drag[1], self.width())

    def drag_text(self, dragged: tuple[np.ndarray, np.ndarray] | None = None) -> str:
        """What the drag in progress sets (``dragged``: its :meth:`drag_values`, if already computed), shown
        beside the pointer: "velocity 87 · 3 notes", or a ramp's "64 → 96 · 12 notes"."""
        rows, values = dragged if dragged is not None else self.drag_values()
        if not len(rows):
            return "no piano note here"
        count = f"{len(rows)} note" + ("s" if len(rows) > 1 else "")
        if self.brush:
            return f"{self.brush_text()} · {count}"
        if self.path is not None:
            return f"freehand {int(values.min())}–{int(values.max())} · {count}"
        low, high = int(values[0]), int(values[-1])
        return f"velocity {low} · {count}" if low == high else f"{low} → {high} · {count}"

    def paint_pedal(self, p: QPainter) -> None:
        """Sustain-pedal-down spans of the piano part, in the padding below velocity 0."""
        spans = self.doc.midi.pedal_spans()
        v = self.view
        shown = spans[(spans[:, 1] >= v.tick_at(0)) & (spans[:, 0] <= v.tick_at(self.width()))]
        top = self.height() - PEDAL_STRIP
        for down, up in shown.tolist():
            x0, x1 = v.x_of(down), v.x_of(up)
            p.fillRect(QRectF(x0, top, max(1.0, x1 - x0 - 1), PEDAL_STRIP - 1), style.PEDAL)

    def piano_onsets(self) -> tuple[np.ndarray, np.ndarray]:
        """(K,) piano note rows in order of onset and (K,) their onsets in seconds; kept until the notes change."""
        notes, parts = self.doc.notes, self.doc.midi.piano_parts  # other notes, or other parts ticked as piano
        if self._onsets is None or self._onsets[0][0] is not notes or self._onsets[0][1] != parts:
            rows = in_time_order(notes.start, self.doc.piano_mask)
            self._onsets = ((notes, parts), rows, self.doc.midi.tempo_map.seconds(notes.start[rows]))
        return self._onsets[1], self._onsets[2]

    def paint_curves(self, p: QPainter, dragged: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Each version's phrase-level dynamics (:func:`dynamics_curve`) as a line across the lane: the shown
        version's (with a drag in progress) bold, the others thin in their colours while overlays are on."""
        rows, onsets = self.piano_onsets()
        if not len(rows):
            return
        xs = np.arange(0.0, self.width() + CURVE_STEP_PX, CURVE_STEP_PX)
        at = self.doc.midi.tempo_map.seconds(np.maximum(self.view.tick_at(xs), 0.0))
        for version in self.doc.available_versions():
            shown = version is self.doc.version
            if not shown and not self.overlay:
                continue
            velocity = self.doc.state.velocities(version)
            assert velocity is not None
            if shown and dragged is not None:
                velocity = velocity.copy()
                velocity[dragged[0]] = dragged[1]
            ys = self.y_of(dynamics_curve(onsets, velocity[rows], at))
            colour = style.CURVE if shown else style.VERSION_COLOURS[version.value]
            p.setPen(QPen(colour, 2.5 if shown else 1.5, Qt.PenStyle.SolidLine if shown else Qt.PenStyle.DashLine))
            p.drawLines([QLineF(xs[k], ys[k], xs[k + 1], ys[k + 1]) for k in range(len(xs) - 1)
                         if np.isfinite(ys[k]) and np.isfinite(ys[k + 1])])

    def paint_overlays(self, p: QPainter, rows: np.ndarray, x: np.ndarray) -> None:
        """Each other version as a thin tick across every bar at that version's velocity, with a legend."""
        legend_x = 6.0
        for version in self.doc.available_versions():
            velocity = self.doc.state.velocities(version)
            if version is self.doc.version or velocity is None:
                continue
            y = self.y_of(velocity[rows])
            p.setPen(QPen(style.VERSION_COLOURS[version.value], 1.5))
            p.drawLines([QLineF(a - 4, b, a + 4, b) for a, b in zip(x.tolist(), y.tolist())])
            p.drawText(QPointF(legend_x, 12.0), f"— {version.label}")
            legend_x += 90.0
