"""The editable document behind the window: notes, three velocity versions, selection, undoable edits.

Qt-free. Every edit builds a new immutable :class:`EditorState` and hands
``(text, before, after)`` to ``push`` — the UI wraps that in a ``QUndoCommand``
(so a velocity drag, a note move and a whole Humanise are each one undo step);
without a UI, ``push`` just applies the state. Views subscribe to ``changed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import mido
import numpy as np

from app.core import markers as marker_edits
from app.core.dynamics import piano_top_voice
from app.core.humanise import fit_to_range, ramp, scale_dynamics
from app.core.markers import Marker, Markers
from app.core.midi_document import MidiDocument
from app.core.notes import NoteTable, pitch_name
from app.core.timing import bar_beat


def clock(seconds: float) -> str:
    """0:12.4, 12:05.0 or 1:02:05.0: tenths shown, rounded down so the clock never runs ahead."""
    tenths = int(max(0.0, seconds) * 10 + 1e-6)
    minutes, rest = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    text = f"{minutes}:{rest // 10:02d}.{rest % 10}"
    return f"{hours}:{minutes:02d}:{rest // 10:02d}.{rest % 10}" if hours else text


class Version(StrEnum):
    ORIGINAL = "original"
    BASELINE = "baseline"
    STYLISED = "stylised"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True, eq=False)
class EditorState:
    """One undoable snapshot. ``notes.velocity`` is the Original version's velocity."""

    notes: NoteTable
    baseline: np.ndarray | None = None  # (N,) velocities, or None until generated
    stylised: np.ndarray | None = None
    style: str | None = None  # style of the stylised version
    markers: Markers = ()  # the song's markers, in time order (edited ones belong to the score, as notes do)

    def velocities(self, version: Version) -> np.ndarray | None:
        return {Version.ORIGINAL: self.notes.velocity, Version.BASELINE: self.baseline,
                Version.STYLISED: self.stylised}[version]

    def with_velocities(self, version: Version, velocity: np.ndarray) -> EditorState:
        v = np.asarray(velocity, dtype=np.int16)
        if version is Version.ORIGINAL:
            return replace(self, notes=self.notes.with_velocities(v))
        if version is Version.BASELINE:
            return replace(self, baseline=v)
        return replace(self, stylised=v)

    def map_rows(self, notes: NoteTable, rows: np.ndarray) -> EditorState:
        """New notes whose rows come from ``rows`` of the old table (-1: a new note, at its own velocity)."""
        def remap(v: np.ndarray | None) -> np.ndarray | None:
            if v is None:
                return None
            out = np.where(rows >= 0, v[np.maximum(rows, 0)], notes.velocity)
            return out.astype(np.int16)
        return replace(self, notes=notes, baseline=remap(self.baseline), stylised=remap(self.stylised))


@dataclass(frozen=True, eq=False)
class NoteClip:
    """Copied notes (the editor's clipboard): times relative to the earliest copied onset, parts kept, and the
    velocities of every version that existed when they were copied."""

    notes: NoteTable  # start/end relative to the first onset; velocity is the Original's; on_ref -1 (new notes)
    versions: dict[Version, np.ndarray]  # (n,) velocities per version that existed, the Original included
    ticks_per_beat: int  # of the file the notes were copied from
    origin: object  # that document's identity: notes pasted into another file go to its piano part

    @property
    def length(self) -> int:
        """Ticks from the first onset to the last note-off."""
        return int(self.notes.end.max()) if len(self.notes) else 0

    def velocities(self, version: Version) -> np.ndarray:
        """(n,) the clip's velocities in ``version``, or its Original ones where that version did not exist."""
        return self.versions.get(version, self.notes.velocity)


Listener = Callable[[], None]


class EditorDocument:
    """A MIDI document being edited. Only the main thread calls its methods."""

    def __init__(self, midi: MidiDocument) -> None:
        self.midi = midi
        self.state = EditorState(midi.notes, markers=midi.markers)
        self.version = Version.ORIGINAL
        self.selection = np.zeros(len(midi.notes), dtype=bool)
        self.saved_state = self.state  # the Original as last saved (or loaded)
        self.exported_stylised: tuple[EditorState, np.ndarray] | None = None  # (state, velocities) last exported
        self.push: Callable[[str, EditorState, EditorState], None] = lambda text, before, after: self.restore(after)
        self._listeners: list[Listener] = []
        self._identity = object()  # what a clip copied here remembers (ids of freed documents are reused)

    @classmethod
    def open(cls, path: str | Path) -> EditorDocument:
        return cls(MidiDocument.load(path))

    @classmethod
    def empty(cls) -> EditorDocument:
        """An untitled 4/4 piece with no notes: what the editor shows before a file is opened."""
        midi = mido.MidiFile(type=1, ticks_per_beat=480)
        midi.tracks.append(mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4)]))
        doc = cls(MidiDocument(midi, None, "untitled"))
        doc.midi.piano_parts = frozenset({(0, 0)})
        return doc

    # -- events ---------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self) -> None:
        for listener in list(self._listeners):
            listener()

    # -- reading ------------------------------------------------------------
    @property
    def notes(self) -> NoteTable:
        return self.state.notes

    @property
    def piano_mask(self) -> np.ndarray:
        return self.notes.part_mask(self.midi.piano_parts)

    def shown_velocities(self) -> np.ndarray:
        """(N,) velocities of the version on display (Original when that version does not exist yet)."""
        v = self.state.velocities(self.version)
        return self.notes.velocity if v is None else v

    def describe_note(self, row: int) -> str:
        """A note for a tooltip: its name, where it starts, how long it is, its velocity in every version."""
        n = self.notes
        velocities = ", ".join(f"{version.label} {int(velocity[row])}" for version in self.available_versions()
                               if (velocity := self.state.velocities(version)) is not None)
        return f"{self.describe_row(n, row)}\nvelocity: {velocities}"

    def describe_row(self, notes: NoteTable, row: int) -> str:
        """:meth:`describe_place` of note ``row`` of ``notes`` (e.g. the notes as a drag would leave them)."""
        return self.describe_place(int(notes.pitch[row]), int(notes.start[row]), int(notes.end[row]))

    def describe_place(self, pitch: int, start: int, end: int) -> str:
        """"E4 · bar 3, beat 2 · 0.5 beats": a note's name, where it starts and how long it is, in this file's
        bars and beats."""
        midi = self.midi
        bar, beat = bar_beat(midi.time_signatures, midi.ticks_per_beat, start)
        beats = (end - start) / midi.ticks_per_beat
        length = f"{round(beats, 2):g} beat" + ("" if round(beats, 2) == 1 else "s")
        return f"{pitch_name(pitch)} · bar {bar}, beat {round(beat, 2):g} · {length}"

    @property
    def end_tick(self) -> int:
        """Where the song ends: the file's last event or the last note-off, whichever is later (edits can
        move notes past the file's end)."""
        return max(int(self.midi.end_tick), int(self.notes.end.max()) if len(self.notes) else 0)

    def describe_position(self, tick: float, bars: bool = True) -> str:
        """"5.2 · 0:12.4 / 2:05.0": where the playhead is, as bar.beat and in time, against the song's length
        ("0:12.4 / 2:05.0" without ``bars``: for a performance recorded without a grid)."""
        now, total = self.midi.tempo_map.seconds(np.array([max(0.0, tick), self.end_tick]))
        time = f"{clock(now)} / {clock(total)}"
        return f"{self.bar_and_beat(tick)} · {time}" if bars else time

    def bar_and_beat(self, tick: float) -> str:
        """"5.2": the beat ``tick`` is in, as DAWs count (both from 1)."""
        bar, beat = bar_beat(self.midi.time_signatures, self.midi.ticks_per_beat, max(0, int(tick)))
        return f"{bar}.{int(beat)}"

    def piano_note_near(self, pitch: int, seconds: float, within: float) -> int | None:
        """The piano note of ``pitch`` whose onset is nearest ``seconds`` into the song, if within ``within``
        seconds of it (a key played along with the music, matched to the note it meant), else None."""
        n = self.notes
        rows = np.flatnonzero(self.piano_mask & (n.pitch == pitch))
        if not len(rows):
            return None
        distance = np.abs(self.midi.tempo_map.seconds(n.start[rows]) - seconds)
        k = int(np.argmin(distance))
        return int(rows[k]) if distance[k] <= within else None

    def available_versions(self) -> list[Version]:
        return [v for v in Version if self.state.velocities(v) is not None]

    @property
    def unsaved(self) -> list[Version]:
        """Versions holding work that is in no file: the Original (the edited score) since it was last saved,
        the Stylised version since it was last exported. The random baseline is not counted: its seed remakes it."""
        state, saved = self.state, self.saved_state
        out = [Version.ORIGINAL] if state.notes is not saved.notes or state.markers != saved.markers else []
        stylised, exported = state.stylised, self.exported_stylised
        if stylised is not None and (exported is None or exported[1] is not stylised
                                     or not exported[0].notes.same_places(self.notes)
                                     or exported[0].markers != state.markers):
            out.append(Version.STYLISED)
        return out

    @property
    def modified(self) -> bool:
        return bool(self.unsaved)

    def mark_saved(self) -> None:
        """Take every version as written (nothing to ask about on close)."""
        self.saved_state = self.state
        self.exported_stylised = (self.state, self.state.stylised) if self.state.stylised is not None else None

    def mark_unsaved(self) -> None:
        """Take the Original as never saved (a document rebuilt from a recovery copy)."""
        notes = self.notes.with_velocities(self.notes.velocity)  # a table the state's notes are not
        self.saved_state = EditorState(notes, markers=self.midi.loaded_markers)

    # -- state changes --------------------------------------------------------
    def restore(self, state: EditorState) -> None:
        """Apply a snapshot (the undo stack calls this)."""
        if len(state.notes) != len(self.selection):
            self.selection = np.zeros(len(state.notes), dtype=bool)
        self.state = state
        if state.velocities(self.version) is None:  # e.g. Humanise undone: show what still exists
            self.version = Version.ORIGINAL
        self._emit()

    def _edit(self, text: str, after: EditorState) -> None:
        self.push(text, self.state, after)

    def set_version(self, version: Version) -> None:
        self.version = version
        self._emit()

    def set_selection(self, mask: np.ndarray) -> None:
        self.selection = np.asarray(mask, dtype=bool).copy()
        self._emit()

    def select_neighbour(self, step: int, from_tick: float = 0.0) -> int | None:
        """Select the piano note ``step`` places after the selection (before it, when negative), in the order
        they are played (start, then pitch); with nothing selected, the first one from ``from_tick`` on (or
        the last one before it). Returns its row; None, with the selection kept, when there is no such note."""
        piano = np.flatnonzero(self.piano_mask)
        order = piano[np.lexsort((self.notes.pitch[piano], self.notes.start[piano]))]
        chosen = np.flatnonzero(self.selection[order])
        if len(chosen):
            at = int(chosen[-1] if step > 0 else chosen[0]) + step
        else:
            first_on = int(np.searchsorted(self.notes.start[order], from_tick, side="left"))
            at = first_on + step - 1 if step > 0 else first_on + step
        if not 0 <= at < len(order):
            return None
        mask = np.zeros(len(self.notes), dtype=bool)
        mask[order[at]] = True
        self.set_selection(mask)
        return int(order[at])

    def set_piano_parts(self, keys: set[tuple[int, int]]) -> None:
        self.midi.set_piano_parts(keys)
        self._emit()

    # -- edits (each one undo step) ---------------------------------------------
    def set_velocities(self, rows: np.ndarray, values: np.ndarray, text: str = "Set velocity") -> None:
        """Set velocities of ``rows`` in the displayed version (creating it from Original if needed)."""
        current = np.array(self.shown_velocities(), dtype=np.int16)
        current[np.asarray(rows, dtype=np.int64)] = np.clip(np.rint(values), 1, 127)
        self._edit(text, self.state.with_velocities(self.version, current))

    def scale_velocities(self, rows: np.ndarray, range_factor: float, offset: float,
                         end_offset: float | None = None) -> None:
        """Widen or narrow the dynamics of ``rows`` about their mean and shift their level: one undo step.
        With ``end_offset``, the shift ramps from ``offset`` at the first onset to it at the last: a crescendo
        (or diminuendo) over the notes, each keeping its place among its neighbours."""
        rows = np.asarray(rows, dtype=np.int64)
        if end_offset is None or end_offset == offset:
            shift: float | np.ndarray = offset
            text = "Scale velocities"
        else:
            shift = ramp(self.notes.start[rows], offset, end_offset)
            text = f"{'Crescendo' if end_offset > offset else 'Diminuendo'} {offset:+g} → {end_offset:+g}"
        self.set_velocities(rows, scale_dynamics(self.shown_velocities()[rows], range_factor, shift), text)

    def fit_velocities(self, rows: np.ndarray, low: int, high: int) -> None:
        """``rows``' velocities mapped onto ``low..high``, their shape kept: one undo step."""
        rows = np.asarray(rows, dtype=np.int64)
        self.set_velocities(rows, fit_to_range(self.shown_velocities()[rows], low, high), f"Fit to {low}–{high}")

    def voice_velocities(self, rows: np.ndarray, top: int, others: int) -> None:
        """``rows`` that are the piano part's top voice (highest sounding when struck, :func:`top_voice`)
        louder by ``top``, the rest by ``others`` (negative: softer): one undo step."""
        rows = np.asarray(rows, dtype=np.int64)
        on_top = piano_top_voice(self.notes, self.piano_mask, self.midi.ticks_per_beat)  # the whole part counts
        change = np.where(on_top[rows], top, others)
        self.set_velocities(rows, self.shown_velocities()[rows].astype(np.int64) + change,
                            f"Voicing: top {top:+d}, others {others:+d}")

    def nudge_velocities(self, rows: np.ndarray, delta: int) -> None:
        """``rows`` louder (or softer, ``delta`` < 0) by ``delta`` velocity units, within 1..127: one undo step."""
        rows = np.asarray(rows, dtype=np.int64)
        self.set_velocities(rows, self.shown_velocities()[rows].astype(np.int64) + delta, f"Velocity {delta:+d}")

    def set_version_velocities(self, version: Version, velocity: np.ndarray, text: str,
                               style: str | None = None) -> None:
        """Replace a whole version (Humanise, Baseline) in one step, and show it."""
        after = self.state.with_velocities(version, velocity)
        if style is not None:
            after = replace(after, style=style)
        self.version = version
        self._edit(text, after)

    def move_notes(self, rows: np.ndarray, dtick: int, dpitch: int) -> None:
        self._edit("Move notes", replace(self.state, notes=self.moved(rows, dtick, dpitch)))

    def moved(self, rows: np.ndarray, dtick: int, dpitch: int) -> NoteTable:
        """The notes with ``rows`` moved by ``dtick`` and ``dpitch``, kept at or after the start (together)
        and on the keyboard: what :meth:`move_notes` makes, and what a drag shows before it is dropped."""
        rows = np.asarray(rows, dtype=np.int64)
        n = self.notes
        shift = max(dtick, -int(n.start[rows].min())) if len(rows) else 0
        pitch = n.pitch.astype(np.int64)
        pitch[rows] = np.clip(pitch[rows] + dpitch, 0, 127)
        start, end = n.start.copy(), n.end.copy()
        start[rows] += shift
        end[rows] += shift
        return n.with_columns(pitch=pitch, start=start, end=end)

    def resize_notes(self, rows: np.ndarray, dtick: int, min_length: int) -> None:
        self._edit("Resize notes", replace(self.state, notes=self.resized(rows, dtick, min_length)))

    def resized(self, rows: np.ndarray, dtick: int, min_length: int) -> NoteTable:
        """The notes with the ends of ``rows`` moved by ``dtick``, none shorter than ``min_length``."""
        rows = np.asarray(rows, dtype=np.int64)
        n = self.notes
        end = n.end.copy()
        end[rows] = np.maximum(end[rows] + dtick, n.start[rows] + max(1, min_length))
        return n.with_columns(end=end)

    def add_note(self, pitch: int, start: int, end: int, velocity: int, track: int, channel: int) -> None:
        one = [np.array([x]) for x in (pitch, start, max(end, start + 1), velocity, channel, track, -1)]
        new = NoteTable(*one)
        notes = self.notes.append(new)
        rows = np.r_[np.arange(len(self.notes)), -1]
        self._edit("Draw note", self.state.map_rows(notes, rows))
        self.set_selection(np.r_[np.zeros(len(self.notes) - 1, bool), True])

    def delete_notes(self, rows: np.ndarray, text: str = "Delete notes") -> None:
        keep = np.ones(len(self.notes), dtype=bool)
        keep[np.asarray(rows, dtype=np.int64)] = False
        if keep.all():
            return
        self._edit(text, self.state.map_rows(self.notes.take(keep), np.flatnonzero(keep)))

    def copy_notes(self, rows: np.ndarray) -> NoteClip | None:
        """``rows`` as a clip with every existing version's velocities (None for no rows); changes nothing."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return None
        n = self.notes.take(rows)
        first = int(n.start.min())
        notes = n.with_columns(start=n.start - first, end=n.end - first, on_ref=np.full(len(n), -1))
        versions = {v: np.array(vel[rows]) for v in Version if (vel := self.state.velocities(v)) is not None}
        return NoteClip(notes, versions, self.midi.ticks_per_beat, self._identity)

    def paste_notes(self, clip: NoteClip, at_tick: int) -> None:
        """Add ``clip``'s notes with its first onset at ``at_tick``, in one undo step; they become the selection.
        Each version gets the clip's velocities in that version (its Original ones where it had none), so a
        humanised passage pasted elsewhere stays humanised."""
        at = max(0, int(at_tick))
        c = clip.notes if clip.origin is self._identity else self._adopted(clip)
        new = c.with_columns(start=c.start + at, end=c.end + at)
        state = self.state

        def extended(version: Version) -> np.ndarray | None:
            own = state.velocities(version)
            return None if own is None else np.concatenate([own, clip.velocities(version)]).astype(np.int16)

        after = replace(state, notes=self.notes.append(new), baseline=extended(Version.BASELINE),
                        stylised=extended(Version.STYLISED))
        self._edit("Paste notes", after)
        self.set_selection(np.r_[np.zeros(len(state.notes), bool), np.ones(len(c), bool)])

    # -- markers (each edit one undo step; a tick names a marker) ----------------------
    @property
    def markers(self) -> Markers:
        return self.state.markers

    def marker_at(self, tick: int) -> Marker | None:
        return next((m for m in self.markers if m.tick == tick), None)

    def add_marker(self, tick: int, text: str = "") -> Marker:
        """A marker at ``tick`` named ``text`` (or "Marker 3": the first free number), joined to one already
        there; returns the marker at ``tick``."""
        name = marker_edits.marker_name(text) or marker_edits.next_free_name(self.markers)
        self._edit_markers("Add marker", marker_edits.added(self.markers, tick, name))
        return next(m for m in self.markers if m.tick == max(0, int(tick)))

    def rename_marker(self, tick: int, text: str) -> bool:
        """Name the marker at ``tick`` ``text``; False (nothing done) for a name with nothing printable in it."""
        name = marker_edits.marker_name(text)
        if not name:
            return False
        self._edit_markers("Rename marker", marker_edits.renamed(self.markers, tick, name))
        return True

    def move_marker(self, tick: int, to_tick: int) -> None:
        self._edit_markers("Move marker", marker_edits.moved(self.markers, tick, to_tick))

    def delete_marker(self, tick: int) -> None:
        self._edit_markers("Delete marker", marker_edits.removed(self.markers, tick))

    def section_notes(self, tick: float) -> tuple[Marker, int | None, np.ndarray] | None:
        """The section ``tick`` is in, as (its marker, the next marker's tick or None at the song's end), and
        (N,) which piano notes start in it; None before the first marker."""
        span = marker_edits.section(self.markers, tick)
        if span is None:
            return None
        marker, stop = span
        onsets = self.notes.start
        inside = (onsets >= marker.tick) & (onsets < stop if stop is not None else True)
        return marker, stop, self.piano_mask & inside

    def _edit_markers(self, text: str, markers: Markers) -> None:
        if markers != self.markers:
            self._edit(text, replace(self.state, markers=markers))

    def _adopted(self, clip: NoteClip) -> NoteTable:
        """Another file's clip as notes of this one: its times in this file's ticks per beat, every note in
        this file's piano part (the lowest track and channel where several are ticked); ValueError if none is."""
        if not self.midi.piano_parts:
            raise ValueError("no part of this file is the piano part: tick one in the Tracks panel, then paste")
        track, channel = min(self.midi.piano_parts)
        scale = self.midi.ticks_per_beat / clip.ticks_per_beat
        c = clip.notes
        start = np.rint(c.start * scale).astype(np.int64)
        end = np.maximum(np.rint(c.end * scale).astype(np.int64), start)
        return c.with_columns(start=start, end=end, track=np.full(len(c), track), channel=np.full(len(c), channel))

    # -- saving -----------------------------------------------------------------
    def midi_for(self, version: Version) -> MidiDocument:
        """The MIDI document with ``version``'s velocities (for export/playback)."""
        velocity = self.state.velocities(version)
        if velocity is None:
            raise ValueError(f"there is no {version.label} version yet")
        self.midi.notes = self.notes.with_velocities(velocity)
        self.midi.markers = self.state.markers
        return self.midi

    def export(self, path: str | Path, version: Version) -> None:
        self.midi_for(version).save(path)
        if version is Version.ORIGINAL:
            self.saved_state = self.state
        elif version is Version.STYLISED and self.state.stylised is not None:  # midi_for made sure it is
            self.exported_stylised = (self.state, self.state.stylised)
        self._emit()  # what is unsaved has changed
