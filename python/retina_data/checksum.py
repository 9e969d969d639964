"""xxh64 (seed 0) as every retina manifest uses it (src/checksum.ts), through the xxhash module."""
from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

from ._optional import require

_digest: Optional[Callable[[Any], int]] = None


def xxh64_int(data: Any) -> int:
    """xxh64 of a bytes-like object (any contiguous buffer) as an int."""
    global _digest
    if _digest is None:
        _digest = require("xxhash", "Checking record checksums (verify=True)").xxh64_intdigest
    return _digest(data)


def xxh64_file(path: str, chunk_bytes: int = 4 << 20) -> Tuple[str, int]:
    """Streaming xxh64 of a whole file as (16 hex digits, bytes); memory stays bounded."""
    hasher = require("xxhash", "Checking file checksums (verify=True)").xxh64()
    total = 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk_bytes)
            if not block:
                break
            hasher.update(block)
            total += len(block)
    return hasher.hexdigest(), total
