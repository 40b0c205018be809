"""Editor speed: open time, piano-roll/velocity-lane repaint, and event-loop stalls during Humanise.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_editor.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from common import longest_file, synthetic_midi
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from app.core.recovery import RecoveryStore
from app.ui.main_window import MainWindow
from app.ui.settings import Settings


def repaint_ms(widget, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        widget.repaint()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def measure(window: MainWindow, path: Path, label: str) -> None:
    t0 = time.perf_counter()
    assert window.open_path(path)
    QApplication.processEvents()
    opened = time.perf_counter() - t0
    view = window.view
    # Typical editing zoom: 40 px per beat (about six bars on screen), 10 px per key.
    view.px_per_tick, view.key_height = 40 / view.ticks_per_beat, 10.0
    notes = window.doc.notes
    view.scroll_to(left_tick=float(notes.start[len(notes) // 2]), top_pitch=84.0)
    visible = len(window.roll.visible_rows())
    roll, lane = repaint_ms(window.roll), repaint_ms(window.lane)
    view.px_per_tick, view.key_height = 120 / view.ticks_per_beat, 14.0  # close up: velocities on the notes
    view.scroll_to(left_tick=float(notes.start[len(notes) // 2]), top_pitch=84.0)
    close_visible, close = len(window.roll.visible_rows()), repaint_ms(window.roll)
    window.fit_song()
    fit_roll, fit_lane = repaint_ms(window.roll, 5), repaint_ms(window.lane, 5)
    print(f"{label}: {len(notes)} notes; open {opened * 1000:.0f} ms (target < 2000 ms for 50k notes)")
    print(f"  typical zoom ({visible} notes visible): roll {roll:.1f} ms, lane {lane:.1f} ms (target < 16 ms)")
    print(f"  close up, velocities written on notes ({close_visible} notes visible): roll {close:.1f} ms")
    print(f"  whole song on screen: roll {fit_roll:.1f} ms, lane {fit_lane:.1f} ms")


def humanise_stall(window: MainWindow, path: Path, typical_zoom: bool) -> None:
    window.open_path(path)
    if typical_zoom:
        view = window.view
        view.px_per_tick, view.key_height = 40 / view.ticks_per_beat, 10.0
        view.scroll_to(left_tick=0.0, top_pitch=84.0)
    gaps, last = [], [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    done = []
    window.humanise_finished.connect(lambda: done.append(True))
    t0 = time.perf_counter()
    window.humanise()
    while not done:
        QApplication.processEvents()
        time.sleep(0.001)
    timer.stop()
    zoom = "typical zoom" if typical_zoom else "whole song on screen"
    print(f"humanise {path.name} ({len(window.doc.notes)} notes, {zoom}): {time.perf_counter() - t0:.2f} s; "
          f"longest event-loop stall {max(gaps) * 1000:.0f} ms, median tick {statistics.median(gaps) * 1000:.1f} ms "
          f"(timer 5 ms; target stall < 50 ms)")


def recovery_snapshot(window: MainWindow, root: Path) -> None:
    """What the crash-recovery copy costs the main thread after an edit (the humanised largest file)."""
    store = RecoveryStore(root)
    t0 = time.perf_counter()
    store.write(window.doc)
    first = time.perf_counter() - t0
    later = []
    for _ in range(9):
        t0 = time.perf_counter()
        store.write(window.doc)
        later.append(time.perf_counter() - t0)
    store.clear()
    print(f"recovery snapshot of {len(window.doc.notes)} notes, {len(window.doc.available_versions())} versions: "
          f"first {first * 1000:.1f} ms (with the opened file), then {statistics.median(later) * 1000:.1f} ms "
          f"median (target < 50 ms: it runs on the main thread)")


def main() -> None:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings)
        window.confirm = lambda *a: True  # type: ignore[method-assign]
        window.resize(1400, 860)
        window.show()
        deadline = time.time() + 60
        while not window.panel.humanise_button.isEnabled() and time.time() < deadline:
            app.processEvents()
            time.sleep(0.01)
        measure(window, longest_file(), f"largest shared file {longest_file().name}")
        synth = Path(tmp) / "synthetic_50k.mid"
        synth.write_bytes(synthetic_midi(50_000))
        measure(window, synth, "synthetic 50,000-note file")
        if window.panel.humanise_button.isEnabled():
            humanise_stall(window, longest_file(), typical_zoom=True)
            humanise_stall(window, longest_file(), typical_zoom=False)
        else:
            print(f"humanise stall: skipped ({window.panel.info.text()})")
        recovery_snapshot(window, Path(tmp) / "recovery")
        window.doc.mark_saved()
        window.close()


if __name__ == "__main__":
    main()
