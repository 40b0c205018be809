"""File ▸ Humanise Several Files: the Humanise panel's settings applied to many files, on a worker thread."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from app.core.batch import BatchError, HumaniseSettings, batch_targets, humanise_file
from app.core.humanise import VelocityPredictor
from app.core.midi_document import MidiError
from app.ui.filters import MIDI_FILES_TO_OPEN
from app.ui.worker import BackgroundJobs, user_message

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

SHOWN_LINES = 12  # a summary longer than this says how many more there were


class NoModel(Exception):
    """The model could not be loaded: the run stops rather than fail every file the same way."""


@dataclass
class BatchReport:
    written: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "NAME: why", one per file that failed
    stopped: str = ""  # why the run stopped early (cancelled, or no model): the files after it were not done


def humanise_all(pairs: list[tuple[Path, Path]], settings: HumaniseSettings,
                 predictor_for: Callable[[], VelocityPredictor], progress: Callable[[float], bool]) -> BatchReport:
    """Each (input, output) in turn; a bad file is reported and the rest go on; no model stops the run."""
    report = BatchReport()

    def model() -> VelocityPredictor:
        try:
            return predictor_for()
        except Exception as exc:  # no checkpoint, or a broken one: no other file would fare better
            raise NoModel(user_message(exc)) from exc

    for k, (inp, out) in enumerate(pairs):
        if not progress(k / len(pairs)):
            report.stopped = f"cancelled: {len(pairs) - k} of {len(pairs)} files not done"
            break
        try:
            humanise_file(inp, out, settings, model)
        except NoModel as exc:
            report.stopped = f"no model: {exc}"
            break
        except (BatchError, MidiError) as exc:  # humanise_file's own errors name the file already
            report.failed.append(str(exc))
        except (ValueError, OSError) as exc:
            report.failed.append(f"{inp.name}: {exc}")
        else:
            report.written.append(out)
    progress(1.0)
    return report


def summary(report: BatchReport, total: int, folder: Path) -> str:
    lines = [f"Humanised {len(report.written)} of {total} files into {folder}."]
    if report.stopped:
        lines.append(f"Stopped early ({report.stopped}).")
    if report.failed:
        lines += [f"{len(report.failed)} could not be humanised:", *report.failed[:SHOWN_LINES]]
        if len(report.failed) > SHOWN_LINES:
            lines.append(f"… and {len(report.failed) - SHOWN_LINES} more")
    return "\n".join(lines)


def first_model(get: Callable[[], VelocityPredictor]) -> Callable[[], VelocityPredictor]:
    """``get`` called once, on first use: a run keeps the model it started with, even if another is chosen
    (Humanise ▸ Model) while it runs. (A failed ``get`` is not kept: the next file tries again.)"""
    return functools.cache(get)


class BatchHumanise(QObject):
    """Asks for the files and a folder, checks the names, runs :func:`humanise_all` and reports."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.background = BackgroundJobs(self)

    def dialog(self, paths: list[str] | None = None) -> None:
        """Asks for the files (unless given: files dropped on the window), then the folder to write into."""
        w = self.window
        if paths is None:
            paths, _ = QFileDialog.getOpenFileNames(w, "Humanise several files", w.settings.get("last_folder"),
                                                    MIDI_FILES_TO_OPEN)
        if not paths:
            return
        folder = QFileDialog.getExistingDirectory(w, f"Write the {len(paths)} humanised files into",
                                                  str(Path(paths[0]).parent))
        if folder:
            self.run([Path(p) for p in paths], Path(folder))

    def settings(self) -> HumaniseSettings:
        panel = self.window.panel
        return HumaniseSettings(style=panel.chosen_style or "classical",
                                strength=panel.strength.value() / 100, keep_written=panel.keep_written.isChecked())

    def run(self, inputs: list[Path], folder: Path, done: Callable[[BatchReport], None] | None = None) -> bool:
        """Humanise ``inputs`` into ``folder`` as STEM.STYLE.mid in the background; False if nothing started."""
        w, settings = self.window, self.settings()
        try:
            pairs = batch_targets(inputs, folder, settings.tag)
        except BatchError as exc:
            w.show_error("Cannot humanise these files", str(exc))
            return False
        existing = [out for _, out in pairs if out.exists()]
        if existing and not w.confirm("Replace files?", f"{len(existing)} of the files to write are already in "
                                      f"{folder} (such as {existing[0].name}). Replace them?"):
            return False
        folder.mkdir(parents=True, exist_ok=True)
        progress = QProgressDialog(f"Humanising {len(pairs)} files ({settings.describe()})…", "Cancel", 0, 100, w)
        progress.setMinimumDuration(300)

        def finished(report: BatchReport) -> None:
            progress.close()
            text = summary(report, len(pairs), folder)
            w.statusBar().showMessage(text.splitlines()[0], 8000)
            if done is not None:
                done(report)
            else:
                box = QMessageBox.warning if report.failed or report.stopped else QMessageBox.information
                box(w, "Humanise several files", text)

        def failed(message: str) -> None:
            progress.close()
            w.show_error("Humanise several files", message)

        model = first_model(w.holder.get)
        job = self.background.run(lambda tick: humanise_all(pairs, settings, model, tick), finished,
                                  failed, progress=lambda f: progress.setValue(int(100 * f)))
        progress.canceled.connect(lambda: setattr(job, "cancelled", True))
        return True

    def shutdown(self) -> None:
        self.background.shutdown()
