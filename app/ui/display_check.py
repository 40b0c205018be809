"""Whether Qt can open a window here, asked before Qt is. Qt tries its platform plugins in turn (Wayland, X11)
and, when none opens, prints a plugin error ("Reinstalling the application may fix this problem") and aborts
the process. Each plugin needs system libraries that a minimal Debian/Ubuntu may lack, and a server to talk
to: a Wayland compositor's socket, or an X server at $DISPLAY. No Qt here, so the check runs before Qt loads,
and where no plugin could open the user gets one line saying why and what to do."""

from __future__ import annotations

import ctypes
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# The libraries of PySide6's libqxcb.so and libQt6XcbQpa.so.6 (ldd) beyond libX11 itself, plus libxcb-cursor,
# which Qt 6.5+ loads at run time, and libxcb, which x11_display_reachable() calls; each with the Debian/Ubuntu
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
# The same for PySide6's libqwayland.so and libQt6WaylandClient.so.6.
WAYLAND_LIBRARIES = {
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libxkbcommon.so.0": "libxkbcommon0",
}
HEADLESS = "the headless commands: `python main.py --help`"
DEFAULT_WAYLAND_DISPLAY = "wayland-0"  # libwayland-client's, where WAYLAND_DISPLAY is not set


def qt_platforms(env: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt 6 tries, in order (``QGuiApplicationPrivate::createPlatformIntegration``): those
    named in ``QT_QPA_PLATFORM``, else Wayland where the session is one, then X11, its Linux default."""
    asked = env.get("QT_QPA_PLATFORM", "").strip()
    if asked:
        return [name.split(":")[0].strip() for name in asked.split(";") if name.strip()]
    wayland = "WAYLAND_DISPLAY" in env or env.get("XDG_SESSION_TYPE") == "wayland"
    return ["wayland", "xcb"] if wayland else ["xcb"]


def can_load(library: str) -> bool:
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def missing_libraries(libraries: Mapping[str, str]) -> list[str]:
    """Sonames among ``libraries`` that the dynamic loader cannot load."""
    return [library for library in libraries if not can_load(library)]


def x11_display_reachable(display: str) -> bool:
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


def wayland_socket(env: Mapping[str, str]) -> Path | None:
    """The compositor's socket as libwayland-client finds it: ``$WAYLAND_DISPLAY`` (default ``wayland-0``),
    under ``$XDG_RUNTIME_DIR`` unless absolute; None where a relative name has no runtime directory."""
    name = Path(env.get("WAYLAND_DISPLAY") or DEFAULT_WAYLAND_DISPLAY)
    if name.is_absolute():
        return name
    runtime = env.get("XDG_RUNTIME_DIR")
    return Path(runtime) / name if runtime else None


def wayland_display_reachable(path: Path) -> bool:
    """A compositor listens at ``path`` (connect and let go, as libwayland-client connects)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def install_advice(missing: list[str], packages: Mapping[str, str], what: str) -> str:
    names = " ".join(packages[library] for library in missing)
    return (f"the window needs {what} libraries that are not installed ({', '.join(missing)}). Install them with "
            f"`sudo apt-get install {names}` (Debian/Ubuntu; `bash packaging/bootstrap.sh` does it too)")


def x11_problem(env: Mapping[str, str]) -> str | None:
    """Why Qt's xcb plugin could not open a window here; None when it can."""
    missing = missing_libraries(XCB_LIBRARIES)
    if missing:
        return install_advice(missing, XCB_LIBRARIES, "X11")
    if "DISPLAY" not in env:
        return "no X11 display is set (the DISPLAY variable)"
    display = env["DISPLAY"]
    if not x11_display_reachable(display):  # (libxcb itself is among the libraries that loaded)
        return (f"cannot connect to the X11 display {display!r} (the DISPLAY variable): is the X server running, "
                f"and is this user allowed to use it? Check DISPLAY")
    return None


def wayland_problem(env: Mapping[str, str]) -> str | None:
    """Why Qt's Wayland plugin could not open a window here; None when it can."""
    missing = missing_libraries(WAYLAND_LIBRARIES)
    if missing:
        return install_advice(missing, WAYLAND_LIBRARIES, "Wayland")
    if env.get("WAYLAND_SOCKET"):  # a socket handed over by whoever started us: nothing to look for
        return None
    path = wayland_socket(env)
    if path is None:
        return (f"cannot find the Wayland display {env.get('WAYLAND_DISPLAY') or DEFAULT_WAYLAND_DISPLAY!r}: "
                f"XDG_RUNTIME_DIR is not set (it often is not under sudo or su)")
    if not wayland_display_reachable(path):
        return (f"no Wayland compositor answers at {str(path)!r} (WAYLAND_DISPLAY in XDG_RUNTIME_DIR): is the "
                f"compositor running, and is this the user it runs for? Check WAYLAND_DISPLAY")
    return None


PLATFORM_CHECKS: dict[str, tuple[str, Callable[[Mapping[str, str]], str | None]]] = {
    "wayland": ("Wayland", wayland_problem), "xcb": ("X11", x11_problem)}


def display_problem(env: Mapping[str, str]) -> str | None:
    """Why Qt could not open a window here, with what to do; None when it can, or when it will try a platform
    this module does not know (offscreen, vnc, eglfs …: whoever asked for it knows what they did)."""
    if not sys.platform.startswith("linux"):
        return None
    problems = []
    for platform in qt_platforms(env):
        known = PLATFORM_CHECKS.get("wayland" if platform.startswith("wayland") else platform)
        if known is None:
            return None
        label, check = known
        problem = check(env)
        if problem is None:  # Qt opens the window with this one
            return None
        problems.append((label, problem))
    if len(problems) == 1:
        return f"{problems[0][1]}, or use {HEADLESS}."
    reasons = " ".join(f"{label}: {problem}." for label, problem in problems)
    return f"no display can open the window. {reasons} Otherwise, use {HEADLESS}."
