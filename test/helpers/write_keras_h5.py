#!/usr/bin/python3
"""Write an HDF5 weights file in the layout Keras 2's `save_weights` gives InceptionV3 (no top).

Layout (keras/engine/saving.py, `save_weights_to_hdf5_group`): root attributes `layer_names`,
`backend`, `keras_version`; one group per layer (weightless layers too) with attribute
`weight_names`; each weight at `<layer>/<weight name>`, the weight name carrying the layer name
again (`conv2d_5/conv2d_5/kernel:0`). Conv2D has `kernel` [kh, kw, in, out] (no bias);
BatchNormalization(scale=False) has `beta`, `moving_mean`, `moving_variance`.

The unit list below is written from keras.applications.inception_v3 (conv2d_bn calls in order),
independently of retina's TypeScript topology, so the test also checks that the two agree.

Every value is known: value(unit k, role r, flat index j) = ((j*40503 + k*977 + r*131) % 65521)
/ 65521 - 0.5 (+1 for variances and gammas), as float32; the TypeScript test recomputes it.

Usage: write_keras_h5.py OUT [--names keras2|tf2] [--order creation|depth] [--bad-shape LAYER]
       [--drop LAYER] [--gamma]
"""
from __future__ import annotations

import argparse
from typing import List, Tuple

import h5py
import numpy as np

ROLES = {"kernel": 0, "gamma": 1, "beta": 2, "moving_mean": 3, "moving_variance": 4}


def inception_units() -> List[Tuple[int, int, int, int]]:
    """(in_channels, filters, kh, kw) of Keras' 94 conv2d_bn units, in creation order."""
    units: List[Tuple[int, int, int, int]] = []

    def unit(cin: int, filters: int, kh: int, kw: int) -> int:
        units.append((cin, filters, kh, kw))
        return filters

    c = unit(3, 32, 3, 3)
    c = unit(c, 32, 3, 3)
    c = unit(c, 64, 3, 3)
    c = unit(c, 80, 1, 1)
    c = unit(c, 192, 3, 3)
    for pool in (32, 64, 64):  # mixed0-2
        b1 = unit(c, 64, 1, 1)
        b5 = unit(unit(c, 48, 1, 1), 64, 5, 5)
        b3 = unit(unit(unit(c, 64, 1, 1), 96, 3, 3), 96, 3, 3)
        bp = unit(c, pool, 1, 1)
        c = b1 + b5 + b3 + bp
    b3 = unit(c, 384, 3, 3)  # mixed3
    bd = unit(unit(unit(c, 64, 1, 1), 96, 3, 3), 96, 3, 3)
    c = b3 + bd + c
    for f in (128, 160, 160, 192):  # mixed4-7
        b1 = unit(c, 192, 1, 1)
        b7 = unit(unit(unit(c, f, 1, 1), f, 1, 7), 192, 7, 1)
        bd = unit(unit(unit(unit(unit(c, f, 1, 1), f, 7, 1), f, 1, 7), f, 7, 1), 192, 1, 7)
        bp = unit(c, 192, 1, 1)
        c = b1 + b7 + bd + bp
    b3 = unit(unit(c, 192, 1, 1), 320, 3, 3)  # mixed8
    b7 = unit(unit(unit(unit(c, 192, 1, 1), 192, 1, 7), 192, 7, 1), 192, 3, 3)
    c = b3 + b7 + c
    for _ in range(2):  # mixed9-10
        b1 = unit(c, 320, 1, 1)
        s = unit(c, 384, 1, 1)
        b3 = unit(s, 384, 1, 3) + unit(s, 384, 3, 1)
        d = unit(unit(c, 448, 1, 1), 384, 3, 3)
        bd = unit(d, 384, 1, 3) + unit(d, 384, 3, 1)
        bp = unit(c, 192, 1, 1)
        c = b1 + b3 + bd + bp
    assert len(units) == 94 and c == 2048
    return units


def known(unit: int, role: str, shape: Tuple[int, ...]) -> np.ndarray:
    j = np.arange(int(np.prod(shape)), dtype=np.int64)
    base = ((j * 40503 + unit * 977 + ROLES[role] * 131) % 65521) / 65521.0 - 0.5
    if role in ("moving_variance", "gamma"):
        base = base + 1.0
    return base.astype(np.float32).reshape(shape)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--names", choices=["keras2", "tf2"], default="keras2")
    p.add_argument("--order", choices=["creation", "depth"], default="creation")
    p.add_argument("--bad-shape", default=None)
    p.add_argument("--drop", default=None)
    p.add_argument("--gamma", action="store_true")
    a = p.parse_args()

    def name(kind: str, k: int) -> str:
        # Keras 2.0-2.2 counted from 1 (conv2d_1); tf.keras counts from 0 without a suffix.
        if a.names == "keras2":
            return f"{kind}_{k}"
        return kind if k == 1 else f"{kind}_{k - 1}"

    layers: List[Tuple[str, List[Tuple[str, np.ndarray]]]] = [("input_1", [])]
    for k, (cin, filters, kh, kw) in enumerate(inception_units(), start=1):
        conv, bn, act = name("conv2d", k), name("batch_normalization", k), name("activation", k)
        kshape: Tuple[int, ...] = (kh, kw, cin, filters)
        if conv == a.bad_shape:
            kshape = (kw, kh, cin + 1, filters)
        layers.append((conv, [("kernel", known(k, "kernel", kshape))]))
        roles = (["gamma"] if a.gamma else []) + ["beta", "moving_mean", "moving_variance"]
        layers.append((bn, [(r, known(k, r, (filters,))) for r in roles]))
        layers.append((act, []))
    layers += [(f"mixed{i}", []) for i in range(11)] + [("mixed9_0", []), ("mixed9_1", [])]
    if a.drop:
        layers = [layer for layer in layers if layer[0] != a.drop]
    if a.order == "depth":
        # Keras lists model.layers by graph depth, so branches interleave: any order but creation.
        layers = layers[:1] + layers[1:][::-1]

    with h5py.File(a.out, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n, _ in layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.6"
        for layer, weights in layers:
            g = f.create_group(layer)
            g.attrs["weight_names"] = np.array([f"{layer}/{r}:0".encode() for r, _ in weights], dtype="S")
            for r, value in weights:
                g.create_dataset(f"{layer}/{r}:0", data=value)


if __name__ == "__main__":
    main()
