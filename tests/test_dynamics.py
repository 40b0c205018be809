"""The phrase-level dynamics curve drawn in the velocity lane."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.dynamics import dynamics_curve


def test_a_step_in_loudness_becomes_a_ramp_centred_on_it_and_rests_have_no_curve():
    onsets = np.r_[np.arange(0, 10, 0.25), np.arange(20, 30, 0.25)]
    velocity = np.r_[np.full(20, 40), np.full(20, 100), np.full(40, 70)]  # 40 for 5 s, 100 for 5 s; a rest; 70
    curve = dynamics_curve(onsets, velocity, np.array([1.0, 5.0, 9.0, 15.0, 25.0]), sigma=1.0)
    assert abs(curve[0] - 40) < 0.5 and abs(curve[1] - 70) < 3 and abs(curve[2] - 100) < 0.5
    assert np.isnan(curve[3]) and curve[4] == 70  # nothing within 3 s of the middle of the rest


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 30), st.integers(1, 127)), min_size=1, max_size=80),
       st.lists(st.floats(-5, 35), min_size=1, max_size=30))
def test_the_curve_is_the_gaussian_weighted_mean_of_the_notes_within_three_sigma(notes, at):
    onsets = np.sort(np.array([t for t, _ in notes]))
    velocity = np.array([v for _, v in notes], dtype=float)
    at = np.array(at)
    sigma = 1.0
    distance = onsets[None, :] - at[:, None]
    within = (onsets[None, :] >= at[:, None] - 3 * sigma) & (onsets[None, :] <= at[:, None] + 3 * sigma)
    weight = np.exp(-0.5 * (distance / sigma) ** 2) * within
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(weight.sum(1) > 0, (weight * velocity).sum(1) / weight.sum(1), np.nan)
    np.testing.assert_allclose(dynamics_curve(onsets, velocity, at, sigma), expected, rtol=1e-9, atol=1e-9)


def test_the_top_voice_is_what_sounds_highest_when_struck():
    from app.core.dynamics import top_voice

    #           C5 held over the bar | C4 E4 G4 chord at 960 | lone C3 at 1920 | rolled chord 2400/2410
    start = np.array([0, 240, 480, 960, 960, 960, 1920, 2400, 2410])
    end = np.array([960, 480, 720, 1440, 1440, 1440, 2160, 2880, 2880])
    pitch = np.array([72, 60, 64, 60, 64, 67, 48, 55, 62])
    assert top_voice(start, end, pitch).tolist() == [True, False, False, False, False, True, True, True, True]
    assert top_voice(start, end, pitch, together=30).tolist()[-2:] == [False, True]  # played together: one top
    assert top_voice(np.array([], int), np.array([], int), np.array([], int)).tolist() == []


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(1, 6), st.integers(40, 50)), min_size=1, max_size=40),
       st.integers(0, 3))
def test_top_voice_matches_its_definition_note_by_note(notes, together):
    from app.core.dynamics import top_voice

    start = np.array([s for s, _, _ in notes])
    end = start + np.array([length for _, length, _ in notes])
    pitch = np.array([p for _, _, p in notes])
    got = top_voice(start, end, pitch, together)
    order = np.argsort(start, kind="stable")
    group_first = {}  # each note's group: notes less than ``together`` after the group's first onset
    first = None
    for i in order:
        if first is None or start[i] >= first + max(together, 1):
            first = start[i]
        group_first[i] = first
    for i in range(len(notes)):
        g = group_first[i]
        rivals = [j for j in range(len(notes)) if group_first[j] == g or (start[j] < g and end[j] > g)]
        assert got[i] == (pitch[i] >= max(pitch[j] for j in rivals))
