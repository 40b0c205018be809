"""Real-time playback on a background thread, with A/B/C switching at the current position (Qt-free)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import mido

from app.playback.outputs import Output
from app.playback.schedule import Schedule

LOOKAHEAD = 0.0005  # s: wake slightly early and spin, for sub-millisecond timing


class Player:
    """Plays one of several equally-timed schedules (the versions) through an output.

    All public methods are thread-safe. ``sent`` records ``(due, actual)`` send
    times (perf_counter seconds) when ``record_timing`` is set, for the jitter benchmark.
    """

    def __init__(self, output: Output, schedules: dict[str, Schedule], version: str,
                 gains_db: dict[str, float] | None = None) -> None:
        self.output, self.schedules, self.version = output, schedules, version
        self.gains_db = gains_db or {}
        self.loop: tuple[float, float] | None = None
        self.record_timing = False
        self.sent: list[tuple[float, float]] = []
        self.on_finished: Callable[[], None] | None = None
        self._lock = threading.Condition()
        self._playing = False
        self._position = 0.0  # seconds, valid while paused/stopped
        self._t0 = 0.0  # perf_counter at position 0 while playing
        self._index = 0
        self._sounding: set[tuple[int, int]] = set()
        self._thread: threading.Thread | None = None
        self._apply_gain()

    # -- queries --------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def schedule(self) -> Schedule:
        return self.schedules[self.version]

    def position(self) -> float:
        with self._lock:
            return time.perf_counter() - self._t0 if self._playing else self._position

    # -- transport --------------------------------------------------------------------
    def play(self) -> None:
        with self._lock:
            if self._playing:
                return
            if self._position >= self.schedule.duration:
                self._position = 0.0
            self._start_at(self._position)
            self._playing = True
            self._thread = threading.Thread(target=self._run, name="playback", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        self._halt(keep_position=True)

    def stop(self) -> None:
        self._halt(keep_position=False)

    def seek(self, seconds: float) -> None:
        with self._lock:
            self._silence()
            self._position = max(0.0, seconds)
            if self._playing:
                self._start_at(self._position)
            self._lock.notify_all()

    def switch(self, version: str) -> None:
        """Swap to another version at the current position; whatever sounds gets its note-off."""
        if version not in self.schedules:
            raise KeyError(version)
        with self._lock:
            if version == self.version:
                return
            self._silence()
            self.version = version
            self._apply_gain()
            if self._playing:
                self._index = self.schedule.index_at(time.perf_counter() - self._t0)
            self._lock.notify_all()

    def set_velocities(self, schedules: dict[str, Schedule], version: str) -> None:
        """Swap in schedules of the same events with other velocities (an edit while playing): nothing
        stops, nothing sounds twice, and the next note-on plays its new velocity."""
        with self._lock:
            if any(s.messages is not self.schedule.messages for s in schedules.values()):
                raise ValueError("set_velocities needs the same events; build a new player for other notes")
            self.schedules = dict(schedules)
            self.switch(version)  # under the same (re-entrant) lock: the thread never sees a version that is gone

    def take_over(self, old: Player) -> None:
        """Carry on from where ``old`` (on the same output, with other notes: an edit while playing) is,
        playing if it was. Keys sounding there in both go on sounding, to end at this player's note-off,
        and the rest get their note-off now: a moved note stops, the rest of its chord rings on."""
        playing, position, sounding = old._hand_over()
        with self._lock:
            self._position = position
            keep = self.schedule.sounding_before(self.schedule.index_at(position))
            for channel, note in sorted(sounding - keep):
                self.output.send(mido.Message("note_off", channel=channel, note=note, velocity=0))
            self._sounding = sounding & keep
        if playing:
            self.play()

    def set_gains(self, gains_db: dict[str, float]) -> None:
        with self._lock:
            self.gains_db = dict(gains_db)
            self._apply_gain()

    # -- internals (call with the lock held) ---------------------------------------------
    def _apply_gain(self) -> None:
        self.output.set_gain_db(self.gains_db.get(self.version, 0.0))

    def _start_at(self, seconds: float) -> None:
        self._t0 = time.perf_counter() - seconds
        self._index = self.schedule.index_at(seconds)
        for msg in self.schedule.state_before(self._index):  # pedal and programs as they stand here
            self.output.send(msg)

    def _silence(self) -> None:
        for channel, note in sorted(self._sounding):
            self.output.send(mido.Message("note_off", channel=channel, note=note, velocity=0))
        self._sounding.clear()
        self.output.panic()

    def _halt(self, keep_position: bool) -> None:
        _, _, sounding = self._hand_over()  # not under the lock: the thread needs it to finish
        with self._lock:
            self._sounding = sounding  # what it left sounding gets its note-off here
            self._silence()
            if not keep_position:
                self._position = 0.0

    def _hand_over(self) -> tuple[bool, float, set[tuple[int, int]]]:
        """Stop without a note-off and give up what sounds: (playing, position, sounding keys), for
        :meth:`take_over` (or :meth:`_halt`, which ends them)."""
        with self._lock:
            playing, position = self._playing, self.position()
            self._playing, self._position = False, position
            sounding, self._sounding = self._sounding, set()
            self._lock.notify_all()
        self._join()
        return playing, position, sounding

    def _join(self) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def _send(self, msg: mido.Message) -> None:
        self.output.send(msg)
        key = (msg.channel, msg.note) if msg.type in ("note_on", "note_off") else None
        if key is not None:
            if msg.type == "note_on" and msg.velocity > 0:
                self._sounding.add(key)
            else:
                self._sounding.discard(key)

    def _run(self) -> None:
        ended = False
        with self._lock:
            while self._playing:
                schedule, now = self.schedule, time.perf_counter() - self._t0
                next_due = float(schedule.seconds[self._index]) if self._index < len(schedule) else float("inf")
                if self.loop and next_due >= self.loop[1]:  # the loop's end comes before the next event
                    if now < self.loop[1]:
                        self._lock.wait(timeout=min(self.loop[1] - now, 0.05))
                        continue
                    self._silence()
                    self._start_at(self.loop[0])
                    continue
                if self._index >= len(schedule):
                    self._playing = False
                    self._silence()
                    self._position = schedule.duration
                    ended = True
                    break
                due = float(schedule.seconds[self._index])
                wait = due - now
                if wait > LOOKAHEAD:
                    self._lock.wait(timeout=min(wait - LOOKAHEAD, 0.05))
                    continue
                while time.perf_counter() - self._t0 < due:  # spin the last fraction of a millisecond
                    pass
                if self.record_timing:
                    self.sent.append((self._t0 + due, time.perf_counter()))
                self._send(schedule.message(self._index))
                self._index += 1
        if ended and self.on_finished is not None:
            self.on_finished()
