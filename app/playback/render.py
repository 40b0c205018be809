"""Offline rendering through FluidSynth, loudness measurement and WAV export (Qt-free)."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from app.core.atomic import write_atomic
from app.core.errors import UserError
from app.core.humanise import Cancelled
from app.playback.outputs import SAMPLE_RATE, new_synth, send_to_synth
from app.playback.schedule import Schedule

TAIL_SECONDS = 1.5  # let the last notes ring out
BLOCK = 4096  # frames rendered between progress reports
MAX_RENDER_SECONDS = 3600  # an hour is 1.3 GB of float audio per version; longer is a stray note or a wrong tempo


class RenderTooLong(ValueError, UserError):
    """The piece lasts longer than audio is rendered for; the message is for the user."""


def _duration_text(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def render(schedule: Schedule, soundfont: str | None = None,
           progress: Callable[[float], bool] | None = None) -> np.ndarray:
    """(frames, 2) float32 stereo in -1..1, at SAMPLE_RATE, faster than real time.

    Raises :class:`RenderTooLong` for a piece longer than ``MAX_RENDER_SECONDS``, before rendering anything,
    and :class:`app.core.humanise.Cancelled` when ``progress`` returns False."""
    if schedule.duration > MAX_RENDER_SECONDS:
        raise RenderTooLong(f"the piece lasts {_duration_text(schedule.duration)} (its last event); audio is "
                            f"rendered for pieces of up to {MAX_RENDER_SECONDS // 60} minutes. A stray late "
                            f"note or a wrong tempo can make a file this long.")
    synth = new_synth(soundfont)
    try:
        total = int((schedule.duration + TAIL_SECONDS) * SAMPLE_RATE)
        frames_at = np.minimum(np.rint(schedule.seconds * SAMPLE_RATE).astype(np.int64), total)
        pcm = np.empty((total, 2), dtype=np.int16)  # filled in place: no list of blocks to join at the end
        done, k, blocks = 0, 0, 0
        while done < total:
            # play every event due by ``done``, then render up to the next event (at most BLOCK frames)
            while k < len(schedule) and frames_at[k] <= done:
                send_to_synth(synth, schedule.message(k))
                k += 1
            nxt = int(frames_at[k]) if k < len(schedule) else total
            n = max(1, min(nxt - done, BLOCK, total - done))
            pcm[done:done + n] = np.asarray(synth.get_samples(n), dtype=np.int16).reshape(-1, 2)
            done, blocks = done + n, blocks + 1
            if progress is not None and blocks % 64 == 0 and progress(done / total) is False:
                raise Cancelled()  # not the audio so far: a cut-off render must not be written as the piece
        audio = pcm.astype(np.float32)
        audio *= 1 / 32768.0  # in place: one float copy of the piece at a time (12 bytes a frame at the peak)
    finally:
        synth.delete()
    return audio


def _mono(audio: np.ndarray) -> np.ndarray:
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def _window_power(audio: np.ndarray, size: int, hop: int) -> np.ndarray:
    """(W,) mean power of the mono mix over windows of ``size`` frames every ``hop`` frames."""
    return sliding_window_view(_mono(audio) ** 2, size)[::hop].mean(axis=1)


def loudness_db(audio: np.ndarray) -> float:
    """RMS level in dBFS over the parts that sound (gated at -60 dBFS per 400 ms block, like LUFS gating)."""
    block = int(0.4 * SAMPLE_RATE)
    if len(audio) < block:
        return float(20 * np.log10(np.sqrt(np.mean(_mono(audio) ** 2)) + 1e-12))
    power = _window_power(audio, block, block)
    gated = power[power > 10 ** (-60 / 10)]
    return float(10 * np.log10(gated.mean() if len(gated) else power.mean() + 1e-12))


def peak_db(audio: np.ndarray) -> float:
    """Sample peak in dBFS over both channels (-240 for silence)."""
    return float(20 * np.log10(np.abs(audio).max(initial=0.0) + 1e-12))


def loudness_range_db(audio: np.ndarray, window_s: float = 3.0) -> float:
    """How far the music moves between soft and loud: the spread (10th to 95th percentile) of its
    loudness over 3-second windows, gated like EBU R128's loudness range (LRA) but without its
    K-weighting filter. A flat-velocity part measures a few dB; human dynamics add to that."""
    size = int(window_s * SAMPLE_RATE)
    if len(audio) < size:
        return 0.0
    level = 10 * np.log10(_window_power(audio, size, SAMPLE_RATE // 2) + 1e-12)
    level = level[level > -70.0]  # silence
    if not len(level):
        return 0.0
    level = level[level > 10 * np.log10(np.mean(10 ** (level / 10))) - 20.0]  # far below the music's level
    return float(np.percentile(level, 95) - np.percentile(level, 10))


def matching_gains(levels: dict[str, float], reference: str = "original") -> dict[str, float]:
    """Gain in dB per version that brings its loudness to the reference's."""
    return {name: levels[reference] - level for name, level in levels.items()}


def apply_gain(audio: np.ndarray, db: float) -> np.ndarray:
    return np.clip(audio * 10 ** (db / 20), -1.0, 1.0)


def write_wav(path: Path, audio: np.ndarray) -> None:
    """16-bit stereo WAV, written atomically (never half a file)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    write_atomic(Path(path), buf.getvalue())
