"""Tiny datasets written by the real retina CLI, and what retina's own reader reads from them.

Session-scoped: one synthetic image set (``retina fixtures``), preprocessed once into every
built-in format (uint8 in two shards + ``retina index``; float16 in every format and float32 in two),
then dumped through retina's TypeScript reader (tests/dump_records.mjs). Tests that damage a
dataset work on a copy (``copy_dataset``).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
ROOT = PYTHON_DIR.parent
BIN = ROOT / "bin" / "run.js"
sys.path.insert(0, str(PYTHON_DIR))

FORMATS = ("raw", "lmdb", "msgpack", "tfjs")
#: (format, dtype, shards) of every dataset the session writes.
VARIANTS: List[Tuple[str, str, int]] = [(f, "uint8", 2) for f in FORMATS] + [(f, "float16", 1) for f in FORMATS] + [
    ("raw", "float32", 1), ("msgpack", "float32", 1)]
SIZE = 32
COUNT = 16


def node() -> str:
    exe = shutil.which("node")
    if exe is None:
        pytest.fail("node is not on PATH: the cross-checks run retina's own CLI and reader")
    return exe


def run_cli(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([node(), str(BIN), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise AssertionError(f"retina {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def _ensure_built() -> None:
    if not (ROOT / "dist" / "commands").is_dir():
        subprocess.run([node(), "node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], cwd=ROOT, check=True)


class Dumped:
    """What retina's TypeScript reader read from one dataset."""

    def __init__(self, prefix: Path) -> None:
        meta = json.loads(prefix.with_suffix(".json").read_text())
        self.dtype: str = meta["dtype"]
        self.shape = tuple(meta["shape"])
        self.records: List[Dict] = meta["records"]
        raw = np.fromfile(prefix.with_suffix(".bin"), dtype=np.uint8)
        self.tensors = raw.reshape(len(self.records), -1)
        self.normalized = np.fromfile(prefix.with_suffix(".float32"), dtype=np.float32)


@pytest.fixture(scope="session")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Dict[Tuple[str, str], Path]:
    """(format, dtype) -> dataset folder written by `retina preprocess`."""
    _ensure_built()
    base = tmp_path_factory.mktemp("retina-datasets")
    src = base / "kaggle"
    run_cli("fixtures", "--out", str(src), "--count", str(COUNT), "--seed", "7", "--size", "96x72", "--log-level", "warn")

    def write(variant: Tuple[str, str, int]) -> Tuple[Tuple[str, str], Path]:
        fmt, dtype, shards = variant
        out = base / f"{fmt}-{dtype}"
        for k in range(shards):
            run_cli("preprocess", "--images", str(src / "train"), "--labels", str(src / "trainLabels.csv"), "--out", str(out),
                    "--format", fmt, "--size", str(SIZE), "--dtype", dtype, "--val-fraction", "0.25", "--shard", f"{k}/{shards}",
                    "--threads", "1", "--log-level", "warn")
        if shards > 1:
            run_cli("index", str(out), "--log-level", "warn")
        return (fmt, dtype), out

    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores
        return dict(pool.map(write, VARIANTS))


@pytest.fixture(scope="session")
def dumped(datasets: Dict[Tuple[str, str], Path], tmp_path_factory: pytest.TempPathFactory) -> Dict[Tuple[str, str], Dumped]:
    """(format, dtype) -> the records as retina's own reader returns them."""
    out = tmp_path_factory.mktemp("retina-dumps")
    args: List[str] = []
    for (fmt, dtype), path in datasets.items():
        args += [str(path), str(out / f"{fmt}-{dtype}")]
    r = subprocess.run([node(), str(Path(__file__).with_name("dump_records.mjs")), "--normalize", *args], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return {key: Dumped(out / f"{key[0]}-{key[1]}") for key in datasets}


@pytest.fixture
def copy_dataset(datasets: Dict[Tuple[str, str], Path], tmp_path: Path):
    """A private copy of a session dataset, to damage."""

    def copy(fmt: str, dtype: str = "uint8") -> Path:
        dst = tmp_path / f"{fmt}-{dtype}"
        shutil.copytree(datasets[(fmt, dtype)], dst)
        return dst

    return copy


def pytest_report_header(config: pytest.Config) -> str:
    return f"retina_data from {PYTHON_DIR}; retina CLI {BIN}"


def _drop_to_nobody() -> None:
    os.setgid(65534)
    os.setuid(65534)


def reader_identity():
    """How to run a process that cannot write what root can: (preexec_fn or None, reason to skip
    or None). As root (CI), the reader runs as 'nobody'; elsewhere as the current user."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, None
    try:
        subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_drop_to_nobody, check=True, timeout=60)
    except (subprocess.SubprocessError, OSError) as err:
        return None, f"running as root without the right to become 'nobody' ({err}): no folder is read-only for root"
    return _drop_to_nobody, None


def restamp(body: Dict) -> Dict:
    """``body`` with its self-describing checksum recomputed (shards of a manifest too), for tests
    that edit a shard.json or manifest.json on purpose to reach a later check. Files written before
    retina had these checksums have none and get none."""
    from retina_data.checksum import xxh64_int
    from retina_data.manifest import canonical_json

    if isinstance(body.get("shards"), list):
        body = {**body, "shards": [restamp(s) for s in body["shards"]]}
    if "checksum" not in body:
        return body
    rest = {k: v for k, v in body.items() if k != "checksum"}
    return {**rest, "checksum": f"xxh64:{xxh64_int(canonical_json(rest).encode('utf-8')):016x}"}


def edit_json(path: Path, change) -> Dict:
    """Apply ``change(body)`` to a JSON file and rewrite it with its checksum restamped."""
    body = json.loads(Path(path).read_text())
    change(body)
    body = restamp(body)
    Path(path).write_text(json.dumps(body))
    return body
