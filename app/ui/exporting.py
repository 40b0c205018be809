"""File ▸ Save, Save As and Export MIDI: where each version of the open document goes, written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.core.editor import Version
from app.core.midi_document import MidiError
from app.ui.filters import MIDI_FILES

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

ALL_VERSIONS = "All versions (side by side)"


class Exporter:
    """Writes the window's document; remembers where each of its versions was last written, so Save and the
    next export offer the same place. The opened file is only replaced when the user confirms it."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.exported_to: dict[Version, Path] = {}

    def document_replaced(self) -> None:
        self.exported_to = {}  # another document: its versions have not been written anywhere yet

    def export_to(self, path: str | Path, version: Version, confirmed: bool = False) -> bool:
        """Write ``version`` to ``path`` atomically; the opened file is overwritten only when confirmed (here,
        or already: ``confirmed``)."""
        w = self.window
        target, opened = Path(path), w.doc.midi.path
        replaces_opened = opened is not None and target.exists() and target.resolve() == opened.resolve()
        if replaces_opened and not confirmed and not w.confirm(
                "Overwrite the original file?", f"{target.name} is the file you opened. Replace it with the "
                f"{version.label} version? The original cannot be recovered."):
            return False
        try:
            w.doc.export(target, version)
        except (MidiError, ValueError) as exc:
            w.show_error("Export failed", str(exc))
            return False
        w.statusBar().showMessage(f"Exported the {version.label} version to {target}", 5000)
        return True

    def ask_save_path(self, title: str, suffix: str, previous: Path | None = None, extension: str = ".mid",
                      kinds: str = MIDI_FILES) -> str:
        """A path from the save dialog, offered as ``previous`` (where this went last time), else as the opened
        file's NAME + ``suffix`` + ``extension`` beside it; "" when cancelled."""
        w = self.window
        opened = w.doc.midi.path
        stem = opened.stem if opened else "untitled"
        folder = opened.parent if opened else Path(w.settings.get("last_folder") or ".")
        path, _ = QFileDialog.getSaveFileName(w, title, str(previous or folder / f"{stem}{suffix}{extension}"),
                                              kinds)
        return path

    def export_dialog(self) -> None:
        versions = self.window.doc.available_versions()
        default = Version.STYLISED if Version.STYLISED in versions else versions[-1]
        labels = [v.label for v in versions] + ([ALL_VERSIONS] if len(versions) > 1 else [])
        choice, ok = QInputDialog.getItem(self.window, "Export MIDI", "Version to export:", labels,
                                          labels.index(default.label), False)
        if not ok:
            return
        if choice == ALL_VERSIONS:
            path = self.ask_save_path("Export all versions (NAME.VERSION.mid each)", "")
            if path:
                self.export_all_to(path)
            return
        version = versions[labels.index(choice)]
        path = self.ask_save_path("Export MIDI", f".{version.value}", self.exported_to.get(version))
        if path and self.export_to(path, version):
            self.exported_to[version] = Path(path)

    def export_all_to(self, path: str | Path) -> list[Path]:
        """Every version beside ``path`` as ``NAME.VERSION.mid``: the three side by side in any DAW."""
        base = Path(path)
        written = []
        for version in self.window.doc.available_versions():
            target = base.with_name(f"{base.stem}.{version.value}.mid")
            if self.export_to(target, version):
                written.append(target)
                self.exported_to[version] = target
        if written:
            self.window.statusBar().showMessage(
                f"Exported {', '.join(p.name for p in written)} to {base.parent}", 8000)
        return written

    def save(self) -> None:
        """The edited score (the Original version) to the file it was last saved to, else Save As."""
        saved_to = self.exported_to.get(Version.ORIGINAL)
        if saved_to is None:
            self.save_dialog()
        else:
            self.export_to(saved_to, Version.ORIGINAL, confirmed=True)  # chosen (and confirmed) at Save As

    def save_dialog(self) -> None:
        path = self.ask_save_path("Save edited score (Original version)", f".{Version.ORIGINAL.value}",
                                  self.exported_to.get(Version.ORIGINAL))
        if path and self.export_to(path, Version.ORIGINAL):
            self.exported_to[Version.ORIGINAL] = Path(path)
