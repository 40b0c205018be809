"""StyleNet model: shapes, checkpoints, device choice, a few real training steps (also under torchrun)."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import pairwise

import numpy as np
import pytest
import torch

from app.core.encoding import ENCODING_VERSION
from app.core.midi_document import MidiDocument
from models.data import Song
from models.inference import StyleNetPredictor
from models.stylenet import (
    DEFAULT_CHECKPOINT,
    CheckpointError,
    InferenceSettings,
    StyleNet,
    StyleNetConfig,
    load_checkpoint,
    pick_device,
    predict,
    save_checkpoint,
)

FEW = {"classical": ["classical/asap/Bach/Fugue/bwv_846/Shi05M.mid", "classical/asap/Bach/Fugue/bwv_848/Lee01M.mid"],
       "jazz": ["jazz/mckenzie/AfterYou.mid", "jazz/mckenzie/A Sleepin Bee.mid"]}


def test_paper_shapes_and_styles_come_from_config():
    model = StyleNet(StyleNetConfig(styles=("classical", "jazz", "ragtime")))
    x = torch.zeros(2, 30, 176)  # (B, T, 176)
    for style in ("classical", "jazz", "ragtime"):
        with torch.no_grad():
            y = model(x, style)
        assert y.shape == (2, 30, 88) and float(y.min()) >= 0 and float(y.max()) <= 1
    head = model.heads["jazz"]
    assert head.lstm.num_layers == 3 and head.lstm.bidirectional and head.lstm.hidden_size == 176
    assert head.out.in_features == 352 and model.interpretation.hidden_size == 176


def test_a_folded_network_reads_and_writes_each_pair_of_steps_side_by_side():
    torch.manual_seed(0)
    model = StyleNet(StyleNetConfig(hidden=8, genre_layers=1, fold=2)).eval()
    assert model.interpretation.input_size == 352 and model.heads["jazz"].out.out_features == 176
    x = (torch.rand(1, 31, 176) < 0.1).float()  # an odd length: padded by one silent step, which is cut off
    padded = torch.cat([x, torch.zeros(1, 1, 176)], dim=1)
    side_by_side = torch.cat([padded[:, 0::2], padded[:, 1::2]], dim=-1)  # (1, 16, 352): steps 2k and 2k + 1
    h, _ = model.interpretation(side_by_side)
    per_pair = model.heads["jazz"](h)  # (1, 16, 176): keys of step 2k, then keys of step 2k + 1
    expected = torch.stack([per_pair[:, :, :88], per_pair[:, :, 88:]], dim=2).reshape(1, 32, 88)[:, :31]
    assert torch.allclose(model(x, "jazz"), expected)
    y = predict(model, x[0].numpy(), "jazz", InferenceSettings(hop=352, window=400))
    assert y.shape == (31, 88) and np.isfinite(y).all()
    with pytest.raises(ValueError, match="fold must be 1 or more"):
        StyleNet(StyleNetConfig(fold=0))


def test_windowed_prediction_covers_every_step_and_short_pieces():
    model = StyleNet(StyleNetConfig(hidden=8, genre_layers=1))
    for steps in (1, 199, 200, 201, 777):
        y = predict(model, np.random.default_rng(0).random((steps, 176)).astype(np.float32), "jazz")
        assert y.shape == (steps, 88) and np.isfinite(y).all()


def test_longer_inference_windows_cover_the_piece_and_see_past_the_training_length():
    model = StyleNet(StyleNetConfig(hidden=8, genre_layers=1))
    x = (np.random.default_rng(2).random((900, 176)) < 0.05).astype(np.float32)
    long = InferenceSettings(hop=352, window=400)
    y = predict(model, x, "jazz", long)
    assert y.shape == (900, 88) and np.isfinite(y).all()
    assert not np.allclose(y, predict(model, x, "jazz"))  # the window is really 400 steps, not 200
    short = x[:300]  # shorter than one window: the whole piece at once, with no silence after it
    whole = model(torch.from_numpy(short)[None], "jazz")[0].detach().numpy()
    assert np.allclose(predict(model, short, "jazz", long), whole, atol=1e-6)
    with pytest.raises(ValueError, match="hop 500 must be between 1 and the window"):
        InferenceSettings(hop=500, window=400)


def test_windows_shared_out_to_threads_give_the_same_velocities_and_can_be_cancelled():
    from app.core.humanise import Cancelled

    model = StyleNet(StyleNetConfig(hidden=8, genre_layers=1))
    x = (np.random.default_rng(4).random((2000, 176)) < 0.05).astype(np.float32)  # 20 windows, every 96 steps
    alone = predict(model, x, "jazz")
    done: list[float] = []
    shared = predict(model, x, "jazz", workers=3, chunk=8, progress=lambda f: done.append(f) is None)
    assert np.abs(shared - alone).max() < 1e-6 and done == [0.4, 0.8, 1.0]
    with pytest.raises(Cancelled):
        predict(model, x, "jazz", workers=3, chunk=8, progress=lambda f: False)


def test_a_cpu_predictor_runs_windows_on_threads_of_its_own_instead_of_one_openmp_team(tiny_checkpoint):
    # in a process of its own: the choice is made once per process and changes torch's thread count
    code = ("import torch; torch.set_num_threads(3)\n"
            "from models.inference import StyleNetPredictor\n"
            f"p = StyleNetPredictor.from_checkpoint({str(tiny_checkpoint)!r}, 'cpu')\n"
            f"q = StyleNetPredictor.from_checkpoint({str(tiny_checkpoint)!r}, 'cpu')\n"
            "print(p.workers, q.workers, torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "3", "1"]


def test_transposition_averaging_maps_every_shift_back_onto_its_keys():
    from models.stylenet import shift_keys

    model = StyleNet(StyleNetConfig(hidden=8, genre_layers=1))
    x = (np.random.default_rng(1).random((230, 176)) < 0.05).astype(np.float32)
    up = predict(model, x, "jazz", InferenceSettings(shifts=(2,)))
    direct = predict(model, shift_keys(x, 2), "jazz")  # the same piece played two keys higher
    assert np.allclose(up[:, :86], direct[:, 2:], atol=1e-6)
    assert (up[:, 86:] == 0).all()  # keys pushed off the keyboard have no prediction from that shift
    both = predict(model, x, "jazz", InferenceSettings(shifts=(0, 2)))
    plain = predict(model, x, "jazz")
    assert np.allclose(both[:, :86], (plain[:, :86] + up[:, :86]) / 2, atol=1e-6)
    assert np.allclose(both[:, 86:], plain[:, 86:], atol=1e-6)  # only the unshifted run reaches the top keys


def test_the_app_runs_the_inference_settings_stored_in_the_checkpoint(tmp_path):
    from conftest import DEMO

    from app.core.encoding import decode, encode

    model = StyleNet(StyleNetConfig(hidden=8, genre_layers=1))
    path = tmp_path / "tta.pt"
    stored = InferenceSettings(160, (-1, 0, 1), window=240)
    save_checkpoint(path, model, encoding_version=ENCODING_VERSION, inference=stored.as_meta())
    predictor = StyleNetPredictor.from_checkpoint(path, "cpu")
    assert predictor.loaded.inference == stored
    doc = MidiDocument.load(DEMO)
    mask = np.ones(len(doc.notes), bool)
    enc = encode(doc.notes, doc.ticks_per_beat, mask)
    expected = decode(enc, predict(model, enc.inputs, "jazz", stored), doc.notes.velocity)
    plain = decode(enc, predict(model, enc.inputs, "jazz"), doc.notes.velocity)
    got = predictor.predict(doc.notes, doc.ticks_per_beat, mask, "jazz")
    assert np.array_equal(got, expected) and not np.array_equal(got, plain)


def test_checkpoint_round_trip_rebuilds_the_exact_model(tmp_path):
    torch.manual_seed(1)
    model = StyleNet(StyleNetConfig(hidden=12, genre_layers=2, styles=("a", "b")))
    save_checkpoint(tmp_path / "m.pt", model, encoding_version=ENCODING_VERSION, calibration={"a": {"spread": 1.5}})
    loaded = load_checkpoint(tmp_path / "m.pt", "cpu")
    assert loaded.styles == ("a", "b") and loaded.calibration["a"]["spread"] == 1.5
    x = torch.rand(1, 20, 176)
    model.eval()
    assert torch.equal(model(x, "b"), loaded.model(x, "b"))


@pytest.mark.parametrize(("content", "message"), [
    (b"", "not a readable .*empty or cut short"),
    (b"garbage" * 100, "not a readable .*not a file saved by PyTorch"),
    (DEFAULT_CHECKPOINT.read_bytes()[:100_000], "not a readable .*a damaged one"),
], ids=["empty", "garbage", "cut-short"])
def test_bad_checkpoint_files_give_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


class _NotWeights:
    """A pickled object that ``weights_only`` loading must refuse."""


def test_checkpoints_holding_python_objects_are_refused_for_safety(tmp_path):
    torch.save({"format": 1, "payload": _NotWeights()}, tmp_path / "objects.pt")
    with pytest.raises(CheckpointError, match="Python objects besides weights"):
        load_checkpoint(tmp_path / "objects.pt")


def test_wrong_checkpoint_dicts_are_refused(tmp_path):
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a StyleNet Studio checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    model = StyleNet(StyleNetConfig(hidden=8, genre_layers=1))
    save_checkpoint(tmp_path / "old.pt", model, encoding_version=ENCODING_VERSION + 1)
    with pytest.raises(CheckpointError, match="encoding version"):
        load_checkpoint(tmp_path / "old.pt")
    ckpt = torch.load(tmp_path / "old.pt", weights_only=True)
    ckpt["encoding_version"] = ENCODING_VERSION
    ckpt["model_args"]["hidden"] = 9  # weights no longer fit
    torch.save(ckpt, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="no StyleNet checkpoint"):
        load_checkpoint(tmp_path / "absent.pt")
    unusable = {"hop": 300, "window": 200}
    save_checkpoint(tmp_path / "hop.pt", model, encoding_version=ENCODING_VERSION, inference=unusable)
    with pytest.raises(CheckpointError, match=r"inference settings cannot be used \(hop 300 must be between"):
        load_checkpoint(tmp_path / "hop.pt")
    for bad in (["hop", 128], {"window": "long"}):
        save_checkpoint(tmp_path / "odd.pt", model, encoding_version=ENCODING_VERSION, inference=bad)
        with pytest.raises(CheckpointError, match=r"odd\.pt: its inference settings cannot be used"):
            load_checkpoint(tmp_path / "odd.pt")


def test_device_is_chosen_automatically_and_overridable(monkeypatch):
    monkeypatch.delenv("STYLENET_DEVICE", raising=False)
    assert pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu").type == "cpu"
    monkeypatch.setenv("STYLENET_DEVICE", "cpu")
    assert pick_device().type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(CheckpointError, match="no CUDA"):
            pick_device("cuda")


def test_predictor_changes_only_masked_in_range_notes(tiny_checkpoint):
    from conftest import DEMO

    doc = MidiDocument.load(DEMO)
    predictor = StyleNetPredictor.from_checkpoint(tiny_checkpoint, "cpu")
    mask = np.zeros(len(doc.notes), bool)
    mask[:50] = True
    out = predictor.predict(doc.notes, doc.ticks_per_beat, mask, "classical")
    assert np.array_equal(out[~mask], doc.notes.velocity[~mask])
    assert out.min() >= 1 and out.max() <= 127


@pytest.fixture
def few_files_data(shared_data, tmp_path):
    """A data folder with the shared layout but two songs per style and split."""
    root = tmp_path / "data"
    splits = {}
    for style, files in FEW.items():
        for rel in files:
            for src in (shared_data / rel).parent.glob(f"{(shared_data / rel).stem}*"):
                dst = root / rel.rsplit("/", 1)[0] / src.name
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(src.read_bytes())
            folder = (shared_data / rel).parent
            for extra in ("midi_score.mid", "midi_score_annotations.txt"):
                if (folder / extra).exists():
                    (root / rel.rsplit("/", 1)[0] / extra).write_bytes((folder / extra).read_bytes())
        splits[style] = {"train": files, "val": files[:1], "test": files[1:]}
    (root / "splits.json").write_text(json.dumps(splits))
    return root


def test_score_view_windows_carry_the_performed_velocities_of_matched_score_notes(shared_data):
    from models.data import performance_notes
    from models.score_view import ScoreViews
    from models.windows import WindowSampler

    rel = FEW["classical"][0]
    song = Song(rel, **performance_notes(shared_data / rel))
    view = ScoreViews(shared_data).view(song)
    assert view is not None and view.matched.mean() > 0.9  # a clean Bach fugue: nearly every note found
    enc = view.score.encoded
    assert set(view.velocity[view.matched]) <= set(song.velocity) and (view.velocity[~view.matched] == 0).all()
    sampler = WindowSampler([song], window=enc.steps, aligned_fraction=0.0,
                            score_views=ScoreViews(shared_data), score_fraction=1.0)
    x, y, m = sampler.batch(np.random.default_rng(0), 1)
    assert np.array_equal(x[0], enc.inputs)  # the score itself is the input, not the performance
    assert m[0].sum() == len(set(zip(enc.onset_step[view.matched], enc.key[view.matched])))
    k = np.flatnonzero(view.matched)[0]
    assert np.isclose(y[0, enc.onset_step[k], enc.key[k]] * 127, view.velocity[k], atol=0.6)
    no_scores = WindowSampler([song], window=enc.steps, aligned_fraction=0.0, score_fraction=1.0)
    assert not np.array_equal(no_scores.batch(np.random.default_rng(0), 1)[0][0], enc.inputs)


def test_fine_tuning_starts_from_a_checkpoint_and_gives_a_new_style_a_fresh_head(tmp_path):
    from models.train import init_from

    trained = StyleNet(StyleNetConfig(hidden=8, genre_layers=1))
    save_checkpoint(tmp_path / "a.pt", trained, encoding_version=ENCODING_VERSION)
    model = StyleNet(StyleNetConfig(styles=("classical", "jazz", "ragtime"), hidden=8, genre_layers=1))
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    message = init_from(model, tmp_path / "a.pt")
    assert "new heads: ragtime" in message
    for name, value in model.state_dict().items():
        expected = fresh[name] if name.startswith("heads.ragtime.") else trained.state_dict()[name]
        assert torch.equal(value, expected), name
    with pytest.raises(CheckpointError, match="layer sizes differ"):
        init_from(StyleNet(StyleNetConfig(hidden=12, genre_layers=1)), tmp_path / "a.pt")
    with pytest.raises(CheckpointError, match="layer sizes differ"):  # same sizes, but two steps per LSTM step
        init_from(StyleNet(StyleNetConfig(hidden=8, genre_layers=1, fold=2)), tmp_path / "a.pt")



def test_the_bundled_model_can_be_fine_tuned_as_the_readme_says():
    from models.train import init_from

    bundled = load_checkpoint(DEFAULT_CHECKPOINT, "cpu").model
    for k in range(len(bundled.members)):
        model = StyleNet(StyleNetConfig(styles=("classical", "jazz", "ragtime")))
        said = init_from(model, DEFAULT_CHECKPOINT, member=k)
        assert f"member {k} of its" in said and "ragtime" in said  # a new style: a fresh head
        assert torch.equal(model.interpretation.weight_hh_l0, bundled.members[k].interpretation.weight_hh_l0)

def test_a_run_starts_from_init_but_a_resumed_run_keeps_its_own_weights(tmp_path):
    from models.train import Run, parse_args

    def weights(model):
        return {k: v.clone() for k, v in model.state_dict().items()}

    size = ["--hidden", "8", "--genre-layers", "1"]
    source = StyleNet(StyleNetConfig(hidden=8, genre_layers=1))
    save_checkpoint(tmp_path / "a.pt", source, encoding_version=ENCODING_VERSION)
    init = ["--init", str(tmp_path / "a.pt")]
    args = parse_args(["--data", str(tmp_path), "--out", str(tmp_path / "run"), *init, *size])
    run = Run(args, StyleNet(StyleNetConfig(hidden=8, genre_layers=1)), torch.device("cpu"), False)
    assert run.origin.startswith("initialised from") and all(
        torch.equal(v, source.state_dict()[k]) for k, v in run.model.state_dict().items())
    rng = np.random.default_rng(0)
    batch = (rng.random((2, 16, 176), dtype=np.float32), rng.random((2, 16, 88), dtype=np.float32),
             np.ones((2, 16, 88), np.float32))
    run.train_step("classical", batch)
    trained = weights(run.model)
    run.save({"classical": {"r": 0.1}, "jazz": {"r": 0.1}}, {}, minutes=7.5)
    again = Run(args, StyleNet(StyleNetConfig(hidden=8, genre_layers=1)), torch.device("cpu"), False)
    assert again.origin.endswith("at step 1") and again.minutes_before == 7.5  # log.csv's minutes go on from there
    assert all(torch.equal(v, trained[k]) for k, v in weights(again.model).items())  # not the --init weights
    wrong = parse_args(["--data", str(tmp_path), "--out", str(tmp_path / "r2"), *init, "--hidden", "12"])
    with pytest.raises(CheckpointError, match="layer sizes differ"):
        Run(wrong, StyleNet(StyleNetConfig(hidden=12, genre_layers=1)), torch.device("cpu"), False)




@pytest.mark.parametrize("flags, message", [(["--note-dropout", "1"], "--note-dropout must be at least 0"),
                                            (["--note-dropout", "-0.1"], "--note-dropout must be at least 0"),
                                            (["--weight-decay", "-1"], "--weight-decay cannot be negative"),
                                            (["--teacher-weight", "2"], "--teacher-weight must be between"),
                                            (["--keep-every", "750"], "--keep-every must be 0 or a multiple"),
                                            (["--fold", "0"], "--fold must be 1 or more, not 0"),
                                            (["--val-window", "0"], "--val-window must be 1 or more, not 0")])
def test_training_settings_out_of_range_are_refused_in_one_line(flags, message, capsys):
    from models.train import parse_args

    with pytest.raises(SystemExit) as exit_:
        parse_args(["--data", "d", *flags])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_validation_runs_the_windows_it_is_asked_for():
    from models.scoring import note_velocities, run_songs
    from models.train import validate

    rng = np.random.default_rng(3)
    starts = np.sort(rng.uniform(0, 120, 400))  # 120 beats: 480 steps, more than one 200-step window
    songs = [Song("s", rng.integers(40, 90, 400), rng.integers(30, 100, 400), starts, starts + 0.5,
                  np.full(400, np.nan), np.full(400, np.nan))]
    torch.manual_seed(0)
    model = StyleNet(StyleNetConfig(styles=("classical",), hidden=8, genre_layers=1)).eval()
    long = validate(model, {"classical": songs}, torch.device("cpu"), window=480)
    one_window = InferenceSettings(hop=420, window=480)  # the hop is 7/8 of the window

    def fn(x, step, key, human):
        return note_velocities(model, x, step, key, "classical", "cpu", one_window)

    assert long["classical"] == run_songs(songs, {"m": fn}, aligned=False)["m"]
    assert long["classical"]["r"] != validate(model, {"classical": songs}, torch.device("cpu"))["classical"]["r"]


def test_weight_decay_shrinks_every_weight_apart_from_the_adam_step(tmp_path):
    from models.train import Run, parse_args

    rng = np.random.default_rng(0)
    batch = (rng.random((2, 16, 176), dtype=np.float32), rng.random((2, 16, 88), dtype=np.float32),
             np.ones((2, 16, 88), np.float32))
    start = StyleNet(StyleNetConfig(hidden=8, genre_layers=1)).state_dict()
    after = {}
    for decay in ("0", "0.5"):
        args = parse_args(["--data", str(tmp_path), "--out", str(tmp_path / decay), "--hidden", "8",
                           "--genre-layers", "1", "--lr", "0.01", "--weight-decay", decay, "--dropout", "0"])
        model = StyleNet(StyleNetConfig(hidden=8, genre_layers=1, dropout=0.0))
        model.load_state_dict(start)
        run = Run(args, model, torch.device("cpu"), False)
        run.train_step("classical", batch)
        after[decay] = run.model.state_dict()
    for k, w0 in start.items():  # decoupled decay: the same Adam step, less lr * decay * w
        if k.startswith("heads.jazz."):  # a head decays only on its own style's steps
            assert torch.equal(after["0.5"][k], w0)
        else:
            torch.testing.assert_close(after["0.5"][k], after["0"][k] - 0.01 * 0.5 * w0, rtol=0, atol=1e-6)


def test_distillation_targets_blend_the_teachers_predictions_into_onset_cells_only(tmp_path):
    from models.train import Run, parse_args

    teacher = StyleNet(StyleNetConfig(hidden=8, genre_layers=1)).eval()
    save_checkpoint(tmp_path / "t.pt", teacher, encoding_version=ENCODING_VERSION)
    rng = np.random.default_rng(0)
    x, y = torch.rand(2, 16, 176, generator=torch.Generator().manual_seed(0)), torch.rand(2, 16, 88)
    m = torch.from_numpy((rng.random((2, 16, 88)) < 0.1).astype(np.float32))
    with torch.no_grad():
        taught = teacher(x, "jazz")
    for weight in (0.0, 0.25, 1.0):
        args = parse_args(["--data", str(tmp_path), "--out", str(tmp_path / "run"), "--hidden", "8",
                           "--genre-layers", "1", "--teacher", str(tmp_path / "t.pt"),
                           "--teacher-weight", str(weight)])
        run = Run(args, StyleNet(StyleNetConfig(hidden=8, genre_layers=1)), torch.device("cpu"), False)
        target = run.distilled(x, y, m, "jazz")
        on = m > 0
        assert torch.allclose(target[on], (1 - weight) * y[on] + weight * taught[on])
        assert torch.equal(target[~on], y[~on])
    ragtime = parse_args(["--data", str(tmp_path), "--out", str(tmp_path / "r3"), "--hidden", "8", "--genre-layers",
                          "1", "--teacher", str(tmp_path / "t.pt")])
    with pytest.raises(SystemExit):
        parse_args(["--data", str(tmp_path), "--out", str(tmp_path / "r4"), "--teacher-weight", "1.5"])
    with pytest.raises(CheckpointError, match="no head for ragtime"):
        Run(ragtime, StyleNet(StyleNetConfig(styles=("classical", "ragtime"), hidden=8, genre_layers=1)),
            torch.device("cpu"), False)


def test_shape_loss_scores_dynamics_apart_from_each_windows_level():
    from models.losses import masked_loss

    torch.manual_seed(0)
    y = torch.rand(3, 20, 88)
    mask = torch.rand(3, 20, 88) < 0.1
    offsets = torch.tensor([0.2, -0.1, 0.05]).view(3, 1, 1)  # a different level per window, same dynamics
    assert masked_loss(y + offsets, y, mask, "shape", level_weight=0.0) < 1e-10
    assert masked_loss(y + offsets, y, mask, "onset") > 1e-3
    flattened = torch.full_like(y, 0.5)  # right level on average, no dynamics
    assert masked_loss(flattened, y, mask, "shape", level_weight=0.0) > 1e-3
    level_only = masked_loss(y + offsets, y, mask, "shape", level_weight=1.0)
    assert torch.isclose(level_only, masked_loss(y + offsets, y, mask, "onset"))
    # One song per batch: one level for the whole batch, so passages louder than others must be learnt.
    assert masked_loss(y + 0.2, y, mask, "song-shape", level_weight=0.0) < 1e-10
    assert masked_loss(y + offsets, y, mask, "song-shape", level_weight=0.0) > 1e-3


def test_absolute_penalty_is_the_mean_absolute_error_and_corr_ignores_level_and_width():
    from models.losses import masked_loss

    torch.manual_seed(1)
    y = torch.rand(2, 30, 88)
    mask = torch.rand(2, 30, 88) < 0.1
    pred = y + torch.randn_like(y) * 0.1
    m = mask.float()
    mae = ((pred - y).abs() * m).sum() / m.sum()
    assert torch.isclose(masked_loss(pred, y, mask, "onset", penalty="absolute"), mae)
    assert torch.isclose(masked_loss(pred, y, mask, "onset"), (((pred - y) ** 2) * m).sum() / m.sum())
    # corr: louder, softer, wider or narrower dynamics that go the same way score perfectly...
    assert masked_loss(0.3 * y + 0.4, y, mask, "corr", level_weight=0.0) < 1e-6
    # ...opposite ones score worst, unrelated ones in between.
    assert masked_loss(1.0 - y, y, mask, "corr", level_weight=0.0) > 1.99
    assert 0.5 < masked_loss(torch.rand_like(y), y, mask, "corr", level_weight=0.0) < 1.5
    empty = torch.zeros_like(mask)  # windows without notes contribute nothing, not nan
    assert masked_loss(pred, y, empty, "corr", level_weight=1.0) == 0.0


def test_slow_loss_scores_passage_dynamics_and_ignores_note_to_note_detail():
    from models.losses import slow_curve, slow_loss

    torch.manual_seed(2)
    steps = torch.arange(200.0)
    passages = (0.5 + 0.2 * torch.sin(steps / 30))[None, :, None].expand(2, 200, 88)  # a slow swell
    mask = torch.rand(2, 200, 88) < 0.05
    y = passages + 0.1 * torch.randn(2, 200, 88)  # plus note-to-note detail
    curve = slow_curve(y, mask.float(), 16.0)
    assert curve.shape == (2, 200)
    assert torch.corrcoef(torch.stack((curve[0], passages[0, :, 0])))[0, 1] > 0.95
    other_detail = passages + 0.1 * torch.randn_like(y)  # same passages, unrelated note-to-note detail
    assert slow_loss(other_detail, y, mask, 16.0) < 0.05
    assert slow_loss(1.0 - other_detail, y, mask, 16.0) > 1.9  # passages the wrong way round
    assert slow_loss(0.5 + 0.1 * torch.randn_like(y), y, mask, 16.0) > 0.5  # detail without passages


def test_cosine_schedule_falls_from_the_peak_to_the_floor_and_constant_stays_put():
    from models.train import learning_rate, parse_args

    cosine = parse_args(["--data", "d", "--steps", "100", "--lr", "1e-3", "--schedule", "cosine", "--min-lr", "1e-5"])
    rates = [learning_rate(cosine, step) for step in range(0, 101, 10)]
    assert rates[0] == pytest.approx(1e-3) and rates[-1] == pytest.approx(1e-5)
    assert rates[5] == pytest.approx((1e-3 + 1e-5) / 2)
    assert all(a > b for a, b in pairwise(rates))
    constant = parse_args(["--data", "d", "--lr", "3e-4"])
    assert {learning_rate(constant, step) for step in (0, 5000, 10**6)} == {3e-4}


def test_one_song_batches_take_every_window_from_the_same_song():
    from models.windows import WindowSampler

    rng = np.random.default_rng(0)
    songs = [Song(f"s{i}", np.full(40, 40 + i), np.full(40, 10 * (i + 1)), np.arange(40) * 0.5,
                  np.arange(40) * 0.5 + 0.4, np.full(40, np.nan), np.full(40, np.nan)) for i in range(6)]
    sampler = WindowSampler(songs, window=16, aligned_fraction=0.0)
    for _ in range(5):
        _, y, m = sampler.batch(rng, 4, one_song=True)
        assert len({int(np.rint(y[b][m[b]].mean() * 127)) for b in range(4)}) == 1
    _, y, m = sampler.batch(rng, 4)
    assert len({int(np.rint(y[b][m[b]].mean() * 127)) for b in range(4)}) == 4  # distinct songs by default


def test_stretched_windows_play_the_same_notes_at_other_tempi():
    from app.core.encoding import N_KEYS
    from models.windows import STRETCH_LEVELS, WindowSampler

    n = 32
    song = Song("s", np.arange(40, 40 + n), np.full(n, 64), np.arange(n) * 0.25, np.arange(n) * 0.25 + 0.2,
                np.full(n, np.nan), np.full(n, np.nan))
    sampler = WindowSampler([song], window=80, aligned_fraction=0.0, stretch=0.25)
    assert len(sampler.stretches) == STRETCH_LEVELS and np.isclose(sampler.stretches[[0, -1]], [0.8, 1.25]).all()
    rng = np.random.default_rng(0)
    spans = set()
    for _ in range(40):
        x, _, m = sampler.batch(rng, 1)
        onsets = np.flatnonzero(x[0, :, :N_KEYS].any(axis=1))  # the onset block
        assert m[0].sum() == n  # every note kept, whatever the tempo
        spans.add(int(onsets[-1] - onsets[0]))
    assert len(spans) == STRETCH_LEVELS and min(spans) < 31 < max(spans)  # 31 steps at the performed tempo



def test_note_dropout_removes_whole_notes_from_input_and_loss():
    from app.core.encoding import N_KEYS, STEPS_PER_BEAT, encode_beats
    from models.windows import drop_notes

    rng = np.random.default_rng(3)
    pitch = rng.permutation(np.arange(21, 101))[:60]  # one note per key: no two share a cell
    start = np.sort(rng.uniform(0, 20, 60))
    enc = encode_beats(pitch, start, start + rng.uniform(0.25, 3, 60))
    mask = enc.inputs[:, :N_KEYS] > 0
    for s, n in [(0, enc.steps), (13, 40)]:
        x, m = enc.inputs[s:s + n].copy(), mask[s:s + n].copy()
        drop_notes(x, m, enc, s, n, 0.0, rng)  # keeping every note redraws the window exactly
        assert (x == enc.inputs[s:s + n]).all() and (m == mask[s:s + n]).all()
        drop_notes(x, m, enc, s, n, 1.0, rng)
        assert not x.any() and not m.any()
    x, m = enc.inputs.copy(), mask.copy()
    drop_notes(x, m, enc, 0, enc.steps, 0.5, rng)
    kept = x[enc.onset_step, enc.key] > 0
    assert 15 < kept.sum() < 45
    assert (m == (x[:, :N_KEYS] > 0)).all()
    # what is left is exactly the kept notes encoded on their own (with their sounding)
    on, off = enc.onset_step[kept], enc.onset_step[kept] + enc.duration[kept]
    alone = encode_beats(pitch[kept], on / STEPS_PER_BEAT, off / STEPS_PER_BEAT).inputs
    assert (x[: len(alone)] == alone).all() and not x[len(alone):].any()


TINY = ["--hidden", "16", "--genre-layers", "1", "--window", "64", "--val-every", "3", "--threads", "1"]


@pytest.mark.timeout(300)
def test_tiny_model_trains_resumes_and_evaluates(few_files_data, tmp_path):
    out = tmp_path / "run"
    # a folded network (two grid steps per LSTM step) goes through the same paths as the paper's
    base = [sys.executable, "-m", "models.train", "--data", str(few_files_data), "--out", str(out), *TINY,
            "--fold", "2"]
    first = subprocess.run([*base, "--steps", "6", "--score-fraction", "0.5"], capture_output=True, text=True,
                           timeout=240)
    assert first.returncode == 0, first.stderr
    rows = (out / "log.csv").read_text().splitlines()
    assert len(rows) == 3 and (out / "loss.png").exists() and (out / "best.pt").exists()
    # The continuation turns on weight averaging: it starts from the resumed weights and is resumed itself.
    # It keeps the averaged weights of each validation from then on as step_<N>.pt.
    again = subprocess.run([*base, "--steps", "12", "--ema", "0.9", "--keep-every", "3"], capture_output=True,
                           text=True, timeout=240)
    assert again.returncode == 0 and "resumed from" in again.stdout and "at step 6" in again.stdout
    rows = [r.split(",") for r in (out / "log.csv").read_text().splitlines()[1:]]
    assert [int(r[0]) for r in rows] == [3, 6, 9, 12]
    state = torch.load(out / "last.pt", weights_only=True)
    assert int(state["ema"]["n_averaged"]) == 6
    assert round(state["minutes"], 2) == float(rows[-1][1])  # where a resumed run's minutes go on from
    assert sorted(p.name for p in out.glob("step_*.pt")) == ["step_12.pt", "step_9.pt"]
    kept = load_checkpoint(out / "step_12.pt", "cpu")
    assert kept.meta["step"] == 12 and kept.meta["val"].keys() == {"classical", "jazz"} and kept.model.cfg.fold == 2
    averaged = {k.removeprefix("module."): v for k, v in state["ema"].items() if k.startswith("module.")}
    assert all(torch.equal(v, averaged[k]) for k, v in kept.model.state_dict().items())
    assert not torch.equal(averaged["heads.classical.out.weight"], state["state_dict"]["heads.classical.out.weight"])
    ev = subprocess.run([sys.executable, "-m", "models.evaluate", "--checkpoint", str(out / "best.pt"), "--data",
                         str(few_files_data), "--cache", str(out.parent / "data_cache"), "--json",
                         str(tmp_path / "f.json")], capture_output=True, text=True, timeout=240)
    assert ev.returncode == 0, ev.stderr
    figures = json.loads((tmp_path / "f.json").read_text())
    assert set(figures["classical"]) == {"quantised_performance", "score_grid_performance", "score_input"}
    assert figures["classical"]["score_input"]["match_rate"] > 0.5
    assert figures["jazz"]["quantised_performance"]["constant"]["notes"] > 1000



@pytest.mark.timeout(300)
def test_fine_tuning_the_bundled_model_on_your_own_performances_from_the_command_line(few_files_data, tmp_path):
    out = tmp_path / "mine"
    proc = subprocess.run([sys.executable, "-m", "models.train", "--data", str(few_files_data), "--out", str(out),
                           "--init", str(DEFAULT_CHECKPOINT), "--member", "2", "--steps", "2", "--val-every", "2",
                           "--threads", "2"], capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stderr
    assert "(member 2 of its 3)" in proc.stdout and "new heads: jazz" in proc.stdout  # N has a classical head only
    tuned = load_checkpoint(out / "best.pt", "cpu")
    assert tuned.styles == ("classical", "jazz") and tuned.meta["train_args"]["member"] == "2"
    wrong = subprocess.run([sys.executable, "-m", "models.train", "--data", str(few_files_data), "--out",
                            str(tmp_path / "x"), "--init", str(DEFAULT_CHECKPOINT), "--member", "5", "--steps", "1"],
                           capture_output=True, text=True, timeout=280)
    assert wrong.returncode == 2 and "--member must be 0 to 2" in wrong.stderr and "Traceback" not in wrong.stderr

@pytest.mark.timeout(300)
def test_distributed_training_with_two_gloo_processes(few_files_data, tmp_path):
    out = tmp_path / "ddp"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "models.train", "--data", str(few_files_data), "--out", str(out), "--steps", "4",
                           "--device", "cpu", "--ema", "0.99", "--loss", "shape", *TINY],
                          capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "best.pt").exists() and (out / "log.csv").read_text().splitlines()[-1].startswith("4,")


def test_consensus_targets_share_what_the_pianists_of_a_piece_agree_on(shared_data):
    from models.consensus import consensus_songs
    from models.data import performance_notes
    from models.score_view import ScoreViews, match_score_notes

    rels = ["classical/asap/Bach/Fugue/bwv_848/Lee01M.mid", "classical/asap/Bach/Fugue/bwv_848/Lin04M.mid",
            FEW["classical"][0]]  # two performances of one fugue, and a piece played once
    songs = [Song(rel, **performance_notes(shared_data / rel)) for rel in rels]
    views = ScoreViews(shared_data)
    kept, changed = consensus_songs(songs, views, own_weight=1.0)
    assert changed == 2 and all(np.array_equal(a.velocity, b.velocity) for a, b in zip(songs, kept))
    blended, _ = consensus_songs(songs, views, own_weight=0.0)
    assert np.array_equal(blended[2].velocity, songs[2].velocity)  # nobody to agree with
    score = views.score_for(songs[0])
    assert score is not None
    both = [match_score_notes(score.pitch, score.beats, s) for s in songs[:2]]
    common = (both[0] >= 0) & (both[1] >= 0)
    assert common.sum() > 500
    z = []
    for song, new, match in zip(songs, blended, both):
        assert abs(new.velocity.mean() - song.velocity.mean()) < 1.0  # each pianist's level is kept
        v = new.velocity[match[common]].astype(float)
        z.append((v - v.mean()) / v.std())
    assert np.corrcoef(*z)[0, 1] > 0.95  # the same dynamics shape, up to each pianist's level and range
    own = [s.velocity[m[common]].astype(float) for s, m in zip(songs, both)]
    assert np.corrcoef(*own)[0, 1] < 0.9


def test_human_agreement_measures_how_alike_pianists_of_one_piece_play(shared_data):
    from models.consensus import human_agreement
    from models.data import performance_notes
    from models.score_view import ScoreViews

    rels = ["classical/asap/Bach/Fugue/bwv_848/Lee01M.mid", "classical/asap/Bach/Fugue/bwv_848/Lin04M.mid",
            FEW["classical"][0]]  # two performances of one fugue, and a piece played once
    songs = [Song(rel, **performance_notes(shared_data / rel)) for rel in rels]
    views = ScoreViews(shared_data)
    two = human_agreement(songs, views)
    assert (two["pieces"], two["performances"]) == (1, 2)  # the piece played once has nobody to agree with
    assert abs(two["one_other_r"] - two["others_r"]) < 1e-9  # with two pianists the others are the one other
    assert 0.2 < two["one_other_r"] < 0.95 and 0.3 < two["others_level_mae_share"] < 1.2
    same = human_agreement([songs[0], songs[0]], views)  # a pianist who plays exactly alike twice
    assert same["one_other_r"] > 0.999 and same["others_level_mae_share"] < 1e-9


def test_listening_check_renders_three_versions_of_one_performance(tiny_checkpoint, tmp_path):
    from conftest import DEMO

    from models.data import read_splits
    from models.listen import one_per_piece, piece_ranges, summary

    doc = MidiDocument.load(DEMO)  # a flat-velocity score: its own render and the flat one sound alike
    ranges = piece_ranges(doc, StyleNetPredictor.from_checkpoint(tiny_checkpoint, "cpu"), "classical")
    assert set(ranges) == {"human", "model", "flat"} and abs(ranges["human"] - ranges["flat"]) < 0.5
    assert summary([ranges, ranges, ranges])["flat_abs_diff_db"] == abs(ranges["human"] - ranges["flat"])
    (tmp_path / "a" / "p").mkdir(parents=True)
    (tmp_path / "a" / "p" / "midi_score.mid").touch()  # a folder with a score is one piece
    (tmp_path / "splits.json").write_text(json.dumps({"classical": {"test": ["a/p/x.mid", "a/p/y.mid", "a/q.mid"]}}))
    assert one_per_piece(read_splits(tmp_path)["classical"]["test"], tmp_path) == ["a/p/x.mid", "a/q.mid"]


BAD_FOLDERS = [
    (None, "splits.json not found"),
    ("{not json", "is not readable JSON"),
    ('{"classical": ["a.mid"]}', "must map each style to its splits"),
    ('{"classical": {"train": ["missing.mid"], "val": ["missing.mid"]}}', "none of its 1 files could be used"),
    ('{"classical": {"train": ["song.mid"], "val": []}}', "needs performances under both"),
]


@pytest.mark.parametrize("splits, message", BAD_FOLDERS)
def test_a_data_folder_that_cannot_be_used_is_refused_in_one_line(splits, message, tmp_path, capsys):
    from models.train import main

    data = tmp_path / "data"
    data.mkdir()
    from conftest import DEMO

    (data / "song.mid").write_bytes(DEMO.read_bytes())
    if splits is not None:
        (data / "splits.json").write_text(splits)
    code = main(["--data", str(data), "--out", str(tmp_path / "run"), *TINY, "--steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_evaluate_refuses_a_missing_checkpoint_and_styles_the_data_lacks_in_one_line(tiny_checkpoint, tmp_path,
                                                                                      capsys):
    from models.evaluate import main

    data = tmp_path / "data"
    data.mkdir()
    (data / "splits.json").write_text('{"classical": {"train": [], "val": [], "test": []}}')
    assert main(["--data", str(data), "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "no StyleNet checkpoint at" in capsys.readouterr().err
    assert main(["--data", str(data), "--checkpoint", str(tiny_checkpoint), "--cache", str(tmp_path / "c")]) == 2
    assert "has no jazz performances to evaluate tiny.pt on" in capsys.readouterr().err
    assert main(["--data", str(data), "--checkpoint", str(tiny_checkpoint), "--window", "100", "--hop", "128"]) == 2
    assert "error: hop 128 must be between 1 and the window (100 steps)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--checkpoint", str(tiny_checkpoint), "--calibrate", "--stretch-step", "0"])
    assert "--stretch-step must be above 0 and at most 1, not 0.0" in capsys.readouterr().err


def test_listening_check_refuses_a_missing_checkpoint_or_data_folder_in_one_line(tiny_checkpoint, tmp_path, capsys):
    from models.listen import main

    assert main(["--data", str(tmp_path), "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "none.pt does not exist" in capsys.readouterr().err
    assert main(["--data", str(tmp_path), "--checkpoint", str(tiny_checkpoint)]) == 2
    assert "splits.json not found" in capsys.readouterr().err


def test_agreement_measures_how_alike_members_predict_and_what_each_adds():
    from models.agreement import agreement

    rng = np.random.default_rng(3)
    human = [rng.normal(60, 15, 2000) for _ in range(3)]
    noise = [rng.normal(0, 15, 2000) for _ in range(3)]
    preds = {"a": [h + n for h, n in zip(human, noise)],
             "b": [h + n for h, n in zip(human, noise)],  # a's twin: adds nothing
             "c": [h + rng.normal(0, 15, 2000) for h in human]}  # as good as a, its own errors
    out = agreement(preds, human)
    assert out["agreement"]["a ~ b"] == pytest.approx(1.0)
    assert out["agreement"]["a ~ c"] < 0.7
    assert out["r"]["a"] == pytest.approx(out["r"]["b"])
    without = out["average_r_without"]
    assert without["c"] == pytest.approx(out["r"]["a"])  # a + b is a again
    assert without["b"] > out["r"]["a"] + 0.05  # a + c: independent errors average out
    assert out["average_r"] < without["b"]  # the twin pulls the average back toward a


@pytest.mark.timeout(240)
def test_agreement_cli_names_members_and_refuses_a_style_the_checkpoint_lacks(few_files_data, tmp_path):
    from models.soup import main as soup

    paths = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        paths.append(tmp_path / f"run{seed}" / "best.pt")
        paths[-1].parent.mkdir()
        save_checkpoint(paths[-1], StyleNet(StyleNetConfig(hidden=8, genre_layers=1)),
                        encoding_version=ENCODING_VERSION)
    ens = tmp_path / "ens.pt"
    assert soup([str(ens), *map(str, paths), "--ensemble", "--heads", f"{paths[1]}=classical"]) == 0
    base = [sys.executable, "-m", "models.agreement", "--checkpoint", str(ens), "--data", str(few_files_data),
            "--cache", str(tmp_path / "cache"), "--threads", "1"]
    classical = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert classical.returncode == 0, classical.stderr
    assert "agreement: run1 ~ run2" in classical.stdout and "average_r_without: run1" in classical.stdout
    jazz = subprocess.run([*base, "--style", "jazz"], capture_output=True, text=True, timeout=120)
    assert jazz.returncode == 0 and "r: run1 " in jazz.stdout and "run2" not in jazz.stdout  # no jazz head
    rock = subprocess.run([*base, "--style", "rock"], capture_output=True, text=True, timeout=120)
    assert rock.returncode == 2 and "has no rock head" in rock.stderr and "Traceback" not in rock.stderr


def test_members_are_named_after_their_runs_or_numbered_where_names_clash():
    from models.agreement import member_names
    from models.stylenet import Ensemble, LoadedModel

    cfg = StyleNetConfig(hidden=8, genre_layers=1)
    ens = Ensemble(cfg, 2)

    def names(*paths: str) -> list[str]:
        meta = {"soup": [{"path": p} for p in paths]}
        return member_names(LoadedModel(ens, torch.device("cpu"), cfg.styles, meta=meta))

    assert names("runs/U/best.pt", "runs/A.pt") == ["U", "A"]
    assert names("old/U/best.pt", "new/U/last.pt") == ["0", "1"]
    assert names("runs/A.pt") == ["0", "1"]  # origins that do not cover every member
