"""Markers: the named places of a song ("Intro", "Chorus", "LH stride pattern"), read, edited and written.

A song's markers are a tuple of :class:`Marker` in time order, one per tick (two marker events at one tick are
one marker, their texts joined with " · "), so a tick names a marker. Edits make a new tuple. Writing replaces
every marker event of the file with the edited ones, in the first track (where DAWs keep them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import mido
import numpy as np

from app.core.midi_text import shown_text

JOIN = " · "  # between the texts of markers that share a tick
LONGEST = 200  # characters a typed marker name keeps (a section's name, not a paragraph)


@dataclass(frozen=True)
class Marker:
    """A marker event: a section's name ("Chorus", "B") or a performer's note ("LH stride pattern"). ``text`` is
    every marker at ``tick``, joined with " · "."""

    tick: int
    text: str


Markers = tuple[Marker, ...]


def read_markers(written: list[tuple[int, bytes]], encodings: tuple[str, ...]) -> Markers:
    """One :class:`Marker` per tick of ``written`` (tick, bytes), in time order; empty texts, and a marker
    repeated in several tracks at one tick, count once."""
    at: dict[int, dict[str, None]] = defaultdict(dict)  # an ordered set of texts per tick
    for tick, raw in written:
        if text := shown_text(raw, encodings):
            at[tick][text] = None
    return tuple(Marker(tick, JOIN.join(texts)) for tick, texts in sorted(at.items()))


def marker_name(typed: str) -> str:
    """What a typed name becomes: printable, on one line, single-spaced, at most :data:`LONGEST` characters
    ("" when nothing printable is left: no marker)."""
    words = ("".join(c for c in word if c.isprintable()) for word in typed.split())  # a line break is a space
    return " ".join(w for w in words if w)[:LONGEST].strip()


def _placed(markers: Markers, tick: int, text: str) -> Markers:
    """``markers`` with ``text`` at ``tick``, after the text of a marker already there."""
    there = next((m for m in markers if m.tick == tick), None)
    rest = [m for m in markers if m is not there]
    joined = f"{there.text}{JOIN}{text}" if there is not None else text
    return tuple(sorted([*rest, Marker(tick, joined)], key=lambda m: m.tick))


def added(markers: Markers, tick: int, text: str) -> Markers:
    """``markers`` with a new one (joined to a marker already at ``tick``)."""
    return _placed(markers, max(0, int(tick)), text)


def renamed(markers: Markers, tick: int, text: str) -> Markers:
    return tuple(Marker(m.tick, text) if m.tick == tick else m for m in markers)


def moved(markers: Markers, tick: int, to_tick: int) -> Markers:
    """The marker at ``tick`` moved to ``to_tick`` (joined to a marker already there)."""
    moving = next(m for m in markers if m.tick == tick)
    return _placed(removed(markers, tick), max(0, int(to_tick)), moving.text)


def removed(markers: Markers, tick: int) -> Markers:
    return tuple(m for m in markers if m.tick != tick)


def section(markers: Markers, tick: float) -> tuple[Marker, int | None] | None:
    """The section ``tick`` lies in: the last marker at or before it, and the next marker's tick (None: the song's
    end); None before the first marker."""
    before = [m for m in markers if m.tick <= tick]
    if not before:
        return None
    return before[-1], next((m.tick for m in markers if m.tick > tick), None)


def next_free_name(markers: Markers) -> str:
    """"Marker 3": the first numbered name no marker has yet (what a marker added with a key is called)."""
    taken = {m.text for m in markers}
    return next(f"Marker {n}" for n in range(1, len(markers) + 2) if f"Marker {n}" not in taken)


def remarked_track(track: mido.MidiTrack, markers: list[tuple[int, bytes]]) -> tuple[mido.MidiTrack, np.ndarray]:
    """``track`` with its marker events replaced by ``markers`` (tick, bytes as written), each before the other
    events of its tick; and (len(track),) where each of its events went (-1: a marker, dropped). The track's end
    moves to its last marker where that is later."""
    events: list[tuple[int, int, int, mido.Message | mido.MetaMessage]] = []  # (tick, kind, index, message)
    tick = 0
    for i, msg in enumerate(track):
        tick += msg.time
        if msg.type != "marker":
            events.append((tick, 2 if msg.type == "end_of_track" else 1, i, msg))
    last = max([tick, *(t for t, _ in markers)])
    events = [(last, k, i, msg) if k == 2 else (t, k, i, msg) for t, k, i, msg in events]
    for k, (at, raw) in enumerate(markers):  # mido writes a text's characters as Latin-1 bytes: these bytes
        events.append((at, 0, k, mido.MetaMessage("marker", text=raw.decode("latin-1"))))
    events.sort(key=lambda e: e[:3])
    out, where, before = mido.MidiTrack(), np.full(len(track), -1, dtype=np.int64), 0
    for at, kind, i, msg in events:
        if kind:
            where[i] = len(out)
        out.append(msg if msg.time == at - before else msg.copy(time=at - before))
        before = at
    return out, where
