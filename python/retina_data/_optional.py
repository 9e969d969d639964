"""Optional modules, imported only where a feature needs them.

numpy is the one hard dependency. The others fail with a :class:`MissingModuleError` naming the
module, what needed it and the Debian and pip packages that provide it.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Dict, Tuple

from .errors import MissingModuleError

#: module -> (Debian package, pip package)
PACKAGES: Dict[str, Tuple[str, str]] = {
    "lmdb": ("python3-lmdb", "lmdb"),
    "msgpack": ("python3-msgpack", "msgpack"),
    "xxhash": ("python3-xxhash", "xxhash"),
    "torch": ("python3-torch", "torch"),
    "torchvision": ("python3-torchvision", "torchvision"),
}


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise MissingModuleError saying who needed it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        deb, pip = PACKAGES.get(module, (f"python3-{module}", module))
        raise MissingModuleError(
            "EXTERNAL",
            f"{purpose} needs the Python module '{module}', which is not installed ({err})",
            hint=f"Install it: `apt-get install {deb}` (Debian/Ubuntu) or `pip install {pip}`.",
        ) from err
