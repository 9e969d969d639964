"""retina's byte -> float path, in numpy (src/train/normalize.ts ``toNetworkInput``).

The network input range is [-1, 1] (what InceptionV3 expects): uint8 pixels ``v -> v / 127.5 - 1``;
float16/float32 tensors, which retina stores as ``pixel / 255``, ``-> 2 v - 1``. The uint8 map is
a 256-entry table computed in float64 and rounded once to float32, exactly as retina's
Float32Array stores ``v / 127.5 - 1``, so both give the same float32 bits.
"""
from __future__ import annotations

import numpy as np

from .errors import RetinaError

U8_TABLE: np.ndarray = (np.arange(256, dtype=np.float64) / 127.5 - 1.0).astype(np.float32)


def chw(x: np.ndarray) -> np.ndarray:
    """An HxWxC tensor as a CxHxW view (HxW gains a channel axis)."""
    if x.ndim == 3:
        return x.transpose(2, 0, 1)
    if x.ndim == 2:
        return x[None]
    return x


def to_network_input(x: np.ndarray, layout: str = "hwc") -> np.ndarray:
    """Stored tensor -> float32 in [-1, 1], contiguous; ``layout="chw"`` also moves channels first."""
    if layout not in ("hwc", "chw"):
        raise RetinaError("BAD_ARGUMENT", f"Expected layout 'hwc' or 'chw' but received {layout!r}")
    src = chw(x) if layout == "chw" else x
    if x.dtype == np.uint8:
        return np.take(U8_TABLE, src)  # a fresh, contiguous array in src's (possibly CHW) order
    if x.dtype in (np.float16, np.float32):
        out = np.ascontiguousarray(src, dtype=np.float32)
        out *= 2.0
        out -= 1.0
        return out
    raise RetinaError("UNSUPPORTED", f"Expected uint8, float16 or float32 tensors but received {x.dtype}")
