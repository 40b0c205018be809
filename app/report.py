"""Headless results: humanise the demo in every version, plot piano roll + velocities to PNG and render
each version to WAV for listening side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.core.dynamics import CURVE_SIGMA_SECONDS, dynamics_curve, in_time_order
from app.core.humanise import VelocityPredictor, baseline_velocities, humanise_mask, stylised_velocities
from app.core.midi_document import MidiDocument
from app.playback.outputs import PlaybackUnavailable, find_soundfont
from app.playback.versions import WrittenAudio, export_wavs, schedules_for


def plot_versions(doc: MidiDocument, versions: dict[str, np.ndarray], png: Path, title: str) -> None:
    """One PNG: piano roll coloured by velocity (top) and velocity per note (bottom), per version."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    notes = doc.notes
    start, end = doc.note_seconds()
    piano = in_time_order(start, doc.piano_mask)  # the notes the dynamics curve follows, the same in each version
    at = np.linspace(0.0, float(end.max()) if len(notes) else 1.0, 400)
    fig, axes = plt.subplots(2, len(versions), figsize=(5.5 * len(versions), 6), squeeze=False,
                             sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    cmap = plt.get_cmap("viridis")
    for col, (name, velocity) in enumerate(versions.items()):
        roll, lane = axes[0, col], axes[1, col]
        boxes = [[(s, p - 0.4), (e, p - 0.4), (e, p + 0.4), (s, p + 0.4)]
                 for s, e, p in zip(start, np.maximum(end, start + 0.05), notes.pitch)]
        roll.add_collection(PolyCollection(boxes, facecolors=cmap(velocity / 127.0), edgecolors="none"))
        roll.set_xlim(0, max(float(end.max()), 1.0) if len(notes) else 1.0)
        roll.set_ylim(int(notes.pitch.min()) - 2, int(notes.pitch.max()) + 2)
        roll.set_title(f"{name} — mean {velocity.mean():.0f}, SD {velocity.std():.1f}")
        roll.set_ylabel("MIDI pitch")
        lane.vlines(start, 0, velocity, color=cmap(velocity / 127.0), linewidth=1)
        lane.plot(at, dynamics_curve(start[piano], velocity[piano], at), color="black", linewidth=1.5,
                  label=f"dynamics (σ {CURVE_SIGMA_SECONDS:g} s)")
        lane.legend(loc="lower right", fontsize="small")
        lane.set_ylim(0, 127)
        lane.set_xlabel("time (s)")
        lane.set_ylabel("velocity")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    plt.close(fig)


@dataclass(frozen=True)
class DemoResult:
    files: list[Path]  # MIDI and PNG
    audio: list[WrittenAudio] = field(default_factory=list)
    problem: str = ""  # why something is missing, e.g. no soundfont for the audio
    soundfont: Path | None = None  # what the audio was rendered with: loudness ranges depend on it


def write_demo(song: Path, out: Path, predictor: VelocityPredictor | None, seed: int = 0,
               audio: bool = True, soundfont: str | None = None) -> DemoResult:
    """MIDI + PNG (and, with ``audio``, a loudness-matched WAV rendered with ``soundfont``, default
    ``find_soundfont()``) for the original, the baseline and each style the predictor knows."""
    doc = MidiDocument.load(song)
    mask = humanise_mask(doc.notes, doc.piano_mask)
    versions = {"original": np.array(doc.notes.velocity), "baseline": baseline_velocities(doc.notes, mask, seed)}
    if predictor is not None:
        for style in predictor.styles:
            versions[style] = stylised_velocities(doc.notes, doc.ticks_per_beat, mask, predictor, style)
    written = []
    for name, velocity in versions.items():
        doc.notes = doc.notes.with_velocities(velocity)
        midi, png = out / f"{song.stem}.{name}.mid", out / f"{song.stem}.{name}.png"
        doc.save(midi)
        plot_versions(doc, {name: velocity}, png, f"{song.stem}: {name}")
        written += [midi, png]
    doc.notes = doc.loaded_notes
    compare = out / f"{song.stem}.compare.png"
    plot_versions(doc, versions, compare, f"{song.stem}: all versions")
    written.append(compare)
    if not audio:
        return DemoResult(written)
    try:
        # Each version at the original's loudness: a listener compares the dynamics' shape, not one
        # version simply being louder. Normalised together, so they keep that match and play at a usual level.
        font = find_soundfont(soundfont)
        wavs = export_wavs(schedules_for(doc, versions), list(versions), out / f"{song.stem}.wav",
                           match_loudness=True, soundfont=str(font), normalize=True)
    except PlaybackUnavailable as exc:
        return DemoResult(written, problem=f"no audio: {exc}")
    return DemoResult(written, wavs, soundfont=font)
