"""The three versions of a piece as schedules and rendered audio, with loudness matching (Qt-free)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.core.midi_document import MidiDocument
from app.playback.render import loudness_db, matching_gains, render
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
