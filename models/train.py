"""Train StyleNet: ``python -m models.train --data ../shared/data --out runs/stylenet``.

Paper settings by default (batches of 4 windows of one style, styles alternating,
Adam 1e-3, clip-norm 10, 200-step windows), with the loss masked to note-onset
cells (``--loss onset``; ``--loss all`` is the paper's all-cells MSE on sustained
targets). Resumable: re-running with the same ``--out`` continues from ``last.pt``.
Multi-GPU/multi-process: ``torchrun --nproc_per_node N -m models.train ...``
(DistributedDataParallel; gloo on CPU, nccl on CUDA).
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from app.core.encoding import ENCODING_VERSION
from models.consensus import consensus_songs
from models.data import DataError, Song, build_cache, load_songs, read_splits
from models.losses import masked_loss, slow_loss
from models.score_view import ScoreViews
from models.scoring import note_velocities, run_songs
from models.stylenet import (
    CheckpointError,
    Ensemble,
    InferenceSettings,
    Net,
    StyleNet,
    StyleNetConfig,
    load_checkpoint,
    pick_device,
    save_atomic,
    save_checkpoint,
)
from models.windows import CENTRE, WindowSampler


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m models.train", description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True, help="folder with splits.json and the MIDI files")
    p.add_argument("--cache", type=Path, default=None, help="parsed-notes cache (default: <out>/../data_cache)")
    p.add_argument("--out", type=Path, default=Path("runs/stylenet"))
    p.add_argument("--init", type=Path, default=None,
                   help="fine-tune: start from this checkpoint's weights (e.g. models/stylenet.pt); "
                        "styles it lacks get a fresh head")
    p.add_argument("--member", type=int, default=0,
                   help="with an ensemble --init (the bundled model is one): the member to start from")
    p.add_argument("--steps", type=int, default=20000, help="optimizer steps (each one batch of one style)")
    p.add_argument("--minutes", type=float, default=None,
                   help="stop after this many minutes of training (of this invocation: a resumed run counts "
                        "from where it resumed)")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--window", type=int, default=200)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                   help="cosine: the rate falls from --lr to --min-lr over --steps (the paper keeps it constant)")
    p.add_argument("--min-lr", type=float, default=1e-5, help="with --schedule cosine: the rate at the last step")
    p.add_argument("--clip", type=float, default=10.0)
    p.add_argument("--loss", choices=("onset", "all", "shape", "song-shape", "corr"), default="onset",
                   help="onset: MSE on note-onset cells; all: the paper's MSE on every cell; "
                        "shape: onset MSE after removing each window's mean error, plus --level-weight x onset MSE; "
                        "song-shape: like shape, but each batch is windows of one song and its mean error is "
                        "removed once, so louder and softer passages of a piece count; "
                        "corr: 1 - Pearson r of each window's onsets, plus --level-weight x onset error")
    p.add_argument("--level-weight", type=float, default=0.1,
                   help="weight of the plain onset error in --loss shape, song-shape and corr")
    p.add_argument("--penalty", choices=("squared", "absolute"), default="squared",
                   help="squared (MSE, the paper's) or absolute (MAE) errors in --loss onset, shape and song-shape "
                        "(and in corr's level term)")
    p.add_argument("--slow-weight", type=float, default=0.0,
                   help="add this x (1 - Pearson r) of each window's slow dynamics: the onset velocities "
                        "smoothed over --slow-sigma steps, i.e. passages getting louder and softer")
    p.add_argument("--slow-sigma", type=float, default=16.0, help="smoothing of --slow-weight, in steps")
    p.add_argument("--ema", type=float, default=0.0,
                   help="keep an exponential moving average of the weights with this decay (e.g. 0.999); "
                        "validation and best.pt then use the averaged weights")
    p.add_argument("--aligned-fraction", type=float, default=0.5,
                   help="share of ASAP windows on the score's beat grid (0 = paper: file grid only)")
    p.add_argument("--score-fraction", type=float, default=0.0,
                   help="share of ASAP windows that take the score MIDI as input, with the performed velocities "
                        "of the matched notes as targets (what users give the app)")
    p.add_argument("--consensus", type=float, default=0.0,
                   help="train on targets blended with the consensus of all performances of the same score "
                        "(0 = own velocities, 1 = consensus alone; see models/consensus.py)")
    p.add_argument("--teacher", type=Path, default=None,
                   help="distillation: a trained checkpoint (an ensemble too) whose predictions, blended with the "
                        "pianists' velocities at --teacher-weight, are the targets of every onset cell")
    p.add_argument("--teacher-weight", type=float, default=0.5,
                   help="with --teacher: 0 = the pianists' velocities alone, 1 = the teacher's predictions alone")
    p.add_argument("--centre", action="store_true", help="targets centred on each song's mean velocity")
    p.add_argument("--phase", type=int, default=1, help="windows start on multiples of this many steps")
    p.add_argument("--transpose", type=int, default=0, help="random transposition of +-N semitones")
    p.add_argument("--stretch", type=float, default=0.0,
                   help="random tempo of file-grid windows, 1/(1+S) to 1+S times the performed one")
    p.add_argument("--val-grid", choices=("score", "file"), default="score",
                   help="validate classical performances on the score's beat grid (what users give) or the "
                        "file's own grid (the paper's quantised performance)")
    p.add_argument("--val-window", type=int, default=None,
                   help="validate on windows of this many steps, each 7/8 of a window after the last (default: "
                        "the inference defaults, 200 every 96); for models trained on long windows")
    p.add_argument("--hidden", type=int, default=176)
    p.add_argument("--genre-layers", type=int, default=3)
    p.add_argument("--fold", type=int, default=1,
                   help="grid steps per LSTM step: 2 lets the recurrence run over 1/8 notes, each step reading "
                        "and predicting two 1/16 steps (1 = the paper's network)")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--note-dropout", type=float, default=0.0,
                   help="remove each note of a training window from input and loss with this probability")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="decoupled weight decay (AdamW) per unit of learning rate; 0 is plain Adam")
    p.add_argument("--val-every", type=int, default=500)
    p.add_argument("--keep-every", type=int, default=0,
                   help="also keep the validated weights (as best.pt holds them) at every validation whose step "
                        "is a multiple of this, as step_<N>.pt, to ensemble or average later (0 = none)")
    p.add_argument("--val-songs", type=int, default=0, help="limit validation songs per style (0 = all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    args = p.parse_args(argv)
    if not 0.0 <= args.teacher_weight <= 1.0:
        p.error(f"--teacher-weight must be between 0 and 1, not {args.teacher_weight}")
    if not 0.0 <= args.note_dropout < 1.0:
        p.error(f"--note-dropout must be at least 0 and below 1, not {args.note_dropout}")
    if args.weight_decay < 0:
        p.error(f"--weight-decay cannot be negative ({args.weight_decay})")
    if args.val_window is not None and args.val_window < 1:
        p.error(f"--val-window must be 1 or more, not {args.val_window}")
    if args.fold < 1:
        p.error(f"--fold must be 1 or more, not {args.fold}")
    if args.keep_every < 0 or (args.keep_every and args.keep_every % args.val_every):
        p.error(f"--keep-every must be 0 or a multiple of --val-every ({args.val_every}), not {args.keep_every}")
    return args


class Progress:
    """One self-overwriting status line (hand-written: tqdm is not among our dependencies)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.t0 = total, enabled, time.time()

    def update(self, step: int, loss: float) -> None:
        if not self.enabled:
            return
        rate = step / max(time.time() - self.t0, 1e-9)
        done = int(30 * step / self.total)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (30 - done)}] {step}/{self.total} loss {loss:.5f} {rate:.1f} it/s")
        sys.stderr.flush()


def learning_rate(args: argparse.Namespace, step: int) -> float:
    """Adam's rate for ``step``; computed from the step alone, so a resumed run continues its schedule."""
    if args.schedule == "constant":
        return float(args.lr)
    progress = min(step / max(args.steps, 1), 1.0)
    return float(args.min_lr + 0.5 * (args.lr - args.min_lr) * (1.0 + np.cos(np.pi * progress)))


def init_from(model: StyleNet, path: Path, member: int = 0) -> str:
    """Start from a trained checkpoint's weights (fine-tuning): every tensor whose name and shape match
    is copied, so a new style's head starts fresh while the shared layers and known heads carry over.
    From an ensemble (such as the bundled model) the run starts from its member number ``member``."""
    loaded = load_checkpoint(path, "cpu")
    source_net: nn.Module = loaded.model
    which = ""
    if isinstance(loaded.model, Ensemble):
        size = len(loaded.model.members)
        if not 0 <= member < size:
            raise CheckpointError(f"{path} is an ensemble of {size} models; --member must be 0 to {size - 1}")
        source_net, which = loaded.model.members[member], f" (member {member} of its {size})"
    source = source_net.state_dict()
    own = model.state_dict()
    taken = {k: v for k, v in source.items() if k in own and own[k].shape == v.shape}
    if "interpretation.weight_ih_l0" not in taken:  # the input layer: its width is 176 x fold
        raise CheckpointError(f"{path}: its layer sizes differ from this run's (--hidden, --genre-layers, --fold); "
                              "there is nothing to fine-tune from")
    model.load_state_dict(taken, strict=False)
    fresh = sorted({k.split(".")[1] for k in own if k not in taken and k.startswith("heads.")})
    heads = f"; new heads: {', '.join(fresh)}" if fresh else ""
    return f"initialised from {path}{which}: {len(taken)}/{len(own)} tensors{heads}"


def load_teacher(path: Path, styles: tuple[str, ...], device: torch.device) -> Net:
    """The distillation teacher, in eval mode on ``device``; CheckpointError unless it has every style of the run."""
    teacher = load_checkpoint(path, str(device)).model
    missing = [s for s in styles if s not in teacher.cfg.styles]
    if missing:
        raise CheckpointError(f"{path}: the teacher has no head for {', '.join(missing)}; "
                              f"it knows {', '.join(teacher.cfg.styles)}")
    return teacher


def validate(model: StyleNet, val: dict[str, list], device: torch.device, aligned: bool = True,
             workers: int = 0, window: int | None = None) -> dict[str, dict[str, float]]:
    """Per style, figures on the validation songs (score grid where a song has one and ``aligned``),
    run in windows of ``window`` steps (default: :class:`InferenceSettings`'); on the CPU, windows on
    ``workers`` threads of their own (``predict``)."""
    settings = InferenceSettings(hop=max(1, window * 7 // 8), window=window) if window else None
    figures = {}
    for s, songs in val.items():
        def model_fn(x, step, key, human, s=s):
            return note_velocities(model, x, step, key, s, device, settings, workers=workers)

        figures[s] = run_songs(songs, {"model": model_fn}, aligned=aligned)["model"]
    return figures


def plot_losses(log_path: Path, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(log_path.open()))
    if not rows:
        return
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    steps = [int(r["step"]) for r in rows]
    ax[0].plot(steps, [float(r["train_loss"]) for r in rows], label="train (masked MSE)")
    ax[0].set_xlabel("step"), ax[0].set_ylabel("loss"), ax[0].legend()
    for key in [k for k in rows[0] if k.startswith("val_r_")]:
        ax[1].plot(steps, [float(r[key]) for r in rows], label=key.replace("val_r_", "val r "))
    ax[1].set_xlabel("step"), ax[1].set_ylabel("Pearson r (per piece)"), ax[1].legend()
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


def start_processes(args: argparse.Namespace) -> tuple[torch.device, bool, int]:
    """(device, distributed, rank). Under torchrun (WORLD_SIZE > 1) every process joins one group:
    nccl on CUDA, each process on its LOCAL_RANK's GPU; gloo on CPU."""
    device = pick_device(args.device)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if not distributed:
        return device, False, 0
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return device, True, dist.get_rank()


def training_data(args: argparse.Namespace, cache: Path, styles: tuple[str, ...],
                  lead: bool) -> tuple[dict[str, WindowSampler], dict[str, list[Song]]]:
    """Per style, a window sampler over the training songs and the validation songs."""
    views = ScoreViews(args.data) if args.score_fraction or args.consensus else None
    train_songs = {s: load_songs(cache, s, "train") for s in styles}
    val = {s: load_songs(cache, s, "val")[: args.val_songs or None] for s in styles}
    for s in styles:
        if not train_songs[s] or not val[s]:
            raise DataError(f"{args.data / 'splits.json'}: {s} needs performances under both \"train\" and "
                            "\"val\" (validation chooses the checkpoint)")
    if views is not None and args.consensus:
        for s in styles:
            train_songs[s], changed = consensus_songs(train_songs[s], views, 1.0 - args.consensus)
            if lead:
                print(f"{s}: consensus targets for {changed}/{len(train_songs[s])} training performances")
    samplers = {s: WindowSampler(train_songs[s], args.window, args.aligned_fraction, args.loss == "all",
                                 args.centre, args.phase, args.transpose, views, args.score_fraction,
                                 args.stretch, args.note_dropout)
                for s in styles}
    return samplers, val


def describe(args: argparse.Namespace, samplers: dict[str, WindowSampler],
             val: dict[str, list[Song]]) -> dict[str, object]:
    """What every saved checkpoint says about its data and targets (besides its step and figures)."""
    data_summary = {s: {"train_songs": len(w.songs), "val_songs": len(val[s]),
                        "train_notes": int(sum(len(x.pitch) for x in w.songs))} for s, w in samplers.items()}
    # Centred models predict dynamics around CENTRE; the app/evaluation then choose the level.
    target = {"centred": bool(args.centre), "centre": CENTRE,
              "style_level": {s: float(np.mean([x.velocity.mean() for x in w.songs])) for s, w in samplers.items()}}
    return {"encoding_version": ENCODING_VERSION, "data_summary": data_summary, "target": target,
            "train_args": {k: str(v) for k, v in vars(args).items()}}


class Run:
    """The state a run saves and resumes: model, optimizer, weight average, step and best validation score.

    ``last.pt`` holds it all (resumable); ``best.pt`` is the shipped model (the averaged weights when
    ``--ema``) at its best mean validation r over the styles."""

    def __init__(self, args: argparse.Namespace, model: StyleNet, device: torch.device, distributed: bool) -> None:
        """Resumes from ``last.pt`` when the run folder has one, else starts from ``--init`` if given
        (``origin`` says which); raises CheckpointError for an ``--init`` that does not fit."""
        self.args, self.model, self.device, self.out = args, model, device, Path(args.out)
        self.step, self.best = 0, -1.0
        self.minutes_before = 0.0  # training time of the invocations this one resumes, for log.csv
        state = torch.load(self.last, map_location=device, weights_only=True) if self.last.exists() else None
        self.origin = ""
        if state is not None:  # a resumed run keeps its own weights, never the --init ones
            model.load_state_dict(state["state_dict"])
            self.step, self.best = int(state["step"]), float(state["best"])
            self.minutes_before = float(state.get("minutes", 0.0))
            self.origin = f"resumed from {self.last} at step {self.step}"
        elif args.init is not None:
            self.origin = init_from(model, args.init, args.member)
        self.opt = (torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
                    if args.weight_decay else torch.optim.Adam(model.parameters(), lr=args.lr))
        if state is not None:
            self.opt.load_state_dict(state["optimizer"])
        # Averaged weights generalise better than the last noisy step; a run without them starts them here,
        # from the (resumed) weights.
        self.ema = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(args.ema), use_buffers=True)
                    if args.ema else None)
        if self.ema is not None and state is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])
        # The teacher predicts the same (transposed, stretched) windows the student sees, so its targets are
        # made per batch on the run's device rather than stored.
        self.teacher = load_teacher(args.teacher, model.cfg.styles, device) if args.teacher is not None else None
        self.net: nn.Module = (nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
                               if distributed else model)

    @property
    def last(self) -> Path:
        return self.out / "last.pt"

    @property
    def shipped(self) -> StyleNet:
        """The weights that are validated and saved as best.pt."""
        return cast(StyleNet, self.ema.module) if self.ema is not None else self.model

    def train_step(self, style: str, batch: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
        """One optimizer step on a batch (x, y, mask), each (B, T, ...) of one style; returns the loss."""
        x, y, m = (torch.from_numpy(a).to(self.device) for a in batch)
        if self.teacher is not None:
            y = self.distilled(x, y, m, style)
        self.net.train()
        pred = self.net(x, style)
        loss = masked_loss(pred, y, m, self.args.loss, self.args.level_weight, self.args.penalty)
        if self.args.slow_weight:
            loss = loss + self.args.slow_weight * slow_loss(pred, y, m, self.args.slow_sigma)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        for group in self.opt.param_groups:
            group["lr"] = learning_rate(self.args, self.step)
        nn.utils.clip_grad_norm_(self.model.parameters(), self.args.clip)
        self.opt.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        self.step += 1
        return float(loss.item())

    @torch.no_grad()
    def distilled(self, x: torch.Tensor, y: torch.Tensor, m: torch.Tensor, style: str) -> torch.Tensor:
        """(B, T, 88) targets: on onset cells the pianists' velocities blended with the teacher's predictions."""
        assert self.teacher is not None
        w = self.args.teacher_weight
        return torch.where(m > 0, (1.0 - w) * y + w * self.teacher(x, style), y)

    def save(self, figures: dict[str, dict[str, float]], meta: dict[str, Any], minutes: float) -> None:
        """best.pt when the mean validation r beats the best so far, step_<N>.pt when ``--keep-every`` says so,
        then last.pt (all atomically)."""
        score = float(np.mean([f["r"] for f in figures.values()]))
        if score > self.best:
            self.best = score
            save_checkpoint(self.out / "best.pt", self.shipped, **meta, step=self.step, val=figures)
        if self.args.keep_every and self.step % self.args.keep_every == 0:
            save_checkpoint(self.out / f"step_{self.step}.pt", self.shipped, **meta, step=self.step, val=figures)
        config = asdict(self.model.cfg) | {"styles": list(self.model.cfg.styles)}
        save_atomic({"state_dict": self.model.state_dict(), "optimizer": self.opt.state_dict(), "step": self.step,
                     "best": self.best, "config": config, "minutes": minutes,
                     **({"ema": self.ema.state_dict()} if self.ema is not None else {})}, self.last)


class TrainingLog:
    """log.csv (one row per validation), its loss-curve PNG and a printed summary."""

    def __init__(self, out: Path, styles: tuple[str, ...], create: bool) -> None:
        self.path, self.png = out / "log.csv", out / "loss.png"
        self.fields = ["step", "minutes", "train_loss",
                       *[f"val_{k}_{s}" for s in styles for k in ("r", "level_mae", "spread")]]
        if create and not self.path.exists():
            self.path.write_text(",".join(self.fields) + "\n")

    def write(self, step: int, minutes: float, loss: float, figures: dict[str, dict[str, float]]) -> None:
        row: dict[str, object] = {"step": step, "minutes": round(minutes, 2), "train_loss": loss}
        for s, summary in figures.items():
            row.update({f"val_{k}_{s}": summary[k] for k in ("r", "level_mae", "spread")})
        with self.path.open("a") as fh:
            fh.write(",".join(f"{row[k]:.5g}" if isinstance(row[k], float) else str(row[k])
                              for k in self.fields) + "\n")
        plot_losses(self.path, self.png)
        rounded = {s: {k: round(v, 3) for k, v in f.items()} for s, f in figures.items()}
        print(f"\nstep {step}: {json.dumps(rounded)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device, distributed, rank = start_processes(args)
    lead = rank == 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    out: Path = args.out
    cache = args.cache or out.parent / "data_cache"
    try:
        styles = tuple(read_splits(args.data))
        if lead:
            out.mkdir(parents=True, exist_ok=True)
            build_cache(args.data, cache)
        if distributed:
            dist.barrier()
        samplers, val = training_data(args, cache, styles, lead)
    except DataError as exc:  # torchrun ends the other processes when one exits with an error
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = StyleNetConfig(styles=styles, hidden=args.hidden, genre_layers=args.genre_layers, dropout=args.dropout,
                          fold=args.fold)
    model = StyleNet(cfg).to(device)
    try:
        run = Run(args, model, device, distributed)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if run.origin and lead:
        print(run.origin)
    # A resumed run draws fresh windows, not the ones it began with.
    rng = np.random.default_rng(args.seed + 1000 * rank + run.step)
    meta = describe(args, samplers, val)
    log = TrainingLog(out, styles, create=lead)
    progress = Progress(args.steps, lead and sys.stderr.isatty())
    t0, losses = time.time(), []
    one_song = args.loss == "song-shape"  # its level is one song's: every window of a batch from the same song
    while run.step < args.steps:
        style = styles[run.step % len(styles)]  # alternate styles; every rank takes the same one
        losses.append(run.train_step(style, samplers[style].batch(rng, args.batch, one_song)))
        progress.update(run.step, float(np.mean(losses[-50:])))
        stop = args.minutes is not None and (time.time() - t0) / 60 >= args.minutes
        if distributed:
            flag = torch.tensor([float(stop)], device=device)
            dist.all_reduce(flag)
            stop = bool(flag.item())
        if lead and (run.step % args.val_every == 0 or run.step == args.steps or stop):
            figures = validate(run.shipped, val, device, args.val_grid == "score", args.threads,
                               args.val_window)
            minutes = run.minutes_before + (time.time() - t0) / 60
            log.write(run.step, minutes, float(np.mean(losses)), figures)
            losses = []
            run.save(figures, meta, minutes)
        if stop:
            break
    if distributed:
        dist.barrier()
        # The DDP wrapper holds the process group: drop it first, so the group's gloo threads end here and
        # not in interpreter shutdown (where a rare std::terminate aborted a process after a finished run).
        run.net = run.model
        gc.collect()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
