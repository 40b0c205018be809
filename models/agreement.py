"""How alike an ensemble's members predict: ``python -m models.agreement --data D --checkpoint E.pt``.

Members help an average by how little they agree: k members that each reach r and agree with each other at
rho average to about r / sqrt((1 + (k - 1) rho) / k). So before a new member joins (``models.soup
--ensemble``), this prints, for one style and split, each member's r with the pianists, each pair's
agreement (their per-piece correlation, averaged over pieces), and r of the average of all members and of
the average with each one left out. Uncalibrated, on the file grid: a stretch changes neither r nor rho.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import torch

from models.data import DataError, Song, build_cache, load_songs
from models.metrics import score_piece, summarise
from models.scoring import note_velocities
from models.stylenet import CheckpointError, Ensemble, LoadedModel, StyleNet, load_checkpoint
from models.windows import encode_song

Pieces = list[np.ndarray]  # one (notes,) array of velocities per song


def mean_r(a: Pieces, b: Pieces) -> float:
    """Pearson r within each piece, averaged over pieces as ``models.evaluate`` reports r."""
    return summarise([score_piece(x, y) for x, y in zip(a, b)])["r"]


def member_names(loaded: LoadedModel) -> list[str]:
    """A label per member: the run it came from (``soup`` records it), else its position."""
    origins = loaded.meta.get("soup", [])
    count = len(loaded.model.members) if isinstance(loaded.model, Ensemble) else 1
    if len(origins) == count:
        paths = [Path(str(o.get("path", i))) for i, o in enumerate(origins)]
        names = [p.parent.name if p.stem in ("best", "last") else p.stem for p in paths]  # runs/U/best.pt: U
        if len(set(names)) == count:
            return names
    return [str(i) for i in range(count)]  # positions, where the names would not tell members apart


def member_predictions(loaded: LoadedModel, songs: list[Song], style: str) -> dict[str, Pieces]:
    """name -> per-song velocities of each member that has a head for ``style``."""
    model = loaded.model
    nets = [m for m in model.members if isinstance(m, StyleNet)] if isinstance(model, Ensemble) else [model]
    encoded = [encode_song(song, False) for song in songs]  # once, for every member
    out: dict[str, Pieces] = {}
    for name, net in zip(member_names(loaded), nets):
        if style in net.cfg.styles:  # a member's config lists the heads it kept
            out[name] = [note_velocities(net, es.inputs, es.encoded.onset_step, es.encoded.key, style,
                                         loaded.device, loaded.inference, loaded.workers) for es in encoded]
    return out


def agreement(preds: dict[str, Pieces], human: Pieces) -> dict[str, object]:
    """Each member's r, each pair's agreement, and r of the average with all members and without each."""
    def average_r(names: list[str]) -> float:
        return mean_r([np.mean([preds[n][i] for n in names], 0) for i in range(len(human))], human)

    names = list(preds)
    return {"r": {n: mean_r(preds[n], human) for n in names},
            "agreement": {f"{a} ~ {b}": mean_r(preds[a], preds[b]) for a, b in itertools.combinations(names, 2)},
            "average_r": average_r(names),
            "average_r_without": {n: average_r([m for m in names if m != n]) for n in names if len(names) > 1}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.agreement", description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True, help="an ensemble (models.soup --ensemble)")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--cache", type=Path, default=Path("data_cache"))
    p.add_argument("--style", default="classical")
    p.add_argument("--split", default="val", choices=("train", "val", "test"))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        loaded = load_checkpoint(args.checkpoint, "cpu")
        loaded.workers = args.threads  # windows on threads of their own: see models.inference.cpu_workers
        if args.style not in loaded.styles:
            raise CheckpointError(f"{args.checkpoint.name} has no {args.style} head "
                                  f"(it has {', '.join(loaded.styles)})")
        build_cache(args.data, args.cache)
        songs = load_songs(args.cache, args.style, args.split)
    except FileNotFoundError:
        print(f"error: {args.data} has no {args.style} performances in its {args.split} split", file=sys.stderr)
        return 2
    except (DataError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = agreement(member_predictions(loaded, songs, args.style), [s.velocity.astype(float) for s in songs])
    print(f"{args.style}, {args.split} split, {len(songs)} performances, file grid, uncalibrated")
    for section, values in result.items():
        if isinstance(values, dict):
            print(f"{section}:", ", ".join(f"{k} {v:.3f}" for k, v in values.items()))
        else:
            print(f"{section}: {values:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
