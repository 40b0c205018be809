"""Build MIDI files in tests: with mido for well-formed ones, as raw bytes for broken ones."""

from __future__ import annotations

import io
import struct

import mido


def midi_bytes(tracks: list[list[mido.Message | mido.MetaMessage]], ticks_per_beat: int = 480,
               kind: int = 1) -> bytes:
    f = mido.MidiFile(type=kind, ticks_per_beat=ticks_per_beat)
    for msgs in tracks:
        f.tracks.append(mido.MidiTrack(msgs))
    buf = io.BytesIO()
    f.save(file=buf)
    return buf.getvalue()


def raw_midi(track_data: list[bytes], division: int = 480, kind: int = 1) -> bytes:
    """Hand-assembled bytes: lets a test write running status, SMPTE division, bad lengths."""
    header = b"MThd" + struct.pack(">IhhH", 6, kind, len(track_data), division & 0xFFFF)
    return header + b"".join(b"MTrk" + struct.pack(">I", len(d)) + d for d in track_data)


def riff_midi(smf: bytes, before: tuple[tuple[bytes, bytes], ...] = ((b"LIST", b"INFOINAM\x03\x00\x00\x00BWV"),),
              data_size: int | None = None) -> bytes:
    """A RIFF MIDI (.rmi) file holding ``smf``, after the chunks ``before`` (name, body; odd sizes padded);
    ``data_size``: what its ``data`` chunk claims to hold (default: ``len(smf)``)."""
    chunks = [(name, body, len(body)) for name, body in before] + [(b"data", smf, len(smf) if data_size is None
                                                                    else data_size)]
    body = b"RMID" + b"".join(name + struct.pack("<I", size) + data + b"\x00" * (len(data) % 2)
                              for name, data, size in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def note(pitch: int, on: int, off: int, velocity: int = 80, channel: int = 0) -> list[tuple[int, mido.Message]]:
    return [(on, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)),
            (off, mido.Message("note_off", note=pitch, velocity=0, channel=channel))]


def track(events: list[tuple[int, mido.Message | mido.MetaMessage]]) -> list[mido.Message | mido.MetaMessage]:
    """Absolute-tick events -> delta-time message list (stable for equal ticks)."""
    out, last = [], 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        out.append(msg.copy(time=tick - last))
        last = tick
    return out


def absolute(midi_track: mido.MidiTrack) -> list[tuple[int, str]]:
    """(tick, message-without-time) per event: what 'the same track' means for a round trip."""
    tick, out = 0, []
    for msg in midi_track:
        tick += msg.time
        out.append((tick, str(msg.copy(time=0))))
    return out
