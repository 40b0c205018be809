"""Sound single notes as the user touches them: a key of the keyboard, a clicked note, a note dragged
to a new pitch (Qt-free). One note sounds at a time, from press to release, as on a piano."""

from __future__ import annotations

import mido

from app.playback.outputs import Output

SUSTAIN = 64


class Auditioner:
    """Presses and releases one note at a time on ``output``; the caller keeps it away from a playing player."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.held: tuple[int, int] | None = None  # (channel, pitch) sounding now

    def press(self, channel: int, pitch: int, velocity: int) -> None:
        """Sound ``pitch`` on ``channel`` until :meth:`release` (or the next press, which releases it)."""
        if self.held == (channel, pitch):
            return  # a drag that stays on one key does not retrigger it
        self.release()
        # Playback paused with the pedal down would leave the note ringing; Play re-sends the pedal state.
        self.output.send(mido.Message("control_change", channel=channel, control=SUSTAIN, value=0))
        velocity = max(1, min(127, int(velocity)))  # velocity 0 would be a note-off
        self.output.send(mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
        self.held = (channel, pitch)

    def release(self) -> None:
        if self.held is not None:
            channel, pitch = self.held
            self.output.send(mido.Message("note_off", channel=channel, note=pitch, velocity=0))
            self.held = None
