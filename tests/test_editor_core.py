"""The Qt-free editable document: versions stay aligned with the notes through every edit."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEMO

from app.core.editor import EditorDocument, Version
from app.core.humanise import scale_dynamics


def test_edits_keep_versions_aligned_and_are_reversible():
    doc = EditorDocument.open(DEMO)
    history = []
    doc.push = lambda text, before, after: (history.append((text, before)), doc.restore(after))
    n = len(doc.notes)
    doc.set_version_velocities(Version.BASELINE, np.arange(n) % 100 + 1, "Baseline")
    doc.set_version_velocities(Version.STYLISED, np.full(n, 70), "Humanise", style="jazz")
    assert doc.version is Version.STYLISED and doc.state.style == "jazz"
    doc.delete_notes(np.array([0, 5]))
    assert len(doc.notes) == n - 2 and len(doc.state.baseline) == n - 2
    assert doc.state.baseline[0] == 2 and doc.state.baseline[4] == 7  # rows 1 and 6 of before
    doc.add_note(100, 0, 480, 90, 1, 0)
    assert doc.state.baseline[-1] == 90 and doc.state.stylised[-1] == 90 and doc.selection[-1]
    doc.set_velocities(np.array([0]), np.array([127]))  # edits the displayed (stylised) version
    assert doc.state.stylised[0] == 127 and doc.notes.velocity[0] == 80
    assert [t for t, _ in history] == ["Baseline", "Humanise", "Delete notes", "Draw note", "Set velocity"]
    doc.restore(history[0][1])  # back to before the baseline
    assert doc.state.baseline is None and doc.version is Version.ORIGINAL and len(doc.notes) == n


def test_export_writes_the_chosen_version_and_tracks_what_is_unsaved(tmp_path):
    doc = EditorDocument.open(DEMO)
    doc.set_version_velocities(Version.BASELINE, np.full(len(doc.notes), 33), "Baseline")
    assert doc.unsaved == []  # a seed remakes the baseline
    doc.export(tmp_path / "b.mid", Version.BASELINE)
    again = EditorDocument.open(tmp_path / "b.mid")
    assert set(again.notes.velocity.tolist()) == {33}
    doc.set_version(Version.ORIGINAL)
    doc.set_velocities(np.array([0]), np.array([99]))
    doc.set_version_velocities(Version.STYLISED, np.full(len(doc.notes), 70), "Humanise")
    assert doc.unsaved == [Version.ORIGINAL, Version.STYLISED]
    doc.export(tmp_path / "s.mid", Version.STYLISED)
    assert doc.unsaved == [Version.ORIGINAL]  # exporting another version does not save the edited score
    doc.export(tmp_path / "o.mid", Version.ORIGINAL)
    assert not doc.modified
    doc.set_velocities(np.array([1]), np.array([100]))  # the stylised version edited after its export
    assert doc.unsaved == [Version.STYLISED]


def test_written_dynamics_shape_the_prediction_but_keep_its_level_and_spread():
    from app.core.humanise import with_written_dynamics

    rng = np.random.default_rng(0)
    predicted = 60 + 10 * rng.standard_normal(400)
    written = np.repeat([49.0, 96.0], 200)  # p, then f, as a notation program exports them
    assert np.array_equal(with_written_dynamics(predicted, np.full(400, 80.0), 1.0), predicted)  # nothing written
    assert np.array_equal(with_written_dynamics(predicted, written, 0.0), predicted)
    out = with_written_dynamics(predicted, written, 1.0)
    assert abs(out.mean() - predicted.mean()) < 1e-9 and abs(out.std() - predicted.std()) < 1e-9
    assert out[200:].mean() - out[:200].mean() > 10  # the forte half is louder
    assert np.corrcoef(out, predicted)[0, 1] > 0.6  # and the prediction's own shape is still there
    accents = np.full(400, 80.0)
    accents[::50] = 100  # a few accents in a flat part lift those notes without swamping the rest
    lifted = with_written_dynamics(predicted, accents, 0.5)
    assert (lifted[::50] > predicted[::50]).all() and np.corrcoef(lifted, predicted)[0, 1] > 0.8


def test_scale_dynamics_about_the_mean_with_an_offset():
    v = np.array([40, 60, 80])
    assert scale_dynamics(v, 1.0, 0).tolist() == [40, 60, 80]
    assert scale_dynamics(v, 1.5, 0).tolist() == [30, 60, 90]
    assert scale_dynamics(v, 0.5, 10).tolist() == [60, 70, 80]
    assert scale_dynamics(v, 0.0, 0).tolist() == [60, 60, 60]
    assert scale_dynamics(np.array([10, 120]), 3.0, 0).tolist() == [1, 127]  # clipped to MIDI's range
    with pytest.raises(ValueError, match="0 or more"):
        scale_dynamics(v, -1.0, 0)


def test_scale_velocities_changes_only_the_rows_of_the_shown_version_in_one_step():
    doc = EditorDocument.open(DEMO)
    history = []
    doc.push = lambda text, before, after: (history.append((text, before)), doc.restore(after))
    n = len(doc.notes)
    ramp = np.arange(n) % 60 + 40
    doc.set_version_velocities(Version.STYLISED, ramp, "Humanise")
    rows = np.arange(10, 20)
    doc.scale_velocities(rows, 2.0, -5)
    after = doc.state.stylised.astype(int)
    mean = ramp[rows].mean()
    assert after[rows].tolist() == np.rint(mean + 2 * (ramp[rows] - mean) - 5).astype(int).tolist()
    assert np.array_equal(np.delete(after, rows), np.delete(ramp, rows))
    assert (doc.notes.velocity == 80).all()  # the Original is untouched
    assert [t for t, _ in history] == ["Humanise", "Scale velocities"]


def test_a_crescendo_ramps_the_level_over_the_notes_and_keeps_their_differences():
    from app.core.humanise import ramp

    assert ramp(np.array([0, 480, 960, 960, 1920]), 0, 20).tolist() == [0, 5, 10, 10, 20]  # chords alike
    assert ramp(np.array([240, 240]), 3, 9).tolist() == [3, 3]  # no time between: the start's level
    doc = EditorDocument.open(DEMO)
    history = []
    doc.push = lambda text, before, after: (history.append(text), doc.restore(after))
    bar = np.flatnonzero(doc.notes.start < 1920)  # the first bar, 80 everywhere
    accents = np.where(np.arange(len(bar)) % 4 == 0, 90, 70)
    doc.set_velocities(bar, accents)
    doc.scale_velocities(bar, 1.0, -10, 20)
    after = doc.notes.velocity[bar].astype(int)
    position = (doc.notes.start[bar] - doc.notes.start[bar].min()) / np.ptp(doc.notes.start[bar])
    assert after.tolist() == np.rint(accents - 10 + 30 * position).astype(int).tolist()
    assert history[-1] == "Crescendo -10 → +20"
    doc.scale_velocities(bar, 1.0, 5, -5)
    assert history[-1] == "Diminuendo +5 → -5"
    doc.scale_velocities(bar, 1.0, 5, 5)
    assert history[-1] == "Scale velocities"


def test_fit_to_range_keeps_the_shape_within_the_new_bounds():
    from app.core.humanise import fit_to_range

    assert fit_to_range(np.array([40, 60, 100]), 30, 90).tolist() == [30, 50, 90]
    assert fit_to_range(np.array([70, 70]), 20, 40).tolist() == [30, 30]  # no spread: the middle
    with pytest.raises(ValueError, match=r"within 1\.\.127"):
        fit_to_range(np.array([1]), 90, 30)
    doc = EditorDocument.open(DEMO)
    history = []
    doc.push = lambda text, before, after: (history.append(text), doc.restore(after))
    doc.set_velocities(np.arange(3), np.array([10, 64, 127]))
    doc.fit_velocities(np.arange(3), 40, 100)
    assert doc.notes.velocity[:3].tolist() == [40, 68, 100] and history[-1] == "Fit to 40–100"  # 40 + 54 · 60/117


def test_copy_and_paste_carry_every_versions_velocities_and_the_timing_in_one_step(tmp_path):
    doc = EditorDocument.open(DEMO)
    history = []
    doc.push = lambda text, before, after: (history.append((text, before)), doc.restore(after))
    n = len(doc.notes)
    stylised = np.arange(n) % 90 + 20
    doc.set_version_velocities(Version.STYLISED, stylised, "Humanise", style="classical")
    rows = np.array([3, 4, 9])
    clip = doc.copy_notes(rows)
    assert len(history) == 1 and doc.copy_notes(np.array([], dtype=int)) is None  # copying changes nothing
    at = 480 * 100
    doc.paste_notes(clip, at)
    assert [t for t, _ in history] == ["Humanise", "Paste notes"] and len(doc.notes) == n + 3
    new = np.arange(n, n + 3)
    first = doc.notes.start[rows].min()
    assert np.array_equal(doc.notes.start[new], doc.notes.start[rows] - first + at)
    assert np.array_equal(doc.notes.end[new] - doc.notes.start[new], doc.notes.end[rows] - doc.notes.start[rows])
    assert np.array_equal(doc.notes.pitch[new], doc.notes.pitch[rows])
    assert np.array_equal(doc.state.stylised[new], stylised[rows])  # a humanised passage stays humanised
    assert np.array_equal(doc.notes.velocity[new], doc.notes.velocity[rows])
    assert np.array_equal(np.flatnonzero(doc.selection), new)
    doc.set_version_velocities(Version.BASELINE, np.full(n + 3, 50), "Baseline")
    doc.paste_notes(clip, 0)  # the clip had no baseline: its notes get their Original velocities there
    assert np.array_equal(doc.state.baseline[-3:], doc.notes.velocity[rows])
    doc.export(tmp_path / "p.mid", Version.STYLISED)
    again = EditorDocument.open(tmp_path / "p.mid")
    assert len(again.notes) == n + 6
    pasted = (again.notes.start >= at) & (again.notes.start < at + clip.length)
    assert sorted(again.notes.velocity[pasted].tolist()) == sorted(stylised[rows].tolist())
    doc.restore(history[1][1])  # undo the first paste
    assert len(doc.notes) == n and len(doc.state.stylised) == n



def test_notes_pasted_from_another_file_go_to_its_piano_part_at_its_ticks_per_beat(tmp_path):
    import mido
    from midi_factory import midi_bytes, note, track

    from app.core.midi_document import MidiDocument

    source = EditorDocument.open(DEMO)  # 480 ticks per beat
    n = len(source.notes)
    source.set_version_velocities(Version.STYLISED, np.arange(n) % 90 + 20, "Humanise", style="jazz")
    rows = np.array([0, 1, 2])
    clip = source.copy_notes(rows)
    strings = [(0, mido.Message("program_change", program=48)), *note(40, 0, 96, 70)]
    piano = [(0, mido.Message("program_change", program=0, channel=2)), *note(60, 0, 48, 64, channel=2)]
    target = EditorDocument(MidiDocument.from_bytes(midi_bytes([track(strings), track(piano)], ticks_per_beat=96)))
    target.push = lambda text, before, after: target.restore(after)
    target.set_version_velocities(Version.STYLISED, np.array([50, 51]), "Humanise", style="jazz")
    target.paste_notes(clip, 96 * 4)
    new = target.notes.take(np.arange(2, 5))
    assert set(zip(new.track.tolist(), new.channel.tolist())) == {(1, 2)}  # the piano part, not track 0's strings
    first = source.notes.start[rows].min()
    assert np.array_equal(new.start, (source.notes.start[rows] - first) // 5 + 96 * 4)  # 480 -> 96 ticks a beat
    assert np.array_equal(new.end - new.start, (source.notes.end[rows] - source.notes.start[rows]) // 5)
    assert np.array_equal(target.state.stylised[2:], source.state.stylised[rows])
    target.export(tmp_path / "t.mid", Version.STYLISED)
    again = MidiDocument.load(tmp_path / "t.mid")
    assert sorted(again.notes.velocity[again.notes.channel == 2].tolist()) == sorted(
        [51, *source.state.stylised[rows].tolist()])
    target.set_piano_parts(set())
    with pytest.raises(ValueError, match="Tracks panel"):
        target.paste_notes(clip, 0)


def test_two_notes_of_one_key_struck_together_keep_their_lengths_and_velocities_in_the_file(tmp_path):
    """Readers pair a key's note-offs with its note-ons first in, first out: the shorter must be written first."""
    from app.core.midi_document import MidiDocument

    doc = EditorDocument.open(DEMO)
    start = int(doc.notes.start[0])
    doc.add_note(48, start, start + 480, 101, 0, 0)  # the longer one first in the table
    doc.add_note(48, start, start + 120, 33, 0, 0)
    doc.export(tmp_path / "out.mid", Version.ORIGINAL)
    back = MidiDocument.load(tmp_path / "out.mid").notes
    pair = sorted((int(e - s), int(v)) for s, e, v, p in zip(back.start, back.end, back.velocity, back.pitch)
                  if s == start and p == 48 and v in (101, 33))
    assert pair == [(120, 33), (480, 101)]


def test_a_place_is_named_by_note_bar_beat_and_length():
    doc = EditorDocument.open(DEMO)  # 4/4
    tpb = doc.midi.ticks_per_beat
    assert doc.describe_place(60, 0, tpb) == "C4 · bar 1, beat 1 · 1 beat"
    assert doc.describe_place(61, 5 * tpb + tpb // 2, 7 * tpb) == "C#4 · bar 2, beat 2.5 · 1.5 beats"


def test_the_playhead_position_is_named_by_bar_beat_and_time_against_the_length(tmp_path):
    import mido
    from midi_factory import midi_bytes, note, track

    from app.core.editor import clock

    meta = [(0, mido.MetaMessage("time_signature", numerator=3, denominator=4)),
            (0, mido.MetaMessage("set_tempo", tempo=500_000)),  # 120 bpm for the first bar,
            (3 * 480, mido.MetaMessage("set_tempo", tempo=1_000_000))]  # then 60 bpm
    path = tmp_path / "waltz.mid"
    path.write_bytes(midi_bytes([track(meta), track(note(60, 0, 480) + note(64, 5 * 480, 6 * 480))]))
    doc = EditorDocument.open(path)
    assert doc.end_tick == 6 * 480
    assert doc.describe_position(0) == "1.1 · 0:00.0 / 0:04.5"
    assert doc.describe_position(4 * 480 + 479) == "2.2 · 0:03.4 / 0:04.5"  # 1.5 s + 1.998 s
    doc.move_notes(np.array([1]), 480, 0)  # a note moved past the file's end lengthens the song
    assert doc.end_tick == 7 * 480 and doc.describe_position(0).endswith("/ 0:05.5")
    assert [clock(s) for s in (0.04, 59.96, 61.25, 3725.0)] == ["0:00.0", "0:59.9", "1:01.2", "1:02:05.0"]


def test_select_neighbour_steps_through_the_piano_notes_in_playing_order():
    doc = EditorDocument.open(DEMO)
    n = doc.notes
    order = np.lexsort((n.pitch, n.start))
    assert doc.select_neighbour(1) == order[0]  # nothing selected: the first note
    assert doc.select_neighbour(1) == order[1] and doc.selection.sum() == 1
    assert doc.select_neighbour(-1) == order[0]
    assert doc.select_neighbour(-1) is None and doc.selection[order[0]]  # nothing before: selection kept
    later = int(np.searchsorted(n.start[order], 960))
    doc.set_selection(np.zeros(len(n), bool))
    assert doc.select_neighbour(1, from_tick=960) == order[later]  # from where the view starts
    assert doc.select_neighbour(-1) == order[later - 1]
    doc.set_selection(np.isin(np.arange(len(n)), order[[3, 5]]))
    assert doc.select_neighbour(1) == order[6] and doc.select_neighbour(-1) == order[5]
