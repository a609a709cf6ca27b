"""Bring-your-own data: a task declared in a small YAML file.

Example (a folder of GLUE RTE TSV files next to the YAML file)::

    name: my_rte
    kind: text-pair                       # text | text-pair | image
    format: tsv                           # csv | tsv | jsonl | parquet | imagefolder
    files: {train: RTE/train.tsv, test: RTE/dev.tsv}     # relative to this YAML file
    columns: {premise: sentence1, hypothesis: sentence2} # standard column: file column
    label_names: [entailment, not_entailment]
    description: GLUE RTE from local TSV files
    primary_metric: accuracy

or one file split by a rule (SICK)::

    name: sick
    kind: text-pair
    format: tsv
    file: SICK_train.txt
    split: {validation: 0.1, test: 0.2, seed: 0}
    columns: {premise: sentence_A, hypothesis: sentence_B, label: entailment_judgment}
    label_names: [entailment, neutral, contradiction]

Keys:

- ``name`` (required): the task name (letters, digits, ``_ . -``).
- ``kind`` (required), ``format`` (required), ``label_names`` (required, >= 2).
- ``files`` (split -> path, needs ``train``) or ``file`` (one path): exactly one of them.
  Splits missing from ``files`` are carved from train by the ``split`` rule.
- ``split``: ``{validation: fraction, test: fraction, seed: int}`` (defaults 0.1, 0.2, 0):
  the deterministic, label-stratified carving of missing splits.
- ``columns``: standard column -> file column, for the input columns of the kind
  (``text``; ``premise`` + ``hypothesis``; ``image``), ``label`` and optionally ``id``.
  Unlisted columns are expected under their standard names. Not used by ``imagefolder``
  (``<folder>/<label>/<image file>``: the label is the subfolder name).
- ``description``, ``primary_metric`` (default ``accuracy``): optional.

Labels in files match ``label_names`` exactly, then case-insensitively (``ENTAILMENT``),
then as integers by position (``0`` is ``label_names[0]``). TSV is read GLUE-style, without
quote processing. Any problem is a one-line :class:`~benchmark.errors.DataError` naming the
file and key and saying how to fix it.

When the task is read (``tasks show`` included), every input and label cell must hold one
non-empty value (an empty or blank cell, or a list, is refused with its row and line), every
image must open (corrupt, truncated and > 50-megapixel files are all named), and the train
split must hold at least two classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from benchmark.data.sources import FORMATS, LocalFileSource
from benchmark.data.task import INPUT_COLUMNS, KINDS, SPLITS, Task
from benchmark.errors import DataError, did_you_mean

KEYS: tuple[str, ...] = (
    "name",
    "kind",
    "format",
    "files",
    "file",
    "split",
    "columns",
    "label_names",
    "description",
    "primary_metric",
)
REQUIRED: tuple[str, ...] = ("name", "kind", "format", "label_names")
SPLIT_KEYS: tuple[str, ...] = ("validation", "test", "seed")
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _check_keys(found: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in found:
        if key not in allowed:
            hint = " Use 'validation' for a dev split." if key in ("dev", "valid", "val") else ""
            raise DataError(
                f"{where}: unknown key {key!r}.{did_you_mean(str(key), allowed)}{hint} "
                f"Allowed keys: {', '.join(allowed)}."
            )


def _yaml11_text(value: Any) -> str:
    """The likely text behind a YAML 1.1 scalar (we cannot know if 'no' was 'No' or 'off')."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Parse ``path`` into a mapping; bad YAML is a one-line :class:`DataError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read task file {path}: {exc.strerror or exc}.") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise DataError(f"{path} is not valid YAML ({problem}{where}); fix the syntax.") from exc
    if not isinstance(data, dict):
        raise DataError(
            f"{path}: expected a mapping of keys (name: ..., kind: ...), got {type(data).__name__}."
        )
    return data


def load_task_yaml(path: str | Path) -> Task:
    """Validate the YAML task declaration at ``path`` and build its :class:`Task`.

    Only the declaration is checked here (keys, values, that the kind and columns fit); the
    data files are read when the task loads (:meth:`Task.load_full`), where malformed files
    raise :class:`DataError` and missing ones :class:`SourceUnavailable`.
    """
    path = Path(path).expanduser().resolve()
    spec = read_yaml(path)
    _check_keys(spec, KEYS, str(path))
    for key in REQUIRED:
        if key not in spec or spec[key] in (None, ""):
            raise DataError(f"{path}: missing required key {key!r}; add it.")

    name = spec["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise DataError(f"{path}: name {name!r} must be letters, digits, '_', '.' or '-'.")
    kind = spec["kind"]
    if kind not in KINDS:
        raise DataError(
            f"{path}: kind {kind!r} is not one of {list(KINDS)}.{did_you_mean(str(kind), KINDS)}"
        )
    fmt = spec["format"]
    if fmt not in FORMATS:
        raise DataError(
            f"{path}: format {fmt!r} is not one of {list(FORMATS)}."
            f"{did_you_mean(str(fmt), FORMATS)}"
        )
    if (fmt == "imagefolder") != (kind == "image"):
        raise DataError(
            f"{path}: format {fmt!r} does not fit kind {kind!r}; images use format imagefolder."
        )

    labels = spec["label_names"]
    if (
        not isinstance(labels, list)
        or len(labels) < 2
        or any(isinstance(x, dict | list) for x in labels)
    ):
        raise DataError(
            f"{path}: label_names must be a list of at least two names, e.g. [negative, positive]."
        )
    if any(isinstance(x, bool) or x is None for x in labels):
        # YAML 1.1 reads no/yes/on/off/true/false as booleans and ~/null as nothing: str() would
        # give 'False'/'True', which no label in the data files matches.
        quoted = ", ".join(f"'{_yaml11_text(x)}'" for x in labels)
        raise DataError(f"{path}: label_names {labels} holds booleans or nulls (YAML 1.1 reads no/yes/on/off/"
                        f"true/false as booleans); quote them: [{quoted}].")
    label_names = tuple(str(x) for x in labels)
    if len(set(label_names)) != len(label_names):
        raise DataError(
            f"{path}: label_names {list(label_names)} has duplicates; make them unique."
        )

    files = _files(spec, path)
    rule = _split_rule(spec.get("split"), path)
    columns = _columns(spec.get("columns"), kind, fmt, path)

    primary_metric = spec.get("primary_metric", "accuracy")
    description = spec.get("description") or f"bring-your-own data from {path}"
    if not isinstance(primary_metric, str) or not isinstance(description, str):
        raise DataError(f"{path}: description and primary_metric must be text.")
    return Task(
        name=name,
        kind=kind,
        label_names=label_names,
        sources=(LocalFileSource(fmt, files, kind, label_names, columns, origin=str(path)),),
        primary_metric=primary_metric,
        description=description,
        validation_fraction=rule["validation"],
        test_fraction=rule["test"],
        split_seed=int(rule["seed"]),
        origin=str(path),
    )


def _files(spec: Mapping[str, Any], path: Path) -> dict[str, Path]:
    if ("files" in spec) == ("file" in spec):
        raise DataError(
            f"{path}: give exactly one of 'files' (one path per split) "
            "or 'file' (one path + split rule)."
        )
    if "file" in spec:
        raw = spec["file"]
        if not isinstance(raw, str) or not raw:
            raise DataError(f"{path}: 'file' must be a path, e.g. file: data.csv.")
        return {"train": (path.parent / raw).resolve()}
    raw_files = spec["files"]
    if not isinstance(raw_files, dict) or not raw_files:
        raise DataError(
            f"{path}: 'files' must map splits to paths, "
            "e.g. files: {train: train.csv, test: test.csv}."
        )
    _check_keys(raw_files, SPLITS, f"{path}, files")
    if "train" not in raw_files:
        raise DataError(f"{path}: 'files' has no train file; add train: <path>.")
    out = {}
    for split, rel in raw_files.items():
        if not isinstance(rel, str) or not rel:
            raise DataError(f"{path}: files.{split} must be a path.")
        out[split] = (path.parent / rel).resolve()
    return out


def _split_rule(raw: Any, path: Path) -> dict[str, float]:
    rule: dict[str, float] = {"validation": 0.1, "test": 0.2, "seed": 0}
    if raw is None:
        return rule
    if not isinstance(raw, dict):
        raise DataError(
            f"{path}: 'split' must be a mapping, "
            "e.g. split: {validation: 0.1, test: 0.2, seed: 0}."
        )
    _check_keys(raw, SPLIT_KEYS, f"{path}, split")
    for key in ("validation", "test"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
                raise DataError(
                    f"{path}: split.{key} must be a fraction between 0 and 1, got {value!r}."
                )
            rule[key] = float(value)
    if "seed" in raw:
        if isinstance(raw["seed"], bool) or not isinstance(raw["seed"], int):
            raise DataError(f"{path}: split.seed must be an integer, got {raw['seed']!r}.")
        rule["seed"] = raw["seed"]
    if rule["validation"] + rule["test"] >= 1:
        raise DataError(
            f"{path}: split.validation + split.test must be below 1 to leave training data."
        )
    return rule


def _columns(raw: Any, kind: str, fmt: str, path: Path) -> dict[str, str]:
    if raw is None:
        return {}
    if fmt == "imagefolder":
        raise DataError(
            f"{path}: an imagefolder takes labels from subfolder names; remove 'columns'."
        )
    if not isinstance(raw, dict):
        raise DataError(
            f"{path}: 'columns' must map standard columns to file columns, e.g. {{text: review}}."
        )
    allowed = (*INPUT_COLUMNS[kind], "label", "id")
    _check_keys(raw, allowed, f"{path}, columns (standard column: file column, for kind {kind})")
    out = {}
    for std, col in raw.items():
        if not isinstance(col, str | int) or isinstance(col, bool):
            raise DataError(f"{path}: columns.{std} must be a column name, got {col!r}.")
        out[std] = str(col)
    return out
