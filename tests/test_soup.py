"""Weight averages and ensembles of checkpoints (``python -m models.soup``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.core.encoding import ENCODING_VERSION
from models.soup import main
from models.stylenet import (
    CheckpointError,
    Ensemble,
    StyleNet,
    StyleNetConfig,
    load_checkpoint,
    predict,
    save_checkpoint,
)


def tiny(path, seed: int, hidden: int = 8, dropout: float = 0.2, genre_layers: int = 1, fold: int = 1) -> StyleNet:
    torch.manual_seed(seed)
    model = StyleNet(StyleNetConfig(styles=("a", "b"), hidden=hidden, genre_layers=genre_layers, dropout=dropout,
                                    fold=fold))
    save_checkpoint(path, model, encoding_version=ENCODING_VERSION, step=100 * seed, calibration={"a": {"spread": 2}})
    return model


def test_the_soup_is_the_mean_of_its_ingredients_weights_and_must_be_calibrated_again(tmp_path):
    # Runs trained with different dropout have the same weights' shapes and meaning: they mix.
    models = [tiny(tmp_path / f"{i}.pt", i, dropout=0.1 * i) for i in (1, 2, 3)]
    assert main([str(tmp_path / "soup.pt"), *(str(tmp_path / f"{i}.pt") for i in (1, 2, 3))]) == 0
    soup = load_checkpoint(tmp_path / "soup.pt", "cpu")
    for name, value in soup.model.state_dict().items():
        expected = sum(m.state_dict()[name] for m in models) / 3
        assert torch.allclose(value, expected, atol=1e-7), name
    assert [i["step"] for i in soup.meta["soup"]] == [100, 200, 300]
    assert soup.calibration == {}  # an ingredient's spread factor does not fit the average


def test_different_models_and_overwriting_an_ingredient_are_refused(tmp_path, capsys):
    tiny(tmp_path / "a.pt", 1)
    tiny(tmp_path / "b.pt", 2, hidden=12)
    assert main([str(tmp_path / "s.pt"), str(tmp_path / "a.pt"), str(tmp_path / "b.pt")]) == 2
    assert "differs" in capsys.readouterr().err and not (tmp_path / "s.pt").exists()
    before = (tmp_path / "a.pt").read_bytes()
    assert main([str(tmp_path / "a.pt"), str(tmp_path / "a.pt"), str(tmp_path / "b.pt")]) == 2
    assert "one of the inputs" in capsys.readouterr().err and (tmp_path / "a.pt").read_bytes() == before
    assert main([str(tmp_path / "s.pt"), str(tmp_path / "a.pt")]) == 2
    assert "at least two" in capsys.readouterr().err


def test_an_ensemble_averages_its_members_outputs_in_half_the_bytes_per_weight(tmp_path):
    models = [tiny(tmp_path / f"{i}.pt", i, hidden=32) for i in (1, 2)]
    assert main([str(tmp_path / "ens.pt"), str(tmp_path / "1.pt"), str(tmp_path / "2.pt"), "--ensemble"]) == 0
    ens = load_checkpoint(tmp_path / "ens.pt", "cpu")
    assert isinstance(ens.model, Ensemble) and len(ens.model.members) == 2 and ens.calibration == {}
    stored = torch.load(tmp_path / "ens.pt", weights_only=True)
    assert stored["ensemble"] == 2 and {v.dtype for v in stored["state_dict"].values()} == {torch.float16}
    # float16 storage: two members take about the bytes of one float32 model
    assert (tmp_path / "ens.pt").stat().st_size < 1.2 * (tmp_path / "1.pt").stat().st_size
    x = (np.random.default_rng(0).random((300, 176)) < 0.05).astype(np.float32)
    members = [predict(m, x, "a") for m in models]
    together = predict(ens.model, x, "a")
    assert np.abs(together - (members[0] + members[1]) / 2).max() < 1e-3
    assert np.abs(members[0] - members[1]).max() > 1e-2  # the members differ, so the test can fail


def test_members_of_other_layer_sizes_join_an_ensemble_but_never_a_weight_average(tmp_path, capsys):
    from models.train import init_from

    # the small one also runs its recurrence over pairs of steps (fold 2)
    models = [tiny(tmp_path / "big.pt", 1, hidden=32, genre_layers=2),
              tiny(tmp_path / "small.pt", 2, hidden=12, fold=2)]
    paths = [str(tmp_path / "big.pt"), str(tmp_path / "small.pt")]
    assert main([str(tmp_path / "ens.pt"), *paths, "--ensemble", "--int8", "--heads", f"{paths[1]}=a"]) == 0
    ens = load_checkpoint(tmp_path / "ens.pt", "cpu")
    assert ens.model.member_shapes == [{"hidden": 32, "genre_layers": 2, "fold": 1},
                                       {"hidden": 12, "genre_layers": 1, "fold": 2}]
    x = (np.random.default_rng(2).random((300, 176)) < 0.05).astype(np.float32)
    alone = [predict(m, x, "a") for m in models]
    assert np.abs(predict(ens.model, x, "a") - sum(alone) / 2).max() < 2e-3
    assert np.abs(predict(ens.model, x, "b") - predict(models[0], x, "b")).max() < 2e-3  # the big one alone
    assert np.abs(alone[0] - alone[1]).max() > 1e-2  # the members differ, so the test can fail
    grown = tmp_path / "grown.pt"  # the ensemble brings its members' sizes into a new one
    assert main([str(grown), str(tmp_path / "ens.pt"), paths[0], "--ensemble"]) == 0
    assert [s["hidden"] for s in load_checkpoint(grown, "cpu").model.member_shapes] == [32, 12, 32]
    small = StyleNet(StyleNetConfig(styles=("a", "b"), hidden=12, genre_layers=1, fold=2))
    assert "(member 1 of its 2)" in init_from(small, tmp_path / "ens.pt", member=1)  # fine-tune the small one
    assert main([str(tmp_path / "avg.pt"), *paths]) == 2  # weights of other sizes cannot be averaged
    assert "only checkpoints of one architecture" in capsys.readouterr().err
    other = StyleNet(StyleNetConfig(styles=("a", "c"), hidden=12, genre_layers=1))
    save_checkpoint(tmp_path / "c.pt", other, encoding_version=ENCODING_VERSION)
    assert main([str(tmp_path / "x.pt"), paths[0], str(tmp_path / "c.pt"), "--ensemble"]) == 2
    assert "only checkpoints of the same inputs and keys, with styles among the first's" in capsys.readouterr().err


def test_a_member_trained_on_one_style_joins_an_ensemble_for_that_style_only(tmp_path, capsys):
    both = tiny(tmp_path / "both.pt", 1)
    torch.manual_seed(3)
    one = StyleNet(StyleNetConfig(styles=("a",), hidden=8, genre_layers=1))  # e.g. trained on classical only
    save_checkpoint(tmp_path / "one.pt", one, encoding_version=ENCODING_VERSION)
    assert main([str(tmp_path / "ens.pt"), str(tmp_path / "both.pt"), str(tmp_path / "one.pt"), "--ensemble"]) == 0
    ens = load_checkpoint(tmp_path / "ens.pt", "cpu").model
    assert ens.member_styles == [("a", "b"), ("a",)]
    x = (np.random.default_rng(4).random((300, 176)) < 0.05).astype(np.float32)  # tolerances: float16 storage
    assert np.abs(predict(ens, x, "a") - (predict(both, x, "a") + predict(one, x, "a")) / 2).max() < 1e-3
    assert np.abs(predict(ens, x, "b") - predict(both, x, "b")).max() < 1e-3
    assert np.abs(predict(both, x, "a") - predict(one, x, "a")).max() > 1e-2  # so the average can be told apart
    # The first checkpoint names the ensemble's styles: one that lacks a style cannot lead.
    assert main([str(tmp_path / "x.pt"), str(tmp_path / "one.pt"), str(tmp_path / "both.pt"), "--ensemble"]) == 2
    assert "styles among the first's" in capsys.readouterr().err
    assert main([str(tmp_path / "y.pt"), str(tmp_path / "both.pt"), str(tmp_path / "one.pt"), "--ensemble",
                 "--heads", f"{tmp_path / 'one.pt'}=b"]) == 2  # a head it was never trained with
    assert f"{tmp_path / 'one.pt'} has no head for b" in capsys.readouterr().err


def test_ensembles_are_not_averaged_again_and_fine_tune_from_a_chosen_member(tmp_path, capsys):
    from models.train import init_from

    for i in (1, 2):
        tiny(tmp_path / f"{i}.pt", i)
    assert main([str(tmp_path / "ens.pt"), str(tmp_path / "1.pt"), str(tmp_path / "2.pt"), "--ensemble",
                 "--heads", f"{tmp_path / '2.pt'}=a"]) == 0
    assert main([str(tmp_path / "s.pt"), str(tmp_path / "ens.pt"), str(tmp_path / "1.pt")]) == 2
    assert "already an ensemble" in capsys.readouterr().err  # weight averages take single models only
    members = load_checkpoint(tmp_path / "ens.pt", "cpu").model.members
    for k in (0, 1):
        model = StyleNet(StyleNetConfig(styles=("a", "b"), hidden=8, genre_layers=1))
        said = init_from(model, tmp_path / "ens.pt", member=k)
        assert f"(member {k} of its 2)" in said and ("new heads: b" in said) == (k == 1)
        for name, value in members[k].state_dict().items():  # float16-stored weights, widened
            assert torch.equal(model.state_dict()[name], value), name
    with pytest.raises(CheckpointError, match="--member must be 0 to 1"):
        init_from(StyleNet(StyleNetConfig(styles=("a", "b"), hidden=8, genre_layers=1)), tmp_path / "ens.pt", 2)


def test_a_member_kept_for_one_style_joins_that_style_only_and_costs_the_others_nothing(tmp_path, capsys):
    models = [tiny(tmp_path / f"{i}.pt", i, hidden=32) for i in (1, 2, 3)]
    paths = [str(tmp_path / f"{i}.pt") for i in (1, 2, 3)]
    assert main([str(tmp_path / "full.pt"), *paths, "--ensemble"]) == 0
    assert main([str(tmp_path / "part.pt"), *paths, "--ensemble", "--heads", f"{paths[2]}=a"]) == 0
    part = load_checkpoint(tmp_path / "part.pt", "cpu")
    assert part.model.member_styles == [("a", "b"), ("a", "b"), ("a",)]
    assert [m["heads"] for m in part.meta["soup"]] == [["a", "b"], ["a", "b"], ["a"]]
    assert (tmp_path / "part.pt").stat().st_size < 0.9 * (tmp_path / "full.pt").stat().st_size
    x = (np.random.default_rng(0).random((300, 176)) < 0.05).astype(np.float32)
    alone = {s: [predict(m, x, s) for m in models] for s in ("a", "b")}
    assert np.abs(predict(part.model, x, "a") - sum(alone["a"]) / 3).max() < 1e-3  # all three
    assert np.abs(predict(part.model, x, "b") - sum(alone["b"][:2]) / 2).max() < 1e-3  # the first two
    assert np.abs(alone["b"][2] - sum(alone["b"][:2]) / 2).max() > 1e-2  # the third differs: the test can fail
    # nothing left for a style, an unknown style, or heads without --ensemble: refused with a reason
    only_a = [f"--heads={p}=a" for p in paths]
    assert main([str(tmp_path / "x.pt"), *paths, "--ensemble", *only_a]) == 2
    assert "no member has a head for b" in capsys.readouterr().err
    assert main([str(tmp_path / "x.pt"), *paths, "--ensemble", "--heads", f"{paths[0]}=c"]) == 2
    assert "has no head for c" in capsys.readouterr().err
    assert main([str(tmp_path / "x.pt"), *paths, "--heads", f"{paths[0]}=a"]) == 2
    assert "--ensemble" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "x.pt"), *paths, "--ensemble", "--heads", "other.pt=a"])
    assert not (tmp_path / "x.pt").exists()


def test_a_new_member_joins_an_ensemble_without_its_members_files(tmp_path, capsys):
    models = [tiny(tmp_path / f"{i}.pt", i, hidden=32) for i in (1, 2, 3)]
    paths = [str(tmp_path / f"{i}.pt") for i in (1, 2, 3)]
    assert main([str(tmp_path / "ens.pt"), *paths[:2], "--ensemble", "--heads", f"{paths[1]}=a", "--int8"]) == 0
    for i in (1, 2):
        (tmp_path / f"{i}.pt").unlink()  # like the bundled model's members: only the ensemble is left
    grown = [str(tmp_path / "grown.pt"), str(tmp_path / "ens.pt"), paths[2], "--ensemble", "--int8"]
    capsys.readouterr()
    assert main([*grown, "--heads", f"{paths[2]}=b"]) == 0
    assert "an ensemble of 3 members" in capsys.readouterr().out  # two inputs, but three members
    ens, out = (load_checkpoint(tmp_path / n, "cpu") for n in ("ens.pt", "grown.pt"))
    assert out.model.member_styles == [("a", "b"), ("a",), ("b",)]
    assert [m["path"] for m in out.meta["soup"]] == [*paths[:2], paths[2]]  # the members' own origins
    assert [m["heads"] for m in out.meta["soup"]] == [["a", "b"], ["a"], ["b"]]
    for k in (0, 1):  # int8 weights quantised again come back unchanged
        for name, value in ens.model.members[k].state_dict().items():
            assert torch.equal(out.model.members[k].state_dict()[name], value), name
    x = (np.random.default_rng(1).random((300, 176)) < 0.05).astype(np.float32)
    assert np.abs(predict(out.model, x, "a") - predict(ens.model, x, "a")).max() < 1e-6  # "a" as before
    b = (predict(ens.model.members[0], x, "b") + predict(models[2], x, "b")) / 2
    assert np.abs(predict(out.model, x, "b") - b).max() < 2e-3  # "b" now averages the new member too
    assert np.abs(predict(out.model, x, "b") - predict(ens.model, x, "b")).max() > 1e-2  # it changed
    assert main([*grown, "--heads", f"{tmp_path / 'ens.pt'}=a"]) == 2
    assert "is an ensemble, whose members keep the heads they have" in capsys.readouterr().err


def test_about_says_how_many_members_serve_each_style(tmp_path):
    from models.inference import StyleNetPredictor

    paths = [str(tmp_path / f"{i}.pt") for i in (1, 2, 3)]
    for i in (1, 2, 3):
        tiny(tmp_path / f"{i}.pt", i)
    assert main([str(tmp_path / "full.pt"), *paths[:2], "--ensemble"]) == 0
    assert main([str(tmp_path / "part.pt"), *paths, "--ensemble", "--heads", f"{paths[2]}=a"]) == 0
    full = StyleNetPredictor.from_checkpoint(tmp_path / "full.pt", "cpu").describe()[0]
    part = StyleNetPredictor.from_checkpoint(tmp_path / "part.pt", "cpu").describe()[0]
    assert "an ensemble of 2 StyleNet models (A, B)" in full
    assert "an ensemble of StyleNet models (3 for A, 2 for B)" in part


def test_int8_weights_take_half_the_bytes_of_float16_and_move_outputs_by_a_fraction_of_a_velocity(tmp_path,
                                                                                                    capsys):
    models = [tiny(tmp_path / f"{i}.pt", i, hidden=32) for i in (1, 2)]
    members = [str(tmp_path / "1.pt"), str(tmp_path / "2.pt")]
    assert main([str(tmp_path / "f16.pt"), *members, "--ensemble"]) == 0
    assert main([str(tmp_path / "i8.pt"), *members, "--ensemble", "--int8"]) == 0
    stored = torch.load(tmp_path / "i8.pt", weights_only=True)
    matrices = {k for k, v in stored["state_dict"].items() if v.ndim == 2}
    assert matrices == set(stored["int8_scales"]) and {stored["state_dict"][k].dtype for k in matrices} == {torch.int8}
    assert (tmp_path / "i8.pt").stat().st_size < 0.65 * (tmp_path / "f16.pt").stat().st_size
    loaded = load_checkpoint(tmp_path / "i8.pt", "cpu")
    assert "int8_scales" not in loaded.meta  # weights, not metadata (About and the card read meta)
    x = (np.random.default_rng(3).random((300, 176)) < 0.05).astype(np.float32)
    exact = sum(predict(m, x, "a") for m in models) / 2
    moved = np.abs(predict(loaded.model, x, "a") - exact).max() * 127
    assert 0 < moved < 0.5, moved  # really rounded, and by little
    scales = stored["int8_scales"]
    scales["members.0.interpretation.weight_ih_l0"][0] = float("nan")
    torch.save(stored, tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match=r"nan\.pt: some weights are not finite numbers"):
        load_checkpoint(tmp_path / "nan.pt")
    scales["nowhere.weight"] = scales.pop("members.0.interpretation.weight_hh_l0")
    torch.save(stored, tmp_path / "lost.pt")
    with pytest.raises(CheckpointError, match=r"weights do not match the model \(int8 scales for weights"):
        load_checkpoint(tmp_path / "lost.pt")
