"""The trainer's batched byte -> float conversions equal retina's map (normalize.U8_TABLE, the
float32 bits retina's own reader gives) bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs python3-torch")

from retina_data.normalize import U8_TABLE, to_network_input  # noqa: E402
from retina_data.train_data import FloatBatches, FloatCollate, collate_hwc  # noqa: E402


def test_all_256_values_bit_for_bit():
    v = torch.arange(256, dtype=torch.uint8).reshape(1, 16, 16, 1)
    out = FloatBatches()(v, torch.float32)
    assert np.array_equal(out.numpy().reshape(-1).view(np.uint32), U8_TABLE.view(np.uint32))
    col, _ = FloatCollate()([(v[0].numpy(), 0, "a")])
    assert np.array_equal(col.numpy().reshape(-1).view(np.uint32), U8_TABLE.view(np.uint32))


def test_batches_equal_retinas_per_record_conversion_in_nchw():
    rng = np.random.default_rng(1)
    items = [(rng.integers(0, 256, (7, 5, 3), dtype=np.uint8), g, str(g)) for g in range(4)]
    expected = np.stack([to_network_input(x, layout="chw") for x, _, _ in items])
    collate = FloatCollate()
    got, grades = collate(items)
    assert got.shape == (4, 3, 7, 5) and np.array_equal(got.numpy(), expected)
    assert grades.tolist() == [0, 1, 2, 3]
    xb, _ = collate_hwc(items)
    assert np.array_equal(FloatBatches()(xb, torch.float32).numpy(), expected)
    # The buffer is reused: a second batch of the same shape lands in the same memory.
    again, _ = collate(items[::-1])
    assert again.data_ptr() == got.data_ptr() and np.array_equal(again.numpy(), expected[::-1])
