"""StyleNet Studio application package.

``app.core`` (MIDI document, StyleNet encoding, humanise service) and
``app.playback`` know nothing of Qt; only ``app.ui`` imports PySide6.
"""

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_SONG = RESOURCES / "demo" / "bach_prelude_c_major.mid"  # Bach's C-major prelude, entered as a flat score
