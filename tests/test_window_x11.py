"""The real window on an X11 display (Xvfb), and a clear message where Qt's xcb plugin lacks its libraries."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import DEMO, ROOT

from app.ui.x11_libraries import XCB_LIBRARIES, missing_xcb_libraries, qt_will_use_xcb


def test_bootstrap_installs_every_library_the_window_checks_for():
    script = (ROOT / "packaging" / "bootstrap.sh").read_text()
    listed = set(re.findall(r"[\w.+-]+", " ".join(re.findall(r"SYSTEM_PACKAGES\+?=\(([^)]*)\)", script))))
    assert set(XCB_LIBRARIES.values()) <= listed


@pytest.mark.parametrize(("env", "xcb"), [
    ({"DISPLAY": ":0"}, True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, False),  # Qt may pick Wayland
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"}, False),  # Qt has another to try
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
    ({}, False),
])
def test_xcb_is_checked_only_where_qt_has_no_other_platform(env, xcb):
    assert qt_will_use_xcb(env) is xcb


def test_every_library_loads_here_once_bootstrap_installed_them():
    if not sys.platform.startswith("linux") or shutil.which("dpkg-query") is None:
        pytest.skip("not Debian/Ubuntu: bootstrap.sh did not install the packages")
    assert missing_xcb_libraries() == []


# A missing library faked (removing a system one is not for a test); in a child process, because Qt's abort,
# if the check let it through, would take the test run down with it.
WITHOUT_CURSOR = """
import sys
from app.ui import x11_libraries
x11_libraries.can_load = lambda library: library != "libxcb-cursor.so.0"
from app.ui.launch import launch
sys.exit(launch([sys.argv[1]]))
"""


def without_qt_platform(**extra: str) -> dict[str, str]:
    kept = {key: value for key, value in os.environ.items() if key not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    return {**kept, **extra}


NO_SERVER = ":4719"  # a display number no X server uses (xvfb-run -a counts up from 99)


def test_launch_without_an_x11_library_says_what_to_install_instead_of_aborting():
    proc = subprocess.run([sys.executable, "-c", WITHOUT_CURSOR, str(DEMO)], cwd=ROOT,
                          env=without_qt_platform(DISPLAY=NO_SERVER), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "libxcb-cursor.so.0" in proc.stderr and "sudo apt-get install libxcb-cursor0`" in proc.stderr
    assert "libxcb-icccm" not in proc.stderr and "Traceback" not in proc.stderr  # only what is missing


def test_launch_on_a_display_that_does_not_answer_says_so_instead_of_aborting():
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), str(DEMO)], cwd=ROOT,
                          env=without_qt_platform(DISPLAY=NO_SERVER), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"error: cannot connect to the X11 display '{NO_SERVER}'"), proc.stderr


# Opens the editor as `python main.py FILE` does, checks the window it shows, saves it as a PNG and closes it.
DRIVER = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.ui.launch import launch

app = QApplication(sys.argv[:1])

def check():
    window = next((w for w in app.topLevelWidgets() if w.isVisible() and w.inherits("QMainWindow")), None)
    if window is None:  # not shown yet (a slow machine): look again
        QTimer.singleShot(200, check)
        return
    print("platform", app.platformName(), "title", window.windowTitle(), "notes", len(window.doc.notes))
    window.grab().save(sys.argv[2])
    window.close()

QTimer.singleShot(1000, check)
sys.exit(launch([sys.argv[1]]))
"""


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="no Xvfb (bash packaging/bootstrap.sh --dev installs it)")
def test_the_editor_opens_a_real_window_on_an_x11_display(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_RUNTIME_DIR": str(tmp_path)}
    env.pop("DISPLAY", None)
    png = tmp_path / "window.png"
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-c", DRIVER,
                           str(DEMO), str(png)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"platform xcb title {DEMO.name}" in proc.stdout and "notes 309" in proc.stdout, proc.stdout
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert image.width() >= 800 and image.height() >= 500
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 50  # a painted editor, not a blank surface
