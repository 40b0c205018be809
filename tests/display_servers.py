"""Real display servers (Xvfb, Weston's headless backend) and the environment a window opened on one gets, for
the tests that start the editor as a user would."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def without_qt_platform(**extra: str) -> dict[str, str]:
    """This process's environment less what picks a display, plus ``extra``."""
    display = ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "DISPLAY")
    kept = {key: value for key, value in os.environ.items() if key not in display}
    return {**kept, **extra}


def user_folders(tmp_path: Path) -> dict[str, str]:
    """Settings, app data and the runtime directory in ``tmp_path``, not the user's."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_RUNTIME_DIR": str(tmp_path)}


@contextmanager
def running(command: list[str], answers: Callable[[], bool], env: dict[str, str] | None = None) -> Iterator[None]:
    """``command`` started and, once ``answers()``, left to run for the ``with`` block; stopped after it."""
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not answers():
            assert server.poll() is None and time.monotonic() < deadline, f"{command[0]} did not start"
            time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)
