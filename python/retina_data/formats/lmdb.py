"""``lmdb``: one LMDB environment per shard, ``data.mdb`` (formats/lmdb.ts).

Keys are record numbers (uint32, native byte order, MDB_INTEGERKEY), values the raw tensor bytes;
records.json holds the xxh64 of each value.

retina writes LMDB with lmdb-js 3, whose LMDB is the 1.0 development line: **data format 2**.
Debian's python3-lmdb (py-lmdb 1.4 on liblmdb 0.9) reads only data format 1 and rejects these
files ("MDB_INVALID: File is not an LMDB file"), as do Debian's mdb_dump/mdb_stat. So:

* data format 2 (what retina writes): read here, read-only, by walking LMDB's B+tree once on open
  (meta pages -> main DB root -> branch and leaf pages) into a key -> (offset, length) index of the
  values; a record is then one slice of a read-only memory map of data.mdb, like ``raw``. No lock
  file, no write access, no liblmdb needed. Overflow-page headers are checked on every read.
* data format 1 (an lmdb-js built ``--use_data_v1``, or another writer): read through the ``lmdb``
  module, ``readonly=True, lock=False`` (no lock file: a read-only folder works).

Page layout of format 2 (mdb.c of lmdb-js's LMDB): a 24-byte page header {pgno u64, txnid u64,
pad u16, flags u16, lower u16, upper u16}; node pointers (u16, relative to the end of the header)
follow it; a node is {lo u16, hi u16, flags u16, ksize u16, key, data}; a branch node's child is
lo | hi << 16 | flags << 32; a leaf node's data size is lo | hi << 16 and, with F_BIGDATA, its data
is {pgno, txnid, pages} (u64 each) of the overflow pages, whose bytes follow the first page's header.
"""
from __future__ import annotations

import os
import struct
from typing import Any, Dict, List, Tuple

import numpy as np

from .._optional import require
from ..errors import RetinaError
from .base import ShardFiles, ShardPlan, check_file_sizes, open_record_table

LMDB_DATA_FILE = "data.mdb"
MDB_MAGIC = 0xBEEFC0DE
_HDR2 = 24  # page header size, data format 2
_P_BRANCH, _P_LEAF, _P_OVERFLOW, _P_META, _P_LEAF2 = 0x01, 0x02, 0x04, 0x08, 0x20
_F_BIGDATA, _F_SUBDATA, _F_DUPDATA = 0x01, 0x02, 0x04
_MDB_INTEGERKEY, _MDB_DUPSORT = 0x08, 0x04


def data_version(path: str) -> int:
    """LMDB data format of ``path`` (1 or 2) from its first meta page; 0 when it is not LMDB."""
    with open(path, "rb") as fh:
        head = fh.read(32)
    if len(head) >= 24 and struct.unpack_from("<I", head, 16)[0] == MDB_MAGIC:
        return struct.unpack_from("<I", head, 20)[0] & 0xFFFF
    if len(head) >= 32 and struct.unpack_from("<I", head, 24)[0] == MDB_MAGIC:
        return struct.unpack_from("<I", head, 28)[0] & 0xFFFF
    return 0


class LmdbTreeError(Exception):
    """A structural problem found while walking the B+tree (turned into CORRUPT by the caller)."""


def walk_v2(mm: np.ndarray, record_count: int) -> Tuple[int, Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Index the main DB of a format-2 file: the page size, and per key 0..count-1 the value's
    offset, length and overflow page offset (-1: stored inline, -2: key missing)."""
    buf = memoryview(mm)
    try:
        return _walk(buf, record_count)
    finally:
        buf.release()


def _walk(buf: memoryview, record_count: int) -> Tuple[int, Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    size = len(buf)
    if size < 2 * 4096:
        raise LmdbTreeError(f"file has {size} bytes, too small for two meta pages")

    def meta(off: int) -> Dict[str, int]:
        if off + _HDR2 + 136 > size:
            raise LmdbTreeError(f"meta page at byte {off} lies outside the file")
        flags = struct.unpack_from("<H", buf, off + 18)[0]
        magic, version = struct.unpack_from("<II", buf, off + _HDR2)
        if not flags & _P_META or magic != MDB_MAGIC or version & 0xFFFF != 2:
            raise LmdbTreeError(f"no valid meta page at byte {off}")
        db = off + _HDR2 + 24  # after magic, version, address, mapsize
        psize = struct.unpack_from("<I", buf, db)[0]
        main = db + 48
        mflags, depth = struct.unpack_from("<HH", buf, main + 4)
        entries, root = struct.unpack_from("<QQ", buf, main + 32)
        last_pg, txnid = struct.unpack_from("<QQ", buf, main + 48)
        return {"psize": psize, "flags": mflags, "depth": depth, "entries": entries, "root": root, "last_pg": last_pg, "txnid": txnid}

    m0 = meta(0)
    psize = m0["psize"]
    if psize < 512 or psize & (psize - 1):
        raise LmdbTreeError(f"meta page says page size {psize}")
    try:
        m1 = meta(psize)
        m = m1 if m1["txnid"] > m0["txnid"] else m0
    except LmdbTreeError:
        m = m0
    if m["flags"] & _MDB_DUPSORT:
        raise LmdbTreeError("the main database has duplicate keys (MDB_DUPSORT), which retina never writes")
    offsets = np.full(record_count, -1, dtype=np.int64)
    lengths = np.zeros(record_count, dtype=np.int64)
    pages = np.full(record_count, -2, dtype=np.int64)
    found = 0
    root = m["root"]
    if root == (1 << 64) - 1:  # P_INVALID: an empty database
        return psize, (offsets, lengths, pages)
    max_pages = size // psize
    key_fmt = "=I"
    stack: List[Tuple[int, int]] = [(root, m["depth"])]
    visited = 0
    while stack:
        pgno, depth = stack.pop()
        visited += 1
        if pgno >= max_pages or visited > max_pages or depth < 1:
            raise LmdbTreeError(f"page {pgno} lies outside the file or the tree is malformed")
        base = pgno * psize
        got_pgno = struct.unpack_from("<Q", buf, base)[0]
        flags, lower = struct.unpack_from("<HH", buf, base + 18)
        if got_pgno != pgno:
            raise LmdbTreeError(f"page {pgno} says it is page {got_pgno}")
        nkeys = lower >> 1
        if _HDR2 + 2 * nkeys > psize:
            raise LmdbTreeError(f"page {pgno} claims {nkeys} nodes")
        ptrs = struct.unpack_from(f"<{nkeys}H", buf, base + _HDR2)
        if flags & _P_BRANCH and not flags & (_P_LEAF | _P_LEAF2):
            children = []
            for p in ptrs:
                node = base + _HDR2 + p
                lo, hi, nflags = struct.unpack_from("<HHH", buf, node)
                children.append((lo | (hi << 16) | (nflags << 32), depth - 1))
            stack.extend(reversed(children))
        elif flags & _P_LEAF and not flags & _P_LEAF2:
            for p in ptrs:
                node = base + _HDR2 + p
                if node + 8 > base + psize:
                    raise LmdbTreeError(f"page {pgno} has a node outside the page")
                lo, hi, nflags, ksize = struct.unpack_from("<HHHH", buf, node)
                if ksize != 4:
                    raise LmdbTreeError(f"page {pgno} has a {ksize}-byte key; retina's keys are 4-byte record numbers")
                key = struct.unpack_from(key_fmt, buf, node + 8)[0]
                dsize = lo | (hi << 16)
                data = node + 12
                if nflags & (_F_SUBDATA | _F_DUPDATA):
                    raise LmdbTreeError(f"page {pgno}: key {key} holds a sub-database or duplicates")
                if key >= record_count:
                    raise LmdbTreeError(f"key {key} is not a record number of this shard ({record_count} records)")
                if nflags & _F_BIGDATA:
                    ov_pgno = struct.unpack_from("<Q", buf, data)[0]
                    pages[key] = ov_pgno * psize
                    offsets[key] = ov_pgno * psize + _HDR2
                else:
                    pages[key] = -1
                    offsets[key] = data
                lengths[key] = dsize
                found += 1
        else:
            raise LmdbTreeError(f"page {pgno} has flags 0x{flags:x}, expected a branch or leaf page")
    if found != m["entries"]:
        raise LmdbTreeError(f"the tree holds {found} entries but the meta page says {m['entries']}")
    return psize, (offsets, lengths, pages)


class LmdbV2Plan(ShardPlan):
    format = "lmdb"

    def __init__(self, directory: str, manifest: Dict[str, Any], table: Any, psize: int, index: Tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        super().__init__(directory, manifest, table)
        self.psize = psize
        self.offsets, self.lengths, self.pages = index

    def locate(self, i: int) -> Tuple[str, int, int]:
        if self.pages[i] == -2:
            raise self.corrupt(i, f"no such key in {LMDB_DATA_FILE}")
        if self.lengths[i] != self.record_bytes:
            raise self.corrupt(i, f"value has {int(self.lengths[i])} bytes, expected {self.record_bytes}")
        return LMDB_DATA_FILE, int(self.offsets[i]), self.record_bytes

    def check_stored(self, i: int, files: ShardFiles) -> None:
        page = int(self.pages[i])
        if page < 0:
            return
        mm = files.map(LMDB_DATA_FILE)
        head = bytes(mm[page:page + _HDR2])
        pgno = struct.unpack_from("<Q", head, 0)[0]
        flags = struct.unpack_from("<H", head, 18)[0]
        if not flags & _P_OVERFLOW or pgno * self.psize != page:
            raise self.corrupt(i, f"the value's overflow page (byte {page} of {LMDB_DATA_FILE}) is not the overflow page the tree points to (page {pgno}, flags 0x{flags:x})")


class LmdbV1Plan(ShardPlan):
    """Data format 1 through the lmdb module (liblmdb 0.9), opened read-only without a lock file."""

    format = "lmdb"
    direct = False

    def read(self, i: int, files: ShardFiles, verify: bool) -> np.ndarray:  # type: ignore[override]
        env = _v1_env(files, os.path.join(self.dir, LMDB_DATA_FILE))
        with env.begin(buffers=True) as txn:
            value = txn.get(struct.pack("=I", i))
            if value is None:
                raise self.corrupt(i, f"no such key in {LMDB_DATA_FILE}")
            if len(value) != self.record_bytes:
                raise self.corrupt(i, f"value has {len(value)} bytes, expected {self.record_bytes}")
            stored = np.frombuffer(value, dtype=np.uint8).copy()  # the buffer dies with the txn
        from ..checksum import xxh64_int

        if verify and xxh64_int(stored) != self.table.checksums[i]:
            raise self.corrupt(i, "tensor bytes fail their xxh64 checksum")
        return stored


def _v1_env(files: ShardFiles, path: str) -> Any:
    env = files.lmdb_env
    if env is None:
        lmdb = require("lmdb", "Reading an LMDB data-format-1 shard")
        # readonly + lock=False: no lock file is created or needed, so a read-only folder works.
        # Safe here because a shard is complete and immutable before any reader sees it.
        env = lmdb.open(path, subdir=False, readonly=True, lock=False, readahead=False, max_readers=1)
        files.lmdb_env = env
        files.on_close = env.close
    return env


def prepare(directory: str, manifest: Dict[str, Any], verify: bool) -> ShardPlan:
    check_file_sizes(directory, manifest)
    table = open_record_table(directory, manifest, verify)
    path = os.path.join(directory, LMDB_DATA_FILE)
    version = data_version(path)
    if version == 1:
        return LmdbV1Plan(directory, manifest, table)
    if version != 2:
        raise RetinaError("UNSUPPORTED" if version else "CORRUPT",
                          f"Shard {manifest['index']}: {path} is " + (f"LMDB data format {version}, which retina_data does not read (1 and 2 only)" if version else "not an LMDB file"),
                          shard=manifest["index"], file=path,
                          hint="Rewrite this shard with retina (rerun its preprocess task with --force).")
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    try:
        psize, index = walk_v2(mm, table.count)
    except (LmdbTreeError, struct.error) as err:
        raise RetinaError("CORRUPT", f"Shard {manifest['index']}: {path} is not a readable LMDB database ({err})",
                          shard=manifest["index"], file=path,
                          hint="Run `retina verify` on the dataset and rewrite the damaged shard (rerun its task with --force).") from err
    finally:
        mm._mmap.close()  # type: ignore[attr-defined]
    return LmdbV2Plan(directory, manifest, table, psize, index)
