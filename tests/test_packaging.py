"""packaging/install_desktop.py: the menu entry and icon it writes, their quoting, and uninstalling."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "packaging"))
import install_desktop


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text())
    return dict(parser["Desktop Entry"])


def exec_argv(exec_line: str) -> list[str]:
    """What a launcher runs, read as the Desktop Entry Specification says (a reader independent of the writer):
    undo the string escape, split on spaces outside double quotes, where a backslash keeps the next ``"`$\\``."""
    text, args, arg, quoted, i = exec_line.replace("\\\\", "\\"), [], "", False, 0
    while i < len(text):
        c = text[i]
        if quoted and c == "\\" and text[i + 1] in '"`$\\':
            arg, i = arg + text[i + 1], i + 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == " " and not quoted:
            args, arg = [*args, arg], ""
        else:
            arg += c
        i += 1
    return [a.replace("%%", "%") for a in [*args, arg]]


@pytest.mark.parametrize("folder", ["plain", "My Apps", 'odd "quote" $HOME `x` back\\slash 100%'])
def test_exec_line_gives_back_the_exact_paths(tmp_path, folder):
    python, main = tmp_path / folder / "python", tmp_path / folder / "main.py"
    entry = install_desktop.desktop_entry(python, main)
    keys = dict(line.split("=", 1) for line in entry.splitlines()[1:] if line)
    assert exec_argv(keys["Exec"]) == [str(python), str(main), "%f"]
    assert keys["TryExec"].replace("\\\\", "\\") == str(python)


def test_install_writes_a_valid_entry_for_midi_files_and_uninstall_removes_it(tmp_path):
    prefix = tmp_path / "share"
    run = [sys.executable, str(ROOT / "packaging" / "install_desktop.py"), "--prefix", str(prefix),
           "--python", sys.executable]
    assert subprocess.run(run, capture_output=True, text=True, timeout=60).returncode == 0
    entry_path, icon_path = install_desktop.paths(prefix)
    entry = read_entry(entry_path)
    assert entry["Icon"] == install_desktop.APP_ID and icon_path.read_bytes() == install_desktop.ICON.read_bytes()
    assert entry["StartupWMClass"] == "StyleNet Studio"  # QApplication.applicationName, as launch sets it
    assert "audio/midi;" in entry["MimeType"] and entry["Categories"].startswith("AudioVideo;Audio;")
    assert exec_argv(entry["Exec"]) == [str(Path(sys.executable).absolute()), str(ROOT / "main.py"), "%f"]
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry_path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    removed = subprocess.run([*run, "--uninstall"], capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0 and not entry_path.exists() and not icon_path.exists()


def test_install_without_the_environment_says_to_bootstrap_first(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "packaging" / "install_desktop.py"), "--prefix",
                           str(tmp_path), "--python", str(tmp_path / "no-venv" / "python")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "bootstrap.sh" in proc.stderr and "Traceback" not in proc.stderr
    assert not any(tmp_path.rglob("*.desktop"))


def test_the_window_and_the_entry_share_one_application_id():
    from app.ui.launch import DESKTOP_FILE_NAME, ICON

    assert DESKTOP_FILE_NAME == install_desktop.APP_ID and ICON == install_desktop.ICON
