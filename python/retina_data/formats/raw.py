"""``raw``: fixed-size records back to back in ``data.npy`` (formats/raw.ts).

The header is NumPy's .npy v1.0 header, of a fixed length (wide enough for any record count,
padded to a multiple of 64 bytes); record i is at ``header + i * record_bytes``.
"""
from __future__ import annotations

import math
import os
from typing import Any, Dict, Sequence, Tuple

from ..errors import corrupt_record
from ..manifest import Spec
from .base import ShardPlan, check_file_sizes, open_record_table

RAW_DATA_FILE = "data.npy"
_DESCR = {"uint8": "|u1", "float16": "<f2", "float32": "<f4"}


def _dict(dtype: str, shape: Sequence[int]) -> str:
    dims = ", ".join(str(d) for d in shape)
    return f"{{'descr': '{_DESCR[dtype]}', 'fortran_order': False, 'shape': ({dims}), }}"


def npy_header(spec: Spec, count: int) -> bytes:
    """The exact header retina writes for ``count`` records (formats/npy.ts npyHeader)."""
    widest = _dict(spec.dtype, (999_999_999_999_999, *spec.shape))
    total = math.ceil((10 + len(widest) + 1) / 64) * 64
    text = _dict(spec.dtype, (count, *spec.shape)).ljust(total - 11) + "\n"
    return b"\x93NUMPY\x01\x00" + (total - 10).to_bytes(2, "little") + text.encode("latin1")


class RawPlan(ShardPlan):
    format = "raw"

    def __init__(self, directory: str, manifest: Dict[str, Any], table: Any, header_bytes: int) -> None:
        super().__init__(directory, manifest, table)
        self.header_bytes = header_bytes

    def locate(self, i: int) -> Tuple[str, int, int]:
        return RAW_DATA_FILE, self.header_bytes + i * self.record_bytes, self.record_bytes


def prepare(directory: str, manifest: Dict[str, Any], verify: bool) -> RawPlan:
    check_file_sizes(directory, manifest)
    table = open_record_table(directory, manifest, verify)
    plan_spec = Spec(manifest["spec"]["dtype"], tuple(manifest["spec"]["shape"]))
    want = npy_header(plan_spec, table.count)
    with open(os.path.join(directory, RAW_DATA_FILE), "rb") as fh:
        head = fh.read(len(want))
    if head != want:
        first = table.ids[0] if table.count else "-"
        raise corrupt_record(manifest["index"], "raw", 0, first, f"{RAW_DATA_FILE} does not start with the expected NumPy header")
    return RawPlan(directory, manifest, table, len(want))
