"""Every built-in format: the same bytes as retina's own reader, damage caught and named, a
read-only folder, and the lmdb data-format-1 path through the lmdb module."""
from __future__ import annotations

import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import retina_data
from retina_data import RetinaError, open_dataset
from retina_data.manifest import DTYPES

from conftest import FORMATS, PYTHON_DIR, SIZE, VARIANTS, reader_identity, restamp, run_cli

VARIANT_KEYS = [(f, d) for f, d, _ in VARIANTS]


@pytest.mark.parametrize("fmt,dtype", VARIANT_KEYS)
def test_every_record_equals_retinas_reader(datasets, dumped, fmt, dtype):
    ds = open_dataset(datasets[(fmt, dtype)])
    want = dumped[(fmt, dtype)]
    assert len(ds) == len(want.records) > 0
    assert ds.format == fmt and ds.dtype == DTYPES[dtype] and ds.shape == (SIZE, SIZE, 3) == want.shape
    for i, rec in enumerate(want.records):
        tensor, grade, rid = ds[i]
        assert (rid, grade) == (rec["id"], rec["label"])
        assert tensor.dtype == DTYPES[dtype] and tensor.shape == (SIZE, SIZE, 3)
        assert tensor.tobytes() == want.tensors[i].tobytes(), f"record {i} ({rid}) differs from retina's reader"
    assert ds.ids == [r["id"] for r in want.records]
    assert ds.labels.tolist() == [r["label"] for r in want.records]


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_shards_and_splits(datasets, dumped, fmt):
    ds = open_dataset(datasets[(fmt, "uint8")])
    assert ds.shard_count == 2 and ds.split is None
    records = dumped[(fmt, "uint8")].records
    for split in ("train", "val"):
        part = open_dataset(datasets[(fmt, "uint8")], split=split)
        want = [i for i, r in enumerate(records) if r["split"] == split]
        assert part.split == split and len(part) == len(want) > 0
        assert part.ids == [records[i]["id"] for i in want]
        for k, i in enumerate(want):
            assert part[k][0].tobytes() == ds[i][0].tobytes()
    assert {ds.location(i)[0] for i in range(len(ds))} == {0, 1}


def test_raw_is_a_numpy_file_with_the_same_records(datasets):
    ds = open_dataset(datasets[("raw", "uint8")])
    at = 0
    for shard in sorted((datasets[("raw", "uint8")] / "shards").iterdir()):
        arr = np.load(shard / "data.npy", mmap_mode="r")
        for j in range(arr.shape[0]):
            assert np.array_equal(arr[j], ds[at][0])
            at += 1
    assert at == len(ds)


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([b[0] ^ 0x5A]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_flipped_byte_is_caught_and_named_like_retina_verify(copy_dataset, fmt):
    path = copy_dataset(fmt)
    ds = open_dataset(path)
    victim = len(ds) - 2  # in the second shard
    shard, local = ds.location(victim)
    plan = ds._plans[shard]
    name, offset, length = plan.locate(local)
    original = ds[victim][0].tobytes()
    _flip(Path(plan.dir) / name, offset + length // 2)

    damaged = open_dataset(path)
    with pytest.raises(RetinaError) as caught:
        damaged[victim]
    err = caught.value
    assert (err.code, err.exit_code, err.shard, err.record, err.id) == ("CORRUPT", 5, shard, local, ds.ids[victim])
    # The other records still read, and verify=False reads the damaged one as it is.
    damaged[0]
    assert open_dataset(path, verify=False)[victim][0].tobytes() != original

    # retina verify names the same shard, record and id, with the same message.
    r = subprocess.run(["node", "bin/run.js", "verify", str(path), "--json", "--log-level", "silent"], cwd=PYTHON_DIR.parent,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == err.exit_code
    records = [e for e in json.loads(r.stdout)["errors"] if e["record"] is not None]
    assert [(e["shard"], e["record"], e["id"], e["reason"]) for e in records] == [(shard, local, err.id, err.message)]


def test_a_truncated_file_is_named_on_open(copy_dataset):
    path = copy_dataset("tfjs")
    data = next((path / "shards").glob("shard-00001-*/group1-shard1of1.bin"))
    with open(data, "r+b") as fh:
        fh.truncate(data.stat().st_size - 10)
    with pytest.raises(RetinaError) as caught:
        open_dataset(path)
    assert caught.value.code == "CORRUPT" and caught.value.shard == 1 and "truncated" in caught.value.message
    assert caught.value.file == str(data)


def test_damaged_lmdb_pages_are_corrupt_naming_shard_and_record(copy_dataset):
    path = copy_dataset("lmdb")
    mdb = next((path / "shards").glob("shard-00000-*/data.mdb"))
    plan = open_dataset(path)._plans[0]
    # Record 0's overflow page header no longer says "overflow page": caught even with verify=False.
    page = int(plan.pages[0])
    data = bytearray(mdb.read_bytes())
    data[page + 18:page + 20] = struct.pack("<H", 0x02)
    mdb.write_bytes(bytes(data))
    ds = open_dataset(path, verify=False)
    with pytest.raises(RetinaError, match="overflow page") as caught:
        ds[0]
    assert (caught.value.code, caught.value.shard, caught.value.record, caught.value.id) == ("CORRUPT", 0, 0, ds.ids[0])
    ds[1]
    # A branch/leaf page that is neither: the shard cannot be opened, and the error names it.
    # meta page: 24-byte header, magic, version, address, mapsize, free DB (48), main DB (root at +40), last_pg, txnid
    _, root = max((struct.unpack_from("<Q", data, o + 152)[0], struct.unpack_from("<Q", data, o + 136)[0]) for o in (0, plan.psize))
    data[root * plan.psize + 18:root * plan.psize + 20] = struct.pack("<H", 0x10)
    mdb.write_bytes(bytes(data))
    with pytest.raises(RetinaError) as caught:
        open_dataset(path, verify=False)
    assert caught.value.code == "CORRUPT" and caught.value.shard == 0 and caught.value.file == str(mdb)
    assert "not a readable LMDB database" in caught.value.message


READ_ALL = """
import json, os, sys
import retina_data
try:  # the setup must really be read-only for this process
    open(os.path.join(sys.argv[1], "probe"), "w")
    sys.exit("the dataset folder is writable for the reader: the test proves nothing")
except PermissionError:
    pass
ds = retina_data.open_dataset(sys.argv[1])
print(json.dumps([ds[i][0].tobytes().hex()[:64] + str(ds[i][1]) + ds[i][2] for i in range(len(ds))]))
"""


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_read_only_folder(datasets, fmt):
    """chmod -R a-w; as root (which ignores modes) the reader runs as 'nobody' so it really cannot write."""
    preexec, skip = reader_identity()
    if skip:
        pytest.skip(skip)
    ds = open_dataset(datasets[(fmt, "uint8")])
    want = [ds[i][0].tobytes().hex()[:64] + str(ds[i][1]) + ds[i][2] for i in range(len(ds))]
    top = Path(tempfile.mkdtemp(prefix="retina-ro-"))
    try:
        os.chmod(top, 0o755)
        folder = top / "dataset"
        shutil.copytree(datasets[(fmt, "uint8")], folder)
        shutil.copytree(PYTHON_DIR / "retina_data", top / "pkg" / "retina_data")
        before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
        for p in [folder, *folder.rglob("*")]:
            p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) | stat.S_IROTH | (stat.S_IXOTH if p.is_dir() else 0))
        r = subprocess.run([sys.executable, "-c", READ_ALL, str(folder)], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(top / "pkg")}, preexec_fn=preexec, cwd=str(top))
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == want
        assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before, "the reader created files"
    finally:
        for p in [top, *top.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        shutil.rmtree(top)


def test_lmdb_data_format_1_through_the_lmdb_module_read_only_without_a_lock_file(datasets, tmp_path, monkeypatch):
    """A shard in LMDB data format 1 (what liblmdb 0.9 writes) is read by python3-lmdb, opened
    readonly with lock=False: no lock file appears and a read-only folder works."""
    lmdb = pytest.importorskip("lmdb")
    src = datasets[("lmdb", "uint8")]
    reference = open_dataset(src)
    dst = tmp_path / "lmdb-v1"
    shutil.copytree(src, dst)
    (dst / "manifest.json").unlink()  # rebuilt from the shard manifests on open
    for shard in sorted((dst / "shards").iterdir()):
        manifest = json.loads((shard / "shard.json").read_text())
        mdb = shard / "data.mdb"
        mdb.unlink()
        env = lmdb.open(str(mdb), subdir=False, map_size=1 << 24)
        with env.begin(write=True) as txn:
            plan = next(p for p in reference._plans if p.index == manifest["index"])
            for i in range(plan.count):
                txn.put(struct.pack("=I", i), plan.read(i, reference._shard_files(plan.index), True).tobytes())
        env.close()
        os.unlink(str(mdb) + "-lock")
        from retina_data.checksum import xxh64_file

        digest, size = xxh64_file(str(mdb))
        for f in manifest["files"]:
            if f["name"] == "data.mdb":
                f["bytes"], f["xxh64"] = size, digest
        (shard / "shard.json").write_text(json.dumps(restamp(manifest)))
    from retina_data.formats.lmdb import data_version

    assert data_version(str(next(dst.glob("shards/*/data.mdb")))) == 1
    assert data_version(str(next(src.glob("shards/*/data.mdb")))) == 2

    opened = []
    real_open = lmdb.open
    monkeypatch.setattr(lmdb, "open", lambda *a, **kw: opened.append(kw) or real_open(*a, **kw))
    for p in [dst, *dst.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        ds = open_dataset(dst)
        for i in range(len(ds)):
            assert ds[i][0].tobytes() == reference[i][0].tobytes() and ds[i][2] == reference[i][2]
        assert opened and all(kw["readonly"] is True and kw["lock"] is False for kw in opened)
        assert not list(dst.rglob("*-lock")), "a lock file was created"
        ds.close()
    finally:
        for p in [dst, *dst.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_float_datasets_hold_pixel_over_255(datasets):
    u8 = open_dataset(datasets[("raw", "uint8")])
    for fmt, dtype in [("raw", "float32"), ("lmdb", "float16")]:
        ds = open_dataset(datasets[(fmt, dtype)])
        x = ds[0][0].astype(np.float64)
        assert 0.0 <= x.min() and x.max() <= 1.0
        # same images through the same resampler: within rounding of uint8 (shards differ in order)
        ref = u8[u8.ids.index(ds.ids[0])][0] / 255.0
        assert np.abs(x - ref).max() <= 1 / 255 + 1e-3
    assert retina_data.open_dataset(datasets[("msgpack", "float32")]).dtype == np.dtype("<f4")


def test_lmdb_small_records_stored_inline_in_leaf_pages(datasets, tmp_path):
    """8x8x3 records (192 bytes) live inside LMDB's leaf pages, not on overflow pages; 60 of them
    fill several leaves under a branch page. Same bytes as retina's reader."""
    src = tmp_path / "kaggle"
    run_cli("fixtures", "--out", str(src), "--count", "60", "--seed", "3", "--size", "64x48", "--log-level", "warn")
    out = tmp_path / "lmdb-8"
    run_cli("preprocess", "--images", str(src / "train"), "--labels", str(src / "trainLabels.csv"), "--out", str(out),
            "--format", "lmdb", "--size", "8", "--threads", "1", "--log-level", "warn")
    r = subprocess.run(["node", str(Path(__file__).with_name("dump_records.mjs")), str(out), str(tmp_path / "dump")],
                       cwd=PYTHON_DIR.parent, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    want = np.fromfile(tmp_path / "dump.bin", dtype=np.uint8).reshape(-1, 8 * 8 * 3)
    ds = open_dataset(out)
    assert (ds._plans[0].pages == -1).all(), "expected values stored inline"
    mdb = (out / "shards" / "shard-00000-of-00001" / "data.mdb").read_bytes()
    assert struct.unpack_from("<H", mdb, 96 + 6)[0] >= 2 or struct.unpack_from("<H", mdb, 4096 + 96 + 6)[0] >= 2, "expected a tree of depth >= 2"
    assert len(ds) == len(want)
    for i in range(len(ds)):
        assert ds[i][0].tobytes() == want[i].tobytes()


KAGGLE_SAMPLE = PYTHON_DIR.parent.parent / "shared" / "data" / "kaggle-sample"


def test_real_kaggle_photographs_in_lmdb_at_299(tmp_path):
    """The 10 real Kaggle originals, preprocessed by retina to 299x299x3 LMDB (records spanning
    66 overflow pages each): every record equal to retina's reader, grades as in the CSV."""
    if not (KAGGLE_SAMPLE / "train").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{KAGGLE_SAMPLE} is missing on CI")
        pytest.skip(f"the real Kaggle sample is not at {KAGGLE_SAMPLE}")
    out = tmp_path / "kaggle-lmdb"
    run_cli("preprocess", "--images", str(KAGGLE_SAMPLE / "train"), "--labels", str(KAGGLE_SAMPLE / "trainLabels.csv"), "--limit", "10",
            "--out", str(out), "--format", "lmdb", "--size", "299", "--log-level", "warn")
    r = subprocess.run(["node", str(Path(__file__).with_name("dump_records.mjs")), "--normalize", str(out), str(tmp_path / "dump")],
                       cwd=PYTHON_DIR.parent, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    want = np.fromfile(tmp_path / "dump.bin", dtype=np.uint8).reshape(10, -1)
    meta = json.loads((tmp_path / "dump.json").read_text())["records"]
    grades = dict(line.split(",") for line in (KAGGLE_SAMPLE / "trainLabels.csv").read_text().splitlines()[1:11])
    ds = open_dataset(out)
    assert len(ds) == 10 and ds.shape == (299, 299, 3)
    for i in range(10):
        tensor, grade, rid = ds[i]
        assert tensor.tobytes() == want[i].tobytes() and rid == meta[i]["id"] and grade == int(grades[rid])
    torch = pytest.importorskip("torch")
    x, _ = retina_data.RetinaDataset(out)[0]
    normalized = np.fromfile(tmp_path / "dump.float32", dtype=np.float32).reshape(299, 299, 3).transpose(2, 0, 1)
    assert torch.equal(x, torch.from_numpy(np.ascontiguousarray(normalized)))
