"""The dialogs of Edit ▸ Velocity: Scale Velocities (and crescendo), Bring Out Top Voice, Fit to Range."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget


def spin_box(low: int, high: int, value: int, tip: str, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tip)
    box.setSuffix(suffix)
    return box


class VelocityDialog(QDialog):
    """A form that says which notes it applies to, its fields, and OK / Cancel."""

    def __init__(self, title: str, text: str, fields: list[tuple[str, QWidget]], hint: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        self.target_label = QLabel(text)
        self.target_label.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(self.target_label)
        for label, field in fields:
            form.addRow(label, field)
        if hint:
            note = QLabel(hint)
            note.setWordWrap(True)
            note.setEnabled(False)  # drawn greyed: a hint, not a setting
            form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class ScaleVelocitiesDialog(VelocityDialog):
    """Dynamics range (% of the spread about the notes' mean) and a level offset, constant or ramping from the
    first note to the last (crescendo / diminuendo)."""

    def __init__(self, target: str, parent: QWidget | None = None) -> None:
        self.range_percent = spin_box(0, 300, 100, "100 % keeps the dynamics as they are, 50 % halves their spread "
                                      "about the mean, 150 % widens it by half; 0 % makes every note the mean", " %")
        self.range_percent.setSingleStep(10)
        self.offset = spin_box(-126, 126, 0, "Added to every velocity: the overall level, louder or softer")
        self.end_offset = spin_box(-126, 126, 0, "Where it differs from Level: the level changes gradually from the "
                                   "first note to the last, a crescendo (higher here) or diminuendo (lower), and "
                                   "each note keeps how it stands out from its neighbours")
        self.offset.valueChanged.connect(self._follow)
        self._followed = 0  # the end follows the start until the user sets it apart
        super().__init__("Scale Velocities", f"Applies to {target}.",
                         [("Dynamics range", self.range_percent), ("Level", self.offset),
                          ("Level at the end", self.end_offset)],
                         "Another level at the end makes a crescendo or diminuendo over the notes.", parent)

    def _follow(self, value: int) -> None:
        """A plain level change moves the end with it; once the end is set apart, it stays."""
        if self.end_offset.value() == self._followed:
            self.end_offset.setValue(value)
        self._followed = value

    @property
    def range_factor(self) -> float:
        return self.range_percent.value() / 100.0


class VoicingDialog(VelocityDialog):
    """How much louder the top voice, and how much louder or softer the rest."""

    def __init__(self, target: str, parent: QWidget | None = None) -> None:
        self.top = spin_box(-60, 60, 6, "Added to the notes that are the highest sounding when struck: the melody, "
                            "mostly")
        self.others = spin_box(-60, 60, 0, "Added to every other note: negative makes the accompaniment softer")
        super().__init__("Bring Out Top Voice", f"Applies to {target}. Pianists in the training performances play "
                         "the top voice about 6 velocity units louder than the rest.",
                         [("Top voice", self.top), ("Other notes", self.others)], parent=parent)


class FitRangeDialog(VelocityDialog):
    """The lowest and highest velocity to fit the notes into."""

    def __init__(self, target: str, current: tuple[int, int], parent: QWidget | None = None) -> None:
        self.low = spin_box(1, 127, current[0], "The softest note's velocity after the fit")
        self.high = spin_box(1, 127, current[1], "The loudest note's velocity after the fit")
        self.low.valueChanged.connect(lambda v: self.high.setValue(max(v, self.high.value())))
        self.high.valueChanged.connect(lambda v: self.low.setValue(min(v, self.low.value())))
        super().__init__("Fit Velocities to Range", f"Applies to {target}, now {current[0]}–{current[1]}: the "
                         "softest note goes to the lowest velocity, the loudest to the highest, the rest in "
                         "proportion (for an instrument that sounds best within a range).",
                         [("Lowest", self.low), ("Highest", self.high)], parent=parent)
