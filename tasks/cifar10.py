"""CIFAR-10 (Krizhevsky 2009): 32x32 colour images, 10 classes.

Hub only (``uoft-cs/cifar10``), official 50,000 / 10,000 train / test split; validation is
carved from train.
"""

from __future__ import annotations

from benchmark.api import HubSource, Task, register_task

LABELS = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@register_task("cifar10")
def cifar10() -> Task:
    return Task(
        name="cifar10",
        kind="image",
        label_names=LABELS,
        description="CIFAR-10: 32x32 colour photographs in 10 object classes.",
        sources=(HubSource("uoft-cs/cifar10", column_map={"img": "image"}),),
    )
