"""Humanise off the main thread: the worker gets an immutable snapshot, emits a result or an error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, QThread, Signal, SignalInstance, Slot

from app.core.errors import UserError
from app.core.humanise import Cancelled, VelocityPredictor, blended, stylised_velocities
from app.core.notes import NoteTable
from app.playback.outputs import BadSoundfont


def user_message(exc: BaseException) -> str:
    """One line for the status bar or a dialog, the same whichever job failed. A :class:`UserError` or an
    ``OSError`` (disk full, permission denied) says what is wrong itself, with the menu that puts it right
    where there is one; anything else is a bug, named by its type so that a report can find it."""
    if isinstance(exc, BadSoundfont):
        return f"{exc} (File ▸ Choose Soundfont…)"
    if isinstance(exc, UserError | OSError) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@dataclass(frozen=True)
class HumaniseSnapshot:
    notes: NoteTable  # read-only arrays: safe to share with the worker thread
    ticks_per_beat: int
    mask: np.ndarray
    style: str
    strength: float
    keep_written: bool = True
    only_selected: bool = False  # the notes outside ``mask`` keep the Stylised velocities they have


@dataclass
class HumaniseResult:
    """The last Humanise: the model's velocities at full strength, so that another strength is a blend, not
    another run, and the versions made from them so far, by strength in percent."""

    snapshot: HumaniseSnapshot
    full: np.ndarray  # (N,)
    kept: np.ndarray | None = None  # (N,) what the notes outside the mask keep (None: the Original's velocities)
    made: dict[int, np.ndarray] = field(default_factory=dict)

    def velocities(self, percent: int) -> np.ndarray:
        if percent not in self.made:
            s = self.snapshot
            made = blended(s.notes.velocity, self.full, s.mask, percent / 100)
            if self.kept is not None:  # one section humanised after another, each in its style: one version
                made[~s.mask] = self.kept[~s.mask]
            self.made[percent] = made
        return self.made[percent]

    def made_this(self, velocity: np.ndarray) -> bool:
        """``velocity`` is one of the versions made from this result (e.g. the one an undo went back to)."""
        return any(np.array_equal(velocity, v) for v in self.made.values())


class PredictorHolder:
    """Loads the StyleNet checkpoint once, on first use, in whichever worker thread asks."""

    def __init__(self, load: Callable[[], VelocityPredictor]) -> None:
        self._load, self._lock = load, threading.Lock()
        self._predictor: VelocityPredictor | None = None
        self.error: str | None = None

    def get(self) -> VelocityPredictor:
        with self._lock:
            if self._predictor is None:
                self._predictor = self._load()
            return self._predictor

    @property
    def loaded(self) -> VelocityPredictor | None:
        return self._predictor

    def use(self, predictor: VelocityPredictor, load: Callable[[], VelocityPredictor]) -> None:
        """Another model from now on (loaded by ``load``, which also serves any later reload)."""
        with self._lock:
            self._predictor, self._load, self.error = predictor, load, None


class HumaniseJob(QObject):
    progress = Signal(float)
    finished = Signal(object, float)  # (N,) velocities at full strength, seconds
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, holder: PredictorHolder, snapshot: HumaniseSnapshot) -> None:
        super().__init__()
        self.holder, self.snapshot = holder, snapshot
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def _progress(self, fraction: float) -> bool:
        self.progress.emit(fraction)
        return not self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        s = self.snapshot
        t0 = time.perf_counter()
        try:
            predictor = self.holder.get()
            velocity = stylised_velocities(s.notes, s.ticks_per_beat, s.mask, predictor, s.style, 1.0,
                                           self._progress, s.keep_written)  # the strength is applied after
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # the worker must never take the app down
            self.failed.emit(user_message(exc))
        else:
            self.finished.emit(velocity, time.perf_counter() - t0)


class JobThread(QThread):
    """A worker thread that keeps its job: the two are let go together, by Python on the main thread once the
    thread is joined (:func:`joined`).

    Never by ``deleteLater``: that destroys the job inside Qt, without the GIL, and a QObject's destructor asks
    each sender connected to it (here the thread, a Python object) whether Python overrides
    ``disconnectNotify``, which takes the GIL while holding one of Qt's signal-slot mutexes. The main thread
    takes those mutexes while holding the GIL (any ``connect``), so the two waited for each other for ever:
    the editor froze in CI once, in ``QToolButton::setDefaultAction``. From Python the GIL is already held."""

    def __init__(self, job: QObject) -> None:
        super().__init__()
        self.job = job


def start_job(job: QObject, *end_signals: SignalInstance) -> QThread:
    """Run ``job.run`` in a new :class:`JobThread` that quits when any of ``end_signals`` fires. Keep the
    thread until :func:`joined`, then drop it (from the main thread): that frees the job too."""
    thread = JobThread(job)
    job.moveToThread(thread)
    thread.started.connect(job.run)  # type: ignore[attr-defined]
    for signal in end_signals:
        signal.connect(thread.quit)
    thread.start()
    return thread


def joined(thread: QThread) -> bool:
    """``thread`` has ended and been joined, so it may be let go. ``isFinished()`` is not enough: it is
    already true while the thread is still finishing, and a QThread destroyed then crashes the process."""
    return thread.wait(0)


def finish_threads(threads: Iterable[QThread]) -> None:
    """Stop and join job threads, however long that takes: a QThread destroyed while running aborts the
    process. Callers cancel their jobs first; a model load cannot be interrupted (seconds on a busy machine)."""
    for thread in threads:
        thread.quit()
        thread.wait()


class Preloader(QObject):
    """Loads the model in the background at start-up, so the status bar can show the device early."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, holder: PredictorHolder) -> None:
        super().__init__()
        self.holder = holder

    @Slot()
    def run(self) -> None:
        try:
            self.done.emit(self.holder.get())
        except Exception as exc:  # no checkpoint, bad checkpoint: the editor still works
            self.failed.emit(user_message(exc))


class CallJob(QObject):
    """Run ``fn(progress)`` on a worker thread; emit its result or a one-line error (:func:`user_message`).
    ``progress(fraction)`` returns False once the job is cancelled, so ``fn`` can stop early."""

    progress = Signal(float)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[Callable[[float], bool]], Any]) -> None:
        super().__init__()
        self.fn, self.cancelled = fn, False

    def _progress(self, fraction: float) -> bool:
        self.progress.emit(fraction)
        return not self.cancelled

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn(self._progress)
        except Exception as exc:  # a failed job must not take the app down
            self.failed.emit(user_message(exc))
        else:
            self.finished.emit(result)


class Relay(QObject):
    """Calls a plain function on the thread this object lives in (the main thread).

    A lambda connected to a worker's signal would run on the worker thread, where
    touching widgets is not allowed; a slot of a main-thread QObject is queued."""

    def __init__(self, fn: Callable[[Any], None], owner: QObject) -> None:
        super().__init__()  # no parent: let go from Python (see JobThread), not with the owner
        self.fn, self.owner, self.called = fn, owner, False

    @Slot(object)
    def call(self, value: object) -> None:
        self.called = True
        if shiboken6.isValid(self.owner):  # as when the owner's children went with it: no calls after it
            self.fn(value)


@dataclass
class _Running:
    thread: QThread
    job: CallJob
    relays: list[Relay]  # result, error, progress: kept (not deleteLater'd, see JobThread) until delivered

    def over(self) -> bool:
        """Joined, and its result or error delivered: a queued call is lost with the relay it was queued to."""
        return joined(self.thread) and (self.relays[0].called or self.relays[1].called)


class BackgroundJobs:
    """Functions run on worker threads, with their results, errors and progress delivered on the main thread
    (to callbacks owned by ``owner``, a main-thread object)."""

    def __init__(self, owner: QObject) -> None:
        self.owner = owner
        self.jobs: list[_Running] = []

    def run(self, fn: Callable[[Callable[[float], bool]], Any], on_result: Callable[[Any], None],
            on_error: Callable[[str], None], progress: Callable[[Any], None] | None = None) -> CallJob:
        self.jobs = [running for running in self.jobs if not running.over()]
        job = CallJob(fn)
        relays = [Relay(on_result, self.owner), Relay(on_error, self.owner)]
        job.finished.connect(relays[0].call)
        job.failed.connect(relays[1].call)
        if progress is not None:
            relays.append(Relay(progress, self.owner))
            job.progress.connect(relays[-1].call)
        self.jobs.append(_Running(start_job(job, job.finished, job.failed), job, relays))
        return job

    def shutdown(self) -> None:
        """Cancel every job and wait for its thread (a QThread destroyed while running aborts the process)."""
        for running in self.jobs:
            running.job.cancelled = True
        finish_threads(running.thread for running in self.jobs)
