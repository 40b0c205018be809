"""Weight averages of checkpoints (``python -m models.soup``)."""

from __future__ import annotations

import torch

from app.core.encoding import ENCODING_VERSION
from models.soup import main
from models.stylenet import StyleNet, StyleNetConfig, load_checkpoint, save_checkpoint


def tiny(path, seed: int, hidden: int = 8, dropout: float = 0.2) -> StyleNet:
    torch.manual_seed(seed)
    model = StyleNet(StyleNetConfig(styles=("a", "b"), hidden=hidden, genre_layers=1, dropout=dropout))
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
