"""GLUE MRPC: Microsoft Research Paraphrase Corpus (Dolan & Brockett 2005).

Hub only (``nyu-mll/glue``, config ``mrpc``), as a sentence-pair task. GLUE's test labels
are hidden, so validation (408 pairs) is the test split and validation is carved from train.
"""

from __future__ import annotations

from benchmark.api import HubSource, Task, register_task


@register_task("mrpc")
def mrpc() -> Task:
    return Task(
        name="mrpc",
        kind="text-pair",
        label_names=("not_equivalent", "equivalent"),
        description="GLUE MRPC: are the two news sentences paraphrases? (test = GLUE validation)",
        sources=(
            HubSource(
                "nyu-mll/glue",
                "mrpc",
                split_map={"train": "train", "validation": "test"},
                column_map={"sentence1": "premise", "sentence2": "hypothesis"},
            ),
        ),
    )
