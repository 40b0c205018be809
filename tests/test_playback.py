"""Playback: schedules, offline renders with loudness matching, and a fake MIDI port in real time."""

from __future__ import annotations

import sys
import time

import mido
import numpy as np
import pytest
from conftest import DEMO
from midi_factory import midi_bytes, note, track

from app.core.humanise import baseline_velocities, humanise_mask
from app.core.midi_document import MidiDocument
from app.playback.outputs import PlaybackUnavailable, PortOutput, find_soundfont, new_synth
from app.playback.player import Player
from app.playback.render import SAMPLE_RATE, apply_gain, loudness_db, loudness_range_db, render
from app.playback.schedule import build_schedule
from app.playback.versions import PEAK_CEILING_DB, export_gains, schedules_for


class FakePort(mido.ports.BaseOutput):
    """Records what it is sent, with the time it arrived."""

    def __init__(self) -> None:
        super().__init__(name="fake")
        self.log: list[tuple[float, mido.Message]] = []

    def _send(self, msg: mido.Message) -> None:
        self.log.append((time.perf_counter(), msg))


def demo_versions(seed: int = 3) -> tuple[MidiDocument, dict[str, np.ndarray]]:
    doc = MidiDocument.load(DEMO)
    mask = humanise_mask(doc.notes, doc.piano_mask)
    shaped = np.clip(40 + (doc.notes.pitch.astype(int) - 40) * 1.2, 1, 127)  # a clearly different shape
    return doc, {"original": np.array(doc.notes.velocity), "baseline": baseline_velocities(doc.notes, mask, seed),
                 "stylised": shaped.astype(np.int16)}


@pytest.fixture(scope="module")
def renders():
    doc, velocities = demo_versions()
    schedules = schedules_for(doc, velocities)
    return {name: render(s) for name, s in schedules.items()}


def test_every_version_renders_non_silent_faster_than_real_time():
    doc, velocities = demo_versions()
    schedule = schedules_for(doc, velocities)["stylised"]
    t0 = time.perf_counter()
    audio = render(schedule)
    elapsed = time.perf_counter() - t0
    assert audio.shape[1] == 2 and len(audio) / 44100 > schedule.duration
    assert loudness_db(audio) > -50
    assert len(audio) / 44100 / elapsed > 5  # the benchmark measures the real factor


def test_loudness_matched_renders_agree_within_1_db_and_versions_differ(renders):
    levels = {name: loudness_db(a) for name, a in renders.items()}
    assert all(level > -50 for level in levels.values())
    matched = {name: loudness_db(apply_gain(a, levels["original"] - levels[name])) for name, a in renders.items()}
    assert max(matched.values()) - min(matched.values()) < 1.0
    diff = np.abs(renders["stylised"] - renders["original"]).mean() / np.abs(renders["original"]).mean()
    assert diff > 0.1


def test_schedule_times_follow_tempo_changes_and_zero_length_notes_close():
    events = [(0, mido.MetaMessage("set_tempo", tempo=500_000)), (960, mido.MetaMessage("set_tempo", tempo=250_000))]
    events += note(60, 0, 480) + note(62, 960, 1440) + note(64, 1920, 1920)
    doc = MidiDocument.from_bytes(midi_bytes([track(events)]))
    s = build_schedule(doc)
    assert [(round(t, 6), m.type) for t, m in zip(s.seconds, s.messages)] == [
        (0.0, "note_on"), (0.5, "note_off"), (1.0, "note_on"), (1.25, "note_off"), (1.5, "note_on"),
        (1.5, "note_off")]


def test_fake_port_gets_events_in_order_on_time_and_notes_off_on_stop():
    events = [(0, mido.MetaMessage("set_tempo", tempo=500_000)), (480, mido.MetaMessage("set_tempo", tempo=250_000)),
              (0, mido.Message("control_change", control=64, value=127))]
    for k in range(8):
        events += note(60 + k, k * 240, k * 240 + 200)
    doc = MidiDocument.from_bytes(midi_bytes([track(events)], ticks_per_beat=480))
    schedule = build_schedule(doc)
    port = FakePort()
    player = Player(PortOutput(port), {"original": schedule}, "original")
    start = time.perf_counter()
    player.play()
    while player.playing and time.perf_counter() - start < 5:
        time.sleep(0.01)
    notes = [(t - start, m) for t, m in port.log if m.type in ("note_on", "note_off")]
    played = [m for _, m in notes if m.type == "note_on" and m.velocity > 0]
    assert [m.note for m in played] == list(range(60, 68))
    # beats 0-1 at 120 bpm (0.5 s/beat), then 240 bpm: note k at 0.25 k s for k <= 2, then 0.5 + 0.125 (k - 2)
    expected = [0.25 * k if k <= 2 else 0.5 + 0.125 * (k - 2) for k in range(8)]
    onsets = [t for t, m in notes if m.type == "note_on" and m.velocity > 0]
    assert np.max(np.abs(np.array(onsets) - expected)) < 0.03
    assert any(m.type == "control_change" and m.control == 123 for _, m in port.log[-16:])  # all notes off at end


def test_switching_version_mid_note_sends_note_offs_and_no_retrigger():
    doc, velocities = demo_versions()
    schedules = schedules_for(doc, velocities)
    port = FakePort()
    player = Player(PortOutput(port), schedules, "original", gains_db={"baseline": -2.0})
    player.seek(0.9)  # inside bar 1: the bass C is held
    player.play()
    time.sleep(0.3)
    before = len(port.log)
    player.switch("baseline")
    switch_msgs = [m for _, m in port.log[before:before + 40]]
    time.sleep(0.3)
    player.stop()
    offs = [m for m in switch_msgs if m.type == "note_off"]
    assert offs, "sounding notes must get a note-off on switch"
    assert any(m.type == "control_change" and m.control == 123 for m in switch_msgs)
    assert any(m.type == "control_change" and m.control == 7 for m in switch_msgs)  # gain as channel volume
    ons_after = [m for _, m in port.log[before:] if m.type == "note_on" and m.velocity > 0]
    base = schedules["baseline"]
    played = [base.message(k) for k in range(len(base))]
    assert all(any(m == s for s in played) for m in ons_after)  # the baseline's velocities now
    sounding: dict[tuple[int, int], int] = {}
    for _, m in port.log:
        if m.type == "note_on" and m.velocity > 0:
            sounding[(m.channel, m.note)] = sounding.get((m.channel, m.note), 0) + 1
        elif m.type in ("note_on", "note_off"):
            sounding[(m.channel, m.note)] = 0
    assert not any(sounding.values()), "no stuck notes after stop"


def stuck_notes(log: list[tuple[float, mido.Message]]) -> set[tuple[int, int]]:
    """Keys left sounding by what a port was sent (a note-off or all-notes-off ends them)."""
    sounding: set[tuple[int, int]] = set()
    for _, m in log:
        if m.type == "note_on" and m.velocity > 0:
            sounding.add((m.channel, m.note))
        elif m.type in ("note_on", "note_off"):
            sounding.discard((m.channel, m.note))
        elif m.type == "control_change" and m.control == 123:
            sounding = {k for k in sounding if k[0] != m.channel}
    return sounding


def test_a_player_taking_over_keeps_what_sounds_in_both_and_ends_the_rest():
    chord = [*note(60, 0, 1920), *note(64, 0, 1920), *note(67, 0, 1920), *note(72, 960, 1200)]  # 120 bpm: 2 s
    doc = MidiDocument.from_bytes(midi_bytes([track(chord)]))
    port = FakePort()
    old = Player(PortOutput(port), {"original": build_schedule(doc)}, "original")
    old.play()
    time.sleep(0.4)
    edited = MidiDocument.from_bytes(doc.loaded_bytes())
    pitch = np.array(edited.notes.pitch)
    pitch[pitch == 64] = 65  # the E moved up to F while playing
    edited.notes = edited.notes.with_columns(pitch=pitch)
    new = Player(PortOutput(port), {"original": build_schedule(edited)}, "original")
    handed = len(port.log)
    new.take_over(old)
    at_handover = [m for _, m in port.log[handed:handed + 5]]
    assert not old.playing and new.playing and 0.35 < new.position() < 0.6
    assert [(m.type, m.note) for m in at_handover if m.type == "note_off"] == [("note_off", 64)]  # the moved E
    assert not any(m.type == "control_change" and m.control == 123 for m in at_handover)  # no all-notes-off
    time.sleep(0.3)
    assert stuck_notes(port.log) == {(0, 60), (0, 67)}  # C and G ring on; the F was not struck mid-note
    while new.playing and new.position() < 2.3:
        time.sleep(0.05)
    offs = [(t, m.note) for t, m in port.log[handed:] if m.type == "note_off"]
    assert {60, 67, 72} <= {k for _, k in offs}  # their own note-offs, from the new player, on time
    assert stuck_notes(port.log) == set() and not new.playing


def test_a_paused_player_hands_over_its_position_and_stays_paused():
    doc = MidiDocument.from_bytes(midi_bytes([track(note(60, 0, 1920))]))
    port = FakePort()
    old = Player(PortOutput(port), {"original": build_schedule(doc)}, "original")
    old.seek(1.25)
    new = Player(PortOutput(port), {"original": build_schedule(doc)}, "original")
    new.take_over(old)
    assert not new.playing and new.position() == 1.25


def test_seek_restores_the_sustain_pedal():
    events = [(0, mido.Message("control_change", control=64, value=127)), *note(60, 0, 4800), *note(62, 960, 1200)]
    doc = MidiDocument.from_bytes(midi_bytes([track(events)]))
    port = FakePort()
    player = Player(PortOutput(port), {"original": build_schedule(doc)}, "original")
    player.seek(0.9)
    player.play()
    time.sleep(0.3)  # D4 is due at 1.0 s
    player.stop()
    msgs = [m for _, m in port.log]
    pedal = [i for i, m in enumerate(msgs) if m.type == "control_change" and m.control == 64 and m.value == 127]
    first_note = next(i for i, m in enumerate(msgs) if m.type == "note_on")
    assert pedal and pedal[0] < first_note and msgs[first_note].note == 62  # C4 began before 0.9 s: not re-struck


def test_missing_soundfont_library_and_ports_give_reasons(tmp_path, monkeypatch):
    with pytest.raises(PlaybackUnavailable, match="not found"):
        find_soundfont(str(tmp_path / "nope.sf2"))
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF" + b"\x00" * 100)
    with pytest.raises(PlaybackUnavailable, match="not a usable soundfont"):
        new_synth(str(bad))
    monkeypatch.setitem(sys.modules, "fluidsynth", None)
    with pytest.raises(PlaybackUnavailable, match="libfluidsynth3"):
        new_synth(None)


def test_port_output_without_midi_backend_is_unavailable_not_a_crash(monkeypatch):
    monkeypatch.setattr(mido, "get_output_names", lambda: [])
    with pytest.raises(PlaybackUnavailable, match="no MIDI output ports"):
        PortOutput.open()

    def broken():
        raise OSError("ALSA lib seq_hw.c: cannot open /dev/snd/seq")

    monkeypatch.setattr(mido, "get_output_names", broken)
    with pytest.raises(PlaybackUnavailable, match="unavailable here"):
        PortOutput.open()


def test_render_command_writes_matched_wavs(tmp_path, tiny_checkpoint):
    from app.cli import main

    out = tmp_path / "demo.wav"
    code = main(["render", str(DEMO), "--version", "all", "--match-loudness", "-o", str(out),
                 "--checkpoint", str(tiny_checkpoint)])
    assert code == 0
    levels = {n: loudness_db(read_wav(tmp_path / f"demo.{n}.wav")) for n in ("original", "baseline", "stylised")}
    assert max(levels.values()) - min(levels.values()) < 1.0


def test_loop_range_repeats_without_stuck_notes():
    events = []
    for k in range(8):
        events += note(60 + k, k * 240, k * 240 + 200)  # 8th notes at 120 bpm: one every 0.25 s
    doc = MidiDocument.from_bytes(midi_bytes([track(events)]))
    port = FakePort()
    player = Player(PortOutput(port), {"original": build_schedule(doc)}, "original")
    player.loop = (0.0, 0.5)  # the first two notes, over and over
    player.play()
    time.sleep(1.35)
    player.stop()
    played = [m.note for _, m in port.log if m.type == "note_on" and m.velocity > 0]
    assert played[:6] == [60, 61, 60, 61, 60, 61] and set(played) == {60, 61}


def test_program_changes_and_sustain_pedal_are_heard_in_renders():
    def rendered(extra):
        doc = MidiDocument.from_bytes(midi_bytes([track(extra + note(60, 0, 240) + note(64, 480, 600))]))
        return render(build_schedule(doc))

    piano = rendered([])
    violin = rendered([(0, mido.Message("program_change", program=40))])
    pedal = rendered([(0, mido.Message("control_change", control=64, value=127))])
    n = min(len(piano), len(violin), len(pedal))
    assert np.abs(piano[:n] - violin[:n]).mean() > 0.1 * np.abs(piano[:n]).mean()
    after_release = slice(int(0.3 * 44100), int(0.45 * 44100))  # C4 released at 0.25 s: the pedal holds it
    assert loudness_db(pedal[after_release]) > loudness_db(piano[after_release]) + 3


def read_wav(path) -> np.ndarray:
    import wave

    with wave.open(str(path)) as w:
        assert w.getnchannels() == 2 and w.getframerate() == 44100
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2) / 32768.0


def test_export_gains_keep_relative_levels_and_never_clip():
    levels = {"original": -30.0, "baseline": -27.0, "stylised": -33.0}
    peaks = {"original": -12.0, "baseline": -10.0, "stylised": -2.0}
    versions = ["original", "baseline", "stylised"]
    plain = export_gains(levels, peaks, versions, match_loudness=False, normalize=False)
    assert plain == {"original": 0.0, "baseline": 0.0, "stylised": 0.0}
    # matching lifts the stylised version by 3 dB, to a +1 dBFS peak: everything comes down 2 dB together
    matched = export_gains(levels, peaks, versions, match_loudness=True, normalize=False)
    assert matched == pytest.approx({"original": -2.0, "baseline": -5.0, "stylised": 1.0})
    assert max(peaks[n] + g for n, g in matched.items()) == pytest.approx(PEAK_CEILING_DB)
    # normalising lifts the loudest peak to the ceiling; the others follow by the same gain
    quiet = {n: p - 20 for n, p in peaks.items()}
    normalised = export_gains(levels, quiet, versions, match_loudness=False, normalize=True)
    assert len(set(normalised.values())) == 1 and normalised["stylised"] == pytest.approx(21.0)
    silent = export_gains(levels, {n: -240.0 for n in peaks}, versions, match_loudness=False, normalize=True)
    assert silent == plain  # no gain of 239 dB for an empty part


def test_render_command_normalises_together(tmp_path, tiny_checkpoint):
    from app.cli import main

    out = tmp_path / "demo.wav"
    args = ["render", str(DEMO), "--version", "all", "-o", str(out), "--checkpoint", str(tiny_checkpoint)]
    assert main(args) == 0
    before = {n: read_wav(tmp_path / f"demo.{n}.wav") for n in ("original", "baseline", "stylised")}
    assert main([*args, "--normalize"]) == 0
    after = {n: read_wav(tmp_path / f"demo.{n}.wav") for n in before}
    assert max(np.abs(a).max() for a in after.values()) == pytest.approx(10 ** (PEAK_CEILING_DB / 20), rel=1e-3)
    lifts = [loudness_db(after[n]) - loudness_db(before[n]) for n in before]
    assert min(lifts) > 3.0 and max(lifts) - min(lifts) < 0.05  # one gain for all three


def test_render_one_version_without_loudness_matching(tmp_path):
    from app.cli import main

    out = tmp_path / "baseline.wav"
    assert main(["render", str(DEMO), "--version", "baseline", "-o", str(out)]) == 0
    assert out.stat().st_size > 44100 * 4 and not (tmp_path / "baseline.original.wav").exists()


@pytest.mark.parametrize("content", [None, b"RIFF" + b"\x00" * 100], ids=["missing", "not-a-soundfont"])
def test_render_with_a_bad_soundfont_is_bad_input_named_in_one_line(tmp_path, capsys, content):
    from app.cli import EXIT_BAD_INPUT, main

    font = tmp_path / "grand.sf2"
    if content is not None:
        font.write_bytes(content)
    out = tmp_path / "o.wav"
    code = main(["render", str(DEMO), "--version", "original", "-o", str(out), "--soundfont", str(font)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_BAD_INPUT and "grand.sf2" in err[-1] and "choose another .sf2/.sf3 file" in err[-1]
    assert not out.exists()


def test_loudness_range_measures_how_far_the_level_moves():
    t = np.arange(20 * SAMPLE_RATE) / SAMPLE_RATE
    tone = np.sin(2 * np.pi * 220 * t)
    steady = 0.1 * tone
    soft_then_loud = np.where(t < 10, 10 ** (-10 / 20), 1.0) * 0.1 * tone  # 10 s at -10 dB, then 10 s at 0 dB
    assert loudness_range_db(steady) < 0.1
    assert 9.5 < loudness_range_db(soft_then_loud) < 10.5
    assert loudness_range_db(np.zeros(20 * SAMPLE_RATE)) == 0.0 and loudness_range_db(steady[:100]) == 0.0
    with_pause = np.where((t > 5) & (t < 12), 0.0, 1.0) * steady
    assert loudness_range_db(with_pause) < 6.0  # 7 s of silence is not "soft": only windows straddling it read lower


def test_auditioner_sounds_one_note_at_a_time_with_the_pedal_up():
    from app.playback.audition import Auditioner

    port = FakePort()
    ear = Auditioner(PortOutput(port))
    ear.press(2, 60, 90)
    ear.press(2, 60, 90)  # a drag that stays on the key does not retrigger it
    ear.press(2, 62, 0)  # velocity 0 would be a note-off: the softest real note instead
    ear.release()
    ear.release()
    pedal_up = mido.Message("control_change", channel=2, control=64, value=0)
    on, off = (lambda note, v: mido.Message("note_on", channel=2, note=note, velocity=v),
               lambda note: mido.Message("note_off", channel=2, note=note, velocity=0))
    assert [m for _, m in port.log] == [pedal_up, on(60, 90), off(60), pedal_up, on(62, 1), off(62)]


def piano_and_band(path, piano_velocity: int = 70) -> None:
    """Piano (first track, channel 0) with bass (second track, channel 1) and drums (channel 9): a note each
    for eight beats at 480 ticks per beat, 120 bpm."""
    beats = range(0, 8 * 480, 480)
    piano = [(0, mido.Message("program_change", program=0, channel=0)),
             (0, mido.Message("control_change", control=64, value=127, channel=0))]
    band = [(0, mido.Message("program_change", program=33, channel=1))]
    for t in beats:
        piano += note(60 + t // 480, t, t + 400, piano_velocity, channel=0)
        band += note(36, t, t + 400, 90, channel=1) + note(42, t, t + 100, 100, channel=9)
    path.write_bytes(midi_bytes([track(piano), track(band)]))


def test_a_schedule_of_the_piano_part_alone_keeps_its_events_and_times(tmp_path):
    piano_and_band(tmp_path / "trio.mid")
    doc = MidiDocument.load(tmp_path / "trio.mid")
    assert doc.piano_parts == frozenset({(0, 0)})
    full, solo = build_schedule(doc), build_schedule(doc, doc.piano_parts)
    on_piano = [k for k, m in enumerate(full.messages) if m.channel == 0]
    assert {m.channel for m in solo.messages} == {0} and len(solo) == len(on_piano) == 2 + 16
    assert solo.messages == [full.messages[k] for k in on_piano]  # the pedal and program too
    assert np.array_equal(solo.seconds, full.seconds[on_piano])


def _played(schedule) -> list[dict]:
    return [dict(schedule.message(k).dict(), time=0) for k in range(len(schedule))]


@pytest.mark.parametrize("source", ["demo", "trio, edited", "jazz/mckenzie/AfterYou.mid",
                                    "classical/asap/Chopin/Ballades/1/Ali01.mid"])
def test_versions_play_exactly_the_file_each_would_save(source, tmp_path, request):
    """One shared event list with velocities applied at send time == each version saved and scheduled alone."""
    if source == "demo":
        doc = MidiDocument.load(DEMO)
    elif source == "trio, edited":
        from app.core.editor import EditorDocument, Version

        piano_and_band(tmp_path / "trio.mid")
        editor = EditorDocument.open(tmp_path / "trio.mid")
        n = editor.notes  # a moved note, and a key struck twice on one tick: the piano's track is rebuilt
        first, second = np.flatnonzero(n.channel == 0)[:2]
        editor.move_notes(np.array([first]), 120, 0)
        editor.add_note(int(n.pitch[second]), int(n.start[second]), int(n.start[second]) + 200, 50, 0, 0)
        doc = editor.midi_for(Version.ORIGINAL)
    else:
        doc = MidiDocument.load(request.getfixturevalue("shared_data") / source)
    rng = np.random.default_rng(0)
    velocities = {"original": np.array(doc.notes.velocity),
                  "baseline": rng.integers(1, 128, len(doc.notes)).astype(np.int16)}
    shared = schedules_for(doc, velocities)
    kept = doc.notes
    for name, velocity in velocities.items():
        doc.notes = kept.with_velocities(velocity)
        alone = build_schedule(doc)  # the file this version would save, as played before the sharing
        doc.notes = kept
        assert np.array_equal(shared[name].seconds, alone.seconds)
        assert _played(shared[name]) == _played(alone)
    assert (shared["baseline"].note_row >= 0).sum() == len(doc.notes)  # every note is reached


def test_a_player_takes_new_velocities_only_for_the_same_events(tmp_path):
    doc, versions = demo_versions()
    schedules = schedules_for(doc, versions)
    player = Player(PortOutput(FakePort()), schedules, "original")
    louder = {name: s.with_velocities(np.minimum(v + 10, 127)) for (name, s), v in zip(schedules.items(),
                                                                                       versions.values())}
    player.set_velocities(louder, "stylised")
    assert player.version == "stylised" and player.schedule is louder["stylised"]
    piano_and_band(tmp_path / "trio.mid")
    other = schedules_for(MidiDocument.load(tmp_path / "trio.mid"), {"original": np.full(32, 64)})
    with pytest.raises(ValueError, match="same events"):
        player.set_velocities(other, "original")


def test_velocities_swapped_in_while_playing_may_drop_the_version_being_played():
    doc, versions = demo_versions()
    schedules = schedules_for(doc, versions)
    player = Player(PortOutput(FakePort()), schedules, "stylised")
    player.play()
    for _ in range(200):  # an undone Humanise takes the stylised version away while it plays
        player.set_velocities({"original": schedules["original"]}, "original")
        player.set_velocities(schedules, "stylised")
    player.set_velocities({"original": schedules["original"]}, "original")
    time.sleep(0.05)
    assert player.playing and player.version == "original" and player._thread.is_alive()
    player.stop()


def test_fluidsynth_falls_back_to_the_next_audio_driver_when_its_own_will_not_open(tmp_path, monkeypatch):
    """Drivers that cannot open anywhere (unknown names) stand for a busy ALSA device and no PulseAudio; the
    file driver stands for the one that works. Measured: the piano plays through it."""
    from app.playback import outputs

    wav = tmp_path / "heard.wav"
    monkeypatch.setattr(outputs, "FALLBACK_AUDIO_DRIVERS", ("no-such-server", "file"))
    try:
        new_synth(None).delete()
    except PlaybackUnavailable as exc:
        pytest.skip(str(exc))
    out = outputs.FluidSynthOutput(settings={"audio.driver": "no-such-card", "audio.file.name": str(wav),
                                             "audio.file.type": "wav"})
    assert out.audio_driver == "file" and out.name == "FluidSynth through file"
    out.send(mido.Message("note_on", note=60, velocity=100))
    time.sleep(0.3)
    out.close()
    assert loudness_db(read_wav(wav)) > -40


def test_fluidsynth_without_any_audio_driver_says_so(monkeypatch):
    from app.playback import outputs

    monkeypatch.setattr(outputs, "FALLBACK_AUDIO_DRIVERS", ("no-such-server",))
    with pytest.raises(PlaybackUnavailable, match="no audio device could be opened for FluidSynth"):
        outputs.FluidSynthOutput(settings={"audio.driver": "no-such-card"})


def test_an_auditioned_note_sounds_through_fluidsynth_while_held_and_dies_away_after(tmp_path):
    """Listen-proxy: FluidSynth's file driver writes what a sound card would play, in real time."""
    from app.playback.audition import Auditioner
    from app.playback.outputs import FluidSynthOutput

    wav = tmp_path / "heard.wav"
    try:
        out = FluidSynthOutput(driver="file", settings={"audio.file.name": str(wav), "audio.file.type": "wav"})
    except PlaybackUnavailable as exc:
        pytest.skip(f"FluidSynth cannot write to a file here: {exc}")
    ear = Auditioner(out)
    ear.press(0, 60, 100)
    time.sleep(0.4)
    ear.release()
    time.sleep(0.5)
    out.close()
    audio = read_wav(wav)
    tenth = 4410
    level = [loudness_db(audio[k:k + tenth]) for k in range(0, len(audio) - tenth + 1, tenth)]
    assert max(level[:3]) > -40  # sounding while held
    assert level[-1] < max(level[:3]) - 20  # the damper is down: gone within half a second of the release


def test_a_chord_rings_on_through_fluidsynth_when_one_of_its_notes_is_moved_while_playing(tmp_path):
    """Listen-proxy of an edit while playing: the level of a held chord just before and just after the new
    player takes over with one of its three notes moved. Measured: 7 dB down 0.2-0.4 s later (the piano's
    own decay and the moved note's release), 2 dB with nothing moved, 26 dB the old way (stop, then play
    from there: all three released)."""
    from app.playback.outputs import FluidSynthOutput

    wav = tmp_path / "heard.wav"
    try:
        out = FluidSynthOutput(driver="file", settings={"audio.file.name": str(wav), "audio.file.type": "wav"})
    except PlaybackUnavailable as exc:
        pytest.skip(f"FluidSynth cannot write to a file here: {exc}")
    chord = [*note(48, 0, 3840, 100), *note(52, 0, 3840, 100), *note(55, 0, 3840, 100)]  # 4 s at 120 bpm
    doc = MidiDocument.from_bytes(midi_bytes([track(chord)]))
    edited = MidiDocument.from_bytes(doc.loaded_bytes())
    pitch = np.array(edited.notes.pitch)
    pitch[pitch == 52] = 53
    edited.notes = edited.notes.with_columns(pitch=pitch)
    old = Player(out, {"original": build_schedule(doc)}, "original")
    old.play()
    time.sleep(1.0)
    new = Player(out, {"original": build_schedule(edited)}, "original")
    started = time.perf_counter()
    new.take_over(old)
    handed_at = new.position()
    time.sleep(0.5)
    new.stop()
    out.close()
    audio = read_wav(wav)
    lead = len(audio) / 44100 - (time.perf_counter() - started) - handed_at  # audio written before the first note
    window = lambda a, b: loudness_db(audio[int((lead + a) * 44100):int((lead + b) * 44100)])  # noqa: E731
    before, after = window(handed_at - 0.1, handed_at), window(handed_at + 0.2, handed_at + 0.4)
    assert before > -40
    assert after > before - 12  # two of the three notes ring on


def test_a_cancelled_export_writes_nothing_not_a_cut_off_file(tmp_path):
    from app.core.humanise import Cancelled
    from app.playback.versions import export_wavs

    doc = MidiDocument.load(DEMO)
    schedules = schedules_for(doc, {"original": doc.notes.velocity})
    calls = []

    def cancel_midway(fraction: float) -> bool:
        calls.append(fraction)
        return fraction < 0.3  # the user presses Cancel a third of the way in

    with pytest.raises(Cancelled):
        export_wavs(schedules, ["original"], tmp_path / "piece.wav", False, progress=cancel_midway)
    assert calls and not list(tmp_path.iterdir())


def test_a_piece_hours_long_is_refused_before_rendering_with_the_reason(tmp_path, capsys):
    from app.cli import EXIT_BAD_INPUT, main
    from app.playback.render import RenderTooLong

    hours = 480 * 2 * 60 * 150  # a note 2.5 hours in at 120 bpm: a stray late note
    path = tmp_path / "stray.mid"
    path.write_bytes(midi_bytes([track(note(60, 0, 480) + note(62, hours, hours + 480))]))
    doc = MidiDocument.load(path)
    t0 = time.perf_counter()
    with pytest.raises(RenderTooLong, match="lasts 2 h 30 min"):
        render(build_schedule(doc))
    assert time.perf_counter() - t0 < 1.0  # refused up front, not after rendering hours of audio
    code = main(["render", str(path), "--version", "original", "-o", str(tmp_path / "o.wav")])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_INPUT and len(err.splitlines()) == 1 and "stray.mid" in err and "60 minutes" in err
    assert not (tmp_path / "o.wav").exists()
