"""File ▸ Choose Soundfont… and Choose MIDI Output Port…: where the transport's sound goes (thin Qt layer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import mido
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.playback.outputs import (
    VIRTUAL_PORT,
    VIRTUAL_PORT_NAME,
    BadSoundfont,
    Output,
    PlaybackUnavailable,
    check_soundfont,
)
from app.ui.filters import SOUNDFONTS
from app.ui.worker import user_message

if TYPE_CHECKING:
    from app.ui.transport import Transport


class OutputChoice:
    """The soundfont FluidSynth plays and the MIDI port the other output plays through. A new port closes
    the transport's output, and the next sound opens the new one; a new soundfont is swapped in once loaded."""

    def __init__(self, transport: Transport) -> None:
        self.transport, self.settings = transport, transport.settings
        self._soundfonts_asked = 0  # bumped by each soundfont chosen: only the newest one's check is used
        window = transport.window
        self.soundfont_action = QAction("Choose &Soundfont…", window)
        self.soundfont_action.triggered.connect(self.choose_soundfont)
        self.port_action = QAction("Choose MIDI Output &Port…", window)
        self.port_action.triggered.connect(self.choose_port)

    def choose_soundfont(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.transport.window, "Choose soundfont", "", SOUNDFONTS)
        if path:
            self.use_soundfont(path)

    def use_soundfont(self, path: str) -> None:
        """Play and render through ``path`` from now on, once it has loaded on a worker thread (as the output
        does: a large soundfont takes a while), unless it cannot be (the last choice stays). One chosen while
        another loads wins. With FluidSynth as the output the check opens it, so the next Play does not load
        the soundfont a second time."""
        self._soundfonts_asked += 1
        asked, open_it = self._soundfonts_asked, self.transport.output_box.currentData() == "fluidsynth"
        open_piano, saying = self.transport.piano_opener(path)

        def check(progress: Callable[[float], bool]) -> tuple[str | None, Output | None, str | None]:
            """(why it is refused, the output opened with it, why it cannot play here even so)"""
            try:
                if open_it:
                    return None, open_piano(), None
                check_soundfont(path)
            except BadSoundfont as exc:
                return str(exc), None, None
            except PlaybackUnavailable as exc:  # no audio device (the soundfont loaded first) or no FluidSynth:
                return None, None, user_message(exc)  # accepted (it cannot be checked here), and said
            return None, None, None

        if open_it:
            self.transport.soundfont_loading()
        self.transport.set_message(saying)
        self.transport.background.run(check, lambda checked: self._checked(path, asked, *checked),
                                      lambda message: self._checked(path, asked, message))

    def _checked(self, path: str, asked: int, problem: str | None, output: Output | None = None,
                 caveat: str | None = None) -> None:
        if asked != self._soundfonts_asked:  # another soundfont was chosen meanwhile
            if output is not None:
                output.close()
            return
        if problem is not None:
            self.transport.soundfont_refused()
            self.transport.set_message(f"Soundfont not changed: {problem}")
            return
        self.settings.set("soundfont", path)
        self.transport.soundfont_changed(output)
        self.transport.set_message(f"Soundfont: {Path(path).name}" + (f", but {caveat}" if caveat else ""))

    def choose_port(self) -> None:
        """Any output port there is, or a virtual port of our own (for a DAW or software synth to connect to)."""
        try:
            names = mido.get_output_names()
        except Exception as exc:  # no ALSA/CoreMIDI backend here
            self.transport.set_message(f"MIDI output is unavailable here ({exc})")
            return
        virtual = f"New virtual port “{VIRTUAL_PORT_NAME}” (a DAW or synth connects to it)"
        choices = [*(n for n in names if not n.startswith(VIRTUAL_PORT_NAME)), virtual]  # not into our own
        current = self.settings.get("midi_port")
        shown = virtual if current == VIRTUAL_PORT else current
        name, ok = QInputDialog.getItem(self.transport.window, "MIDI output port", "Play through:", choices,
                                        choices.index(shown) if shown in choices else 0, False)
        if ok:
            self.settings.set("midi_port", VIRTUAL_PORT if name == virtual else name)
            box = self.transport.output_box
            box.setCurrentIndex(box.findData("port"))
            self.transport.close_output()
