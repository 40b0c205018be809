"""Crash recovery: what an editor that died leaves behind comes back whole; a running editor's is left alone."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import DEMO, ROOT

from app.core.editor import EditorDocument, Version
from app.core.midi_document import MidiError
from app.core.recovery import SESSION_FILE, RecoveryStore, left_behind, restore


def edited_demo() -> EditorDocument:
    doc = EditorDocument.open(DEMO)
    n = len(doc.notes)
    doc.set_version_velocities(Version.BASELINE, np.arange(n) % 60 + 40, "Baseline")
    doc.set_version_velocities(Version.STYLISED, np.arange(n)[::-1] % 70 + 30, "Humanise", style="jazz")
    doc.move_notes(np.array([3]), 60, 2)  # the moved note sorts elsewhere when the file is read back
    doc.add_note(100, 240, 480, 99, 1, 0)
    return doc


def by_note(doc: EditorDocument, version: Version) -> dict[tuple[int, int, int], int]:
    n, v = doc.notes, doc.state.velocities(version)
    assert v is not None
    return {(int(p), int(s), int(e)): int(x) for p, s, e, x in zip(n.pitch, n.start, n.end, v)}


def test_snapshot_of_a_gone_editor_restores_every_version(tmp_path):
    doc = edited_demo()
    store = RecoveryStore(tmp_path)
    store.write(doc)
    assert left_behind(tmp_path) == []  # this editor still runs: its lock is held
    store._lock.close()  # what a crash does to the lock
    (work,) = left_behind(tmp_path)
    assert work.source == DEMO.resolve() and work.versions == ("original", "baseline", "stylised")
    back = restore(work)
    assert back.modified and back.state.style == "jazz" and back.midi.path == DEMO.resolve()
    for version in Version:
        assert by_note(back, version) == by_note(doc, version), version
    assert "bach_prelude_c_major.mid (Original, Baseline, Stylised)" in work.describe()


def test_clear_forgets_the_snapshot_and_a_half_written_one_is_not_offered(tmp_path):
    store = RecoveryStore(tmp_path)
    store.write(edited_demo())
    store.clear()
    assert not store.folder.exists() and left_behind(tmp_path) == []
    half = tmp_path / "session-1-1"
    half.mkdir()
    (half / "original.mid").write_bytes(DEMO.read_bytes())  # crashed before session.json was written
    assert left_behind(tmp_path) == []
    assert left_behind(tmp_path / "never made") == []


def test_a_damaged_snapshot_gives_a_clear_error(tmp_path):
    store = RecoveryStore(tmp_path)
    store.write(edited_demo())
    store._lock.close()
    (work,) = left_behind(tmp_path)
    notes = work.folder / "notes.npz"
    good = notes.read_bytes()
    notes.write_bytes(good[: len(good) // 2])
    with pytest.raises(MidiError, match=r"recovery copy of bach_prelude_c_major\.mid is damaged"):
        restore(work)
    arrays = dict(np.load(io.BytesIO(good)))
    arrays["on_ref"] = arrays["on_ref"] + 10_000  # note-ons past the end of their tracks
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    notes.write_bytes(buf.getvalue())
    with pytest.raises(MidiError, match="do not fit"):
        restore(work)
    (work.folder / "base.mid").write_bytes(b"MThd broken")
    with pytest.raises(MidiError, match="recovery copy"):
        restore(work)


def test_a_crashed_process_is_found_and_a_running_one_is_not(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from app.core.editor import EditorDocument
        from app.core.recovery import RecoveryStore
        doc = EditorDocument.open({str(DEMO)!r})
        doc.set_velocities([0], [120])
        store = RecoveryStore({str(tmp_path)!r})  # holds the lock while it lives
        store.write(doc)
        print("written", flush=True)
        if sys.argv[1] == "crash":
            os._exit(3)
        time.sleep(60)
    """)
    running = subprocess.Popen([sys.executable, "-c", script, "run"], stdout=subprocess.PIPE, text=True)
    try:
        assert running.stdout is not None and running.stdout.readline().strip() == "written"
        assert left_behind(tmp_path) == []
        crashed = subprocess.run([sys.executable, "-c", script, "crash"], capture_output=True, text=True)
        assert crashed.returncode == 3
        (work,) = left_behind(tmp_path)
        assert int(restore(work).notes.velocity[0]) == 120 and (work.folder / SESSION_FILE).exists()
    finally:
        running.kill()
        running.wait()
    assert len(left_behind(tmp_path)) == 2  # once it is gone, its snapshot is offered too


def make_window(qtbot, settings, tiny_checkpoint, root):
    from app.ui.main_window import MainWindow
    from models.inference import StyleNetPredictor

    win = MainWindow(settings, loader=lambda: StyleNetPredictor.from_checkpoint(tiny_checkpoint, "cpu"),
                     recovery=RecoveryStore(root))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.panel.humanise_button.isEnabled(), timeout=60_000)
    win.confirm = lambda *args: True  # "discard changes?" answered yes, not a modal
    return win


def test_the_editor_keeps_a_copy_while_unsaved_and_drops_it_once_saved(qtbot, settings, tiny_checkpoint, tmp_path):
    win = make_window(qtbot, settings, tiny_checkpoint, tmp_path / "recovery")
    win.open_path(DEMO)
    store = win.keeper.store
    win.make_baseline()
    assert not win.doc.modified  # a seed remakes the baseline: nothing to keep
    with qtbot.waitSignal(win.humanise_finished, timeout=60_000):
        win.humanise()
    qtbot.waitUntil(lambda: (store.folder / SESSION_FILE).exists(), timeout=5000)
    assert (store.folder / "base.mid").read_bytes() == DEMO.read_bytes()  # the file as opened, written once
    win.doc.set_version(Version.ORIGINAL)
    win.doc.set_velocities(np.array([0]), np.array([111]))  # the score edited too
    assert win.doc.unsaved == [Version.ORIGINAL, Version.STYLISED]
    win.exporter.export_to(tmp_path / "score.mid", Version.ORIGINAL)
    assert win.doc.unsaved == [Version.STYLISED] and store.folder.exists()
    win.exporter.export_to(tmp_path / "stylised.mid", Version.STYLISED)
    assert not win.doc.modified and not store.folder.exists()
    win.undo_stack.undo()  # the score edit undone: unsaved again, and kept again
    assert win.doc.unsaved == [Version.ORIGINAL]
    qtbot.waitUntil(lambda: (store.folder / SESSION_FILE).exists(), timeout=5000)


def test_restore_from_the_file_menu_brings_back_a_crashed_editors_work(qtbot, settings, tiny_checkpoint, tmp_path,
                                                                        monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    root = tmp_path / "recovery"
    crashed = RecoveryStore(root)
    crashed.write(edited_demo())
    crashed._lock.close()
    win = make_window(qtbot, settings, tiny_checkpoint, root)
    assert len(win.keeper.left()) == 1
    restore_action = next(a for a in win.file_menu.actions() if a.text() == "Restore &Unsaved Work…")
    restore_action.trigger()
    assert win.doc.modified and win.doc.version is Version.STYLISED and win.doc.state.style == "jazz"
    assert win.doc.midi.path == DEMO.resolve() and len(win.doc.notes) == len(EditorDocument.open(DEMO).notes) + 1
    assert not crashed.folder.exists() and (win.keeper.store.folder / "notes.npz").exists()
    assert win.keeper.left() == []  # its own copy is held by this editor
    assert "save the score with Ctrl+S and export the Stylised version with Ctrl+E" in win.statusBar().currentMessage()

    second = RecoveryStore(root)
    second.write(edited_demo())
    second._lock.close()
    clicked = []

    def click(box: QMessageBox, text: str = "Discard") -> int:
        button = next(b for b in box.buttons() if b.text() == text)
        clicked.append(box.text())
        button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", click)
    win.keeper.offer_at_start()
    assert "did not close properly" in clicked[0] and "bach_prelude_c_major.mid" in clicked[0]
    assert not second.folder.exists() and win.doc.modified  # discarded; the open work is untouched


def test_launch_offers_a_crashed_editors_work(qtbot, settings, tiny_checkpoint, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication, QMessageBox

    import app.ui.main_window as main_window
    from app.ui.launch import launch
    from app.ui.recovery import default_root

    crashed = RecoveryStore(default_root())  # conftest points it at a throwaway folder
    crashed.write(edited_demo())
    crashed._lock.close()
    windows, asked, real_window = [], [], main_window.MainWindow

    def make_window(recovery=None):
        from models.inference import StyleNetPredictor

        load = lambda: StyleNetPredictor.from_checkpoint(tiny_checkpoint, "cpu")  # noqa: E731
        windows.append(real_window(settings, loader=load, recovery=recovery))
        windows[-1].confirm = lambda *args: True
        qtbot.addWidget(windows[-1])
        return windows[-1]

    def later(box: QMessageBox) -> int:
        asked.append(box.text())
        next(b for b in box.buttons() if b.text() == "Later").click()
        return 0

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(main_window, "MainWindow", make_window)
    monkeypatch.setattr(QApplication, "exec", lambda *args: 0)
    monkeypatch.setattr(QMessageBox, "exec", later)
    assert launch([str(DEMO)]) == 0  # a file was asked for: it opens, and the work stays on offer in the menu
    assert "Restore Unsaved Work" in windows[0].statusBar().currentMessage() and not asked
    assert launch([]) == 0
    qtbot.waitUntil(lambda: bool(asked), timeout=2000)
    assert "did not close properly" in asked[0] and len(left_behind(default_root())) == 1  # "Later" keeps it
