"""Add StyleNet Studio to the desktop's application menu and make it an "Open with" choice for MIDI files.

    .venv/bin/python packaging/install_desktop.py              # for this user (~/.local/share)
    .venv/bin/python packaging/install_desktop.py --uninstall
    sudo .venv/bin/python packaging/install_desktop.py --prefix /usr/local/share   # for everyone

Writes a freedesktop.org desktop entry (``applications/stylenet-studio.desktop``) that starts this
checkout's ``main.py`` with its ``.venv`` Python, and the icon (``icons/hicolor/scalable/apps``).
Run ``bash packaging/bootstrap.sh`` first. Written by hand: no maintained library writes desktop
entries, and the format is a dozen lines of INI with one quoting rule (``exec_line``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.atomic import write_atomic  # noqa: E402  (needs ROOT on the path)
from app.ui.launch import DESKTOP_FILE_NAME, ICON  # noqa: E402  (Qt-free at import)

APP_ID = DESKTOP_FILE_NAME  # the window's own: docks match windows to launchers by it
MIDI_TYPES = ("audio/midi", "audio/x-midi")


def exec_arg(arg: str) -> str:
    """One argument of an ``Exec`` key, quoted as the Desktop Entry Specification says.

    Inside double quotes ``"`, `` ` ``, ``$`` and ``\\`` take a backslash; ``%`` is doubled (field codes);
    then the key's string value escapes every backslash once more.
    """
    quoted = "".join("\\" + c if c in '"`$\\' else c for c in arg).replace("%", "%%")
    return ('"' + quoted + '"').replace("\\", "\\\\")


def desktop_entry(python: Path, main: Path) -> str:
    exec_line = f"{exec_arg(str(python))} {exec_arg(str(main))} %f"
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=StyleNet Studio",
        "GenericName=MIDI Dynamics Editor",
        "Comment=Give MIDI piano parts human dynamics with StyleNet",
        f"Exec={exec_line}",
        f"TryExec={str(python).replace(chr(92), chr(92) * 2)}",  # a string value: a backslash is written twice
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=AudioVideo;Audio;Midi;",
        "MimeType=" + "".join(f"{t};" for t in MIDI_TYPES),
        "Keywords=MIDI;piano;velocity;dynamics;humanize;humanise;StyleNet;",
        "StartupNotify=true",
        "StartupWMClass=StyleNet Studio",  # Qt's X11 WM_CLASS class is the application name (Wayland uses APP_ID)
        "",
    ])


def paths(prefix: Path) -> tuple[Path, Path]:
    """(desktop entry, icon) under the data folder ``prefix``."""
    return (prefix / "applications" / f"{APP_ID}.desktop",
            prefix / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg")


def refresh_caches(prefix: Path) -> None:
    """Let menus see the change now; the tools are optional (not every desktop has them)."""
    for tool, target in (("update-desktop-database", prefix / "applications"),
                         ("gtk-update-icon-cache", prefix / "icons" / "hicolor")):
        if shutil.which(tool) and target.is_dir():
            subprocess.run([tool, "-q", str(target)] if tool == "update-desktop-database" else
                           [tool, "-q", "-t", "-f", str(target)], check=False, capture_output=True)


def install(prefix: Path, python: Path) -> list[Path]:
    if not (python.is_file() and os.access(python, os.X_OK)):
        raise ValueError(f"{python} is not an executable Python; run `bash packaging/bootstrap.sh` first")
    entry, icon = paths(prefix)
    for path in (entry, icon):
        path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(entry, desktop_entry(python, ROOT / "main.py").encode())
    write_atomic(icon, ICON.read_bytes())
    refresh_caches(prefix)
    return [entry, icon]


def uninstall(prefix: Path) -> list[Path]:
    removed = [p for p in paths(prefix) if p.exists()]
    for path in removed:
        path.unlink()
    refresh_caches(prefix)
    return removed


def main(argv: list[str] | None = None) -> int:
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--prefix", type=Path, default=data_home, help=f"data folder (default: {data_home})")
    p.add_argument("--python", type=Path, default=ROOT / ".venv" / "bin" / "python",
                   help="the Python that runs the app (default: this checkout's .venv)")
    p.add_argument("--uninstall", action="store_true", help="remove what an install wrote")
    args = p.parse_args(argv)
    try:
        done = uninstall(args.prefix) if args.uninstall else install(args.prefix, args.python.absolute())
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or args.prefix}: {exc.strerror}", file=sys.stderr)
        return 2
    verb = "removed" if args.uninstall else "wrote"
    print("\n".join(f"{verb} {path}" for path in done) or "nothing to remove")
    return 0


if __name__ == "__main__":
    sys.exit(main())
