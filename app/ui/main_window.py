"""The editor window: menus, toolbar, piano roll + velocity lane, Humanise panel, tracks, status bar."""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QThread, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollBar,
    QUndoView,
    QWidget,
)

from app import DEMO_SONG
from app.core.editor import EditorDocument, EditorState, Version
from app.core.humanise import VelocityPredictor
from app.core.midi_document import OPENABLE_SUFFIXES, MidiError
from app.core.recovery import RecoveryStore
from app.core.timing import signature_at
from app.ui import style
from app.ui.batch import BatchHumanise
from app.ui.blind import BlindTestController, slot_text
from app.ui.commands import StateCommand
from app.ui.errors import reports_errors
from app.ui.exporting import Exporter
from app.ui.filters import MIDI_FILES_TO_OPEN
from app.ui.geometry import HIGHEST, LOWEST, SNAP_CHOICES, ViewState
from app.ui.help import open_model_card, show_about, show_shortcuts
from app.ui.humanising import HumaniseController
from app.ui.lanes import Keyboard, LaneGrip, VelocityLane
from app.ui.marker_commands import MarkerCommands
from app.ui.markers_panel import MarkersPanel
from app.ui.midi_input import PlayedVelocities
from app.ui.model_choice import ModelChoice
from app.ui.note_edits import NoteEdits
from app.ui.panels import HumanisePanel, TracksPanel
from app.ui.pianoroll import PianoRoll
from app.ui.recovery import RecoveryKeeper
from app.ui.ruler import Ruler
from app.ui.settings import Settings
from app.ui.transport import Transport
from app.ui.worker import finish_threads


def settle_memory() -> None:
    """Collect once, then set every object alive now aside from the cyclic garbage collector (``gc.freeze``).

    An open file is tens of thousands of long-lived MIDI messages. Python's full collections walk them all,
    a pause of about 0.1 s with the GIL held, which made playback stutter while a worker thread built new
    schedules after a note edit (measured: events up to 123 ms late on a 16,000-note file). Opening the
    next file unfreezes them first, so a closed file's objects are still freed."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


@reports_errors
class MainWindow(QMainWindow):
    humanise_finished = Signal()

    def __init__(self, settings: Settings | None = None,
                 loader: Callable[[], VelocityPredictor] | None = None,
                 recovery: RecoveryStore | None = None) -> None:
        """``recovery``: where to keep a copy of unsaved work (``launch`` gives the app's; none in tests)."""
        super().__init__()
        self.settings = settings or Settings()
        self.keeper = RecoveryKeeper(self, recovery) if recovery is not None else None
        self.blind = BlindTestController(self)
        self.undo_stack = QUndoStack(self)
        self.doc = EditorDocument.empty()
        self.view = ViewState(self.doc.midi.ticks_per_beat)
        self.threads: list[QThread] = []
        self._build_views()
        self._build_panels()
        self.edits = NoteEdits(self)
        self.marker_commands = MarkerCommands(self)
        self.exporter = Exporter(self)
        self.models = ModelChoice(self)
        self.humaniser = HumaniseController(self, loader, self.threads)
        self.holder = self.humaniser.holder
        self.batch = BatchHumanise(self)
        self.played = PlayedVelocities(self)
        self._build_actions()
        self._build_status()
        self.transport = Transport(self)
        self.roll.audition_pressed.connect(self.transport.audition)
        self.roll.audition_released.connect(self.transport.release_audition)
        self.keyboard.key_pressed.connect(self._audition_key)
        self.keyboard.key_released.connect(self.transport.release_audition)
        self.lane.previewed.connect(self.transport.preview_velocities)
        self._shown: tuple[EditorDocument | None, EditorState | None, Version | None] = (None, None, None)
        self._fit_on_first_show = True
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        geometry, layout = self.settings.get("geometry"), self.settings.get("state")
        if geometry:
            self.restoreGeometry(geometry)
        if layout:
            self.restoreState(layout)  # panels where the user left them
        self.set_document(self.doc)
        self._fill_recent_menu()
        self.humaniser.preload()

    # -- construction ---------------------------------------------------------------
    def _build_views(self) -> None:
        self.roll = PianoRoll(self.doc, self.view)
        self.keyboard = Keyboard(self.view)
        self.ruler = Ruler(self.doc, self.view)
        self.lane = VelocityLane(self.doc, self.view)
        self.lane_grip = LaneGrip(self.lane)
        self.lane_grip.set_height(self.settings.get("lane_height"))
        self.lane_grip.resized.connect(lambda height: self.settings.set("lane_height", height))
        self.hscroll = QScrollBar(Qt.Orientation.Horizontal)
        self.vscroll = QScrollBar(Qt.Orientation.Vertical)
        self.hscroll.valueChanged.connect(lambda v: self.view.scroll_to(left_tick=float(v)))
        self.vscroll.valueChanged.connect(lambda v: self.view.scroll_to(top_pitch=float(HIGHEST - v)))
        self.view.changed.connect(self._sync_scrollbars)
        self.roll.installEventFilter(self)  # a resized roll shows more or less: thumbs follow
        lane_label = QLabel("Velocity")
        lane_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pedal_label = self.pedal_label = QLabel("pedal")  # beside the lane's bottom strip, when there is pedalling
        pedal_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom)
        pedal_label.setStyleSheet(f"font-size: 8pt; color: {style.PEDAL.name()}; padding-right: 3px;")
        grid = QGridLayout()
        grid.setSpacing(0)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.ruler, 0, 1)
        grid.addWidget(self.keyboard, 1, 0)
        grid.addWidget(self.roll, 1, 1)
        grid.addWidget(self.vscroll, 1, 2)
        grid.addWidget(self.lane_grip, 2, 0, 1, 3)
        grid.addWidget(lane_label, 3, 0)
        grid.addWidget(pedal_label, 3, 0, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.lane, 3, 1)
        grid.addWidget(self.hscroll, 4, 1)
        central = QWidget()
        central.setLayout(grid)
        self.setCentralWidget(central)
        for widget, name, what in (  # painted views have no text of their own for a screen reader to read
                (self.roll, "Piano roll", "The notes by pitch and time, coloured by velocity. Arrow keys move the "
                                          "selected notes; Alt+Left and Alt+Right step from note to note."),
                (self.keyboard, "Keyboard", "Click a key to hear it."),
                (self.ruler, "Ruler", "Bars and beats, under the song's markers if it has any; click to move "
                                         "the playhead, drag a marker's name to move the marker."),
                (self.lane, "Velocity lane", "The velocity of each piano note; Ctrl+Up and Ctrl+Down change the "
                                             "selected notes' velocities."),
                (self.lane_grip, "Velocity lane height", "Drag to make the velocity lane taller or shorter.")):
            widget.setAccessibleName(name)
            widget.setAccessibleDescription(what)

    def _build_panels(self) -> None:
        self.panel = HumanisePanel()
        self.panel.strength.setValue(self.settings.get("strength"))
        self.panel.keep_written.setChecked(self.settings.get("keep_written"))
        self.panel.seed.setValue(self.settings.get("seed"))
        self.panel.humanise_button.setEnabled(False)
        self.panel.info.setText("Loading the StyleNet checkpoint…")
        dock = QDockWidget("Humanise", self)
        dock.setObjectName("humanise_dock")
        dock.setWidget(self.panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.tracks = TracksPanel()
        self.tracks.piano_parts_changed.connect(self._set_piano_parts)
        tracks_dock = QDockWidget("Tracks (checked = piano part)", self)
        tracks_dock.setObjectName("tracks_dock")
        tracks_dock.setWidget(self.tracks)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, tracks_dock)
        history_dock = QDockWidget("History", self)  # every undo step, by name: click one to go back there
        history_dock.setObjectName("history_dock")
        self.history = QUndoView(self.undo_stack)
        history_dock.setWidget(self.history)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, history_dock)
        self.tabifyDockWidget(tracks_dock, history_dock)
        self.markers_panel = MarkersPanel()
        markers_dock = QDockWidget("Markers", self)
        markers_dock.setObjectName("markers_dock")
        markers_dock.setWidget(self.markers_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, markers_dock)
        self.tabifyDockWidget(history_dock, markers_dock)
        tracks_dock.raise_()
        self.docks = [dock, tracks_dock, history_dock, markers_dock]

    def _action(self, menu, text: str, slot, shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)  # shortcuts work wherever focus is
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file = self.file_menu = bar.addMenu("&File")
        self._action(file, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file.addMenu("Open &Recent")
        self._action(file, "Open &Demo Song", lambda: self.open_path(DEMO_SONG))
        self._action(file, "&Save", self.exporter.save, QKeySequence.StandardKey.Save)
        self._action(file, "Save &As…", self.exporter.save_dialog, "Ctrl+Shift+S")
        self._action(file, "&Export MIDI…", self.exporter.export_dialog, "Ctrl+E")
        self._action(file, "&Humanise Several Files…", self.batch.dialog)
        if self.keeper is not None:
            self._action(file, "Restore &Unsaved Work…", self.keeper.restore_dialog)
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = self.edit_menu = bar.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence("Ctrl+Z"))
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addActions([undo, redo])
        self.addActions([undo, redo])
        edit.addSeparator()
        self._action(edit, "Select &All", self.edits.select_all, QKeySequence.StandardKey.SelectAll)
        self._action(edit, "Cu&t", self.edits.cut_selection, QKeySequence.StandardKey.Cut)
        self._action(edit, "&Copy", self.edits.copy_selection, QKeySequence.StandardKey.Copy)
        self._action(edit, "&Paste at Playhead", self.edits.paste, QKeySequence.StandardKey.Paste)
        self._action(edit, "D&uplicate", self.edits.duplicate_selection, "Ctrl+D")
        self._action(edit, "&Delete", self.edits.delete_selection, QKeySequence.StandardKey.Delete)
        self._action(edit, "Select &Next Note", lambda: self.edits.select_neighbour(1), "Alt+Right")
        self._action(edit, "Select P&revious Note", lambda: self.edits.select_neighbour(-1), "Alt+Left")
        velocity = edit.addMenu("&Velocity")  # the dynamics edits, apart from the note edits
        self._action(velocity, "&Scale Velocities…", self.edits.scale_velocities_dialog, "Ctrl+Shift+V")
        self._action(velocity, "Bring Out Top &Voice…", self.edits.voicing_dialog)
        self._action(velocity, "&Fit to Range…", self.edits.fit_range_dialog)
        velocity.addSeparator()
        velocity.addActions([self.played.action, self.played.choose_action])
        for text, delta, keys in (("&Louder", 5, "Ctrl+Up"), ("S&ofter", -5, "Ctrl+Down"),
                                  ("A Little Louder", 1, "Ctrl+Shift+Up"), ("A Little Softer", -1, "Ctrl+Shift+Down")):
            self._action(velocity, f"{text} ({delta:+d} velocity)",
                         lambda _=False, d=delta: self.edits.nudge_velocities(d), keys)
        self.marker_commands.add_to(edit.addMenu("&Markers"))
        self.draw_action = self._action(edit, "&Draw Notes", self._toggle_draw, "D", checkable=True)
        view = bar.addMenu("&View")
        self._action(view, "Zoom &In", lambda: self.view.zoom_x(1.25, self.roll.width() / 2), "Ctrl+=")
        self._action(view, "Zoom &Out", lambda: self.view.zoom_x(0.8, self.roll.width() / 2), "Ctrl+-")
        self._action(view, "Zoom In Vertically", lambda: self.view.zoom_y(1.2), "Ctrl+Shift+=")
        self._action(view, "Zoom Out Vertically", lambda: self.view.zoom_y(1 / 1.2), "Ctrl+Shift+-")
        self._action(view, "&Fit Song", self.fit_song, "Ctrl+0")
        self._action(view, "Zoom to &Selection", self.zoom_to_selection, "Z")
        panels = view.addMenu("&Panels")  # a closed panel comes back from here
        for panel_dock in self.docks:
            panels.addAction(panel_dock.toggleViewAction())
        self._view_option(view, "Overlay Other Versions", "overlay", self.lane, "overlay")
        self._view_option(view, "&Dynamics Curve", "dynamics_curve", self.lane, "curve")
        self._view_option(view, "Velocity &Numbers on Notes", "velocity_numbers", self.roll, "show_numbers")
        time_grid = self._action(view, "&Ruler in Minutes and Seconds", self._set_time_grid, checkable=True)
        time_grid.setChecked(self.settings.get("ruler_time"))
        self.view.set_time_grid(time_grid.isChecked())
        humanise = self.humanise_menu = bar.addMenu("&Humanise")
        self._action(humanise, "&Humanise", self.humanise, "Ctrl+H")
        self._action(humanise, "Random &Baseline", self.make_baseline, "Ctrl+B")
        self.blind_action = self._action(humanise, "Blind &Test", self.blind.toggle, "Ctrl+T", checkable=True)
        humanise.addSeparator()
        self.models.add_to(humanise)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard and Mouse", lambda: show_shortcuts(self), "F1")
        self._action(help_menu, "&About StyleNet Studio", lambda: show_about(self, self.holder))
        self._action(help_menu, "&Model Card", lambda: open_model_card(self))

        tools = self.addToolBar("Main")
        tools.setObjectName("main_toolbar")
        self.version_group = QActionGroup(self)
        self.version_actions: dict[Version, QAction] = {}
        for number, version in enumerate(Version, start=1):
            action = QAction(slot_text(number - 1, version), self, checkable=True)
            action.setShortcut(QKeySequence(str(number)))
            action.setToolTip(f"Show and edit the {version.label} velocities ({number})")
            action.triggered.connect(lambda _=False, slot=number - 1: self._show_slot(slot))
            self.version_group.addAction(action)
            tools.addAction(action)
            self.addAction(action)
            self.version_actions[version] = action
        tools.addSeparator()
        tools.addAction(self.draw_action)
        tools.addWidget(QLabel(" Snap "))
        self.snap_box = QComboBox()
        self.snap_box.addItems(list(SNAP_CHOICES))
        self.snap_box.currentTextChanged.connect(self._set_snap)
        self.snap_box.setCurrentText(self.settings.get("snap"))
        self._set_snap(self.snap_box.currentText())
        tools.addWidget(self.snap_box)

    def _build_status(self) -> None:
        self.status_labels = {k: QLabel() for k in ("file", "tempo", "meter", "notes", "device")}
        for label in self.status_labels.values():
            self.statusBar().addPermanentWidget(label)
        self.status_labels["device"].setText("device: loading…")

    def _audition_key(self, pitch: int) -> None:
        """A key of the keyboard sounds on the channel drawn notes would go to, at their velocity."""
        self.transport.audition(self.roll.target_part()[1], pitch, self.roll.draw_velocity)

    # -- documents ------------------------------------------------------------------
    def set_document(self, doc: EditorDocument) -> None:
        self.blind.abandon()
        self.doc = doc
        self.exporter.document_replaced()
        self.humaniser.document_replaced()
        def push(text: str, before: EditorState, after: EditorState) -> None:
            self.undo_stack.push(StateCommand(doc, text, before, after))

        doc.push = push
        doc.subscribe(self._document_changed)
        self.undo_stack.clear()
        self.view.ticks_per_beat = doc.midi.ticks_per_beat
        for widget in (self.roll, self.ruler, self.lane):
            widget.doc = doc
        self.tracks.show_parts(doc.midi)
        self.fit_song()
        self._document_changed()
        if len(doc.notes):  # not for the empty editor at start-up: 90 ms for nothing to set aside
            settle_memory()

    def open_path(self, path: str | Path) -> bool:
        if not self.maybe_discard_changes():
            return False
        try:
            doc = EditorDocument.open(path)
        except MidiError as exc:
            self.show_error("Cannot open file", str(exc))
            return False
        self.set_document(doc)
        self.settings.add_recent(str(Path(path).resolve()))
        self.settings.set("last_folder", str(Path(path).resolve().parent))
        self._fill_recent_menu()
        return True

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open MIDI file", self.settings.get("last_folder"),
                                              f"{MIDI_FILES_TO_OPEN};;All files (*)")
        if path:
            self.open_path(path)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.get("recent_files"):
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(partial(self.open_path, path))

    # -- editing ------------------------------------------------------------------------
    def _show_slot(self, slot: int) -> None:
        """Toolbar button / key ``slot + 1``: its version (shuffled during a blind test)."""
        version = self.blind.slot_version(slot)
        if version is not None and version in self.doc.available_versions():
            self.doc.set_version(version)

    def _toggle_draw(self, on: bool) -> None:
        self.roll.draw_mode = on

    def _view_option(self, menu: QMenu, text: str, option: str, widget: QWidget, attribute: str) -> None:
        """A View menu switch for how ``widget`` draws, kept in the settings as ``option``."""
        def toggled(on: bool) -> None:
            setattr(widget, attribute, on)
            self.settings.set(option, on)
            widget.update()

        action = self._action(menu, text, toggled, checkable=True)
        action.setChecked(self.settings.get(option))
        setattr(widget, attribute, action.isChecked())

    def _set_time_grid(self, on: bool) -> None:
        """The ruler and the roll's lines in minutes and seconds: for performances recorded without a grid."""
        self.view.set_time_grid(on)
        self.settings.set("ruler_time", on)
        self.transport.refresh_position()

    def _set_snap(self, name: str) -> None:
        self.view.set_snap(SNAP_CHOICES.get(name, 0.25))
        self.settings.set("snap", name)

    def _set_piano_parts(self, keys: set[tuple[int, int]]) -> None:
        try:
            self.doc.set_piano_parts(keys)
        except MidiError as exc:
            self.show_error("Piano part", str(exc))

    def fit_song(self) -> None:
        self._fit_rows(np.arange(len(self.doc.notes)))

    def zoom_to_selection(self) -> None:
        """The selected notes fill the roll (half a beat of margin either side); with none selected, the whole song."""
        chosen = np.flatnonzero(self.doc.selection)
        if not len(chosen):
            self.fit_song()
            return
        self._fit_rows(chosen, margin=self.doc.midi.ticks_per_beat // 2)

    def _fit_rows(self, rows: np.ndarray, margin: int = 0) -> None:
        n = self.doc.notes
        if len(rows):
            self.view.fit(max(0, int(n.start[rows].min()) - margin), int(n.end[rows].max()) + margin,
                          int(n.pitch[rows].min()), int(n.pitch[rows].max()),
                          max(self.roll.width(), 400), max(self.roll.height(), 200))
        else:
            self.view.fit(0, 16 * self.doc.midi.ticks_per_beat, 48, 84, max(self.roll.width(), 400),
                          max(self.roll.height(), 200))

    def _sync_scrollbars(self) -> None:
        """Thumbs as large as the visible share of the song (plus a bar after it) and of the keyboard;
        a range never stops short of where the view already is (the wheel may scroll past the end)."""
        view, tpb = self.view, self.doc.midi.ticks_per_beat
        end = self.doc.end_tick
        ticks = self.roll.width() / view.px_per_tick
        rows = self.roll.height() / view.key_height
        pairs = ((self.hscroll, view.left_tick, end + 4 * tpb - ticks, ticks),
                 (self.vscroll, HIGHEST - view.top_pitch, HIGHEST - LOWEST - rows, rows))
        for bar, value, top, page in pairs:
            bar.blockSignals(True)
            bar.setRange(0, int(max(top, value, 0)))
            bar.setPageStep(max(1, int(page)))
            bar.setValue(int(value))
            bar.blockSignals(False)

    def _document_changed(self) -> None:
        doc, state, version = self._shown
        if getattr(self, "transport", None) is not None:
            if self.doc is not doc:
                self.transport.document_replaced()  # another file: playback stops, back to its start
            elif self.doc.state is not state:
                self.transport.edited()  # notes or velocities changed: playback carries on with them
            elif self.doc.version is not version:
                self.transport.switch(self.doc.version)
            self._shown = (self.doc, self.doc.state, self.doc.version)
        available = set(self.doc.available_versions())
        if self.blind.test is not None and set(self.blind.test.order) != available:
            self.blind.abandon()  # a version was undone away
        for slot, action in enumerate(self.version_actions.values()):
            version = self.blind.slot_version(slot)
            action.setEnabled(version in available)
            action.setChecked(version is self.doc.version)
        self.panel.selection_only.setEnabled(bool(self.doc.selection.any()))
        if not self.doc.selection.any():
            self.panel.selection_only.setChecked(False)
        self._update_status()
        self.tracks.show_counts(self.doc.notes)
        self.pedal_label.setVisible(len(self.doc.midi.pedal_spans()) > 0)
        for widget in (self.roll, self.lane):
            widget.update()
        self.ruler.fit_height()  # the markers' strip opens with the first marker and closes with the last
        self.markers_panel.show_markers(self.doc)
        self.setWindowModified(self.doc.modified)
        if self.keeper is not None:
            self.keeper.document_changed()
        name = self.doc.midi.path.name if self.doc.midi.path else "untitled"
        self.setWindowTitle(f"{name}[*] — StyleNet Studio")

    def _update_status(self) -> None:
        midi, n = self.doc.midi, self.doc.notes
        self.status_labels["file"].setText(midi.path.name if midi.path else "untitled")
        self.show_tempo_and_meter(self.roll.playhead_tick or 0.0)
        self.status_labels["notes"].setText(f"{int(self.doc.piano_mask.sum())} piano / {len(n)} notes")

    def show_tempo_and_meter(self, tick: float) -> None:
        """The tempo and time signature in force at ``tick`` (the playhead's): a score may change both."""
        midi = self.doc.midi
        sig = signature_at(midi.time_signatures, tick)
        self.status_labels["tempo"].setText(f"{midi.tempo_map.bpm_at(int(tick)):.1f} bpm")
        self.status_labels["meter"].setText(f"{sig.numerator}/{sig.denominator}" if sig else "4/4")

    # -- humanise (see HumaniseController) ---------------------------------------------------
    def humanise(self) -> None:
        self.humaniser.run()

    def cancel_humanise(self) -> None:
        self.humaniser.cancel()

    def make_baseline(self) -> None:
        self.humaniser.make_baseline()

    # -- dialogs, drag and drop, closing ----------------------------------------------------
    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def show_error(self, title: str, text: str) -> None:
        self.statusBar().showMessage(f"{title}: {text}", 10000)
        QMessageBox.warning(self, title, text)

    def maybe_discard_changes(self) -> bool:
        unsaved = self.doc.unsaved
        if not unsaved:
            return True
        what = {Version.ORIGINAL: "the edited score (File ▸ Save)",
                Version.STYLISED: "the Stylised version (File ▸ Export MIDI)"}
        return self.confirm("Discard changes?", "Not saved yet: " + " and ".join(what[v] for v in unsaved)
                            + ". Discard them?")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].toLocalFile().lower().endswith((*OPENABLE_SUFFIXES, ".pt")):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """A MIDI file opens; several are humanised into a folder (File ▸ Humanise Several Files); a StyleNet
        checkpoint (.pt) becomes the model Humanise uses."""
        paths = [url.toLocalFile() for url in event.mimeData().urls()]
        midi = [p for p in paths if p.lower().endswith(OPENABLE_SUFFIXES)]
        if paths[0].lower().endswith(".pt"):
            self.models.use(paths[0], self.settings.get("device"))
        elif len(midi) > 1:
            self.batch.dialog(midi)
        else:
            self.open_path(paths[0])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.roll and event.type() == QEvent.Type.Resize:
            self._sync_scrollbars()
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_on_first_show:  # a file opened before the window was on screen was fitted to a guessed size
            self._fit_on_first_show = False
            QTimer.singleShot(0, self.fit_song)  # after the layout has given the roll its real size

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_discard_changes():
            event.ignore()
            return
        if self.keeper is not None:
            self.keeper.forget()  # saved, or discarded on purpose
        self.cancel_humanise()
        self.batch.shutdown()
        self.models.shutdown()
        self.played.close()
        self.transport.shutdown()
        self.settings.set("geometry", self.saveGeometry())
        self.settings.set("state", self.saveState())
        self.hide()  # closed at once for the user, while a model load or a cancelled Humanise winds down
        finish_threads(self.threads)
        event.accept()
