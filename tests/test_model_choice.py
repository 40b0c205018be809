"""Humanise ▸ Model: another checkpoint or the bundled one, on the CPU or a GPU, loaded in the background."""

from __future__ import annotations

import pytest
import torch
from conftest import DEMO
from PySide6.QtWidgets import QMessageBox

from app.core.encoding import ENCODING_VERSION
from app.ui.main_window import MainWindow
from models.stylenet import StyleNet, StyleNetConfig, save_checkpoint


@pytest.fixture
def errors(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    return shown


def menu_texts(window) -> list[str]:
    sub = next(a.menu() for a in window.humanise_menu.actions() if a.text() == "&Model")
    return [a.text() for a in sub.actions() if a.isVisible() and not a.isSeparator()]


def choose_file(window, qtbot, monkeypatch, path) -> None:
    monkeypatch.setattr("app.ui.model_choice.QFileDialog.getOpenFileName", lambda *a: (str(path), ""))
    window.models.choose_action.trigger()
    qtbot.waitUntil(lambda: not window.models.loading, timeout=60_000)


def test_a_users_own_checkpoint_with_a_new_style_is_used_and_remembered(window, qtbot, monkeypatch, tmp_path,
                                                                        errors):
    own = tmp_path / "my_ragtime.pt"
    torch.manual_seed(1)
    save_checkpoint(own, StyleNet(StyleNetConfig(styles=("classical", "ragtime"), hidden=8, genre_layers=1)),
                    encoding_version=ENCODING_VERSION)
    assert window.models.bundled_action.isChecked() and "my_ragtime.pt" not in menu_texts(window)
    choose_file(window, qtbot, monkeypatch, own)
    assert not errors
    panel = window.panel
    assert [panel.style_box.itemText(i) for i in range(panel.style_box.count())] == ["Classical", "Ragtime"]
    assert panel.humanise_button.isEnabled() and "my_ragtime.pt" in panel.info.text()
    assert window.settings.get("checkpoint") == str(own)
    assert "my_ragtime.pt" in menu_texts(window) and window.models.custom_action.isChecked()
    assert "my_ragtime.pt" in window.holder.loaded.describe()[0]  # what Help ▸ About says
    assert window.status_labels["device"].text() == "model: my_ragtime.pt · cpu"
    window.open_path(str(DEMO))  # Humanise runs with it, in the new style
    panel.style_box.setCurrentIndex(1)
    with qtbot.waitSignal(window.humanise_finished, timeout=60_000):
        window.humanise()
    assert window.doc.state.style == "ragtime" and "ragtime" in panel.info.text() and not errors
    again = MainWindow(window.settings)  # the next start uses it too
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.panel.humanise_button.isEnabled(), timeout=60_000)
    assert again.panel.style_box.itemText(1) == "Ragtime" and again.models.custom_action.isChecked()


def test_a_file_that_is_no_checkpoint_is_refused_and_the_model_in_use_stays(window, qtbot, monkeypatch, tmp_path,
                                                                            errors):
    before = window.holder.loaded
    bad = tmp_path / "notes.pt"
    bad.write_bytes(b"MThd not a checkpoint")
    choose_file(window, qtbot, monkeypatch, bad)
    assert len(errors) == 1 and "notes.pt" in errors[0] and "not a readable StyleNet checkpoint" in errors[0]
    assert window.holder.loaded is before and window.panel.humanise_button.isEnabled()
    assert window.settings.get("checkpoint") == "" and window.models.bundled_action.isChecked()
    assert "Kept the bundled model" in window.panel.info.text()


def test_a_gpu_that_is_not_there_is_reported_and_the_cpu_model_stays(window, qtbot, monkeypatch, errors):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    before = window.holder.loaded
    window.models.device_actions["cuda"].trigger()
    qtbot.waitUntil(lambda: not window.models.loading, timeout=60_000)
    assert len(errors) == 1 and "no CUDA GPU" in errors[0] and "GPU (CUDA)" in errors[0]
    assert window.holder.loaded is before and window.settings.get("device") == "auto"
    assert window.models.device_actions["auto"].isChecked()


def test_the_bundled_model_on_the_cpu_comes_back_from_the_menu(window, qtbot, monkeypatch, errors):
    window.settings.set("checkpoint", "/gone/mine.pt")  # as if a custom model had been in use
    window.models.device_actions["cpu"].trigger()  # that file is gone: refused, with its name
    qtbot.waitUntil(lambda: not window.models.loading, timeout=60_000)
    assert len(errors) == 1 and "/gone/mine.pt does not exist" in errors[0]
    window.models.bundled_action.trigger()
    qtbot.waitUntil(lambda: not window.models.loading, timeout=60_000)
    assert len(errors) == 1
    assert window.settings.get("checkpoint") == "" and window.settings.get("device") == "auto"
    assert window.holder.loaded.describe()[0].startswith("Model: stylenet.pt, an ensemble")
    window.models.device_actions["cpu"].trigger()
    qtbot.waitUntil(lambda: not window.models.loading, timeout=60_000)
    assert window.settings.get("device") == "cpu" and window.status_labels["device"].text() == "device: cpu"


def test_a_remembered_model_that_is_gone_says_how_to_go_back(qtbot, settings, errors):
    settings.set("checkpoint", "/gone/mine.pt")
    win = MainWindow(settings)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.holder.error is not None, timeout=60_000)
    assert not win.panel.humanise_button.isEnabled()
    assert "mine.pt" in win.panel.info.text() and "Model ▸ Bundled Model" in win.panel.info.text()


def test_no_model_change_while_humanise_runs_or_the_first_model_loads(window, qtbot, monkeypatch, errors):
    window.humaniser.job = object()  # a run in progress
    window.models.bundled_action.trigger()
    assert not window.models.loading and "Wait until" in window.statusBar().currentMessage()
    window.humaniser.job = None
    window.statusBar().clearMessage()
    monkeypatch.setattr(window.holder, "_predictor", None)  # as while the start-up load runs
    window.models.device_actions["cpu"].trigger()
    assert not window.models.loading and "Wait until" in window.statusBar().currentMessage()
    assert window.models.device_actions["auto"].isChecked()


def test_a_checkpoint_dropped_on_the_window_becomes_the_model(window, qtbot, tmp_path, errors):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    own = tmp_path / "Mine.PT"
    save_checkpoint(own, StyleNet(StyleNetConfig(styles=("jazz",), hidden=8, genre_layers=1)),
                    encoding_version=ENCODING_VERSION)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(own))])
    window.dropEvent(QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: not window.models.loading, timeout=60_000)
    assert not errors and window.settings.get("checkpoint") == str(own)
    assert window.panel.style_box.count() == 1 and window.panel.chosen_style == "jazz"
    assert window.doc.midi.path is None  # no MIDI file was opened from it
