"""Where events go: FluidSynth (built-in piano) or any MIDI port (rtmidi via mido), behind one interface.

Both fail with :class:`PlaybackUnavailable` carrying a message that says why and
what to do, so the app can still open and edit without sound.
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path
from typing import Protocol

import mido

from app.core.errors import UserError

SAMPLE_RATE = 44100
SYSTEM_SOUNDFONTS = ("/usr/share/sounds/sf2/default-GM.sf2", "/usr/share/sounds/sf2/FluidR3_GM.sf2",
                     "/usr/share/sounds/sf3/default-GM.sf3")


VIRTUAL_PORT = "@virtual"  # the port setting's value for a virtual port of our own
VIRTUAL_PORT_NAME = "StyleNet Studio"  # what other programs list it as


class PlaybackUnavailable(UserError):
    """No sound can be made this way; ``str()`` says why and what to do."""


class BadSoundfont(PlaybackUnavailable):
    """The soundfont the user chose is missing or unreadable: their input, not this machine, is at fault."""


class Output(Protocol):
    name: str

    def send(self, msg: mido.Message) -> None: ...

    def set_gain_db(self, db: float) -> None: ...

    def panic(self) -> None: ...

    def close(self) -> None: ...


def find_soundfont(preferred: str | None = None) -> Path:
    """The user's soundfont, else an installed General MIDI one, else pretty_midi's TimGM6mb.sf2."""
    if preferred:
        path = Path(preferred).expanduser()
        if not path.is_file():
            raise BadSoundfont(f"soundfont {path} not found; choose another .sf2/.sf3 file")
        return path
    for candidate in SYSTEM_SOUNDFONTS:
        if os.path.isfile(candidate):
            return Path(candidate).resolve()  # default-GM.sf2 is a link; name the real file
    try:
        import pretty_midi

        bundled = Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")
        if bundled.is_file():
            return bundled
    except ImportError:
        pass
    found = sorted(glob.glob("/usr/share/sounds/sf[23]/*.sf[23]"))
    if found:
        return Path(found[0])
    raise PlaybackUnavailable("no General MIDI soundfont found; install fluid-soundfont-gm or choose a .sf2 file")


def new_synth(soundfont: str | None, gain: float = 0.8,
              settings: dict[str, str | int | float] | None = None):  # -> fluidsynth.Synth
    """A FluidSynth synth with the soundfont on all 16 channels (drums on 10 by GM convention); ``settings``
    (FluidSynth's, e.g. ``audio.driver``) apply before it loads.

    FluidSynth page-locks the sample data where the user may (``synth.lock-memory``, on by default: root, or
    an audio group with an unlimited memlock limit), so playback never waits for it to be swapped back in.
    We keep that. Its cost, once per load: while the kernel locks a 1 GB soundfont the window's longest stall
    was 13.5 ms (median of 21 runs; over 10 ms in 14), against 4.1 ms unlocked (26 runs; over 10 ms in 2)
    (``bench/bench_soundfont.py --grow-to 1000 [--no-lock]``)."""
    try:
        import fluidsynth
    except (ImportError, OSError) as exc:
        raise PlaybackUnavailable(f"FluidSynth is not available ({exc}); install libfluidsynth3 "
                                  "(sudo apt-get install libfluidsynth3) or play through a MIDI port") from None
    path = find_soundfont(soundfont)
    synth = fluidsynth.Synth(gain=gain, samplerate=float(SAMPLE_RATE), **(settings or {}))
    sfid = synth.sfload(str(path))
    if sfid < 0:
        synth.delete()
        raise BadSoundfont(f"{path.name} is not a usable soundfont; choose another .sf2/.sf3 file")
    for channel in range(16):
        synth.program_select(channel, sfid, 128 if channel == 9 else 0, 0)
    synth.sfid = sfid
    return synth


def check_soundfont(path: str) -> None:
    """Load ``path`` once and let it go, so a bad choice is refused when it is made (:class:`BadSoundfont`),
    not at the next Play. Without FluidSynth it cannot be checked (:class:`PlaybackUnavailable`): the caller
    decides what that means."""
    new_synth(path).delete()


def send_to_synth(synth, msg: mido.Message) -> None:
    kind = msg.type
    if kind == "note_on":
        synth.noteon(msg.channel, msg.note, msg.velocity)
    elif kind == "note_off":
        synth.noteoff(msg.channel, msg.note)
    elif kind == "control_change":
        synth.cc(msg.channel, msg.control, msg.value)
    elif kind == "program_change":
        synth.program_select(msg.channel, synth.sfid, 128 if msg.channel == 9 else 0, msg.program)
    elif kind == "pitchwheel":
        synth.pitch_bend(msg.channel, msg.pitch)


# Audio drivers tried, in order, after FluidSynth's default (ALSA on Linux) fails to open: a desktop whose
# sound server holds the card without an ALSA bridge still plays through PulseAudio's protocol (PipeWire
# serves it too). Not JACK: its client starts a jackd server when none runs (6 s to fail without one), nor
# SDL2, which plays only once the host program has started SDL's audio.
FALLBACK_AUDIO_DRIVERS = ("pulseaudio",)


class FluidSynthOutput:
    """The built-in piano: FluidSynth playing live through an audio driver."""

    BASE_GAIN = 0.8

    def __init__(self, soundfont: str | None = None, driver: str | None = None,
                 settings: dict[str, str | int | float] | None = None) -> None:
        """``driver``: FluidSynth's audio driver; by default its own, then :data:`FALLBACK_AUDIO_DRIVERS`.
        ``settings``: FluidSynth's, e.g. ``audio.file.name`` for the "file" ``driver``."""
        import fluidsynth

        self.synth = new_synth(soundfont, self.BASE_GAIN, settings)
        tried = [driver] if driver else [self.synth.get_setting("audio.driver"), *FALLBACK_AUDIO_DRIVERS]
        for name in dict.fromkeys(tried):  # in order, each once
            self.synth.setting("audio.driver", name)  # read when the driver is made, so it may change now
            # Only the audio driver: Synth.start() would also open an ALSA MIDI input we do not want.
            self._driver = fluidsynth.new_fluid_audio_driver(self.synth.settings, self.synth.synth)
            if self._driver:
                self.audio_driver = name
                break
        else:
            self.synth.delete()
            raise PlaybackUnavailable("no audio device could be opened for FluidSynth; connect a sound card, or "
                                      "choose a MIDI output port, or export audio to WAV")
        self.name = "FluidSynth" if name == tried[0] else f"FluidSynth through {name}"

    def send(self, msg: mido.Message) -> None:
        send_to_synth(self.synth, msg)

    def set_gain_db(self, db: float) -> None:
        self.synth.setting("synth.gain", self.BASE_GAIN * 10 ** (db / 20))

    def panic(self) -> None:
        for channel in range(16):
            self.synth.all_notes_off(channel)

    def close(self) -> None:
        import fluidsynth

        self.panic()
        fluidsynth.delete_fluid_audio_driver(self._driver)
        self.synth.delete()


class PortOutput:
    """Any mido output port: an rtmidi hardware/virtual port, or a test's fake ``BaseOutput``.

    MIDI ports have no master gain we can rely on, so loudness matching is sent as
    channel volume (CC7) on every channel.
    """

    def __init__(self, port: mido.ports.BaseOutput) -> None:
        self.port, self.name = port, getattr(port, "name", "MIDI port") or "MIDI port"

    @classmethod
    def open(cls, name: str | None = None) -> PortOutput:
        """The port called ``name`` (else the first there is), or with :data:`VIRTUAL_PORT` a new port of our
        own that a DAW or a software synth connects to, as to a keyboard (ALSA, JACK and CoreMIDI)."""
        if name == VIRTUAL_PORT:
            return cls.open_virtual()
        try:
            names = mido.get_output_names()
            if not names:
                raise PlaybackUnavailable("no MIDI output ports found; connect a device or start a virtual port")
            return cls(mido.open_output(name if name in names else names[0]))
        except PlaybackUnavailable:
            raise
        except Exception as exc:  # rtmidi/ALSA errors when there is no MIDI backend
            raise PlaybackUnavailable(f"MIDI output is unavailable here ({exc}); use FluidSynth instead") from None

    @classmethod
    def open_virtual(cls) -> PortOutput:
        try:
            port = mido.open_output(VIRTUAL_PORT_NAME, virtual=True)
        except Exception as exc:  # Windows' MIDI API has no virtual ports; no backend at all on a server
            hint = ("make one with a loopback driver such as loopMIDI and choose it instead"
                    if sys.platform == "win32" else "use FluidSynth instead")
            raise PlaybackUnavailable(f"a virtual MIDI port cannot be made here ({exc}); {hint}") from None
        output = cls(port)
        output.name = f"virtual port “{VIRTUAL_PORT_NAME}” (connect a DAW or synth to it)"
        return output

    def send(self, msg: mido.Message) -> None:
        self.port.send(msg)

    def set_gain_db(self, db: float) -> None:
        value = int(max(0, min(127, round(100 * 10 ** (db / 40)))))  # CC7 ~ 40 log10 dB
        for channel in range(16):
            self.port.send(mido.Message("control_change", channel=channel, control=7, value=value))

    def panic(self) -> None:
        for channel in range(16):
            self.port.send(mido.Message("control_change", channel=channel, control=123, value=0))

    def close(self) -> None:
        self.panic()
        self.port.close()
