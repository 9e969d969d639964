"""The built-in formats by name, each module imported on first use (formats/registry.ts)."""
from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List

from ..errors import RetinaError
from .base import ShardPlan

_MODULES: Dict[str, str] = {"raw": "raw", "msgpack": "msgpack", "lmdb": "lmdb", "tfjs": "tfjs"}


def format_names() -> List[str]:
    return list(_MODULES)


def preparer(name: str, where: str) -> Callable[[str, Dict[str, Any], bool], ShardPlan]:
    """The ``prepare(dir, shard_manifest, verify)`` of format ``name``; UNSUPPORTED if unknown."""
    module = _MODULES.get(name)
    if module is None:
        raise RetinaError(
            "UNSUPPORTED",
            f'{where} names format "{name}", which retina_data does not read; known formats: {", ".join(_MODULES)}',
            file=where,
            hint="The dataset was written with a format plugin or a newer retina; convert it to a built-in format or upgrade retina-data.",
        )
    return importlib.import_module(f"{__name__}.{module}").prepare  # type: ignore[no-any-return]
