"""BackgroundJobs, which every worker-thread job but Humanise goes through (loudness, schedule builds while
editing, audio export, opening outputs): thousands of short jobs in a row deliver every result and error,
leave nothing behind, and do not crash the process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from conftest import ROOT

STORM = textwrap.dedent("""
    import gc
    import time
    from PySide6.QtCore import QCoreApplication, QObject
    from app.ui.worker import BackgroundJobs, CallJob, JobThread, Relay

    app, owner = QCoreApplication([]), QObject()
    jobs, asked, told = BackgroundJobs(owner), [], []

    def work(progress, number):
        progress(0.5)
        if number % 3 == 0:
            raise ValueError("a failed job")
        return number

    end = time.perf_counter() + 2
    while time.perf_counter() < end:  # as fast as a drag's edits can ask for schedule builds, and faster
        for _ in range(5):
            asked.append(len(asked))
            jobs.run(lambda progress, number=asked[-1]: work(progress, number), lambda result: told.append("result"),
                     lambda error: told.append("error"))
        app.processEvents()
    jobs.shutdown()
    for _ in range(100):
        app.processEvents()
        if len(told) == len(asked):
            break
        time.sleep(0.01)
    jobs.run(lambda progress: None, lambda result: None, lambda error: None)  # lets go of every job that is over
    gc.collect()
    left = sum(isinstance(o, CallJob | Relay | JobThread) for o in gc.get_objects())
    jobs.shutdown()
    print(len(asked), len(told), told.count("error"), left)
""")


def test_a_storm_of_short_jobs_delivers_everything_leaves_nothing_and_does_not_crash():
    # In a child process: the crash this guards against (a finishing QThread destroyed when the last reference
    # to it went) killed the whole interpreter within a second or two, not one test.
    done = subprocess.run([sys.executable, "-c", STORM], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    asked, told, errors, left = map(int, done.stdout.split())
    assert asked > 1000 and told == asked and errors == (asked + 2) // 3  # every result and every error
    assert left == 4  # the last job, its thread and its two relays: the rest went once delivered and joined


def test_a_finished_job_is_let_go_on_the_main_thread_from_python_not_by_qt_in_its_worker(qtbot):
    # Destroyed by deleteLater in its worker thread, a job asked for the GIL while holding a Qt signal-slot
    # mutex, and the editor froze for good when the main thread (holding the GIL) wanted that mutex: CI hung
    # once in QToolButton::setDefaultAction. Let go from Python on the main thread, it already holds the GIL.
    import gc
    import threading

    from PySide6.QtCore import QObject, Qt

    from app.ui.worker import BackgroundJobs, joined

    owner, results, destroyed_on = QObject(), [], []
    jobs = BackgroundJobs(owner)
    job = jobs.run(lambda progress: 7, results.append, results.append)
    job.destroyed.connect(lambda: destroyed_on.append(threading.get_ident()), Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: results == [7] and joined(jobs.jobs[0].thread))
    qtbot.wait(50)  # where deleteLater was used, the worker thread destroyed the job by now
    assert destroyed_on == []
    del job
    jobs.run(lambda progress: 8, results.append, results.append)  # lets go of the first: it is over
    gc.collect()
    assert destroyed_on == [threading.main_thread().ident]
    qtbot.waitUntil(lambda: results == [7, 8])
    jobs.shutdown()
