"""Humanise many files in one go, for the command line and the window's File ▸ Humanise Several Files (Qt-free).

Each file is read, its piano part given new velocities and written as ``STEM.TAG.mid`` into one folder.
A file that fails is reported and the rest go on; an input file is never written over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.dynamics import piano_top_voice
from app.core.encoding import EncodingError
from app.core.errors import UserError
from app.core.humanise import (
    VelocityPredictor,
    baseline_velocities,
    fit_to_range,
    humanise_mask,
    stylised_velocities,
)
from app.core.midi_document import MidiDocument
from app.core.notes import NoteTable


class BatchError(ValueError, UserError):
    """A problem with one file, or with where the files would go: a one-line message naming it."""


@dataclass(frozen=True)
class HumaniseSettings:
    """What to do to each file: a style of the model (``style``, ``strength``, ``keep_written``), or the random
    baseline with ``seed`` when ``baseline`` is set."""

    style: str = "classical"
    strength: float = 1.0
    keep_written: bool = True
    baseline: bool = False
    seed: int = 0
    top_voice: int = 0  # then added to the piano part's top voice (Edit ▸ Velocity ▸ Bring Out Top Voice)
    fit: tuple[int, int] | None = None  # then mapped onto this range (Edit ▸ Velocity ▸ Fit to Range)

    @property
    def tag(self) -> str:
        """What the output files are named after: ``STEM.TAG.mid``."""
        return "baseline" if self.baseline else self.style

    def describe(self, device: str = "") -> str:
        if self.baseline:
            what = f"random baseline (seed {self.seed})"
        else:
            what = f"{self.style} at strength {self.strength:.2f}" + (f" on {device}" if device else "") + (
                "" if self.keep_written else ", written dynamics ignored")
        if self.top_voice:
            what += f", top voice {self.top_voice:+d}"
        return what + (f", fitted to {self.fit[0]}–{self.fit[1]}" if self.fit else "")

    def finish(self, notes: NoteTable, mask: np.ndarray, velocity: np.ndarray, ticks_per_beat: int) -> np.ndarray:
        """``velocity`` (N,) with the top voice brought out and fitted to the range, where asked, within
        ``mask``."""
        out = np.array(velocity, dtype=np.int64)
        if self.top_voice:
            on_top = piano_top_voice(notes, mask, ticks_per_beat)  # False outside ``mask``
            out[on_top] = np.clip(out[on_top] + self.top_voice, 1, 127)
        if self.fit is not None and mask.any():
            out[mask] = fit_to_range(out[mask], *self.fit)
        return out.astype(np.int16)


def batch_targets(inputs: list[Path], folder: Path, tag: str, force: bool = False) -> list[tuple[Path, Path]]:
    """(input, output) pairs, each output ``folder/STEM.TAG.mid``; refuses two inputs that would be written to
    one file, and an output that is one of the inputs (unless ``force``)."""
    if folder.exists() and not folder.is_dir():
        raise BatchError(f"the output folder {folder} is a file, not a folder")
    pairs = [(i, folder / f"{i.stem}.{tag}.mid") for i in inputs]
    seen: dict[Path, Path] = {}
    inputs_at = {i.resolve(): i for i in inputs}
    for inp, out in pairs:
        if out in seen:
            raise BatchError(f"{seen[out]} and {inp} would both be written to {out}; humanise them separately")
        seen[out] = inp
        clobbered = inputs_at.get(out.resolve())
        if clobbered is not None and not force:
            raise BatchError(f"{inp} would be written over the input file {clobbered}; choose another output "
                             "folder")
    return pairs


def humanise_file(inp: Path, out: Path, settings: HumaniseSettings,
                  predictor_for: Callable[[], VelocityPredictor],
                  prepare: Callable[[MidiDocument], None] | None = None) -> str:
    """Humanise ``inp`` into ``out`` (atomically; ``prepare`` may choose the piano part first) and say what
    was done in one line. Raises ``BatchError`` or ``MidiError`` for bad input, each naming the file;
    ``predictor_for`` is asked only when a model is needed (a baseline never loads one)."""
    doc = MidiDocument.load(inp)
    if prepare is not None:
        prepare(doc)
    mask = humanise_mask(doc.notes, doc.piano_mask)
    if not mask.any():
        raise BatchError(f"{inp.name}: no piano notes in 21..108 to humanise")
    if settings.baseline:
        velocity = baseline_velocities(doc.notes, mask, settings.seed)
        what = settings.describe()
    else:
        predictor = predictor_for()
        try:
            velocity = stylised_velocities(doc.notes, doc.ticks_per_beat, mask, predictor, settings.style,
                                           settings.strength, keep_written=settings.keep_written)
        except EncodingError as exc:  # notes the model cannot take (a piece far too long): this file's fault
            raise BatchError(f"{inp.name}: {exc}") from None
        what = settings.describe(getattr(predictor, "device_name", ""))  # test fakes need not say
    velocity = settings.finish(doc.notes, mask, velocity, doc.ticks_per_beat)
    doc.notes = doc.notes.with_velocities(velocity)
    doc.save(out)
    changed = int(np.sum(velocity != doc.loaded_notes.velocity))
    return f"{out}: {int(mask.sum())} piano notes humanised ({what}); {changed} velocities changed"
