"""Transport: play/pause/stop/seek/loop, A/B/C switching, loudness matching, note audition, audio export
(thin Qt layer)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QProgressDialog, QToolBar

from app.core.editor import Version
from app.core.humanise import Cancelled
from app.core.midi_document import MidiDocument
from app.core.notes import NoteTable
from app.playback.audition import Auditioner
from app.playback.outputs import FluidSynthOutput, Output, PlaybackUnavailable, PortOutput
from app.playback.player import Player
from app.playback.schedule import Schedule
from app.playback.versions import export_wavs, loudness_gains, schedules_for
from app.ui.output_choice import OutputChoice
from app.ui.worker import BackgroundJobs, CallJob, user_message

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

# What a player's schedules were built from: the notes, the piano parts and whether Solo piano was on.
PlayedNotes = tuple[NoteTable, frozenset[tuple[int, int]], bool]
GAIN_ESTIMATE_SECONDS = 60.0  # loudness is estimated on the first minute (fast, and stable enough)
REMEASURE_AFTER_MS = 1000  # edits while playing: measure loudness again once they pause this long


class Transport(QObject):
    """Owns the output and the player; the window's version switcher, ruler and note clicks drive them.

    The output (a loaded soundfont, an open port) outlives the player: an edit rebuilds the
    schedules, not the synth, so clicking notes to hear them stays instant while editing."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window, self.settings = window, window.settings
        self.output: Output | None = None
        self.player: Player | None = None
        self._player_notes: PlayedNotes | None = None  # what the player's schedules were built from
        self._generation = 0  # bumped by each new player and each background build: only the newest is used
        self.auditioner: Auditioner | None = None
        self._audition_failed = False  # opening the output failed for a click: only Play (or a new output) retries
        self._opening = False  # the output is being opened on a worker thread
        self._play_when_open = False  # Play was pressed while it opens (and not pressed again since)
        self._outputs_asked = 0  # bumped by each new choice of output: one opened for an older choice is closed
        self.gains: dict[str, float] = {}
        self._gains_for = 0  # bumped whenever what the gains were measured on changes: late results are dropped
        self.background = BackgroundJobs(self)  # loudness measurements, audio exports, schedule builds
        self.timer = QTimer(self)
        self.timer.setInterval(30)
        self.timer.timeout.connect(self._tick)
        self.remeasure = QTimer(self)
        self.remeasure.setSingleShot(True)
        self.remeasure.setInterval(REMEASURE_AFTER_MS)
        self.remeasure.timeout.connect(self._remeasure_gains)
        self._build_toolbar()
        window.ruler.seek_requested.connect(self.seek_tick)
        self.document_replaced()

    # -- UI ---------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        w = self.window
        bar = QToolBar("Transport")
        bar.setObjectName("transport_toolbar")
        w.addToolBar(bar)
        self.play_action = QAction("▶ Play", w)
        self.play_action.setShortcut(QKeySequence("Space"))
        self.play_action.triggered.connect(self.toggle_play)
        self.stop_action = QAction("■ Stop", w)
        self.stop_action.triggered.connect(self.stop)
        self.loop_action = QAction("Loop selection", w, checkable=True)
        self.loop_action.setToolTip("Loop the time range of the selected notes")
        self.loop_action.toggled.connect(lambda _: self._update_loop())
        self.solo_action = QAction("Solo piano", w, checkable=True)
        self.solo_action.setToolTip("Play only the piano part (the parts ticked in the Tracks panel): "
                                    "no bass or drums to hear its dynamics through")
        self.solo_action.setChecked(self.settings.get("solo_piano"))
        self.solo_action.toggled.connect(self._solo_changed)
        for action in (self.play_action, self.stop_action, self.loop_action, self.solo_action):
            bar.addAction(action)
            w.addAction(action)
        self.position_label = QLabel("")
        self.position_label.setToolTip("Where the playhead is: bar.beat · time / the song's length")
        self.position_label.setAccessibleName("Playhead position")
        bar.insertWidget(self.loop_action, self.position_label)
        for text, key, tick in (("Go to &Start", "Home", lambda: 0), ("Go to &End", "End", lambda: w.doc.end_tick)):
            action = QAction(text, w)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _=False, tick=tick: self.seek_tick(tick()))
            w.addAction(action)
        self.output_box = QComboBox()
        self.output_box.addItem("FluidSynth piano", "fluidsynth")
        self.output_box.addItem("MIDI port", "port")
        self.output_box.setCurrentIndex(max(0, self.output_box.findData(self.settings.get("output"))))
        self.output_box.currentIndexChanged.connect(self._output_changed)
        bar.addWidget(self.output_box)
        self.audition_action = QAction("&Audition Notes", w, checkable=True)
        self.audition_action.setToolTip("Hear notes as you click, drag or draw them, and keys as you click them")
        self.audition_action.setChecked(self.settings.get("audition"))
        self.audition_action.toggled.connect(self._audition_toggled)
        w.edit_menu.addSeparator()
        w.edit_menu.addAction(self.audition_action)
        self.match_box = QCheckBox("Match loudness")
        self.match_box.setChecked(self.settings.get("match_loudness"))
        self.match_box.toggled.connect(self._match_changed)
        bar.addWidget(self.match_box)
        self.gain_label = QLabel("")
        bar.addWidget(self.gain_label)
        self.status = QLabel("")  # in the status bar: a toolbar folds its end away in a narrow window
        w.statusBar().addWidget(self.status, 1)
        file_menu = w.file_menu
        export_audio = QAction("Export &Audio (WAV)…", w)
        export_audio.triggered.connect(self.export_audio_dialog)
        export_all = QAction("Export All Three Versions (WAV)…", w)
        export_all.triggered.connect(lambda: self.export_audio_dialog(all_versions=True))
        self.normalize_action = QAction("&Normalise Exported Audio (peak −1 dBFS)", w, checkable=True)
        self.normalize_action.setChecked(self.settings.get("normalize_export"))
        self.normalize_action.toggled.connect(lambda on: self.settings.set("normalize_export", on))
        self.choice = OutputChoice(self)
        for action in (export_audio, export_all, self.normalize_action, self.choice.soundfont_action,
                       self.choice.port_action):
            file_menu.insertAction(file_menu.actions()[-2], action)

    def set_message(self, text: str) -> None:
        self.window.statusBar().clearMessage()  # a passing message would hide it
        self.status.setText(text)
        self.status.setToolTip(text)

    # -- player lifecycle ----------------------------------------------------------------
    def invalidate(self) -> None:
        """Another document, or another output: stop (or do not start, where Play was pressed while the output
        opens), and build schedules (and gains) on the next Play."""
        self._play_when_open = False
        if self.player is not None:
            self.player.stop()
            self.player = None
            self.timer.stop()
        self.play_action.setText("▶ Play")
        self._forget_gains()

    def document_replaced(self) -> None:
        """Another file: playback stops and the playhead goes back to its start (none drawn until it moves)."""
        self.invalidate()
        self._show_playhead(None)
        doc = self.window.doc  # as wide as the song's widest position, so the buttons do not move as it plays
        widest = re.sub(r"\d", "8", doc.describe_position(doc.end_tick)).replace(".8 ", ".88 ")
        self.position_label.setMinimumWidth(self.position_label.fontMetrics().horizontalAdvance(widest) + 12)

    def edited(self) -> None:
        """The notes, velocities or parts changed: a player carries on with them from the same place, playing
        or paused. It keeps the gains in use until they are measured again, a moment after the last edit,
        so that a velocity drag does not jump the level."""
        if self.player is None:
            self._forget_gains()
            return
        self._gains_for += 1  # measurements under way are of the notes before this edit
        if self._same_events():
            self._swap_velocities(self._velocities())
            self._update_loop()
        else:
            self._rebuild_in_background()
        if self.match_box.isChecked():
            self.remeasure.start()  # restarted by every edit

    def preview_velocities(self, rows: np.ndarray, values: np.ndarray) -> None:
        """A velocity drag in progress: the player plays the shown version with ``values`` at ``rows`` (not an
        edit yet, so not undoable; the release makes it one, or an empty preview puts the document's back)."""
        if self.player is None or not self._same_events():
            return
        velocities = self._velocities()
        shown = self.window.doc.version.value
        velocities[shown] = velocities[shown].copy()
        velocities[shown][rows] = values
        self._swap_velocities(velocities)

    def _swap_velocities(self, velocities: dict[str, np.ndarray]) -> None:
        """Into the player's schedules (whose events are still the document's): no stop, nothing sounds twice."""
        assert self.player is not None
        events = next(iter(self.player.schedules.values()))
        self.player.set_velocities({name: events.with_velocities(v) for name, v in velocities.items()},
                                   self.window.doc.version.value)

    def _same_events(self) -> bool:
        """Only velocities changed since the player was built (the edit a dynamics editor makes most)."""
        if self._player_notes is None:
            return False
        built, parts, solo = self._player_notes
        doc = self.window.doc
        return parts == doc.midi.piano_parts and solo == self.solo_action.isChecked() and built.same_places(doc.notes)

    def _schedule_source(self) -> tuple[MidiDocument, dict[str, np.ndarray], frozenset[tuple[int, int]] | None,
                                        PlayedNotes]:
        """What schedules are built from now: a copy of the document at the Original's velocities (with its
        own notes, so a worker thread can read it while editing goes on; the tables are read-only), each
        version's velocities, the parts to play (the piano part alone while Solo piano is on), and what
        :meth:`_same_events` compares with later."""
        doc, solo = self.window.doc, self.solo_action.isChecked()
        midi = copy.copy(doc.midi_for(Version.ORIGINAL))
        return midi, self._velocities(), midi.piano_parts if solo else None, (doc.notes, midi.piano_parts, solo)

    def _install(self, player: Player, played: PlayedNotes) -> None:
        self._generation += 1  # schedules still being built for an older player are dropped
        self.player, self._player_notes = player, played
        self._update_loop()

    def _carry_on(self, schedules: dict[str, Schedule], played: PlayedNotes) -> None:
        """Replace the player with one of ``schedules``, at the same position, playing on if it was (notes
        that sound in both ring on: see ``Player.take_over``)."""
        old = self.player
        assert old is not None and self.output is not None
        player = Player(self.output, schedules, self.window.doc.version.value, self.gains)
        self._install(player, played)
        player.take_over(old)

    def _rebuild_in_background(self) -> None:
        """Other notes: the player plays on with what it has while their schedules are built on a worker
        thread (20 ms for a typical file, 0.1 s for the longest), then carries on with them
        from wherever it is by then. A later edit makes a newer build, and this one is dropped."""
        midi, velocities, parts, played = self._schedule_source()
        self._generation += 1
        wanted = self._generation
        self._run(lambda progress: schedules_for(midi, velocities, parts),
                  lambda schedules: self._rebuilt(schedules, played, wanted))

    def _rebuilt(self, schedules: dict[str, Schedule], played: PlayedNotes, wanted: int) -> None:
        if wanted == self._generation and self.player is not None and self.output is not None:
            self._carry_on(schedules, played)  # else stopped, closed, or built again for a newer edit

    def _remeasure_gains(self) -> None:
        if self.player is not None and self.match_box.isChecked():
            self.compute_gains()

    def _forget_gains(self) -> None:
        self.gains, self._gains_for = {}, self._gains_for + 1
        self.gain_label.setText("")

    def close_output(self) -> None:
        """The output choice, soundfont or port changed (or the window closes): the next sound opens it anew,
        and one still being opened for the old choice is closed when it arrives."""
        self.invalidate()
        self.release_audition()
        if self.output is not None:
            self.output.close()
        self.output, self.auditioner, self._audition_failed = None, None, False
        self._opening, self._outputs_asked = False, self._outputs_asked + 1

    def soundfont_loading(self) -> None:
        """A chosen soundfont loads as the FluidSynth output (:meth:`soundfont_changed`): a Play pressed
        meanwhile, with no output open, waits for it instead of loading the old soundfont alongside."""
        if self.output is None:
            self._opening = True

    def soundfont_refused(self) -> None:
        """The soundfont that was loading cannot be used: a Play that waited for it is taken back (the status
        bar says why; the next Play opens the last good one)."""
        if self.output is None:
            self._opening, self._play_when_open = False, False
            self.play_action.setText("▶ Play")

    def soundfont_changed(self, output: Output | None) -> None:
        """A new soundfont has loaded, as FluidSynth ``output`` where that was the output when it was chosen.
        FluidSynth changes to it, playing on from the playhead if it was playing (or starting, if Play was
        pressed while it loaded); a MIDI port plays on (a DAW stays connected to it), with the loudness gains
        measured anew, as they are through the soundfont."""
        if self.output_box.currentData() != "fluidsynth":  # (also if a port was chosen while it loaded)
            if output is not None:
                output.close()
            self._forget_gains()
            self._remeasure_gains()
            return
        play = self._play_when_open or (self.player is not None and self.player.playing)
        self._tick()  # the playhead where the old piano is now, not at the last timer tick
        self.close_output()
        if output is not None:
            self.ensure_output(output)
        if play:
            self.toggle_play()  # (where the check could not open it, e.g. no audio device: once it opens)

    def _opener(self) -> tuple[Callable[[], Output], str]:
        """A function that opens the chosen output on any thread (it reads nothing of the window's), and what
        the status bar says while it runs."""
        if self.output_box.currentData() == "port":
            port = self.settings.get("midi_port") or None
            return lambda: PortOutput.open(port), "Opening the MIDI port…"
        return self.piano_opener(self.settings.get("soundfont") or None)

    @staticmethod
    def piano_opener(soundfont: str | None) -> tuple[Callable[[], Output], str]:
        """:meth:`_opener` for FluidSynth playing ``soundfont`` (None: the General MIDI one), whichever is
        chosen: the one place the window opens FluidSynth, the soundfont check included."""
        what = f"soundfont {Path(soundfont).name}" if soundfont else "the General MIDI soundfont"
        return lambda: FluidSynthOutput(soundfont), f"Loading {what}…"

    def ensure_output(self, output: Output | None = None) -> Output | None:
        """The open output (``output`` replaces it, e.g. a test's fake port), opened here and now if there is
        none, or None with the reason shown. Play and note clicks use :meth:`open_output_in_background`."""
        if output is not None and output is not self.output:
            self.close_output()
            self.output = output
        if self.output is None:
            try:
                self.output = self._opener()[0]()
            except PlaybackUnavailable as exc:
                self.set_message(f"Cannot play: {user_message(exc)}")
                return None
        return self.output

    def open_output_in_background(self) -> None:
        """Open the chosen output on a worker thread, unless it is open or opening: FluidSynth loads the whole
        soundfont first (0.11 s for the 148 MB FluidR3, 0.55 s for a 1 GB one from a warm disk cache: see
        ``bench/bench_soundfont.py``), too long to hold the window still. A Play pressed meanwhile starts once
        it is open."""
        if self.output is not None or self._opening:
            return
        opener, saying = self._opener()
        self._opening, asked = True, self._outputs_asked
        self.set_message(saying)
        self._run(lambda progress: opener(), lambda output: self._opened(output, asked),
                  on_error=lambda message: self._open_failed(message, asked))

    def _opened(self, output: Output, asked: int) -> None:
        current = asked == self._outputs_asked  # else another output, soundfont or port was chosen meanwhile
        if current:
            self._opening = False
        if not current or self.output is not None:  # (or :meth:`ensure_output` opened one here meanwhile)
            output.close()
            return
        self.output = output
        if self._play_when_open:
            self._play_when_open = False
            self.toggle_play()
        else:
            self.set_message(f"Output: {output.name}")

    def _open_failed(self, message: str, asked: int) -> None:
        if asked != self._outputs_asked:
            return
        # Note clicks stay silent from now on, without a message at each one; Play tries again.
        self._opening, self._play_when_open, self._audition_failed = False, False, True
        self.play_action.setText("▶ Play")
        self.set_message(f"Cannot play: {message}")

    def _velocities(self) -> dict[str, np.ndarray]:
        state = self.window.doc.state
        return {v.value: state.velocities(v) for v in self.window.doc.available_versions()}  # type: ignore[misc]

    def schedules(self, versions: set[str] | None = None) -> dict[str, Schedule]:
        """Schedules of the versions (all, or ``versions``): of the piano part alone while Solo piano is on,
        for loudness matching (the versions differ only there) and for audio export."""
        midi, velocities, parts, _ = self._schedule_source()
        return schedules_for(midi, {k: v for k, v in velocities.items() if versions is None or k in versions}, parts)

    def ensure_player(self, output: Output | None = None) -> Player | None:
        if self.player is not None and (output is None or output is self.output):
            return self.player
        out = self.ensure_output(output)
        if out is None:
            return None
        self.release_audition()
        midi, velocities, parts, played = self._schedule_source()
        player = Player(out, schedules_for(midi, velocities, parts), self.window.doc.version.value, self.gains)
        if self.window.roll.playhead_tick:  # e.g. after another output was chosen: go on from where it was
            player.seek(self._seconds_at(self.window.roll.playhead_tick))
        self._install(player, played)
        self._say_output()
        if self.match_box.isChecked() and not self.gains:
            self.compute_gains()
        return player

    def _say_output(self) -> None:
        solo = self.solo_action.isChecked()
        assert self.output is not None
        self.set_message(f"Output: {self.output.name}" + (" (solo piano)" if solo else ""))
        if solo and not self.window.doc.midi.piano_parts:
            self.set_message("Solo piano: no part is ticked as the piano part in the Tracks panel")

    def toggle_play(self) -> None:
        self.release_audition()
        if self.output is None:  # this press plays once the output is open; a second one takes it back
            self._play_when_open = not self._play_when_open
            self.play_action.setText("❚❚ Pause" if self._play_when_open else "▶ Play")
            self.open_output_in_background()
            return
        player = self.ensure_player()
        if player is None:
            return
        if player.playing:
            player.pause()
            self.timer.stop()
            self.play_action.setText("▶ Play")
        else:
            player.play()
            self.timer.start()
            self.play_action.setText("❚❚ Pause")

    def stop(self) -> None:
        self._play_when_open = False
        if self.player is not None:
            self.player.stop()
        self.timer.stop()
        self.play_action.setText("▶ Play")
        self._show_playhead(0.0)

    def _seconds_at(self, tick: float) -> float:
        return float(self.window.doc.midi.seconds(np.array(tick)))

    def seek_tick(self, tick: float) -> None:
        if self.player is not None:  # else the next Play starts from the playhead
            self.player.seek(self._seconds_at(tick))
        self._show_playhead(tick)

    def seek_marker(self, step: int) -> None:
        """To the file's next marker after the playhead (``step`` 1) or the last one before it (-1: pressed just
        after a section began, back to its start, as in a DAW)."""
        markers, here = self.window.doc.markers, self.window.roll.playhead_tick or 0.0
        ahead = [m for m in markers if m.tick > here] if step > 0 else [m for m in markers if m.tick < here][::-1]
        if ahead:
            self.seek_tick(ahead[0].tick)
            self.window.view.keep_in_view(ahead[0].tick, self.window.roll.width())
            self.window.statusBar().showMessage(f"Marker: {ahead[0].text}", 4000)
        else:
            where = "in this file" if not markers else "after the playhead" if step > 0 else "before the playhead"
            self.window.statusBar().showMessage(f"No marker {where}.", 4000)

    def switch(self, version: Version) -> None:
        if self.player is not None and version.value in self.player.schedules:
            self.player.switch(version.value)
        self._show_gain()

    def _update_loop(self) -> None:
        if self.player is None:
            return
        doc = self.window.doc
        if self.loop_action.isChecked() and doc.selection.any():
            ticks = np.array([doc.notes.start[doc.selection].min(), doc.notes.end[doc.selection].max()])
            start, end = doc.midi.tempo_map.seconds(ticks)
            self.player.loop = (float(start), float(end))
        else:
            self.player.loop = None

    def _solo_changed(self, on: bool) -> None:
        """Rebuild the schedules with or without the other parts, carrying on from the same place; the
        loudness is matched anew, on what is heard now."""
        self.settings.set("solo_piano", on)
        self._forget_gains()
        if self.player is None:
            return
        midi, velocities, parts, played = self._schedule_source()
        self._carry_on(schedules_for(midi, velocities, parts), played)
        self._say_output()
        if self.match_box.isChecked():
            self.compute_gains()

    def _output_changed(self) -> None:
        self.settings.set("output", self.output_box.currentData())
        self.close_output()

    # -- audition ------------------------------------------------------------------------
    def audition(self, channel: int, pitch: int, velocity: int) -> None:
        """Sound one note until :meth:`release_audition`; silent while playing, when turned off, or
        when no output could be opened (that is said once, on the status bar, not at every click)."""
        if not self.audition_action.isChecked() or (self.player is not None and self.player.playing):
            return
        out = self.output
        if out is None:  # this click is silent; the next ones sound once the output is open
            if not self._audition_failed:
                self.open_output_in_background()
            return
        if self.auditioner is None or self.auditioner.output is not out:
            self.auditioner = Auditioner(out)
        self.auditioner.press(channel, pitch, velocity)

    def release_audition(self) -> None:
        if self.auditioner is not None:
            self.auditioner.release()

    def _audition_toggled(self, on: bool) -> None:
        self.settings.set("audition", on)
        if not on:
            self.release_audition()

    def _tick(self) -> None:
        if self.player is None:
            return
        tick = float(self.window.doc.midi.tempo_map.ticks(self.player.position()))
        self._show_playhead(tick)
        self.window.view.keep_in_view(tick, self.window.roll.width())  # follow the playhead
        if not self.player.playing:
            self.timer.stop()
            self.play_action.setText("▶ Play")

    def refresh_position(self) -> None:
        """Say again where the playhead is (in minutes and seconds alone while the view counts time)."""
        self._show_playhead(self.window.roll.playhead_tick)

    def _show_playhead(self, tick: float | None) -> None:
        bars = not self.window.view.time_grid  # bar numbers of a gridless performance mean nothing
        self.position_label.setText(self.window.doc.describe_position(tick or 0.0, bars))
        self.window.show_tempo_and_meter(tick or 0.0)
        self.window.roll.playhead_tick = tick
        self.window.ruler.playhead_tick = tick
        self.window.markers_panel.show_playhead(tick or 0.0)
        self.window.roll.update()
        self.window.ruler.update()

    # -- loudness ------------------------------------------------------------------------
    def _match_changed(self, on: bool) -> None:
        self.settings.set("match_loudness", on)
        if on and not self.gains:
            self.compute_gains()
        if self.player is not None:
            self.player.set_gains(self.gains if on else {})
        self._show_gain()

    def compute_gains(self) -> None:
        schedules, measured_for = self.schedules(), self._gains_for
        soundfont = self.settings.get("soundfont") or None
        self.set_message("Measuring loudness…")
        self._run(lambda progress: loudness_gains(schedules, soundfont, GAIN_ESTIMATE_SECONDS, progress=progress),
                  lambda gains: self._gains_ready(gains, measured_for),
                  on_error=lambda message: self.set_message(f"Cannot match loudness: {message}"))

    def _gains_ready(self, gains: dict[str, float], measured_for: int) -> None:
        if measured_for != self._gains_for:
            return  # measured on notes or parts that have changed since; a newer measurement is due
        self.gains = gains
        if self.player is not None and self.match_box.isChecked():
            self.player.set_gains(gains)
        self.set_message("Loudness matched to the original.")
        self._show_gain()

    def _show_gain(self) -> None:
        version = self.window.doc.version.value
        gain = self.gains.get(version) if self.match_box.isChecked() else None
        self.gain_label.setText(f"gain {gain:+.1f} dB" if gain is not None else "")

    # -- audio export --------------------------------------------------------------------
    def export_audio(self, path: Path, versions: list[Version], match: bool,
                     done: Callable[[list[Path]], None] | None = None) -> None:
        names = [v.value for v in versions]
        schedules = self.schedules({*names, "original"})
        solo = " (the piano part alone: Solo piano is on)" if self.solo_action.isChecked() else ""
        soundfont = self.settings.get("soundfont") or None
        normalize = self.normalize_action.isChecked()

        def work(progress: Callable[[float], bool]) -> list[Path] | None:
            try:
                return [w.path for w in export_wavs(schedules, names, path, match, soundfont, progress, normalize)]
            except Cancelled:  # everything is rendered before anything is written: nothing was
                return None

        dialog = QProgressDialog("Rendering audio…", "Cancel", 0, 100, self.window)
        dialog.setMinimumDuration(300)

        def finished(paths: list[Path] | None) -> None:
            dialog.close()
            if paths is None:
                self.set_message("Audio export cancelled: nothing was written.")
                return
            self.set_message(f"Wrote {', '.join(p.name for p in paths)}{solo}")
            if done is not None:
                done(paths)

        def failed(message: str) -> None:
            dialog.close()  # or it stays on screen, saying it renders
            self.set_message(f"Audio export failed: {message}")

        job = self._run(work, finished, progress=lambda f: dialog.setValue(int(100 * f)), on_error=failed)
        dialog.canceled.connect(lambda: setattr(job, "cancelled", True))

    def export_audio_dialog(self, all_versions: bool = False) -> None:
        doc = self.window.doc
        versions = doc.available_versions() if all_versions else [doc.version]
        suffix = "" if all_versions else f".{doc.version.value}"
        path = self.window.exporter.ask_save_path("Export audio", suffix, extension=".wav", kinds="WAV audio (*.wav)")
        if path:
            self.export_audio(Path(path), versions, self.match_box.isChecked())

    def _run(self, fn: Callable[[Callable[[float], bool]], Any], on_result: Callable[[Any], None],
             progress: Callable[[Any], None] | None = None,
             on_error: Callable[[str], None] | None = None) -> CallJob:
        return self.background.run(fn, on_result, on_error or (lambda message: self.set_message(f"Failed: {message}")),
                                   progress)

    def shutdown(self) -> None:
        self.background.shutdown()
        self.close_output()
