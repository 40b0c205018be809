"""Shared fixtures. Qt runs offscreen: CI has no display."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("STYLENET_DATA", ROOT.parent / "shared" / "data"))
DEMO = ROOT / "resources" / "demo" / "bach_prelude_c_major.mid"

# Real performances used by the round-trip tests: several per genre, with bass/drums among the jazz ones.
REAL_FILES = [
    "classical/asap/Bach/Fugue/bwv_846/Shi05M.mid",
    "classical/asap/Chopin/Ballades/1/Ali01.mid",
    "classical/asap/Schubert/Wanderer_fantasie/Kolessova02.mid",
    "classical/asap/Bach/Fugue/bwv_846/midi_score.mid",
    "jazz/mckenzie/AfterYou.mid",
    "jazz/mckenzie/All The Things You Are.mid",
    "jazz/mckenzie/Alone Together.mid",
    "jazz/mckenzie/A Sleepin Bee.mid",
]


@pytest.fixture(autouse=True)
def _user_folders_untouched(tmp_path, monkeypatch):
    """Recovery copies and other app data go to a throwaway folder, never the user's."""
    monkeypatch.setattr("app.ui.recovery.default_root", lambda: tmp_path / "app-data" / "recovery")


@pytest.fixture(autouse=True)
def _clipboard_cleared():
    """Notes one test copies are not on the (process-wide) clipboard for the next one to paste."""
    yield
    if "PySide6.QtGui" in sys.modules:
        from PySide6.QtGui import QGuiApplication

        if QGuiApplication.instance() is not None:
            QGuiApplication.clipboard().clear()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "splits.json").is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set STYLENET_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small, untrained but real StyleNet checkpoint (fast to load and run)."""
    import torch

    from app.core.encoding import ENCODING_VERSION
    from models.stylenet import StyleNet, StyleNetConfig, save_checkpoint

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, StyleNet(StyleNetConfig(hidden=16, genre_layers=1)), encoding_version=ENCODING_VERSION)
    return path


@pytest.fixture
def settings(tmp_path):
    """Preferences in a throwaway INI file, so tests never touch the user's."""
    from PySide6.QtCore import QSettings

    from app.ui.settings import Settings

    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(qtbot, settings, tiny_checkpoint):
    """The main window with a small real StyleNet checkpoint, already loaded."""
    from app.ui.main_window import MainWindow
    from models.inference import StyleNetPredictor

    win = MainWindow(settings, loader=lambda: StyleNetPredictor.from_checkpoint(tiny_checkpoint, "cpu"))
    qtbot.addWidget(win)
    win.resize(1200, 760)
    win.show()
    qtbot.waitUntil(lambda: win.panel.humanise_button.isEnabled(), timeout=60_000)
    # pytest-qt closes widgets before fixtures finalise: answer "discard changes?" with yes, not a modal.
    win.confirm = lambda *args: True  # tests that check a confirmation patch it themselves
    return win
