"""``msgpack``: one length-prefixed MessagePack map per record (formats/msgpack.ts).

records.json gives each record's offset (after its 4-byte length prefix) and length; the
checksum covers those packed bytes and is checked before decoding. The map is ``{id, label,
split, dtype, shape, tensor}``: a uint8 tensor is a plain ``bin``; float32 and float16 tensors are
msgpackr typed-array extensions (ext type 0x74, first data byte the array kind: 7 Float32Array,
4 Uint16Array holding float16 bits), the rest little-endian element bytes.
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from .._optional import require
from .base import ShardPlan, check_file_sizes, open_record_table

MSGPACK_DATA_FILE = "records.msgpack"
_TYPED_ARRAY_EXT = 0x74
#: msgpackr's typed-array codes for the dtypes retina stores.
_TYPED_ARRAY_CODE = {"float32": 7, "float16": 4}


class _Typed:
    __slots__ = ("code", "data")

    def __init__(self, code: int, data: bytes) -> None:
        self.code = code
        self.data = data


def _ext_hook(code: int, data: bytes) -> Any:
    msgpack = require("msgpack", "Reading the msgpack format")
    if code == _TYPED_ARRAY_EXT and len(data) >= 1:
        return _Typed(data[0], data[1:])
    return msgpack.ExtType(code, data)


class MsgpackPlan(ShardPlan):
    format = "msgpack"
    direct = False

    def locate(self, i: int) -> Tuple[str, int, int]:
        return MSGPACK_DATA_FILE, int(self.table.offsets[i]), int(self.table.lengths[i])

    def decode(self, i: int, stored: np.ndarray) -> np.ndarray:
        msgpack = require("msgpack", "Reading the msgpack format")
        try:
            rec = msgpack.unpackb(stored.tobytes(), raw=False, ext_hook=_ext_hook, strict_map_key=False)
        except Exception as err:  # msgpack raises several unrelated types on bad input
            raise self.corrupt(i, f"not a MessagePack record ({err})") from err
        tensor = rec.get("tensor") if isinstance(rec, dict) else None
        dtype = self.spec.dtype
        if dtype == "uint8":
            data = tensor if isinstance(tensor, (bytes, bytearray)) else None
        else:
            data = tensor.data if isinstance(tensor, _Typed) and tensor.code == _TYPED_ARRAY_CODE[dtype] else None
        if data is None or len(data) != self.record_bytes:
            raise self.corrupt(i, f'expected a {self.record_bytes}-byte {dtype} tensor in "tensor"')
        if rec.get("id") != self.table.ids[i]:
            raise self.corrupt(i, f"the record says id {rec.get('id')!r} but records.json says {self.table.ids[i]!r}")
        return np.frombuffer(data, dtype=np.uint8).copy()


def prepare(directory: str, manifest: Dict[str, Any], verify: bool) -> MsgpackPlan:
    check_file_sizes(directory, manifest)
    table = open_record_table(directory, manifest, verify, need=("offsets", "lengths"))
    return MsgpackPlan(directory, manifest, table)
