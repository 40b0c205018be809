"""The three versions of a piece as schedules and rendered audio, with loudness matching (Qt-free)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.midi_document import MidiDocument
from app.playback.outputs import SAMPLE_RATE
from app.playback.render import (
    apply_gain,
    loudness_db,
    loudness_range_db,
    matching_gains,
    peak_db,
    render,
    write_wav,
)
from app.playback.schedule import Schedule, build_schedule


def schedules_for(doc: MidiDocument, velocities: dict[str, np.ndarray],
                  parts: frozenset[tuple[int, int]] | None = None) -> dict[str, Schedule]:
    """One schedule per version (same events and times; only note-on velocities differ), of only
    ``parts`` if given (see :func:`build_schedule`)."""
    events = build_schedule(doc, parts)
    return {name: events.with_velocities(velocity) for name, velocity in velocities.items()}


def loudness_gains(schedules: dict[str, Schedule], soundfont: str | None = None, seconds: float | None = None,
                   reference: str = "original", progress: Callable[[float], bool] | None = None) -> dict[str, float]:
    """dB gain per version matching its rendered loudness to ``reference`` (first ``seconds`` only if given)."""
    levels = {}
    for k, (name, schedule) in enumerate(schedules.items()):
        if seconds is not None:
            schedule = schedule.head(seconds)
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
    gain_db: float  # all of it: loudness matching plus the common gain of normalising or overload protection
    range_db: float  # loudness range: how much the dynamics move (see loudness_range_db)
    peak_db: float  # after the gain


PEAK_CEILING_DB = -1.0  # exports never peak above this; normalising brings the loudest version's peak to it
SILENCE_DB = -90.0  # below a 16-bit WAV's last bit: normalising would only amplify rounding


def export_gains(levels: dict[str, float], peaks: dict[str, float], versions: list[str], match_loudness: bool,
                 normalize: bool) -> dict[str, float]:
    """dB gain per exported version. Matching brings each to the original's loudness; then one gain common
    to all (so the versions keep their relative levels) lifts the loudest peak to :data:`PEAK_CEILING_DB`
    when normalising, or lowers it there if matching pushed it higher (it would clip)."""
    gains = {n: levels["original"] - levels[n] if match_loudness else 0.0 for n in versions}
    loudest = max(peaks[n] + gains[n] for n in versions)
    common = PEAK_CEILING_DB - loudest
    if not normalize or loudest < SILENCE_DB:  # nothing to lift (an empty part renders silence)
        common = min(common, 0.0)
    return {n: g + common for n, g in gains.items()}


def export_wavs(schedules: dict[str, Schedule], versions: list[str], path: Path, match_loudness: bool,
                soundfont: str | None = None, progress: Callable[[float], bool] | None = None,
                normalize: bool = False) -> list[WrittenAudio]:
    """Render ``versions`` to WAV: ``path`` itself for one version, ``STEM.VERSION.wav`` beside it for several.
    With ``match_loudness`` each gets the gain that brings it to the original's loudness; with ``normalize``
    all get one more gain that brings the loudest peak to -1 dBFS (see :func:`export_gains`)."""
    needed = [n for n in schedules if n in versions or (match_loudness and n == "original")]
    audio = {}
    for k, name in enumerate(needed):
        step = None if progress is None else (lambda f, k=k: progress((k + f) / len(needed)))
        audio[name] = render(schedules[name], soundfont, step)
    levels = {name: loudness_db(a) for name, a in audio.items()}
    gains = export_gains(levels, {n: peak_db(audio[n]) for n in versions}, versions, match_loudness, normalize)
    written = []
    for name in versions:
        target = Path(path) if len(versions) == 1 else Path(path).with_name(f"{Path(path).stem}.{name}.wav")
        gained = apply_gain(audio[name], gains[name])
        write_wav(target, gained)
        written.append(WrittenAudio(target, name, len(gained) / SAMPLE_RATE, levels[name] + gains[name],
                                    gains[name], loudness_range_db(gained), peak_db(gained)))
    return written
