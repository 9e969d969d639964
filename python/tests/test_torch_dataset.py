"""RetinaDataset and DistributedEpochSampler with a real torch DataLoader."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from retina_data import DistributedEpochSampler, RetinaDataset, RetinaError, epoch_order, open_dataset, rank_slice  # noqa: E402
from retina_data.normalize import to_network_input  # noqa: E402


@pytest.mark.parametrize("fmt,dtype", [("lmdb", "uint8"), ("msgpack", "float16"), ("raw", "float32")])
def test_float32_chw_equals_retinas_normalisation(datasets, dumped, fmt, dtype):
    ds = RetinaDataset(datasets[(fmt, dtype)])
    x, grade = ds[0]
    assert x.dtype == torch.float32 and tuple(x.shape) == (3, 32, 32) and x.is_contiguous()
    assert grade == dumped[(fmt, dtype)].records[0]["label"]
    # retina's own toNetworkInput (src/bytes-to-float.ts), run by node on the same record, HWC
    want = dumped[(fmt, dtype)].normalized.reshape(32, 32, 3).transpose(2, 0, 1)
    assert np.array_equal(x.numpy(), want), "not bit-identical to retina's byte->float path"
    assert -1.0 <= float(x.min()) and float(x.max()) <= 1.0


def test_uint8_chw(datasets):
    reader = open_dataset(datasets[("tfjs", "uint8")])
    ds = RetinaDataset(datasets[("tfjs", "uint8")], dtype="uint8", split="train")
    x, _ = ds[2]
    assert x.dtype == torch.uint8 and tuple(x.shape) == (3, 32, 32)
    assert np.array_equal(x.numpy(), reader[reader.ids.index(ds.ids[2])][0].transpose(2, 0, 1))
    assert ds.split == "train" and len(ds) == len(ds.labels) == len(ds.ids)
    with pytest.raises(RetinaError):
        RetinaDataset(datasets[("raw", "float32")], dtype="uint8")
    with pytest.raises(RetinaError):
        RetinaDataset(datasets[("raw", "uint8")], dtype="float64")


def test_to_network_input_values():
    x = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)
    y = to_network_input(x)
    assert y.dtype == np.float32 and y[0, 0, 0] == -1.0 and y[15, 15, 0] == 1.0
    assert np.array_equal(y, (x.astype(np.float64) / 127.5 - 1).astype(np.float32))


def _batches(loader):
    return [(x.clone(), y.clone()) for x, y in loader]


@pytest.mark.parametrize("fmt", ["lmdb", "msgpack"])
def test_dataloader_workers_give_the_same_batches(datasets, fmt):
    ds = RetinaDataset(datasets[(fmt, "uint8")])
    sampler = DistributedEpochSampler(ds, rank=0, world=1, seed=5)
    sampler.set_epoch(3)
    serial = _batches(torch.utils.data.DataLoader(ds, batch_size=4, sampler=sampler, num_workers=0))
    workers = _batches(torch.utils.data.DataLoader(ds, batch_size=4, sampler=sampler, num_workers=2))
    assert len(serial) == len(workers) == 4
    for (a, ya), (b, yb) in zip(serial, workers):
        assert torch.equal(a, b) and torch.equal(ya, yb)
    order = epoch_order(len(ds), 5, 3)
    assert torch.equal(torch.cat([y for _, y in serial]), torch.from_numpy(ds.labels[order]))


def test_sampler_ranks_partition_the_epoch(datasets):
    ds = RetinaDataset(datasets[("raw", "uint8")])
    n = len(ds)
    for world in (1, 2, 4):
        samplers = [DistributedEpochSampler(n, rank=r, world=world, seed=1) for r in range(world)]
        for s in samplers:
            s.set_epoch(7)
        parts = [list(s) for s in samplers]
        assert all(len(p) == len(samplers[0]) == n // world for p in parts)
        assert [list(rank_slice(epoch_order(n, 1, 7), r, world)) for r in range(world)] == parts


def test_a_corrupt_record_in_a_worker_keeps_its_code(copy_dataset):
    path = copy_dataset("raw")
    reader = open_dataset(path)
    plan = reader._plans[0]
    name, offset, _ = plan.locate(1)
    with open(f"{plan.dir}/{name}", "r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xff\x00\xff")
    ds = RetinaDataset(path)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2)
    with pytest.raises(RetinaError) as caught:
        list(loader)
    assert caught.value.code == "CORRUPT" and caught.value.exit_code == 5
    assert f"record 1 ({reader.ids[1]})" in caught.value.message


@pytest.mark.parametrize("fmt,dtype", [("raw", "uint8"), ("msgpack", "uint8"), ("lmdb", "float16"), ("tfjs", "uint8")])
def test_whole_batches_equal_stacked_samples(datasets, fmt, dtype):
    for out in ("float32",) + (("uint8",) if dtype == "uint8" else ()):
        ds = RetinaDataset(datasets[(fmt, dtype)], dtype=out)
        idx = [5, 0, 3, 3, len(ds) - 1]
        x, y = ds[idx]
        assert x.is_contiguous() and tuple(x.shape) == (5, 3, 32, 32) and y.dtype == torch.int64
        assert torch.equal(x, torch.stack([ds[i][0] for i in idx]))
        assert y.tolist() == [ds[i][1] for i in idx]


def test_batch_loader_with_workers_and_a_sampler(datasets):
    ds = RetinaDataset(datasets[("lmdb", "uint8")])
    sampler = DistributedEpochSampler(ds, rank=1, world=2, seed=9)
    sampler.set_epoch(1)
    serial = _batches(ds.loader(batch_size=3, sampler=sampler))
    workers = _batches(ds.loader(batch_size=3, sampler=sampler, num_workers=2))
    per_sample = _batches(torch.utils.data.DataLoader(ds, batch_size=3, sampler=sampler))
    assert len(serial) == len(workers) == len(per_sample) == 3  # 16 records, 8 per rank, batches 3+3+2
    for (a, ya), (b, yb), (c, yc) in zip(serial, workers, per_sample):
        assert torch.equal(a, b) and torch.equal(a, c) and torch.equal(ya, yb) and torch.equal(ya, yc)
    assert len(_batches(ds.loader(batch_size=3, sampler=sampler, drop_last=True))) == 2


def test_uint8_batches_converted_later_give_the_same_floats(datasets):
    f32 = RetinaDataset(datasets[("raw", "uint8")])
    u8 = RetinaDataset(datasets[("raw", "uint8")], dtype="uint8")
    (a, ya), (b, yb) = next(iter(f32.loader(4))), next(iter(u8.loader(4)))
    assert b.dtype == torch.uint8 and torch.equal(ya, yb)
    assert torch.equal(RetinaDataset.to_float(b), a)


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_channels_last_gives_the_same_values_without_a_transpose(datasets, dtype):
    plain = RetinaDataset(datasets[("raw", "uint8")], dtype=dtype)
    cl = RetinaDataset(datasets[("raw", "uint8")], dtype=dtype, channels_last=True)
    x, _ = cl[3]
    assert tuple(x.shape) == (3, 32, 32) and torch.equal(x, plain[3][0])
    xb, yb = next(iter(cl.loader(5)))
    assert xb.is_contiguous(memory_format=torch.channels_last) and not xb.is_contiguous()
    pb, pyb = next(iter(plain.loader(5)))
    assert torch.equal(xb, pb) and torch.equal(yb, pyb)
    xs, _ = next(iter(torch.utils.data.DataLoader(cl, batch_size=5)))  # the per-sample path collates too
    assert torch.equal(xs, pb)


def test_spawned_workers_get_a_picklable_dataset_and_open_their_own_files(datasets):
    ds = RetinaDataset(datasets[("msgpack", "uint8")], split="train")
    loader = ds.loader(batch_size=4, num_workers=2, multiprocessing_context="spawn")
    got = _batches(loader)
    assert ds.reader._files == {}, "the main process opened shard files it never read"
    want = _batches(ds.loader(batch_size=4))
    assert len(got) == len(want) and all(torch.equal(a, b) and torch.equal(ya, yb) for (a, ya), (b, yb) in zip(got, want))
