"""Offline rendering through FluidSynth, loudness measurement and WAV export (Qt-free)."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from app.core.atomic import write_atomic
from app.playback.outputs import SAMPLE_RATE, new_synth, send_to_synth
from app.playback.schedule import Schedule

TAIL_SECONDS = 1.5  # let the last notes ring out
BLOCK = 4096  # frames rendered between progress reports


def render(schedule: Schedule, soundfont: str | None = None,
           progress: Callable[[float], bool] | None = None) -> np.ndarray:
    """(frames, 2) float32 stereo in -1..1, at SAMPLE_RATE, faster than real time."""
    synth = new_synth(soundfont)
    try:
        total = int((schedule.duration + TAIL_SECONDS) * SAMPLE_RATE)
        frames_at = np.minimum(np.rint(schedule.seconds * SAMPLE_RATE).astype(np.int64), total)
        chunks, done, k = [], 0, 0
        while done < total:
            # play every event due by ``done``, then render up to the next event (at most BLOCK frames)
            while k < len(schedule) and frames_at[k] <= done:
                send_to_synth(synth, schedule.message(k))
                k += 1
            nxt = int(frames_at[k]) if k < len(schedule) else total
            n = max(1, min(nxt - done, BLOCK, total - done))
            chunks.append(np.asarray(synth.get_samples(n), dtype=np.int16).reshape(-1, 2))
            done += n
            if progress is not None and len(chunks) % 64 == 0 and progress(done / total) is False:
                break
        audio = np.concatenate(chunks).astype(np.float32) / 32768.0 if chunks else np.zeros((0, 2), np.float32)
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
