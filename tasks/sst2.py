"""GLUE SST-2: Stanford Sentiment Treebank, binary (Socher et al. 2013).

Hub only (``nyu-mll/glue``, config ``sst2``). GLUE's test labels are hidden, so validation
(872 sentences) is the test split and validation is carved from train.
"""

from __future__ import annotations

from benchmark.api import HubSource, Task, register_task


@register_task("sst2")
def sst2() -> Task:
    return Task(
        name="sst2",
        kind="text",
        label_names=("negative", "positive"),
        description="GLUE SST-2: movie-review sentence sentiment. (test = GLUE validation)",
        sources=(
            HubSource(
                "nyu-mll/glue",
                "sst2",
                split_map={"train": "train", "validation": "test"},
                column_map={"sentence": "text"},
            ),
        ),
    )
