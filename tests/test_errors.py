"""Unexpected errors in slots reach the user in one dialog, and the editor carries on."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from app.core.midi_document import MidiError
from app.playback.outputs import BadSoundfont, PlaybackUnavailable
from app.ui.errors import ErrorReporter
from app.ui.worker import user_message
from models.stylenet import CheckpointError


def fail(message: str) -> None:
    raise ValueError(message)


def test_an_error_in_a_slot_is_shown_once_with_its_traceback(window, qtbot, monkeypatch, capsys):
    shown: list[tuple[str, str, str]] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(
        (box.text(), box.informativeText(), box.detailedText())) or 0)
    reporter = ErrorReporter(window)
    reporter.install()
    try:
        QTimer.singleShot(0, lambda: fail("first"))
        qtbot.waitUntil(lambda: len(shown) == 1)
        assert "ValueError: first" in shown[0][0]
        assert "in fail" in shown[0][2] and "carries on" in shown[0][1]
        assert "ValueError: first" in capsys.readouterr().err  # and printed for a terminal or log, as before

        for k in range(3):  # a burst (a paint handler failing on each repaint) is one dialog, not three
            QTimer.singleShot(0, lambda k=k: fail(f"burst {k}"))
        qtbot.waitUntil(lambda: len(shown) == 2)
        qtbot.wait(50)
        assert len(shown) == 2 and "burst 0" in shown[1][0] and "2 more error(s)" in shown[1][1]
        QTimer.singleShot(0, lambda: fail("first"))  # again (a paint failing on each repaint): printed only
        qtbot.wait(50)
        assert len(shown) == 2 and capsys.readouterr().err.count("ValueError: first") == 1
        assert window.isVisible()
    finally:
        reporter.uninstall()
    assert sys.excepthook != reporter.report  # the hook before it is back


CRASH_SCRIPT = """
import sys
import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from app.core.editor import EditorDocument, Version
from app.ui.main_window import MainWindow
from app.ui.settings import Settings

def no_model():
    raise OSError("no model in this test")


qt = QApplication([])
window = MainWindow(Settings(QSettings(sys.argv[2], QSettings.Format.IniFormat)), loader=no_model)
window.open_path(sys.argv[1])
window.resize(1000, 700)
window.show()
window.confirm = lambda *args: True  # closing at exit discards the edit below without a dialog
EditorDocument.shown_velocities = lambda self: np.zeros((0, 2))[0]  # raised by C code: numpy's IndexError
left = Qt.MouseButton.LeftButton
for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):  # a click, as a user makes it
    qt.postEvent(window.roll, QMouseEvent(kind, QPointF(30, 30), QPointF(30, 30), left, left,
                                          Qt.KeyboardModifier.NoModifier))
window.roll.update(); window.lane.update()
window.doc.subscribe(lambda: np.zeros((0, 2))[0])  # and so does whatever an edit notifies
louder = np.minimum(window.doc.notes.velocity + 1, 127)
QTimer.singleShot(100, lambda: window.doc.set_version_velocities(Version.ORIGINAL, louder, "Louder"))  # an edit
QTimer.singleShot(500, qt.quit)
qt.exec()
window.grab()  # and the same handlers called from Python, inside a call into Qt: a screenshot, a test's click
QTest.mouseClick(window.roll, left, Qt.KeyboardModifier.NoModifier, QPoint(30, 30))
print("carried on", window.undo_stack.count(), window.doc.state.velocities(Version.ORIGINAL)[0] == louder[0])
"""


def test_an_error_raised_by_c_code_in_a_view_is_reported_not_a_crash(tmp_path):
    # PySide 6.10-6.12 crash (SIGSEGV) when such an error escapes a paint or mouse handler that runs inside a
    # Python event() override (the views' tooltips were one), and Qt crashes at exit when a paint that raised
    # left its QPainter active. Opening a file that tripped a bug in the pedal strip took the whole editor
    # down, with the user's other work.
    import os
    import subprocess

    from conftest import DEMO, ROOT

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(DEMO), str(tmp_path / "settings.ini")],
                            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "carried on 1 True" in result.stdout  # the edit is made, one undo step
    assert result.stderr.count("IndexError") >= 5  # reported, as any error in a handler is: paint, click, edit,
    # and the paint and click called from Python


def test_every_event_handler_of_the_editor_reports_its_errors():
    # A handler left out would crash the editor (or a test run) on the next C-raised error called through Qt.
    import importlib
    import inspect
    import pkgutil

    import app.ui
    from app.ui.errors import is_event_handler

    handlers, unguarded = 0, []
    for info in pkgutil.iter_modules(app.ui.__path__):
        module = importlib.import_module(f"app.ui.{info.name}")
        for cls in (c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__):
            for name, value in vars(cls).items():
                if is_event_handler(name, value):
                    handlers += 1
                    if not hasattr(value, "__wrapped__"):
                        unguarded.append(f"{cls.__name__}.{name}")
    assert handlers >= 20 and not unguarded, unguarded  # 24 now: the scan finds them


def test_a_failing_event_or_event_filter_lets_the_event_through_and_reports_the_error(monkeypatch):
    from app.ui.errors import reports_errors

    caught = []
    monkeypatch.setattr("sys.excepthook", lambda kind, value, tb: caught.append(kind))

    @reports_errors
    class Probe:
        def event(self, event):
            raise ValueError(event)

        def eventFilter(self, watched, event):
            raise ValueError(event)

        def paintEvent(self, event):
            raise ValueError(event)

    probe = Probe()
    assert probe.event(1) is False and probe.eventFilter(None, 2) is False and probe.paintEvent(3) is None
    assert caught == [ValueError] * 3


@pytest.mark.parametrize(("error", "said"), [
    (MidiError("song.mid is not a MIDI file"), "song.mid is not a MIDI file"),
    (CheckpointError("x.pt is not a readable StyleNet checkpoint"), "x.pt is not a readable StyleNet checkpoint"),
    (PlaybackUnavailable("no audio device"), "no audio device"),  # this machine's: no menu puts it right
    (BadSoundfont("soundfont a.sf2 not found"), "soundfont a.sf2 not found (File ▸ Choose Soundfont…)"),
    (PermissionError(13, "Permission denied", "/out.wav"), "[Errno 13] Permission denied: '/out.wav'"),
    (KeyError("velocity"), "KeyError: 'velocity'"),  # a bug: named by its type, for the report
    (RuntimeError(), "RuntimeError"),
])
def test_a_failed_job_is_worded_the_same_whichever_job_it_was(error, said):
    assert user_message(error) == said
