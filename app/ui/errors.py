"""Unexpected errors in the running editor: reported in a dialog, the editor carries on.

An exception raised in a Qt slot or event handler does not stop the application: PySide prints it and
returns to the event loop. Without a hook the user sees nothing, and a half-done action (an open that
stopped midway) looks like success. The hook prints the traceback to stderr as before and shows one
dialog naming the error, with the traceback under "Show Details" for a bug report; an error already shown
(a paint that fails on every repaint) is only printed again.
"""

from __future__ import annotations

import functools
import inspect
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import ParamSpec, TypeVar

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

P = ParamSpec("P")
R = TypeVar("R")
Q = TypeVar("Q", bound=QObject)


class ErrorReporter:
    """Installed as ``sys.excepthook`` while the window runs (:meth:`install`, :meth:`uninstall`)."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent
        self.pending: list[tuple[str, str]] = []  # (summary, traceback) not yet shown
        self.showing = False
        self.shown: set[str] = set()  # a paint that fails fails on every repaint: one dialog for it
        self._previous = sys.excepthook

    def install(self) -> None:
        self._previous = sys.excepthook
        sys.excepthook = self.report

    def uninstall(self) -> None:
        if sys.excepthook == self.report:
            sys.excepthook = self._previous

    def report(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        details, summary = "".join(traceback.format_exception(kind, exc, tb)), f"{kind.__name__}: {exc}"
        print(details, file=sys.stderr, end="")
        if summary in self.shown:
            return
        self.pending.append((summary, details))
        if len(self.pending) == 1 and not self.showing:
            # not from inside the failing handler: a paint event that fails would fail again under the dialog
            QTimer.singleShot(0, self._show)

    def _show(self) -> None:
        if not self.pending:
            return
        summary, details = self.pending[0]
        repeats = len(self.pending) - 1
        self.shown.update(s for s, _ in self.pending)
        self.pending.clear()  # errors raised while the dialog is up are shown after it, together
        box = QMessageBox(QMessageBox.Icon.Critical, "Unexpected error",
                          f"Something went wrong inside StyleNet Studio: {summary}", parent=self.parent)
        box.setInformativeText(
            (f"{repeats} more error(s) followed it. " if repeats else "")
            + "The editor carries on, but the last action may not have finished: check the result. "
            "Your edits are kept (and copied to the recovery folder); saving or exporting to a new file is "
            "safe. Please report this with the details below.")
        box.setDetailedText(details)
        self.showing = True
        try:
            box.exec()
        finally:
            self.showing = False
        if self.pending:
            QTimer.singleShot(0, self._show)


def reported(method: Callable[P, R], default: R | None = None) -> Callable[P, R | None]:
    """Run a Qt virtual override so that no exception escapes into Qt: PySide crashes (SIGSEGV) on one
    raised by C code (numpy's IndexError, ``int("x")``) when the override runs inside a Python call into Qt
    (``QUndoStack.push`` calls ``redo``; ``QTest.mouseClick`` a mouse handler). The error goes to
    ``sys.excepthook`` (the editor's :class:`ErrorReporter`, pytest-qt's capture in tests) and the override
    returns ``default``."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return method(*args, **kwargs)
        except Exception:
            sys.excepthook(*sys.exc_info())
            return default

    return guarded


BOOL_HANDLERS = ("eventFilter", "event")  # handlers that answer whether they took the event


def is_event_handler(name: str, value: object) -> bool:
    """A Qt event handler a class overrides: ``paintEvent``, ``mousePressEvent``, ``eventFilter``, ``event``..."""
    return inspect.isfunction(value) and (name.endswith("Event") or name in BOOL_HANDLERS)


def reports_errors(cls: type[Q]) -> type[Q]:
    """Class decorator: every event handler the class defines runs under :func:`reported` (an event filter or
    ``event`` that fails lets the event through), wherever it is called from."""
    for name, value in list(vars(cls).items()):
        if is_event_handler(name, value):
            setattr(cls, name, reported(value, False if name in BOOL_HANDLERS else None))
    return cls
