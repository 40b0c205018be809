"""Humanise ▸ Blind Test: the version buttons become 1 ?, 2 ?, 3 ? in a shuffled order, and nothing on
screen tells the versions apart until the listener has picked the one that sounds most human."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox

from app.core.blind import BlindTest, tally_text
from app.core.editor import Version

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

NO_PICK = "No pick, just reveal"


def slot_text(slot: int, version: Version | None) -> str:
    """The toolbar button for ``slot`` (from 0): its key and version, or a question mark during a test."""
    return f"{slot + 1} {version.label if version else '?'}"


def menu_actions(menu: QMenu) -> list[QAction]:
    """Every action of ``menu`` and of its submenus (their shortcuts work without the menu being open)."""
    out = []
    for action in menu.actions():
        submenu = action.menu()
        out += [action, *menu_actions(submenu)] if isinstance(submenu, QMenu) else [action]
    return out


class BlindTestController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.test: BlindTest | None = None
        self.picks: Counter[Version] = Counter()
        self.rng = np.random.default_rng()
        self._matching_was: bool | None = None
        self._enabled: dict[QAction, bool] = {}  # edit actions' states before the test

    def slot_version(self, slot: int) -> Version | None:
        """The version behind toolbar slot ``slot`` (from 0): shuffled during a test, else in order."""
        if self.test is None:
            return list(Version)[slot]
        return self.test.order[slot] if slot < len(self.test.order) else None

    def toggle(self, on: bool) -> None:
        if on:
            self.start()
        else:
            self.finish()

    def start(self) -> None:
        w = self.window
        try:
            self.test = BlindTest.shuffled(w.doc.available_versions(), self.rng)
        except ValueError as exc:
            w.blind_action.setChecked(False)
            w.statusBar().showMessage(f"No blind test: {exc}.", 6000)
            return
        self._matching_was = w.transport.match_box.isChecked()
        w.transport.match_box.setChecked(True)  # a louder version would win for being louder
        self._hide(True)
        w.doc.set_version(self.test.order[0])
        w.statusBar().showMessage("Blind test: play, switch with 1, 2, 3, then Humanise ▸ Blind Test again to "
                                  "pick the most human one.", 15000)

    def finish(self) -> None:
        w, test = self.window, self.test
        if test is None:
            return
        labels = [str(k + 1) for k in range(len(test.order))] + [NO_PICK]
        choice, ok = QInputDialog.getItem(w, "Blind test", "Which one sounded most human?", labels, 0, False)
        picked = labels.index(choice) if ok and choice != NO_PICK else None
        if picked is not None:
            self.picks[test.order[picked]] += 1
        self.test = None
        self._hide(False)
        if self._matching_was is not None:
            w.transport.match_box.setChecked(self._matching_was)
        w.doc.set_version(w.doc.version)  # relabel and repaint
        text = test.reveal(picked)
        if self.picks:
            text += f"\nThis session's picks: {tally_text(self.picks)}."
        QMessageBox.information(w, "Blind test", text)

    def abandon(self) -> None:
        """End a test without asking (another file opened, or a version undone away)."""
        if self.test is not None:
            self.test = None
            self._hide(False)
            self.window.blind_action.setChecked(False)

    def _hide(self, blind: bool) -> None:
        """Everything that would tell the versions apart: note colours, the velocity lane, the gain shown,
        note tooltips, and the version names; editing waits until the test is over."""
        w = self.window
        for widget in (w.roll, w.lane):
            widget.blind = blind
            widget.setEnabled(not blind)
            widget.update()
        w.transport.gain_label.setVisible(not blind)
        w.panel.setEnabled(not blind)
        w.history.setEnabled(not blind)  # a click there would undo
        edits = [a for a in menu_actions(w.edit_menu) + menu_actions(w.humanise_menu) if a is not w.blind_action]
        if blind:
            self._enabled = {a: a.isEnabled() for a in edits}
        for action in edits:
            action.setEnabled(self._enabled.get(action, True) if not blind else False)
        for slot, action in enumerate(w.version_actions.values()):
            version = self.slot_version(slot)
            action.setText(slot_text(slot, None if blind else version))
