"""Turn a MIDI document into timed channel events, from any position (Qt-free).

The three versions of a piece differ only in note-on velocities, so their
schedules have the same events at the same times: a player can swap schedules
at the current index without re-triggering or losing notes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import groupby

import mido
import numpy as np

from app.core.midi_document import MidiDocument
from app.core.timing import TempoMap


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
        (E,) channel messages (notes, controllers, program changes, pitch bend...).
    tempo_map : TempoMap
    """

    seconds: np.ndarray
    ticks: np.ndarray
    messages: list[mido.Message]
    tempo_map: TempoMap

    def __len__(self) -> int:
        return len(self.messages)

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
    midi = doc.to_midifile()
    events: list[tuple[int, int, mido.Message]] = []
    for tr, track in enumerate(midi.tracks):
        tick = 0
        for i, msg in enumerate(track):
            tick += msg.time
            if msg.is_meta or msg.type == "sysex" or (parts is not None and (tr, msg.channel) not in parts):
                continue
            events.append((tick, tr * 1_000_000 + i, msg.copy(time=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    ordered: list[tuple[int, mido.Message]] = []
    sounding: Counter[tuple[int, int]] = Counter()
    for tick, group in groupby(events, key=lambda e: e[0]):
        ordered += [(tick, m) for m in _order_tick([e[2] for e in group], sounding)]
    ticks = np.array([t for t, _ in ordered], dtype=np.int64)
    return Schedule(doc.tempo_map.seconds(ticks), ticks, [m for _, m in ordered], doc.tempo_map)


def _is_off(msg: mido.Message) -> bool:
    return msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)


def _order_tick(msgs: list[mido.Message], sounding: Counter[tuple[int, int]]) -> list[mido.Message]:
    """Within one tick: controllers, then offs of notes already sounding (a repeated note is
    re-struck, not cut), then note-ons, then the offs of zero-length notes (so none hangs)."""
    others, early_offs, ons, late_offs = [], [], [], []
    for msg in msgs:
        if _is_off(msg):
            key = (msg.channel, msg.note)
            if sounding[key] > 0:
                sounding[key] -= 1
                early_offs.append(msg)
            else:
                late_offs.append(msg)
        elif msg.type == "note_on":
            ons.append(msg)
        else:
            others.append(msg)
    for msg in ons:
        sounding[(msg.channel, msg.note)] += 1
    for msg in late_offs:
        sounding[(msg.channel, msg.note)] = max(0, sounding[(msg.channel, msg.note)] - 1)
    return others + early_offs + ons + late_offs
