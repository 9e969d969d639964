"""``open_dataset``: a retina dataset folder as one indexable sequence of records, in numpy.

The layout (formats/types.ts): ``DATASET/manifest.json`` (written by ``retina index`` or by a
one-shard ``preprocess``) and ``DATASET/shards/shard-IIIII-of-NNNNN/shard.json`` + data files.
Record ``i`` runs over shard 0's records, then shard 1's, ... (as retina's own reader); a split
keeps those records' order.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

from .errors import RetinaError
from .formats import preparer
from .formats.base import ShardFiles, ShardPlan
from .manifest import Spec, parse_dataset_manifest, parse_shard_manifest, parse_spec, read_json

DATASET_MANIFEST = "manifest.json"
SHARD_MANIFEST = "shard.json"
SHARDS_DIR = "shards"
SHARD_NAME = re.compile(r"^shard-(\d{5,})-of-(\d{5,})$")
SPLITS = ("train", "val")


def shard_path(dataset: str, index: int, count: int) -> str:
    return os.path.join(dataset, SHARDS_DIR, f"shard-{index:05d}-of-{count:05d}")


def _incomplete(dataset: str, missing: List[int], count: int, why: str = "") -> RetinaError:
    shown = ", ".join(map(str, missing[:20])) + (f" ... ({len(missing)} in all)" if len(missing) > 20 else "")
    noun = "shard" if len(missing) == 1 else "shards"
    verb = "is" if len(missing) == 1 else "are"
    return RetinaError(
        "INCOMPLETE",
        f"Dataset {dataset} is incomplete: {noun} {shown} of {count} {verb} missing{why}",
        file=dataset,
        shard=missing[0],
        hint=f"Rerun the preprocess tasks of the missing shards (e.g. `retina preprocess --shard {missing[0]}/{count} ...`), then run `retina index {dataset}`.",
    )


def _read_shard_manifest(directory: str, verify: bool) -> Optional[Dict[str, Any]]:
    path = os.path.join(directory, SHARD_MANIFEST)
    try:
        raw = read_json(path)
    except FileNotFoundError:
        return None
    return parse_shard_manifest(raw, path, verify)


def _scan_shards(dataset: str, verify: bool) -> Tuple[List[Dict[str, Any]], List[Tuple[str, str]]]:
    """Complete shards under DATASET/shards in shard order, and why other shard folders are not."""
    try:
        names = sorted(os.listdir(os.path.join(dataset, SHARDS_DIR)))
    except FileNotFoundError:
        return [], []
    shards: List[Dict[str, Any]] = []
    problems: List[Tuple[str, str]] = []
    for name in names:
        m = SHARD_NAME.match(name)
        if not m:
            continue  # .tmp-... and .old-... folders are not shards
        try:
            manifest = _read_shard_manifest(os.path.join(dataset, SHARDS_DIR, name), verify)
        except RetinaError as err:
            problems.append((name, err.message))
            continue
        if manifest is None:
            problems.append((name, f"no {SHARD_MANIFEST}"))
        elif manifest["index"] != int(m.group(1)) or manifest["count"] != int(m.group(2)):
            problems.append((name, f"shard.json says shard {manifest['index']} of {manifest['count']}"))
        else:
            shards.append(manifest)
    return shards, problems


def _combine(dataset: str, shards: List[Dict[str, Any]], problems: List[Tuple[str, str]]) -> Dict[str, Any]:
    """Shards that belong together as a dataset manifest (formats/dataset.ts combineShards)."""
    why = "; ".join(f"{name}: {reason}" for name, reason in problems)
    if not shards and problems:
        # Shard folders whose shard.json is damaged are not "missing": say which file is corrupt.
        name = problems[0][0]
        m = SHARD_NAME.match(name)
        raise RetinaError("CORRUPT", f"Dataset {dataset} has no usable shard: {why}", file=os.path.join(dataset, SHARDS_DIR, name, SHARD_MANIFEST),
                          shard=int(m.group(1)) if m else None, hint="Rewrite the damaged shard (rerun its preprocess task with --force).")
    if not shards:
        raise RetinaError("NOT_FOUND", f"No complete shard in {os.path.join(dataset, SHARDS_DIR)}", file=dataset,
                          hint="Write the dataset first (`retina preprocess`); a shard becomes visible only when its task finished.")
    first = shards[0]
    for s in shards:
        for field in ("format", "count", "spec", "params"):
            if s[field] != first[field]:
                raise RetinaError("BAD_INPUT", f"Shards of {dataset} do not belong together: shard {s['index']} of {s['count']} has "
                                  f"{field} {s[field]!r} (shard {first['index']}: {first[field]!r})", file=dataset, shard=s["index"],
                                  hint="Remove the shards of the other run, or rerun all tasks with the same parameters into an empty folder.")
    present = {s["index"] for s in shards}
    missing = [i for i in range(first["count"]) if i not in present]
    if missing:
        raise _incomplete(dataset, missing, first["count"], f" (unusable: {why})" if problems else "")
    return {"kind": "retina-dataset", "version": 1, "format": first["format"], "spec": first["spec"], "shardCount": first["count"],
            "records": sum(s["records"] for s in shards), "params": first["params"], "shards": sorted(shards, key=lambda s: s["index"])}


def load_dataset_manifest(dataset: str, verify: bool = True) -> Dict[str, Any]:
    """``manifest.json`` when present (each listed shard checked against its shard.json on disk),
    else the complete shards found, combined. NOT_FOUND, INCOMPLETE, BAD_INPUT or CORRUPT."""
    path = os.path.join(dataset, DATASET_MANIFEST)
    if not os.path.exists(path):
        if not os.path.isdir(dataset):
            raise RetinaError("NOT_FOUND", f"No dataset at {dataset}", file=dataset,
                              hint="Check the path; datasets are written by `retina preprocess`.")
        return _combine(dataset, *_scan_shards(dataset, verify))
    manifest = parse_dataset_manifest(read_json(path), path, verify)
    preparer(manifest["format"], path)  # an unknown format is named before any shard is looked at
    listed = {s["index"] for s in manifest["shards"]}
    missing = [i for i in range(manifest["shardCount"]) if i not in listed]
    if missing:
        raise _incomplete(dataset, missing, manifest["shardCount"])
    for s in manifest["shards"]:
        on_disk = _read_shard_manifest(shard_path(dataset, s["index"], s["count"]), verify)
        if on_disk is None:
            raise _incomplete(dataset, [s["index"]], s["count"])
        if on_disk != s:
            raise RetinaError("CORRUPT", f"Shard {s['index']} of {dataset} was rewritten after {DATASET_MANIFEST} was made",
                              file=path, shard=s["index"], hint=f"Run `retina index {dataset}` to rebuild the manifest.")
    manifest["shards"] = sorted(manifest["shards"], key=lambda s: s["index"])
    return manifest


class DatasetReader:
    """The records of a retina dataset (optionally one split). See :func:`open_dataset`.

    ``ds[i]`` is ``(tensor, grade, id)``: ``tensor`` a fresh, writable numpy array of the stored
    dtype and shape (HxWxC; uint8 pixels, or float16/float32 holding pixel / 255 for datasets
    preprocessed with ``--dtype float16|float32``). ``ds.labels`` (int64 grades), ``ds.ids`` and
    ``ds.split`` describe the records without reading any tensor.

    Picklable and fork-safe: the manifests and record tables travel, open files do not; each
    process maps the shard files it reads on first use.
    """

    def __init__(self, path: str, manifest: Dict[str, Any], plans: List[ShardPlan], split: Optional[str], verify: bool) -> None:
        self.path = path
        self.manifest = manifest
        self.format: str = manifest["format"]
        self.spec: Spec = parse_spec(manifest["spec"], os.path.join(path, DATASET_MANIFEST))
        self.split = split
        self.verify = verify
        self._plans = plans
        shard_of: List[np.ndarray] = []
        local_of: List[np.ndarray] = []
        ids: List[str] = []
        labels: List[np.ndarray] = []
        for k, plan in enumerate(plans):
            t = plan.table
            codes = np.frombuffer(t.splits.encode("ascii"), dtype=np.uint8)
            keep = np.arange(t.count) if split is None else np.flatnonzero(codes == ord(split[0]))
            shard_of.append(np.full(len(keep), k, dtype=np.int32))
            local_of.append(keep.astype(np.int64))
            ids.extend(t.ids[j] for j in keep)
            labels.append(t.labels[keep].astype(np.int64))
        self._shard_of = np.concatenate(shard_of) if shard_of else np.zeros(0, dtype=np.int32)
        self._local_of = np.concatenate(local_of) if local_of else np.zeros(0, dtype=np.int64)
        self.ids: List[str] = ids
        self.labels: np.ndarray = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)
        self._files: Dict[int, ShardFiles] = {}
        self._pid: Optional[int] = None

    # -- description ---------------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        """NumPy dtype of the stored tensors (uint8, <f2 or <f4)."""
        return self.spec.np_dtype

    @property
    def shape(self) -> Tuple[int, ...]:
        """Shape of one stored tensor (HxWxC)."""
        return tuple(self.spec.shape)

    @property
    def shard_count(self) -> int:
        return len(self._plans)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (f"<retina_data.DatasetReader {self.path!r} format={self.format} split={self.split} "
                f"records={len(self)} {self.spec.dtype}{list(self.spec.shape)}>")

    def location(self, i: int) -> Tuple[int, int]:
        """(shard, record within the shard) of record ``i``."""
        i = self._check(i)
        return int(self._shard_of[i]), int(self._local_of[i])

    # -- reading -------------------------------------------------------------------------------
    def _check(self, i: Any) -> int:
        try:
            k = int(i)
        except (TypeError, ValueError):
            raise TypeError(f"record indices are integers, not {type(i).__name__}") from None
        n = len(self.ids)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError(f"record {i} out of range for {n} records")
        return k

    def _shard_files(self, shard: int) -> ShardFiles:
        pid = os.getpid()
        if self._pid != pid:
            # First use in this process (or a forked child): never touch handles of another process.
            self._files = {}
            self._pid = pid
        files = self._files.get(shard)
        if files is None:
            files = self._files[shard] = ShardFiles(self._plans[shard])
        return files

    def read_bytes(self, i: int) -> np.ndarray:
        """Record ``i``'s stored tensor bytes (uint8, flat), checksum checked unless verify=False."""
        k = self._check(i)
        shard = int(self._shard_of[k])
        return self._plans[shard].read(int(self._local_of[k]), self._shard_files(shard), self.verify)

    def read_into(self, i: int, out: np.ndarray) -> None:
        """Record ``i``'s tensor bytes into ``out`` (uint8, flat, ``spec.record_bytes`` long): one
        copy from the file map (msgpack: after decoding), checksum checked unless verify=False."""
        k = self._check(i)
        shard = int(self._shard_of[k])
        self._plans[shard].read_into(int(self._local_of[k]), self._shard_files(shard), self.verify, out)

    def read_batch(self, indices: Any) -> np.ndarray:
        """Records ``indices`` as one fresh array (N, *shape) of the stored dtype: each record copied
        once, straight from the file map into the batch, checksums checked unless verify=False."""
        idx = [self._check(i) for i in indices]
        out = np.empty((len(idx), self.spec.record_bytes), dtype=np.uint8)
        for k, i in enumerate(idx):
            shard = int(self._shard_of[i])
            self._plans[shard].read_into(int(self._local_of[i]), self._shard_files(shard), self.verify, out[k])
        return out.view(self.spec.np_dtype).reshape((len(idx), *self.spec.shape))

    def tensor(self, i: int) -> np.ndarray:
        """Record ``i``'s tensor in the stored dtype and shape (a fresh array)."""
        return self.read_bytes(i).view(self.spec.np_dtype).reshape(self.spec.shape)

    def __getitem__(self, i: int) -> Tuple[np.ndarray, int, str]:
        k = self._check(i)
        return self.tensor(k), int(self.labels[k]), self.ids[k]

    def __iter__(self) -> Iterator[Tuple[np.ndarray, int, str]]:
        for k in range(len(self)):
            yield self[k]

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Unmap the files this process opened (reading again reopens them)."""
        if self._pid == os.getpid():
            for files in self._files.values():
                files.close()
        self._files = {}

    def __enter__(self) -> "DatasetReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_files"] = {}
        state["_pid"] = None
        return state


def open_dataset(path: "str | os.PathLike[str]", split: Optional[str] = None, verify: bool = True) -> DatasetReader:
    """Open a retina dataset folder of any built-in format (raw, lmdb, msgpack, tfjs).

    ``split``: None (all records), "train" or "val". ``verify``: check every record's xxh64 on
    read (and the record tables' on open); a mismatch raises RetinaError CORRUPT naming shard,
    record and id. Needs the ``xxhash`` module unless verify=False; ``msgpack`` for the msgpack
    format; nothing but numpy for raw, tfjs and lmdb as retina writes it (see formats/lmdb.py).
    """
    path = os.fspath(path)
    if split is not None and split not in SPLITS:
        raise RetinaError("BAD_ARGUMENT", f"Expected split None, 'train' or 'val' but received {split!r}")
    manifest = load_dataset_manifest(path, verify)
    prepare = preparer(manifest["format"], os.path.join(path, DATASET_MANIFEST))
    plans = [prepare(shard_path(path, s["index"], s["count"]), s, verify) for s in manifest["shards"]]
    return DatasetReader(path, manifest, plans, split, verify)
