"""PyTorch side: ``RetinaDataset`` and ``DistributedEpochSampler``. Imports torch (only here)."""
from __future__ import annotations

import os
from typing import Any, Iterator, List, Optional, Tuple, Union

import numpy as np

from ._optional import require
from .dataset import DatasetReader, open_dataset
from .errors import RetinaError
from .normalize import chw, to_network_input
from .order import epoch_order, rank_slice, samples_per_rank

torch = require("torch", "retina_data.RetinaDataset")


class RetinaDataset(torch.utils.data.Dataset):  # type: ignore[misc, name-defined]
    """A retina dataset as a ``torch.utils.data.Dataset`` of ``(image, grade)``.

    ``dtype="float32"`` (default): CxHxW float32 in [-1, 1], retina's own normalisation (uint8
    ``v / 127.5 - 1``; float datasets ``2 v - 1``). ``dtype="uint8"``: CxHxW uint8 as stored (uint8
    datasets only), to normalise on the GPU. ``grade`` is an int (collated to int64).

    Safe with DataLoader worker processes, fork or spawn: the object holds manifests and record
    tables only; each worker maps the shard files itself on its first read.
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], split: Optional[str] = None, dtype: str = "float32", verify: bool = True) -> None:
        if dtype not in ("float32", "uint8"):
            raise RetinaError("BAD_ARGUMENT", f"Expected dtype 'float32' or 'uint8' but received {dtype!r}")
        self.reader: DatasetReader = open_dataset(path, split=split, verify=verify)
        if dtype == "uint8" and self.reader.spec.dtype != "uint8":
            raise RetinaError("BAD_ARGUMENT", f"{self.reader.path} stores {self.reader.spec.dtype} tensors; dtype='uint8' needs a uint8 dataset (use dtype='float32')",
                              file=self.reader.path)
        self.dtype = dtype

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, i: Any) -> Tuple[Any, Any]:
        """``ds[i]`` -> (CxHxW tensor, int grade); ``ds[[i, j, ...]]`` -> a whole batch
        (NxCxHxW tensor, int64 grades), read straight into one array (see ``loader``)."""
        if isinstance(i, (list, tuple, np.ndarray)) or (torch.is_tensor(i) and i.ndim == 1):
            return self.batch(i)
        x = self.reader.tensor(i)
        grade = int(self.reader.labels[i])
        if self.dtype == "uint8":
            return torch.from_numpy(np.ascontiguousarray(chw(x))), grade
        return torch.from_numpy(to_network_input(x, layout="chw")), grade

    def batch(self, indices: Any) -> Tuple[Any, Any]:
        """Records ``indices`` as (NxCxHxW float32 in [-1, 1] or uint8, int64 grades)."""
        idx = [int(i) for i in indices]
        x = self.reader.read_batch(idx)
        y = torch.from_numpy(self.reader.labels[idx].astype(np.int64))
        if self.dtype == "uint8":
            return torch.from_numpy(np.ascontiguousarray(chw(x, batched=True))), y
        return torch.from_numpy(to_network_input(x, layout="chw", batched=True)), y

    def loader(self, batch_size: int = 32, sampler: Optional[Any] = None, drop_last: bool = False, num_workers: int = 0, **kwargs: Any) -> Any:
        """A DataLoader of whole batches: each worker reads a batch's records straight into one
        array and converts it in one go (no per-sample tensors, no collate copy). ``sampler``
        (default: in order) yields record indices, e.g. a DistributedEpochSampler; other keyword
        arguments go to torch's DataLoader (pin_memory, persistent_workers, prefetch_factor...)."""
        base = sampler if sampler is not None else torch.utils.data.SequentialSampler(self)
        batches = torch.utils.data.BatchSampler(base, batch_size, drop_last)
        return torch.utils.data.DataLoader(self, sampler=batches, batch_size=None, num_workers=num_workers, **kwargs)

    @property
    def labels(self) -> np.ndarray:
        return self.reader.labels

    @property
    def ids(self) -> List[str]:
        return self.reader.ids

    @property
    def split(self) -> Optional[str]:
        return self.reader.split


class DistributedEpochSampler(torch.utils.data.Sampler):  # type: ignore[misc, name-defined]
    """Indices of this rank's share of ``epoch_order(n, seed, epoch)`` (see retina_data.order).

    ``set_epoch(epoch, offset=0)`` before each epoch; ``offset`` (from ``resume_offset``) resumes
    an epoch in the middle, with any world size. Every rank gets ``len(self)`` samples; the last
    ``(n - offset) % world`` of the epoch's order are dropped. ``shuffle=False``: 0..n-1 in order.
    """

    def __init__(self, n: Union[int, Any], rank: int = 0, world: int = 1, seed: int = 0, shuffle: bool = True) -> None:
        self.n = n if isinstance(n, int) else len(n)
        self.rank, self.world, self.seed, self.shuffle = rank, world, seed, shuffle
        self.epoch, self.offset = 0, 0
        rank_slice(np.zeros(0, dtype=np.int64), rank, world)  # validates rank and world

    def set_epoch(self, epoch: int, offset: int = 0) -> None:
        self.epoch, self.offset = epoch, offset

    def indices(self) -> np.ndarray:
        order = epoch_order(self.n, self.seed, self.epoch) if self.shuffle else np.arange(self.n, dtype=np.int64)
        return rank_slice(order, self.rank, self.world, self.offset)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return samples_per_rank(self.n, self.world, self.offset)
