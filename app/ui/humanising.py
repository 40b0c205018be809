"""Humanise in the window: the model loaded in the background, runs on a worker thread with a snapshot of
the notes, the strength slider re-blending the last result, and the random baseline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal

from app.core.editor import Version
from app.core.humanise import VelocityPredictor, baseline_velocities, humanise_mask, uses_written_dynamics
from app.ui.worker import (
    HumaniseJob,
    HumaniseResult,
    HumaniseSnapshot,
    PredictorHolder,
    Preloader,
    joined,
    start_job,
)

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


def velocity_summary(made: np.ndarray) -> str:
    return f" Velocities {int(made.min())}–{int(made.max())}, mean {made.mean():.0f}." if len(made) else ""


class HumaniseController(QObject):
    """Drives the Humanise panel for ``window``; worker threads go into ``threads`` (the window joins them)."""

    model_settled = Signal()  # the model at start-up has loaded, or failed to: the panel says which

    def __init__(self, window: MainWindow, loader: Callable[[], VelocityPredictor] | None,
                 threads: list[QThread]) -> None:
        super().__init__(window)
        self.window, self.threads = window, threads
        self.holder = PredictorHolder(loader or window.models.loader())
        self.settled = False
        self.job: HumaniseJob | None = None
        self.last: HumaniseResult | None = None  # the strength slider blends it again
        panel = window.panel
        self.strength_timer = QTimer(self, singleShot=True, interval=200)  # the slider's last word counts
        self.strength_timer.timeout.connect(self.apply_strength)
        panel.strength.valueChanged.connect(self.strength_timer.start)
        panel.strength.sliderReleased.connect(self.strength_timer.start)
        panel.humanise_requested.connect(self.run)
        panel.baseline_requested.connect(self.make_baseline)
        panel.cancel_requested.connect(self.cancel)

    # -- the model ----------------------------------------------------------------------
    def preload(self) -> None:
        loader = Preloader(self.holder)
        loader.done.connect(self._model_ready)
        loader.failed.connect(self._model_failed)
        self._preloader = loader
        self.threads.append(start_job(loader, loader.done, loader.failed))

    def _model_ready(self, predictor: VelocityPredictor) -> None:
        if predictor is not self.holder.loaded:
            return  # another model was chosen meanwhile
        w = self.window
        w.panel.set_styles(predictor.styles, w.settings.get("style"))
        w.panel.humanise_button.setEnabled(True)
        w.panel.humanise_button.setToolTip("")
        device = getattr(predictor, "device_name", "cpu")
        checkpoint = w.settings.get("checkpoint")  # a model of the user's own is named where it runs
        w.status_labels["device"].setText(f"model: {Path(checkpoint).name} · {device}" if checkpoint
                                          else f"device: {device}")
        w.panel.info.setText(self._ready_text(predictor))
        self._settle()

    def _settle(self) -> None:
        if not self.settled:
            self.settled = True
            self.model_settled.emit()

    @staticmethod
    def _ready_text(predictor: VelocityPredictor) -> str:
        return f"StyleNet ready on {getattr(predictor, 'device_name', 'cpu')}."

    def document_replaced(self) -> None:
        """Another file is open: the last run's report and strength blends were about the one before."""
        self.last = None
        predictor = self.holder.loaded
        if predictor is not None and self.job is None:  # a running job reports that it was discarded
            self.window.panel.info.setText(self._ready_text(predictor))

    def _model_failed(self, message: str) -> None:
        self.holder.error = message
        hint = " (Humanise ▸ Model ▸ Bundled Model goes back to the bundled one)" if (
            self.window.settings.get("checkpoint")) else ""
        self.window.panel.set_unavailable(f"Humanise is unavailable: {message}{hint}")
        self.window.status_labels["device"].setText("device: no model")
        self._settle()

    def use_model(self, predictor: VelocityPredictor, load: Callable[[], VelocityPredictor]) -> None:
        """Humanise with ``predictor`` from now on (Humanise ▸ Model)."""
        self.holder.use(predictor, load)
        self._model_ready(predictor)

    # -- a run --------------------------------------------------------------------------
    def run(self) -> None:
        w, doc, panel = self.window, self.window.doc, self.window.panel
        if self.job is not None or not panel.humanise_button.isEnabled():
            return
        mask = self._mask()
        if not mask.any():
            w.show_error("Nothing to humanise", "There are no piano-part notes in the 88-key range to humanise.")
            return
        snapshot = HumaniseSnapshot(doc.notes, doc.midi.ticks_per_beat, mask, panel.chosen_style,
                                    panel.strength.value() / 100.0, panel.keep_written.isChecked(),
                                    only_selected=panel.selection_only.isChecked())
        self.job = HumaniseJob(self.holder, snapshot)
        self.job.progress.connect(self._progress)  # a bound slot: runs on the main thread
        self.job.finished.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._cancelled)
        panel.set_running(True)
        w.settings.set("style", snapshot.style)
        w.settings.set("strength", panel.strength.value())
        w.settings.set("keep_written", snapshot.keep_written)
        self.threads[:] = [thread for thread in self.threads if not joined(thread)]  # the window's list too
        self.threads.append(start_job(self.job, self.job.finished, self.job.failed, self.job.cancelled))

    def _mask(self) -> np.ndarray:
        """The notes Humanise and the baseline change: the piano part, or its selected notes with "only
        selected notes" ticked."""
        doc = self.window.doc
        selection = doc.selection if self.window.panel.selection_only.isChecked() else None
        return humanise_mask(doc.notes, doc.piano_mask, selection)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _progress(self, fraction: float) -> None:
        self.window.panel.progress.setValue(int(100 * fraction))

    def _end_job(self) -> HumaniseSnapshot | None:
        snapshot = self.job.snapshot if self.job else None
        self.job = None
        self.window.panel.set_running(False)
        self.window.humanise_finished.emit()
        return snapshot

    def _done(self, full: np.ndarray, seconds: float) -> None:
        snapshot, w = self._end_job(), self.window
        if snapshot is None or snapshot.notes is not w.doc.notes:
            text = "Humanise discarded: the notes changed while StyleNet was running. Run it again."
            w.panel.info.setText(text)  # said where the result would have been, without a box to dismiss
            w.statusBar().showMessage(text, 8000)
            return
        pct = round(snapshot.strength * 100)
        # the Stylised version as it is now (edits made while the model ran included) outside the selection
        rest = w.doc.state.stylised if snapshot.only_selected else None
        self.last = HumaniseResult(snapshot, full, rest)
        velocity = self.last.velocities(pct)
        w.doc.set_version_velocities(Version.STYLISED, velocity, f"Humanise ({snapshot.style}, {pct}%)",
                                     style=snapshot.style)
        predictor = self.holder.loaded
        kept = (snapshot.keep_written and predictor is not None
                and uses_written_dynamics(snapshot.notes.velocity[snapshot.mask], predictor.written_weight))
        w.panel.info.setText(f"Humanised {int(snapshot.mask.sum())} notes ({snapshot.style}, {pct}%) "
                             f"in {seconds:.2f} s" + ("; the written dynamics were kept." if kept else ".")
                             + velocity_summary(velocity[snapshot.mask]))

    def _failed(self, message: str) -> None:
        self._end_job()
        self.window.show_error("Humanise failed", message)

    def _cancelled(self) -> None:
        self._end_job()
        self.window.panel.info.setText("Humanise cancelled.")

    # -- after a run ----------------------------------------------------------------------
    def apply_strength(self) -> None:
        """The last Humanise blended again at the slider's strength, with no second model run, while the
        Stylised version is still one it made (else the strength waits for the next Humanise): one undo step,
        heard at once while playing."""
        w, last = self.window, self.last
        percent, doc = w.panel.strength.value(), w.doc
        if w.panel.strength.isSliderDown() or last is None or self.job is not None:
            return
        stylised = doc.state.stylised
        if last.snapshot.notes is not doc.notes or stylised is None or not last.made_this(stylised):
            return
        velocity = last.velocities(percent)
        if np.array_equal(velocity, stylised):
            return
        w.settings.set("strength", percent)
        doc.set_version_velocities(Version.STYLISED, velocity, f"Humanise strength {percent}%",
                                   style=last.snapshot.style)
        w.panel.info.setText(f"Strength {percent}% ({last.snapshot.style}), no second run."
                             + velocity_summary(velocity[last.snapshot.mask]))

    def make_baseline(self) -> None:
        w, doc = self.window, self.window.doc
        mask = self._mask()
        seed = w.panel.seed.value()
        w.settings.set("seed", seed)
        velocity = baseline_velocities(doc.notes, mask, seed)
        if w.panel.selection_only.isChecked() and doc.state.baseline is not None:  # as Humanise keeps the rest
            velocity[~mask] = doc.state.baseline[~mask]
        doc.set_version_velocities(Version.BASELINE, velocity, f"Random baseline (seed {seed})")
