"""StyleNet encoding: shapes, the documented rules, and encode->decode properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core import encoding as E
from app.core.notes import NoteTable


def table(pitch, start, end, velocity) -> NoteTable:
    n = len(pitch)
    return NoteTable(pitch, start, end, velocity, np.zeros(n), np.zeros(n), np.arange(n))


notes_strategy = st.integers(1, 60).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 127), min_size=n, max_size=n),  # any MIDI pitch, some outside 21..108
    st.lists(st.integers(0, 4000), min_size=n, max_size=n),  # start tick
    st.lists(st.integers(0, 2000), min_size=n, max_size=n),  # length (0 allowed)
    st.lists(st.integers(1, 127), min_size=n, max_size=n),
    st.sampled_from([1, 3, 96, 120, 480, 960]),  # ticks per beat
))


@settings(max_examples=200, deadline=None)
@given(notes_strategy)
def test_encode_decode_with_true_velocities(case):
    pitch, start, length, velocity, tpb = case
    notes = table(pitch, start, np.add(start, length), velocity)
    enc = E.encode(notes, tpb)
    y, onsets = E.target(enc, notes.velocity[enc.note_index])
    out = E.decode(enc, y, notes.velocity)
    assert enc.inputs.shape == (enc.steps, 176) and y.shape == (enc.steps, 88)
    assert out.shape == notes.velocity.shape and out.min() >= 1 and out.max() <= 127
    # Out-of-range notes keep their velocity; each in-range note gets its own back, unless it
    # shares its onset cell with a louder note of the same pitch (documented rule: the louder wins).
    inr = notes.in_piano_range
    assert np.array_equal(out[~inr], notes.velocity[~inr])
    cell = {}
    for k, s, key in zip(enc.note_index, enc.onset_step, enc.key):
        cell[(s, key)] = max(cell.get((s, key), 0), int(notes.velocity[k]))
    expected = [cell[(s, key)] for s, key in zip(enc.onset_step, enc.key)]
    assert out[enc.note_index].tolist() == expected
    assert onsets.sum() == len(cell)


@settings(max_examples=200, deadline=None)
@given(notes_strategy, st.integers(0, 2**31 - 1))
def test_decode_never_leaves_1_to_127_and_keeps_notes(case, seed):
    pitch, start, length, velocity, tpb = case
    notes = table(pitch, start, np.add(start, length), velocity)
    enc = E.encode(notes, tpb)
    wild = np.random.default_rng(seed).normal(0.5, 2.0, size=(enc.steps, 88))  # far outside 0..1
    wild[0, 0] = np.nan
    out = E.decode(enc, wild, notes.velocity)
    assert out.min() >= 1 and out.max() <= 127
    renotes = notes.with_velocities(out)
    for col in ("pitch", "start", "end", "channel", "track"):
        assert np.array_equal(getattr(renotes, col), getattr(notes, col))


def test_layout_onset_and_held_bits_on_the_beat_grid():
    # tpb 480: a quarter note at beat 1 (4 steps) and a 16th at beat 0, plus a chord.
    notes = table([60, 64, 67, 21], [480, 0, 0, 120], [960, 120, 120, 240], [50, 60, 70, 80])
    enc = E.encode(notes, 480)
    x = enc.inputs
    k60 = 60 - 21
    assert x[4, k60] == 1 and x[4, 88 + k60] == 1  # onset: [1, 1]
    assert x[5:8, k60].sum() == 0 and x[5:8, 88 + k60].sum() == 3  # held: [0, 1]
    assert enc.steps == 8  # the piece ends with its last note's end
    assert x[0, 64 - 21] == 1 and x[0, 67 - 21] == 1  # a chord is just two keys in one step
    assert x[1, 0] == 1  # A0 at step 1


def test_sustain_target_is_the_papers():
    notes = table([60], [0], [480], [127])
    enc = E.encode(notes, 480)
    y_onset, _ = E.target(enc, [127])
    y_all, _ = E.target(enc, [127], sustain=True)
    assert y_onset[:, 39].tolist() == [1, 0, 0, 0] and y_all[:, 39].tolist() == [1, 1, 1, 1]


def test_time_signature_does_not_matter_only_ticks_per_beat():
    # A 7/8 bar is just more 16ths: step = round(tick / (tpb / 4)).
    enc = E.encode(table([60, 62], [0, 7 * 240 + 115], [120, 2000], [80, 80]), 480)
    assert enc.onset_step.tolist() == [0, 15]


def test_absurdly_long_piece_is_refused_not_allocated():
    with pytest.raises(E.EncodingError, match="at most"):
        E.encode(table([60], [10**9], [10**9 + 1], [80]), 480)
