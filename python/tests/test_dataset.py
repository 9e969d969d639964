"""Dataset-level behaviour of open_dataset: manifests, bad input, pickling and processes."""
from __future__ import annotations

import json
import multiprocessing
import pickle
import shutil
import subprocess
import sys

import pytest

from retina_data import RetinaError, open_dataset

from conftest import PYTHON_DIR


def _error(path, **kw) -> RetinaError:
    with pytest.raises(RetinaError) as caught:
        open_dataset(path, **kw)
    return caught.value


def test_no_dataset_is_not_found(tmp_path):
    err = _error(tmp_path / "nothing-here")
    assert (err.code, err.exit_code) == ("NOT_FOUND", 4) and "nothing-here" in err.message


def test_a_newer_manifest_version_is_unsupported_naming_the_file(copy_dataset):
    path = copy_dataset("raw")
    m = json.loads((path / "manifest.json").read_text())
    m["version"] = 2
    (path / "manifest.json").write_text(json.dumps(m))
    err = _error(path)
    assert (err.code, err.exit_code, err.file) == ("UNSUPPORTED", 8, str(path / "manifest.json"))
    assert "version 2" in err.message and "newer retina" in err.message


def test_a_newer_shard_version_is_unsupported_too(copy_dataset):
    path = copy_dataset("lmdb")
    (path / "manifest.json").unlink()
    shard = next((path / "shards").glob("shard-00001-*")) / "shard.json"
    m = json.loads(shard.read_text())
    m["version"] = 3
    shard.write_text(json.dumps(m))
    err = _error(path)
    # the shard is unusable, so the dataset is incomplete, and the reason says why
    assert err.code == "INCOMPLETE" and err.shard == 1 and "version 3" in err.message


@pytest.mark.parametrize("with_manifest", [True, False])
def test_a_missing_shard_is_incomplete_naming_it(copy_dataset, with_manifest):
    path = copy_dataset("msgpack")
    if not with_manifest:
        (path / "manifest.json").unlink()
    shutil.rmtree(next((path / "shards").glob("shard-00001-*")))
    err = _error(path)
    assert (err.code, err.exit_code, err.shard) == ("INCOMPLETE", 6, 1)
    assert "shard 1 of 2 is missing" in err.message and "retina preprocess --shard 1/2" in (err.hint or "")


def test_an_unknown_format_is_unsupported_naming_it(copy_dataset):
    path = copy_dataset("raw")
    m = json.loads((path / "manifest.json").read_text())
    m["format"] = "parquet"
    for s in m["shards"]:
        s["format"] = "parquet"
    (path / "manifest.json").write_text(json.dumps(m))
    for shard in (path / "shards").iterdir():
        sm = json.loads((shard / "shard.json").read_text())
        sm["format"] = "parquet"
        (shard / "shard.json").write_text(json.dumps(sm))
    err = _error(path)
    assert (err.code, err.exit_code) == ("UNSUPPORTED", 8)
    assert '"parquet"' in err.message and "raw, msgpack, lmdb, tfjs" in err.message


def test_a_shard_rewritten_after_index_is_corrupt(copy_dataset):
    path = copy_dataset("tfjs")
    shard = next((path / "shards").glob("shard-00000-*")) / "shard.json"
    m = json.loads(shard.read_text())
    m["createdAt"] = "2030-01-01T00:00:00.000Z"
    shard.write_text(json.dumps(m))
    err = _error(path)
    assert (err.code, err.shard) == ("CORRUPT", 0) and "rewritten" in err.message and "retina index" in (err.hint or "")


def test_a_damaged_record_table_is_caught_on_open(copy_dataset):
    path = copy_dataset("raw")
    table = next((path / "shards").glob("shard-00001-*")) / "records.json"
    table.write_text(table.read_text().replace('"labels":[', '"labels":[4,', 1)[:-1] + " ")
    err = _error(path)
    assert (err.code, err.shard) == ("CORRUPT", 1) and "records.json" in err.message


def test_shards_of_two_runs_are_bad_input(copy_dataset):
    path = copy_dataset("raw")
    (path / "manifest.json").unlink()
    shard = next((path / "shards").glob("shard-00001-*")) / "shard.json"
    m = json.loads(shard.read_text())
    m["params"]["size"] = 64
    shard.write_text(json.dumps(m))
    err = _error(path)
    assert (err.code, err.exit_code, err.shard) == ("BAD_INPUT", 3, 1) and "do not belong together" in err.message


def test_bad_split_and_index(datasets):
    with pytest.raises(RetinaError) as caught:
        open_dataset(datasets[("raw", "uint8")], split="test")
    assert caught.value.code == "BAD_ARGUMENT"
    ds = open_dataset(datasets[("raw", "uint8")])
    with pytest.raises(IndexError):
        ds[len(ds)]
    assert ds[-1][2] == ds.ids[-1]
    assert [rid for _, _, rid in ds] == ds.ids


def _read_in_child(ds, i, queue):
    queue.put(ds[i][0].tobytes())


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_reader_crosses_processes_without_its_open_files(datasets, method):
    ds = open_dataset(datasets[("lmdb", "uint8")])
    want = ds[3][0].tobytes()  # files are now open in this process
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._files == {} and clone[3][0].tobytes() == want
    ctx = multiprocessing.get_context(method)
    queue = ctx.Queue()
    p = ctx.Process(target=_read_in_child, args=(ds, 3, queue))
    p.start()
    got = queue.get(timeout=120)
    p.join(timeout=120)
    assert p.exitcode == 0 and got == want
    assert ds[3][0].tobytes() == want  # the parent's maps still work


def test_importing_and_reading_needs_neither_torch_nor_lmdb(datasets):
    code = ("import sys, retina_data; ds = retina_data.open_dataset(sys.argv[1]); ds[0]; "
            "print(sorted(m for m in ('torch', 'lmdb', 'msgpack') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code, str(datasets[("lmdb", "uint8")])], capture_output=True, text=True,
                       env={"PYTHONPATH": str(PYTHON_DIR)}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
