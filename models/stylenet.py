"""StyleNet (Malik & Ek, 2017) in PyTorch: one shared interpretation LSTM, one GenreNet head per style.

Shapes: B songs/windows, T sixteenth-note steps, 176 = 88 onset bits + 88 sounding bits,
88 keys out. The styles are data (``StyleNetConfig.styles``): a third style is a
config entry and a training folder, not code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from app.core.atomic import write_atomic
from app.core.errors import UserError

CHECKPOINT_FORMAT = "stylenet-studio/1"
DEFAULT_CHECKPOINT = Path(__file__).with_name("stylenet.pt")


class CheckpointError(UserError):
    """A checkpoint that cannot be used; ``str()`` says why, for the user."""


@dataclass
class StyleNetConfig:
    styles: tuple[str, ...] = ("classical", "jazz")
    n_inputs: int = 176
    n_keys: int = 88
    hidden: int = 176  # per direction
    genre_layers: int = 3
    dropout: float = 0.2  # the paper's keep-probability 0.8
    fold: int = 1  # grid steps per LSTM step (1: the paper's); see StyleNet


SHAPE_FIELDS = ("hidden", "genre_layers", "fold")  # layer sizes in which an ensemble's members may differ


def layer_sizes(cfg: StyleNetConfig) -> dict[str, int]:
    """The config's ``SHAPE_FIELDS``, as an ensemble's checkpoint stores each member's."""
    return {f: getattr(cfg, f) for f in SHAPE_FIELDS}


class GenreNet(nn.Module):
    """One style's head: stacked bi-LSTMs, then a linear map to the 88 keys."""

    def __init__(self, cfg: StyleNetConfig) -> None:
        super().__init__()
        self.lstm = nn.LSTM(cfg.hidden, cfg.hidden, num_layers=cfg.genre_layers, batch_first=True,
                            bidirectional=True, dropout=cfg.dropout if cfg.genre_layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(2 * cfg.hidden, cfg.n_keys * cfg.fold)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        y, _ = self.lstm(h)  # (B, T/f, 352)
        return torch.sigmoid(self.out(self.drop(y)))  # (B, T/f, 88 f), velocity / 127


class StyleNet(nn.Module):
    """The paper's network; with ``cfg.fold`` f > 1 each LSTM step reads f grid steps side by side and
    writes their f predictions, so the recurrence runs over T / f steps (a coarser view of the same
    notes, nothing pooled away) in less time: 0.65 of the paper network's model time at f = 2, as its input
    and output layers are f times wider (``EXPERIMENTS.md``, "A coarser recurrence")."""

    def __init__(self, cfg: StyleNetConfig) -> None:
        super().__init__()
        if cfg.fold < 1:
            raise ValueError(f"fold must be 1 or more, not {cfg.fold}")
        self.cfg = cfg
        self.in_drop = nn.Dropout(cfg.dropout)
        self.interpretation = nn.LSTM(cfg.n_inputs * cfg.fold, cfg.hidden, batch_first=True)
        self.heads = nn.ModuleDict({style: GenreNet(cfg) for style in cfg.styles})

    def forward(self, x: torch.Tensor, style: str) -> torch.Tensor:
        b, t, n = x.shape  # (B, T, 176)
        f = self.cfg.fold
        if f > 1:  # pad T to a multiple of f, then lay each f steps side by side
            x = nn.functional.pad(x, (0, 0, 0, -t % f)).reshape(b, -1, n * f)  # (B, T/f, 176 f)
        h, _ = self.interpretation(self.in_drop(x))  # (B, T/f, 176)
        y = self.heads[style](self.in_drop(h))  # (B, T/f, 88 f)
        return y.reshape(b, -1, self.cfg.n_keys)[:, :t] if f > 1 else y  # (B, T, 88)


class Ensemble(nn.Module):
    """StyleNets trained separately whose outputs are averaged. Unlike a weight average (``models.soup``)
    the members may come from different starts, where their errors differ most; each member costs its own
    model time.

    A member may carry only some of the styles (``member_styles``): a style's output averages the members
    that have it, so a member that helps one style costs the others neither bytes nor time. A member may
    have its own layer sizes (``member_shapes``: ``SHAPE_FIELDS`` that differ from ``cfg``), so a network
    of another size can join; inputs, keys and styles are the ensemble's."""

    def __init__(self, cfg: StyleNetConfig, size: int, member_styles: list[tuple[str, ...]] | None = None,
                 member_shapes: list[dict[str, int]] | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        chosen = [tuple(s) for s in member_styles] if member_styles is not None else [cfg.styles] * size
        if len(chosen) != size or any(not s or set(s) - set(cfg.styles) for s in chosen):
            raise ValueError(f"member styles {chosen} do not fit {size} members of styles {cfg.styles}")
        shapes = [dict(s) for s in member_shapes] if member_shapes is not None else [{}] * size
        if len(shapes) != size or any(set(s) - set(SHAPE_FIELDS) for s in shapes):
            raise ValueError(f"member layer sizes {shapes} do not fit {size} members (fields: {SHAPE_FIELDS})")
        orphans = [s for s in cfg.styles if not any(s in m for m in chosen)]
        if orphans:
            raise ValueError(f"no member has a head for {', '.join(orphans)}")
        # each member's heads in the config's order, so equal subsets build equal models
        self.member_styles = [tuple(s for s in cfg.styles if s in m) for m in chosen]
        self.members = nn.ModuleList([StyleNet(replace(cfg, styles=s, **{k: int(v) for k, v in shape.items()}))
                                      for s, shape in zip(self.member_styles, shapes)])

    @property
    def member_shapes(self) -> list[dict[str, int]]:
        """Each member's layer sizes (``SHAPE_FIELDS``), as a checkpoint stores them."""
        return [layer_sizes(m.cfg) for m in self.members if isinstance(m, StyleNet)]  # every member is one

    def forward(self, x: torch.Tensor, style: str) -> torch.Tensor:
        outs = [m(x, style) for m, styles in zip(self.members, self.member_styles) if style in styles]
        return torch.stack(outs).mean(dim=0)  # (B, T, 88)


Net = StyleNet | Ensemble  # what a checkpoint holds


@dataclass(frozen=True)
class InferenceSettings:
    """How a piece is run (see :func:`predict`); chosen on validation by ``models.evaluate``,
    stored in the checkpoint, used alike by the app and the evaluation."""

    hop: int = 96  # steps between window starts (96 = six 4/4 bars of 16ths: the bar phase of training)
    shifts: tuple[int, ...] = (0,)  # transpositions averaged
    written: float = 0.0  # weight of the input's own dynamics (app.core.humanise.with_written_dynamics)
    window: int = 200  # steps per window; training's length unless validation says a longer one does as well

    def __post_init__(self) -> None:
        if not 0 < self.hop <= self.window:
            raise ValueError(f"hop {self.hop} must be between 1 and the window ({self.window} steps)")

    def as_meta(self) -> dict[str, Any]:
        return {"hop": self.hop, "shifts": list(self.shifts), "written": self.written, "window": self.window}

    @classmethod
    def from_meta(cls, stored: dict[str, Any]) -> InferenceSettings:
        """The settings :meth:`as_meta` wrote (a checkpoint's ``inference``); absent ones take the defaults.
        ValueError, TypeError or AttributeError for settings that are not numbers or do not fit."""
        default = cls()
        return cls(int(stored.get("hop", default.hop)), tuple(int(k) for k in stored.get("shifts", default.shifts)),
                   float(stored.get("written", default.written)), int(stored.get("window", default.window)))


@torch.no_grad()
def predict(model: Net, inputs: np.ndarray, style: str, settings: InferenceSettings | None = None,
            device: torch.device | str = "cpu",
            progress: Callable[[float], bool] | None = None, chunk: int = 64, workers: int = 0) -> np.ndarray:
    """Velocity/127 for a whole piece, run as overlapping windows like the training windows.

    Parameters
    ----------
    inputs : (T, 176) float
    progress : called with the fraction done after each chunk of windows; returning
        False stops the run with :class:`app.core.humanise.Cancelled`.
    settings : window length and hop, and transpositions; each transposition is run and the
        results averaged per key over the shifts that keep it on the keyboard.
    workers : on the CPU, run the windows on this many threads of a pool, each its share on one intra-op
        thread of torch (:func:`models.inference.cpu_workers` says why); 0 runs them on the calling thread
        with torch's threads as they are (training and evaluation, which set their own).

    Returns
    -------
    (T, 88) float32; windows are blended with triangular weights so seams do not show.
    """
    if style not in model.cfg.styles:
        raise KeyError(f"unknown style {style!r}; this checkpoint has {', '.join(model.cfg.styles)}")
    settings = settings or InferenceSettings()
    starts, windows = _windows(inputs, settings.window, settings.hop)  # (W, window, 176)
    runs = np.concatenate([shift_keys(windows, k) for k in settings.shifts])  # (S*W, window, 176)
    out = _run_in_chunks(model, runs, style, device, progress, chunk, workers)  # (S*W, window, 88)
    pred = _average_shifts(np.split(out, len(settings.shifts)), settings.shifts)  # (W, window, 88)
    return _blend_windows(pred, starts, inputs.shape[0])


def _windows(inputs: np.ndarray, window: int, hop: int) -> tuple[list[int], np.ndarray]:
    """Start steps and (W, window, 176) windows every ``hop`` steps; the piece is zero-padded to a whole
    number of hops, so every step is covered. A piece shorter than a window is one window of its own length:
    padding it with silence cost time (62 against 34 ms for 200 steps, 2 threads) and did not help
    (classical validation openings of 64-300 steps: r 0.492 unpadded, 0.479 padded to 400, mean of four
    lengths)."""
    steps = inputs.shape[0]
    window = max(1, min(window, steps))
    length = window + -(-max(steps - window, 0) // hop) * hop
    starts = list(range(0, length - window + 1, hop))
    padded = np.zeros((length, inputs.shape[1]), dtype=np.float32)
    padded[:steps] = inputs
    return starts, np.stack([padded[s:s + window] for s in starts])


def _run_in_chunks(model: Net, runs: np.ndarray, style: str, device: torch.device | str,
                   progress: Callable[[float], bool] | None, chunk: int, workers: int = 0) -> np.ndarray:
    """(N, window, 88) model outputs, ``chunk`` windows at a time, reporting progress after each chunk."""
    from app.core.humanise import Cancelled

    model.eval()
    parts = []
    for c in range(0, len(runs), chunk):
        parts.append(_run_windows(model, runs[c:c + chunk], style, device, workers))  # (chunk, window, 88)
        if progress is not None and progress(min(1.0, (c + chunk) / len(runs))) is False:
            raise Cancelled()
    return np.concatenate(parts)


def _run_windows(model: Net, windows: np.ndarray, style: str, device: torch.device | str,
                 workers: int) -> np.ndarray:
    """(W, window, 88) outputs of (W, window, 176) windows; on the CPU shared out to ``workers`` threads."""
    def run(part: np.ndarray) -> np.ndarray:
        with torch.no_grad():  # grad mode is per thread: the pool's threads need their own
            return model(torch.from_numpy(part).to(device), style).float().cpu().numpy()

    if workers < 1 or torch.device(device).type != "cpu":
        return run(windows)
    parts = np.array_split(windows, min(workers, len(windows)))
    return np.concatenate(list(_window_pool(workers).map(run, parts)))


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOL_LOCK = threading.Lock()


def _window_pool(workers: int) -> ThreadPoolExecutor:
    """One long-lived pool per size, its threads started once and each set to one intra-op thread itself:
    a thread that only inherits that setting paid seconds for its first LSTM on a busy machine."""
    with _POOL_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="stylenet-windows",
                                                 initializer=torch.set_num_threads, initargs=(1,))
        return _POOLS[workers]


def _average_shifts(per_shift: list[np.ndarray], shifts: tuple[int, ...]) -> np.ndarray:
    """Each transposition's (W, window, 88) output moved back to its keys, averaged per key over the
    shifts that kept that key on the keyboard."""
    summed = np.zeros_like(per_shift[0])
    count = np.zeros(per_shift[0].shape[2], np.float32)  # (88,)
    for k, p in zip(shifts, per_shift):
        summed += shift_keys(p, -k)
        count += shift_keys(np.ones((1, 1, p.shape[2]), np.float32), -k)[0, 0]
    return summed / np.maximum(count, 1.0)


def _blend_windows(pred: np.ndarray, starts: list[int], steps: int) -> np.ndarray:
    """(steps, 88): overlapping (W, window, 88) windows blended with triangular weights (no seams)."""
    window = pred.shape[1]
    weight = np.minimum(np.arange(1, window + 1), np.arange(window, 0, -1)).astype(np.float32)  # (window,)
    length = starts[-1] + window
    total = np.zeros((length, pred.shape[2]), dtype=np.float32)
    norm = np.zeros((length, 1), dtype=np.float32)
    for s, p in zip(starts, pred):
        total[s:s + window] += p * weight[:, None]
        norm[s:s + window, 0] += weight
    return (total / np.maximum(norm, 1e-9))[:steps]


def shift_keys(x: np.ndarray, semitones: int) -> np.ndarray:
    """Copy of ``x`` (..., 88) or (..., 176 = onsets | sounding) moved up by ``semitones`` keys;
    keys pushed off the keyboard are dropped, keys that come in are zero; ``x`` itself for 0."""
    if semitones == 0:
        return x
    out = np.zeros_like(x)
    for lo in range(0, x.shape[-1], 88):
        src, dst = x[..., lo:lo + 88], out[..., lo:lo + 88]
        if semitones >= 0:
            dst[..., semitones:] = src[..., :88 - semitones]
        else:
            dst[..., :semitones] = src[..., -semitones:]
    return out


def pick_device(preference: str | None = None) -> torch.device:
    """``cuda`` when available, else ``cpu``; ``preference`` (or $STYLENET_DEVICE) overrides."""
    choice = preference or os.environ.get("STYLENET_DEVICE") or "auto"
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise CheckpointError("CUDA was requested but this machine has no CUDA GPU that PyTorch can use; "
                              "choose the CPU instead")
    return torch.device(choice)


@dataclass
class LoadedModel:
    model: Net
    device: torch.device
    styles: tuple[str, ...]
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    workers: int = 0  # CPU threads that run windows at once (predict's ``workers``); 0: the caller's torch threads

    @property
    def inference(self) -> InferenceSettings:
        return InferenceSettings.from_meta(self.meta.get("inference", {}))


def save_checkpoint(path: Path, model: Net, int8: bool = False, **meta: Any) -> None:
    """Write ``{'format', 'model_args', 'styles', 'state_dict', ...meta}`` atomically; an :class:`Ensemble`
    adds ``ensemble`` (its size), ``ensemble_styles`` (each member's heads) and ``ensemble_shapes`` (each
    member's layer sizes) and keeps its weights in float16, so two members fit where one did (outputs move
    by under 1e-3 velocity/127). ``int8`` stores the weight matrices as 8-bit integers with a float16 scale
    per row (``int8_scales``): half the bytes again, for any model."""
    size = len(model.members) if isinstance(model, Ensemble) else 0
    if isinstance(model, Ensemble):
        meta = {**meta, "ensemble_styles": [list(s) for s in model.member_styles],
                "ensemble_shapes": model.member_shapes}
    if int8:
        state, scales = quantise_int8(model.state_dict())
        meta = {**meta, "int8_scales": scales}
    else:
        state = {k: (v.half() if size and v.is_floating_point() else v).detach().cpu()
                 for k, v in model.state_dict().items()}
    payload = {"format": CHECKPOINT_FORMAT, "model_args": {**asdict(model.cfg), "styles": list(model.cfg.styles)},
               "styles": list(model.cfg.styles), "state_dict": state,
               **({"ensemble": size} if size else {}), **meta}
    save_atomic(payload, path)


def quantise_int8(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Weight matrices (nearly all the bytes) as int8 with one symmetric float16 scale per row, so a row's
    largest weight maps to ±127; vectors (biases) stay float16. Returns (state, scales)."""
    out, scales = {}, {}
    for name, value in state.items():
        v = value.detach().float().cpu()
        if v.ndim < 2:
            out[name] = v.half()
            continue
        scale = (v.abs().amax(dim=1, keepdim=True) / 127).half()  # (rows, 1)
        scale[scale == 0] = 1.0  # an all-zero row (or one below float16's range) stays zero
        out[name] = (v / scale.float()).round().clamp(-127, 127).to(torch.int8)
        scales[name] = scale
    return out, scales


def dequantise_int8(state: dict[str, torch.Tensor], scales: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The float weights of a :func:`quantise_int8` state (what it rounded away stays lost)."""
    if set(scales) - set(state):
        raise ValueError("int8 scales for weights the checkpoint lacks")
    return {k: v.float() * scales[k].float() if k in scales else v for k, v in state.items()}


def update_checkpoint(path: Path, drop: tuple[str, ...] = (), **meta: Any) -> None:
    """Rewrite a checkpoint file's metadata in place (atomically): add or replace ``meta``, remove ``drop``;
    the weights and ``model_args`` are kept as they are."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    save_atomic({**{k: v for k, v in ckpt.items() if k not in drop}, **meta}, path)


def save_atomic(obj: object, path: Path) -> None:
    """``torch.save`` through ``write_atomic``: a crash mid-save never leaves half a checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(obj, buf)
    write_atomic(path, buf.getvalue())


def load_checkpoint(path: Path | str = DEFAULT_CHECKPOINT, device: str | None = None) -> LoadedModel:
    """Rebuild the exact model from a checkpoint (``weights_only=True``: no code runs on load)."""
    from app.core.encoding import ENCODING_VERSION

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no StyleNet checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors differ by torch version
        raise CheckpointError(f"{path.name} is not a readable StyleNet checkpoint ({_load_failure(exc)})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path.name} is not a StyleNet Studio checkpoint (format {CHECKPOINT_FORMAT} expected)")
    if ckpt.get("encoding_version") != ENCODING_VERSION:
        raise CheckpointError(f"{path.name} uses encoding version {ckpt.get('encoding_version')}, "
                              f"this program uses {ENCODING_VERSION}")
    try:
        args = dict(ckpt["model_args"])
        args["styles"] = tuple(args["styles"])
        cfg = StyleNetConfig(**args)
        member_styles = ckpt.get("ensemble_styles")  # absent: every member has every head
        member_shapes = ckpt.get("ensemble_shapes")  # absent: every member has the layer sizes of model_args
        model: Net = (Ensemble(cfg, int(ckpt["ensemble"]), member_styles, member_shapes) if ckpt.get("ensemble")
                      else StyleNet(cfg))
        state = ckpt["state_dict"]
        if "int8_scales" in ckpt:
            state = dequantise_int8(state, ckpt["int8_scales"])
        model.load_state_dict(state)  # float16 weights are widened to the model's float32
    except Exception as exc:
        raise CheckpointError(f"{path.name}: weights do not match the model ({exc})") from None
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):  # NaN in, NaN velocities out
        raise CheckpointError(f"{path.name}: some weights are not finite numbers (a diverged run or a damaged file)")
    dev = pick_device(device)
    model.to(dev).eval()
    meta = {k: v for k, v in ckpt.items() if k not in ("state_dict", "int8_scales")}
    try:  # checked now, not at the first Humanise
        InferenceSettings.from_meta(meta.get("inference", {}))
    except (AttributeError, TypeError, ValueError) as exc:  # not a dict, not numbers, or a hop that does not fit
        raise CheckpointError(f"{path.name}: its inference settings cannot be used ({exc})") from None
    return LoadedModel(model, dev, tuple(args["styles"]), dict(ckpt.get("calibration", {})), meta, path)


def _load_failure(exc: Exception) -> str:
    """Why ``torch.load`` refused a file, in words (its exception types are not a user's vocabulary)."""
    if isinstance(exc, pickle.UnpicklingError) and "unsupported global" in str(exc).lower():  # torch's wording
        return "it holds Python objects besides weights, which are not loaded for safety"
    if isinstance(exc, EOFError):
        return "the file is empty or cut short"
    return "not a file saved by PyTorch, or a damaged one"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
