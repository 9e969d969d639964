"""Sample order for (distributed) training: one global shuffle per epoch, sliced per rank.

``epoch_order(n, seed, epoch)`` depends on nothing but its three integers: not on the world
size, the rank, the DataLoader worker count or the numpy version (it sorts a bijective 64-bit
hash of each index, splitmix64's finaliser, instead of drawing from numpy's generators, whose
streams numpy does not promise to keep across versions). Every rank computes the same order.

``rank_slice(order, rank, world, offset)`` gives rank ``r`` the positions ``offset + r``,
``offset + r + world``, ... (interleaved, like torch's DistributedSampler), so after each rank
has taken ``k`` samples the ranks together have consumed exactly the global prefix
``order[:offset + k * world]``, whatever ``world`` is. A job restarted with another node count
resumes the same epoch order from that prefix length (``resume_offset``).

**Drop, not pad**: the last ``(len(order) - offset) % world`` positions of the epoch are dropped
(at most ``world - 1`` samples), so every rank gets the same number of samples and no sample is
seen twice in an epoch (padding would repeat samples and skew the loss towards them). The order
reshuffles every epoch, so a different few are left out each time; ``dropped(...)`` says how many.
"""
from __future__ import annotations

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on uint64 (arrays wrap silently on overflow)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _mix64_int(z: int) -> int:
    """The same finaliser on a Python int (for the per-epoch constant)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _int(name: str, v: object, low: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < low:
        from .errors import RetinaError

        raise RetinaError("BAD_ARGUMENT", f"Expected an integer >= {low} for {name} but received {v!r}")
    return int(v)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """A permutation of ``range(n)`` (int64) for ``epoch`` of a run seeded ``seed``."""
    n = _int("n", n)
    seed = _int("seed", seed) & _MASK
    epoch = _int("epoch", epoch) & _MASK
    # splitmix64's seeding: each (seed, epoch) gets an unrelated 64-bit base.
    base = _mix64_int((_mix64_int((seed + _GOLDEN) & _MASK) + (epoch + 1) * _GOLDEN) & _MASK)
    keys = _mix64(np.arange(n, dtype=np.uint64) * np.uint64(_GOLDEN) + np.uint64(base))
    # Distinct indices give distinct keys (odd multiplier and the finaliser are bijections): no ties.
    return np.argsort(keys, kind="stable").astype(np.int64)


def rank_slice(order: np.ndarray, rank: int, world: int, offset: int = 0) -> np.ndarray:
    """Rank ``rank`` of ``world``'s share of ``order[offset:]``: interleaved, equal-sized, tail dropped."""
    world = _int("world", world, 1)
    rank = _int("rank", rank)
    offset = _int("offset", offset)
    order = np.asarray(order)
    if rank >= world:
        from .errors import RetinaError

        raise RetinaError("BAD_ARGUMENT", f"Expected a rank in [0, {world}) but received {rank}")
    if offset > len(order):
        from .errors import RetinaError

        raise RetinaError("BAD_ARGUMENT", f"Expected a sample offset in [0, {len(order)}] but received {offset}")
    per_rank = (len(order) - offset) // world
    return order[offset + rank: offset + per_rank * world: world]


def samples_per_rank(n: int, world: int, offset: int = 0) -> int:
    """How many samples each rank gets from an epoch of ``n`` resumed at ``offset``."""
    return (_int("n", n) - _int("offset", offset)) // _int("world", world, 1)


def dropped(n: int, world: int, offset: int = 0) -> int:
    """How many samples at the end of the epoch no rank gets (always < world)."""
    return (_int("n", n) - _int("offset", offset)) % _int("world", world, 1)


def resume_offset(steps: int, batch_size: int, world: int, start: int = 0) -> int:
    """Global sample offset into the epoch's order after ``steps`` steps of ``batch_size`` samples
    per rank on ``world`` ranks, for an epoch (or resumed part) that began at offset ``start``.
    Pass it as ``rank_slice(order, rank, new_world, offset=...)`` with any new world size."""
    return _int("start", start) + _int("steps", steps) * _int("batch_size", batch_size, 1) * _int("world", world, 1)
