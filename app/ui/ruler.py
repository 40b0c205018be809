"""The ruler above the roll: bar numbers and beat ticks (or minutes and seconds: View ▸ Ruler in Minutes and
Seconds, for performances recorded without a grid), under a strip of the song's markers where it has any.

A click moves the playhead (to a marker, on its name); a marker's name dragged sideways moves the marker (one undo
step, on release); double-clicking a name, or the right-click menu, asks to rename, delete or add one.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from app.core import markers as marker_edits
from app.core.editor import EditorDocument, clock
from app.core.markers import Marker, Markers
from app.core.timing import bar_lines
from app.ui import style
from app.ui.errors import reports_errors
from app.ui.geometry import TimeGrid, ViewState, bar_group, time_grid
from app.ui.painted import PaintedView
from app.ui.tooltips import Tooltips

LABEL_SPACING_PX = 60.0  # bar numbers on the ruler at least this far apart
BAR_STRIP = 24  # px: the ruler's bar numbers and beat ticks
MARKER_STRIP = 17  # px above them, for a song with markers
MARKER_PAD = 4  # px between a marker's flag and its text
MARKER_TEXT_PX = 360  # a longer marker text is cut short (the tooltip has all of it)


def time_label(seconds: float, step: float) -> str:
    """"1:05" at the time ruler's mark ``seconds`` ("1:05.5" where marks are under a second apart, "1:02:05"
    past an hour)."""
    text = clock(round(seconds, 1))  # rounded: a mark names its step, where the playhead's clock rounds down
    return text if step < 1 else text[:-2]  # whole seconds: without the tenths


@dataclass
class MarkerDrag:
    """A press on a marker's name: a drag once the pointer has moved the platform's drag distance."""

    tick: int  # the marker's
    press_x: float
    to_tick: int | None = None  # where it would drop (snapped); None until it is a drag

    def move(self, x: float, view: ViewState) -> None:
        if self.to_tick is not None or abs(x - self.press_x) >= QApplication.startDragDistance():
            self.to_tick = max(0, view.snap(self.tick + (x - self.press_x) / view.px_per_tick))


@reports_errors
class Ruler(PaintedView):
    """Bar numbers and beat ticks, under the markers' strip; asks for the playhead to move, and for markers to be
    added, renamed or deleted (the window's marker commands answer); moves a dragged marker itself."""

    seek_requested = Signal(float)
    add_marker_requested = Signal(int)  # tick
    rename_marker_requested = Signal(int)  # the marker's tick
    delete_marker_requested = Signal(int)
    select_section_requested = Signal(int)  # the marker's tick: select the notes up to the next marker
    loop_section_requested = Signal(int)  # the same, and loop them

    def __init__(self, doc: EditorDocument, view: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.doc = doc
        self.playhead_tick: float | None = None
        self.drag: MarkerDrag | None = None
        self.tooltips = Tooltips(self, self.marker_text_at)
        view.changed.connect(self.update)

    @property
    def doc(self) -> EditorDocument:
        return self._doc

    @doc.setter
    def doc(self, doc: EditorDocument) -> None:
        self._doc = doc
        self.drag = None
        self.fit_height()

    def fit_height(self) -> None:
        """Room for the markers' strip while there are markers (the first one added opens it)."""
        self.setFixedHeight(BAR_STRIP + self.marker_strip)
        self.update()

    @property
    def markers(self) -> Markers:
        """The song's markers, with a dragged one where it would drop."""
        drag = self.drag
        if drag is None or drag.to_tick is None:
            return self._doc.markers
        return marker_edits.moved(self._doc.markers, drag.tick, drag.to_tick)

    @property
    def marker_strip(self) -> int:
        return MARKER_STRIP if self._doc.markers else 0

    # -- painting ---------------------------------------------------------------
    def _paint(self, p: QPainter) -> None:
        p.fillRect(self.rect(), QColor("#2c3036"))
        if self.marker_strip:
            self._paint_markers(p)
        p.translate(0, self.marker_strip)
        if self.view.time_grid:
            self._paint_times(p)
        else:
            self._paint_bars(p)
        if self.playhead_tick is not None:
            p.setPen(QPen(style.PLAYHEAD, 2))
            x = self.view.x_of(self.playhead_tick)
            p.drawLine(QLineF(x, -self.marker_strip, x, BAR_STRIP))
        if self.drag is not None and self.drag.to_tick is not None:
            where = QPointF(self.view.x_of(self.drag.to_tick), BAR_STRIP)
            style.draw_readout(p, self._doc.describe_position(self.drag.to_tick), where, self.width())

    def _paint_bars(self, p: QPainter) -> None:
        v = self.view
        t1 = v.tick_at(self.width())
        bars = bar_lines(self.doc.midi.time_signatures, v.ticks_per_beat, int(t1) + 1)
        every = bar_group(v.ticks_per_beat * 4 * v.px_per_tick, LABEL_SPACING_PX)
        p.setPen(QColor("#c9ced6"))
        for tick, number in bars:
            x = v.x_of(tick)
            if x < -50:
                continue
            labelled = (number - 1) % every == 0
            p.drawLine(QLineF(x, 10 if labelled else 17, x, BAR_STRIP))  # the bars between: short ticks
            if labelled:
                p.drawText(QPointF(x + 3, 12), str(number))
        if v.ticks_per_beat * v.px_per_tick >= 8:
            p.setPen(QColor("#6b7280"))
            for beat in range(int(v.left_tick // v.ticks_per_beat), int(t1 // v.ticks_per_beat) + 1):
                x = v.x_of(beat * v.ticks_per_beat)
                p.drawLine(QLineF(x, 18, x, BAR_STRIP))

    def time_grid(self) -> TimeGrid:
        return time_grid(self.view, self.doc.midi.tempo_map, self.width())

    def _paint_times(self, p: QPainter) -> None:
        grid = self.time_grid()
        p.setPen(QColor("#6b7280"))  # short ticks between the labels, as the beats between the bars
        p.drawLines([QLineF(x, 18, x, BAR_STRIP) for x in grid.minor_xs.tolist()])
        p.setPen(QColor("#c9ced6"))
        for x, at in zip(grid.xs.tolist(), grid.seconds.tolist()):
            p.drawLine(QLineF(x, 10, x, BAR_STRIP))
            p.drawText(QPointF(x + 3, 12), time_label(at, grid.step))

    def marker_spans(self) -> list[tuple[Marker, float, float]]:
        """(marker, x0, x1) of each marker's label in view: from its flag (or the left edge, where the section
        began before it: what is playing stays named) to the next marker's flag."""
        markers = self.markers
        xs = [self.view.x_of(m.tick) for m in markers] + [float("inf")]
        return [(m, max(x0, 0.0), x1) for m, x0, x1 in zip(markers, xs, xs[1:])
                if x1 > 0 and x0 < self.width()]

    def _paint_markers(self, p: QPainter) -> None:
        p.fillRect(QRectF(0, 0, self.width(), MARKER_STRIP), style.MARKER_STRIP)
        metrics = p.fontMetrics()
        for marker, x0, x1 in self.marker_spans():
            x = self.view.x_of(marker.tick)
            if x >= 0:  # a flag: a bar down the strip, not through the bar lines below
                p.fillRect(QRectF(x, 0, 2, MARKER_STRIP), style.MARKER)
            room = min(x1, self.width()) - x0 - 2 * MARKER_PAD
            if room >= 5 * metrics.averageCharWidth():  # else "R…" would say nothing
                text = metrics.elidedText(marker.text, Qt.TextElideMode.ElideRight, int(min(room, MARKER_TEXT_PX)))
                p.setPen(style.MARKER_TEXT)
                p.drawText(QRectF(x0 + MARKER_PAD, 0, room, MARKER_STRIP), Qt.AlignmentFlag.AlignVCenter, text)

    # -- where things are ---------------------------------------------------------
    def marker_at(self, pos: QPointF) -> Marker | None:
        """The marker whose label is at ``pos``, or None (also below the marker strip)."""
        if pos.y() >= self.marker_strip:
            return None
        return next((m for m, x0, x1 in self.marker_spans() if x0 <= pos.x() < x1), None)

    def marker_text_at(self, pos: QPointF) -> str | None:
        marker = self.marker_at(pos)
        if marker is None or self.drag is not None:
            return None
        return f"{textwrap.fill(marker.text, 80)}\n{self.doc.describe_position(marker.tick)}"  # not a screen wide

    # -- mouse --------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        marker = self.marker_at(event.position())
        tick = marker.tick if marker is not None else self.view.tick_at(event.position().x())
        self.seek_requested.emit(max(0.0, float(tick)))
        if marker is not None:
            self.drag = MarkerDrag(marker.tick, event.position().x())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.drag is not None:
            self.drag.move(event.position().x(), self.view)
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self.drag = self.drag, None
        if drag is not None and drag.to_tick is not None:
            self._doc.move_marker(drag.tick, drag.to_tick)  # one undo step (nothing when dropped where it was)
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        marker = self.marker_at(event.position())
        if marker is not None:
            self.drag = None
            self.rename_marker_requested.emit(marker.tick)
        elif event.position().y() < self.marker_strip:  # on the strip, between names: a new marker there
            self.add_marker_requested.emit(self._snapped(event.position().x()))

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.context_menu(QPointF(event.pos()))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # on the main thread: no worker-thread deleteLater
        menu.popup(event.globalPos())  # not exec(): no nested event loop while the song plays

    def context_menu(self, pos: QPointF) -> QMenu:
        """Rename / Delete / Select Section's Notes / Loop Section for the marker named at ``pos`` (if any), and
        Add Marker at the snapped beat there."""
        menu = QMenu(self)
        marker = self.marker_at(pos)
        if marker is not None:
            menu.addAction("Rename Marker…", lambda: self.rename_marker_requested.emit(marker.tick))
            menu.addAction("Delete Marker", lambda: self.delete_marker_requested.emit(marker.tick))
            menu.addAction("Select Section's Notes", lambda: self.select_section_requested.emit(marker.tick))
            menu.addAction("Loop Section", lambda: self.loop_section_requested.emit(marker.tick))
            menu.addSeparator()
        tick = self._snapped(pos.x())
        menu.addAction(f"Add Marker at {self._doc.bar_and_beat(tick)}", lambda: self.add_marker_requested.emit(tick))
        return menu

    def _snapped(self, x: float) -> int:
        return max(0, self.view.snap(self.view.tick_at(x)))
