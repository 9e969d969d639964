"""RetinaError: retina's codes and exit statuses, pickling, and missing optional modules."""
from __future__ import annotations

import pickle
import re
import sys

import pytest

import retina_data
from retina_data import EXIT_CODES, MissingModuleError, RetinaError, open_dataset
from retina_data import checksum

from conftest import ROOT


def test_exit_codes_are_retinas():
    candidates = [ROOT / "src" / "core" / "errors.ts", ROOT / "src" / "errors.ts"]
    source = next(p for p in candidates if p.exists()).read_text()
    block = re.search(r"EXIT_CODES[^{]*\{([^}]*)\}", source)
    assert block, "EXIT_CODES table not found in src/core/errors.ts"
    ts = {k: int(v) for k, v in re.findall(r"(\w+):\s*(\d+)", block.group(1))}
    assert {k: EXIT_CODES.get(k) for k in ts} == ts
    # DISK_FULL (#16) may be ahead of this checkout's src/core/errors.ts; nothing else may be.
    assert set(EXIT_CODES) - set(ts) <= {"DISK_FULL"}


def test_fields_json_and_pickling():
    err = RetinaError("CORRUPT", "Shard 2 (raw), record 7 (10_left): bad", shard=2, record=7, id="10_left", hint="rewrite it")
    assert err.exit_code == 5 and err.location == {"shard": 2, "record": 7, "id": "10_left"}
    assert err.to_json() == {"code": "CORRUPT", "message": "Shard 2 (raw), record 7 (10_left): bad", "shard": 2, "record": 7,
                             "id": "10_left", "hint": "rewrite it"}
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is RetinaError and back.to_json() == err.to_json()
    with pytest.raises(ValueError):
        RetinaError("NOPE", "x")


def test_rebuilt_from_text_keeps_its_code():
    # what torch's DataLoader does with a worker's exception: type(exc)(text)
    text = "Caught RetinaError in DataLoader worker process 0.\nOriginal Traceback ...\nretina_data.errors.RetinaError: " + str(
        RetinaError("INCOMPLETE", "shard 3 of 4 is missing"))
    again = RetinaError(text)
    assert (again.code, again.exit_code) == ("INCOMPLETE", 6) and "shard 3 of 4" in again.message
    assert RetinaError("something else").code == "EXTERNAL"


@pytest.mark.parametrize("module,deb", [("xxhash", "python3-xxhash"), ("msgpack", "python3-msgpack")])
def test_a_missing_optional_module_is_named_with_its_package(datasets, monkeypatch, module, deb):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    monkeypatch.setattr(checksum, "_digest", None)
    with pytest.raises(MissingModuleError) as caught:
        ds = open_dataset(datasets[("msgpack", "uint8")], verify=(module == "xxhash"))
        ds[0]
    err = caught.value
    assert isinstance(err, ImportError) and isinstance(err, RetinaError)
    assert (err.code, err.exit_code) == ("EXTERNAL", 9)
    assert f"'{module}'" in err.message and deb in (err.hint or "") and f"pip install {module}" in (err.hint or "")


def test_without_xxhash_verify_false_still_reads(datasets, monkeypatch):
    monkeypatch.setitem(sys.modules, "xxhash", None)
    monkeypatch.setattr(checksum, "_digest", None)
    ds = open_dataset(datasets[("raw", "uint8")], verify=False)
    assert ds[0][0].shape == (32, 32, 3)


def test_a_missing_torch_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "retina_data.torch_dataset", raising=False)
    with pytest.raises(MissingModuleError) as caught:
        retina_data.RetinaDataset  # noqa: B018 - the attribute access imports torch
    assert "'torch'" in caught.value.message and "python3-torch" in (caught.value.hint or "")


def test_a_missing_lmdb_module_is_named_for_data_format_1(monkeypatch, tmp_path):
    from retina_data.formats import lmdb as fmt
    from retina_data.formats.base import ShardFiles

    monkeypatch.setitem(sys.modules, "lmdb", None)
    plan = fmt.LmdbV1Plan.__new__(fmt.LmdbV1Plan)
    plan.dir = str(tmp_path)
    with pytest.raises(MissingModuleError) as caught:
        fmt._v1_env(ShardFiles(plan), str(tmp_path / "data.mdb"))
    assert "'lmdb'" in caught.value.message and "python3-lmdb" in (caught.value.hint or "")
