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

from conftest import PYTHON_DIR, edit_json


def _error(path, **kw) -> RetinaError:
    with pytest.raises(RetinaError) as caught:
        open_dataset(path, **kw)
    return caught.value


def test_no_dataset_is_not_found(tmp_path):
    err = _error(tmp_path / "nothing-here")
    assert (err.code, err.exit_code) == ("NOT_FOUND", 4) and "nothing-here" in err.message


def test_a_newer_manifest_version_is_unsupported_naming_the_file(copy_dataset):
    path = copy_dataset("raw")
    edit_json(path / "manifest.json", lambda m: m.update(version=2))
    err = _error(path)
    assert (err.code, err.exit_code, err.file) == ("UNSUPPORTED", 8, str(path / "manifest.json"))
    assert "version 2" in err.message and "newer retina" in err.message
    # A newer retina may checksum differently: the version is what the error must name.
    m = json.loads((path / "manifest.json").read_text())
    m["version"], m["checksum"] = 7, "xxh3:0123"
    (path / "manifest.json").write_text(json.dumps(m))
    err = _error(path)
    assert err.code == "UNSUPPORTED" and "version 7" in err.message


def test_a_newer_shard_version_is_unsupported_too(copy_dataset):
    path = copy_dataset("lmdb")
    (path / "manifest.json").unlink()
    shard = next((path / "shards").glob("shard-00001-*")) / "shard.json"
    edit_json(shard, lambda m: m.update(version=3))
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

    def parquet(m):
        m["format"] = "parquet"
        for s in m["shards"]:
            s["format"] = "parquet"

    edit_json(path / "manifest.json", parquet)
    for shard in (path / "shards").iterdir():
        edit_json(shard / "shard.json", lambda m: m.update(format="parquet"))
    err = _error(path)
    assert (err.code, err.exit_code) == ("UNSUPPORTED", 8)
    assert '"parquet"' in err.message and "raw, msgpack, lmdb, tfjs" in err.message


def test_a_shard_rewritten_after_index_is_corrupt(copy_dataset):
    path = copy_dataset("tfjs")
    shard = next((path / "shards").glob("shard-00000-*")) / "shard.json"
    edit_json(shard, lambda m: m.update(createdAt="2030-01-01T00:00:00.000Z"))
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
    edit_json(shard, lambda m: m["params"].update(size=64))
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


def _with_checksum(body: dict) -> dict:
    from retina_data.checksum import xxh64_int
    from retina_data.manifest import canonical_json

    rest = {k: v for k, v in body.items() if k != "checksum"}
    return {**rest, "checksum": f"xxh64:{xxh64_int(canonical_json(rest).encode('utf-8')):016x}"}


def test_json_checksums_agree_with_retinas(datasets):
    from retina_data.manifest import LEGACY_DATASET_KEYS, LEGACY_SHARD_KEYS, check_json_checksum

    path = datasets[("lmdb", "uint8")]
    files = [(path / "manifest.json", LEGACY_DATASET_KEYS)] + [(p, LEGACY_SHARD_KEYS) for p in sorted(path.glob("shards/*/shard.json"))]
    bodies = [(p, json.loads(p.read_text()), keys) for p, keys in files]
    if not any("checksum" in b for _, b, _ in bodies):
        pytest.skip("this retina writes shard.json/manifest.json without checksums (before #16)")
    for p, body, keys in bodies:
        assert check_json_checksum(body, str(p), keys, "") == "ok"


def test_an_edited_shard_json_fails_its_checksum(copy_dataset):
    path = copy_dataset("raw")
    (path / "manifest.json").unlink()
    shards = sorted(path.glob("shards/*/shard.json"))
    for p in shards:
        p.write_text(json.dumps(_with_checksum(json.loads(p.read_text()))))
    assert len(open_dataset(path)) > 0  # checksummed by this test's own canonical JSON: accepted
    for p in shards:
        body = json.loads(p.read_text())
        body["createdAt"] = "2030-01-01T00:00:00.000Z"
        p.write_text(json.dumps(body))
    err = _error(path)
    assert (err.code, err.shard, err.file) == ("CORRUPT", 0, str(shards[0])) and "fails its checksum" in err.message
    assert len(open_dataset(path, verify=False)) > 0  # verify=False skips every checksum


def test_an_unknown_key_without_checksum_is_not_trusted(copy_dataset):
    path = copy_dataset("raw")
    m = json.loads((path / "manifest.json").read_text())
    m.pop("checksum", None)
    m["recrods"] = 3
    (path / "manifest.json").write_text(json.dumps(m))
    err = _error(path)
    assert err.code == "CORRUPT" and "cannot be trusted" in err.message and '"recrods"' in err.message


def test_counts_edited_in_a_legacy_shard_json_are_caught(copy_dataset):
    path = copy_dataset("tfjs")
    (path / "manifest.json").unlink()
    p = sorted(path.glob("shards/*/shard.json"))[1]
    body = json.loads(p.read_text())
    body.pop("checksum", None)
    grade = next(k for k, n in body["labels"].items() if n > 0)
    other = "4" if grade != "4" else "3"
    body["labels"][grade] -= 1
    body["labels"][other] = body["labels"].get(other, 0) + 1
    p.write_text(json.dumps(body))
    err = _error(path)
    assert (err.code, err.shard, err.file) == ("CORRUPT", 1, str(p)) and "records.json" in err.message
