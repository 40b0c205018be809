"""Preferences, declared once, stored with QSettings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8


@dataclass(frozen=True)
class Option:
    key: str
    default: Any
    kind: type


OPTIONS = {
    "geometry": Option("window/geometry", QByteArray(), QByteArray),
    "state": Option("window/state", QByteArray(), QByteArray),
    "recent_files": Option("files/recent", [], list),
    "last_folder": Option("files/last_folder", "", str),
    "snap": Option("editor/snap", "1/16", str),
    "style": Option("humanise/style", "classical", str),
    "strength": Option("humanise/strength", 100, int),
    "keep_written": Option("humanise/keep_written_dynamics", True, bool),
    "seed": Option("humanise/seed", 0, int),
    "checkpoint": Option("humanise/checkpoint", "", str),  # "": the bundled model
    "device": Option("humanise/device", "auto", str),  # auto, cpu or cuda
    "overlay": Option("editor/overlay_versions", True, bool),
    "dynamics_curve": Option("editor/dynamics_curve", True, bool),
    "velocity_numbers": Option("editor/velocity_numbers", True, bool),
    "ruler_time": Option("editor/ruler_in_minutes_and_seconds", False, bool),
    "lane_height": Option("editor/velocity_lane_height", 140, int),
    "soundfont": Option("playback/soundfont", "", str),
    "midi_port": Option("playback/midi_port", "", str),
    "midi_input": Option("playback/midi_input", "", str),
    "output": Option("playback/output", "fluidsynth", str),
    "match_loudness": Option("playback/match_loudness", True, bool),
    "audition": Option("playback/audition_notes", True, bool),
    "solo_piano": Option("playback/solo_piano", False, bool),
    "normalize_export": Option("export/normalize_audio", True, bool),
}


class Settings:
    """Typed access to :data:`OPTIONS` (QSettings returns strings for some backends)."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or QSettings("StyleNet", "StyleNet Studio")

    def get(self, name: str) -> Any:
        opt = OPTIONS[name]
        value = self.q.value(opt.key, opt.default)
        if value is None:
            return opt.default
        if opt.kind is bool and isinstance(value, str):
            return value.lower() == "true"
        if opt.kind is list:
            return [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        try:
            return opt.kind(value)
        except (TypeError, ValueError):
            return opt.default

    def set(self, name: str, value: Any) -> None:
        self.q.setValue(OPTIONS[name].key, value)

    def add_recent(self, path: str) -> list[str]:
        recent = [path] + [p for p in self.get("recent_files") if p != path]
        self.set("recent_files", recent[:MAX_RECENT])
        return recent[:MAX_RECENT]
