"""epoch_order / rank_slice / resume_offset: one global order, whatever the world size."""
from __future__ import annotations

import numpy as np
import pytest

from retina_data import RetinaError, epoch_order, rank_slice, resume_offset
from retina_data.order import dropped, samples_per_rank


@pytest.mark.parametrize("n", [0, 1, 7, 100, 1001])
def test_a_permutation_fixed_by_seed_and_epoch(n):
    a = epoch_order(n, seed=3, epoch=5)
    assert a.dtype == np.int64 and sorted(a.tolist()) == list(range(n))
    assert np.array_equal(a, epoch_order(n, 3, 5))
    if n >= 100:
        assert not np.array_equal(a, epoch_order(n, 3, 6))
        assert not np.array_equal(a, epoch_order(n, 4, 5))
        assert not np.array_equal(a, np.arange(n))


def test_pinned_values():
    # The order is part of the resume contract: it must not change between releases.
    assert epoch_order(10, 0, 0).tolist() == [1, 8, 9, 3, 6, 5, 0, 7, 4, 2]
    assert epoch_order(10, 1, 0).tolist() == [9, 8, 5, 3, 0, 1, 4, 7, 6, 2]


def test_first_positions_are_uniform():
    counts = np.bincount([epoch_order(10, 0, e)[0] for e in range(3000)], minlength=10)
    assert counts.min() > 230 and counts.max() < 370  # 300 expected; ~6 sigma bounds


@pytest.mark.parametrize("n", [101, 128, 35126])
def test_world_sizes_1_2_4_share_one_order(n):
    order = epoch_order(n, seed=11, epoch=2)
    for world in (1, 2, 4):
        parts = [rank_slice(order, r, world) for r in range(world)]
        per = n // world
        assert all(len(p) == per for p in parts), "equal-sized slices"
        merged = np.concatenate(parts)
        assert len(set(merged.tolist())) == len(merged), "disjoint"
        interleaved = np.stack(parts, axis=1).reshape(-1)  # rank-interleaved
        assert np.array_equal(interleaved, order[: per * world])
        assert dropped(n, world) == n - per * world < world
        assert samples_per_rank(n, world) == per


def test_resume_with_another_world_size_continues_the_same_order():
    n, batch = 103, 4
    order = epoch_order(n, seed=0, epoch=1)
    # 2 ranks run 5 steps, the job is requeued on 4 ranks.
    first = [rank_slice(order, r, 2)[: 5 * batch] for r in range(2)]
    offset = resume_offset(steps=5, batch_size=batch, world=2)
    assert offset == 40
    rest = [rank_slice(order, r, 4, offset=offset) for r in range(4)]
    seen = np.concatenate([np.stack(first, 1).reshape(-1), np.stack(rest, 1).reshape(-1)])
    assert np.array_equal(seen, order[: len(seen)]) and len(seen) == n - dropped(n, 4, offset)
    assert len(set(seen.tolist())) == len(seen)
    assert resume_offset(2, batch, 4, start=offset) == 72


def test_bad_arguments():
    order = epoch_order(10, 0, 0)
    for bad in [lambda: rank_slice(order, 2, 2), lambda: rank_slice(order, 0, 0), lambda: rank_slice(order, 0, 1, offset=11),
                lambda: epoch_order(-1, 0, 0), lambda: epoch_order(3, 0.5, 0)]:
        with pytest.raises(RetinaError) as caught:
            bad()
        assert caught.value.code == "BAD_ARGUMENT"
