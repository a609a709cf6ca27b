"""scikit-learn's bundled optical-recognition digits (UCI; 1,797 8x8 images, 10 classes).

Pixel values 0..16 are scaled to 0..255 grayscale. No official split.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np

from benchmark.api import OfflineSource, Task, image_dataset, register_task

LABELS = tuple(str(d) for d in range(10))


def _read(files: list[Path]) -> datasets.DatasetDict:
    """1,797 rows: ``id`` (``digits-<index>``), ``image`` (8x8 "L"), ``label``."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.rint(np.asarray(bunch.images) * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    ids = [f"digits-{i}" for i in range(len(pixels))]
    return datasets.DatasetDict(
        {"train": image_dataset(pixels, np.asarray(bunch.target), LABELS, ids)}
    )


@register_task("digits")
def digits() -> Task:
    return Task(
        name="digits",
        kind="image",
        label_names=LABELS,
        description="Handwritten digits, 8x8 grayscale (scikit-learn load_digits, UCI).",
        sources=(OfflineSource("scikit-learn load_digits (offline)", _read, cache="digits"),),
    )
