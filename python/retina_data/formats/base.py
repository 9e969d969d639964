"""What every format's shard plan shares.

A *plan* is everything needed to find a record's stored bytes in one shard, computed once when
the dataset is opened (manifest, record table, format-specific index) and picklable, so DataLoader
worker processes inherit it. File handles are *not* part of a plan: each process maps the files
it reads on first use (see :class:`ShardFiles`), so nothing opened in one process is used in
another. Every built-in format reduces to "record i is ``length`` bytes at ``offset`` of file
``name``", followed by a format-specific ``decode`` (msgpack unpacks; the others store the tensor
bytes themselves).
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..checksum import xxh64_file, xxh64_int
from ..errors import RetinaError, corrupt_record
from ..manifest import RecordTable, Spec, parse_json_bytes, parse_record_table, parse_spec

RECORD_TABLE_FILE = "records.json"


class ShardPlan:
    """One complete shard, ready to read. Subclasses set ``format`` and implement ``locate``."""

    format = "?"

    def __init__(self, directory: str, manifest: Dict[str, Any], table: RecordTable) -> None:
        self.dir = directory
        self.manifest = manifest
        self.index: int = manifest["index"]
        self.spec: Spec = parse_spec(manifest["spec"], os.path.join(directory, "shard.json"))
        self.table = table
        self.record_bytes = self.spec.record_bytes

    @property
    def count(self) -> int:
        return self.table.count

    def locate(self, i: int) -> Tuple[str, int, int]:
        """(file name, byte offset, byte length) of record ``i``'s stored bytes."""
        raise NotImplementedError

    def check_stored(self, i: int, files: "ShardFiles") -> None:
        """Format-specific structural checks before the bytes are used (default: none)."""

    def decode(self, i: int, stored: np.ndarray) -> np.ndarray:
        """Tensor bytes (uint8, ``record_bytes`` long) from the stored bytes of record ``i``."""
        return stored

    def corrupt(self, i: int, reason: str) -> RetinaError:
        return corrupt_record(self.index, self.format, i, self.table.ids[i], reason)

    def read(self, i: int, files: "ShardFiles", verify: bool) -> np.ndarray:
        """Record ``i``'s tensor bytes as a fresh uint8 array, its checksum checked if ``verify``."""
        if self.direct:
            out = np.empty(self.record_bytes, dtype=np.uint8)
            self.read_into(i, files, verify, out)
            return out
        name, offset, length = self.locate(i)
        mm = files.map(name)
        if offset < 0 or offset + length > mm.shape[0]:
            raise self.corrupt(i, f"bytes {offset}..{offset + length} lie outside {name} ({mm.shape[0]} bytes)")
        self.check_stored(i, files)
        stored = np.array(mm[offset:offset + length])  # one copy out of the page cache
        if verify and xxh64_int(stored) != self.table.checksums[i]:
            what = "record bytes" if self.format == "msgpack" else "tensor bytes"
            raise self.corrupt(i, f"{what} fail their xxh64 checksum")
        return self.decode(i, stored)


    #: Whether the stored bytes are the tensor bytes (no decode step): then reads copy straight
    #: from the file map into the caller's buffer.
    direct = True

    def read_into(self, i: int, files: "ShardFiles", verify: bool, out: np.ndarray) -> None:
        """Record ``i``'s tensor bytes into ``out`` (uint8, ``record_bytes`` long): one copy."""
        if not self.direct:
            out[...] = self.read(i, files, verify)
            return
        name, offset, length = self.locate(i)
        mm = files.map(name)
        if offset < 0 or offset + length > mm.shape[0]:
            raise self.corrupt(i, f"bytes {offset}..{offset + length} lie outside {name} ({mm.shape[0]} bytes)")
        self.check_stored(i, files)
        out[...] = mm[offset:offset + length]
        if verify and xxh64_int(out) != self.table.checksums[i]:
            raise self.corrupt(i, "tensor bytes fail their xxh64 checksum")


class ShardFiles:
    """The memory maps of one shard's files in this process, opened on first use."""

    def __init__(self, plan: ShardPlan) -> None:
        self.plan = plan
        self._maps: Dict[str, np.ndarray] = {}
        self.on_close: Optional[Any] = None  # closes a format's own handle (lmdb v1 environment)
        self.lmdb_env: Optional[Any] = None

    def map(self, name: str) -> np.ndarray:
        mm = self._maps.get(name)
        if mm is None:
            path = os.path.join(self.plan.dir, name)
            size = os.path.getsize(path)
            # np.memmap cannot map an empty file; an empty array reads the same.
            mm = np.memmap(path, dtype=np.uint8, mode="r") if size else np.zeros(0, dtype=np.uint8)
            self._maps[name] = mm
        return mm

    def close(self) -> None:
        for mm in self._maps.values():
            base = getattr(mm, "_mmap", None)
            if base is not None:
                base.close()
        self._maps.clear()
        if self.on_close is not None:
            self.on_close()
            self.on_close = None
        self.lmdb_env = None


def file_entry(manifest: Dict[str, Any], name: str) -> Dict[str, Any]:
    for f in manifest["files"]:
        if f["name"] == name:
            return f
    raise RetinaError("CORRUPT", f'Shard {manifest["index"]} ({manifest["format"]}) lists no file "{name}" in shard.json',
                      shard=manifest["index"], file=name, hint="Rewrite this shard (rerun its preprocess task with --force).")


def check_file_sizes(directory: str, manifest: Dict[str, Any]) -> None:
    """Every file the shard lists exists with its listed size: a truncated copy fails on open."""
    for f in manifest["files"]:
        path = os.path.join(directory, f["name"])
        try:
            size = os.stat(path).st_size
        except OSError as err:
            raise RetinaError("CORRUPT", f"Shard {manifest['index']}: file {f['name']} is missing from {directory}",
                              shard=manifest["index"], file=path,
                              hint="Rewrite this shard (rerun its preprocess task with --force).") from err
        if size != f["bytes"]:
            state = "truncated" if size < f["bytes"] else "grown"
            raise RetinaError("CORRUPT", f"Shard {manifest['index']}: file {f['name']} has {size} bytes but shard.json says {f['bytes']} ({state})",
                              shard=manifest["index"], file=path,
                              hint="The copy is incomplete or the file was changed; copy it again or rewrite this shard (rerun its task with --force).")


def read_verified_file(directory: str, manifest: Dict[str, Any], name: str, verify: bool) -> bytes:
    """A whole (small) shard file, its xxh64 checked against shard.json when ``verify``."""
    entry = file_entry(manifest, name)
    path = os.path.join(directory, name)
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) != entry["bytes"] or (verify and f"{xxh64_int(data):016x}" != entry["xxh64"]):
        got = f"{xxh64_int(data):016x}" if verify else f"{len(data)} bytes"
        raise RetinaError("CORRUPT", f"Shard {manifest['index']}: file {name} fails its checksum (xxh64 {got}, shard.json says {entry['xxh64']})",
                          shard=manifest["index"], file=path,
                          hint="Run `retina verify` on the dataset and rewrite the damaged shard (rerun its task with --force).")
    return data


def open_record_table(directory: str, manifest: Dict[str, Any], verify: bool, need: Sequence[str] = ()) -> RecordTable:
    data = read_verified_file(directory, manifest, RECORD_TABLE_FILE, verify)
    path = os.path.join(directory, RECORD_TABLE_FILE)
    table = parse_record_table(parse_json_bytes(data, path), path, manifest["index"], manifest["records"], need)
    _check_summary(directory, manifest, table)
    return table


def _check_summary(directory: str, manifest: Dict[str, Any], table: RecordTable) -> None:
    """shard.json's split and label counts must be those of its (checksummed) record table."""
    val = table.splits.count("v")
    counts = np.bincount(table.labels.astype(np.int64), minlength=1) if table.count else np.zeros(0, dtype=np.int64)
    labels = {str(k): int(n) for k, n in enumerate(counts) if n}
    stated = {k: n for k, n in manifest["labels"].items() if n > 0}
    splits = manifest["splits"]
    if splits.get("val", 0) != val or splits.get("train", 0) != table.count - val or stated != labels:
        raise RetinaError("CORRUPT", f"Shard {manifest['index']}: shard.json's counts (splits {splits}, labels {manifest['labels']}) are not those of its "
                          f"{RECORD_TABLE_FILE} (val {val}, labels {labels})", shard=manifest["index"], file=os.path.join(directory, "shard.json"),
                          hint="shard.json was edited or damaged; rewrite this shard (rerun its preprocess task with --force).")


def verify_files(directory: str, manifest: Dict[str, Any]) -> List[Tuple[str, str]]:
    """Whole-file checks (size and xxh64) as `retina verify` does; returns (file, reason) problems."""
    problems: List[Tuple[str, str]] = []
    for f in manifest["files"]:
        try:
            digest, size = xxh64_file(os.path.join(directory, f["name"]))
        except OSError as err:
            problems.append((f["name"], f"cannot read file: {err}"))
            continue
        if size != f["bytes"]:
            problems.append((f["name"], f"file has {size} bytes, shard.json says {f['bytes']}"))
        elif digest != f["xxh64"]:
            problems.append((f["name"], f"file fails its xxh64 checksum ({digest}, shard.json says {f['xxh64']})"))
    return problems


