"""Parsing of the JSON a dataset is made of: ``manifest.json``, ``shard.json``, ``records.json``.

Mirrors formats/manifest.ts and formats/record-table.ts: everything read from disk is checked
before use, and a failure is a CORRUPT error naming the file and the field. A ``version`` newer
than this package knows is UNSUPPORTED (exit 8): the dataset was written by a newer retina.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, NoReturn, Optional, Sequence

import numpy as np

from .errors import RetinaError

#: The manifest/shard/record-table version this package reads.
SUPPORTED_VERSION = 1
#: Stored element types and their NumPy dtypes (little-endian, as retina writes them).
DTYPES: Dict[str, np.dtype] = {"uint8": np.dtype("u1"), "float16": np.dtype("<f2"), "float32": np.dtype("<f4")}
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def _fail(where: str, field: str, expected: str, found: Any, shard: Optional[int] = None) -> NoReturn:
    shown = json.dumps(found)[:80] if found is not None else "nothing"
    raise RetinaError(
        "CORRUPT",
        f'{where}: expected {expected} for "{field}" but found {shown}',
        file=where,
        shard=shard,
        hint="The file was damaged or written by another tool; rewrite this shard (rerun its preprocess task with --force).",
    )


#: Keys of files written before retina added self-describing checksums (formats/manifest.ts
#: LEGACY_*_KEYS): such a file is accepted without a checksum; any other key without one is damage.
LEGACY_SHARD_KEYS = ("kind", "version", "format", "index", "count", "spec", "records", "splits", "labels", "files", "params", "createdAt")
LEGACY_DATASET_KEYS = ("kind", "version", "format", "spec", "shardCount", "records", "splits", "labels", "params", "shards")
_CHECKSUM_FORM = re.compile(r"^xxh64:[0-9a-f]{16}$")


def canonical_json(v: Any) -> str:
    """retina's canonical JSON (src/core/json-checksum.ts): sorted keys, no whitespace."""
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def check_json_checksum(body: Any, where: str, legacy_keys: Sequence[str], hint: str, shard: Optional[int] = None) -> str:
    """Check the ``checksum`` field (``xxh64:<hex>`` of the canonical JSON of the other fields).
    Returns "ok", or "legacy" for a file written before checksums (only ``legacy_keys``)."""
    from .checksum import xxh64_int

    if not isinstance(body, dict):
        raise RetinaError("CORRUPT", f"{where}: expected a JSON object", file=where, shard=shard, hint=hint)
    stated = body.get("checksum")
    if stated is None:
        unknown = [k for k in body if k not in legacy_keys]
        if not unknown:
            return "legacy"
        raise RetinaError("CORRUPT", f'{where} has no "checksum" field and unexpected keys {", ".join(json.dumps(k) for k in unknown[:3])}: it cannot be trusted',
                          file=where, shard=shard, hint=hint)
    if not isinstance(stated, str) or not _CHECKSUM_FORM.match(stated):
        raise RetinaError("CORRUPT", f'{where}: expected "checksum" of the form xxh64:<16 hex digits> but found {json.dumps(stated)[:40]}',
                          file=where, shard=shard, hint=hint)
    rest = {k: v for k, v in body.items() if k != "checksum"}
    actual = f"xxh64:{xxh64_int(canonical_json(rest).encode('utf-8')):016x}"
    if actual != stated:
        raise RetinaError("CORRUPT", f"{where} fails its checksum (its values hash to {actual}, the file says {stated}): it was damaged or edited",
                          file=where, shard=shard, hint=hint)
    return "ok"


_SHARD_HINT = "shard.json was damaged or edited after it was written; rewrite this shard (rerun its preprocess task with --force); re-indexing cannot repair it."
_DATASET_HINT = "manifest.json was damaged or edited; run `retina index` to rebuild it from the shards (each shard.json is checked by its own checksum)."


def _check_totals(where: str, v: Dict[str, Any], shard: Optional[int] = None) -> None:
    """split and label counts must add up to ``records``."""
    splits, labels, records = v.get("splits"), v.get("labels"), v["records"]
    if not isinstance(splits, dict) or not all(_is_int(n) for n in splits.values()):
        _fail(where, "splits", "an object of counts", splits, shard)
    if not isinstance(labels, dict) or not all(_is_int(n) for n in labels.values()):
        _fail(where, "labels", "an object of counts", labels, shard)
    if splits.get("train", 0) + splits.get("val", 0) != records:
        _fail(where, "splits", f"train + val = records ({records})", splits, shard)
    if sum(labels.values()) != records:
        _fail(where, "labels", f"counts summing to records ({records})", labels, shard)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def check_newer_version(v: Any, where: str, kind: str) -> None:
    """A ``version`` above the one this package reads is UNSUPPORTED, naming file and version.
    Checked before anything else, the checksum included: a newer retina may checksum differently,
    and "written by a newer retina" is the error that tells the user what to do."""
    if not isinstance(v, dict):
        return
    version = v.get("version")
    if v.get("kind") == kind and _is_int(version) and version > SUPPORTED_VERSION:
        raise RetinaError(
            "UNSUPPORTED",
            f"{where} has {kind} version {version}, but this retina_data reads version {SUPPORTED_VERSION} only: "
            "the dataset was written by a newer retina",
            file=where,
            hint="Upgrade the retina-data Python package to the version of the retina that wrote the dataset.",
        )


def check_kind_version(v: Any, where: str, kind: str) -> Dict[str, Any]:
    """Check ``kind`` and ``version``; a newer version is UNSUPPORTED, naming file and version."""
    if not isinstance(v, dict):
        _fail(where, "(root)", "an object", v)
    if v.get("kind") != kind:
        _fail(where, "kind", f'"{kind}"', v.get("kind"))
    check_newer_version(v, where, kind)
    version = v.get("version")
    if version != SUPPORTED_VERSION:
        _fail(where, "version", str(SUPPORTED_VERSION), version)
    return v


@dataclass(frozen=True)
class Spec:
    """Shape and dtype shared by every record (HWC for images)."""

    dtype: str
    shape: tuple

    @property
    def np_dtype(self) -> np.dtype:
        return DTYPES[self.dtype]

    @property
    def record_bytes(self) -> int:
        return int(np.prod(self.shape)) * self.np_dtype.itemsize


def parse_spec(v: Any, where: str) -> Spec:
    if not isinstance(v, dict):
        _fail(where, "spec", "an object {dtype, shape}", v)
    if v.get("dtype") not in DTYPES:
        _fail(where, "spec.dtype", "|".join(DTYPES), v.get("dtype"))
    shape = v.get("shape")
    if not isinstance(shape, list) or not shape or not all(_is_int(d) and d > 0 for d in shape):
        _fail(where, "spec.shape", "a non-empty array of positive integers", shape)
    return Spec(v["dtype"], tuple(shape))


def parse_shard_manifest(v: Any, where: str, verify: bool = True) -> Dict[str, Any]:
    """Validate a parsed ``shard.json`` (formats/manifest.ts parseShardManifest): its checksum
    (unless ``verify`` is False), its fields and its totals; returns it."""
    check_newer_version(v, where, "retina-shard")
    if verify:
        index = v.get("index") if isinstance(v, dict) else None
        check_json_checksum(v, where, LEGACY_SHARD_KEYS, _SHARD_HINT, index if _is_int(index) else None)
    check_kind_version(v, where, "retina-shard")
    if not isinstance(v.get("format"), str) or not v["format"]:
        _fail(where, "format", "a format name", v.get("format"))
    count = v.get("count")
    if not _is_int(count) or count < 1:
        _fail(where, "count", "a positive integer", count)
    index = v.get("index")
    if not _is_int(index) or index >= count:
        _fail(where, "index", f"an integer in [0, {count})", index)
    if not _is_int(v.get("records")):
        _fail(where, "records", "a non-negative integer", v.get("records"), index)
    parse_spec(v.get("spec"), where)
    files = v.get("files")
    if not isinstance(files, list):
        _fail(where, "files", "an array", files, index)
    for i, f in enumerate(files):
        if not isinstance(f, dict):
            _fail(where, f"files[{i}]", "an object {name, bytes, xxh64}", f, index)
        name = f.get("name")
        if not isinstance(name, str) or not _SAFE_NAME.match(name) or name in (".", ".."):
            _fail(where, f"files[{i}].name", "a plain file name", name, index)
        if not _is_int(f.get("bytes")):
            _fail(where, f"files[{i}].bytes", "a non-negative integer", f.get("bytes"), index)
        if not isinstance(f.get("xxh64"), str) or not _HEX16.match(f["xxh64"]):
            _fail(where, f"files[{i}].xxh64", "16 hex digits", f.get("xxh64"), index)
    _check_totals(where, v, index)
    return v


def parse_dataset_manifest(v: Any, where: str, verify: bool = True) -> Dict[str, Any]:
    """Validate a parsed dataset ``manifest.json`` (formats/manifest.ts parseDatasetManifest):
    checksum (unless ``verify`` is False), fields, and totals equal to the sums over its shards."""
    check_newer_version(v, where, "retina-dataset")
    if verify:
        check_json_checksum(v, where, LEGACY_DATASET_KEYS, _DATASET_HINT)
    check_kind_version(v, where, "retina-dataset")
    if not isinstance(v.get("format"), str):
        _fail(where, "format", "a format name", v.get("format"))
    if not _is_int(v.get("shardCount")) or v["shardCount"] < 1:
        _fail(where, "shardCount", "a positive integer", v.get("shardCount"))
    if not _is_int(v.get("records")):
        _fail(where, "records", "a non-negative integer", v.get("records"))
    parse_spec(v.get("spec"), where)
    shards = v.get("shards")
    if not isinstance(shards, list):
        _fail(where, "shards", "an array of shard manifests", shards)
    for i, s in enumerate(shards):
        parse_shard_manifest(s, f"{where} shards[{i}]", verify)
    _check_totals(where, v)
    if sum(s["records"] for s in shards) != v["records"]:
        _fail(where, "records", f"the sum over its shards ({sum(s['records'] for s in shards)})", v["records"])
    split_sums: Dict[str, int] = {"train": 0, "val": 0}
    label_sums: Dict[str, int] = {}
    for s in shards:
        for k in split_sums:
            split_sums[k] += s["splits"].get(k, 0)
        for k, n in s["labels"].items():
            label_sums[k] = label_sums.get(k, 0) + n
    if {"train": v["splits"].get("train", 0), "val": v["splits"].get("val", 0)} != split_sums:
        _fail(where, "splits", canonical_json(split_sums), v["splits"])
    if v["labels"] != label_sums:
        _fail(where, "labels", canonical_json(label_sums), v["labels"])
    for s in shards:
        if s["count"] != v["shardCount"] or s["format"] != v["format"]:
            _fail(where, "shardCount", f"the count and format of its shards (shard {s['index']}: {s['count']}, {s['format']})",
                  f"{v['shardCount']}, {v['format']}")
    return v


def read_json(path: str) -> Any:
    """Read and parse a JSON file; invalid JSON is a CORRUPT error naming it."""
    with open(path, "rb") as fh:
        data = fh.read()
    return parse_json_bytes(data, path)


def parse_json_bytes(data: bytes, path: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise RetinaError("CORRUPT", f"{path} is not valid JSON ({err})", file=path,
                          hint="Rewrite it (rerun the task that wrote it, or `retina index` for manifest.json).") from err


@dataclass(frozen=True)
class RecordTable:
    """A shard's ``records.json``: ids, labels, splits and checksums (plus locations), by column."""

    ids: List[str]
    labels: np.ndarray  # uint16
    splits: str  # one 't' or 'v' per record
    checksums: List[int]  # xxh64 of each record's stored bytes
    offsets: np.ndarray  # int64, empty when the format does not store them
    lengths: np.ndarray
    files: np.ndarray

    @property
    def count(self) -> int:
        return len(self.ids)


def parse_record_table(v: Any, where: str, shard: int, expect_count: int, need: Sequence[str] = ()) -> RecordTable:
    """Validate a parsed ``records.json``; ``need`` names the location columns the format requires."""

    def bad(what: str) -> NoReturn:
        raise RetinaError("CORRUPT", f"{where}: {what}", file=where, shard=shard,
                          hint="The record table is damaged; run `retina verify` and rewrite this shard (rerun its task with --force).")

    if not isinstance(v, dict):
        bad("expected a JSON object")
    if v.get("kind") != "retina-records":
        bad('expected kind "retina-records", version 1')
    check_kind_version(v, where, "retina-records")
    n = v.get("count")
    if n != expect_count:
        bad(f"expected {expect_count} records (shard.json) but the table says {json.dumps(n)}")
    ids = v.get("ids")
    if not isinstance(ids, list) or len(ids) != n or not all(isinstance(s, str) for s in ids):
        bad(f"expected {n} string ids")
    labels = v.get("labels")
    if not isinstance(labels, list) or len(labels) != n or not all(_is_int(x) and x <= 65535 for x in labels):
        bad(f"expected {n} integer labels")
    splits = v.get("splits")
    if not isinstance(splits, str) or len(splits) != n or not re.fullmatch(r"[tv]*", splits):
        bad(f"expected {n} split codes (t|v)")
    sums = v.get("xxh64")
    if not isinstance(sums, list) or len(sums) != n or not all(isinstance(h, str) and _HEX16.match(h) for h in sums):
        bad(f"expected {n} xxh64 checksums")

    def column(name: str) -> np.ndarray:
        col = v.get(name)
        if col is None and (name not in need or n == 0):
            return np.zeros(0, dtype=np.int64)
        if not isinstance(col, list) or len(col) != n or not all(_is_int(x) for x in col):
            bad(f'expected {n} non-negative integers in "{name}"')
        return np.asarray(col, dtype=np.int64)

    return RecordTable(
        ids=list(ids),
        labels=np.asarray(labels, dtype=np.uint16),
        splits=splits,
        checksums=[int(h, 16) for h in sums],
        offsets=column("offsets"),
        lengths=column("lengths"),
        files=column("files"),
    )
