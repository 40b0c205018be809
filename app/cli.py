"""Command line: ``humanise``, ``demo`` and the window (``python main.py [FILE]``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from app import DEMO_SONG
from app.core.batch import BatchError, HumaniseSettings, batch_targets, humanise_file
from app.core.humanise import (
    NoCheckpointError,
    VelocityPredictor,
    baseline_velocities,
    humanise_mask,
    stylised_velocities,
)
from app.core.midi_document import MidiDocument, MidiError

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_NO_MODEL = 0, 1, 2, 3


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


class WholeRunError(CliError):
    """A problem no other input file would avoid (no usable model, a style it lacks): stops a batch."""


def _piano_tracks(doc: MidiDocument, spec: str | None) -> None:
    """``--piano-tracks 2,3``: every non-drum part of those (1-based) tracks is the piano part."""
    if not spec:
        return
    try:
        tracks = {int(t) - 1 for t in spec.split(",") if t.strip()}
    except ValueError:
        raise CliError(f"--piano-tracks wants track numbers like 2,3 (got {spec!r})") from None
    keys = {p.key for p in doc.parts if p.track in tracks and not p.is_drums}
    if not keys:
        raise CliError(f"tracks {spec} hold no non-drum notes; parts are: " + "; ".join(p.label() for p in doc.parts))
    doc.set_piano_parts(keys)


def _check_output(inp: Path, out: Path, force: bool) -> None:
    if out.suffix.lower() not in (".mid", ".midi"):
        raise CliError(f"output {out} should end in .mid")
    if out.exists() and out.resolve() == inp.resolve() and not force:
        raise CliError(f"refusing to overwrite the input file {inp}; choose another --output (or add --force)")
    if not out.parent.exists():
        raise CliError(f"output folder {out.parent} does not exist")


def load_predictor(checkpoint: str | None, device: str | None):  # -> StyleNetPredictor (lazy: torch is heavy)
    from models.inference import StyleNetPredictor
    from models.stylenet import CheckpointError

    try:
        return StyleNetPredictor.from_checkpoint(checkpoint, device)
    except (NoCheckpointError, CheckpointError) as exc:
        raise CliError(str(exc), EXIT_NO_MODEL) from None


def _settings(args: argparse.Namespace) -> HumaniseSettings:
    return HumaniseSettings(style=args.style, strength=args.strength, keep_written=not args.ignore_written,
                            baseline=args.baseline, seed=args.seed, top_voice=args.top_voice,
                            fit=_velocity_range(args.fit))


def _velocity_range(spec: str | None) -> tuple[int, int] | None:
    """``--fit 30-110``: the lowest and highest velocity, within 1..127."""
    if spec is None:
        return None
    low, _, high = spec.partition("-")
    try:
        bounds = int(low), int(high)
    except ValueError:
        raise CliError(f"--fit wants the lowest and highest velocity like 30-110 (got {spec!r})") from None
    if not 1 <= bounds[0] <= bounds[1] <= 127:
        raise CliError(f"--fit {spec}: the range must lie within 1..127, lowest first")
    return bounds


def _humanise_file(inp: Path, out: Path, args: argparse.Namespace, predictor_for) -> str:
    """Humanise one file into ``out``; returns the line to print. Bad input raises CliError/MidiError."""
    _check_output(inp, out, args.force)
    try:
        return humanise_file(inp, out, _settings(args), predictor_for,
                             lambda doc: _piano_tracks(doc, args.piano_tracks))
    except BatchError as exc:
        raise CliError(str(exc)) from None


def _humanise_targets(args: argparse.Namespace) -> list[tuple[Path, Path]]:
    """(input, output) pairs: ``-o`` for one input, ``--out-dir`` (STEM.STYLE.mid in it) for any number."""
    inputs = [Path(i) for i in args.input]
    if args.output and args.out_dir:
        raise CliError("give either --output or --out-dir, not both")
    if args.output:
        if len(inputs) > 1:
            raise CliError(f"{len(inputs)} input files need --out-dir (--output names one file)")
        return [(inputs[0], Path(args.output))]
    if not args.out_dir:
        raise CliError("say where to write: --output OUT.mid, or --out-dir DIR for one or more inputs")
    try:
        pairs = batch_targets(inputs, Path(args.out_dir), _settings(args).tag, args.force)
    except BatchError as exc:
        raise CliError(str(exc)) from None
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    return pairs


def cmd_humanise(args: argparse.Namespace) -> int:
    pairs = _humanise_targets(args)
    loaded: list[VelocityPredictor] = []

    def predictor_for() -> VelocityPredictor:  # loaded once, on first need: a baseline run never touches torch
        if not loaded:
            try:
                predictor = load_predictor(args.checkpoint, args.device)
            except CliError as exc:
                raise WholeRunError(str(exc), exc.code) from None
            if args.style not in predictor.styles:
                raise WholeRunError(f"unknown style {args.style!r}; this checkpoint has: {', '.join(predictor.styles)}")
            loaded.append(predictor)
        return loaded[0]

    if len(pairs) == 1:
        print(_humanise_file(*pairs[0], args, predictor_for))
        return EXIT_OK
    failed = 0
    for inp, out in pairs:
        try:
            print(_humanise_file(inp, out, args, predictor_for))
        except WholeRunError:
            raise
        except (CliError, MidiError) as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
    summary = f"humanised {len(pairs) - failed} of {len(pairs)} files"
    print(summary + (f"; {failed} failed (see above)" if failed else ""))
    return EXIT_BAD_INPUT if failed else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from app.report import write_demo

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        predictor = load_predictor(args.checkpoint, args.device)
    except CliError as exc:
        print(f"note: {exc}; writing the original and the baseline only", file=sys.stderr)
        predictor = None
    result = write_demo(DEMO_SONG, out, predictor, seed=args.seed, audio=not args.no_audio, soundfont=args.soundfont)
    for path in result.files:
        print(f"wrote {path}")
    if result.soundfont:
        print(f"audio rendered with {result.soundfont} (loudness ranges differ between soundfonts)")
    for w in result.audio:
        print(f"wrote {w.path}: loudness matched to the original, normalised together "
              f"({w.gain_db:+.1f} dB, peak {w.peak_db:.1f} dBFS), loudness range {w.range_db:.1f} dB")
    if result.problem:
        print(f"note: {result.problem}", file=sys.stderr)
    print(f"demo results are in {out.resolve()}")
    return EXIT_OK


def version_velocities(doc: MidiDocument, args: argparse.Namespace, versions: list[str]) -> dict[str, np.ndarray]:
    """Velocities of each requested version (the original is always included, for loudness matching)."""
    mask = humanise_mask(doc.notes, doc.piano_mask)
    out = {"original": np.array(doc.notes.velocity)}
    if "baseline" in versions:
        out["baseline"] = baseline_velocities(doc.notes, mask, args.seed)
    if "stylised" in versions:
        predictor = load_predictor(args.checkpoint, args.device)
        if args.style not in predictor.styles:
            raise CliError(f"unknown style {args.style!r}; this checkpoint has: {', '.join(predictor.styles)}")
        out["stylised"] = stylised_velocities(doc.notes, doc.ticks_per_beat, mask, predictor, args.style,
                                              args.strength, keep_written=not args.ignore_written)
    return out


def cmd_render(args: argparse.Namespace) -> int:
    from app.playback.outputs import BadSoundfont, PlaybackUnavailable, find_soundfont
    from app.playback.render import RenderTooLong
    from app.playback.versions import export_wavs, schedules_for

    inp, out = Path(args.input), Path(args.output)
    if out.suffix.lower() != ".wav":
        raise CliError(f"output {out} should end in .wav")
    if not out.parent.exists():
        raise CliError(f"output folder {out.parent} does not exist")
    doc = MidiDocument.load(inp)
    versions = ["original", "baseline", "stylised"] if args.version == "all" else [args.version]
    schedules = schedules_for(doc, version_velocities(doc, args, versions))
    try:
        font = find_soundfont(args.soundfont)
        written = export_wavs(schedules, versions, out, args.match_loudness, str(font), normalize=args.normalize)
    except PlaybackUnavailable as exc:  # a bad --soundfont is the user's input; no FluidSynth is this machine's
        raise CliError(str(exc), EXIT_BAD_INPUT if isinstance(exc, BadSoundfont) else EXIT_ERROR) from None
    except RenderTooLong as exc:
        raise CliError(f"{inp.name}: {exc}") from None
    print(f"rendered with {font}")
    for w in written:
        print(f"{w.path}: {w.version}, {w.seconds:.1f} s, loudness {w.loudness_db:.1f} dBFS"
              + f", peak {w.peak_db:.1f} dBFS (gain {w.gain_db:+.1f} dB), loudness range {w.range_db:.1f} dB")
    return EXIT_OK


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", help="StyleNet checkpoint (default: models/stylenet.pt)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when available)")


def _soundfont_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--soundfont", help=".sf2/.sf3 file (default: an installed General MIDI soundfont)")


def _style_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--style", default="classical", help="classical or jazz (the checkpoint's styles)")
    p.add_argument("--strength", type=float, default=1.0, help="0..1 blend of original and predicted velocities")
    p.add_argument("--ignore-written", action="store_true",
                   help="do not keep the dynamics written in the file's velocities (e.g. p/f from a notation program)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random baseline")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python main.py", description="StyleNet Studio: human dynamics for MIDI piano.",
                                epilog="Without a command: `python main.py [FILE.mid]` opens the editor, and "
                                "`python main.py --screenshot OUT.png FILE.mid` renders it to a PNG (see "
                                "`python main.py FILE.mid --help`). Exit codes: 0 ok, 1 unexpected error, "
                                "2 bad input, 3 no usable checkpoint.")
    sub = p.add_subparsers(dest="command")
    h = sub.add_parser("humanise", help="humanise a MIDI file's piano part (headless)")
    h.add_argument("input", nargs="+", help="one or more MIDI files")
    h.add_argument("--output", "-o", help="OUT.mid, for one input")
    h.add_argument("--out-dir", help="folder for any number of inputs: each is written there as STEM.STYLE.mid "
                   "(STEM.baseline.mid); a file that fails is reported and the others go on")
    _style_options(h)
    h.add_argument("--baseline", action="store_true", help="random velocities instead of the model")
    h.add_argument("--piano-tracks", help="override the automatic piano part: track numbers, e.g. 2,3")
    h.add_argument("--top-voice", type=int, default=0, metavar="N",
                   help="then make the top voice (the notes highest when struck) N velocity units louder")
    h.add_argument("--fit", metavar="LO-HI", help="then map the piano part's velocities onto LO..HI, e.g. 30-110")
    _model_options(h)
    h.add_argument("--force", action="store_true", help="allow overwriting the input file")
    h.set_defaults(run=cmd_humanise)
    d = sub.add_parser("demo", help="humanise the bundled demo song in every style; write MIDI, PNG plots and "
                       "loudness-matched WAVs")
    d.add_argument("--out", default="output/demo", help="folder for the results (default: output/demo)")
    d.add_argument("--no-audio", action="store_true", help="skip the WAV renders")
    d.add_argument("--seed", type=int, default=0, help="seed of the random baseline")
    _soundfont_option(d)
    _model_options(d)
    d.set_defaults(run=cmd_demo)
    r = sub.add_parser("render", help="render a version to WAV through FluidSynth (offline, faster than real time)")
    r.add_argument("input")
    r.add_argument("--output", "-o", required=True, help="OUT.wav; with --version all, OUT.VERSION.wav for each")
    r.add_argument("--version", choices=("original", "baseline", "stylised", "all"), default="stylised")
    _style_options(r)
    r.add_argument("--match-loudness", action="store_true", help="match each version's loudness to the original's")
    r.add_argument("--normalize", action="store_true",
                   help="one gain for all versions that brings the loudest peak to -1 dBFS (exports never peak "
                        "above -1 dBFS in any case)")
    _soundfont_option(r)
    _model_options(r)
    r.set_defaults(run=cmd_render)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"humanise", "demo", "render"}
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help")):
        from app.ui.launch import launch  # the window; only path that imports Qt

        return launch(argv)
    args = build_parser().parse_args(argv)
    if not 0.0 <= getattr(args, "strength", 1.0) <= 1.0:
        print("error: --strength must lie between 0 and 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return int(args.run(args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except MidiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last resort: one line, not a traceback; STYLENET_DEBUG=1 shows it
        if os.environ.get("STYLENET_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR
