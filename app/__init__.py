"""StyleNet Studio application package.

``app.core`` (MIDI document, StyleNet encoding, humanise service) and
``app.playback`` know nothing of Qt; only ``app.ui`` imports PySide6.
"""
