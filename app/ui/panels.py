"""Side panels: Humanise (style, strength, written dynamics, selection, seed, progress) and the track/part list;
the Scale Velocities dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.midi_document import MidiDocument, Part
from app.core.notes import NoteTable


class HumanisePanel(QWidget):
    humanise_requested = Signal()
    baseline_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.style_box = QComboBox()
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(100)
        self.strength_label = QLabel("100%")
        self.strength.setToolTip("How far the velocities move from yours toward the model's; after a Humanise, "
                                 "moving it blends that result again at once")
        self.strength.valueChanged.connect(lambda v: self.strength_label.setText(f"{v}%"))
        self.keep_written = QCheckBox("Keep written dynamics")
        self.keep_written.setChecked(True)
        self.keep_written.setToolTip("Where the file's velocities vary (p, f, hairpins and accents from a notation "
                                     "program), the prediction keeps their shape; flat velocities are unaffected")
        self.selection_only = QCheckBox("Only selected notes")
        self.selection_only.setEnabled(False)
        self.selection_only.setToolTip("Humanise (or make the baseline for) the selected piano notes only; the others "
                                       "keep the velocities they have in that version, so sections can be humanised "
                                       "one after another, each in its own style.")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.humanise_button = QPushButton("Humanise")
        self.humanise_button.setToolTip("Predict expressive velocities with StyleNet (Ctrl+H)")
        self.baseline_button = QPushButton("Random baseline")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.info = QLabel("")
        self.info.setWordWrap(True)

        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength)
        strength_row.addWidget(self.strength_label)
        form = QFormLayout()
        form.addRow("Style", self.style_box)
        form.addRow("Strength", strength_row)
        form.addRow("", self.keep_written)
        form.addRow("", self.selection_only)
        form.addRow("Baseline seed", self.seed)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.humanise_button)
        layout.addWidget(self.baseline_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.info)
        layout.addStretch(1)
        self.humanise_button.clicked.connect(self.humanise_requested)
        self.baseline_button.clicked.connect(self.baseline_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)

    def set_styles(self, styles: tuple[str, ...], preferred: str) -> None:
        self.style_box.clear()
        for s in styles:
            self.style_box.addItem(s.capitalize(), s)
        if preferred in styles:
            self.style_box.setCurrentIndex(styles.index(preferred))
        self.style_box.setEnabled(bool(styles))

    def set_unavailable(self, reason: str) -> None:
        self.style_box.clear()
        self.style_box.setEnabled(False)
        self.humanise_button.setEnabled(False)
        self.humanise_button.setToolTip(reason)
        self.info.setText(reason)

    @property
    def chosen_style(self) -> str:
        return str(self.style_box.currentData() or "")

    def set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.progress.setValue(0)
        self.humanise_button.setEnabled(not running and self.style_box.count() > 0)
        self.baseline_button.setEnabled(not running)


class TracksPanel(QListWidget):
    """Each (track, channel) part with a checkbox: checked parts are the piano part. Drums cannot be."""

    piano_parts_changed = Signal(object)  # set[tuple[int, int]]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # a label ("Track 3 · ch 8 · Acoustic Grand Piano · Lead (1286 notes)") wraps in a narrow dock
        self.setWordWrap(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.itemChanged.connect(self._changed)
        self._filling = False
        self._parts: list[Part] = []
        self._counted: NoteTable | None = None  # the note table the labels count

    def show_parts(self, midi: MidiDocument) -> None:
        self._filling = True
        self.clear()
        self._parts, self._counted = list(midi.parts), None
        for part in midi.parts:
            item = QListWidgetItem(part.label())
            item.setData(Qt.ItemDataRole.UserRole, part.key)
            if part.is_drums:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip("Drums are never the piano part")
            else:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if part.key in midi.piano_parts else Qt.CheckState.Unchecked)
            self.addItem(item)
        self._filling = False

    def show_counts(self, notes: NoteTable) -> None:
        """Relabel each part with how many notes it has now (drawing, pasting and deleting change that)."""
        if notes is self._counted:
            return
        self._counted = notes
        now = notes.part_counts()
        self._filling = True  # relabelling is not the user ticking a part
        for i, part in enumerate(self._parts):
            self.item(i).setText(part.label(now.get(part.key, 0)))
        self._filling = False

    def _changed(self, _item: QListWidgetItem) -> None:
        if self._filling:
            return
        keys = {tuple(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())
                if self.item(i).checkState() == Qt.CheckState.Checked}
        self.piano_parts_changed.emit(keys)
