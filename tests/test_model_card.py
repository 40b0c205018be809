"""The bundled checkpoint: used by default, and the model card's figures are what evaluation measures."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from conftest import DEMO, ROOT

from app.cli import main
from app.core.midi_document import MidiDocument
from models.stylenet import DEFAULT_CHECKPOINT, load_checkpoint

FIGURES = ROOT / "models" / "evaluation.json"


def test_bundled_checkpoint_is_small_valid_and_calibrated():
    assert DEFAULT_CHECKPOINT.stat().st_size < 25 * 2**20
    loaded = load_checkpoint(DEFAULT_CHECKPOINT, "cpu")
    assert loaded.styles == ("classical", "jazz")
    assert all(loaded.calibration[s]["spread"] >= 1.0 for s in loaded.styles)


def test_bundled_checkpoint_carries_the_cards_figures():
    from models.evaluate import head_summary

    carried = load_checkpoint(DEFAULT_CHECKPOINT, "cpu").meta["evaluation"]
    assert carried == head_summary(json.loads(FIGURES.read_text()), ("classical", "jazz"))
    assert carried["split"] == "test" and carried["classical"]["score_input"]["model"]["r"] > 0.5


def test_humanise_uses_the_bundled_checkpoint_by_default(tmp_path):
    out = tmp_path / "out.mid"
    assert main(["humanise", str(DEMO), "--style", "classical", "-o", str(out)]) == 0
    v = MidiDocument.load(out).notes.velocity.astype(float)
    assert v.std() > 3 and 20 < v.mean() < 110  # real dynamics, not a flat or wild line


def close(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):  # e.g. an interval: its ends differ in the last bit from machine to machine
        return isinstance(b, list) and len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, int | float):
        return abs(a - b) <= 1e-3 * max(1.0, abs(a))
    return a == b


@pytest.mark.timeout(1800)
def test_model_card_figures_are_reproduced_by_evaluate(shared_data, tmp_path):
    out = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, "-m", "models.evaluate", "--data", str(shared_data), "--cache",
                           str(ROOT / "data_cache"), "--json", str(out)], capture_output=True, text=True,
                          cwd=ROOT, timeout=1750)
    assert proc.returncode == 0, proc.stderr[-2000:]
    fresh, card = json.loads(out.read_text()), json.loads(FIGURES.read_text())
    assert close(card, json.loads(json.dumps(fresh, sort_keys=True))), "MODEL_CARD figures are stale"
    card_text = (ROOT / "models" / "MODEL_CARD.md").read_text()
    r = card["classical"]["quantised_performance"]["stylenet:classical"]["r"]
    assert f"{r:.3f}" in card_text


def test_the_bundled_model_gives_the_flat_demo_audible_dynamics(tmp_path):
    """Listen-proxy: rendered at the same loudness, the humanised demo moves further between soft and loud
    than the flat-velocity score."""
    from app.report import write_demo
    from models.inference import StyleNetPredictor

    result = write_demo(DEMO, tmp_path, StyleNetPredictor.from_checkpoint(), seed=0)
    ranges = {w.version: w.range_db for w in result.audio}
    assert not result.problem and ranges["classical"] > ranges["original"] + 1.0
    assert ranges["jazz"] > ranges["original"] + 1.0


def test_card_says_where_the_checkpoint_came_from():
    from models.model_card import _trained

    fine_tune = {"step": 7000, "train_args": {"out": "runs/K1", "init": "models/stylenet.pt"}}
    assert _trained(fine_tune) == "`K1` trained 7000 steps, fine-tuned from `models/stylenet.pt`"
    assert _trained({"step": 5, "train_args": {"out": "runs/x", "init": "None"}}) == "`x` trained 5 steps"
    soup = {"soup": [{"path": "runs/F1/best.pt", "step": 16000}, {"path": "runs/F2/best.pt", "step": 9}]}
    assert _trained(soup) == "the weight average of 2 checkpoints (`F1` step 16000, `F2` step 9)"
    both = ["classical", "jazz"]
    ensemble = {"ensemble": 2, "styles": both, "soup": [{"path": "runs/A.pt", "step": None, "heads": both},
                                                        {"path": "runs/N.pt", "step": 6500, "heads": ["classical"]}]}
    assert _trained(ensemble) == ("an ensemble (outputs averaged) of 2 checkpoints "
                                  "(`A`, `N` step 6500 (classical only))")
    ensemble["model_args"] = {"hidden": 176, "genre_layers": 3}
    ensemble["ensemble_shapes"] = [{"hidden": 176, "genre_layers": 3}, {"hidden": 128, "genre_layers": 2}]
    assert _trained(ensemble).endswith("(`A`, `N` step 6500 (classical only; hidden 128, 2 head layers))")
    ensemble["ensemble_shapes"][1] = {"hidden": 176, "genre_layers": 3, "fold": 2}  # older args have no fold
    assert _trained(ensemble).endswith("(`A`, `N` step 6500 (classical only; 2 steps per LSTM step))")


@pytest.mark.timeout(900)
def test_calibrating_a_checkpoint_drops_its_stale_figures(shared_data, tmp_path):
    from app.core.encoding import ENCODING_VERSION
    from models.evaluate import main as evaluate
    from models.stylenet import StyleNet, StyleNetConfig, save_checkpoint

    ckpt = tmp_path / "tiny.pt"
    save_checkpoint(ckpt, StyleNet(StyleNetConfig(hidden=8, genre_layers=1)), encoding_version=ENCODING_VERSION,
                    evaluation={"split": "test"})
    assert evaluate(["--data", str(shared_data), "--cache", str(ROOT / "data_cache"), "--checkpoint", str(ckpt),
                     "--calibrate", "--stretch-step", "0.01", "--limit", "1", "--threads", "1"]) == 0
    loaded = load_checkpoint(ckpt, "cpu")
    assert "evaluation" not in loaded.meta and set(loaded.calibration) == {"classical", "jazz"}
