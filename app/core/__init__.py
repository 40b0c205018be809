"""Qt-free core: the MIDI document, StyleNet's encoding and the humanise service."""
