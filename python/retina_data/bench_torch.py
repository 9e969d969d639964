"""`retina bench formats --consumer torch`'s measurements, in one process on the same records:

- each retina format read by a PyTorch DataLoader (`RetinaDataset`, float32 CHW in [-1, 1]) into
  float batches;
- the seed's way: one `torch.save`d float32 file per image, `torch.load` per sample;
- the seed's on-the-fly path: PIL decode + torchvision Resize/CenterCrop/ToTensor per sample;
- one epoch of the seed model (`retina_data.train`) from each.

Reads run in this process (DataLoader num_workers=0) on one torch thread: images per wall
second, and images per CPU second of this process (per core); trainings on `--threads`. Prints one JSON document.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import numpy as np


def folder_bytes(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_size
            except FileNotFoundError:
                pass
    return total


def time_reads(dataset: Any, batch: int, seed: int, passes: int, collate: Any = None) -> Dict[str, float]:
    """Median of `passes` timed passes (after one untimed warm-up) over the whole dataset in one
    epoch's order, collated into float batches by a DataLoader in this process. Retina's records
    become floats in the collate (FloatCollate), as in the trainer."""
    import torch

    from .order import epoch_order
    from .train_data import FloatBatches

    to_float = FloatBatches()

    n = len(dataset)
    order = epoch_order(n, seed, 1)
    batches = [order[s:s + batch].tolist() for s in range(0, n, batch)]
    walls, cpus = [], []
    for k in range(passes + 1):
        loader = torch.utils.data.DataLoader(dataset, batch_sampler=batches, num_workers=0, **({"collate_fn": collate} if collate else {}))
        w0, c0 = time.perf_counter(), time.process_time()
        seen = 0
        for xb, *_ in loader:
            xb = to_float(xb, torch.float32)
            assert xb.dtype == torch.float32 and xb.ndim == 4
            seen += xb.shape[0]
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        assert seen == n
        if k > 0:
            walls.append(wall)
            cpus.append(cpu)
    wall, cpu = float(np.median(walls)), float(np.median(cpus))
    return {"imagesPerSecond": n / wall, "imagesPerCpuSecond": n / cpu if cpu > 0 else float("inf"), "seconds": wall, "cpuSeconds": cpu, "images": n}


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m retina_data.bench_torch")
    p.add_argument("--dataset", action="append", default=[], help="FORMAT=PATH (repeatable): retina datasets of the same records")
    p.add_argument("--images", required=True, help="the JPEGs the datasets were made from (the on-the-fly source)")
    p.add_argument("--work", required=True, help="folder for the seed's torch.save files and the runs")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--passes", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", default="inception-v3")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--no-train", dest="train", action="store_false")
    a = p.parse_args(argv)

    import torch

    from . import RetinaDataset, open_dataset
    from .normalize import to_network_input
    from .seed_sources import SeedImages, SeedTensorFiles
    from .train import Log, parse_args, train
    from .train_data import FloatCollate, TrainingData
    from . import dist as rdist

    torch.set_num_threads(a.threads)
    datasets = dict(d.split("=", 1) for d in a.dataset)
    if not datasets:
        print("bench_torch: no --dataset given", file=sys.stderr)
        return 2
    first = next(iter(datasets.values()))
    reference = open_dataset(first)
    h, w, c = (int(v) for v in reference.shape)
    sources: List[Dict[str, Any]] = []

    def log(msg: str) -> None:
        print(f"bench torch: {msg}", file=sys.stderr, flush=True)

    # The seed's tensors: float32 CHW in [-1, 1] of the same records, one torch.save file each.
    files = os.path.join(a.work, "torch-files")
    t0 = time.perf_counter()
    split_sets: Dict[str, Any] = {}
    for split in ("train", "val"):
        r = open_dataset(first, split=split)
        folder = os.path.join(files, split)
        SeedTensorFiles.write(folder, (torch.from_numpy(to_network_input(r.tensor(i), layout="chw")) for i in range(len(r))), r.labels)
        split_sets[split] = (r, SeedTensorFiles(folder, r.labels))
    write_seconds = time.perf_counter() - t0
    all_files = torch.utils.data.ConcatDataset([split_sets["train"][1], split_sets["val"][1]])
    # The on-the-fly source: the JPEGs of the same records, decoded the seed's way.
    jpeg_rows = {s: [(i, int(g)) for i, g in zip(split_sets[s][0].ids, split_sets[s][0].labels)] for s in ("train", "val")}
    jpegs = {s: SeedImages(a.images, jpeg_rows[s], h) for s in ("train", "val")}
    jpeg_bytes = sum(os.stat(os.path.join(a.images, i + ".jpeg")).st_size for s in jpeg_rows for i, _ in jpeg_rows[s])

    def one_training(name: str, data: Any, epochs: int) -> Dict[str, Any]:
        run = os.path.join(a.work, "runs", name.replace(" ", "-").replace("(", "").replace(")", ""))
        args = parse_args(["--data", first, "--model", a.model, "--epochs", str(epochs), "--batch-size", str(a.batch_size),
                           "--seed", str(a.seed), "--out", run, "--force", "--threads", str(a.threads), "--device", "cpu", "--log-level", "warn"])
        result = train(args, rdist.World(0, 1, 0, "single"), Log("warn", 0), data=data)
        assert result is not None
        return result

    if a.train:
        # Untimed: the first training in a process pays for torch's thread pool and allocator
        # warming up; without this the first source measured would look slower than it is.
        sub = min(len(split_sets["train"][1]), 2 * a.batch_size)
        warm = TrainingData(torch.utils.data.Subset(split_sets["train"][1], range(sub)), torch.utils.data.Subset(split_sets["val"][1], range(0)),
                            np.zeros(0, dtype=np.int64), (h, w, c), "warm-up", files, files)
        log("warm-up training (untimed)")
        one_training("warm-up", warm, 1)

    candidates: List[tuple] = [(fmt, "retina", path) for fmt, path in datasets.items()]
    # The package's per-sample float path (RetinaDataset, CHW float32 per record), for comparison.
    candidates.append((f"{next(iter(datasets))} (RetinaDataset float32)", "retina-per-sample", first))
    candidates += [("torch.save files", "seed", files), ("images (PIL)", "seed", a.images)]
    for name, kind, path in candidates:
        collate = None
        if kind == "retina":
            whole: Any = open_dataset(path)
            collate = FloatCollate()
            val = open_dataset(path, split="val")
            data = TrainingData(open_dataset(path, split="train"), val, np.asarray(val.labels), (h, w, c), name, path, path)
            disk = folder_bytes(path)
        elif kind == "retina-per-sample":
            whole = RetinaDataset(path)
            data = TrainingData(RetinaDataset(path, split="train"), RetinaDataset(path, split="val"),
                                np.asarray(open_dataset(path, split="val").labels), (h, w, c), name, path, path)
            disk = folder_bytes(path)
        elif name.startswith("torch"):
            whole = all_files
            data = TrainingData(split_sets["train"][1], split_sets["val"][1], split_sets["val"][0].labels, (h, w, c), name, path, path)
            disk = folder_bytes(path)
        else:
            whole = torch.utils.data.ConcatDataset([jpegs["train"], jpegs["val"]])
            data = TrainingData(jpegs["train"], jpegs["val"], jpegs["val"].labels, (h, w, c), name, path, path)
            disk = jpeg_bytes
        log(f"{name}: reading")
        # One torch thread for the reads: "per core", and no OpenMP threads spinning at barriers
        # of element-wise ops (on a contended machine they burned 10x the CPU: measured).
        torch.set_num_threads(1)
        reads = time_reads(whole, a.batch_size, a.seed, a.passes, collate)
        torch.set_num_threads(a.threads)
        entry: Dict[str, Any] = {"source": name, "kind": kind, "bytesOnDisk": disk, "records": len(whole), **{f"read{k[0].upper()}{k[1:]}": v for k, v in reads.items()}}
        if a.train:
            log(f"{name}: {a.epochs} epoch(s) of {a.model}")
            e = one_training(name, data, a.epochs)["epochs"]
            entry["train"] = {
                "epochSeconds": float(np.mean([r["seconds"] for r in e])),
                "dataWaitSeconds": float(np.mean([r["dataWaitSeconds"] for r in e])),
                "computeSeconds": float(np.mean([r["computeSeconds"] for r in e])),
                "imagesPerSecond": float(np.mean([r["imagesPerSecond"] for r in e])),
                "trainLoss": e[-1]["trainLoss"],
            }
        sources.append(entry)
    out = {
        "kind": "retina-bench-torch", "version": 1, "torch": torch.__version__, "python": platform.python_version(), "threads": a.threads,
        "shape": [h, w, c], "batchSize": a.batch_size, "passes": a.passes, "model": a.model if a.train else None, "epochs": a.epochs if a.train else 0,
        "torchSaveWriteSeconds": write_seconds, "sources": sources,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
