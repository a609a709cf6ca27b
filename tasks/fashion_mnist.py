"""Fashion-MNIST (Xiao et al. 2017): 28x28 grayscale clothing images, 10 classes.

Offline: Debian ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist/*-ubyte.gz``,
IDX format), the official 60,000 / 10,000 train / test split; validation is carved from
train. Hub: ``zalando-datasets/fashion_mnist`` (same data). The PNG-encoded data set is
cached on disk after the first load.
"""

from __future__ import annotations

from pathlib import Path

import datasets

from benchmark.api import HubSource, OfflineSource, Task, existing_path, image_dataset, read_idx, register_task

ROOT = Path("/usr/share/datasets/fashion-mnist")
FIX = "apt-get install dataset-fashion-mnist"
LABELS = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _locate() -> list[Path]:
    return [existing_path(ROOT / f, FIX) for f in FILES]


def _read(files: list[Path]) -> datasets.DatasetDict:
    """train: 60,000 and test: 10,000 rows of ``id`` (``<split>-<index>``), ``image``, ``label``."""
    out = {}
    for split, images, labels in (("train", files[0], files[1]), ("test", files[2], files[3])):
        pixels, y = read_idx(images), read_idx(labels)
        out[split] = image_dataset(pixels, y, LABELS, [f"{split}-{i}" for i in range(len(y))])
    return datasets.DatasetDict(out)


@register_task("fashion_mnist")
def fashion_mnist() -> Task:
    return Task(
        name="fashion_mnist",
        kind="image",
        label_names=LABELS,
        description=(
            "Zalando article images (28x28 grayscale), 10 clothing classes; official test split."
        ),
        sources=(
            OfflineSource(
                "Debian dataset-fashion-mnist (offline)", _read, _locate, cache="fashion_mnist"
            ),
            HubSource("zalando-datasets/fashion_mnist"),
        ),
    )
