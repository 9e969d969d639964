"""The run folder of `python -m retina_data.train`, laid out like `retina train`'s:
metrics.jsonl (one line per epoch), summary.json, the model (model.pt), plus checkpoint.pt, the
state a requeued job resumes from. Only rank 0 writes, and every file is replaced atomically
(written beside, fsynced, renamed), so a job killed at any moment leaves the previous version."""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, List, Optional

from .errors import RetinaError

SUMMARY = "summary.json"
METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.pt"
MODEL = "model.pt"
CHECKPOINT_KIND = "retina-torch-checkpoint"
CHECKPOINT_VERSION = 1


def write_atomic(path: str, write: Callable[[Any], None], binary: bool = False) -> None:
    """Replace `path` with what `write(file)` writes: a temporary file beside it, fsync, rename."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_json(path: str, value: Any) -> None:
    write_atomic(path, lambda f: f.write(json.dumps(value, indent=2) + "\n"))


def write_metrics(out: str, reports: List[Dict[str, Any]]) -> None:
    """metrics.jsonl rewritten whole: after a resume it holds exactly the checkpointed epochs."""
    write_atomic(os.path.join(out, METRICS), lambda f: f.write("".join(json.dumps(r) + "\n" for r in reports)))


def finished(out: str) -> bool:
    return os.path.exists(os.path.join(out, SUMMARY))


def check_run_dir(out: str, force: bool) -> None:
    """Every rank checks (read-only) so that all of them fail alike, before any rendezvous."""
    if finished(out) and not force:
        raise RetinaError(
            "EXISTS", f"{out} already holds a finished run ({SUMMARY})", file=out,
            hint="Pass another --out, or --force to train again from scratch in it.",
        )
    if os.path.exists(out) and not os.path.isdir(out):
        raise RetinaError("EXISTS", f"{out} exists and is not a folder", file=out, hint="Pass another --out.")


def prepare_run_dir(out: str, force: bool) -> None:
    """Rank 0 only: create the folder; with --force, forget a previous run's results."""
    os.makedirs(out, exist_ok=True)
    if force:
        for name in (SUMMARY, CHECKPOINT, METRICS, MODEL):
            try:
                os.unlink(os.path.join(out, name))
            except FileNotFoundError:
                pass


def load_checkpoint(out: str, signature: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The checkpoint to resume from, or None. A checkpoint of another training (model, batch,
    learning rate, seed, data...) is refused rather than silently continued; the world size may
    differ: the sample order does not depend on it."""
    import torch

    path = os.path.join(out, CHECKPOINT)
    if not os.path.exists(path):
        return None
    try:
        ckpt = torch.load(path, map_location="cpu")
    except Exception as err:  # a torn file cannot happen (atomic rename), a foreign one can
        raise RetinaError("CORRUPT", f"{path} cannot be read as a checkpoint: {err}", file=path,
                          hint="Delete it (or pass --force) to train from scratch.") from err
    if not isinstance(ckpt, dict) or ckpt.get("kind") != CHECKPOINT_KIND:
        raise RetinaError("CORRUPT", f"{path} is not a retina torch checkpoint", file=path,
                          hint="Delete it (or pass --force) to train from scratch.")
    if ckpt.get("version") != CHECKPOINT_VERSION:
        raise RetinaError("UNSUPPORTED", f"{path} is checkpoint version {ckpt.get('version')}; this retina_data reads version {CHECKPOINT_VERSION}",
                          file=path, hint="Resume with the retina_data that wrote it, or pass --force to start over.")
    theirs = ckpt.get("signature", {})
    diff = sorted(k for k in set(theirs) | set(signature) if theirs.get(k) != signature.get(k))
    if diff:
        detail = "; ".join(f"{k}: checkpoint {theirs.get(k)!r}, now {signature.get(k)!r}" for k in diff)
        raise RetinaError("EXISTS", f"{path} belongs to another training ({detail})", file=path,
                          hint="Resume with the same options, pass another --out, or --force to start over.")
    return ckpt
