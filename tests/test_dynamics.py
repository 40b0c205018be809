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
