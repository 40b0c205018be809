"""Start the window: ``python main.py [FILE.mid]`` or ``--screenshot OUT.png FILE.mid [--version stylised]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.ui.display_check import display_problem

ICON = Path(__file__).resolve().parents[2] / "resources" / "icon.svg"
# also the launcher's name (packaging/install_desktop.py): docks and task bars match the window to it
DESKTOP_FILE_NAME = "stylenet-studio"


def window_size(text: str) -> tuple[int, int]:
    """``"1400x860"`` -> (1400, 860), for ``--size``."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"want WIDTHxHEIGHT in pixels, like 1400x860 (got {text!r})") from None
    if not (200 <= width <= 8000 and 200 <= height <= 8000):
        raise argparse.ArgumentTypeError(f"{text}: each side must lie between 200 and 8000 pixels")
    return width, height


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python main.py", description="StyleNet Studio editor. Headless commands: "
                                "humanise, demo, render (see `python main.py --help`).")
    p.add_argument("file", nargs="?", help="MIDI file to open")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window to a PNG and exit (no display needed)")
    p.add_argument("--version", choices=("original", "baseline", "stylised"), default="original",
                   help="with --screenshot: the version to show (stylised runs Humanise first)")
    p.add_argument("--style", default="classical", help="with --screenshot --version stylised")
    p.add_argument("--size", type=window_size, default="1400x860", help="with --screenshot: window size WxH")
    return p.parse_args(argv)


def launch(argv: list[str]) -> int:
    args = parse(argv)
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if args.screenshot or headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if headless and not args.screenshot and os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        print("error: no display found. Run `python main.py demo` for the headless job, or "
              "`python main.py --screenshot out.png FILE.mid` to render the window.", file=sys.stderr)
        return 2
    problem = display_problem(os.environ)
    if problem:  # else Qt would print a plugin error and abort the process
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("StyleNet Studio")
    app.setOrganizationName("StyleNet")
    QApplication.setDesktopFileName(DESKTOP_FILE_NAME)
    QApplication.setWindowIcon(QIcon(str(ICON)))
    if args.screenshot:
        import tempfile

        from PySide6.QtCore import QSettings

        from app.ui.screenshot import render_screenshot
        from app.ui.settings import Settings

        # Default preferences in a throwaway file: the picture does not depend on this user's layout, and
        # rendering it leaves their settings as they were.
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat))
            return render_screenshot(MainWindow(settings), args.file, Path(args.screenshot), args.version,
                                     args.style, args.size)
    from app.core.recovery import RecoveryStore
    from app.ui.errors import ErrorReporter
    from app.ui.recovery import default_root

    window = MainWindow(recovery=RecoveryStore(default_root()))
    reporter = ErrorReporter(window)
    reporter.install()
    if args.file:
        window.open_path(args.file)  # a failure is reported in a dialog; the empty editor stays usable
    window.show()
    keeper = window.keeper
    if keeper is not None:
        if not args.file:
            QTimer.singleShot(0, keeper.offer_at_start)  # asks only if a crashed editor left work
        elif keeper.left():  # the file asked for stays open; the work stays on offer
            window.statusBar().showMessage("Unsaved work from an editor that did not close properly: "
                                           "File ▸ Restore Unsaved Work.", 15000)
    try:
        return int(app.exec())
    finally:
        reporter.uninstall()
