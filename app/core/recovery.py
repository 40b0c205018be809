"""Crash recovery: unsaved work written beside the editing, offered back after a crash (Qt-free).

Each running editor owns one session folder under a recovery root and holds an exclusive lock on
it (``flock``), so a folder whose lock can be taken belongs to an editor that is gone: its work is
offered back. The folder holds the file as it was opened (``base.mid``, written once per document),
the note table with every version's velocities (``notes.npz``: about a millisecond even for 16,000
notes, so it is written on the main thread) and ``session.json`` (piano parts, markers), written
last, which marks a complete snapshot. Restoring re-reads the base and lays the saved notes over it, as saving the
edited document would.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import time
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO

import numpy as np

from app.core.atomic import write_atomic
from app.core.editor import EditorDocument, EditorState, Version
from app.core.markers import Marker, Markers
from app.core.midi_document import MidiDocument, MidiError
from app.core.notes import NoteTable

SESSION_FILE = "session.json"
BASE_FILE = "base.mid"
NOTES_FILE = "notes.npz"
LOCK_FILE = "lock"


@dataclass(frozen=True)
class RecoveredWork:
    """A snapshot left by an editor that did not close properly."""

    folder: Path
    source: Path | None  # the file that was open, if any
    saved_at: float  # time.time() of the snapshot
    versions: tuple[str, ...]
    style: str | None
    piano_parts: tuple[tuple[int, int], ...] = ()
    markers: Markers | None = None  # as edited (None: a snapshot from before markers were kept, or none)

    @property
    def name(self) -> str:
        return self.source.name if self.source else "an untitled piece"

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        return f"{self.name} ({', '.join(v.capitalize() for v in self.versions)}), last kept {when}"


def _try_lock(path: Path) -> IO[bytes] | None:
    """An open file holding an exclusive lock on ``path``, or None when another process holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking, every folder is taken as left behind
        return open(path, "ab")
    handle = open(path, "ab")  # noqa: SIM115 (held open for the session: closing it frees the lock)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


class RecoveryStore:
    """This editor's session folder under ``root``: :meth:`write` after edits, :meth:`clear` once saved.

    Keep the object alive while the editor runs: its open lock file is what marks the folder as in use.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.folder = self.root / f"session-{os.getpid()}-{time.time_ns()}"
        self._lock: IO[bytes] | None = None
        self._base_of: MidiDocument | None = None

    def write(self, doc: EditorDocument) -> None:
        """Snapshot every version of ``doc`` (raises OSError when the disk refuses)."""
        if self._lock is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock = _try_lock(self.folder / LOCK_FILE)
        if self._base_of is not doc.midi:  # once per document
            (self.folder / SESSION_FILE).unlink(missing_ok=True)  # incomplete until this document's notes are in
            write_atomic(self.folder / BASE_FILE, doc.midi.loaded_bytes())
            self._base_of = doc.midi
        state = doc.state
        columns = {f.name: getattr(state.notes, f.name) for f in fields(NoteTable)}
        versions = {v.value: a for v in (Version.BASELINE, Version.STYLISED) if (a := state.velocities(v)) is not None}
        buf = io.BytesIO()
        np.savez(buf, **columns, **versions)  # type: ignore[arg-type]  # numpy's stub types **kwds as its own flags
        write_atomic(self.folder / NOTES_FILE, buf.getvalue())
        source = str(doc.midi.path.resolve()) if doc.midi.path else None
        session = {"source": source, "saved_at": time.time(), "versions": [v.value for v in doc.available_versions()],
                   "style": state.style, "piano_parts": sorted(doc.midi.piano_parts),
                   "markers": [[m.tick, m.text] for m in state.markers]}
        write_atomic(self.folder / SESSION_FILE, json.dumps(session).encode())

    def clear(self) -> None:
        """Nothing unsaved any more: forget the snapshot (the folder is made again by the next write)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        self._base_of = None
        shutil.rmtree(self.folder, ignore_errors=True)


def left_behind(root: Path) -> list[RecoveredWork]:
    """Snapshots of editors that are gone (their folder's lock is free), newest first."""
    found = []
    for folder in sorted(Path(root).glob("session-*")) if Path(root).is_dir() else []:
        lock = _try_lock(folder / LOCK_FILE) if folder.is_dir() else None
        if lock is None:
            continue  # a running editor's, or not a folder
        lock.close()
        try:
            session = json.loads((folder / SESSION_FILE).read_text())
            source = Path(session["source"]) if session.get("source") else None
            parts = tuple((int(t), int(c)) for t, c in session.get("piano_parts", []))
            markers = session.get("markers")
            kept = None if markers is None else tuple(Marker(int(t), str(text)) for t, text in markers)
            found.append(RecoveredWork(folder, source, float(session["saved_at"]), tuple(session["versions"]),
                                       session.get("style"), parts, kept))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an editor that crashed before its first complete snapshot: nothing to offer
    return sorted(found, key=lambda w: w.saved_at, reverse=True)


def restore(work: RecoveredWork) -> EditorDocument:
    """The recovered document, marked unsaved (it is in no file the user chose); MidiError if it is damaged."""
    try:
        data = (work.folder / BASE_FILE).read_bytes()
        with np.load(work.folder / NOTES_FILE) as saved:
            notes = NoteTable(*(saved[f.name] for f in fields(NoteTable)))
            versions = {name: saved[name] for name in ("baseline", "stylised") if name in saved.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise MidiError(f"the recovery copy of {work.name} is damaged ({exc})") from None
    base = MidiDocument.from_bytes(data, f"the recovery copy of {work.name}", work.source)
    if not _fits(notes, base) or any(len(v) != len(notes) for v in versions.values()):
        raise MidiError(f"the recovery copy of {work.name} is damaged (its notes do not fit its file)")
    doc = EditorDocument(base)
    markers = base.markers if work.markers is None else work.markers
    doc.restore(EditorState(notes, versions.get("baseline"), versions.get("stylised"), work.style, markers))
    if work.piano_parts:
        with contextlib.suppress(MidiError):  # parts that do not fit this file: keep the automatic choice
            doc.midi.set_piano_parts(set(work.piano_parts))
    doc.mark_unsaved()
    return doc


def _fits(notes: NoteTable, base: MidiDocument) -> bool:
    """Every note lives in one of the file's tracks, and a loaded note's note-on index lies inside it."""
    tracks = base.midi.tracks
    if len(notes) and (notes.track.min() < 0 or notes.track.max() >= len(tracks)):
        return False
    lengths = np.array([len(t) for t in tracks])[notes.track]
    return bool(np.all(notes.on_ref < lengths))


def discard(work: RecoveredWork) -> None:
    shutil.rmtree(work.folder, ignore_errors=True)
