"""A MIDI keyboard as input (Qt-free): its key presses, for setting velocities by playing them."""

from __future__ import annotations

from collections.abc import Callable

import mido

from app.playback.outputs import VIRTUAL_PORT_NAME, PlaybackUnavailable


class KeyboardInput:
    """Calls ``on_press(note, velocity)`` for every key struck (a note-on above 0) on an input port, on the
    port's own thread (rtmidi's callback thread): the caller hands it on to its main thread."""

    def __init__(self, on_press: Callable[[int, int], None]) -> None:
        self.on_press = on_press
        self.port: mido.ports.BaseInput | None = None
        self.name = ""

    @staticmethod
    def port_names() -> list[str]:
        """The input ports there are, not counting our own virtual port; why not, where none can be listed."""
        try:
            names = [n for n in mido.get_input_names() if not n.startswith(VIRTUAL_PORT_NAME)]
        except Exception as exc:  # no ALSA sequencer / CoreMIDI here
            raise PlaybackUnavailable(f"MIDI input is unavailable here ({exc})") from None
        if not names:
            raise PlaybackUnavailable("no MIDI input ports found; connect a MIDI keyboard (or start its driver)")
        return names

    @classmethod
    def open(cls, name: str | None, on_press: Callable[[int, int], None]) -> KeyboardInput:
        """Listen to the input port called ``name`` (else the first there is, not counting our own port)."""
        names = cls.port_names()
        keyboard = cls(on_press)
        keyboard.name = name if name is not None and name in names else names[0]
        try:
            keyboard.port = mido.open_input(keyboard.name, callback=keyboard.receive)
        except Exception as exc:
            raise PlaybackUnavailable(f"the MIDI input {keyboard.name!r} cannot be opened ({exc})") from None
        return keyboard

    def receive(self, msg: mido.Message) -> None:
        if msg.type == "note_on" and msg.velocity > 0:
            self.on_press(msg.note, msg.velocity)

    def close(self) -> None:
        if self.port is not None:
            self.port.close()
            self.port = None
