"""Copied notes as bytes, so they travel through the desktop's clipboard from one StyleNet Studio window (or
process) to another. Plain JSON under a MIME type of our own: nothing else reads it, and nothing read from a
clipboard is trusted, so :func:`clip_from_bytes` checks every field and says what is wrong."""

from __future__ import annotations

import json

import numpy as np

from app.core.editor import NoteClip, Version
from app.core.notes import NoteTable

CLIP_MIME = "application/x-stylenet-studio-notes"
FORMAT = "stylenet-studio-notes/1"
MAX_NOTES = 1_000_000  # far above any piano part; bounds what a hostile clipboard can make us allocate
MAX_BYTES = 128 * MAX_NOTES  # checked before parsing: a million notes in three versions take about 40 MB
# column: (lowest, highest) value it may hold; velocities 1..127 in every version; times are checked as pairs
RANGES = {"pitch": (0, 127), "channel": (0, 15), "track": (0, 65535)}
COLUMNS = ("pitch", "start", "end", "channel", "track")  # the notes' columns besides their velocities


def clip_to_bytes(clip: NoteClip) -> bytes:
    n = clip.notes
    payload = {
        "format": FORMAT,
        "ticks_per_beat": clip.ticks_per_beat,
        "notes": {name: getattr(n, name).tolist() for name in COLUMNS},
        "versions": {version.value: np.asarray(v).tolist() for version, v in clip.versions.items()},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def clip_from_bytes(data: bytes) -> NoteClip:
    """The clip :func:`clip_to_bytes` wrote; ValueError naming the problem for anything else. The clip counts
    as another file's (its own ``origin``), so pasted notes join the piano part of the file they go to."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"{len(data) / 1e6:.0f} MB is more than any piano part's notes")
    try:
        payload = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not StyleNet Studio notes ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError("not StyleNet Studio notes, or notes from another version of it")
    tpb = payload.get("ticks_per_beat")
    if not isinstance(tpb, int) or not 1 <= tpb <= 32767:
        raise ValueError(f"ticks per beat {tpb!r} out of range")
    columns, versions = payload.get("notes"), payload.get("versions")
    if not isinstance(columns, dict) or not isinstance(versions, dict):
        raise ValueError("the notes or their velocities are missing")
    arrays = {name: _integers(columns.get(name), name) for name in COLUMNS}
    velocity = {_version(key): _integers(value, f"{key} velocities") for key, value in versions.items()}
    if Version.ORIGINAL not in velocity:
        raise ValueError("the notes' original velocities are missing")
    n = len(arrays["pitch"])
    if n == 0 or n > MAX_NOTES or any(len(a) != n for a in (*arrays.values(), *velocity.values())):
        raise ValueError(f"columns of unequal length, or a note count ({n}) out of range")
    for name, (low, high) in RANGES.items():
        _within(arrays[name], name, low, high)
    for version, values in velocity.items():
        _within(values, f"{version.value} velocities", 1, 127)
    if arrays["start"].min() < 0 or (arrays["end"] < arrays["start"]).any() or arrays["end"].max() > 2**40:
        raise ValueError("note times out of range (a note must end at or after its start)")
    notes = NoteTable(velocity=velocity[Version.ORIGINAL], on_ref=np.full(n, -1), **arrays)
    return NoteClip(notes, velocity, tpb, origin=object())


def _integers(values: object, name: str) -> np.ndarray:
    if not isinstance(values, list) or not all(type(v) is int and abs(v) < 2**62 for v in values):
        raise ValueError(f"{name}: want a list of whole numbers")
    return np.array(values, dtype=np.int64)


def _within(values: np.ndarray, name: str, low: int, high: int) -> None:
    if values.min() < low or values.max() > high:
        raise ValueError(f"{name} outside {low}..{high}")


def _version(key: str) -> Version:
    try:
        return Version(key)
    except ValueError:
        raise ValueError(f"unknown version {key!r}") from None
