"""Copied notes on the desktop's clipboard: from one window to another, and between two processes on a real
X11 display; anything else found there is refused in one line."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import DEMO, ROOT
from display_servers import running, user_folders, without_qt_platform
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.clip_transfer import CLIP_MIME, clip_from_bytes, clip_to_bytes
from app.core.editor import EditorDocument, Version
from app.ui.display_check import x11_display_reachable


def humanised_demo() -> EditorDocument:
    doc = EditorDocument.open(DEMO)
    doc.push = lambda text, before, after: doc.restore(after)
    doc.set_version_velocities(Version.STYLISED, np.arange(len(doc.notes)) % 90 + 20, "Humanise", style="jazz")
    return doc


def test_a_clip_comes_back_from_its_bytes_as_another_files_notes():
    doc = humanised_demo()
    clip = doc.copy_notes(np.array([3, 4, 9, 20]))
    back = clip_from_bytes(clip_to_bytes(clip))
    for name in ("pitch", "start", "end", "velocity", "channel", "track"):
        assert np.array_equal(getattr(back.notes, name), getattr(clip.notes, name)), name
    assert back.versions.keys() == clip.versions.keys() == {Version.ORIGINAL, Version.STYLISED}
    assert np.array_equal(back.velocities(Version.STYLISED), clip.velocities(Version.STYLISED))
    assert back.ticks_per_beat == 480 and back.origin is not clip.origin  # pasted as another file's notes
    n = len(doc.notes)
    doc.paste_notes(back, 0)
    assert len(doc.notes) == n + 4 and np.array_equal(doc.state.stylised[n:], clip.velocities(Version.STYLISED))


def payload(**changes) -> bytes:
    doc = humanised_demo()
    data = json.loads(clip_to_bytes(doc.copy_notes(np.array([0, 1]))))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = data
        for key in parents:
            target = target[key]
        target[last] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(("data", "problem"), [
    (b"\xff\xfe", "not StyleNet Studio notes"),
    (b"hello", "not StyleNet Studio notes"),
    (b"[1, 2]", "not StyleNet Studio notes"),
    (b" " * 128_000_001, "128 MB is more than any piano part's notes"),
    (payload(format="stylenet-studio-notes/99"), "another version"),
    (payload(ticks_per_beat=0), "ticks per beat 0 out of range"),
    (payload(versions={}), "original velocities are missing"),
    (payload(versions__original=[64]), "unequal length"),
    (payload(notes__pitch=[60, 128]), "pitch outside 0..127"),
    (payload(notes__channel=[0, 16]), "channel outside 0..15"),
    (payload(versions__stylised=[0, 64]), "stylised velocities outside 1..127"),
    (payload(versions__loud=[64, 64]), "unknown version 'loud'"),
    (payload(notes__pitch=[60.5, 61]), "pitch: want a list of whole numbers"),
    (payload(notes__pitch=[True, 61]), "pitch: want a list of whole numbers"),
    (payload(notes__start=[2**70, 0]), "start: want a list of whole numbers"),
    (payload(notes__end=[0, 0], notes__start=[0, 5]), "a note must end at or after its start"),
    (payload(notes__start=[-5, 0]), "note times out of range"),
])
def test_what_is_not_a_clip_is_refused_naming_the_problem(data, problem):
    with pytest.raises(ValueError, match=problem):
        clip_from_bytes(data)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20).map(lambda value: json.dumps(value).encode())))
def test_nothing_on_the_clipboard_raises_anything_but_a_value_error(data):
    with contextlib.suppress(ValueError):
        clip_from_bytes(data)


@pytest.fixture
def second_window(qtbot, settings, tiny_checkpoint):
    from app.ui.main_window import MainWindow
    from models.inference import StyleNetPredictor

    win = MainWindow(settings, loader=lambda: StyleNetPredictor.from_checkpoint(tiny_checkpoint, "cpu"))
    qtbot.addWidget(win)
    win.confirm = lambda *args: True
    return win


def test_notes_copied_in_one_window_paste_in_another_through_the_clipboard(window, second_window, tmp_path):
    import mido
    from midi_factory import midi_bytes, note, track

    source, target = window, second_window
    assert source.open_path(DEMO)
    n = len(source.doc.notes)
    source.doc.set_version_velocities(Version.STYLISED, np.arange(n) % 90 + 20, "Humanise", style="jazz")
    strings = [(0, mido.Message("program_change", program=48)), *note(40, 0, 96, 70)]
    piano = [(0, mido.Message("program_change", program=0, channel=2)), *note(60, 0, 48, 64, channel=2)]
    (tmp_path / "two.mid").write_bytes(midi_bytes([track(strings), track(piano)], ticks_per_beat=96))
    assert target.open_path(tmp_path / "two.mid")
    target.doc.set_version_velocities(Version.STYLISED, np.array([50, 51]), "Humanise", style="jazz")
    source.doc.set_selection(np.isin(np.arange(n), [0, 1, 2]))
    assert source.edits.copy_selection()
    target.roll.playhead_tick = 96 * 4
    target.edits.paste()  # the other window's clip, which this one never had
    assert target.edits.clipboard is None and len(target.doc.notes) == 5
    new = target.doc.notes.take(np.arange(2, 5))
    assert set(zip(new.track.tolist(), new.channel.tolist())) == {(1, 2)}  # into this file's piano part
    assert np.array_equal(new.start - 96 * 4, (source.doc.notes.start[:3] - source.doc.notes.start[:3].min()) // 5)
    assert np.array_equal(target.doc.state.velocities(Version.STYLISED)[2:], source.doc.state.stylised[:3])
    # copying in the target replaces the clipboard: the source now pastes the target's notes
    target.doc.set_selection(np.isin(np.arange(5), [0]))
    assert target.edits.copy_selection()
    source.roll.playhead_tick = 0
    source.edits.paste()
    assert len(source.doc.notes) == n + 1 and source.doc.notes.pitch[-1] == 40
    # the source's own copy keeps each note's part when pasted back into its file (no clipboard round trip)
    source.doc.set_selection(np.isin(np.arange(n + 1), [5]))
    assert source.edits.copy_selection()
    source.edits.paste()
    assert len(source.doc.notes) == n + 2 and source.edits.clip_to_paste() is source.edits.clipboard


def test_other_notes_on_the_clipboard_are_refused_in_the_status_bar(window):
    from PySide6.QtCore import QByteArray, QMimeData
    from PySide6.QtGui import QGuiApplication

    assert window.open_path(DEMO)
    n = len(window.doc.notes)
    data = QMimeData()
    data.setData(CLIP_MIME, QByteArray(payload(notes__pitch=[60, 200])))
    QGuiApplication.clipboard().setMimeData(data)
    window.edits.paste()
    assert len(window.doc.notes) == n
    assert window.statusBar().currentMessage() == (
        "The notes on the clipboard cannot be pasted: pitch outside 0..127")
    QGuiApplication.clipboard().setText("some text")  # not notes: nothing to paste, as before
    window.edits.paste()
    assert len(window.doc.notes) == n and "Nothing to paste" in window.statusBar().currentMessage()


# Two editors in two processes on one X server, as two windows on a desktop: one copies notes and keeps
# running (an X11 selection lives with its owner), the other pastes them.
PEER = """
import sys, time
import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from app.ui.main_window import MainWindow
from app.core.clip_transfer import CLIP_MIME
from app.core.editor import Version

app = QApplication(sys.argv[:1])
window = MainWindow()
window.confirm = lambda *args: True
window.open_path(sys.argv[2])
window.show()
doc = window.doc
velocities = np.arange(len(doc.notes)) % 90 + 20 if sys.argv[1] == "copy" else np.full(len(doc.notes), 70)
doc.set_version_velocities(Version.STYLISED, velocities, "Humanise", style="jazz")
if sys.argv[1] == "copy":
    doc.set_selection(np.isin(np.arange(len(doc.notes)), [0, 1, 2]))
    window.edits.copy_selection()
    print("copied", doc.state.stylised[:3].tolist(), flush=True)
    QTimer.singleShot(30_000, app.quit)
else:
    deadline = time.monotonic() + 30
    def paste():
        offered = QGuiApplication.clipboard().mimeData()
        if (offered is None or not offered.hasFormat(CLIP_MIME)) and time.monotonic() < deadline:
            QTimer.singleShot(100, paste)
            return
        try:
            n = len(doc.notes)
            window.edits.paste()
            print("pasted", len(doc.notes) - n, doc.state.stylised[n:].tolist(), flush=True)
        finally:
            app.quit()
    QTimer.singleShot(0, paste)
app.exec()
"""


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="no Xvfb (bash packaging/bootstrap.sh --dev installs it)")
def test_notes_copied_in_one_process_paste_in_another_on_an_x11_display(tmp_path):
    display = ":4731"  # its own server: both processes must talk to one (xvfb-run -a counts up from 99)
    env = without_qt_platform(DISPLAY=display, QT_QPA_PLATFORM="xcb", **user_folders(tmp_path))
    with running(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                 lambda: x11_display_reachable(display)):
        copier = subprocess.Popen([sys.executable, "-c", PEER, "copy", str(DEMO)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            copied = next((line for line in copier.stdout if line.startswith("copied")), "")
            assert copied, copier.stderr.read()
            paster = subprocess.run([sys.executable, "-c", PEER, "paste", str(DEMO)], cwd=ROOT, env=env,
                                    capture_output=True, text=True, timeout=120)
            assert paster.returncode == 0, paster.stderr
            velocities = copied.split(" ", 1)[1].strip()
            assert f"pasted 3 {velocities}" in paster.stdout.splitlines(), paster.stdout + paster.stderr
        finally:
            copier.kill()
            copier.wait()
