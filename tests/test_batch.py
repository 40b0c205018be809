"""Humanising several files at once: from the window (File ▸ Humanise Several Files) and its Qt-free core."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from app.core.batch import BatchError, HumaniseSettings, batch_targets
from app.core.humanise import NoCheckpointError
from app.core.midi_document import MidiDocument
from app.ui import batch
from app.ui.batch import humanise_all


class LouderPredictor:
    """Every piano note at 100: enough to see which files were humanised."""

    styles = ("classical", "jazz")
    written_weight = 0.0

    def predict(self, notes, ticks_per_beat, mask, style, progress=None):
        return np.where(mask, 100, notes.velocity).astype(np.int16)


def inputs(tmp_path: Path) -> list[Path]:
    good = [tmp_path / "one.mid", tmp_path / "two.mid"]
    for path in good:
        shutil.copy(DEMO, path)
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd\x00\x00\x00\x06")
    return [good[0], broken, good[1]]


def test_a_bad_file_is_reported_and_the_rest_are_humanised(tmp_path):
    pairs = batch_targets(inputs(tmp_path), tmp_path / "out", "classical")
    (tmp_path / "out").mkdir()
    report = humanise_all(pairs, HumaniseSettings(), LouderPredictor, lambda f: True)
    assert [p.name for p in report.written] == ["one.classical.mid", "two.classical.mid"]
    assert len(report.failed) == 1 and report.failed[0].startswith("broken.mid: ") and not report.stopped
    assert report.failed[0].count("broken.mid") == 1, report.failed  # named once, not "broken.mid: broken.mid: …"
    assert (MidiDocument.load(report.written[0]).notes.velocity == 100).all()


def test_cancelling_or_no_model_stops_the_run(tmp_path):
    pairs = batch_targets(inputs(tmp_path), tmp_path, "jazz")
    asked = []
    report = humanise_all(pairs, HumaniseSettings(style="jazz"), LouderPredictor,
                          lambda f: asked.append(f) or len(asked) < 2)
    assert len(report.written) == 1 and report.stopped == "cancelled: 2 of 3 files not done"

    def no_model():
        raise NoCheckpointError("no checkpoint at models/stylenet.pt")

    report = humanise_all(pairs, HumaniseSettings(style="jazz"), no_model, lambda f: True)
    assert not report.written and report.stopped == "no model: no checkpoint at models/stylenet.pt"
    assert not report.failed  # stopped at the first file, not failed three times the same way



class SofterPredictor(LouderPredictor):
    def predict(self, notes, ticks_per_beat, mask, style, progress=None):
        return np.where(mask, 20, notes.velocity).astype(np.int16)


def test_a_run_keeps_the_model_it_started_with_when_another_is_chosen_meanwhile(tmp_path):
    from app.ui.batch import first_model

    in_use = [LouderPredictor()]
    pairs = batch_targets(inputs(tmp_path)[::2], tmp_path / "out", "classical")
    (tmp_path / "out").mkdir()

    def choose_another_meanwhile(fraction: float) -> bool:
        if fraction > 0:  # after the first file: Humanise ▸ Model picks another model
            in_use[0] = SofterPredictor()
        return True

    report = humanise_all(pairs, HumaniseSettings(), first_model(lambda: in_use[0]), choose_another_meanwhile)
    assert isinstance(in_use[0], SofterPredictor) and len(report.written) == 2
    assert all((MidiDocument.load(p).notes.velocity == 100).all() for p in report.written)
    report = humanise_all(pairs, HumaniseSettings(), lambda: in_use[0], lambda f: True)  # without it: the new one
    assert (MidiDocument.load(report.written[1]).notes.velocity == 20).all()

def test_names_that_collide_or_would_overwrite_an_input_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    shutil.copy(DEMO, tmp_path / "a" / "x.mid")
    shutil.copy(DEMO, tmp_path / "x.mid")
    with pytest.raises(BatchError, match="would both be written"):
        batch_targets([tmp_path / "x.mid", tmp_path / "a" / "x.mid"], tmp_path / "out", "jazz")
    shutil.copy(DEMO, tmp_path / "x.jazz.mid")
    with pytest.raises(BatchError, match="written over the input file"):
        batch_targets([tmp_path / "x.jazz.mid", tmp_path / "x.mid"], tmp_path, "jazz")


def test_the_window_humanises_several_files_in_the_background(window, qtbot, tmp_path, monkeypatch):
    files = inputs(tmp_path)
    window.panel.strength.setValue(50)
    reports = []
    assert window.batch.run(files, tmp_path / "out", reports.append)
    qtbot.waitUntil(lambda: bool(reports), timeout=60_000)
    report = reports[0]
    assert [p.name for p in report.written] == ["one.classical.mid", "two.classical.mid"]
    assert "broken.mid" in report.failed[0]
    original = MidiDocument.load(DEMO).notes.velocity
    assert (MidiDocument.load(report.written[1]).notes.velocity != original).mean() > 0.5  # the tiny model, at 50%
    assert "Humanised 2 of 3 files" in window.statusBar().currentMessage()
    asked = []
    monkeypatch.setattr(window, "confirm", lambda *a: asked.append(a[1]) or False)
    assert not window.batch.run(files, tmp_path / "out", reports.append)  # outputs exist: asks, and may stop
    assert "2 of the files to write are already in" in asked[0]


def test_several_midi_files_dropped_on_the_window_are_humanised_into_a_folder(window, qtbot, tmp_path,
                                                                             monkeypatch):
    dropped = [*inputs(tmp_path)[::2], tmp_path / "notes.txt"]  # two MIDI files and a stray text file
    shutil.copy(DEMO, tmp_path / "notes.txt")
    asked, shown = [], []
    monkeypatch.setattr(batch.QFileDialog, "getExistingDirectory",
                        lambda parent, title, start: asked.append((title, start)) or str(tmp_path / "out"))
    monkeypatch.setattr(batch.QMessageBox, "information", lambda parent, title, text: shown.append(text))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in dropped])
    opened = window.doc.midi.path
    window.dropEvent(QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: bool(shown), timeout=60_000)
    assert asked == [("Write the 2 humanised files into", str(tmp_path))]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one.classical.mid", "two.classical.mid"]
    assert "Humanised 2 of 2 files" in shown[0] and window.doc.midi.path == opened  # nothing else opened
