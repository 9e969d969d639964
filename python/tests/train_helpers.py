"""Shared by the trainer's tests: tiny datasets made by retina's own CLI, and trainer runs."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Dict, List, Optional

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYDIR = os.path.join(REPO, "python")
BIN = os.path.join(REPO, "bin", "run.js")


def node() -> str:
    exe = shutil.which("node")
    if exe is None or not os.path.exists(os.path.join(REPO, "dist")):
        if os.environ.get("CI") == "true":
            raise RuntimeError("node or the built dist/ missing under CI")
        pytest.skip("needs node and a built retina (npm run build) to write the test datasets")
    return exe


def make_dataset(folder: str, fmt: str = "raw", count: int = 60, size: int = 32) -> str:
    """`retina fixtures` + `retina preprocess` + `retina index`: a tiny real dataset."""
    fx = os.path.join(folder, "fx")
    out = os.path.join(folder, fmt)
    if os.path.exists(os.path.join(out, "manifest.json")):
        return out
    n = node()
    subprocess.run([n, BIN, "fixtures", "--out", fx, "--count", str(count), "--seed", "21", "--size", "96x72", "--distribution", "balanced"],
                   check=True, capture_output=True)
    subprocess.run([n, BIN, "preprocess", "--images", os.path.join(fx, "train"), "--labels", os.path.join(fx, "trainLabels.csv"),
                    "--out", out, "--format", fmt, "--size", str(size), "--val-fraction", "0.2", "--threads", "1"], check=True, capture_output=True)
    subprocess.run([n, BIN, "index", out], check=True, capture_output=True)
    return out


def train(args: List[str], env: Optional[Dict[str, str]] = None, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    e["PYTHONPATH"] = PYDIR
    e.update(env or {})
    r = subprocess.run([sys.executable, "-m", "retina_data.train", "--threads", "1", "--log-level", "warn", *args],
                       env=e, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def params(run: str) -> Dict[str, "object"]:
    import torch

    return torch.load(os.path.join(run, "model.pt"))["state_dict"]


def max_relative_difference(a: Dict, b: Dict) -> float:
    """Largest |a - b| / |a| (Frobenius norms) over the floating tensors (num_batches_tracked is a counter)."""
    worst = 0.0
    assert a.keys() == b.keys()
    for k in a:
        if a[k].dtype.is_floating_point:
            worst = max(worst, float((a[k] - b[k]).norm() / a[k].norm().clamp_min(1e-30)))
    return worst


def metrics(run: str) -> List[Dict]:
    with open(os.path.join(run, "metrics.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]
