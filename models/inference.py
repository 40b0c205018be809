"""StyleNet as a :class:`app.core.humanise.VelocityPredictor` for the app and the CLI."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from app.core.encoding import decode, encode
from app.core.humanise import NoCheckpointError, ProgressFn
from app.core.notes import NoteTable
from models.scoring import spread_about_mean
from models.stylenet import DEFAULT_CHECKPOINT, Ensemble, LoadedModel, load_checkpoint, predict


@functools.cache
def cpu_workers() -> int:
    """Threads that run windows at once on the CPU: as many as torch's intra-op threads were (the physical
    cores, or OMP_NUM_THREADS), after which torch itself runs on one thread, for the whole process.

    Why: torch's OpenMP threads wait for each other at every step of an LSTM. While another process runs
    torch on the same cores (a training run, say), each wait can last a time slice of the scheduler: beside
    a ``models.train`` run the 20-bar demo took 52 s to humanise in the app and a 5-minute piece 96 s (2
    cores). Threads that each run their own windows on one intra-op thread never wait for each other: 0.09
    and 0.65 s beside the same run, and no slower on an idle machine (``bench/bench_humanise.py --busy``).
    Called before the first checkpoint is loaded for prediction (loading is torch work too); the app and
    the CLI run no other torch code. Training and evaluation set their own threads and run their windows
    on ``--threads`` such threads too (``LoadedModel.workers``, ``train.validate``): beside a training run,
    ``models.agreement`` on the validation split took 19 min with one OpenMP team and 26 s with them, and
    13 s either way on an idle machine.
    """
    workers = torch.get_num_threads()
    torch.set_num_threads(1)
    return workers


class StyleNetPredictor:
    """Encodes the masked notes, runs the model, decodes onto the original notes.

    The checkpoint's per-style ``spread`` calibration (fitted on validation data by
    ``models.evaluate``) stretches predictions about their mean, because a network
    trained on squared error predicts flatter dynamics than pianists play.
    """

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.styles = loaded.styles
        self.written_weight = loaded.inference.written  # fitted on validation scores by models.evaluate
        self.workers = cpu_workers() if loaded.device.type == "cpu" else 0

    @classmethod
    def from_checkpoint(cls, path: Path | str | None = None, device: str | None = None) -> StyleNetPredictor:
        path = Path(path) if path else DEFAULT_CHECKPOINT
        if not path.exists():  # a path the user gave needs fixing; a missing bundled model, another way out
            hint = "; train one with `python -m models.train` or use --baseline" if path == DEFAULT_CHECKPOINT else ""
            raise NoCheckpointError(f"no StyleNet checkpoint is available ({path} does not exist){hint}")
        cpu_workers()  # before loading: its tensor work is torch's too (seconds on a busy machine, else)
        return cls(load_checkpoint(path, device))

    @property
    def device_name(self) -> str:
        return str(self.loaded.device)

    def predict(self, notes: NoteTable, ticks_per_beat: int, mask: np.ndarray, style: str,
                progress: ProgressFn | None = None) -> np.ndarray:
        enc = encode(notes, ticks_per_beat, mask)
        if not len(enc.note_index):
            return np.array(notes.velocity, dtype=np.int16)
        y = predict(self.loaded.model, enc.inputs, style, self.loaded.inference, device=self.loaded.device,
                    progress=progress, workers=self.workers)  # (T, 88)
        out = decode(enc, y, notes.velocity)
        spread = float(self.loaded.calibration.get(style, {}).get("spread", 1.0))
        # A centred model predicts dynamics around a fixed centre; keep the musician's own overall level.
        level = float(notes.velocity[enc.note_index].mean()) if self.centred else None
        out[enc.note_index] = spread_about_mean(out[enc.note_index].astype(float), spread, level)
        return out

    def describe(self) -> list[str]:
        """Plain-text lines for Help ▸ About: what the checkpoint is, what it learnt from, how it measured."""
        meta, path = self.loaded.meta, self.loaded.path
        lines = [f"Model: {path.name if path else 'in memory'}, {self._kind()}, running on {self.device_name}."]
        data = meta.get("data_summary", {})
        if data:
            counts = " and ".join(f"{d.get('train_songs', '?')} {s.capitalize()}" for s, d in data.items())
            lines.append(f"Trained on {counts} performances.")
        evaluation = meta.get("evaluation", {})
        for style in self.styles:
            q = evaluation.get(style, {}).get("quantised_performance")
            if q:
                model, split = q["model"], evaluation.get("split", "?")
                share = model["level_mae"] / q["constant_level_mae"]
                lines.append(f"{style.capitalize()} on the {split} split: r {model['r']:.3f} with the pianists' "
                             f"velocities, level-matched error {share:.1%} of the constant baseline's.")
        if path is not None and path.resolve() == DEFAULT_CHECKPOINT.resolve():
            lines.append("The bundled model learnt from ASAP (CC BY-NC-SA 4.0) and Doug McKenzie's jazz recordings: "
                         "for non-commercial use. See models/MODEL_CARD.md.")
        return lines

    def _kind(self) -> str:
        """'a StyleNet model (Classical, Jazz)', or how many ensemble members serve each style."""
        model, styles = self.loaded.model, [s.capitalize() for s in self.styles]
        if not isinstance(model, Ensemble):
            return f"a StyleNet model ({', '.join(styles)})"
        counts = [sum(s in m for m in model.member_styles) for s in self.styles]
        if len(set(counts)) == 1:
            return f"an ensemble of {counts[0]} StyleNet models ({', '.join(styles)})"
        return "an ensemble of StyleNet models (" + ", ".join(f"{n} for {s}" for n, s in zip(counts, styles)) + ")"

    @property
    def centred(self) -> bool:
        return bool(self.loaded.meta.get("target", {}).get("centred"))
