"""The blind listening test: shuffled labels, nothing on screen that tells the versions apart, an honest reveal."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import DEMO

from app.core.blind import BlindTest, tally_text
from app.core.editor import Version
from app.ui.blind import menu_actions


def test_shuffled_order_reveal_and_tally():
    versions = list(Version)
    orders = {BlindTest.shuffled(versions, np.random.default_rng(seed)).order for seed in range(40)}
    assert len(orders) == 6 and all(sorted(o) == sorted(versions) for o in orders)  # every order turns up
    test = BlindTest((Version.STYLISED, Version.ORIGINAL, Version.BASELINE))
    assert test.reveal(0) == ("1 was Stylised, 2 was Original, 3 was Baseline. "
                              "You picked 1: the Stylised version.")
    assert test.reveal(None).endswith("3 was Baseline.")
    assert tally_text(Counter({Version.STYLISED: 3, Version.ORIGINAL: 1})) == "Stylised 3 of 4, Original 1 of 4"
    with pytest.raises(ValueError, match="at least two versions"):
        BlindTest.shuffled([Version.ORIGINAL], np.random.default_rng(0))


def test_blind_test_in_the_window(window, qtbot, monkeypatch):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QToolTip

    window.open_path(DEMO)
    window.blind_action.trigger()  # one version only: refused, with the reason
    assert window.blind.test is None and not window.blind_action.isChecked()
    assert "at least two versions" in window.statusBar().currentMessage()
    window.make_baseline()
    with qtbot.waitSignal(window.humanise_finished, timeout=60_000):
        window.humanise()
    window.transport.match_box.setChecked(False)
    window.blind.rng = np.random.default_rng(3)
    window.blind_action.trigger()
    test = window.blind.test
    assert test is not None and window.blind_action.isChecked()
    assert [a.text() for a in window.version_actions.values()] == ["1 ?", "2 ?", "3 ?"]
    assert window.transport.match_box.isChecked() and not window.transport.gain_label.isVisible()
    assert not window.panel.isEnabled() and not window.roll.isEnabled() and not window.history.isEnabled()
    edit_actions = {a.text(): a for a in menu_actions(window.edit_menu) + window.humanise_menu.actions()}
    assert not edit_actions["&Delete"].isEnabled() and not edit_actions["Random &Baseline"].isEnabled()
    louder = edit_actions["&Louder (+5 velocity)"]  # in Edit ▸ Velocity: its shortcut must not edit either
    assert not louder.isEnabled() and not edit_actions["Bring Out Top &Voice…"].isEnabled()
    assert edit_actions["Blind &Test"].isEnabled()

    def looks() -> tuple:
        return window.roll.grab().toImage(), window.lane.grab().toImage()

    shots = []
    for slot in range(3):
        window.version_actions[list(Version)[slot]].trigger()  # the button (or key) slot + 1
        assert window.doc.version is test.order[slot]
        assert window.version_actions[list(Version)[slot]].isChecked()
        shots.append(looks())
    assert shots[0] == shots[1] == shots[2]  # the screen cannot tell them apart
    point = window.view.point_at(60, 10).toPoint()
    QApplication.sendEvent(window.roll, QHelpEvent(QEvent.Type.ToolTip, point, window.roll.mapToGlobal(point)))
    assert QToolTip.text() == ""

    revealed = []
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a: ("2", True))
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: revealed.append(text))
    window.blind_action.trigger()
    assert window.blind.test is None and window.blind.picks == Counter({test.order[1]: 1})
    assert revealed[0].startswith(test.reveal(1)) and "This session's picks" in revealed[0]
    assert [a.text() for a in window.version_actions.values()] == ["1 Original", "2 Baseline", "3 Stylised"]
    assert not window.transport.match_box.isChecked() and window.roll.isEnabled() and window.panel.isEnabled()
    assert edit_actions["&Delete"].isEnabled() and edit_actions["Random &Baseline"].isEnabled()
    assert louder.isEnabled()
