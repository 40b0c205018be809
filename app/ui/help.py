"""Help menu: About (the app, the model that is loaded, its figures and its data's licence) and the model card."""

from __future__ import annotations

import html
from importlib import metadata

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMainWindow, QMessageBox

from app.ui.worker import PredictorHolder
from models.stylenet import DEFAULT_CHECKPOINT

MODEL_CARD = DEFAULT_CHECKPOINT.with_name("MODEL_CARD.md")


def app_version() -> str:
    try:
        return metadata.version("stylenet-studio")
    except metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "0.1.0"


def about_lines(holder: PredictorHolder) -> list[str]:
    """What the About box says about the model: its own description once loaded, else why there is none."""
    predictor = holder.loaded
    if predictor is not None:
        describe = getattr(predictor, "describe", None)
        return describe() if describe else [f"Model: styles {', '.join(predictor.styles)}."]
    return [f"Model: unavailable ({holder.error})." if holder.error else "Model: still loading."]


def show_about(window: QMainWindow, holder: PredictorHolder) -> None:
    lines = [f"<b>StyleNet Studio {app_version()}</b>",
             "Human dynamics for MIDI piano parts: StyleNet (Malik &amp; Ek, 2017) predicts the velocities.",
             *(html.escape(line) for line in about_lines(holder))]
    QMessageBox.about(window, "About StyleNet Studio", "<p>" + "</p><p>".join(lines) + "</p>")


def open_model_card(window: QMainWindow) -> None:
    """The card in the desktop's viewer for Markdown; where there is none, say where the file is."""
    if not MODEL_CARD.exists() or not QDesktopServices.openUrl(QUrl.fromLocalFile(str(MODEL_CARD))):
        window.statusBar().showMessage(f"The model card is {MODEL_CARD} (no viewer could open it here).", 8000)
