"""retina-data: read retina datasets from Python and PyTorch.

``open_dataset`` (numpy only), ``RetinaDataset`` (a torch Dataset; imports torch on first use),
``epoch_order`` / ``rank_slice`` / ``resume_offset`` (one global shuffle per epoch, sliced per
rank), and ``RetinaError`` with retina's codes and exit statuses.
"""
from __future__ import annotations

from typing import Any

from .dataset import DatasetReader, open_dataset
from .errors import EXIT_CODES, MissingModuleError, RetinaError
from .order import epoch_order, rank_slice, resume_offset

__version__ = "0.1.0"
__all__ = [
    "DatasetReader", "EXIT_CODES", "MissingModuleError", "RetinaDataset", "RetinaError", "DistributedEpochSampler",
    "epoch_order", "open_dataset", "rank_slice", "resume_offset", "to_network_input",
]

_LAZY = {"RetinaDataset": "torch_dataset", "DistributedEpochSampler": "torch_dataset", "to_network_input": "normalize"}


def __getattr__(name: str) -> Any:
    # torch is imported only when a torch class is asked for (PEP 562).
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'retina_data' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
