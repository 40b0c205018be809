"""Every MIDI file of the shared data through the editor window, as a musician uses it (offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_corpus_gui.py [--limit N] [--only TEXT] [--every K]

One window, the bundled model, preferences in a throwaway file. For each file: open it (File ▸ Open's
path) and paint the window; Humanise (the panel's style: Classical for ASAP, Jazz for the jazz files) and
paint again; show each version; prepare what Play plays (every version's schedule); undo the Humanise and
redo it; export the Stylised version and read it back. A file fails on an error message, an exception in
any slot, a humanise that does not finish, an undo that does not restore the velocities or an export that
differs from what the editor shows. Prints failures by name, the time to open and paint, to humanise and
to prepare playback (median, 95th percentile, slowest), and the process's memory every 100 files (one
window opens file after file, so memory that grows with the count is a leak).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import torch
from common import DATA
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

import app.ui.recovery
from app.core.editor import Version
from app.core.midi_document import MidiDocument
from app.ui.main_window import MainWindow
from app.ui.screenshot import wait_for
from app.ui.settings import Settings

STAGES = ("open + paint", "humanise", "prepare playback")


def rss_mb() -> float:
    """The process's resident memory now (Linux), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


class Sweep:
    """One window; :meth:`check` puts one file through it and returns stage times or raises why it failed."""

    def __init__(self, folder: Path) -> None:
        settings = Settings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
        self.window = MainWindow(settings)
        self.window.confirm = lambda *args: True  # type: ignore[method-assign]
        self.errors: list[str] = []
        self.window.show_error = lambda title, text: self.errors.append(f"{title}: {text}")  # type: ignore[method-assign]
        sys.excepthook = lambda kind, exc, tb: self.errors.append(f"{kind.__name__} in a slot: {exc}")
        self.window.resize(1400, 860)
        self.window.show()
        QApplication.processEvents()
        if not self.window.panel.humanise_button.isEnabled():
            wait_for(self.window.panel.style_box.currentIndexChanged, 60_000)
        self.out = folder / "export.mid"

    def _raise_errors(self) -> None:
        if self.errors:
            message = "; ".join(self.errors)
            self.errors.clear()
            raise RuntimeError(message)

    def check(self, path: Path, style: str) -> dict[str, float]:
        w, times = self.window, {}
        t0 = time.perf_counter()
        if not w.open_path(path):
            self._raise_errors()
            raise RuntimeError("did not open")
        QApplication.processEvents()
        w.grab()
        times["open + paint"] = time.perf_counter() - t0
        self._raise_errors()
        w.panel.style_box.setCurrentIndex(w.panel.style_box.findData(style))
        t0 = time.perf_counter()
        w.humanise()
        wait_for(w.humanise_finished)
        times["humanise"] = time.perf_counter() - t0
        self._raise_errors()
        if w.doc.version is not Version.STYLISED:
            raise RuntimeError(f"humanise did not finish: {w.panel.info.text()}")
        stylised = w.doc.state.velocities(Version.STYLISED)
        for version in w.doc.available_versions():
            w.doc.set_version(version)
            w.grab()
        self._raise_errors()  # a paint that raised (the views report errors, they do not raise them)
        w.doc.set_version(Version.STYLISED)
        t0 = time.perf_counter()
        schedules = w.transport.schedules()
        times["prepare playback"] = time.perf_counter() - t0
        if set(schedules) != {v.value for v in w.doc.available_versions()}:
            raise RuntimeError(f"schedules for {sorted(schedules)} only")
        w.undo_stack.undo()
        if w.doc.state.velocities(Version.STYLISED) is not None:
            raise RuntimeError("undo left the Stylised version")
        w.undo_stack.redo()
        if not np.array_equal(w.doc.state.velocities(Version.STYLISED), stylised):
            raise RuntimeError("redo did not bring back the same velocities")
        w.doc.export(self.out, Version.STYLISED)
        back = MidiDocument.load(self.out)
        if not np.array_equal(back.notes.velocity, w.doc.midi_for(Version.STYLISED).notes.velocity):
            raise RuntimeError("the exported velocities differ from the editor's")
        self._raise_errors()
        w.doc.mark_saved()
        return times


def quantiles(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.0f} ms, 95th percentile "
            f"{np.percentile(values, 95) * 1000:.0f} ms")  # interpolated: never below the median of two


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, default=0, help="check only the first N files (0: all)")
    p.add_argument("--only", default="", help="check only files whose path contains this text")
    p.add_argument("--every", type=int, default=1, help="check every K-th file")
    args = p.parse_args()
    torch.set_num_threads(2)
    files = sorted(f for f in DATA.rglob("*") if f.suffix.lower() == ".mid" and args.only in str(f))
    files = files[:: args.every][: args.limit or None]
    qt = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="corpus-gui-"))
    app.ui.recovery.default_root = lambda: folder / "recovery"  # type: ignore[assignment]
    sweep = Sweep(folder)
    times: dict[str, list[tuple[float, Path]]] = {stage: [] for stage in STAGES}
    failures: list[str] = []
    t_all = time.perf_counter()
    print(f"{len(files)} files; memory with the window open and the model loaded: {rss_mb():.0f} MB", flush=True)
    for k, path in enumerate(files, 1):
        rel = path.relative_to(DATA)
        style = "jazz" if "jazz" in path.parts else "classical"
        try:
            for stage, seconds in sweep.check(path, style).items():
                times[stage].append((seconds, rel))
        except Exception as exc:  # the point is to list every kind of failure
            failures.append(f"{rel}: {exc}")
            print(f"FAIL {rel}: {exc}", flush=True)
        if k % 100 == 0 or k == len(files):
            print(f"{k}/{len(files)} files, {time.perf_counter() - t_all:.0f} s, memory {rss_mb():.0f} MB "
                  f"(peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)", flush=True)
    print(f"\n{len(files)} files, {len(files) - len(failures)} passed, {len(failures)} failed")
    for stage in STAGES:
        if times[stage]:
            slowest = max(times[stage])
            print(f"{stage}: {quantiles([t for t, _ in times[stage]])}, slowest {slowest[0] * 1000:.0f} ms "
                  f"({slowest[1]})")
    sweep.window.close()
    del qt


if __name__ == "__main__":
    main()
