"""``python -m retina_data verify|inspect DATASET [--json]``: the reader's own checks, with retina's
output shapes and exit codes, and ``run_main`` for any Python entry point that wants them.

Errors print as retina prints them: ``Error [CODE]: message`` and ``Hint: ...`` on stderr, or
``{"error": {code, message, file?, shard?, record?, id?, hint?}}`` on stdout with ``--json``; the
exit status is the code's (``RetinaError.exit_code``).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

from .dataset import open_dataset
from .errors import RetinaError
from .formats.base import verify_files


def run_main(main: Callable[[argparse.Namespace], Any], parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv``, run ``main(args)``, print its result (JSON with ``--json``), map errors to
    retina's messages and exit codes. Returns the exit status."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: bad arguments
        return 2 if exit_.code else 0
    as_json = bool(getattr(args, "json", False))
    try:
        result = main(args)
    except RetinaError as err:
        if as_json:
            print(json.dumps({"error": err.to_json()}, indent=2))
        else:
            print(f"Error [{err.code}]: {err.message}" + (f"\nHint: {err.hint}" if err.hint else ""), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    status = 0
    if isinstance(result, tuple):
        result, status = result
    if result is not None:
        print(json.dumps(result, indent=2) if as_json else _text(result))
    return status


def _text(result: Any) -> str:
    if isinstance(result, dict):
        return "\n".join(f"{k}: {json.dumps(v) if isinstance(v, (dict, list)) else v}" for k, v in result.items())
    return str(result)


def inspect(args: argparse.Namespace) -> Dict[str, Any]:
    """The dataset's manifest summary (as ``retina inspect``), reading no tensor."""
    ds = open_dataset(args.dataset, verify=not args.no_verify)
    labels = {str(g): 0 for g in range(5)}
    for g in ds.labels.tolist():
        labels[str(g)] = labels.get(str(g), 0) + 1
    splits = {"train": 0, "val": 0}
    for plan in ds._plans:
        splits["val"] += plan.table.splits.count("v")
        splits["train"] += plan.table.count - plan.table.splits.count("v")
    return {"dataset": args.dataset, "format": ds.format, "shape": list(ds.shape), "dtype": ds.spec.dtype, "records": len(ds),
            "shards": ds.shard_count, "splits": splits, "labels": labels, "params": ds.manifest.get("params", {})}


def verify(args: argparse.Namespace) -> Any:
    """Every file's size and xxh64, then every record through its format's reader (as ``retina verify``)."""
    ds = open_dataset(args.dataset)
    errors: List[Dict[str, Any]] = []
    for plan in ds._plans:
        for name, reason in verify_files(plan.dir, plan.manifest):
            errors.append({"shard": plan.index, "record": None, "file": name, "reason": reason})
    for i in range(len(ds)):
        try:
            ds.read_bytes(i)
        except RetinaError as err:
            errors.append({"shard": err.shard, "record": err.record, "id": err.id, "reason": err.message})
    ds.close()
    result = {"ok": not errors, "dataset": args.dataset, "format": ds.format, "shards": ds.shard_count,
              "shardCount": ds.manifest["shardCount"], "records": len(ds), "errors": errors}
    if not args.json:
        for e in errors:
            where = f"record {e['record']} ({e['id']})" if e["record"] is not None else e["file"]
            print(f"error: shard {e['shard']}, {where}: {e['reason']}", file=sys.stderr)
    return result, (0 if not errors else 5)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retina_data", description="Check a retina dataset from Python.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn, summary in (("verify", verify, "Check every file and record checksum."), ("inspect", inspect, "Describe a dataset from its manifests.")):
        p = sub.add_parser(name, help=summary, description=summary)
        p.add_argument("dataset", help="Dataset folder (written by retina preprocess).")
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")
        if name == "inspect":
            p.add_argument("--no-verify", action="store_true", help="Skip the manifest and record-table checksums.")
        p.set_defaults(run=fn)
    return run_main(lambda a: a.run(a), parser, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
