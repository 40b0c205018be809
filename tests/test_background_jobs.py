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
    import time
    from PySide6.QtCore import QCoreApplication, QObject
    from app.ui.worker import BackgroundJobs

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
        if len(told) == len(asked) and not owner.children():
            break
        time.sleep(0.01)
    print(len(asked), len(told), told.count("error"), len(owner.children()))
""")


def test_a_storm_of_short_jobs_delivers_everything_leaves_nothing_and_does_not_crash():
    # In a child process: the crash this guards against (a finishing QThread destroyed when the last reference
    # to it went) killed the whole interpreter within a second or two, not one test.
    done = subprocess.run([sys.executable, "-c", STORM], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    asked, told, errors, left = map(int, done.stdout.split())
    assert asked > 1000 and told == asked and errors == (asked + 2) // 3  # every result and every error
    assert left == 0  # the relays that carried them are gone with their jobs
