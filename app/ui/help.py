"""Help menu: About (the app, the model that is loaded, its figures and its data's licence) and the model card."""

from __future__ import annotations

import html
import tomllib
from importlib import metadata

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox

from app import RESOURCES
from app.ui.worker import PredictorHolder
from models.stylenet import DEFAULT_CHECKPOINT

MODEL_CARD = DEFAULT_CHECKPOINT.with_name("MODEL_CARD.md")
PYPROJECT = RESOURCES.parent / "pyproject.toml"


def app_version() -> str:
    """The version in pyproject.toml (one place to bump it), or the installed package's."""
    try:
        return str(tomllib.loads(PYPROJECT.read_text())["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):  # an installed copy without its pyproject
        try:
            return metadata.version("stylenet-studio")
        except metadata.PackageNotFoundError:
            return "(unknown version)"


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


GESTURES = [
    ("Wheel / Shift+Wheel", "scroll up and down / sideways"),
    ("Ctrl+Wheel / Ctrl+Shift+Wheel", "zoom in time / in pitch"),
    ("Click, Ctrl+click, Shift+click, drag on empty space", "select notes"),
    ("Drag a note / its right end", "move it (snapped) / change its length"),
    ("Double-click empty space", "draw a note"),
    ("Drag a velocity bar / sideways across bars", "set it / draw a ramp"),
    ("Shift+drag in the velocity lane", "draw the velocities freehand, each bar at the path's height"),
    ("Ctrl+drag in the velocity lane", "raise (up) or lower a phrase around the pointer, keeping each note's "
                                       "place; drag sideways to widen it"),
    ("Drag the strip above the velocity lane", "make the lane taller or shorter"),
    ("Click the ruler / a marker's name above it", "move the playhead there / to the marker"),
    ("Drag a marker's name / double-click it", "move the marker (snapped) / rename it"),
    ("Markers panel: click / double-click a name / Delete", "go to the marker / rename it there / delete it"),
    ("Right-click the ruler", "add a marker there; rename or delete the one clicked, or select or loop its "
                              "section's notes"),
    ("Click or slide over the keyboard", "hear those keys; notes sound as you click, drag or draw them "
                                          "(Edit ▸ Audition Notes)"),
    ("Arrow keys / Shift+Up, Shift+Down", "move the selected notes a snap step or a semitone / an octave"),
    ("Drop a MIDI file / a .pt checkpoint on the window", "open it / humanise with that model"),
    ("Drop several MIDI files on the window", "humanise them into a folder (File ▸ Humanise Several Files)"),
]


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """(keys, what) for every action of the window that has a shortcut, in menu order, then mouse gestures."""
    rows = []
    for action in window.actions():
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        if keys:
            rows.append((keys, action.text().replace("&", "").rstrip("…")))
    return rows + GESTURES


def show_shortcuts(window: QMainWindow) -> None:
    table = "".join(f"<tr><td><b>{html.escape(keys)}</b>&nbsp;&nbsp;</td><td>{html.escape(what)}</td></tr>"
                    for keys, what in shortcut_rows(window))
    QMessageBox.information(window, "Keyboard and mouse", f"<table>{table}</table>")


def open_model_card(window: QMainWindow) -> None:
    """The card in the desktop's viewer for Markdown; where there is none, say where the file is."""
    if not MODEL_CARD.exists() or not QDesktopServices.openUrl(QUrl.fromLocalFile(str(MODEL_CARD))):
        window.statusBar().showMessage(f"The model card is {MODEL_CARD} (no viewer could open it here).", 8000)
