"""The seed project's two data paths, kept for comparison (the bench and the GPU script):

- `SeedImages`: JPEGs decoded every epoch with PIL, torchvision Resize(size) + CenterCrop(size) +
  ToTensor (as bench/seed_pil_torchvision.py), scaled to [-1, 1] like retina's tensors.
- `SeedTensorFiles`: one `torch.save`d float32 CHW tensor per image, `torch.load`ed per sample.

Neither reads retina datasets; `retina_data.RetinaDataset` does that."""
from __future__ import annotations

import csv
import os
import random
from typing import List, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset

from .errors import RetinaError


def read_labels(path: str, images: str) -> List[Tuple[str, int]]:
    """(image id, grade) rows of a Kaggle labels CSV (`image,level`) whose JPEG exists."""
    rows: List[Tuple[str, int]] = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                if "image" not in row or "level" not in row:
                    raise RetinaError("BAD_INPUT", f"{path} has no image,level header", file=path, line=1, hint="Use the Kaggle trainLabels.csv layout.")
                try:
                    grade = int(row["level"])
                except (TypeError, ValueError):
                    raise RetinaError("BAD_INPUT", f"{path}:{line}: grade {row['level']!r} is not an integer 0-4", file=path, line=line, hint="Fix the row.") from None
                if not 0 <= grade <= 4:
                    raise RetinaError("BAD_INPUT", f"{path}:{line}: grade {grade} outside 0-4", file=path, line=line, hint="Fix the row.")
                if os.path.exists(os.path.join(images, row["image"] + ".jpeg")):
                    rows.append((row["image"], grade))
    except FileNotFoundError:
        raise RetinaError("NOT_FOUND", f"Labels file {path} not found", file=path, hint="Pass --labels.") from None
    if not rows:
        raise RetinaError("BAD_INPUT", f"No row of {path} names a JPEG in {images}", file=path, hint="Check --images and --labels.")
    return rows


def split_patients(rows: List[Tuple[str, int]], val_fraction: float, seed: int) -> Tuple[list, list]:
    """Train and validation rows, whole patients (`10_left`, `10_right` -> patient 10) on one side."""
    patients = sorted({r[0].split("_")[0] for r in rows})
    random.Random(seed).shuffle(patients)
    val = set(patients[: int(round(len(patients) * val_fraction))])
    return [r for r in rows if r[0].split("_")[0] not in val], [r for r in rows if r[0].split("_")[0] in val]


class SeedImages(Dataset):
    def __init__(self, images: str, rows: List[Tuple[str, int]], size: int) -> None:
        from torchvision import transforms

        self.images, self.rows, self.size = images, rows, size
        self.tf = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size), transforms.ToTensor()])
        self.labels = np.array([g for _, g in rows], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int):
        from PIL import Image

        name, grade = self.rows[i]
        with Image.open(os.path.join(self.images, name + ".jpeg")) as im:
            x = self.tf(im.convert("RGB"))
        return x.mul_(2).sub_(1), grade, name


class SeedTensorFiles(Dataset):
    """`DIR/<i>.pt`, each a float32 CHW tensor, and the grades in memory (the seed kept labels in a list)."""

    def __init__(self, folder: str, labels: np.ndarray) -> None:
        self.folder, self.labels = folder, labels

    @staticmethod
    def write(folder: str, tensors, labels) -> None:
        os.makedirs(folder, exist_ok=True)
        for i, x in enumerate(tensors):
            torch.save(x, os.path.join(folder, f"{i}.pt"))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return torch.load(os.path.join(self.folder, f"{i}.pt")), int(self.labels[i]), str(i)
