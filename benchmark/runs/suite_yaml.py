"""Read a suite file (YAML): strict keys with a did-you-mean, one-line errors naming the file
and the key, tasks by registered name or by the path of a YAML task file.

    name: my_suite
    description: my NLI tasks
    tasks: [rte_local, ../data/sick.yaml, synthetic_nli]   # names or YAML task files
    pairs: same-family            # or a list: ["sick -> rte_local", ...]
    groups: ["sick, snli -> rte_local",     # fusion groups (optional): K >= 2 sources -> one target,
             "merge: sick, snli, rte_local"] # or K task models merged into one (runs/groups.py)
    controls: [more, shuffled]    # control sources into every target (optional); or per kind,
                                  # {more: all, shuffled: [rte_local]}
    control_budgets: [100]        # target budgets the controls run at (default: every budget)
    group_budgets: [100]          # target budgets many -> one groups run at (default: every budget)
    seeds: [0, 1, 2, 3, 4]
    max_seeds: 8                  # then seeds 5.. only for undecided pairs (optional; run --until-decided)
    methods: all                  # or a list of method names
    group_methods: [ties, fisher_merge]  # the methods run on groups (optional; default: methods)
    protocols:                    # one per input family the tasks use (text, image)
      text:
        backbone: minilm-l6
        trainable: top-1          # head | top-k | all
        tokens: 48                # token budget of a text (default: the backbone's)
        pair_encoding: siamese    # siamese (each sentence alone) | cross (one sequence)
        pair_tokens: 128          # budget per sentence of a pair (cross: of the pair)
        precision: auto           # auto (bf16 where native, else fp32) | bf16 | fp32
        budgets: {train: [100, 1000], validation: 300, test: 5000, source_train: 1000}
        train: {max_epochs: 3, patience: 0, batch_size: 32, lr: 2.0e-4, head_lr: 2.0e-3}

Paths are relative to the suite file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmark.data.controls import control_tasks
from benchmark.data.task import TASKS, Task, get_task, task_names
from benchmark.data.yaml_task import load_task_yaml, read_yaml
from benchmark.errors import ConfigError, did_you_mean, unknown_name
from benchmark.models.backbones import PAIR_ENCODINGS
from benchmark.models.method import METHODS
from benchmark.models.precision import PRECISIONS
from benchmark.models.training import TrainConfig
from benchmark.runs.groups import Group, parse_group
from benchmark.runs.roles import DEFAULT_JUDGE, DEFAULT_PRETRAINED, DEFAULT_REFERENCE, Roles
from benchmark.runs.suites import Protocol, Suite

KEYS = ("name", "description", "tasks", "pairs", "groups", "controls", "control_budgets", "group_budgets", "seeds",
        "max_seeds", "methods", "group_methods", "reference", "judge", "pretrained", "protocols")
REQUIRED = ("name", "tasks", "protocols")
PROTOCOL_KEYS = ("backbone", "trainable", "tokens", "pair_encoding", "pair_tokens", "precision", "budgets", "train")
BUDGET_KEYS = ("train", "validation", "test", "source_train")
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name != "bf16")  # bf16: from precision
FAMILIES = ("text", "image")
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
FLOAT_TEXT_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")  # 1e-3: a float YAML 1.1 reads as text
PAIR_RE = re.compile(r"^\s*([^\s>-][^>]*?)\s*->\s*(\S.*?)\s*$")


def _fail(path: Path, message: str) -> ConfigError:
    return ConfigError(f"suite file {path}: {message}")


def _keys(found: Mapping[Any, Any], allowed: tuple[str, ...], path: Path, where: str) -> None:
    for key in found:
        if key not in allowed:
            raise _fail(path, f"unknown key {where}{key!r}.{did_you_mean(str(key), allowed)} "
                              f"Allowed: {', '.join(allowed)}.")


def _int_list(value: Any, path: Path, key: str, low: int = 0) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and not isinstance(v, bool)
                                                          for v in value):
        raise _fail(path, f"{key!r} must be a non-empty list of integers, e.g. [0, 1, 2].")
    if len(set(value)) != len(value):
        raise _fail(path, f"{key!r} lists a value twice.")
    if min(value) < low:
        # A negative seed reaches numpy's generator as a traceback; a budget below 1 draws nothing.
        raise _fail(path, f"{key!r} has {min(value)}; every value must be >= {low}, e.g. [{low}, {low + 1}].")
    return tuple(value)


def _protocol(raw: Any, path: Path, family: str) -> Protocol:
    where = f"protocols.{family}."
    if not isinstance(raw, dict):
        raise _fail(path, f"protocols.{family} must be a mapping with keys {', '.join(PROTOCOL_KEYS)}.")
    _keys(raw, PROTOCOL_KEYS, path, where)
    if not isinstance(raw.get("backbone"), str):
        raise _fail(path, f"{where}backbone is required (e.g. minilm-l6).")
    budgets = raw.get("budgets") or {}
    _keys(budgets, BUDGET_KEYS, path, where + "budgets.")
    for key, value in budgets.items():
        if key != "train" and value is not None and not _positive_int(value):
            raise _fail(path, f"{where}budgets.{key} must be a positive integer or null (all), got {value!r}.")
    train_budgets = _train_budgets(budgets.get("train", 1000), path, where)
    for key in ("tokens", "pair_tokens"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 2):
            raise _fail(path, f"{where}{key} must be an integer >= 2 or null (the backbone's default), "
                              f"got {value!r}.")
    encoding = raw.get("pair_encoding", "siamese")
    if encoding not in PAIR_ENCODINGS:
        raise _fail(path, f"{where}pair_encoding {encoding!r} is unknown.{did_you_mean(str(encoding), PAIR_ENCODINGS)}"
                          f" Known: {', '.join(PAIR_ENCODINGS)}.")
    precision = raw.get("precision", "auto")
    if precision not in PRECISIONS:
        raise _fail(path, f"{where}precision {precision!r} is unknown.{did_you_mean(str(precision), PRECISIONS)} "
                          "Use auto (bf16 where the device runs it natively, else fp32), bf16 or fp32.")
    train = raw.get("train") or {}
    if "bf16" in train:
        raise _fail(path, f"{where}train.bf16 is replaced by {where}precision: auto | bf16 | fp32 "
                          f"(write precision: {'bf16' if train['bf16'] is True else 'fp32'}).")
    _keys(train, TRAIN_KEYS, path, where + "train.")
    try:
        config = TrainConfig(**{k: _typed(v, TrainConfig, k) for k, v in train.items()})
    except (TypeError, ValueError) as exc:
        raise _fail(path, f"{where}train.{exc}; fix the value.") from None
    return Protocol(raw["backbone"], str(raw.get("trainable", "top-1")),
                    train_budgets, budgets.get("validation", 300), budgets.get("test", 1000),
                    budgets.get("source_train", 1000), config,
                    tokens=raw.get("tokens"), pair_tokens=raw.get("pair_tokens"), pair_encoding=encoding,
                    precision=precision)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _train_budgets(value: Any, path: Path, where: str) -> tuple[int, ...]:
    """``budgets.train``: one target train budget or a list of them (the low-data axis)."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(_positive_int(v) for v in values):
        raise _fail(path, f"{where}budgets.train must be a positive integer or a list of them, e.g. [100, 1000] "
                          f"(a budget above the split's size takes all of it), got {value!r}.")
    if len(set(values)) != len(values):
        raise _fail(path, f"{where}budgets.train lists a budget twice.")
    return tuple(sorted(values))


def _typed(value: Any, cls: type, key: str) -> Any:
    kind = {f.name: f.type for f in dataclasses.fields(cls)}[key]
    if kind in ("float", float) and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in ("int", int) and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind in ("bool", bool) and isinstance(value, bool):
        return value
    if kind in ("float", float) and isinstance(value, str) and FLOAT_TEXT_RE.match(value):
        # YAML 1.1 (PyYAML) reads a float without a '.' in its mantissa, like 1e-3, as a string.
        raise ValueError(f"{key} is the text {value!r}: write {_yaml_float(value)} (YAML reads {value} as text)")
    raise ValueError(f"{key} must be {getattr(kind, '__name__', kind)}, got {value!r}")


def _yaml_float(text: str) -> str:
    """``1e-3`` -> ``1.0e-3``, ``2E4`` -> ``2.0e+4``: the spelling YAML 1.1 reads as a float
    (a '.' in the mantissa and a signed exponent)."""
    mantissa, exponent = re.split("[eE]", text, maxsplit=1)
    if "." not in mantissa:
        mantissa += ".0"
    elif mantissa.endswith("."):
        mantissa += "0"
    if exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}"


def _tasks(raw: Any, path: Path) -> dict[str, Task]:
    """The suite's tasks by name, in order: registered ones, and YAML task files read here
    (held by the suite, not registered: reading a suite changes no global registry)."""
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) for t in raw):
        raise _fail(path, "'tasks' must be a non-empty list of task names or YAML task files.")
    tasks: dict[str, Task] = {}
    for entry in raw:
        if entry.endswith((".yaml", ".yml")):
            file = (path.parent / entry).expanduser().resolve()
            if not file.is_file():
                raise _fail(path, f"task file {entry!r} does not exist (paths are relative to the suite file).")
            task = load_task_yaml(file)  # a malformed task file fails here, in one line
            if task.name in TASKS and get_task(task.name).origin != str(file):
                raise _fail(path, f"task file {entry!r} declares task {task.name!r}, a name already taken by "
                                  f"{TASKS.origin(task.name)}; rename it.")
        elif entry in TASKS:
            task = get_task(entry)
        else:
            raise _fail(path, str(unknown_name("task", entry, task_names())))
        if task.name in tasks:
            raise _fail(path, "'tasks' lists a task twice.")
        tasks[task.name] = task
    return tasks


def _pairs(raw: Any, tasks: Mapping[str, Task], path: Path) -> tuple[tuple[str, str], ...] | None:
    if raw in (None, "same-family"):
        return None
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise _fail(path, "'pairs' must be 'same-family' or a list like ['source -> target', ...].")
    pairs: list[tuple[str, str]] = []
    for item in raw:
        match = PAIR_RE.match(item)
        if not match:
            raise _fail(path, f"pair {item!r} is not 'source -> target'.")
        source, target = match.group(1), match.group(2)
        for name in (source, target):
            if name not in tasks:
                raise _fail(path, f"pair {item!r}: {unknown_name('task', name, tasks, where='in this suite')}")
        if source == target:
            raise _fail(path, f"pair {item!r}: source and target are the same task.")
        fs, ft = tasks[source].family, tasks[target].family
        if fs != ft:
            raise _fail(path, f"pair {item!r} crosses input families ({fs} -> {ft}); "
                              "a source and its target must share a backbone.")
        pairs.append((source, target))
    return tuple(pairs)


def _methods(spec: Mapping[str, Any], key: str, path: Path) -> str | list[str]:
    """``methods`` / ``group_methods``: ``all`` or a non-empty list of registered method names."""
    methods = spec.get(key, "all")
    if methods != "all":
        if not isinstance(methods, list) or not methods:
            raise _fail(path, f"'{key}' must be 'all' or a list of method names.")
        for m in methods:
            if m not in METHODS:
                where = "" if key == "methods" else f"{key}: "
                raise _fail(path, where + str(unknown_name("method", str(m), METHODS.names())))
    return methods


def _groups(raw: Any, tasks: Mapping[str, Task], path: Path) -> tuple[Group, ...]:
    """``groups``: a list of ``"a, b -> target"`` (many -> one) and ``"merge: a, b, c"`` (merge
    all) over the suite's tasks, each of one input family, none twice."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
        raise _fail(path, "'groups' must be a list like ['a, b -> target', 'merge: a, b, c'].")
    groups: dict[Group, str] = {}
    for item in raw:
        try:
            group = parse_group(item)
        except ValueError as exc:
            raise _fail(path, f"group {item!r} {exc}.") from None
        for name in group.tasks:
            if name not in tasks:
                raise _fail(path, f"group {item!r}: {unknown_name('task', name, tasks, where='in this suite')}")
        families = {name: tasks[name].family for name in group.tasks}
        if len(set(families.values())) > 1:
            which = ", ".join(f"{name}: {family}" for name, family in families.items())
            raise _fail(path, f"group {item!r} crosses input families ({which}); "
                              "a group's tasks must share a backbone.")
        if group in groups:
            raise _fail(path, f"group {item!r} repeats group {groups[group]!r} (the order of sources "
                              "does not matter); list it once.")
        groups[group] = item
    return tuple(groups)


def _controls(raw: Any, targets: tuple[str, ...], path: Path) -> dict[str, tuple[str, ...]]:
    """``controls``: a list of kinds (into every target) or {kind: all | [targets]} -> target -> kinds."""
    if raw is None:
        return {}
    if isinstance(raw, list) and all(isinstance(c, str) for c in raw):
        raw = {kind: "all" for kind in raw}
    if not isinstance(raw, dict):
        raise _fail(path, "'controls' must be a list of control kinds, e.g. [more, shuffled], or map a kind to "
                          "'all' or a list of targets, e.g. {more: all, shuffled: [mnist]}.")
    out: dict[str, list[str]] = {}
    for kind, which in raw.items():
        if which == "all":
            which = list(targets)
        if not isinstance(which, list) or not all(isinstance(t, str) for t in which):
            raise _fail(path, f"controls.{kind} must be 'all' or a list of target tasks.")
        for target in which:
            if target not in targets:
                unknown = unknown_name("target task", target, targets, where="in this suite")
                raise _fail(path, f"controls.{kind}: {unknown}")
            out.setdefault(target, []).append(str(kind))
    return {t: tuple(kinds) for t, kinds in out.items()}


def _budget_list(spec: Mapping[str, Any], key: str, protocols: Mapping[str, Protocol],
                 path: Path) -> tuple[int, ...] | None:
    """``control_budgets`` / ``group_budgets``: train budgets of some protocol, or None (all)."""
    if spec.get(key) is None:
        return None
    budgets = _int_list(spec[key], path, key, low=1)
    known = sorted({b for p in protocols.values() for b in p.train_budgets})
    for b in budgets:
        if b not in known:
            raise _fail(path, f"{key}: {b} is not a train budget of any protocol; use one of {known}.")
    return budgets


def _roles(spec: Mapping[str, Any], path: Path) -> Roles:
    """``reference`` and ``pretrained`` (methods with no source) and ``judge`` (a fusion method,
    or null for none)."""
    reference = spec.get("reference", DEFAULT_REFERENCE)
    judge = spec.get("judge", DEFAULT_JUDGE)
    pretrained = spec.get("pretrained", DEFAULT_PRETRAINED)
    for key, name in (("reference", reference), ("judge", judge), ("pretrained", pretrained)):
        if name is None and key == "judge":
            continue
        if not isinstance(name, str) or name not in METHODS:
            raise _fail(path, f"{key}: {unknown_name('method', str(name), METHODS.names())}")
    for key, name, example in (("reference", reference, DEFAULT_REFERENCE),
                               ("pretrained", pretrained, DEFAULT_PRETRAINED)):
        if METHODS.get(name).uses_source() != "none":
            raise _fail(path, f"{key}: {name!r} uses a source; the {key} is measured per target alone "
                              f"(e.g. {example}).")
    if judge is not None and METHODS.get(judge).uses_source() == "none":
        raise _fail(path, f"judge: {judge!r} uses no source, so it cannot judge a transfer; name a fusion "
                          "method (e.g. finetune) or judge: null.")
    return Roles(reference=reference, judge=judge, pretrained=pretrained)


def load_suite_file(path: str | Path) -> Suite:
    """Validate the suite file at ``path`` and build its :class:`Suite`."""
    path = Path(path).expanduser().resolve()
    spec = read_yaml(path)
    _keys(spec, KEYS, path, "")
    for key in REQUIRED:
        if key not in spec:
            raise _fail(path, f"missing required key {key!r}; add it.")
    name = spec["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _fail(path, f"name {name!r} must be letters, digits, '_', '-', '.' (it names a results folder).")
    resolved = _tasks(spec["tasks"], path)
    tasks = tuple(resolved)
    raw_protocols = spec["protocols"]
    if not isinstance(raw_protocols, dict):
        raise _fail(path, "'protocols' must map a family (text, image) to its protocol.")
    _keys(raw_protocols, FAMILIES, path, "protocols.")
    protocols = {family: _protocol(raw, path, family) for family, raw in raw_protocols.items()}
    for task in tasks:
        family = resolved[task].family
        if family not in protocols:
            raise _fail(path, f"task {task!r} is a {family} task but there is no protocols.{family}; add one.")
    explicit_pairs = _pairs(spec.get("pairs"), resolved, path)
    groups = _groups(spec.get("groups"), resolved, path)
    # Controls go into pair targets: a task only merge-all groups evaluate is judged against its expert.
    targets = Suite(name, "", tasks, protocols, explicit_pairs=explicit_pairs, groups=groups,
                    resolved=resolved).pair_targets()
    controls = _controls(spec.get("controls"), targets, path)
    control_budgets = _budget_list(spec, "control_budgets", protocols, path)
    group_budgets = _budget_list(spec, "group_budgets", protocols, path)
    if group_budgets is not None and not any(g.kind == "many-to-one" for g in groups):
        raise _fail(path, "'group_budgets' sets the budgets many -> one groups run at, but the suite has none; "
                          "add one ('a, b -> t') or drop 'group_budgets'.")
    methods = _methods(spec, "methods", path)
    group_methods = _methods(spec, "group_methods", path) if "group_methods" in spec else None
    if group_methods is not None and not groups:
        raise _fail(path, "'group_methods' names the methods run on groups, but the suite has no 'groups'; "
                          "add groups or drop 'group_methods'.")
    roles = _roles(spec, path)
    seeds = _int_list(spec.get("seeds", [0, 1, 2, 3, 4]), path, "seeds")
    max_seeds = spec.get("max_seeds")
    if max_seeds is not None and (not _positive_int(max_seeds) or max_seeds <= len(seeds)):
        raise _fail(path, f"max_seeds must be an integer above the {len(seeds)} planned seeds, got {max_seeds!r}.")
    suite = Suite(
        name=name, description=str(spec.get("description", "")), tasks=tasks, protocols=protocols,
        seeds=seeds, max_seeds=max_seeds,
        methods=None if methods == "all" else tuple(methods),
        group_methods=None if group_methods in (None, "all") else tuple(group_methods),
        explicit_pairs=explicit_pairs, groups=groups, controls=controls,
        control_budgets=control_budgets, group_budgets=group_budgets, roles=roles,
        file=str(path), content_hash=hashlib.sha256(path.read_bytes()).hexdigest()[:16],
        resolved=resolved,
    )
    try:
        for task, kinds in controls.items():
            # A control's slice avoids the target's draws at the budgets it runs at.
            budgets = [b for b in suite.budgets(task) if suite.runs_control_at(b)]
            resolved.update((c.name, c) for c in control_tasks(resolved[task], kinds, budgets))
    except ConfigError as exc:
        raise _fail(path, f"controls: {exc}") from None
    return suite
