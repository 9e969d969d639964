"""python -m retina_data verify|inspect: the same JSON and exit codes as retina verify|inspect."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PYTHON_DIR, ROOT, node


def py(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retina_data", *args], capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(PYTHON_DIR)}, cwd=ROOT)


def retina(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([node(), "bin/run.js", *args, "--log-level", "silent"], capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.mark.parametrize("fmt", ["raw", "lmdb"])
def test_verify_reports_what_retina_verify_reports(copy_dataset, fmt):
    from retina_data import open_dataset

    path = copy_dataset(fmt)
    ok = py("verify", str(path), "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout) == json.loads(retina("verify", str(path), "--json").stdout)
    plan = open_dataset(path)._plans[1]
    name, offset, length = plan.locate(2)
    with open(Path(plan.dir) / name, "r+b") as fh:
        fh.seek(offset + length - 1)
        byte = fh.read(1)
        fh.seek(offset + length - 1)
        fh.write(b"\x00" if byte != b"\x00" else b"\x01")
    mine, theirs = py("verify", str(path), "--json"), retina("verify", str(path), "--json")
    assert mine.returncode == theirs.returncode == 5
    assert json.loads(mine.stdout) == json.loads(theirs.stdout)
    assert [e["record"] for e in json.loads(mine.stdout)["errors"]] == [None, 2]


def test_inspect_matches_retina_inspect(datasets):
    path = str(datasets[("msgpack", "uint8")])
    mine = py("inspect", path, "--json")
    assert mine.returncode == 0
    assert json.loads(mine.stdout) == json.loads(retina("inspect", path, "--json").stdout)


def test_errors_have_retinas_shape_and_exit_code(tmp_path):
    missing = str(tmp_path / "no-such-dataset")
    mine, theirs = py("inspect", missing, "--json"), retina("inspect", missing, "--json")
    assert mine.returncode == theirs.returncode == 4
    assert json.loads(mine.stdout) == json.loads(theirs.stdout)
    text = py("inspect", missing)
    assert text.returncode == 4 and text.stderr.startswith("Error [NOT_FOUND]: No dataset at ") and "\nHint: " in text.stderr
    assert py("frobnicate").returncode == 2


def test_pip_installs_the_package_offline(tmp_path, datasets):
    """`pip install ./python` (no build isolation: no index needed), then import and run it."""
    import importlib.util

    missing = [m for m in ("pip", "setuptools", "wheel") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join('python3-' + m for m in missing)} (installed by .ci/run)")
    src = tmp_path / "src"
    shutil.copytree(PYTHON_DIR, src, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index", "--quiet",
                        "--target", str(tmp_path / "site"), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "retina_data", "inspect", str(datasets[("raw", "uint8")]), "--json"], capture_output=True,
                       text=True, timeout=120, env={"PYTHONPATH": str(tmp_path / "site")}, cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["format"] == "raw"
    assert (tmp_path / "site" / "retina_data" / "formats" / "lmdb.py").exists()
