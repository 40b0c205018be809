"""Lint and type checks run with the tests, so CI enforces them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT

BIN = Path(sys.executable).parent


def test_ruff_is_clean():
    proc = subprocess.run([str(BIN / "ruff"), "check", "."], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout


def test_mypy_is_clean():
    proc = subprocess.run([str(BIN / "mypy"), "app", "models", "packaging"], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout
