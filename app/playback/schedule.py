"""Turn a MIDI document into timed channel events, from any position (Qt-free).

The three versions of a piece differ only in note-on velocities, so their
schedules share one list of events and differ only in a velocity per note,
applied as each note-on is sent: building the versions costs one pass over the
file, and a player can swap schedules at the current index without
re-triggering or losing notes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    note_key : np.ndarray
        (E,) int64: channel * 128 + note of note events, -1 for other events.
    note_kind : np.ndarray
        (E,) int64: +1 a sounding note-on, -1 a note-off (or a note-on at velocity 0), 0 other events.
    note_count : np.ndarray
        (E,) int64: after each note event, how many notes of its key sound (an off with nothing to end ends
        nothing, so never below 0); 0 for other events.
    velocity : np.ndarray or None
        (N,) this version's velocity of each note row; None plays the messages' own velocities.
    """

    seconds: np.ndarray
    ticks: np.ndarray
    messages: list[mido.Message]
    tempo_map: TempoMap
    note_row: np.ndarray
    note_key: np.ndarray
    note_kind: np.ndarray
    note_count: np.ndarray
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
                       note_row=self.note_row[:cut], note_key=self.note_key[:cut], note_kind=self.note_kind[:cut],
                       note_count=self.note_count[:cut])

    @property
    def duration(self) -> float:
        return float(self.seconds[-1]) if len(self.seconds) else 0.0

    def index_at(self, seconds: float) -> int:
        """First event at or after ``seconds``."""
        return int(np.searchsorted(self.seconds, seconds, side="left"))

    def sounding_before(self, index: int) -> set[tuple[int, int]]:
        """(channel, note) of the keys that sound when playback reaches event ``index``: those whose last note
        event before it left a note sounding."""
        notes = np.flatnonzero(self.note_kind[:index] != 0)
        _, last_reversed = np.unique(self.note_key[notes][::-1], return_index=True)
        last = notes[len(notes) - 1 - last_reversed]
        return {(int(key) >> 7, int(key) & 127) for key in self.note_key[last][self.note_count[last] > 0]}

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
    only the channel messages of those (track, channel) parts (a soloed piano: no bass or drums).

    Within one tick: controllers and other channel messages, then the offs of notes already sounding
    (a repeated note is re-struck, not cut), then note-ons, then the offs of zero-length notes (so none
    hangs); each group in file order. Everything after one pass over the messages is numpy: a note edit
    rebuilds this on a worker thread while a player thread plays, and both need the GIL."""
    midi, refs = doc.to_midifile_with_refs()
    ticks, places, kinds, keys, messages = _channel_events(midi, parts)
    early = _early_offs(ticks, places, kinds, keys)
    within_tick = np.select([kinds == 1, early, kinds == -1], [2, 1, 3], default=0)  # the order above
    order = np.lexsort((places, within_tick, ticks))
    ticks, places, kinds, keys = ticks[order], places[order], kinds[order], keys[order]
    return Schedule(doc.tempo_map.seconds(ticks), ticks, [messages[k] for k in order.tolist()], doc.tempo_map,
                    _note_rows(doc.notes.track.astype(np.int64) * TRACK_SPAN + refs, places, kinds), keys,
                    kinds, _note_counts(kinds, keys))


def _channel_events(midi: mido.MidiFile, parts: frozenset[tuple[int, int]] | None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[mido.Message]]:
    """Every channel message of ``parts`` (all if None), in file order: (E,) ticks, (E,) places in the file,
    (E,) kinds and keys (as :class:`Schedule`'s ``note_kind`` and ``note_key``) and the (E,) messages."""
    ticks, places, kinds, keys = [], [], [], []
    messages: list[mido.Message] = []  # not copied: copying 70,000 messages takes seconds
    for tr, track in enumerate(midi.tracks):
        tick = 0
        for i, msg in enumerate(track):
            tick += msg.time
            if msg.is_meta or msg.type == "sysex" or (parts is not None and (tr, msg.channel) not in parts):
                continue
            kind = msg.type
            if kind == "note_on" or kind == "note_off":
                kinds.append(1 if kind == "note_on" and msg.velocity > 0 else -1)
                keys.append(msg.channel * 128 + msg.note)
            else:
                kinds.append(0)
                keys.append(-1)
            ticks.append(tick)
            places.append(tr * TRACK_SPAN + i)
            messages.append(msg)
    arrays = [np.array(values, dtype=np.int64) for values in (ticks, places, kinds, keys)]
    return arrays[0], arrays[1], arrays[2], arrays[3], messages


def _note_rows(note_places: np.ndarray, places: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """(E,) the note row whose note-on is at each event's place, -1 for other events."""
    rows = np.full(len(places), -1, dtype=np.int64)
    if not len(note_places):
        return rows
    by_place = np.argsort(note_places)
    found = np.minimum(np.searchsorted(note_places[by_place], places), len(note_places) - 1)
    hit = (kinds == 1) & (note_places[by_place][found] == places)
    rows[hit] = by_place[found[hit]]
    return rows


def _clamped_running_sum(steps: np.ndarray, first: np.ndarray) -> np.ndarray:
    """s_k = max(0, s_{k-1} + steps_k), starting again from 0 at each ``first``: Lindley's recursion, computed
    at once as s_k = S_k - min(0, min_{h<=k} S_h), S the plain running sum within each segment."""
    segment = np.cumsum(first) - 1
    total = np.cumsum(steps)
    running = total - (total - steps)[first][segment]
    big = 2 * int(np.abs(steps).sum()) + 2  # later segments sit lower: a running minimum never carries over
    low = np.minimum.accumulate(running - segment * big) + segment * big
    return running - np.minimum(low, 0)


def _note_counts(kinds: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(E,) :class:`Schedule`'s ``note_count``, for events in playing order."""
    counts = np.zeros(len(kinds), dtype=np.int64)
    notes = np.flatnonzero(kinds != 0)
    if len(notes):
        idx = notes[np.argsort(keys[notes], kind="stable")]  # by key, then playing order
        counts[idx] = _clamped_running_sum(kinds[idx], np.r_[True, keys[idx][1:] != keys[idx][:-1]])
    return counts


def _early_offs(ticks: np.ndarray, places: np.ndarray, kinds: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(E,) bool: the note-offs that end a note already sounding before their tick.

    Per key and tick, with s notes sounding before it, j offs and o ons at it: the first min(j, s) offs
    (in file order) are early, and s + o - j notes sound after it, never fewer than 0 (an off with nothing
    to end ends nothing): :func:`_clamped_running_sum` of o - j over each key's ticks."""
    early = np.zeros(len(kinds), dtype=bool)
    notes = np.flatnonzero(kinds != 0)
    if not len(notes):
        return early
    idx = notes[np.lexsort((places[notes], ticks[notes], keys[notes]))]  # by key, tick, file order
    key, tick, is_off = keys[idx], ticks[idx], kinds[idx] == -1
    starts = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (tick[1:] != tick[:-1])])  # (key, tick) groups
    offs = np.add.reduceat(is_off.astype(np.int64), starts)
    group_key = key[starts]
    first = np.r_[True, group_key[1:] != group_key[:-1]]
    after = _clamped_running_sum(np.add.reduceat(1 - 2 * is_off.astype(np.int64), starts), first)
    before = np.where(first, 0, np.r_[0, after[:-1]])
    group_of = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(idx)]))
    off_count = np.cumsum(is_off)
    off_rank = off_count - 1 - np.r_[0, off_count][starts][group_of]  # rank of an off among its group's offs
    early[idx] = is_off & (off_rank < np.minimum(offs, before)[group_of])
    return early
