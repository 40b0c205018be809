"""Name filters for file dialogs."""

from __future__ import annotations

from app.core.midi_document import OPENABLE_SUFFIXES


def name_filter(label: str, *suffixes: str) -> str:
    """``"MIDI files (*.mid *.MID)"`` for ``("MIDI files", "mid")``: each suffix in lower and upper case, because
    the native file dialog on Linux (GTK) matches filters case-sensitively and would hide ``SONG.MID``, the
    usual spelling of files from older sequencers and keyboards."""
    patterns = dict.fromkeys(f"*.{case}" for suffix in suffixes for case in (suffix.lower(), suffix.upper()))
    return f"{label} ({' '.join(patterns)})"


MIDI_FILES = name_filter("MIDI files", "mid", "midi")  # what is written
MIDI_FILES_TO_OPEN = name_filter("MIDI files", *(suffix[1:] for suffix in OPENABLE_SUFFIXES))
SOUNDFONTS = name_filter("Soundfonts", "sf2", "sf3")
