"""Choosing a soundfont and the first Play, in the window: how long FluidSynth takes to load the soundfont, and
the longest the event loop waits meanwhile (what a user sees as a window that does not respond). The load runs
on a worker thread when the soundfont is chosen, so the second figure should be a small fraction of the first,
whatever the size, and the first Play uses the synth that loaded it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_soundfont.py [SOUNDFONT] [--grow-to MB]

``--grow-to 1000`` measures a soundfont the size of a sampled concert grand's: a copy of SOUNDFONT with silent
sample data appended, which FluidSynth loads into memory like any other.

FluidSynth plays through its "file" audio driver (into a temporary WAV), which opens on machines without a
sound card (CI, this project's) as a sound card's driver would elsewhere. ``--no-device`` leaves the usual
driver, which fails there: the soundfont loads, then no audio device can be opened.

FluidSynth page-locks the sample data where the user may (root, or an unlimited memlock limit), and the
kernel's locking of a large soundfont is most of the event-loop gap left while it loads. ``--no-lock`` turns
that off (``synth.lock-memory`` 0) to measure the difference; the app keeps it on.
"""

from __future__ import annotations

import argparse
import functools
import os
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench_edit_playing import no_model, pump
from common import ROOT, timeit
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.playback.outputs import FluidSynthOutput, find_soundfont, new_synth
from app.ui.main_window import MainWindow
from app.ui.settings import Settings

DEMO = ROOT / "resources" / "demo" / "bach_prelude_c_major.mid"


def waited(app: QApplication, start: Callable[[], None], until: Callable[[], bool]) -> tuple[float, float]:
    """(seconds until ``until()``, the longest event-loop gap meanwhile in seconds) after ``start()``."""
    t0 = time.perf_counter()
    start()
    gaps = pump(app, 60, until)
    return time.perf_counter() - t0, max(gaps, default=time.perf_counter() - t0)


def grown(source: Path, megabytes: float, folder: Path) -> Path:
    """A copy of ``source`` (an .sf2 whose sample chunk is the last one of its ``sdta`` list, as FluidR3's is)
    with silence appended to that chunk until the file has ``megabytes``: the presets, whose sample offsets
    count from the chunk's start, are unchanged."""
    data = bytearray(source.read_bytes())
    at = data.find(b"LIST", 12)
    while data[at + 8:at + 12] != b"sdta":
        at += 8 + struct.unpack_from("<I", data, at + 4)[0]
    list_size = struct.unpack_from("<I", data, at + 4)[0]
    smpl = at + 12
    assert data[smpl:smpl + 4] == b"smpl" and struct.unpack_from("<I", data, smpl + 4)[0] == list_size - 12
    extra = max(0, int(megabytes * 1e6) - len(data)) // 2 * 2
    for offset in (4, at + 4, smpl + 4):  # RIFF, LIST sdta and smpl sizes grow by the same amount
        struct.pack_into("<I", data, offset, struct.unpack_from("<I", data, offset)[0] + extra)
    path = folder / f"{source.stem}_{megabytes:.0f}MB.sf2"
    end = at + 8 + list_size
    with path.open("wb") as out:
        out.write(data[:end])
        out.write(bytes(extra))
        out.write(data[end:])
    return path


def open_pianos_with(settings: dict[str, str | int | float]) -> None:
    """FluidSynth, wherever the window opens it (:meth:`Transport.piano_opener`), opens with ``settings``."""
    import app.ui.transport

    opened = functools.partial(FluidSynthOutput, settings=settings)
    app.ui.transport.FluidSynthOutput = opened  # type: ignore[assignment,misc]


def measure(path: str, tmp: Path, settings: dict[str, str | int | float]) -> None:
    load, _ = timeit(lambda: new_synth(path, settings=settings).delete(), repeat=3)
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    window = MainWindow(Settings(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)), loader=no_model)
    window.confirm = lambda *a: True  # type: ignore[method-assign]
    window.open_path(DEMO)
    transport = window.transport
    transport.match_box.setChecked(False)  # a loudness measurement would load it a third time
    transport.output_box.setCurrentIndex(transport.output_box.findData("fluidsynth"))
    status = transport.status.text
    chosen = waited(app, lambda: transport.choice.use_soundfont(path), lambda: status().startswith("Soundfont"))
    print(f"{Path(path).name} ({Path(path).stat().st_size / 1e6:.0f} MB): FluidSynth loads it in "
          f"{load * 1000:.0f} ms (median of 3, on one thread)")
    print(f"  choosing it: {status()!r} after {chosen[0] * 1000:.0f} ms; "
          f"longest event-loop gap {chosen[1] * 1000:.1f} ms")
    played = waited(app, transport.toggle_play, lambda: transport.output is not None or "Cannot" in status())
    print(f"  first Play: {status()[:60]!r} after {played[0] * 1000:.0f} ms; "
          f"longest event-loop gap {played[1] * 1000:.1f} ms")
    transport.stop()
    window.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("soundfont", nargs="?", help="default: the General MIDI soundfont playback would use")
    p.add_argument("--grow-to", type=float, metavar="MB", help="measure a copy padded to this size")
    p.add_argument("--no-device", action="store_true", help="FluidSynth's usual audio driver, not the file one")
    p.add_argument("--no-lock", action="store_true", help="FluidSynth does not page-lock the sample data")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings: dict[str, str | int | float] = {} if args.no_device else {
            "audio.driver": "file", "audio.file.name": str(Path(tmp) / "out.wav")}
        if args.no_lock:
            settings["synth.lock-memory"] = 0
        open_pianos_with(settings)
        path = str(args.soundfont or find_soundfont())
        if args.grow_to:
            path = str(grown(Path(path), args.grow_to, Path(tmp)))
            os.sync()  # else the copy's write-back to disk competes with the loads measured
        measure(path, Path(tmp), settings)


if __name__ == "__main__":
    main()
