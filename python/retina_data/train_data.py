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


_TABLES: dict = {}


def to_input(x: Any, dtype: Any) -> Any:
    """A batch as the model's input: float tensors pass (already in [-1, 1]); uint8 NCHW batches
    (shipped to a GPU at a quarter of the bytes) are mapped there through retina's own 256-entry
    table (retina_data.normalize.U8_TABLE), so both paths give the same float32 bits."""
    import torch

    if x.dtype == torch.uint8:
        table = _TABLES.get(x.device)
        if table is None:
            from .normalize import U8_TABLE

            table = _TABLES[x.device] = torch.from_numpy(U8_TABLE).to(x.device)
        return table[x.long()].to(dtype)
    return x.to(dtype)


def open_training_data(a: argparse.Namespace, uint8: bool) -> TrainingData:
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
    dtype = "uint8" if uint8 and str(info.dtype) == "uint8" else "float32"
    train = RetinaDataset(data, split="train", dtype=dtype, verify=a.verify)
    val = RetinaDataset(data, split="val", dtype=dtype, verify=a.verify)
    fmt = info.format
    if a.source and fmt and a.source != fmt:
        raise RetinaError("BAD_ARGUMENT", f"--source {a.source}, but {data} holds a {fmt} dataset", file=data,
                          hint=f"Pass --source {fmt}, or point --data at the {a.source} dataset.")
    shape = tuple(int(v) for v in info.shape)
    if len(shape) != 3:
        raise RetinaError("BAD_INPUT", f"{data} holds {shape} records; the trainer takes HxWxC images", file=data, hint="Train on a dataset of images.")
    identity = f"{data}:{len(train)}:{len(val)}:{'x'.join(map(str, shape))}"
    return TrainingData(train, val, np.asarray(info.labels, dtype=np.int64), shape, a.source or fmt or "dataset", data, identity)
