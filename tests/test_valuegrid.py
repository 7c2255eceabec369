"""``valuegrid.value_grid``: the gcd of the samples' distances from one of them, its head taken first."""

from __future__ import annotations

import numpy as np
import pytest

from sancodec.codec import valuegrid
from sancodec.codec.valuegrid import value_grid


@pytest.mark.parametrize("seed", range(4))
def test_the_grid_is_numpys_gcd_of_every_distance(seed):
    """On random channels on grids of 1 to 2^40 (some constant, some whose grid only a late sample breaks, some
    shorter than the head): ``np.gcd.reduce(np.abs(x - x0))``, 0 for a constant."""
    rng = np.random.default_rng(seed)
    for _ in range(300):
        n = int(rng.integers(1, 3 * valuegrid.HEAD))
        grid = int(rng.choice([1, 2, 3, 6, 1000, 1 << 40]))
        x = rng.integers(-50, 50, n) * grid + int(rng.integers(-5, 5))
        if rng.random() < 0.2:
            x[:] = x[0]
        if n > valuegrid.HEAD and rng.random() < 0.3:
            x[-1] += 1  # the head on the grid, the channel not
        x0 = int(x[0]) if rng.random() < 0.8 else int(x[0]) + grid
        assert value_grid(x, x0) == int(np.gcd.reduce(np.abs(x - x0)))


def test_a_late_sample_off_the_heads_grid_is_seen_and_a_head_of_grid_1_ends_the_search(monkeypatch):
    """The head's grid 6 is the channel's only where the rest keeps it; a head whose grid is 1 is the answer, the rest
    never read (an array whose later values would raise if compared)."""
    x = np.arange(3 * valuegrid.HEAD, dtype=np.int64) * 6
    assert value_grid(x, 0) == 6
    x[-1] += 3
    assert value_grid(x, 0) == 3
    x[1] = 1
    looked: list[int] = []
    real = np.gcd.reduce
    monkeypatch.setattr(np, "gcd", type("Gcd", (), {"reduce": staticmethod(lambda a: looked.append(len(a)) or
                                                                          real(a))}))
    assert value_grid(x, 0) == 1 and looked == [valuegrid.HEAD]
