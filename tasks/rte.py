"""GLUE RTE: Recognizing Textual Entailment (Dagan et al. 2006; Wang et al. 2019).

Hub only (``nyu-mll/glue``, config ``rte``). GLUE's test labels are hidden, so the public
validation split (277 pairs) is the test split and validation is carved from train.
"""

from __future__ import annotations

from benchmark.api import HubSource, Task, register_task


@register_task("rte")
def rte() -> Task:
    return Task(
        name="rte",
        kind="text-pair",
        label_names=("entailment", "not_entailment"),
        description="GLUE RTE: does the premise entail the hypothesis? (test = GLUE validation)",
        sources=(
            HubSource(
                "nyu-mll/glue",
                "rte",
                split_map={"train": "train", "validation": "test"},
                column_map={"sentence1": "premise", "sentence2": "hypothesis"},
            ),
        ),
    )
