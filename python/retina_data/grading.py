"""Grading metrics over integer grades 0..classes-1, as retina's trainer reports them
(src/train/metrics.ts): confusion[actual][predicted], accuracy, quadratic weighted kappa (the
Kaggle DR metric) and the mean cross-entropy of probabilities clipped at 1e-7."""
from __future__ import annotations

import numpy as np


def confusion(actual: np.ndarray, predicted: np.ndarray, classes: int = 5) -> np.ndarray:
    a = np.asarray(actual, dtype=np.int64)
    p = np.asarray(predicted, dtype=np.int64)
    if a.shape != p.shape:
        raise ValueError(f"{a.size} actual vs {p.size} predicted grades")
    if a.size and (a.min() < 0 or a.max() >= classes or p.min() < 0 or p.max() >= classes):
        raise ValueError(f"a grade outside 0..{classes - 1}")
    m = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(m, (a, p), 1)
    return m


def accuracy(actual: np.ndarray, predicted: np.ndarray) -> float:
    a = np.asarray(actual)
    return float((a == np.asarray(predicted)).mean()) if a.size else 0.0


def quadratic_weighted_kappa(actual: np.ndarray, predicted: np.ndarray, classes: int = 5) -> float:
    """1 - sum(w*O) / sum(w*E), w_ij = (i-j)^2/(k-1)^2; 0 when E has no off-diagonal weight."""
    o = confusion(actual, predicted, classes).astype(np.float64)
    n = o.sum()
    if n == 0:
        return 0.0
    i, j = np.indices((classes, classes))
    w = (i - j) ** 2 / (classes - 1) ** 2
    e = np.outer(o.sum(1), o.sum(0)) / n
    den = (w * e).sum()
    return 0.0 if den == 0 else float(1 - (w * o).sum() / den)


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if y.size == 0:
        return 0.0
    return float(-np.log(np.maximum(1e-7, p[np.arange(y.size), y])).mean())
