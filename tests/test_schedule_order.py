"""The vectorised parts of schedule building and track rebuilding agree with the plain loops they replace."""

from __future__ import annotations

from collections import Counter

import mido
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.midi_document import MidiDocument, _checked_message
from app.playback.schedule import _early_offs, build_schedule

# (tick, code, key): code 0 another channel message, 1 a note-off, 2 a sounding note-on; few ticks and keys,
# so that repeated notes, orphan offs and zero-length notes are common
events_strategy = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 2), st.integers(0, 2)), max_size=60)


def early_offs_by_loop(events: list[tuple[int, int, int]]) -> list[bool]:
    """The rule as the player understands it, one tick at a time, events in file order."""
    sounding: Counter[int] = Counter()
    early = [False] * len(events)
    by_tick = sorted(range(len(events)), key=lambda k: (events[k][0], k))
    for tick in sorted({t for t, _, _ in events}):
        here = [k for k in by_tick if events[k][0] == tick]
        late = []
        for k in here:
            if events[k][1] == 1:
                key = events[k][2]
                if sounding[key] > 0:
                    sounding[key] -= 1
                    early[k] = True
                else:
                    late.append(key)
        for k in here:
            if events[k][1] == 2:
                sounding[events[k][2]] += 1
        for key in late:
            sounding[key] = max(0, sounding[key] - 1)
    return early


@settings(max_examples=300, deadline=None)
@given(events_strategy)
def test_early_offs_match_the_tick_by_tick_loop(events):
    ticks = np.array([t for t, _, _ in events], dtype=np.int64)
    kinds = np.array([(0, -1, 1)[c] for _, c, _ in events], dtype=np.int64)  # as Schedule.note_kind
    keys = np.where(kinds != 0, np.array([k for _, _, k in events], dtype=np.int64), -1)
    places = np.arange(len(events), dtype=np.int64)
    got = _early_offs(ticks, places, kinds, keys)
    assert got.tolist() == early_offs_by_loop([(t, c, k if c else -1) for t, c, k in events])


@settings(max_examples=200, deadline=None)
@given(events_strategy)
def test_what_sounds_at_each_event_matches_playing_the_schedule_up_to_it(events):
    """``sounding_before`` (what a hand-over keeps) agrees with counting notes as the player sends them."""
    messages = []
    for _, code, key in events:
        channel, note = key % 2, 60 + key
        messages.append(mido.Message("control_change", control=1, channel=channel) if code == 0 else
                        mido.Message("note_on" if code == 2 else "note_off", note=note, velocity=64 * (code == 2),
                                     channel=channel))
    timed = sorted(zip((t for t, _, _ in events), range(len(events)), messages))
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack(m.copy(time=t - (timed[i - 1][0] if i else 0))
                                      for i, (t, _, m) in enumerate(timed)))
    schedule = build_schedule(MidiDocument(midi))
    sounding: Counter[tuple[int, int]] = Counter()
    for index, msg in enumerate([*schedule.messages, None]):
        assert schedule.sounding_before(index) == {key for key, n in sounding.items() if n > 0}
        if msg is not None and msg.type in ("note_on", "note_off"):
            on = msg.type == "note_on" and msg.velocity > 0
            sounding[(msg.channel, msg.note)] = max(0, sounding[(msg.channel, msg.note)] + (1 if on else -1))


def test_a_repeated_note_is_restruck_and_a_zero_length_note_closes():
    track = mido.MidiTrack([
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("control_change", control=64, value=127, time=10),
        mido.Message("note_on", note=60, velocity=70, time=0),  # struck again before its off, on the same tick
        mido.Message("note_off", note=60, time=0),
        mido.Message("note_on", note=62, velocity=60, time=10),
        mido.Message("note_off", note=62, time=0),  # zero length, written off first
        mido.Message("note_off", note=60, time=10),
        mido.MetaMessage("end_of_track", time=0),
    ])
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    doc = MidiDocument(midi)
    s = build_schedule(doc)
    assert [(int(t), m.type, getattr(m, "note", None)) for t, m in zip(s.ticks, s.messages)] == [
        (0, "note_on", 60), (10, "control_change", None), (10, "note_off", 60), (10, "note_on", 60),
        (20, "note_on", 62), (20, "note_off", 62), (30, "note_off", 60)]


@given(st.sampled_from(["note_on", "note_off"]), st.integers(0, 15), st.integers(0, 127), st.integers(0, 127),
       st.integers(0, 10_000))
def test_checked_messages_are_the_messages_mido_makes(kind, channel, note, velocity, time):
    made = _checked_message(kind, channel, note, velocity, time)
    assert made == mido.Message(kind, channel=channel, note=note, velocity=velocity, time=time)
    assert made.bytes() == mido.Message(kind, channel=channel, note=note, velocity=velocity).bytes()
    assert made.copy(velocity=1).velocity == 1 and repr(made).startswith(f"Message('{kind}'")
