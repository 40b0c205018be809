"""The three versions of a piece as schedules and rendered audio, with loudness matching (Qt-free)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.midi_document import MidiDocument
from app.playback.outputs import SAMPLE_RATE
from app.playback.render import apply_gain, loudness_db, loudness_range_db, matching_gains, render, write_wav
from app.playback.schedule import Schedule, build_schedule


def schedules_for(doc: MidiDocument, velocities: dict[str, np.ndarray]) -> dict[str, Schedule]:
    """One schedule per version (same events and times; only note-on velocities differ)."""
    out = {}
    kept = doc.notes
    try:
        for name, velocity in velocities.items():
            doc.notes = kept.with_velocities(velocity)
            out[name] = build_schedule(doc)
    finally:
        doc.notes = kept
    return out


def loudness_gains(schedules: dict[str, Schedule], soundfont: str | None = None, seconds: float | None = None,
                   reference: str = "original", progress: Callable[[float], bool] | None = None) -> dict[str, float]:
    """dB gain per version matching its rendered loudness to ``reference`` (first ``seconds`` only if given)."""
    levels = {}
    for k, (name, schedule) in enumerate(schedules.items()):
        if seconds is not None:
            cut = schedule.index_at(seconds)
            schedule = Schedule(schedule.seconds[:cut], schedule.ticks[:cut], schedule.messages[:cut],
                                schedule.tempo_map)
        levels[name] = loudness_db(render(schedule, soundfont))
        if progress is not None and progress((k + 1) / len(schedules)) is False:
            break
    ref = reference if reference in levels else next(iter(levels))
    return matching_gains(levels, ref)


@dataclass(frozen=True)
class WrittenAudio:
    path: Path
    version: str
    seconds: float
    loudness_db: float  # after the gain
    gain_db: float
    range_db: float  # loudness range: how much the dynamics move (see loudness_range_db)


def export_wavs(schedules: dict[str, Schedule], versions: list[str], path: Path, match_loudness: bool,
                soundfont: str | None = None, progress: Callable[[float], bool] | None = None) -> list[WrittenAudio]:
    """Render ``versions`` to WAV: ``path`` itself for one version, ``STEM.VERSION.wav`` beside it for several.
    With ``match_loudness`` each gets the gain that brings it to the original's loudness."""
    needed = [n for n in schedules if n in versions or (match_loudness and n == "original")]
    audio = {}
    for k, name in enumerate(needed):
        step = None if progress is None else (lambda f, k=k: progress((k + f) / len(needed)))
        audio[name] = render(schedules[name], soundfont, step)
    levels = {name: loudness_db(a) for name, a in audio.items()}
    written = []
    for name in versions:
        gain = levels["original"] - levels[name] if match_loudness else 0.0
        target = Path(path) if len(versions) == 1 else Path(path).with_name(f"{Path(path).stem}.{name}.wav")
        gained = apply_gain(audio[name], gain)
        write_wav(target, gained)
        written.append(WrittenAudio(target, name, len(gained) / SAMPLE_RATE, levels[name] + gain, gain,
                                    loudness_range_db(gained)))
    return written
