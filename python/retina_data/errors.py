"""The error vocabulary of retina, for Python.

Every failure retina_data reports on purpose is a :class:`RetinaError` with the same ``code``
strings and process exit statuses as the TypeScript toolkit (``src/core/errors.ts``), structured
location fields (file, line, shard, record, id) and a one-line ``hint``. A script can branch on
``err.code`` or ``sys.exit(err.exit_code)`` and get what ``retina`` itself would exit with.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Optional

#: Exit status of each code; identical to ``EXIT_CODES`` in src/core/errors.ts.
EXIT_CODES: Dict[str, int] = {
    "BAD_ARGUMENT": 2,
    "BAD_INPUT": 3,
    "NOT_FOUND": 4,
    "CORRUPT": 5,
    "INCOMPLETE": 6,
    "EXISTS": 7,
    "UNSUPPORTED": 8,
    "EXTERNAL": 9,
    "DISK_FULL": 10,
    "ABORTED": 130,
}

_LOCATION_FIELDS = ("file", "line", "shard", "record", "id")
# str(err) starts with "[CODE] ": lets an error re-raised from its text alone (PyTorch's DataLoader
# re-raises a worker's exception as `type(msg)`) keep its code and therefore its exit status.
_CODE_IN_TEXT = re.compile(r"\[(" + "|".join(EXIT_CODES) + r")\] ")


class RetinaError(Exception):
    """A failure with a retina error code, a location and a hint.

    ``RetinaError("CORRUPT", "Shard 0 (raw), record 3 (10_left): ...", shard=0, record=3,
    id="10_left", hint="Run `retina verify` ...")``. ``str(err)`` is ``"[CODE] message"``.
    """

    code: str
    message: str
    hint: Optional[str]
    file: Optional[str]
    line: Optional[int]
    shard: Optional[int]
    record: Optional[int]
    id: Optional[str]

    def __init__(
        self,
        code: str,
        message: Optional[str] = None,
        *,
        file: Optional[str] = None,
        line: Optional[int] = None,
        shard: Optional[int] = None,
        record: Optional[int] = None,
        id: Optional[str] = None,  # noqa: A002 - the field is called id in retina's JSON
        hint: Optional[str] = None,
    ) -> None:
        if message is None:
            # Built from text alone (a re-raise across processes): recover the code it names.
            text = code
            found = _CODE_IN_TEXT.findall(text)
            code, message = (found[-1] if found else "EXTERNAL"), text
        if code not in EXIT_CODES:
            raise ValueError(f"unknown RetinaError code {code!r}; known: {', '.join(EXIT_CODES)}")
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.hint = hint
        self.file = file
        self.line = line
        self.shard = shard
        self.record = record
        self.id = id

    @property
    def exit_code(self) -> int:
        """Process exit status for this error (2 for bad arguments, like most CLIs)."""
        return EXIT_CODES[self.code]

    @property
    def location(self) -> Dict[str, Any]:
        """The location fields that are set."""
        return {k: getattr(self, k) for k in _LOCATION_FIELDS if getattr(self, k) is not None}

    def to_json(self) -> Dict[str, Any]:
        """The shape of retina's ``--json`` error output."""
        out: Dict[str, Any] = {"code": self.code, "message": self.message, **self.location}
        if self.hint:
            out["hint"] = self.hint
        return out

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" + (f"\n  hint: {self.hint}" if self.hint else "")

    def __reduce__(self) -> Any:
        # Pickles whole (code, message, location, hint) across DataLoader worker processes.
        return (_rebuild, (type(self), self.code, self.message, self.location, self.hint))


def _rebuild(cls: type, code: str, message: str, location: Dict[str, Any], hint: Optional[str]) -> "RetinaError":
    return cls(code, message, hint=hint, **location)


class MissingModuleError(RetinaError, ImportError):
    """An optional module (lmdb, msgpack, xxhash, torch) is not installed. Code EXTERNAL (exit 9)."""


def corrupt_record(shard: int, fmt: str, record: int, id: str, reason: str) -> RetinaError:  # noqa: A002
    """The error for a record whose bytes are wrong or cannot be read (as formats/shard-files.ts)."""
    return RetinaError(
        "CORRUPT",
        f"Shard {shard} ({fmt}), record {record} ({id}): {reason}",
        shard=shard,
        record=record,
        id=id,
        hint="Run `retina verify` on the dataset, then rewrite the damaged shard (rerun its preprocess task with --force).",
    )
