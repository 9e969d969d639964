"""What the trainer reads: a retina dataset through `RetinaDataset` (every format, checksums
verified), or the seed's JPEG path for comparison. One object per run with the train and
validation splits, the validation grades, the image shape, and an identity a checkpoint records
so that a resume on other data is refused."""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any, Tuple

import numpy as np

from .errors import RetinaError
from .normalize import u8_to_float_


@dataclass
class TrainingData:
    train: Any
    val: Any
    val_labels: np.ndarray
    #: H, W, C
    shape: Tuple[int, int, int]
    source: str
    where: str
    identity: str


def collate_hwc(items: list) -> tuple:
    """DataLoader collate for DatasetReader items ((HxWxC uint8, grade, id)): one NxHxWxC uint8
    batch (a plain memcpy per record: no per-record transpose, no float conversion in workers,
    a quarter of the bytes through worker pipes or to a GPU) and the grades."""
    import torch

    xs = np.stack([it[0] for it in items])
    return torch.from_numpy(xs), torch.as_tensor(np.fromiter((it[1] for it in items), dtype=np.int64, count=len(items)))


class FloatCollate:
    """DataLoader collate for DatasetReader items ((HxWxC uint8, grade, id)) in the training
    process (num_workers=0): each record goes straight into its slot of one float32 NxHxWxC buffer
    reused batch after batch, while its bytes are still in cache, and the batch is returned as a
    channels-last (N, C, H, W) view, with no transpose copy.

    Measured on the 2-core EPYC, 299 px, batch 32, one core, contended: 0.30 ms per record this
    way, 0.61 ms stacking uint8 first and converting the whole 34 MB batch after (it falls out of
    cache, and a fresh float batch per step costs as much again in page faults), 1.1 ms for the
    seed's torch.load of a float32 file per record.

    The batch is overwritten by the next call: use it before asking for the next batch (the
    training loop does). Not for worker processes, whose batches travel while the next is built:
    there use collate_hwc and FloatBatches."""

    def __init__(self) -> None:
        self.buf: Any = None

    def __call__(self, items: list) -> tuple:
        import torch

        first = items[0][0]
        shape = (len(items),) + tuple(first.shape)
        if self.buf is None or tuple(self.buf.shape) != shape:
            self.buf = torch.empty(shape, dtype=torch.float32)
        for i, it in enumerate(items):
            slot = self.buf[i]
            slot.copy_(torch.from_numpy(it[0]))
            u8_to_float_(slot)
        grades = torch.as_tensor(np.fromiter((it[1] for it in items), dtype=np.int64, count=len(items)))
        return self.buf.permute(0, 3, 1, 2), grades


class FloatBatches:
    """uint8 NxHxWxC batches (collate_hwc: from worker processes, or shipped to a GPU at a
    quarter of the bytes) -> float NCHW model input by the same map, into one buffer reused batch
    after batch (on the batch's device). Float batches pass through, cast to `dtype`."""

    def __init__(self) -> None:
        self.buf: Any = None

    def __call__(self, x: Any, dtype: Any) -> Any:
        import torch

        if x.dtype != torch.uint8:
            return x.to(dtype)
        if self.buf is None or self.buf.shape != x.shape or self.buf.device != x.device:
            self.buf = torch.empty(x.shape, dtype=torch.float32, device=x.device)
        self.buf.copy_(x)
        out = u8_to_float_(self.buf).permute(0, 3, 1, 2)
        return out if dtype == torch.float32 else out.to(dtype)


def open_training_data(a: argparse.Namespace) -> TrainingData:
    if a.source == "images":
        from .seed_sources import SeedImages, read_labels, split_patients

        rows = read_labels(a.labels, a.images)
        tr, va = split_patients(rows, a.val_fraction, a.seed)
        train, val = SeedImages(a.images, tr, a.image_size), SeedImages(a.images, va, a.image_size)
        where = os.path.abspath(a.images)
        return TrainingData(train, val, val.labels, (a.image_size, a.image_size, 3), "images", where,
                            f"images:{where}:{os.path.abspath(a.labels)}:{a.image_size}:{a.val_fraction}")
    from . import RetinaDataset, open_dataset

    data = os.path.abspath(a.data)
    info = open_dataset(data, split="val", verify=a.verify)
    if str(info.dtype) == "uint8":
        # The reader itself: records as stored, batched by collate_hwc, made float by FloatBatches.
        train: Any = open_dataset(data, split="train", verify=a.verify)
        val: Any = info
    else:
        train = RetinaDataset(data, split="train", dtype="float32", verify=a.verify)
        val = RetinaDataset(data, split="val", dtype="float32", verify=a.verify)
    fmt = info.format
    if a.source and fmt and a.source != fmt:
        raise RetinaError("BAD_ARGUMENT", f"--source {a.source}, but {data} holds a {fmt} dataset", file=data,
                          hint=f"Pass --source {fmt}, or point --data at the {a.source} dataset.")
    shape = tuple(int(v) for v in info.shape)
    if len(shape) != 3:
        raise RetinaError("BAD_INPUT", f"{data} holds {shape} records; the trainer takes HxWxC images", file=data, hint="Train on a dataset of images.")
    identity = f"{data}:{len(train)}:{len(val)}:{'x'.join(map(str, shape))}"
    return TrainingData(train, val, np.asarray(info.labels, dtype=np.int64), shape, a.source or fmt or "dataset", data, identity)
