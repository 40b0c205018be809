"""The MIDI document: real files round-trip untouched; bad files give one clear MidiError."""

from __future__ import annotations

import io
import os
import stat

import mido
import numpy as np
import pytest
from conftest import REAL_FILES
from midi_factory import absolute, midi_bytes, note, raw_midi, riff_midi, track

from app import DEMO_SONG
from app.core.humanise import baseline_velocities, humanise_mask, stylised_velocities
from app.core.midi_document import MidiDocument, MidiError


def reparse(data: bytes) -> mido.MidiFile:
    return mido.MidiFile(file=io.BytesIO(data))


@pytest.mark.parametrize("rel", REAL_FILES)
def test_round_trip_without_edit_keeps_every_event(shared_data, rel):
    original = mido.MidiFile(shared_data / rel)
    doc = MidiDocument.load(shared_data / rel)
    saved = reparse(doc.to_bytes())
    assert saved.type == original.type and saved.ticks_per_beat == original.ticks_per_beat
    assert [absolute(t) for t in saved.tracks] == [absolute(t) for t in original.tracks]


@pytest.fixture(scope="module")
def bundled_predictor():
    from models.inference import StyleNetPredictor

    return StyleNetPredictor.from_checkpoint(None, "cpu")


@pytest.mark.parametrize("how", ["baseline", "bundled model"])
@pytest.mark.parametrize("rel", REAL_FILES)
def test_humanise_changes_only_piano_note_on_velocities(shared_data, rel, how, request):
    doc = MidiDocument.load(shared_data / rel)
    mask = humanise_mask(doc.notes, doc.piano_mask)
    if how == "baseline":
        velocity = baseline_velocities(doc.notes, mask, seed=1)
    else:  # what `main.py humanise` does; bench/bench_corpus.py checks every file of the data this way
        style = "jazz" if rel.startswith("jazz") else "classical"
        velocity = stylised_velocities(doc.notes, doc.ticks_per_beat, mask,
                                       request.getfixturevalue("bundled_predictor"), style)
    doc.notes = doc.notes.with_velocities(velocity)
    before = mido.MidiFile(shared_data / rel)
    after = reparse(doc.to_bytes())
    piano = doc.piano_parts
    changed = 0
    for tr, (a, b) in enumerate(zip(before.tracks, after.tracks, strict=True)):
        assert len(a) == len(b)
        for m1, m2 in zip(a, b):
            if m1 == m2:
                continue
            assert m1.type == "note_on" and m1.velocity > 0 and (tr, m1.channel) in piano
            assert m1.copy(velocity=m2.velocity) == m2 and m2.velocity >= 1  # only the velocity, never 0 (an off)
            changed += 1
    assert changed > 0.8 * mask.sum()  # a few random draws equal the old velocity


def test_jazz_file_with_bass_and_drums_picks_piano_only(shared_data):
    doc = MidiDocument.load(shared_data / "jazz/mckenzie/AfterYou.mid")
    parts = {p.key: p for p in doc.parts}
    assert doc.piano_parts == {(2, 7), (2, 8)}
    assert all(not parts[k].is_drums for k in doc.piano_parts)
    assert any(p.is_drums for p in doc.parts) and any(p.program == 35 for p in doc.parts)  # drums, bass


def test_parts_are_labelled_with_their_general_midi_instrument(shared_data):
    doc = MidiDocument.load(shared_data / "jazz/mckenzie/AfterYou.mid")
    labels = [p.label().replace("\u00a0", " ") for p in doc.parts]  # no-break spaces keep "ch 8" together
    assert labels[0].startswith("Track 3 · ch 8 · Acoustic Grand Piano · Track 2 (")
    assert labels[2].startswith("Track 4 · ch 2 · Fretless Bass · ")
    assert labels[3].startswith("Track 5 · ch 10 · Drums · ")
    demo = MidiDocument.load(DEMO_SONG)  # its track is named "Piano": not said twice
    assert demo.parts[0].label().replace("\u00a0", " ") == "Track 2 · ch 1 · Acoustic Grand Piano (309 notes)"
    # Band-in-a-Box names end in NUL bytes, and spaces run double: shown as plain text
    tea = MidiDocument.load(shared_data / "jazz/mckenzie/Tea for two.MID")
    label = tea.parts[0].label().replace("\u00a0", " ")
    assert label == "Track 7 · ch 1 · Acoustic Grand Piano · Melody (BB) (2383 notes)"


@pytest.mark.parametrize(("written", "shown"), [
    ("Klavier für Elise".encode(), "Klavier für Elise"),  # UTF-8, as notation programs write
    ("Piano – “RH”".encode("cp1252"), "Piano – “RH”"),  # Windows sequencers
    ("Flügel".encode("latin-1"), "Flügel"),
    ("ピアノ".encode(), "ピアノ"),
    ("ピアノ（右手）".encode("cp932"), "ピアノ（右手）"),  # Shift-JIS, as Japanese sequencers write
    ("ﾋﾟｱﾉ".encode("cp932"), "Ëß±É"),  # half-width kana alone are no evidence: the same bytes are Latin letters
    (b"Piano\x81\x00", "Piano"),  # a byte no encoding here names, and a NUL
])
def test_track_names_are_shown_in_the_encoding_they_were_written_in_and_saved_unchanged(written, shown):
    name = mido.MetaMessage("track_name", name=written.decode("latin-1"))  # as mido reads any name
    doc = MidiDocument.from_bytes(midi_bytes([track([(0, name), *note(60, 0, 480)])]))
    assert doc.parts[0].name == shown
    doc.notes = doc.notes.with_velocities(np.array([99]))
    assert written in doc.to_bytes()  # the file keeps its bytes: only how the name is shown changed


def test_shift_jis_is_chosen_for_the_whole_file_on_japanese_evidence_and_never_for_western_text():
    def named(*texts: tuple[str, bytes]) -> list[str]:
        tracks = [track([(0, mido.MetaMessage(kind, **{"name" if kind == "track_name" else "text":
                                                        raw.decode("latin-1")})), *note(60 + i, 0, 480)])
                  for i, (kind, raw) in enumerate(texts)]
        return [part.name for part in MidiDocument.from_bytes(midi_bytes(tracks)).parts]

    # kanji alone decode as cp1252 too ("‰EŽè"); the kana of another track's name tell they are Japanese
    assert named(("track_name", "右手".encode("cp932")), ("track_name", "ピアノ".encode("cp932"))) == ["右手", "ピアノ"]
    # so does a copyright line in full-width letters
    copyright_line = ("copyright", "（Ｃ）２０２６".encode("cp932"))
    assert named(("track_name", "左手".encode("cp932")), copyright_line) == ["左手", ""]
    # Western names whose bytes are also Shift-JIS kanji stay Western
    assert named(("track_name", "Ständchen".encode("cp1252")), ("track_name", "Don’t".encode("cp1252"))) == [
        "Ständchen", "Don’t"]
    # and one Western text that Shift-JIS cannot decode keeps the file Western, kana bytes or not
    assert named(("track_name", "ピアノ".encode("cp932")), ("marker", "Café".encode("cp1252")))[0] == "ƒsƒAƒm"


def test_markers_are_read_once_per_tick_in_time_order_in_the_file_s_encoding():
    def marker(tick: int, raw: bytes) -> tuple[int, mido.MetaMessage]:
        return (tick, mido.MetaMessage("marker", text=raw.decode("latin-1")))

    conductor = track([marker(1920, b"Chorus"), marker(0, b"Intro"), marker(960, b"  "), marker(1920, b"B")])
    piano = track([marker(1920, b"Chorus"), marker(3840, "サビ".encode("cp932")), *note(60, 0, 480)])
    doc = MidiDocument.from_bytes(midi_bytes([conductor, piano]))
    # an empty marker goes; one repeated in another track counts once; two at a tick are joined
    assert [(m.tick, m.text) for m in doc.markers] == [(0, "Intro"), (1920, "Chorus · B"), (3840, "サビ")]
    assert MidiDocument.from_bytes(midi_bytes([track(note(60, 0, 480))])).markers == ()
    made = mido.MidiFile()  # made in code, not read: its text is already Unicode
    made.tracks.append(mido.MidiTrack([mido.MetaMessage("marker", text="サビ"), *track(note(60, 0, 480))]))
    assert MidiDocument(made).markers[0].text == "サビ"


def test_a_part_is_judged_by_the_programs_its_notes_play_with():
    def program(tick: int, number: int, channel: int = 0) -> tuple[int, mido.Message]:
        return (tick, mido.Message("program_change", program=number, channel=channel))

    data = midi_bytes([
        # set to piano, then to a bass before any note (a sequencer's reset): a bass, not a piano
        track([program(0, 0), program(0, 32), *note(40, 0, 480)]),
        # a piano that becomes strings mid-song: both are named; its first notes make it a piano
        track([program(0, 1, 1), *note(60, 0, 480, channel=1), program(960, 48, 1), *note(62, 960, 1440, channel=1)]),
        # notes before the track's own program change sound with the channel's default (GM piano)
        track([*note(64, 0, 480, channel=2), program(960, 40, 2), *note(65, 960, 1440, channel=2)]),
        # two tracks on one channel (as in a jazz file of the data): each keeps its own track's program,
        # although the second track's change comes later and would win on a real synthesiser
        track([program(1, 32, 3), *note(36, 960, 1440, channel=3)]),
        track([program(2, 4, 3), *note(72, 960, 1440, channel=3)]),
    ])
    doc = MidiDocument.from_bytes(data)
    instruments = {p.key: p.instrument for p in doc.parts}
    assert instruments == {(0, 0): "Acoustic Bass", (1, 1): "Bright Acoustic Piano / String Ensemble 1",
                           (2, 2): "Acoustic Grand Piano / Violin", (3, 3): "Acoustic Bass",
                           (4, 3): "Electric Piano 1"}
    assert doc.piano_parts == {(1, 1), (2, 2), (4, 3)}


def test_user_can_override_the_piano_part_but_never_drums():
    data = midi_bytes([track([*note(60, 0, 480), (0, mido.Message("program_change", program=40))]),
                       track(note(62, 0, 480, channel=1)), track(note(36, 0, 120, channel=9))])
    doc = MidiDocument.from_bytes(data)
    assert doc.piano_parts == {(1, 1)}  # track 0 plays a violin (program 41); track 1 has the default piano
    doc.set_piano_parts({(0, 0), (1, 1)})
    assert doc.piano_mask.sum() == 2
    with pytest.raises(MidiError, match="drums"):
        doc.set_piano_parts({(2, 9)})


def test_format_0_tempo_changes_and_seconds():
    events = [(0, mido.MetaMessage("set_tempo", tempo=500_000)), (960, mido.MetaMessage("set_tempo", tempo=1_000_000)),
              (0, mido.MetaMessage("time_signature", numerator=3, denominator=4)),
              (1440, mido.MetaMessage("time_signature", numerator=6, denominator=8))]
    events += note(60, 0, 480) + note(64, 960, 1440) + note(67, 1920, 2400)
    doc = MidiDocument.from_bytes(midi_bytes([track(events)], ticks_per_beat=480, kind=0))
    # 120 bpm for two beats (1 s), then 60 bpm: tick 1920 is two slow beats later.
    np.testing.assert_allclose(doc.note_seconds()[0], [0.0, 1.0, 3.0])
    np.testing.assert_allclose(doc.note_seconds()[1], [0.5, 2.0, 4.0])
    np.testing.assert_allclose(doc.tempo_map.ticks(np.array([0.0, 1.0, 3.0])), [0, 960, 1920])
    assert [(s.numerator, s.denominator) for s in doc.time_signatures] == [(3, 4), (6, 8)]
    assert doc.tempo_map.bpm_at(1000) == pytest.approx(60.0)


@pytest.mark.parametrize("tpb", [1, 24, 96, 960, 32767])
def test_any_ticks_per_beat(tpb):
    doc = MidiDocument.from_bytes(midi_bytes([track(note(60, 0, tpb) + note(62, tpb, 2 * tpb))], ticks_per_beat=tpb))
    np.testing.assert_allclose(doc.seconds(doc.notes.end), [0.5, 1.0])


def test_running_status_sysex_and_controllers_survive():
    # note-on C4 then (running status) E4, sustain pedal, sysex, then offs using running status.
    body = (b"\x00\x90\x3c\x50" b"\x00\x40\x60" b"\x00\xb0\x40\x7f" b"\x00\xf0\x03\x7e\x7f\xf7"
            b"\x83\x60\x80\x3c\x00" b"\x00\x40\x00" b"\x00\xb0\x40\x00" b"\x00\xff\x2f\x00")
    data = raw_midi([body], kind=0)
    doc = MidiDocument.from_bytes(data)
    assert sorted(doc.notes.pitch.tolist()) == [60, 64] and set(doc.notes.end.tolist()) == {480}
    saved = reparse(doc.to_bytes())
    assert absolute(saved.tracks[0]) == absolute(reparse(data).tracks[0])
    assert any(m.type == "sysex" for m in saved.tracks[0]) and any(m.type == "control_change" for m in saved.tracks[0])


def test_velocity_edit_then_structural_edit_keep_non_note_events():
    events = [(0, mido.MetaMessage("track_name", name="Piano")), (240, mido.Message("control_change", control=64,
              value=127)), (720, mido.Message("control_change", control=64, value=0))]
    doc = MidiDocument.from_bytes(midi_bytes([track(events + note(60, 0, 480) + note(62, 480, 960))]))
    doc.notes = doc.notes.with_columns(start=np.array([0, 600]), end=np.array([480, 900]))  # move a note
    saved = MidiDocument.from_bytes(doc.to_bytes())
    assert saved.notes.start.tolist() == [0, 600] and saved.notes.end.tolist() == [480, 900]
    kept = [(t, m) for t, m in absolute(saved.midi.tracks[0]) if "note" not in m]
    assert [t for t, _ in kept][:3] == [0, 240, 720]


# ---- bad input: a correct load or one clear MidiError, never a traceback or a hang -------------

@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "not a MIDI file"),
    (midi_bytes([track(note(60, 0, 480))])[:30], "truncated"),
    (raw_midi([b"\x00\x90\x3c\x40"], division=0xE728), "SMPTE"),  # -25 fps, 40 ticks/frame
    (raw_midi([b"\x00\xff\x2f\x00"], kind=2), "format 2"),
    (raw_midi([b"\x00\xff\x51\x03\x00\x00\x00\x00\x90\x3c\x40\x00\xff\x2f\x00"]), "tempo of 0"),
    (raw_midi([b"\x00\x3c\x40\x00\xff\x2f\x00"]), "corrupt"),  # data byte with no status to run on
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0", "truncated"),  # header promises a track
    (riff_midi(b"")[:-8], "RIFF MIDI file .*no 'data' chunk"),
    (riff_midi(midi_bytes([track(note(60, 0, 480))]))[:-10], "truncated"),
])
def test_bad_files_raise_one_clear_error(data, message):
    with pytest.raises(MidiError, match=message):
        MidiDocument.from_bytes(data, "bad.mid")


@pytest.mark.parametrize("size_error", [0, 7])  # as written, or more than the file holds (the MIDI is last)
def test_a_riff_midi_file_opens_as_the_midi_file_inside_it(tmp_path, size_error):
    smf = DEMO_SONG.read_bytes()
    path = tmp_path / "prelude.rmi"
    path.write_bytes(riff_midi(smf, data_size=len(smf) + size_error))
    doc, plain = MidiDocument.load(path), MidiDocument.load(DEMO_SONG)
    assert doc.notes.same_as(plain.notes) and doc.loaded_bytes().startswith(smf)  # + RIFF's pad byte, if any
    doc.notes = doc.notes.with_velocities(np.full(len(doc.notes), 77))
    saved = doc.to_bytes()  # saved and exported as a plain MIDI file
    assert saved.startswith(b"MThd") and MidiDocument.from_bytes(saved).notes.velocity.tolist() == [77] * 309


def test_missing_file_is_a_midi_error(tmp_path):
    with pytest.raises(MidiError, match="cannot read"):
        MidiDocument.load(tmp_path / "nope.mid")


def test_note_without_note_off_ends_with_its_track():
    events = [(0, mido.Message("note_on", note=60, velocity=90)), (960, mido.MetaMessage("end_of_track"))]
    doc = MidiDocument.from_bytes(midi_bytes([track(events)]))
    assert doc.notes.end.tolist() == [960] and doc.notes.velocity.tolist() == [90]
    assert absolute(reparse(doc.to_bytes()).tracks[0]) == absolute(doc.midi.tracks[0])


def test_note_off_without_note_on_is_ignored_and_kept():
    events = [(100, mido.Message("note_off", note=61)), *note(60, 0, 480)]
    doc = MidiDocument.from_bytes(midi_bytes([track(events)]))
    assert doc.notes.pitch.tolist() == [60]
    assert any(m.type == "note_off" and m.note == 61 for m in reparse(doc.to_bytes()).tracks[0])


def test_overlapping_same_pitch_notes_pair_first_in_first_out():
    events = note(60, 0, 300, velocity=50) + note(60, 100, 400, velocity=70)
    doc = MidiDocument.from_bytes(midi_bytes([track(events)]))
    assert list(zip(doc.notes.start, doc.notes.end, doc.notes.velocity)) == [(0, 300, 50), (100, 400, 70)]


def test_zero_length_and_out_of_range_notes_load_and_survive():
    events = note(60, 0, 0) + note(10, 0, 480) + note(120, 480, 960)
    doc = MidiDocument.from_bytes(midi_bytes([track(events)]))
    assert len(doc.notes) == 3 and doc.notes.in_piano_range.tolist() == [False, True, False]
    mask = humanise_mask(doc.notes, doc.piano_mask)
    assert mask.tolist() == [False, True, False]
    saved = MidiDocument.from_bytes(doc.to_bytes())
    assert sorted(zip(saved.notes.pitch.tolist(), saved.notes.start.tolist(), saved.notes.end.tolist())) == \
        [(10, 0, 480), (60, 0, 0), (120, 480, 960)]


@pytest.mark.timeout(60)
def test_more_than_100k_notes_load():
    rng = np.random.default_rng(0)
    events = []
    for k in range(120_000):
        events += note(int(rng.integers(21, 109)), k * 10, k * 10 + 30, int(rng.integers(1, 128)), k % 2)
    doc = MidiDocument.from_bytes(midi_bytes([track(events)], ticks_per_beat=96))
    assert len(doc.notes) == 120_000 and np.array_equal(np.sort(doc.notes.start), np.arange(120_000) * 10)


def test_failed_save_leaves_the_old_file_and_no_temp_files(tmp_path, monkeypatch):
    target = tmp_path / "out.mid"
    target.write_bytes(b"precious")
    doc = MidiDocument.from_bytes(midi_bytes([track(note(60, 0, 480))]))

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("app.core.atomic.os.replace", disk_full)
    with pytest.raises(MidiError, match="No space left"):
        doc.save(target)
    assert target.read_bytes() == b"precious" and [p.name for p in tmp_path.iterdir()] == ["out.mid"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saved_files_get_plain_permissions_not_the_temp_files(tmp_path):
    doc = MidiDocument.from_bytes(midi_bytes([track(note(60, 0, 480))]))
    old_umask = os.umask(0o022)
    try:
        doc.save(tmp_path / "new.mid")
        kept = tmp_path / "kept.mid"
        kept.write_bytes(b"old")
        kept.chmod(0o640)
        doc.save(kept)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new.mid").stat().st_mode) == 0o644  # as open() would make it
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640  # an existing file keeps its own


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_the_umask_is_read_without_changing_it(mask):
    from app.core.atomic import _umask

    old = os.umask(mask)
    try:
        assert _umask() == mask and os.umask(mask) == mask  # read right, and still in force
    finally:
        os.umask(old)


def pedal(tick: int, value: int, channel: int = 0) -> tuple[int, mido.Message]:
    return (tick, mido.Message("control_change", control=64, value=value, channel=channel))


def test_sustain_pedal_spans_of_the_piano_part():
    piano = track([*note(60, 0, 1000), *note(64, 1000, 2400), pedal(0, 127), pedal(100, 100), pedal(480, 0),
                   pedal(960, 90), pedal(1200, 20), pedal(1900, 64)])
    strings = track([(0, mido.Message("program_change", program=48, channel=1)), *note(48, 0, 960, channel=1),
                     pedal(0, 127, channel=1), pedal(3000, 0, channel=1)])
    doc = MidiDocument.from_bytes(midi_bytes([piano, strings]))
    assert doc.piano_parts == {(0, 0)}
    # a second "down" changes nothing; never released: held to where the file ends (the strings' pedal, 3000)
    assert doc.pedal_spans().tolist() == [[0, 480], [960, 1200], [1900, 3000]]
    doc.set_piano_parts({(1, 1)})
    assert doc.pedal_spans().tolist() == [[0, 3000]]
    doc.set_piano_parts({(0, 0), (1, 1)})
    assert doc.pedal_spans().tolist() == [[0, 3000]]  # the union of both parts' spans


def test_a_pedal_only_touched_has_no_spans():
    # ASAP's Khmara04 (BWV 883): 13 controller-64 values, all below 64; opening it raised an IndexError
    touched = track([*note(60, 0, 960), pedal(0, 10), pedal(240, 28), pedal(480, 0)])
    down = track([*note(48, 0, 960, channel=1), pedal(100, 127, channel=1), pedal(200, 0, channel=1)])
    doc = MidiDocument.from_bytes(midi_bytes([touched, down]))
    doc.set_piano_parts({(0, 0)})
    assert doc.pedal_spans().shape == (0, 2)
    doc.set_piano_parts({(0, 0), (1, 1)})
    assert doc.pedal_spans().tolist() == [[100, 200]]


def test_pedal_on_a_controller_track_of_its_own_counts_for_its_channel():
    notes_only = track(note(60, 0, 480) + note(62, 480, 960))
    controllers = track([pedal(240, 127), pedal(720, 0)])
    doc = MidiDocument.from_bytes(midi_bytes([notes_only, controllers]))
    assert doc.pedal_spans().tolist() == [[240, 720]]
    assert MidiDocument.from_bytes(midi_bytes([notes_only])).pedal_spans().shape == (0, 2)
    # another part's pedal on the same channel is that part's own
    other = track([(0, mido.Message("program_change", program=40)), *note(72, 0, 960), pedal(0, 127), pedal(900, 0)])
    doc = MidiDocument.from_bytes(midi_bytes([notes_only, other]))
    doc.set_piano_parts({(0, 0)})
    assert doc.pedal_spans().shape == (0, 2)
