"""SNLI: Stanford Natural Language Inference (Bowman et al. 2015).

Hub only (``stanfordnlp/snli``), official train / validation / test; pairs without a gold
label (label -1) are dropped.
"""

from __future__ import annotations

from benchmark.api import HubSource, Task, register_task


@register_task("snli")
def snli() -> Task:
    return Task(
        name="snli",
        kind="text-pair",
        label_names=("entailment", "neutral", "contradiction"),
        description="SNLI: image-caption premises with crowd-written hypotheses.",
        sources=(HubSource("stanfordnlp/snli"),),
    )
