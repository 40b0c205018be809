"""Whether Qt can open a window on an X11 display, asked before Qt is. Its xcb platform plugin needs system
libraries that a minimal Debian/Ubuntu (or a desktop without other Qt 6 programs) may lack, and an X server at
$DISPLAY; without either, Qt prints a plugin error and aborts the process. No Qt here, so the check runs
before Qt loads, and the user gets one line saying what to do."""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Mapping

# The libraries of PySide6's libqxcb.so and libQt6XcbQpa.so.6 (ldd) beyond libX11 itself, plus libxcb-cursor,
# which Qt 6.5+ loads at run time, and libxcb, which display_reachable() calls; each with the Debian/Ubuntu
# package that brings it. packaging/bootstrap.sh installs the same packages (a test keeps them together).
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
}


def qt_will_use_xcb(env: Mapping[str, str]) -> bool:
    """Qt will open its windows through xcb and nothing else: it is asked for alone, or nothing is asked for
    and there is an X11 display but no Wayland one. With a list (``wayland;xcb``) or a Wayland session Qt
    has another platform to try, so a missing xcb library need not stop it."""
    asked = env.get("QT_QPA_PLATFORM", "").strip()
    if asked:
        return asked == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def can_load(library: str) -> bool:
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def missing_xcb_libraries() -> list[str]:
    """Sonames of :data:`XCB_LIBRARIES` that the dynamic loader cannot load."""
    return [library for library in XCB_LIBRARIES if not can_load(library)]


def display_reachable(display: str) -> bool:
    """An X server answers at ``display`` (connect and let go, through libxcb, as Qt would connect)."""
    xcb = ctypes.CDLL("libxcb.so.1")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)  # never NULL: an error is a connection in error
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


HEADLESS_HINT = "or use the headless commands: `python main.py --help`."


def xcb_problem(env: Mapping[str, str]) -> str | None:
    """Why Qt could not open a window here, with what to do; None when it can (or it is not our case)."""
    if not sys.platform.startswith("linux") or not qt_will_use_xcb(env):
        return None
    missing = missing_xcb_libraries()
    if missing:
        packages = " ".join(XCB_LIBRARIES[library] for library in missing)
        return (f"the window needs X11 libraries that are not installed ({', '.join(missing)}). Install them "
                f"with `sudo apt-get install {packages}` (Debian/Ubuntu; `bash packaging/bootstrap.sh` does it "
                f"too), {HEADLESS_HINT}")
    display = env.get("DISPLAY", "")
    if not display_reachable(display):  # (libxcb itself is among the libraries that loaded)
        return (f"cannot connect to the X11 display {display!r} (the DISPLAY variable): is the X server running, "
                f"and is this user allowed to use it? Check DISPLAY, {HEADLESS_HINT}")
    return None
