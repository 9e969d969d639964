"""Where this process sits in a distributed training: rank, world size, local rank, and the
rendezvous address, from Slurm's environment (srun starts one process per task).

`python -m retina_data.dist --exports` prints `export MASTER_ADDR=... MASTER_PORT=...` for a
batch script to eval once, on the job's first node, before `srun` starts the ranks: every rank
then inherits the same address and port.

torch is not imported here: the batch script calls this module before any training starts.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

# Ports the rendezvous may use: above the usual ephemeral-range start of some systems and below
# Linux's default ephemeral range (32768-60999), so an outgoing connection rarely holds one.
PORT_BASE = 20000
PORT_SPAN = 10000


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int
    #: Where the numbers came from: 'slurm', 'torchrun' or 'single'.
    source: str


def _int(env: Mapping[str, str], name: str) -> Optional[int]:
    v = env.get(name)
    if v is None or v.strip() == "":
        return None
    if not re.fullmatch(r"\d+", v.strip()):
        raise ValueError(f"{name}={v!r} is not a non-negative integer")
    return int(v)


def world_from_env(env: Optional[Mapping[str, str]] = None) -> World:
    """Rank and world size from SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID (a task of `srun`),
    else RANK / WORLD_SIZE / LOCAL_RANK (torchrun), else a single process.

    A batch script's own shell has SLURM_NTASKS but no SLURM_PROCID of a step: without
    SLURM_STEP_ID it is not a task of srun, so it counts as a single process (this keeps a
    training started straight from a batch script, without srun, from waiting for ranks that
    never come)."""
    e = os.environ if env is None else env
    if _int(e, "SLURM_PROCID") is not None and e.get("SLURM_STEP_ID") not in (None, ""):
        rank = _int(e, "SLURM_PROCID") or 0
        size = _int(e, "SLURM_NTASKS") or _int(e, "SLURM_NPROCS") or 1
        local = _int(e, "SLURM_LOCALID") or 0
        source = "slurm"
    elif _int(e, "RANK") is not None and _int(e, "WORLD_SIZE") is not None:
        rank, size, local, source = _int(e, "RANK") or 0, _int(e, "WORLD_SIZE") or 1, _int(e, "LOCAL_RANK") or 0, "torchrun"
    else:
        return World(0, 1, 0, "single")
    if size < 1 or not 0 <= rank < size:
        raise ValueError(f"rank {rank} is outside a world of {size} processes ({source} environment)")
    return World(rank, size, local, source)


def _run(argv: Sequence[str]) -> str:
    return subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=60).stdout


def first_host(nodelist: str, run=_run) -> str:
    """The first host name of a Slurm node list (`n[1-3],gpu7` -> `n1`), through
    `scontrol show hostnames`, the one parser that knows every Slurm spelling."""
    out = run(["scontrol", "show", "hostnames", nodelist]).split()
    if not out:
        raise ValueError(f"scontrol show hostnames {nodelist!r} listed no host")
    return out[0]


def resolve_node(name: str, run=_run, resolve=socket.gethostbyname) -> str:
    """An address for node `name`: the name itself when it resolves, else the node's NodeAddr
    from `scontrol show node` (Slurm node names need not be host names: several slurmd on one
    machine, or clusters whose node names are aliases; see shared/notes/slurm-multi-host-facts)."""
    try:
        resolve(name)
        return name
    except OSError:
        pass
    out = run(["scontrol", "show", "node", name])
    m = re.search(r"\bNodeAddr=(\S+)", out)
    if not m:
        raise ValueError(f"node {name!r} does not resolve as a host name and `scontrol show node {name}` gave no NodeAddr")
    return m.group(1)


def derived_port(job_id: str) -> int:
    """A port every rank computes alike from the job id (two jobs sharing a node rarely collide)."""
    digits = re.sub(r"\D", "", job_id) or "0"
    return PORT_BASE + int(digits) % PORT_SPAN


def port_free(port: int, host: str = "") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def free_port(job_id: str, is_free=port_free) -> int:
    """The job's derived port, or the next ones after it, until one is free on this host (the
    batch script runs this on the first node, where rank 0 listens)."""
    start = derived_port(job_id)
    for i in range(64):
        p = PORT_BASE + (start - PORT_BASE + i) % PORT_SPAN
        if is_free(p):
            return p
    raise RuntimeError(f"no free port among 64 from {start}")


def rendezvous(env: Optional[Mapping[str, str]] = None, run=_run) -> tuple[str, int]:
    """MASTER_ADDR and MASTER_PORT: the environment's when set, else derived from the Slurm job."""
    e = os.environ if env is None else env
    addr = e.get("MASTER_ADDR") or None
    port = e.get("MASTER_PORT") or None
    if addr is None:
        nodelist = e.get("SLURM_JOB_NODELIST") or e.get("SLURM_NODELIST")
        addr = resolve_node(first_host(nodelist, run), run) if nodelist else "127.0.0.1"
    if port is None:
        port = str(free_port(e.get("SLURM_JOB_ID", "0")))
    if not re.fullmatch(r"\d{1,5}", str(port)) or not 0 < int(port) < 65536:
        raise ValueError(f"MASTER_PORT={port!r} is not a TCP port")
    return addr, int(port)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m retina_data.dist", description=__doc__.split("\n\n")[0])
    p.add_argument("--exports", action="store_true", help="print shell export lines for MASTER_ADDR and MASTER_PORT")
    a = p.parse_args(argv)
    try:
        addr, port = rendezvous()
    except (ValueError, RuntimeError, OSError, subprocess.SubprocessError) as err:
        print(f"retina_data.dist: cannot choose the rendezvous: {err}", file=sys.stderr)
        return 9
    if a.exports:
        print(f"export MASTER_ADDR={shlex.quote(addr)} MASTER_PORT={port}")
    else:
        print(f"{addr}:{port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
