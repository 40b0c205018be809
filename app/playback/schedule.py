"""Turn a MIDI document into timed channel events, from any position (Qt-free).

The three versions of a piece differ only in note-on velocities, so their
schedules share one list of events and differ only in a velocity per note,
applied as each note-on is sent: building the versions costs one pass over the
file, and a player can swap schedules at the current index without
re-triggering or losing notes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from itertools import groupby

import mido
import numpy as np

from app.core.midi_document import MidiDocument
from app.core.timing import TempoMap

TRACK_SPAN = 1 << 32  # a message's place in the file: track * TRACK_SPAN + its index in the track


@dataclass(frozen=True)
class Schedule:
    """Channel messages in time order.

    Attributes
    ----------
    seconds : np.ndarray
        (E,) float64 event times from the start of the piece.
    ticks : np.ndarray
        (E,) int64 event ticks (for the playhead and loop ranges).
    messages : list[mido.Message]
        (E,) channel messages (notes, controllers, program changes, pitch bend...) as in the file, shared
        with it and between versions: never modified (their ``time`` is the file's delta, unused here).
    tempo_map : TempoMap
    note_row : np.ndarray
        (E,) int64: the row of the document's note table that each sounding note-on plays, -1 for
        every other event (and for a note-on the table has no note for).
    velocity : np.ndarray or None
        (N,) this version's velocity of each note row; None plays the messages' own velocities.
    """

    seconds: np.ndarray
    ticks: np.ndarray
    messages: list[mido.Message]
    tempo_map: TempoMap
    note_row: np.ndarray
    velocity: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.messages)

    def message(self, index: int) -> mido.Message:
        """Event ``index`` as this version plays it (a note-on takes the version's velocity)."""
        msg, row = self.messages[index], int(self.note_row[index])
        if row < 0 or self.velocity is None:
            return msg
        velocity = min(127, max(1, int(self.velocity[row])))  # 0 would turn the note-on into a note-off
        return msg if velocity == msg.velocity else msg.copy(skip_checks=True, velocity=velocity)

    def with_velocities(self, velocity: np.ndarray) -> Schedule:
        """The same events played with ``velocity`` (N,), one per note row: another version, at no cost."""
        return replace(self, velocity=np.asarray(velocity))

    def head(self, seconds: float) -> Schedule:
        """Only the events before ``seconds`` (e.g. to measure loudness on the first minute)."""
        cut = self.index_at(seconds)
        return replace(self, seconds=self.seconds[:cut], ticks=self.ticks[:cut], messages=self.messages[:cut],
                       note_row=self.note_row[:cut])

    @property
    def duration(self) -> float:
        return float(self.seconds[-1]) if len(self.seconds) else 0.0

    def index_at(self, seconds: float) -> int:
        """First event at or after ``seconds``."""
        return int(np.searchsorted(self.seconds, seconds, side="left"))

    def state_before(self, index: int) -> list[mido.Message]:
        """Program, controller and pitch-bend state in force before event ``index`` (sent when seeking,
        so the sustain pedal and instruments are right when playback starts mid-piece)."""
        latest: dict[tuple, mido.Message] = {}
        for msg in self.messages[:index]:
            if msg.type == "program_change":
                latest[("program", msg.channel)] = msg
            elif msg.type == "control_change":
                latest[("cc", msg.channel, msg.control)] = msg
            elif msg.type == "pitchwheel":
                latest[("bend", msg.channel)] = msg
        return list(latest.values())


def build_schedule(doc: MidiDocument, parts: frozenset[tuple[int, int]] | None = None) -> Schedule:
    """Merge all tracks (as the document would save them) into one timed event list; with ``parts``,
    only the channel messages of those (track, channel) parts (a soloed piano: no bass or drums)."""
    midi, refs = doc.to_midifile_with_refs()
    row_of = dict(zip((doc.notes.track.astype(np.int64) * TRACK_SPAN + refs).tolist(), range(len(refs))))
    events: list[tuple[int, int, mido.Message]] = []
    for tr, track in enumerate(midi.tracks):
        tick = 0
        for i, msg in enumerate(track):
            tick += msg.time
            if msg.is_meta or msg.type == "sysex" or (parts is not None and (tr, msg.channel) not in parts):
                continue
            events.append((tick, tr * TRACK_SPAN + i, msg))  # not copied: copying 70,000 messages takes seconds
    # numpy sorts in a few ms what list.sort does in tens, holding the GIL (a player thread may be playing)
    if events:
        order = np.lexsort((np.array([e[1] for e in events], dtype=np.int64),
                            np.array([e[0] for e in events], dtype=np.int64)))
        events = [events[k] for k in order]
    ordered: list[tuple[int, int, mido.Message]] = []  # (tick, place in the file, message)
    sounding: Counter[tuple[int, int]] = Counter()
    for tick, group in groupby(events, key=lambda e: e[0]):
        ordered += [(tick, place, m) for place, m in _order_tick([(e[1], e[2]) for e in group], sounding)]
    ticks = np.array([t for t, _, _ in ordered], dtype=np.int64)
    messages = [m for _, _, m in ordered]
    rows = np.array([row_of.get(place, -1) if m.type == "note_on" and m.velocity > 0 else -1
                     for _, place, m in ordered], dtype=np.int64)
    return Schedule(doc.tempo_map.seconds(ticks), ticks, messages, doc.tempo_map, rows)


def _is_off(msg: mido.Message) -> bool:
    return msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)


PlacedMessage = tuple[int, mido.Message]  # (track * TRACK_SPAN + index in the track, message)


def _order_tick(msgs: list[PlacedMessage], sounding: Counter[tuple[int, int]]) -> list[PlacedMessage]:
    """Within one tick: controllers, then offs of notes already sounding (a repeated note is
    re-struck, not cut), then note-ons, then the offs of zero-length notes (so none hangs)."""
    others, early_offs, ons, late_offs = [], [], [], []
    for item in msgs:
        msg = item[1]
        if _is_off(msg):
            key = (msg.channel, msg.note)
            if sounding[key] > 0:
                sounding[key] -= 1
                early_offs.append(item)
            else:
                late_offs.append(item)
        elif msg.type == "note_on":
            ons.append(item)
        else:
            others.append(item)
    for _, msg in ons:
        sounding[(msg.channel, msg.note)] += 1
    for _, msg in late_offs:
        sounding[(msg.channel, msg.note)] = max(0, sounding[(msg.channel, msg.note)] - 1)
    return others + early_offs + ons + late_offs
