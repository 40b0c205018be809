"""Qt-free playback: scheduling the document as timed MIDI events, and outputs."""
