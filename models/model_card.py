"""Write the measured figures into MODEL_CARD.md, between its figure markers."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from models.stylenet import InferenceSettings, LoadedModel, StyleNetConfig


def _shape_notes(shape: dict[str, int], args: dict[str, Any]) -> list[str]:
    """How a member's layer sizes differ from the ensemble's ``model_args`` (absent fields: the defaults)."""
    default = asdict(StyleNetConfig())
    differs = {k for k, v in shape.items() if args.get(k, default[k]) != v}
    notes = [f"hidden {shape['hidden']}, {shape['genre_layers']} head layers"] if differs - {"fold"} else []
    return notes + ([f"{shape['fold']} steps per LSTM step"] if "fold" in differs else [])


START, END = "<!-- figures:start (written by python -m models.evaluate --write-card) -->", "<!-- figures:end -->"
ROWS = ("stylenet:classical", "stylenet:jazz", "rule", "written", "constant", "random")


def _table(results: dict[str, Any]) -> list[str]:
    lines = ["| predictor | MAE | level-matched MAE | r (within piece) | spread (SD pred / SD human) |",
             "|---|---:|---:|---:|---:|"]
    weights = results.get("written_weights", {})
    names = [n for r in ROWS for n in (r, f"{r} (notes only)") if n in results]
    for name in names:
        f, w = results[name], weights.get(name, 0.0)
        label = f"{name} + written dynamics ×{w:g}" if w else ("written dynamics alone" if name == "written" else name)
        lines.append(f"| {label} | {f['mae']:.2f} | {f['level_mae']:.2f} | {f['r']:.3f} | {f['spread']:.2f} |")
    return lines


def _interval(q: dict[str, Any], key: str, fmt: str) -> str:
    """The head's 95% interval over resampled test pieces, when the figures have one."""
    if "intervals" not in q:
        return ""
    lo, hi = q["intervals"][key]
    return f", 95% interval over resampled pieces {lo:{fmt}}–{hi:{fmt}}"


def _bars(style: str, section: dict[str, Any]) -> list[str]:
    q = section["quantised_performance"]
    mine = f"stylenet:{style}"
    own, other = q[mine], [v for k, v in q.items() if k.startswith("stylenet:") and k != mine]
    checks = [
        (f"r ≥ 0.5{_interval(q, 'r', '.3f')}", own["r"] >= 0.5),
        (f"r above the rule's ({q['rule']['r']:.3f})", own["r"] > q["rule"]["r"]),
        (f"level-matched MAE ≤ 80% of constant's ({0.8 * q['constant']['level_mae']:.2f}; measured "
         f"{own['level_mae'] / q['constant']['level_mae']:.1%}{_interval(q, 'level_mae_share', '.1%')})",
         own["level_mae"] <= 0.8 * q["constant"]["level_mae"]),
        (f"level-matched MAE below the rule's ({q['rule']['level_mae']:.2f})",
         own["level_mae"] < q["rule"]["level_mae"]),
        ("spread ratio in 0.7–1.3", 0.7 <= own["spread"] <= 1.3),
        ("style specificity: own head has the higher r", all(own["r"] > o["r"] for o in other)),
    ]
    if "score_input" in section:
        s = section["score_input"]
        scored = s[mine]
        alone = s.get(f"{mine} (notes only)", scored)["r"]
        checks.append((f"score input: r ≥ 0.5 (measured {scored['r']:.3f} with the score's written dynamics, "
                       f"{alone:.3f} from its notes alone)", scored["r"] >= 0.5))
        checks.append((f"score input: r above the rule's ({s['rule']['r']:.3f})", scored["r"] > s["rule"]["r"]))
    return [f"- {'PASS' if ok else 'FAIL'}: {text} (measured: r {own['r']:.3f}, level MAE {own['level_mae']:.2f}, "
            f"spread {own['spread']:.2f})" if i == 0 else f"- {'PASS' if ok else 'FAIL'}: {text}"
            for i, (text, ok) in enumerate(checks)]


def _agreement(a: dict[str, Any]) -> str:
    return (f"**Human agreement** (a reference, not a bar): on the score notes, {a['performances']} performances of "
            f"{a['pieces']} pieces played more than once. One other pianist predicts a pianist with r "
            f"{a['one_other_r']:.3f} on average; the mean shape of all the others with r {a['others_r']:.3f}, and, "
            f"at the pianist's own level and SD, a level-matched MAE of {a['others_level_mae_share']:.1%} of the "
            "constant's. Pianists of a piece share this much; the bars ask for less (r ≥ 0.5, MAE ≤ 80%).")


def _inference(figures: dict[str, Any]) -> str:
    settings = InferenceSettings.from_meta(figures.get("inference", {}))
    shifts = list(settings.shifts)
    averaged = f", averaged over transpositions {shifts} semitones" if any(shifts) else ""
    kept = f"; written dynamics of the input kept at weight {settings.written:g}" if settings.written else ""
    return f"{settings.window}-step windows every {settings.hop} steps{averaged}{kept}"


def _trained(meta: dict[str, Any]) -> str:
    if "soup" not in meta:
        args = meta.get("train_args", {})
        run = f"`{Path(args['out']).name}` " if "out" in args else ""
        start = f", fine-tuned from `{args['init']}`" if args.get("init", "None") != "None" else ""
        return f"{run}trained {meta.get('step', '?')} steps{start}"
    styles, args = meta.get("styles", []), meta.get("model_args", {})
    shapes = meta.get("ensemble_shapes") or [{} for _ in meta["soup"]]
    parts = []
    for i, shape in zip(meta["soup"], shapes):
        notes = [f"{', '.join(i['heads'])} only"] if set(i.get("heads", styles)) != set(styles) else []
        notes += _shape_notes(shape, args)
        parts.append(f"`{_run_name(Path(i['path']))}`" + (f" step {i['step']}" if i["step"] is not None else "")
                     + (f" ({'; '.join(notes)})" if notes else ""))
    kind = "an ensemble (outputs averaged)" if meta.get("ensemble") else "the weight average"
    return f"{kind} of {len(parts)} checkpoints ({', '.join(parts)})"


def _run_name(path: Path) -> str:
    """A training run's folder name for its best.pt / last.pt, else the file's own name."""
    return path.parent.name if path.stem in ("best", "last") else path.stem


def render(figures: dict[str, Any], loaded: LoadedModel) -> str:
    meta = loaded.meta
    out = [START, "", f"Checkpoint: `{loaded.path.name if loaded.path else '?'}`, {_trained(meta)}; "
           f"split evaluated: `{figures['split']}`. Spread calibration (fitted on val): "
           f"{figures['calibration'] or 'none'}. Inference (chosen on val): {_inference(figures)}.", ""]
    for style in loaded.styles:
        section = figures[style]
        out += [f"### {style.capitalize()}", "", "Bars:", *_bars(style, section), ""]
        titles = {"quantised_performance": "Quantised-performance input (paper's setting: the file's own grid)",
                  "score_grid_performance": "Performance quantised on the score's beat grid (ASAP annotations)",
                  "score_input": "Score input (ASAP `midi_score.mid`, matched to each performance)"}
        for key, title in titles.items():
            if key in section:
                extra = f" — match rate {section[key]['match_rate']:.1%}" if key == "score_input" else ""
                out += [f"**{title}**{extra}", "", *_table(section[key]), ""]
        if "human_agreement" in section:
            out += [_agreement(section["human_agreement"]), ""]
    out.append(END)
    return "\n".join(out)


def write_card(card: Path, figures: dict[str, Any], loaded: LoadedModel) -> None:
    text = card.read_text() if card.exists() else f"# StyleNet model card\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    card.write_text(head + render(figures, loaded) + tail)
