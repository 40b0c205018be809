"""Intervals over resampled pieces: performances of one piece move together."""

from __future__ import annotations

import numpy as np

from models.metrics import PieceScore, piece_intervals


def scores(rs: list[float], maes: list[float]) -> list[PieceScore]:
    return [PieceScore(100, m, m, r, 1.0) for r, m in zip(rs, maes)]


def test_identical_pieces_give_a_point_and_the_interval_holds_the_estimate():
    same = piece_intervals(scores([0.5] * 6, [8.0] * 6), scores([float("nan")] * 6, [10.0] * 6), list("abcdef"))
    assert np.allclose(same["r"], [0.5, 0.5]) and np.allclose(same["level_mae_share"], [0.8, 0.8])
    rng = np.random.default_rng(1)
    r, mae = rng.uniform(0.2, 0.8, 30), rng.uniform(6, 12, 30)
    got = piece_intervals(scores(list(r), list(mae)), scores([0.0] * 30, [10.0] * 30), [str(i // 3) for i in range(30)])
    assert got["pieces"] == 10
    assert got["r"][0] < r.mean() < got["r"][1]
    assert got["level_mae_share"][0] < mae.mean() / 10 < got["level_mae_share"][1]


def test_many_performances_of_one_piece_count_as_one_piece():
    # Ten performances of a badly predicted piece and one each of three others.
    r = [0.1] * 10 + [0.7, 0.7, 0.7]
    by_piece = piece_intervals(scores(r, [10.0] * 13), scores(r, [10.0] * 13), ["ravel"] * 10 + ["a", "b", "c"])
    by_file = piece_intervals(scores(r, [10.0] * 13), scores(r, [10.0] * 13), [str(i) for i in range(13)])
    width = lambda iv: iv["r"][1] - iv["r"][0]  # noqa: E731
    assert by_piece["pieces"] == 4 and width(by_piece) > 1.5 * width(by_file)


def test_performances_share_a_piece_when_their_folder_holds_its_score(tmp_path):
    from models.scoring import piece_of

    (tmp_path / "asap" / "Ravel").mkdir(parents=True)
    (tmp_path / "asap" / "Ravel" / "midi_score.mid").write_bytes(b"")
    (tmp_path / "jazz").mkdir()
    names = ["asap/Ravel/A01.mid", "asap/Ravel/B02.mid", "jazz/Tune.mid", "jazz/Other.mid"]
    assert [piece_of(n, tmp_path) for n in names] == ["asap/Ravel", "asap/Ravel", *names[2:]]
