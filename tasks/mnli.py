"""GLUE MNLI: Multi-Genre Natural Language Inference (Williams et al. 2018).

Hub only (``nyu-mll/glue``, config ``mnli``). GLUE's test labels are hidden, so
``validation_matched`` (9,815 pairs) is the test split and validation is carved from train.
"""

from __future__ import annotations

from benchmark.api import HubSource, Task, register_task


@register_task("mnli")
def mnli() -> Task:
    return Task(
        name="mnli",
        kind="text-pair",
        label_names=("entailment", "neutral", "contradiction"),
        description=(
            "GLUE MNLI: premise/hypothesis inference over ten genres. (test = validation_matched)"
        ),
        validation_fraction=0.02,
        sources=(
            HubSource(
                "nyu-mll/glue", "mnli", split_map={"train": "train", "validation_matched": "test"}
            ),
        ),
    )
