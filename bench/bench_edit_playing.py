"""Edits while playing, in the window, on a fake port: what the main thread spends on an edit, how long a note
edit takes to be heard (its schedules are built on a worker thread), and how late the playing notes and
the event loop run meanwhile (both threads need the GIL).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_edit_playing.py [--edits 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import mido
import numpy as np
from common import DATA
from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings
from PySide6.QtWidgets import QApplication

from app.core.humanise import VelocityPredictor
from app.playback.outputs import PortOutput
from app.ui.main_window import MainWindow
from app.ui.settings import Settings

FILES = ["jazz/mckenzie/AfterYou.mid", "classical/asap/Schubert/Wanderer_fantasie/Kolessova02.mid"]


class NullPort(mido.ports.BaseOutput):
    def _send(self, msg: mido.Message) -> None:
        pass


def no_model() -> VelocityPredictor:
    raise RuntimeError("not needed here")


def pump(app: QCoreApplication, seconds: float, until=lambda: False) -> list[float]:
    """Run the event loop for ``seconds`` or until ``until()``; the gaps between its turns (s)."""
    gaps, last, end = [], time.perf_counter(), time.perf_counter() + seconds
    while time.perf_counter() < end and not until():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    return gaps


def measure(app: QCoreApplication, window: MainWindow, path: Path, edits: int) -> None:
    window.open_path(path)
    transport = window.transport
    transport.match_box.setChecked(False)  # gains would be re-measured a second later: not what is timed here
    transport.ensure_output(PortOutput(NullPort()))
    transport.ensure_player()
    transport.seek_tick(densest_tick(window))  # where lateness shows, if anywhere
    transport.toggle_play()
    velocity_ms, move_ms, heard_ms, gaps, quiet, busy = [], [], [], [], [], []
    for k in range(edits):
        player = transport.player
        assert player is not None
        player.record_timing = True
        pump(app, 0.5)
        quiet += [a - d for d, a in player.sent]
        player.sent.clear()
        rows = np.arange(k * 10, k * 10 + 10)
        t0 = time.perf_counter()
        window.doc.set_velocities(rows, np.full(10, 40 + k))
        velocity_ms.append(time.perf_counter() - t0)
        assert transport.player is player  # swapped in place, no rebuild
        t0 = time.perf_counter()
        window.doc.move_notes(rows[:1], 0, 1)
        t1 = time.perf_counter()
        gaps += pump(app, 10, until=lambda p=player: transport.player is not p)
        heard_ms.append(time.perf_counter() - t0)
        move_ms.append(t1 - t0)
        busy += [a - d for d, a in player.sent]
    transport.stop()
    ms = lambda xs: np.array(xs) * 1000  # noqa: E731
    print(f"{path.name} ({len(window.doc.notes)} notes), {edits} edits while playing:")
    print(f"  velocity edit on the main thread: median {np.median(ms(velocity_ms)):.1f} ms, "
          f"max {ms(velocity_ms).max():.1f} ms (target < 50 ms)")
    print(f"  note move on the main thread {np.median(ms(move_ms)):.1f} ms median; playing with it after "
          f"{np.median(ms(heard_ms)):.0f} ms median, {ms(heard_ms).min():.0f}-{ms(heard_ms).max():.0f} ms")
    print(f"  meanwhile: event-loop gaps max {ms(gaps).max():.0f} ms; notes late {lateness(busy)} "
          f"(quiet playback: {lateness(quiet)})")


def densest_tick(window: MainWindow) -> float:
    """The start of the 20 beats with the most note-ons."""
    starts = np.sort(window.doc.notes.start)
    span = 20 * window.doc.midi.ticks_per_beat
    return float(starts[np.argmax(np.searchsorted(starts, starts + span) - np.arange(len(starts)))])


def lateness(seconds: list[float]) -> str:
    if not seconds:
        return "no note fell due"
    late = np.array(seconds) * 1000
    return f"p99 {np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms ({len(late)} events)"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--edits", type=int, default=5)
    args = p.parse_args()
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings, loader=no_model)
        window.confirm = lambda *a: True  # type: ignore[method-assign]
        for name in FILES:
            measure(app, window, DATA / name, args.edits)
        window.doc.mark_saved()
        window.close()


if __name__ == "__main__":
    main()
