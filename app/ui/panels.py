"""Side panels: Humanise (style, strength, written dynamics, selection, seed, progress) and the track/part list;
the Scale Velocities dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
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


class ScaleVelocitiesDialog(QDialog):
    """Dynamics range (% of the spread about the notes' mean) and a level offset, constant or ramping from the
    first note to the last (crescendo / diminuendo), for Edit ▸ Scale Velocities."""

    def __init__(self, target: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scale Velocities")
        self.range_percent = QSpinBox()
        self.range_percent.setRange(0, 300)
        self.range_percent.setSingleStep(10)
        self.range_percent.setValue(100)
        self.range_percent.setSuffix(" %")
        self.range_percent.setToolTip("100 % keeps the dynamics as they are, 50 % halves their spread about the "
                                      "mean, 150 % widens it by half; 0 % makes every note the mean")
        self.offset = QSpinBox()
        self.offset.setRange(-126, 126)
        self.offset.setToolTip("Added to every velocity: the overall level, louder or softer")
        self.end_offset = QSpinBox()
        self.end_offset.setRange(-126, 126)
        self.end_offset.setToolTip("Where it differs from Level: the level changes gradually from the first note to "
                                   "the last, a crescendo (higher here) or diminuendo (lower), and each note keeps "
                                   "how it stands out from its neighbours")
        self.offset.valueChanged.connect(self._follow)
        self._followed = 0  # the end follows the start until the user sets it apart
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.target_label = QLabel(f"Applies to {target}.")
        form = QFormLayout(self)
        form.addRow(self.target_label)
        form.addRow("Dynamics range", self.range_percent)
        form.addRow("Level", self.offset)
        form.addRow("Level at the end", self.end_offset)
        hint = QLabel("Another level at the end makes a crescendo or diminuendo over the notes.")
        hint.setEnabled(False)  # drawn greyed: a hint, not a setting
        form.addRow(hint)
        form.addRow(buttons)

    def _follow(self, value: int) -> None:
        """A plain level change moves the end with it; once the end is set apart, it stays."""
        if self.end_offset.value() == self._followed:
            self.end_offset.setValue(value)
        self._followed = value

    @property
    def range_factor(self) -> float:
        return self.range_percent.value() / 100.0


class VoicingDialog(QDialog):
    """How much louder the top voice (and how much louder or softer the rest), for Edit ▸ Bring Out Top Voice."""

    def __init__(self, target: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bring Out Top Voice")
        self.top, self.others = QSpinBox(), QSpinBox()
        for box, value in ((self.top, 6), (self.others, 0)):
            box.setRange(-60, 60)
            box.setValue(value)
        self.top.setToolTip("Added to the notes that are the highest sounding when struck: the melody, mostly")
        self.others.setToolTip("Added to every other note: negative makes the accompaniment softer")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.target_label = QLabel(f"Applies to {target}. Pianists in the training performances play the top "
                                   "voice about 6 velocity units louder than the rest.")
        self.target_label.setWordWrap(True)
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        form.addRow(self.target_label)
        form.addRow("Top voice", self.top)
        form.addRow("Other notes", self.others)
        form.addRow(buttons)


class FitRangeDialog(QDialog):
    """The lowest and highest velocity to fit the notes into, for Edit ▸ Velocity ▸ Fit to Range."""

    def __init__(self, target: str, current: tuple[int, int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fit Velocities to Range")
        self.low, self.high = QSpinBox(), QSpinBox()
        for box, value in ((self.low, current[0]), (self.high, current[1])):
            box.setRange(1, 127)
            box.setValue(value)
        self.low.valueChanged.connect(lambda v: self.high.setValue(max(v, self.high.value())))
        self.high.valueChanged.connect(lambda v: self.low.setValue(min(v, self.low.value())))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.target_label = QLabel(f"Applies to {target}, now {current[0]}–{current[1]}: the softest note goes to "
                                   "the lowest velocity, the loudest to the highest, the rest in proportion (for "
                                   "an instrument that sounds best within a range).")
        self.target_label.setWordWrap(True)
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        form.addRow(self.target_label)
        form.addRow("Lowest", self.low)
        form.addRow("Highest", self.high)
        form.addRow(buttons)
