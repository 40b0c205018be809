"""Render the window to a PNG without a display (used by tests and the README)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app.core.editor import EditorDocument, Version
from app.core.midi_document import MidiError
from app.ui.main_window import MainWindow


def wait_for(signal, timeout_ms: int = 120_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def render_screenshot(window: MainWindow, file: str | None, out: Path, version: str, style: str,
                      size: tuple[int, int]) -> int:
    """Open ``file`` (no dialogs, no recent-files entry), show ``version`` and save the window to ``out``.

    Returns the exit status: 0, or non-zero with the reason on stderr. An error in a handler (a paint that
    raised) is printed as it happens and fails the render: the picture would show a broken window."""
    errors: list[BaseException] = []
    previous = sys.excepthook

    def record(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        errors.append(exc)
        previous(kind, exc, tb)

    sys.excepthook = record
    try:
        status = _render(window, file, out, version, style, size)
    finally:
        window.doc.mark_saved()  # nothing to ask about on close
        window.close()  # also waits for the model-loading thread
        sys.excepthook = previous
    if errors:
        print(f"error: {len(errors)} unexpected error(s) while rendering, the first: "
              f"{type(errors[0]).__name__}: {errors[0]}", file=sys.stderr)
        return status or 1
    return status


def _render(window: MainWindow, file: str | None, out: Path, version: str, style: str, size: tuple[int, int]) -> int:
    if file:
        try:
            window.set_document(EditorDocument.open(file))
        except MidiError as exc:
            print(f"error: {exc}", file=sys.stderr)  # a message box would wait for a click nobody can give
            return 2
    window.resize(*size)
    window.show()
    QApplication.processEvents()
    window.fit_song()
    if not window.humaniser.settled:  # the panel as a user sees it a moment after start, not "Loading…"
        wait_for(window.humaniser.model_settled, 60_000)
    if version == "baseline":
        window.make_baseline()
    elif version == "stylised":
        if not window.panel.humanise_button.isEnabled():
            print(f"error: cannot humanise: {window.panel.info.text()}", file=sys.stderr)
            return 3
        index = window.panel.style_box.findData(style)
        if index < 0:
            print(f"error: unknown style {style!r}", file=sys.stderr)
            return 2
        window.panel.style_box.setCurrentIndex(index)
        window.humanise()
        wait_for(window.humanise_finished)
        if window.doc.version is not Version.STYLISED:
            print("error: humanise did not finish", file=sys.stderr)
            return 1
    QApplication.processEvents()
    if not window.grab().save(str(out)):
        print(f"error: cannot write {out}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0
