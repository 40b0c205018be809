"""Combine checkpoints: ``python -m models.soup OUT.pt A.pt B.pt ...`` averages their weights;
``--ensemble`` keeps them all and averages their outputs (an ensemble among them brings its members).

Checkpoints fine-tuned from one model stay in one basin of the loss, so the uniform average of their
weights (a "model soup", Wortsman et al., ICML 2022) is a model of the same size and speed that is
usually at least as good as each of them: an ensemble's gain without an ensemble's inference cost.
Averaging unrelated runs (trained from different starts) does not work; this tool cannot tell, so
validate the result (``python -m models.evaluate --split val``). Such runs make an ensemble instead:
their errors differ most, at one model time per member. Either way the result's spread calibration and
written-dynamics weight must be fitted again: run ``python -m models.evaluate --calibrate`` on it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from models.stylenet import (
    SHAPE_FIELDS,
    CheckpointError,
    Ensemble,
    LoadedModel,
    Net,
    StyleNet,
    layer_sizes,
    load_checkpoint,
    save_checkpoint,
)

KEPT = ("encoding_version", "data_summary", "target", "inference")  # what the ingredients share


def ingredients(paths: list[Path], ensemble: bool = False) -> list[LoadedModel]:
    """The checkpoints, loaded on the CPU; CheckpointError unless they are StyleNets of one architecture
    (ensembles only when ``ensemble``: they then bring their members, layer sizes may differ, and a
    member may have heads for only some of the first checkpoint's styles, e.g. one trained on one style)."""
    if len(paths) < 2:
        raise CheckpointError("combining needs at least two checkpoints")
    loaded = [load_checkpoint(p, "cpu") for p in paths]
    cfg = loaded[0].model.cfg
    for path, other in zip(paths, loaded):
        if isinstance(other.model, Ensemble) and not ensemble:
            raise CheckpointError(f"{path} is already an ensemble; combine its members' checkpoints instead")
        # Dropout is how a run was trained, not what its weights are: runs that differ only there mix.
        # An ensemble averages outputs, not weights, so its members may also differ in layer sizes.
        free = ("dropout", "styles", *SHAPE_FIELDS) if ensemble else ("dropout",)
        other_styles = ensemble and not set(other.model.cfg.styles) <= set(cfg.styles)
        if replace(other.model.cfg, **{f: getattr(cfg, f) for f in free}) != cfg or other_styles:
            kind = "the same inputs and keys, with styles among the first's," if ensemble else "one architecture"
            raise CheckpointError(f"{path}: its model ({other.model.cfg}) differs from {paths[0]}'s "
                                  f"({cfg}); only checkpoints of {kind} can be combined")
    return loaded


@dataclass
class Member:
    """One model of an ensemble to be: its weights, the styles whose heads it keeps, where it came from,
    its layer sizes (``SHAPE_FIELDS``)."""

    state: dict[str, torch.Tensor]
    styles: tuple[str, ...]
    origin: dict[str, Any]
    shape: dict[str, int]


def members(paths: list[Path], loaded: list[LoadedModel], heads: dict[Path, tuple[str, ...]]) -> list[Member]:
    """Each single checkpoint as one member (with its ``heads``, else all), each ensemble as its members with
    the heads they have: so a trained member can join the bundled ensemble without its members' files."""
    out = []
    for path, m in zip(paths, loaded):
        if not isinstance(m.model, Ensemble):
            styles = tuple(heads.get(path, m.model.cfg.styles))
            lacking = set(styles) - set(m.model.cfg.styles)  # its own heads: it may have fewer than the first
            if lacking:
                raise CheckpointError(f"{path} has no head for {', '.join(sorted(lacking))}")
            origin = {"path": str(path), "step": m.meta.get("step"), "train_args": m.meta.get("train_args", {})}
            out.append(Member(m.model.state_dict(), styles, origin, layer_sizes(m.model.cfg)))
            continue
        if path in heads:
            raise CheckpointError(f"--heads names a single checkpoint; {path} is an ensemble, whose members "
                                  "keep the heads they have")
        told = m.meta.get("soup", [])
        told = told if len(told) == len(m.model.members) else [{} for _ in m.model.members]
        for k, (net, styles, shape) in enumerate(zip(m.model.members, m.model.member_styles, m.model.member_shapes)):
            origin = {"path": f"{path} (member {k})", "step": None, "train_args": {},
                      **{key: v for key, v in told[k].items() if key != "heads"}}
            out.append(Member(net.state_dict(), styles, origin, shape))
    return out


def soup(paths: list[Path], ensemble: bool = False,
         heads: dict[Path, tuple[str, ...]] | None = None) -> tuple[Net, dict[str, Any]]:
    """The combined model and its checkpoint metadata (``soup``: each member's path, step and settings).
    ``heads`` keeps only the named styles' heads of those ensemble members (the others keep all)."""
    loaded = ingredients(paths, ensemble)
    if heads and not ensemble:
        raise CheckpointError("only an ensemble's members can keep some of their heads (use --ensemble)")
    cfg = loaded[0].model.cfg
    parts = members(paths, loaded, heads or {})  # each with heads it has, so among the first's styles
    model: Net
    if ensemble:
        try:
            model = Ensemble(cfg, len(parts), [p.styles for p in parts], [p.shape for p in parts])
        except ValueError as exc:
            raise CheckpointError(str(exc)) from None
        for member, part in zip(model.members, parts):
            own = member.state_dict()
            member.load_state_dict({k: v for k, v in part.state.items() if k in own})
    else:
        states = [p.state for p in parts]
        model = StyleNet(cfg)
        model.load_state_dict({k: torch.stack([s[k].float() for s in states]).mean(0) for k in states[0]})
    meta = {k: loaded[0].meta[k] for k in KEPT if k in loaded[0].meta}
    kept = model.member_styles if isinstance(model, Ensemble) else [p.styles for p in parts]  # config order
    meta["soup"] = [{**p.origin, "heads": list(styles)} for p, styles in zip(parts, kept)]
    return model, meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.soup", description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path, help="the combined checkpoint to write (never one of the inputs)")
    p.add_argument("checkpoints", type=Path, nargs="+")
    p.add_argument("--ensemble", action="store_true",
                   help="keep every model and average their outputs (for runs from different starts); an "
                        "ensemble given (the bundled model is one) brings its members, so a new run can join it")
    p.add_argument("--int8", action="store_true",
                   help="store the weight matrices as 8-bit integers with a scale per row (half the file of "
                        "float16; validate the result, as always)")
    p.add_argument("--heads", action="append", default=[], metavar="CHECKPOINT=STYLE[,STYLE]",
                   help="with --ensemble: keep only these styles' heads of that member (its other styles then "
                        "average the other members); repeatable")
    args = p.parse_args(argv)
    heads: dict[Path, tuple[str, ...]] = {}
    for spec in args.heads:
        path, _, styles = spec.rpartition("=")
        if not path or not styles or Path(path) not in args.checkpoints:
            p.error(f"--heads {spec}: give one of the checkpoints, '=' and its styles, e.g. B.pt=classical")
        heads[Path(path)] = tuple(s.strip() for s in styles.split(",") if s.strip())
    if any(args.out.resolve() == c.resolve() for c in args.checkpoints):
        print(f"error: {args.out} is one of the inputs; write the result to a new file", file=sys.stderr)
        return 2
    try:
        model, meta = soup(args.checkpoints, args.ensemble, heads)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save_checkpoint(args.out, model, int8=args.int8, **meta)
    # Count what the file holds: an ensemble given as an input brings all its members.
    kind = f"an ensemble of {len(meta['soup'])} members" if args.ensemble else \
        f"the average of {len(args.checkpoints)} checkpoints"
    print(f"{args.out}: {kind}; fit its calibration with python -m models.evaluate --checkpoint {args.out} "
          "--calibrate")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
