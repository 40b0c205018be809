"""Atomic file writes: a temp file in the same folder, fsync, rename — never half a file."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` or leave ``path`` untouched; raises OSError on failure.

    The file gets the permissions a plain ``open(path, "wb")`` would give it: an existing
    file keeps its own, a new one gets 0o666 less the umask (``mkstemp`` alone makes 0o600,
    which would hide exports from other users and programs).
    """
    path = Path(path)
    mode = _permissions_for(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _permissions_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask. Linux shows it in /proc; elsewhere the portable way is to set it and put it
    back, which for a moment changes it for other threads (an audio export runs in one)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return umask
