"""The headless ``humanise`` and ``demo`` commands: the contract and the exit codes."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO, ROOT

from app.cli import EXIT_BAD_INPUT, EXIT_NO_MODEL, main
from app.core.midi_document import MidiDocument
from app.playback.outputs import PlaybackUnavailable
from app.playback.render import loudness_db


def same_notes_except_velocity(a: MidiDocument, b: MidiDocument) -> None:
    for col in ("pitch", "start", "end", "channel", "track"):
        assert np.array_equal(getattr(a.notes, col), getattr(b.notes, col)), col


def test_humanise_with_a_model_changes_only_velocities(tmp_path, tiny_checkpoint, capsys):
    out = tmp_path / "out.mid"
    code = main(["humanise", str(DEMO), "--style", "jazz", "-o", str(out), "--checkpoint", str(tiny_checkpoint)])
    assert code == 0, capsys.readouterr().err
    before, after = MidiDocument.load(DEMO), MidiDocument.load(out)
    same_notes_except_velocity(before, after)
    assert (after.notes.velocity != before.notes.velocity).mean() > 0.9
    assert after.notes.velocity.min() >= 1


def test_strength_blends_and_zero_keeps_the_original(tmp_path, tiny_checkpoint):
    paths = {s: tmp_path / f"s{s}.mid" for s in ("0", "0.5", "1")}
    for s, p in paths.items():
        assert main(["humanise", str(DEMO), "-o", str(p), "--strength", s, "--checkpoint", str(tiny_checkpoint)]) == 0
    v = {s: MidiDocument.load(p).notes.velocity.astype(float) for s, p in paths.items()}
    orig = MidiDocument.load(DEMO).notes.velocity
    assert np.array_equal(v["0"], orig)
    assert np.abs(v["0.5"] - (orig + v["1"]) / 2).max() <= 1.0


def test_baseline_is_seeded_uniform_and_never_zero(tmp_path):
    a, b, c = (tmp_path / f"{n}.mid" for n in "abc")
    for path, seed in ((a, "3"), (b, "3"), (c, "4")):
        assert main(["humanise", str(DEMO), "--baseline", "--seed", seed, "-o", str(path)]) == 0
    va, vb, vc = (MidiDocument.load(p).notes.velocity for p in (a, b, c))
    assert np.array_equal(va, vb) and not np.array_equal(va, vc)
    assert va.min() >= 40 and va.max() <= 100 and len(np.unique(va)) > 30


def test_humanise_several_files_into_a_folder_goes_on_past_a_bad_one(tmp_path, tiny_checkpoint, capsys):
    import shutil

    second = tmp_path / "second.mid"
    shutil.copy(DEMO, second)
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd nonsense")
    out = tmp_path / "new" / "out"  # made as needed
    code = main(["humanise", str(DEMO), str(broken), str(second), "--style", "jazz", "--out-dir", str(out),
                 "--checkpoint", str(tiny_checkpoint)])
    io = capsys.readouterr()
    assert code == EXIT_BAD_INPUT and "broken.mid" in io.err and "humanised 2 of 3 files; 1 failed" in io.out
    first = MidiDocument.load(out / f"{DEMO.stem}.jazz.mid")
    same_notes_except_velocity(MidiDocument.load(DEMO), first)
    assert np.array_equal(first.notes.velocity, MidiDocument.load(out / "second.jazz.mid").notes.velocity)
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{DEMO.stem}.jazz.mid", "second.jazz.mid"])


@pytest.mark.parametrize("args, message", [
    (["{a}", "{b}", "-o", "{tmp}/x.mid"], "need --out-dir"),
    (["{a}"], "say where to write"),
    (["{a}", "-o", "{tmp}/x.mid", "--out-dir", "{tmp}"], "not both"),
    (["{a}", "{tmp}/sub/{name}", "--out-dir", "{tmp}"], "would both be written"),
    (["{a}", "--out-dir", "{a}"], "is a file, not a folder"),
    (["{tmp}/sub/x.baseline.mid", "{tmp}/sub/x.mid", "--out-dir", "{tmp}/sub"], "written over the input file"),
])
def test_humanise_output_choices_are_checked_first(tmp_path, capsys, args, message):
    (tmp_path / "sub").mkdir()
    for name in ("x.mid", "x.baseline.mid"):
        (tmp_path / "sub" / name).write_bytes(DEMO.read_bytes())
    filled = [a.format(a=DEMO, b=DEMO, tmp=tmp_path, name=DEMO.name) for a in args]
    assert main(["humanise", *filled, "--baseline"]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_a_batch_without_a_model_stops_at_once(tmp_path, capsys):
    other = tmp_path / "other.mid"
    other.write_bytes(DEMO.read_bytes())
    code = main(["humanise", str(DEMO), str(other), "--out-dir", str(tmp_path), "--checkpoint", str(tmp_path / "n")])
    assert code == EXIT_NO_MODEL and capsys.readouterr().err.count("no StyleNet checkpoint") == 1


def test_a_piece_too_long_to_encode_is_bad_input_named_in_one_line(tmp_path, tiny_checkpoint, capsys):
    from midi_factory import midi_bytes, note, track

    far = 600_000 * 120  # a note 600,000 sixteenths in: past what the model can take (a corrupt delta time)
    path = tmp_path / "far.mid"
    path.write_bytes(midi_bytes([track(note(60, 0, 480) + note(64, far, far + 480))]))
    code = main(["humanise", str(path), "-o", str(tmp_path / "o.mid"), "--checkpoint", str(tiny_checkpoint)])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_INPUT and len(err.splitlines()) == 1, err
    assert "far.mid" in err and "at most 250,000 (15,625 bars) can be humanised" in err and "unexpected" not in err
    assert not (tmp_path / "o.mid").exists()


def test_no_checkpoint_says_so_instead_of_inventing(tmp_path, capsys):
    code = main(["humanise", str(DEMO), "-o", str(tmp_path / "o.mid"), "--checkpoint", str(tmp_path / "none.pt")])
    assert code == EXIT_NO_MODEL
    assert "no StyleNet checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "o.mid").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["humanise", "{bad}", "--baseline", "-o", "{out}"], "not a MIDI file"),
    (["humanise", "{missing}", "--baseline", "-o", "{out}"], "cannot read"),
    (["humanise", str(DEMO), "--baseline", "-o", str(DEMO)], "refusing to overwrite"),
    (["humanise", str(DEMO), "--baseline", "-o", "{out}", "--strength", "1.5"], "strength"),
    (["humanise", str(DEMO), "--baseline", "-o", "{out}", "--piano-tracks", "9"], "no non-drum notes"),
    (["humanise", str(DEMO), "--baseline", "-o", "{tmp}/no/such/dir/o.mid"], "does not exist"),
])
def test_bad_input_exits_non_zero_with_one_line(tmp_path, capsys, args, message):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"hello, not midi")
    fill = {"bad": str(bad), "missing": str(tmp_path / "missing.mid"), "out": str(tmp_path / "o.mid"),
            "tmp": str(tmp_path)}
    code = main([a.format(**fill) for a in args])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_INPUT and message in err and len(err.splitlines()) == 1


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2) / 32768.0


def test_demo_writes_midi_and_plots_for_every_version(tmp_path, tiny_checkpoint):
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "demo", "--out", str(tmp_path),
                           "--checkpoint", str(tiny_checkpoint)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for version in ("original", "baseline", "classical", "jazz"):
        assert (tmp_path / f"bach_prelude_c_major.{version}.mid").stat().st_size > 1000
        assert (tmp_path / f"bach_prelude_c_major.{version}.png").read_bytes()[:4] == b"\x89PNG"
    assert str(tmp_path) in proc.stdout
    levels = [loudness_db(read_wav(tmp_path / f"bach_prelude_c_major.{v}.wav")) for v in ("original", "jazz")]
    assert abs(levels[0] - levels[1]) < 0.5 and proc.stdout.count(", loudness range ") == 4  # side by side, same level
    assert "audio rendered with " in proc.stdout  # loudness ranges depend on the soundfont, so it is named


def test_demo_without_a_soundfont_still_writes_midi_and_says_why(tmp_path, tiny_checkpoint, monkeypatch, capsys):
    def no_soundfont(*args, **kwargs):
        raise PlaybackUnavailable("no General MIDI soundfont found")

    monkeypatch.setattr("app.playback.versions.render", no_soundfont)
    assert main(["demo", "--out", str(tmp_path), "--checkpoint", str(tiny_checkpoint)]) == 0
    assert "no audio: no General MIDI soundfont found" in capsys.readouterr().err
    assert (tmp_path / "bach_prelude_c_major.jazz.mid").exists() and not list(tmp_path.glob("*.wav"))


def test_demo_with_a_missing_soundfont_names_it_and_keeps_the_midi(tmp_path, tiny_checkpoint, capsys):
    missing = tmp_path / "grand.sf2"
    args = ["demo", "--out", str(tmp_path), "--checkpoint", str(tiny_checkpoint), "--soundfont", str(missing)]
    assert main(args) == 0
    assert f"no audio: soundfont {missing} not found" in capsys.readouterr().err
    assert (tmp_path / "bach_prelude_c_major.classical.mid").exists()
    assert not list(tmp_path.glob("*.wav"))


def test_written_dynamics_are_kept_unless_ignored(tmp_path):
    import torch

    from app.core.encoding import ENCODING_VERSION
    from models.stylenet import StyleNet, StyleNetConfig, save_checkpoint
    from tests.midi_factory import midi_bytes, note, track

    torch.manual_seed(0)
    ckpt = tmp_path / "w.pt"
    save_checkpoint(ckpt, StyleNet(StyleNetConfig(hidden=16, genre_layers=1)), encoding_version=ENCODING_VERSION,
                    inference={"hop": 96, "shifts": [0], "written": 1.0})
    pitches = [60, 64, 67, 72] * 16
    events = [e for i, p in enumerate(pitches) for e in note(p, i * 240, i * 240 + 200, 40 if i < 32 else 100)]
    score = tmp_path / "p_then_f.mid"
    score.write_bytes(midi_bytes([track(events)]))
    out = {}
    for name, extra in (("kept", []), ("ignored", ["--ignore-written"])):
        out[name] = tmp_path / f"{name}.mid"
        assert main(["humanise", str(score), "-o", str(out[name]), "--checkpoint", str(ckpt), *extra]) == 0
    kept, ignored = (MidiDocument.load(out[n]).notes for n in ("kept", "ignored"))
    first = kept.start < 32 * 240

    def louder_half(v):
        return v[~first].mean() - v[first].mean()

    # The written p < f survives, in units of the model's own spread (an untrained model's is small).
    assert louder_half(kept.velocity) - louder_half(ignored.velocity) > ignored.velocity.std()
    # Ignored: the model's own line, which does not depend on the input's velocities at all.
    flat = tmp_path / "flat.mid"
    flat.write_bytes(midi_bytes([track([e for i, p in enumerate(pitches) for e in note(p, i * 240, i * 240 + 200)])]))
    assert main(["humanise", str(flat), "-o", str(tmp_path / "flat_out.mid"), "--checkpoint", str(ckpt)]) == 0
    assert np.array_equal(ignored.velocity, MidiDocument.load(tmp_path / "flat_out.mid").notes.velocity)


def test_top_voice_and_fit_finish_a_humanised_file(tmp_path, capsys):
    from app.core.dynamics import piano_top_voice

    plain, finished = tmp_path / "plain.mid", tmp_path / "finished.mid"
    assert main(["humanise", str(DEMO), "--baseline", "--seed", "3", "-o", str(plain)]) == 0
    assert main(["humanise", str(DEMO), "--baseline", "--seed", "3", "--top-voice", "10", "--fit", "40-90",
                 "-o", str(finished)]) == 0
    assert "top voice +10, fitted to 40–90" in capsys.readouterr().out
    doc = MidiDocument.load(plain)
    on_top = piano_top_voice(doc.notes, doc.piano_mask, doc.ticks_per_beat)
    raised = np.clip(doc.notes.velocity.astype(int) + 10 * on_top, 1, 127)
    expected = 40 + (raised - raised.min()) * 50 / (raised.max() - raised.min())
    assert np.array_equal(MidiDocument.load(finished).notes.velocity, np.rint(expected).astype(int))
    for spec in ("90-40", "loud", "0-100"):
        assert main(["humanise", str(DEMO), "--baseline", "--fit", spec, "-o", str(tmp_path / "x.mid")]) == 2
        assert "--fit" in capsys.readouterr().err
