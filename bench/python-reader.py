#!/usr/bin/python3
"""Per-core cost of reading retina records into float batches from PyTorch (issue #12).

Writes COUNT synthetic fundus images with the retina CLI, preprocesses them at SIZE into raw and
lmdb (uint8), saves the seed's one torch.save float32 file per image, then measures, side by side
in one run, each path's CPU time (process_time, so other jobs on the machine count less) per
record of a full pass in batches of BATCH, single-threaded (torch.set_num_threads(1),
num_workers=0), page cache warm, best of REPEATS:
  loader   RetinaDataset(...).loader(BATCH): records copied into one batch, converted at once
  loader channels_last  the same, NxCxHxW float32 in channels-last memory (no transpose)
  loader uint8  the same with dtype="uint8" (CxHxW uint8 batches, to convert on the GPU)
  sample   RetinaDataset + torch's DataLoader(batch_size=BATCH): per-sample tensors + collate
  seed     DataLoader over torch.load(one float32 file per image) + collate (the seed's way)
Usage: /usr/bin/python3 bench/python-reader.py [--count 64] [--size 299] [--batch 32] [--repeats 5] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

import torch  # noqa: E402

import retina_data as rd  # noqa: E402


def cli(*args: str) -> None:
    subprocess.run([shutil.which("node") or "node", str(ROOT / "bin" / "run.js"), *args, "--log-level", "warn"], check=True, cwd=ROOT)


def cpu_per_record(fn, records: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best / records


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--size", type=int, default=299)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="retina-pyreader-"))
    try:
        cli("fixtures", "--out", str(work / "kaggle"), "--count", str(a.count), "--seed", "5", "--size", "640x480")
        for fmt in ("raw", "lmdb"):
            cli("preprocess", "--images", str(work / "kaggle" / "train"), "--labels", str(work / "kaggle" / "trainLabels.csv"),
                "--out", str(work / fmt), "--format", fmt, "--size", str(a.size), "--threads", "1")
        seed_dir = work / "seed"
        seed_dir.mkdir()
        ref = rd.RetinaDataset(work / "raw")
        for i in range(len(ref)):
            torch.save(ref[i][0], seed_dir / f"{i}.pt")
        n = len(ref)

        class Seed(torch.utils.data.Dataset):
            def __len__(self) -> int:
                return n

            def __getitem__(self, i: int):
                return torch.load(seed_dir / f"{i}.pt"), int(ref.labels[i])

        def drain(loader) -> None:
            for _x, _y in loader:
                pass

        rows = []
        for fmt in ("raw", "lmdb"):
            ds = rd.RetinaDataset(work / fmt)
            disk = sum(f.stat().st_size for f in (work / fmt).rglob("*") if f.is_file())
            rows.append({"path": f"{fmt} loader", "msPerRecord": cpu_per_record(lambda: drain(ds.loader(a.batch)), n, a.repeats) * 1e3,
                         "bytesPerRecord": disk / n})
            cl = rd.RetinaDataset(work / fmt, channels_last=True)
            rows.append({"path": f"{fmt} loader channels_last", "msPerRecord": cpu_per_record(lambda: drain(cl.loader(a.batch)), n, a.repeats) * 1e3,
                         "bytesPerRecord": disk / n})
            u8 = rd.RetinaDataset(work / fmt, dtype="uint8")
            rows.append({"path": f"{fmt} loader uint8", "msPerRecord": cpu_per_record(lambda: drain(u8.loader(a.batch)), n, a.repeats) * 1e3,
                         "bytesPerRecord": disk / n})
            rows.append({"path": f"{fmt} per-sample DataLoader", "msPerRecord": cpu_per_record(
                lambda: drain(torch.utils.data.DataLoader(ds, batch_size=a.batch)), n, a.repeats) * 1e3, "bytesPerRecord": disk / n})
        seed_bytes = sum(f.stat().st_size for f in seed_dir.iterdir()) / n
        rows.append({"path": "seed torch.load per file", "msPerRecord": cpu_per_record(
            lambda: drain(torch.utils.data.DataLoader(Seed(), batch_size=a.batch)), n, a.repeats) * 1e3, "bytesPerRecord": seed_bytes})
        seed_ms = rows[-1]["msPerRecord"]
        for r in rows:
            r["recordsPerCoreSecond"] = 1e3 / r["msPerRecord"]
            r["vsSeed"] = seed_ms / r["msPerRecord"]
        if a.json:
            print(json.dumps({"count": n, "size": a.size, "batch": a.batch, "rows": rows}, indent=2))
        else:
            print(f"{n} records {a.size}x{a.size}x3, batch {a.batch}, CPU time per record (best of {a.repeats}), load {os.getloadavg()[0]:.1f}")
            print(f"{'path':30s} {'ms/record':>10s} {'records/core-s':>15s} {'x seed':>7s} {'bytes/record':>13s}")
            for r in rows:
                print(f"{r['path']:30s} {r['msPerRecord']:10.3f} {r['recordsPerCoreSecond']:15.0f} {r['vsSeed']:7.2f} {r['bytesPerRecord']:13.0f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
