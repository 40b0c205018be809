"""A blind listening test: the versions behind the numbers 1, 2, 3 in a random order until revealed (Qt-free).

Knowing which version plays sways the ear. With the labels shuffled, and the velocities hidden from
view, a musician picks the version that sounds most human; the reveal says which one that was, and a
tally over the session's tests shows whether the pick is more than chance.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from app.core.editor import Version


@dataclass(frozen=True)
class BlindTest:
    order: tuple[Version, ...]  # slot k (from 0) plays order[k]

    @classmethod
    def shuffled(cls, versions: list[Version], rng: np.random.Generator) -> BlindTest:
        if len(versions) < 2:
            raise ValueError("a blind test needs at least two versions (make a baseline or Humanise first)")
        return cls(tuple(versions[i] for i in rng.permutation(len(versions))))

    def reveal(self, picked_slot: int | None) -> str:
        """Which number was which, and what the pick was."""
        pairs = ", ".join(f"{k + 1} was {v.label}" for k, v in enumerate(self.order))
        if picked_slot is None:
            return f"{pairs}."
        return f"{pairs}. You picked {picked_slot + 1}: the {self.order[picked_slot].label} version."


def tally_text(picks: Counter[Version]) -> str:
    """The session's picks, most picked first, e.g. 'Stylised 3 of 4, Original 1 of 4'."""
    total = sum(picks.values())
    return ", ".join(f"{v.label} {n} of {total}" for v, n in picks.most_common())
