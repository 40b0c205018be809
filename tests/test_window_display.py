"""The real window on an X11 display (Xvfb) and on a Wayland compositor (Weston), and a clear message where no
platform Qt would try can open it (missing libraries, no server answering)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
from conftest import DEMO, ROOT
from display_servers import running, user_folders, without_qt_platform

from app.ui.display_check import (
    WAYLAND_LIBRARIES,
    XCB_LIBRARIES,
    display_problem,
    missing_libraries,
    qt_platforms,
    wayland_display_reachable,
    wayland_socket,
)


def test_bootstrap_installs_every_library_the_window_checks_for():
    script = (ROOT / "packaging" / "bootstrap.sh").read_text()
    listed = set(re.findall(r"[\w.+-]+", " ".join(re.findall(r"SYSTEM_PACKAGES\+?=\(([^)]*)\)", script))))
    assert {*XCB_LIBRARIES.values(), *WAYLAND_LIBRARIES.values()} <= listed


NO_SERVER = ":4719"  # a display number no X server uses (xvfb-run -a counts up from 99)
PLATFORM_CASES = [
    ({"DISPLAY": ":0"}, ["xcb"]),
    ({}, ["xcb"]),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, ["xcb"]),
    ({"WAYLAND_DISPLAY": "wayland-0"}, ["wayland", "xcb"]),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11"}, ["wayland", "xcb"]),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, ["wayland", "xcb"]),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, ["xcb"]),
    ({"WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "wayland-egl;xcb:foo"}, ["wayland-egl", "xcb"]),
]


@pytest.mark.parametrize(("env", "platforms"), PLATFORM_CASES)
def test_the_platforms_qt_will_try(env, platforms):
    assert qt_platforms(env) == platforms


# Qt's own list, from its plugin log: the mirror above must follow the Qt that is installed. No server answers
# at these addresses, so Qt gives up (and aborts) straight after logging it; hence a child process.
ASK_QT = "from PySide6.QtWidgets import QApplication; QApplication([])"


@pytest.mark.parametrize(("env", "platforms"), [case for case in PLATFORM_CASES if "QT_QPA_PLATFORM" not in case[0]])
def test_qt_itself_tries_the_platforms_the_check_expects(env, platforms, tmp_path):
    addresses = {"DISPLAY": NO_SERVER, "WAYLAND_DISPLAY": "no-compositor-here"}
    env = {key: addresses.get(key, value) for key, value in env.items()}
    proc = subprocess.run([sys.executable, "-c", ASK_QT], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path),
                               "QT_LOGGING_RULES": "qt.qpa.plugin=true", **env})
    asked = re.search(r'init_platform called with pluginNamesWithArguments "([^"]*)"', proc.stderr)
    assert asked, proc.stderr
    assert asked.group(1).split(";") == qt_platforms(env)


def test_every_library_loads_here_once_bootstrap_installed_them():
    if not sys.platform.startswith("linux") or shutil.which("dpkg-query") is None:
        pytest.skip("not Debian/Ubuntu: bootstrap.sh did not install the packages")
    assert missing_libraries({**XCB_LIBRARIES, **WAYLAND_LIBRARIES}) == []


def test_the_wayland_socket_is_found_as_libwayland_finds_it():
    assert str(wayland_socket({"XDG_RUNTIME_DIR": "/run/user/1000"})) == "/run/user/1000/wayland-0"
    assert str(wayland_socket({"XDG_RUNTIME_DIR": "/run/user/1000", "WAYLAND_DISPLAY": "wayland-1"})) == \
        "/run/user/1000/wayland-1"
    assert str(wayland_socket({"WAYLAND_DISPLAY": "/tmp/compositor"})) == "/tmp/compositor"
    assert wayland_socket({"WAYLAND_DISPLAY": "wayland-1"}) is None  # no runtime directory (sudo, su)


def test_a_compositor_is_reachable_only_while_it_listens(tmp_path):
    path = tmp_path / "wl"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen()
        assert wayland_display_reachable(path)
        env = {"WAYLAND_DISPLAY": str(path)}
        assert display_problem(env) is None  # Wayland opens, so X11 (no DISPLAY) is not needed
    assert path.exists() and not wayland_display_reachable(path)  # a socket left behind by a compositor gone
    assert not wayland_display_reachable(tmp_path / "none")


def test_where_neither_platform_can_open_the_message_gives_each_reason(tmp_path):
    problem = display_problem({"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": str(tmp_path)})
    assert problem is not None and problem.startswith("no display can open the window. Wayland: no Wayland "
                                                      f"compositor answers at '{tmp_path / 'wayland-9'}'"), problem
    assert "X11: no X11 display is set (the DISPLAY variable)." in problem
    assert problem.endswith("`python main.py --help`.")
    problem = display_problem({"XDG_SESSION_TYPE": "wayland", "DISPLAY": NO_SERVER})
    assert problem is not None and "Wayland: cannot find the Wayland display 'wayland-0': XDG_RUNTIME_DIR is not set" \
        in problem and f"X11: cannot connect to the X11 display '{NO_SERVER}'" in problem, problem


def test_a_platform_the_check_does_not_know_is_left_to_qt():
    assert display_problem({"QT_QPA_PLATFORM": "vnc"}) is None
    assert display_problem({"QT_QPA_PLATFORM": "xcb;offscreen"}) is None  # (xcb fails here: no DISPLAY)


# A missing library faked (removing a system one is not for a test); in a child process, because Qt's abort,
# if the check let it through, would take the test run down with it.
WITHOUT_CURSOR = """
import sys
from app.ui import display_check
display_check.can_load = lambda library: library != "libxcb-cursor.so.0"
from app.ui.launch import launch
sys.exit(launch([sys.argv[1]]))
"""


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


def test_launch_in_a_wayland_session_whose_compositor_is_gone_says_why_instead_of_aborting(tmp_path):
    env = without_qt_platform(XDG_SESSION_TYPE="wayland", WAYLAND_DISPLAY="wayland-7", XDG_RUNTIME_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), str(DEMO)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr  # Qt alone: both plugins fail, "Reinstalling …", SIGABRT
    assert proc.stderr.startswith("error: no display can open the window. Wayland: no Wayland compositor answers "
                                  f"at '{tmp_path / 'wayland-7'}'"), proc.stderr


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


def assert_editor_shown(proc: subprocess.CompletedProcess[str], platform: str, png) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"platform {platform} title {DEMO.name}" in proc.stdout and "notes 309" in proc.stdout, proc.stdout
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert image.width() >= 800 and image.height() >= 500
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 50  # a painted editor, not a blank surface


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="no Xvfb (bash packaging/bootstrap.sh --dev installs it)")
def test_the_editor_opens_a_real_window_on_an_x11_display(tmp_path):
    png = tmp_path / "window.png"  # Qt picks xcb itself, as on an X11 desktop: xvfb-run sets DISPLAY
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-c", DRIVER,
                           str(DEMO), str(png)], cwd=ROOT, env=without_qt_platform(**user_folders(tmp_path)),
                          capture_output=True, text=True, timeout=120)
    assert_editor_shown(proc, "xcb", png)


@pytest.fixture
def weston(tmp_path):
    """A Wayland compositor without a screen (Weston's headless backend); yields its WAYLAND_DISPLAY."""
    if shutil.which("weston") is None:
        pytest.skip("no Weston (bash packaging/bootstrap.sh --dev installs it)")
    name = "wayland-test"
    command = ["weston", "--backend=headless-backend.so", "--use-pixman", f"--socket={name}", "--width=1600",
               "--height=1000"]
    with running(command, lambda: wayland_display_reachable(tmp_path / name),
                 env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}):
        yield name


def test_the_editor_opens_a_real_window_on_a_wayland_compositor(tmp_path, weston):
    png = tmp_path / "window.png"  # Qt picks Wayland itself, as in a Wayland session
    env = without_qt_platform(XDG_SESSION_TYPE="wayland", WAYLAND_DISPLAY=weston, **user_folders(tmp_path))
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(DEMO), str(png)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert_editor_shown(proc, "wayland", png)
