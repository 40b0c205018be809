"""Humanise ▸ Model: humanise with another StyleNet checkpoint (one fine-tuned on your own performances, say)
or the bundled one, on the CPU or a GPU. A checkpoint is loaded and checked on a worker thread; one that
cannot be used is reported and the model in use stays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog, QMenu

from app.core.humanise import VelocityPredictor
from app.ui.worker import BackgroundJobs

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

CHECKPOINTS = "StyleNet checkpoints (*.pt);;All files (*)"
DEVICES = {"auto": "&Automatic (a GPU when there is one)", "cpu": "&CPU", "cuda": "&GPU (CUDA)"}


def predictor_loader(checkpoint: str, device: str) -> Callable[[], VelocityPredictor]:
    """Loads ``checkpoint`` ("" = the bundled one) on ``device`` ("auto", "cpu" or "cuda")."""

    def load() -> VelocityPredictor:
        from models.inference import StyleNetPredictor

        return StyleNetPredictor.from_checkpoint(checkpoint or None, None if device == "auto" else device)

    return load


def model_name(checkpoint: str) -> str:
    return Path(checkpoint).name if checkpoint else "the bundled model"


class ModelChoice(QObject):
    """The Model submenu of ``window``: which checkpoint Humanise uses, and where it runs (kept in settings)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window, self.settings = window, window.settings
        self.jobs = BackgroundJobs(self)
        self.loading = False
        models = QActionGroup(self)
        self.bundled_action = QAction("&Bundled Model", window, checkable=True)
        self.bundled_action.setToolTip("StyleNet as trained for this app (models/stylenet.pt)")
        self.bundled_action.triggered.connect(lambda: self.use("", self.settings.get("device")))
        self.custom_action = QAction("", window, checkable=True)  # the chosen file, shown while it is in use
        self.custom_action.triggered.connect(self._sync)
        self.choose_action = QAction("&Choose Model File…", window)
        self.choose_action.triggered.connect(self.choose)
        for action in (self.bundled_action, self.custom_action):
            models.addAction(action)
        devices = QActionGroup(self)
        self.device_actions: dict[str, QAction] = {}
        for key, text in DEVICES.items():
            action = self.device_actions[key] = QAction(text, window, checkable=True)
            action.triggered.connect(lambda _=False, k=key: self.use(self.settings.get("checkpoint"), k))
            devices.addAction(action)
        self._sync()

    def add_to(self, menu: QMenu) -> None:
        sub = menu.addMenu("&Model")
        sub.addActions([self.bundled_action, self.custom_action, self.choose_action])
        sub.addSection("Run on")
        sub.addActions(list(self.device_actions.values()))

    def loader(self) -> Callable[[], VelocityPredictor]:
        """The model the settings name, for the start-up load."""
        return predictor_loader(self.settings.get("checkpoint"), self.settings.get("device"))

    def choose(self) -> None:
        current = self.settings.get("checkpoint")
        folder = str(Path(current).parent) if current else self.settings.get("last_folder")
        path, _ = QFileDialog.getOpenFileName(self.window, "Humanise with the StyleNet checkpoint", folder,
                                              CHECKPOINTS)
        if path:
            self.use(path, self.settings.get("device"))

    def use(self, checkpoint: str, device: str) -> None:
        """Load ``checkpoint`` on ``device`` in the background; Humanise uses it once it has loaded."""
        w = self.window
        starting = w.holder.loaded is None and w.holder.error is None  # the start-up load is still running
        if self.loading or starting or w.humaniser.job is not None:
            w.statusBar().showMessage("Wait until the running Humanise or model load has finished.", 6000)
            self._sync()
            return
        self.loading = True
        w.panel.humanise_button.setEnabled(False)
        w.panel.info.setText(f"Loading {model_name(checkpoint)}…")
        load = predictor_loader(checkpoint, device)
        self.jobs.run(lambda _progress: load(), lambda predictor: self._loaded(predictor, checkpoint, device, load),
                      lambda message: self._failed(message, checkpoint, device))

    def _loaded(self, predictor: Any, checkpoint: str, device: str, load: Callable[[], VelocityPredictor]) -> None:
        self.loading = False
        self.settings.set("checkpoint", checkpoint)
        self.settings.set("device", device)
        self.window.humaniser.use_model(predictor, load)
        self.window.panel.info.setText(f"Humanise now uses {model_name(checkpoint)} "
                                       f"({', '.join(s.capitalize() for s in predictor.styles)}) "
                                       f"on {getattr(predictor, 'device_name', 'cpu')}.")
        self._sync()

    def _failed(self, message: str, checkpoint: str, device: str) -> None:
        self.loading = False
        w = self.window
        kept = w.holder.loaded
        w.panel.humanise_button.setEnabled(kept is not None and w.panel.style_box.count() > 0)
        w.panel.info.setText(f"Kept {model_name(self.settings.get('checkpoint'))}." if kept is not None
                             else w.holder.error or "")
        self._sync()
        where = f" on {DEVICES[device].replace('&', '')}" if device != "auto" else ""
        w.show_error("Cannot use this model", f"{model_name(checkpoint)}{where}: {message}")

    def _sync(self) -> None:
        """Menu checks from the settings (after a load, or after one that failed)."""
        checkpoint = self.settings.get("checkpoint")
        self.bundled_action.setChecked(not checkpoint)
        self.custom_action.setVisible(bool(checkpoint))
        self.custom_action.setText(Path(checkpoint).name if checkpoint else "")
        self.custom_action.setToolTip(checkpoint)
        self.custom_action.setChecked(bool(checkpoint))
        device = self.settings.get("device")
        self.device_actions.get(device, self.device_actions["auto"]).setChecked(True)

    def shutdown(self) -> None:
        self.jobs.shutdown()
