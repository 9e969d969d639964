"""python -m retina_data.train: the math is the same for any world size, a killed run resumes
from its checkpoint, bad input fails clearly. Multi-rank runs here use torch.distributed (gloo)
with torchrun's variables on one host; test/slurm/cluster-torch-train.test.ts runs the same
through a real Slurm job with srun."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs python3-torch")

from train_helpers import PYDIR, make_dataset, max_relative_difference, metrics, params, train  # noqa: E402
from retina_data.order import epoch_order, rank_slice  # noqa: E402
from retina_data.train import step_pieces  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_dataset(str(tmp_path_factory.mktemp("torch-train")))


@pytest.mark.parametrize("n", [64, 61, 33, 5])
def test_step_pieces_cover_each_batch_once_with_the_same_groups_for_any_world(n):
    order = epoch_order(n, 3, 1)
    batch, micro = 16, 4
    reference = None
    for world in (1, 2, 4):
        steps: dict = {}
        for rank in range(world):
            pieces = step_pieces(order, batch, micro, rank, world, rank_slice)
            # One optimizer step per global batch on every rank (DDP needs each rank in each step).
            assert sum(1 for p in pieces if p[2]) == -(-n // batch)
            for idx, gsize, last, weight, group in pieces:
                if weight == 0:
                    assert last and group == -1
                    continue
                steps.setdefault(rank, []).append((tuple(int(i) for i in idx), gsize, last, group))
        # Every sample of the epoch exactly once, whatever the world size.
        seen = sorted(i for r in steps.values() for p in r for i in p[0])
        assert seen == list(range(n))
        groups = sorted((p[3], p[0]) for r in steps.values() for p in r)
        if reference is None:
            reference = groups
        assert groups == reference  # the same micro-groups: batch-norm statistics match too
    # A rank's samples of a full batch are rank_slice's share of it.
    g = order[:batch]
    mine = sorted(i for p in step_pieces(order, batch, micro, 1, 2, rank_slice)[:2] for i in p[0])
    assert mine == sorted(rank_slice(g, 1, 2).tolist())


def run_ranks(world: int, args, port: int):
    procs = []
    for r in range(world):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
        env.update(PYTHONPATH=PYDIR, RANK=str(r), WORLD_SIZE=str(world), LOCAL_RANK=str(r), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        procs.append(subprocess.Popen([sys.executable, "-m", "retina_data.train", "--threads", "1", "--log-level", "warn", "--dist-timeout", "120", *args],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (o, e) in zip(procs, outs):
        assert p.returncode == 0, e
    return outs


@pytest.mark.parametrize("fine_tune", [False, True])
def test_two_ranks_of_16_equal_one_rank_of_32(data, tmp_path, fine_tune):
    common = ["--data", data, "--model", "small-cnn", "--epochs", "2", "--batch-size", "16", "--lr", "3e-3", "--seed", "5"]
    if fine_tune:
        common.append("--fine-tune")
    one = str(tmp_path / "one")
    train([*common, "--micro-batch", "8", "--out", one])
    two = str(tmp_path / "two")
    run_ranks(2, [*common, "--out", two], 29400 + (os.getpid() % 500) * 2 + int(fine_tune))
    assert max_relative_difference(params(one), params(two)) <= 1e-5
    m1, m2 = metrics(one), metrics(two)
    assert [r["worldSize"] for r in m2] == [2, 2]
    for a, b in zip(m1, m2):
        assert a["trainLoss"] == pytest.approx(b["trainLoss"], rel=1e-5)
        assert a["valLoss"] == pytest.approx(b["valLoss"], rel=1e-5)
        assert a["confusion"] == b["confusion"]
    # And it trained: the weights moved from their initialisation (the frozen backbone did not).
    from retina_data.models import build_model

    init = build_model("small-cnn", fine_tune=fine_tune, weights=None, seed=5).state_dict()
    trained = params(one)
    assert max_relative_difference({"h": init["head.weight"]}, {"h": trained["head.weight"]}) > 1e-3
    moved = max_relative_difference({"b": init["backbone.body.0.weight"]}, {"b": trained["backbone.body.0.weight"]})
    assert (moved > 1e-4) if fine_tune else (moved == 0)


def test_a_killed_run_resumes_from_its_checkpoint_and_ends_where_an_unbroken_one_does(data, tmp_path):
    common = ["--data", data, "--model", "small-cnn", "--fine-tune", "--epochs", "6", "--batch-size", "8", "--seed", "2"]
    whole = str(tmp_path / "whole")
    train([*common, "--out", whole])
    broken = str(tmp_path / "broken")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env["PYTHONPATH"] = PYDIR
    p = subprocess.Popen([sys.executable, "-m", "retina_data.train", "--threads", "1", "--log-level", "warn", *common, "--out", broken],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (os.path.exists(os.path.join(broken, "checkpoint.pt")) and len(metrics(broken)) >= 1):
        assert p.poll() is None and time.time() < deadline
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)  # no warning: as a node failure
    p.wait()
    done_before = len(metrics(broken))
    assert done_before < 6, "the run finished before it could be killed"
    r = train([*common, "--out", broken, "--log-level", "info", "--json"])
    assert f"resuming {broken} after epoch" in r.stderr
    result = json.loads(r.stdout)
    assert result["resumedFromEpoch"] >= 1
    assert [m["epoch"] for m in metrics(broken)] == [1, 2, 3, 4, 5, 6]
    assert max_relative_difference(params(whole), params(broken)) <= 1e-6
    # A finished run is not trained over, and another training's checkpoint is not resumed.
    again = train([*common, "--out", broken], check=False)
    assert again.returncode == 7 and "already holds a finished run" in again.stderr
    os.unlink(os.path.join(broken, "summary.json"))
    other = train([*common[:-2], "--seed", "3", "--out", broken], check=False)
    assert other.returncode == 7 and "belongs to another training" in other.stderr and "seed" in other.stderr


def test_sigterm_stops_at_a_step_with_exit_130_and_keeps_the_checkpoint(data, tmp_path):
    out = str(tmp_path / "term")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env["PYTHONPATH"] = PYDIR
    p = subprocess.Popen([sys.executable, "-m", "retina_data.train", "--threads", "1", "--data", data, "--model", "small-cnn", "--epochs", "200",
                          "--batch-size", "4", "--out", out], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not os.path.exists(os.path.join(out, "checkpoint.pt")):
        assert p.poll() is None and time.time() < deadline
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Error [ABORTED]" in err and "resume" in err
    assert not os.path.exists(os.path.join(out, "summary.json"))
    assert torch.load(os.path.join(out, "checkpoint.pt"))["epoch"] >= 1


def edit_manifest(src: str, dst: str, edit) -> str:
    import shutil

    from conftest import restamp

    shutil.copytree(src, dst)
    path = os.path.join(dst, "manifest.json")
    with open(path, encoding="utf-8") as f:
        m = json.load(f)
    edit(m)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(restamp(m), f)  # a deliberate edit keeps manifest.json's checksum (#16) valid
    return dst


def test_bad_input_fails_clearly_with_retinas_exit_codes(data, tmp_path):
    base = ["--model", "small-cnn", "--epochs", "1", "--batch-size", "8"]
    newer = edit_manifest(data, str(tmp_path / "newer"), lambda m: m.update(version=99))
    r = train(["--data", newer, *base, "--out", str(tmp_path / "r1")], check=False)
    assert r.returncode not in (0, 1) and "version" in r.stderr and "99" in r.stderr, r.stderr
    unknown = edit_manifest(data, str(tmp_path / "unknown"), lambda m: m.update(format="parquet"))
    r = train(["--data", unknown, *base, "--out", str(tmp_path / "r2")], check=False)
    assert r.returncode not in (0, 1) and "parquet" in r.stderr, r.stderr
    import shutil

    missing = str(tmp_path / "missing")
    shutil.copytree(data, missing)
    shard = os.path.join(missing, "shards", os.listdir(os.path.join(missing, "shards"))[0])
    shutil.rmtree(shard)
    r = train(["--data", missing, *base, "--out", str(tmp_path / "r3")], check=False)
    assert r.returncode == 6 and "shard 0" in r.stderr, r.stderr
    r = train(["--data", data, *base, "--micro-batch", "3", "--out", str(tmp_path / "r4")], check=False)
    assert r.returncode == 2 and "--micro-batch 3" in r.stderr
    r = train(["--data", data, *base, "--source", "lmdb", "--out", str(tmp_path / "r5")], check=False)
    assert r.returncode == 2 and "raw dataset" in r.stderr
    r = train(["--data", data, "--model", "inception-v3", "--epochs", "1", "--out", str(tmp_path / "r6")], check=False)
    assert r.returncode == 3 and "at least 75x75" in r.stderr
    for d in ("r1", "r2", "r3", "r4", "r5", "r6"):
        assert not os.path.exists(os.path.join(str(tmp_path / d), "summary.json"))


def test_uneven_batches_over_ranks_refused(data, tmp_path):
    env = {"RANK": "0", "WORLD_SIZE": "3", "LOCAL_RANK": "0"}
    r = train(["--data", data, "--model", "small-cnn", "--batch-size", "32", "--out", str(tmp_path / "x")], env=env, check=False)
    assert r.returncode == 2 and "does not split evenly over 3 ranks" in r.stderr
