"""Train the seed's grader in PyTorch from a retina dataset, on one process or on every task of a
Slurm job (`srun python -m retina_data.train ...`), with torch.distributed.

The seed's model: torchvision InceptionV3, frozen backbone + a new 2048 -> 5 head, cross-entropy,
Adam 1e-4, batch 32 (`--fine-tune` trains every layer). Ranks come from Slurm (SLURM_PROCID,
SLURM_NTASKS, SLURM_LOCALID); the rendezvous from MASTER_ADDR/MASTER_PORT, which the batch script
sets once with `python -m retina_data.dist --exports`.

The math does not depend on the world size. Each epoch has one global order
(`epoch_order(n, seed, epoch)`); step s takes the global batch order[s*B:(s+1)*B] and rank r its
share `rank_slice(batch, r, world)`. Every rank's loss is its samples' summed cross-entropy times
world / (global batch size), so DDP's gradient average is exactly the global batch's mean
gradient (1 rank x 32 == 2 ranks x 16), the last, shorter batch included. `--micro-batch m`
splits each rank's share into pieces of m whose gradients add up: a 1-rank run with
`--micro-batch 16` computes (batch norm statistics included) what 2 ranks of 16 compute.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import sys
import time
from datetime import timedelta
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .errors import RetinaError
from . import dist as rdist
from . import grading
from .run_folder import (CHECKPOINT, CHECKPOINT_KIND, CHECKPOINT_VERSION, MODEL, SUMMARY, check_run_dir, load_checkpoint,
                         prepare_run_dir, write_atomic, write_json, write_metrics)

ENGINE = "torch"


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m retina_data.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="retina dataset folder (manifest.json)")
    p.add_argument("--source", help="the dataset's format (checked against its manifest); 'images' decodes JPEGs every epoch (the seed's PIL + torchvision path)")
    p.add_argument("--images", help="JPEG folder for --source images")
    p.add_argument("--labels", help="labels CSV (image,level) for --source images")
    p.add_argument("--image-size", type=int, default=299, help="side for --source images (Resize + CenterCrop, as the seed)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="validation share of patients for --source images")
    p.add_argument("--model", default="inception-v3", choices=("inception-v3", "small-cnn"))
    p.add_argument("--weights", help="a torchvision inception_v3 state_dict file (torch.save); never downloaded")
    p.add_argument("--fine-tune", action="store_true", help="train every layer (default: frozen backbone, new head)")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=32, help="global batch: images per optimizer step over all ranks")
    p.add_argument("--micro-batch", type=int, help="images per forward/backward on a rank; gradients add up to the rank's share [default: the share]")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="run folder [default: ./runs/<time>-<model>-<source>-torch]")
    p.add_argument("--force", action="store_true", help="start over in a run folder holding a finished run or a checkpoint")
    p.add_argument("--threads", type=int, help="torch CPU threads per rank [default: SLURM_CPUS_PER_TASK or usable CPUs]")
    p.add_argument("--workers", type=int, help="DataLoader worker processes per rank [default: 0 on CPU, min(8, CPUs-1) on a GPU]")
    p.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"), help="parameter and compute precision")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast on CUDA (speed; not bit-reproducible)")
    p.add_argument("--no-deterministic", dest="deterministic", action="store_false", help="allow non-deterministic kernels (cudnn.benchmark)")
    p.add_argument("--no-verify", dest="verify", action="store_false", help="skip the per-record xxh64 check")
    p.add_argument("--dist-timeout", type=float, default=600, help="seconds a rank waits for the others before failing")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout (rank 0)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warn", "error", "silent"))
    return p.parse_args(argv)


def bad_argument(flag: str, expected: str, got: Any) -> RetinaError:
    return RetinaError("BAD_ARGUMENT", f"{flag}: expected {expected}, got {got!r}", hint=f"Fix {flag} and run again.")


def check_args(a: argparse.Namespace, world: int) -> None:
    for flag, v in (("--epochs", a.epochs), ("--batch-size", a.batch_size)):
        if v < 1:
            raise bad_argument(flag, "a positive integer", v)
    if a.micro_batch is not None and a.micro_batch < 1:
        raise bad_argument("--micro-batch", "a positive integer", a.micro_batch)
    if not 0 < a.lr < 10:
        raise bad_argument("--lr", "a learning rate in (0, 10)", a.lr)
    if a.batch_size % world != 0:
        raise RetinaError(
            "BAD_ARGUMENT", f"--batch-size {a.batch_size} does not split evenly over {world} ranks",
            hint=f"Use a global batch that is a multiple of the {world} tasks (e.g. {world * max(1, round(a.batch_size / world))}), or another task count.",
        )
    if a.micro_batch is not None and (a.batch_size // world) % a.micro_batch != 0:
        raise RetinaError(
            "BAD_ARGUMENT", f"--micro-batch {a.micro_batch} does not divide the per-rank batch {a.batch_size // world} (--batch-size {a.batch_size} over {world} ranks)",
            hint="Pick a micro-batch that divides the per-rank batch.",
        )
    if a.source == "images":
        if not a.images or not a.labels:
            raise RetinaError("BAD_ARGUMENT", "--source images needs --images and --labels", hint="Name the JPEG folder and the labels CSV.")
    elif not a.data:
        raise RetinaError("BAD_ARGUMENT", "--data is required (a retina dataset folder)", hint="Pass --data DIR, e.g. ./retina-data/lmdb.")


# DDP wrappers of this process, kept alive until the process leaves with os._exit (see the end of
# this file): with torch 1.13 + gloo, freeing a DDP Reducer after destroy_process_group can
# deadlock. The main thread joins a gloo worker thread in ~ProcessGroupGloo while holding the
# GIL, and the worker needs the GIL to free a tensor it held (gdb on a rank left hanging after
# "train: done" on the multi-host test cluster: ~Reducer -> ~ProcessGroupGloo -> thread::join;
# worker: ~TensorImpl -> destroy_pyobj_if_needed -> PyEval_AcquireThread).
_LIVE_DDP: List[Any] = []


class Log:
    LEVELS = {"debug": 0, "info": 1, "warn": 2, "error": 3, "silent": 4}

    def __init__(self, level: str, rank: int) -> None:
        self.level = self.LEVELS[level]
        self.rank = rank

    def _say(self, lvl: str, msg: str, every_rank: bool = False) -> None:
        if self.LEVELS[lvl] >= self.level and (every_rank or self.rank == 0):
            prefix = f"[rank {self.rank}] " if every_rank else ""
            print(f"{prefix}{msg}", file=sys.stderr, flush=True)

    def info(self, msg: str) -> None:
        self._say("info", msg)

    def debug(self, msg: str) -> None:
        self._say("debug", msg, True)

    def each_rank(self, msg: str) -> None:
        """Info from every rank, prefixed `[rank R]` (where each rank runs, for the job's log)."""
        self._say("info", msg, True)

    def warn(self, msg: str) -> None:
        self._say("warn", msg, True)


class StopFlag:
    """SIGTERM/SIGINT (scancel, the time limit's early warning, Ctrl-C): stop at the next step
    boundary that every rank agrees on; the last checkpoint stands and a requeue resumes from it."""

    def __init__(self) -> None:
        self.signal: Optional[int] = None
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, self._on)

    def _on(self, signum: int, _frame: Any) -> None:
        self.signal = signum


def usable_cpus() -> int:
    v = os.environ.get("SLURM_CPUS_PER_TASK")
    if v and v.isdigit() and int(v) > 0:
        return int(v)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class Batches:
    """A DataLoader batch_sampler refilled every epoch (persistent workers keep their loader)."""

    def __init__(self) -> None:
        self.items: List[List[int]] = []

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def step_pieces(order: np.ndarray, batch: int, micro: int, rank: int, world: int, rank_slice: Any) -> List[tuple]:
    """This rank's forward/backward pieces of every optimizer step: (indices, global batch size,
    last piece of the step, loss weight, micro-group index).

    Each global batch g = order[s*batch:(s+1)*batch] is cut into V = batch/micro interleaved
    micro-groups, group v = g[v::V] (rank_slice(g, v, V)), and rank r takes groups r, r+world,
    r+2*world... So the groups, and with them the batch-norm statistics of a fine-tuned network,
    are the same for any world size: 1 rank with --micro-batch 16 computes what 2 ranks of 16 do,
    and rank r's samples are exactly rank_slice(g, r, world). The last global batch may be
    shorter; it is kept whole (never dropped, never padded with repeats), its groups differing by
    at most one sample. A rank left without a sample there still joins the gradient average, with
    one sample weighted 0.
    """
    groups = batch // micro
    out: List[tuple] = []
    for s in range(0, len(order), batch):
        g = order[s:s + batch]
        full = len(g) % groups == 0
        mine = [rank_slice(g, v, groups) if full else g[v::groups] for v in range(rank, groups, world)]
        mine = [m for m in mine if len(m) > 0]
        if not mine:
            out.append((order[:1], len(g), True, 0.0, -1))
            continue
        vs = [v for v in range(rank, groups, world) if len(g[v::groups]) > 0]
        for k, (m, v) in enumerate(zip(mine, vs)):
            out.append((np.asarray(m), len(g), k == len(mine) - 1, 1.0, v))
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    try:
        world = rdist.world_from_env()
    except ValueError as err:
        print(f"Error [BAD_ARGUMENT]: {err}", file=sys.stderr)
        return 2
    log = Log(a.log_level, world.rank)
    try:
        result = train(a, world, log)
    except RetinaError as err:
        print(f"Error [{err.code}]: {err.message}" + (f" (rank {world.rank} of {world.size})" if world.size > 1 else ""), file=sys.stderr)
        if err.hint:
            print(f"Hint: {err.hint}", file=sys.stderr)
        return err.exit_code
    if result is not None and a.json and world.rank == 0:
        print(json.dumps(result))
    return 0


def train(a: argparse.Namespace, world: rdist.World, log: Log, data: Any = None) -> Optional[Dict[str, Any]]:
    """One training (every rank calls it). `data`: a prepared `TrainingData` (the bench passes the
    seed's sources this way), else opened from the arguments."""
    t0 = time.perf_counter()
    check_args(a, world.size)
    if a.deterministic and a.device != "cpu":
        # cuBLAS is deterministic only with a fixed workspace; it must be set before CUDA starts.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    from ._optional import require

    torch = require("torch", "retina_data.train")
    import torch.distributed as tdist
    from torch.nn.parallel import DistributedDataParallel as DDP
    from .models import build_model, min_side, NUM_CLASSES
    from .train_data import FloatBatches, FloatCollate, collate_hwc, open_training_data

    stop = StopFlag()
    threads = a.threads or usable_cpus()
    torch.set_num_threads(threads)
    if a.deterministic:
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    else:
        torch.backends.cudnn.benchmark = True
    if a.device == "auto":
        use_cuda = torch.cuda.is_available()
    elif a.device in ("cpu", "cuda"):
        use_cuda = a.device == "cuda"
        if use_cuda and not torch.cuda.is_available():
            raise RetinaError("UNSUPPORTED", "--device cuda, but torch sees no CUDA device", hint="Run on a GPU node (--gpus-per-node) or use --device cpu.")
    else:
        raise bad_argument("--device", "auto, cpu or cuda", a.device)
    if use_cuda:
        device = torch.device("cuda", world.local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
        device_name = f"cuda:{device.index} ({torch.cuda.get_device_name(device)})"
    else:
        device = torch.device("cpu")
        device_name = "cpu"
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    workers = a.workers if a.workers is not None else (min(8, max(1, threads - 1)) if use_cuda else 0)

    # Everything that can fail on bad input fails here, on every rank alike, before the ranks wait
    # for each other (a rank that fails alone would leave the others waiting in the rendezvous).
    if data is None:
        data = open_training_data(a)
    h, w, c = data.shape
    side = min_side(a.model)
    if min(h, w) < side:
        raise RetinaError("BAD_INPUT", f"{a.model} needs images of at least {side}x{side}; the data holds {h}x{w}x{c}",
                          hint="Preprocess at a larger --size, or train --model small-cnn.")
    n, nv = len(data.train), len(data.val)
    if n == 0:
        raise RetinaError("BAD_INPUT", f"The training split of {data.where} is empty", hint="Preprocess with a smaller --val-fraction or more images.")
    share = a.batch_size // world.size
    micro = a.micro_batch or share
    out = os.path.abspath(a.out or os.path.join("runs", time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime()) + f"-{a.model}-{data.source}-torch"))
    check_run_dir(out, a.force)
    try:
        model = build_model(a.model, fine_tune=a.fine_tune, weights=a.weights, seed=a.seed, channels=c)
    except (ValueError, OSError) as err:
        raise RetinaError("BAD_ARGUMENT" if a.weights is None else "BAD_INPUT", str(err),
                          hint="--weights takes a file written by torch.save(inception_v3(...).state_dict()).") from err
    model = model.to(device=device, dtype=dtype)
    if use_cuda:
        # Batches arrive channels-last (FloatBatches: NHWC memory, no transpose); cuDNN's fastest
        # convolutions want the weights the same way.
        model = model.to(memory_format=torch.channels_last)

    backend = None
    if world.size > 1:
        backend = "nccl" if use_cuda else "gloo"
        addr, port = rdist.rendezvous()
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = addr, str(port)
        log.info(f"torch.distributed: {backend}, {world.size} ranks, rendezvous {addr}:{port}")
        tdist.init_process_group(backend, init_method="env://", rank=world.rank, world_size=world.size,
                                 timeout=timedelta(seconds=a.dist_timeout))
        node = os.environ.get("SLURMD_NODENAME")
        log.each_rank(f"rank {world.rank}/{world.size} on {socket.gethostname()}{f' (Slurm node {node})' if node else ''}")
    try:
        if world.rank == 0:
            prepare_run_dir(out, a.force)
        if world.size > 1:
            tdist.barrier()
        signature = {
            "model": a.model, "fineTune": a.fine_tune, "batchSize": a.batch_size, "microBatch": a.micro_batch, "lr": a.lr,
            "seed": a.seed, "dtype": a.dtype, "weights": a.weights and os.path.abspath(a.weights),
            "data": data.identity, "trainImages": n, "valImages": nv,
        }
        ckpt = load_checkpoint(out, signature)
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(trainable, lr=a.lr)
        reports: List[Dict[str, Any]] = []
        done_seconds = {"epochSeconds": 0.0}
        first = 1
        if ckpt is not None:
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            reports = list(ckpt["reports"])
            first = int(ckpt["epoch"]) + 1
            log.info(f"train: resuming {out} after epoch {ckpt['epoch']} (checkpoint written by {ckpt.get('worldSize')} ranks)")
            if world.rank == 0:
                write_metrics(out, reports)
        if a.fine_tune:
            net = DDP(model, device_ids=[device.index] if use_cuda else None) if world.size > 1 else model
            if world.size > 1:
                _LIVE_DDP.append(net)
            step_module = net
        else:
            # Frozen: only the head trains; the backbone's forward runs without autograd.
            head = DDP(model.head, device_ids=[device.index] if use_cuda else None) if world.size > 1 else model.head
            if world.size > 1:
                _LIVE_DDP.append(head)
            step_module = head
        params = sum(p.numel() for p in model.parameters())
        log.info(f"train: {a.model}{' (fine-tune)' if a.fine_tune else ' (frozen backbone)'} on {device_name}, {world.size} rank(s), "
                 f"{n} train / {nv} val images, {a.epochs} epochs, batch {a.batch_size} ({share} per rank, micro-batch {micro}), "
                 f"{params:,} parameters, {workers} loader workers per rank")
        setup_seconds = time.perf_counter() - t0

        to_input = FloatBatches()
        from .dataset import DatasetReader

        loader_kw: Dict[str, Any] = {"num_workers": workers, "pin_memory": use_cuda}
        if isinstance(data.train, DatasetReader):
            # In this process, records become floats in the collate (in cache, one reused buffer);
            # from workers or to a GPU they travel as uint8 and become floats after.
            loader_kw["collate_fn"] = FloatCollate() if workers == 0 and not use_cuda else collate_hwc
        if workers > 0:
            # Workers live for the whole run (starting 8 per epoch costs seconds); each epoch
            # refills the batch lists they are fed from.
            loader_kw.update(persistent_workers=True, prefetch_factor=4)
        train_batches, val_batches = Batches(), Batches()
        loader = torch.utils.data.DataLoader(data.train, batch_sampler=train_batches, **loader_kw)
        vloader = torch.utils.data.DataLoader(data.val, batch_sampler=val_batches, **loader_kw) if nv > 0 else None

        def forward(x: Any) -> Any:
            if a.fine_tune:
                return net(x)
            with torch.no_grad():
                f = model.backbone(x)
            return head(f)

        def agree_stop() -> bool:
            flag = 1.0 if stop.signal is not None else 0.0
            if world.size == 1:
                return flag > 0
            t = torch.tensor([flag], device=device)
            tdist.all_reduce(t, op=tdist.ReduceOp.MAX)
            return bool(t.item() > 0)

        def sync() -> None:
            if use_cuda:
                torch.cuda.synchronize(device)

        norms = [(m, m.momentum) for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.momentum is not None] if a.fine_tune else []
        amp = torch.autocast("cuda", dtype=torch.bfloat16) if (a.amp and use_cuda) else None
        from contextlib import nullcontext
        from .order import epoch_order, rank_slice

        for epoch in range(first, a.epochs + 1):
            te = time.perf_counter()
            model.train()
            order = np.asarray(epoch_order(n, a.seed, epoch))
            pieces = step_pieces(order, a.batch_size, micro, world.rank, world.size, rank_slice)
            train_batches.items = [list(map(int, p[0])) for p in pieces]
            wait = compute = 0.0
            tl = time.perf_counter()
            loss_sum = torch.zeros(2, dtype=torch.float64, device=device)
            it = iter(loader)
            stopped = False
            for k, (idx, gsize, last, weight, group) in enumerate(pieces):
                if norms:
                    # Batch-norm running statistics follow micro-group 0 of each step only (rank 0's,
                    # which DDP broadcasts), so they too are the same for any world size.
                    for bn, m in norms:
                        bn.momentum = m if group == 0 else 0.0
                if (k == 0 or pieces[k - 1][2]) and agree_stop():
                    stopped = True
                    break
                tw = time.perf_counter()
                xb, yb = next(it)[:2]
                x = to_input(xb.to(device, non_blocking=True), dtype)
                y = yb.to(device, non_blocking=True).long()
                wait += time.perf_counter() - tw
                ctx = step_module.no_sync() if (world.size > 1 and not last) else nullcontext()
                with ctx:
                    with (amp or nullcontext()):
                        logits = forward(x)
                    ce = torch.nn.functional.cross_entropy(logits.to(dtype), y, reduction="sum")
                    (ce * (weight * world.size / gsize)).backward()
                if weight > 0:
                    loss_sum += torch.stack([ce.detach().to(torch.float64), torch.tensor(float(len(y)), dtype=torch.float64, device=device)])
                if last:
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
            # No synchronisation per step (it would stall the GPU's queue): compute is the loop's
            # time less the time blocked waiting for data, the GPU's backlog drained at the end.
            sync()
            train_seconds = time.perf_counter() - tl
            compute = train_seconds - wait
            del it
            if stopped:
                raise RetinaError("ABORTED", f"Training stopped by signal {stop.signal} during epoch {epoch}",
                                  hint=f"{out}/{CHECKPOINT} holds the last finished epoch; run the same command again (or requeue the job) to resume.")
            # Validation: each rank predicts a contiguous part; rank 0 gathers and grades.
            model.eval()
            if a.fine_tune and world.size > 1:
                # DDP broadcasts rank 0's buffers at the start of each forward: the last step's
                # update has not reached the other ranks yet.
                for b in model.buffers():
                    tdist.broadcast(b, 0)
            tv = time.perf_counter()
            lo, hi = world.rank * nv // world.size, (world.rank + 1) * nv // world.size
            vpieces = [list(range(s, min(s + micro, hi))) for s in range(lo, hi, micro)]
            val_batches.items = vpieces
            vlogits: List[np.ndarray] = []
            vwait = 0.0
            with torch.no_grad():
                vit = iter(vloader) if vpieces and vloader is not None else iter(())
                for _ in vpieces:
                    tw = time.perf_counter()
                    xb = next(vit)[0]
                    x = to_input(xb.to(device, non_blocking=True), dtype)
                    vwait += time.perf_counter() - tw
                    with (amp or nullcontext()):
                        vlogits.append(model(x).to(torch.float64).cpu().numpy())
            del vit
            sync()
            wait += vwait
            compute += time.perf_counter() - tv - vwait
            mine_logits = np.concatenate(vlogits) if vlogits else np.zeros((0, NUM_CLASSES))
            timing = torch.tensor([wait, compute], dtype=torch.float64, device=device)
            if world.size > 1:
                tdist.all_reduce(loss_sum)
                tdist.all_reduce(timing, op=tdist.ReduceOp.MAX)
                gathered: List[Any] = [None] * world.size
                tdist.all_gather_object(gathered, mine_logits)
                all_logits = np.concatenate(gathered)
            else:
                all_logits = mine_logits
            seconds = time.perf_counter() - te
            if world.rank == 0:
                z = all_logits - all_logits.max(axis=1, keepdims=True)
                probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
                labels = data.val_labels
                predicted = probs.argmax(axis=1) if len(labels) else np.zeros(0, dtype=np.int64)
                ls = loss_sum.cpu().numpy()
                report = {
                    "epoch": epoch,
                    "trainLoss": float(ls[0] / max(1.0, ls[1])),
                    "valLoss": grading.cross_entropy(probs, labels),
                    "valAccuracy": grading.accuracy(labels, predicted),
                    "valKappa": grading.quadratic_weighted_kappa(labels, predicted, NUM_CLASSES),
                    "confusion": grading.confusion(labels, predicted, NUM_CLASSES).tolist(),
                    "seconds": seconds,
                    # The slowest rank's waits and compute: the step waits for it.
                    "dataWaitSeconds": float(timing[0]),
                    "computeSeconds": float(timing[1]),
                    "imagesPerSecond": n / seconds,
                    # The training loop alone (no validation): the throughput GPUs are quoted in.
                    "trainSeconds": train_seconds,
                    "trainImagesPerSecond": n / train_seconds if train_seconds > 0 else 0.0,
                    "forwardWorkers": 0, "featureWaitSeconds": 0, "workerReadSeconds": 0, "workerForwardSeconds": 0,
                    "worldSize": world.size,
                    "dataWorkers": workers,
                }
                reports.append(report)
                state = model.state_dict()
                ckpt_value = {
                    "kind": CHECKPOINT_KIND, "version": CHECKPOINT_VERSION, "epoch": epoch, "signature": signature,
                    "model": state, "optimizer": optimizer.state_dict(), "reports": reports, "worldSize": world.size,
                }
                write_atomic(os.path.join(out, CHECKPOINT), lambda f: torch.save(ckpt_value, f), binary=True)
                write_metrics(out, reports)
                log.info(f"epoch {epoch}/{a.epochs}: loss {report['trainLoss']:.4f}, val loss {report['valLoss']:.4f}, accuracy {report['valAccuracy']:.3f}, "
                         f"kappa {report['valKappa']:.3f} | {seconds:.1f} s (data wait {report['dataWaitSeconds']:.1f} s, compute {report['computeSeconds']:.1f} s), "
                         f"{report['imagesPerSecond']:.1f} images/s")
        if world.size > 1:
            tdist.barrier()
        if world.rank != 0:
            return None
        if not reports:
            raise RetinaError("INCOMPLETE", "No epoch was trained", hint="Check --epochs.")
        meta = {
            "kind": "retina-model", "version": 1, "engine": ENGINE, "model": a.model, "fineTune": a.fine_tune,
            "inputShape": [h, w, c], "layout": "NCHW", "classes": NUM_CLASSES, "inputRange": [-1, 1], "dtype": a.dtype,
            "source": data.source, "data": data.where,
        }
        model_state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        write_atomic(os.path.join(out, MODEL), lambda f: torch.save({"retina": meta, "state_dict": model_state}, f), binary=True)
        epoch_seconds = sum(r["seconds"] for r in reports)
        last_r = reports[-1]
        result = {
            "epochs": reports,
            "final": {k: last_r[k] for k in ("valAccuracy", "valKappa", "valLoss", "confusion")},
            "imagesPerSecond": n * len(reports) / epoch_seconds if epoch_seconds > 0 else 0.0,
            "out": out, "model": a.model, "source": data.source, "backend": f"torch-{device.type}", "fineTune": a.fine_tune,
            "params": params, "trainImages": n, "valImages": nv, "featureCache": None,
            "timing": {"setupSeconds": setup_seconds, "featureSeconds": 0.0, "epochSeconds": epoch_seconds,
                       "totalSeconds": time.perf_counter() - t0},
            "engine": ENGINE, "worldSize": world.size, "device": device_name, "distBackend": backend,
            "batchSize": a.batch_size, "perRankBatch": share, "microBatch": micro, "resumedFromEpoch": first - 1 if first > 1 else None,
            "torchVersion": torch.__version__,
        }
        options = {k: v for k, v in vars(a).items() if k not in ("json", "log_level")}
        write_json(os.path.join(out, SUMMARY), {**result, "options": options})
        log.info(f"train: done in {result['timing']['totalSeconds']:.1f} s; model in {os.path.join(out, MODEL)}")
        return result
    finally:
        if world.size > 1 and tdist.is_initialized():
            tdist.destroy_process_group()


if __name__ == "__main__":
    status = main()
    if _LIVE_DDP:
        # Every file is written and closed by now: leave without running the DDP destructors.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
