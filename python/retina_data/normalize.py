"""retina's byte -> float path, in numpy (src/bytes-to-float.ts ``toNetworkInput``).

The network input range is [-1, 1] (what InceptionV3 expects): uint8 pixels ``v -> v / 127.5 - 1``;
float16/float32 tensors, which retina stores as ``pixel / 255``, ``-> 2 v - 1``. retina computes
``v / 127.5 - 1`` in float64 and stores it as float32; here uint8 goes ``(v - 127.5) / 127.5`` in
float32, exact up to the one correctly rounded division, so the same float32 bits for all 256
values (checked against ``U8_TABLE`` at import, and against retina itself in the tests).
Measured per 299x299x3 record in batches of 32 (contended 2-core machine, CPU time, best of 15):
0.26 ms (uint8 transposed to CxHxW first, then a casting subtract and an in-place divide), 0.31 ms
as (2 v - 255) / 255 (three passes), 0.51 ms casting the strided CxHxW view directly, 1.2 ms in
torch, about 3 ms for a table lookup (``np.take``) into CxHxW order.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import RetinaError

U8_TABLE: np.ndarray = (np.arange(256, dtype=np.float64) / 127.5 - 1.0).astype(np.float32)


def u8_to_float_(buf: Any) -> Any:
    """In place: float32 values that hold uint8 pixels -> [-1, 1], as ``(v - 127.5) / 127.5``.

    ``buf`` is a float32 numpy array or torch tensor (any device; torch is not imported here). The
    subtraction is exact in float32 and the division the one rounding, so this is ``v / 127.5 - 1``
    correctly rounded: what retina's float64-then-float32 map gives, for all 256 values. (A
    multiply by 1/127.5 would be off by one ulp for 207 of them.) The one place this map lives."""
    if isinstance(buf, np.ndarray):
        buf -= np.float32(127.5)
        buf /= np.float32(127.5)
        return buf
    return buf.sub_(127.5).div_(127.5)


def u8_into_float(src: np.ndarray, out: np.ndarray) -> np.ndarray:
    """uint8 ``src`` -> float32 ``out`` (same shape) in [-1, 1]: u8_to_float_'s map, with the
    cast fused into the subtraction (two passes)."""
    np.subtract(src, np.float32(127.5), out=out)
    out /= np.float32(127.5)
    return out


def _u8_to_float(src: np.ndarray) -> np.ndarray:
    return u8_into_float(src, np.empty(src.shape, dtype=np.float32))


assert np.array_equal(_u8_to_float(np.arange(256, dtype=np.uint8)), U8_TABLE), "float32 arithmetic differs from retina's map"
assert np.array_equal(u8_to_float_(np.arange(256, dtype=np.float32)), U8_TABLE), "float32 arithmetic differs from retina's map"


def chw(x: np.ndarray, batched: bool = False) -> np.ndarray:
    """An HxWxC tensor as a CxHxW view (HxW gains a channel axis); ``batched``: NxHxWxC -> NxCxHxW."""
    lead = 1 if batched else 0
    if x.ndim == lead + 3:
        return np.moveaxis(x, -1, lead)
    if x.ndim == lead + 2:
        return np.expand_dims(x, lead)
    return x


def to_network_input(x: np.ndarray, layout: str = "hwc", batched: bool = False) -> np.ndarray:
    """Stored tensor (or ``batched`` NxHxWxC tensors) -> float32 in [-1, 1], contiguous;
    ``layout="chw"`` also moves channels first."""
    if layout not in ("hwc", "chw"):
        raise RetinaError("BAD_ARGUMENT", f"Expected layout 'hwc' or 'chw' but received {layout!r}")
    src = chw(x, batched) if layout == "chw" else x
    if x.dtype == np.uint8:
        # transpose the uint8 bytes (4x less to move than floats), then convert in place
        return _u8_to_float(np.ascontiguousarray(src))
    if x.dtype in (np.float16, np.float32):
        out = np.ascontiguousarray(src, dtype=np.float32)
        out *= 2.0
        out -= 1.0
        return out
    raise RetinaError("UNSUPPORTED", f"Expected uint8, float16 or float32 tensors but received {x.dtype}")
