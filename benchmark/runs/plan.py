"""Planning: a suite and filters become the list of runs to do. Pure: nothing is loaded or run."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from benchmark.data.controls import is_control
from benchmark.errors import ConfigError, did_you_mean, unknown_name
from benchmark.models.method import METHODS, make_method, parse_overrides
from benchmark.runs.groups import source_set
from benchmark.runs.store import NO_SOURCE, RunId
from benchmark.runs.suites import Suite


@dataclass
class RunFilters:
    """Restrict a suite to some targets, methods or seeds; override hyperparameters."""

    tasks: list[str] | None = None
    methods: list[str] | None = None
    seeds: list[int] | None = None
    budgets: list[int] | None = None
    hyperparameters: list[str] = field(default_factory=list)
    retry_failed: bool = False
    #: auto | bf16 | fp32 for every protocol (None: each protocol's own, default auto).
    precision: str | None = None


def plan_runs(suite: Suite, filters: RunFilters) -> list[RunId]:
    """Every run of the suite after filters: per-target methods once, fusion methods per pair,
    and per many -> one group, at the suite's ``group_budgets``, the group methods
    (``group_methods``, default ``methods``) that take its K sources (source: the group's source
    set, ``a+b``); a method run on groups only also runs on the controls into those groups'
    targets, so a control proves what it can see, and on each group's leave-one-out source sets
    (its pairs, for K = 2), so what each source adds is measured for it too; per merge-all group
    holding the target, at the source budget, the group methods that merge K models into one
    (source: the whole group). A source budget that is not a train budget, and every budget of a
    task only merge-all groups evaluate, runs only the per-target methods (the expert and the
    pretrained row) and the merges (``Suite.run_budgets``)."""
    check_filters(filters)
    own_methods = list(suite.methods or METHODS.names())
    own_group_methods = list((suite.group_methods if suite.group_methods is not None else suite.methods)
                             or METHODS.names())
    if filters.methods is None:
        methods, group_methods = own_methods, own_group_methods
    else:  # a method the suite runs on groups only stays on its groups
        group_only = set(own_group_methods) - set(own_methods)
        methods = [m for m in filters.methods if m not in group_only]
        group_methods = [m for m in filters.methods if m in own_group_methods]
    for m in methods + group_methods:
        METHODS.get(m)
    check_hyperparameters(filters.hyperparameters, methods + [m for m in group_methods if m not in methods])
    known_targets = suite.targets()
    targets = filters.tasks or list(known_targets)
    for t in targets:
        if t not in known_targets:
            raise unknown_name("target task", t, known_targets, where=f"in suite {suite.name!r}")
    seeds = filters.seeds if filters.seeds is not None else list(suite.seeds)
    known = sorted({b for t in targets for b in suite.run_budgets(t)})
    for b in filters.budgets or []:
        if b not in known:
            raise ConfigError(f"--budgets {b}: suite {suite.name!r} has no target budget {b}; use one of {known}.")
    check_groups(suite, group_methods, check_methods=filters.methods is None)
    pairs = suite.pairs()
    runs: list[RunId] = []
    for target in targets:
        source_budget = suite.protocols[suite.family_of(target)].source_train_budget
        merge_groups = suite.merge_groups_of(target)
        for budget in suite.run_budgets(target):
            if filters.budgets is not None and budget not in filters.budgets:
                continue
            paired = suite.pair_budget(target, budget)  # else only per-target methods and merges
            sources = [s for s, t in pairs if paired and t == target
                       and (not is_control(s) or suite.runs_control_at(budget))]
            groups = suite.groups_into(target) if paired and suite.runs_groups_at(budget) else []
            # A merge-all group's model is evaluated on each task at the draw its experts were tuned on.
            merges = merge_groups if budget == source_budget else []
            for seed in seeds:
                for m in methods:
                    cls = METHODS.get(m)
                    if cls.is_fusion():
                        runs.extend(RunId(suite.name, target, m, s, budget, seed) for s in sources)
                    elif paired or m in (suite.roles.reference, suite.roles.pretrained):
                        runs.append(RunId(suite.name, target, m, NO_SOURCE, budget, seed))
                for m in group_methods:
                    cls = METHODS.get(m)
                    if not cls.is_fusion():
                        continue
                    if m not in methods and groups:
                        # a group-only method still meets the controls of its many -> one targets
                        runs.extend(RunId(suite.name, target, m, s, budget, seed) for s in sources
                                    if is_control(s) and cls.takes_sources(1))
                    for g in groups:
                        if not cls.takes_sources(len(g.sources)):
                            continue
                        runs.append(RunId(suite.name, target, m, g.source_set, budget, seed))
                        if m not in methods:  # the leave-one-out sets its group_scores.csv row needs
                            runs.extend(RunId(suite.name, target, m, source_set(sub), budget, seed)
                                        for sub in combinations(g.sources, len(g.sources) - 1)
                                        if cls.takes_sources(len(sub)))
                    runs.extend(RunId(suite.name, target, m, g.source_set, budget, seed) for g in merges
                                if cls.takes_merge_all(len(g.sources)))
    return list(dict.fromkeys(runs))  # a leave-one-out set may be a pair or a group already planned


def check_groups(suite: Suite, methods: list[str], check_methods: bool = True) -> None:
    """Refuse what cannot plan a suite's groups: a merge-all group whose tasks' protocol has no
    source budget (its experts' draw), and, when ``check_methods`` (the suite's own methods, not
    a ``--methods`` filter, which may narrow them), a group that none of ``methods`` can fuse
    (many -> one) or merge (merge all), naming those that can."""
    for group in suite.groups:
        k = len(group.sources)
        if group.kind == "merge-all":
            for task in group.sources:
                family = suite.family_of(task)
                if suite.protocols[family].source_train_budget is None:
                    raise ConfigError(f"suite {suite.name!r}: merge-all group {group.label()!r} is evaluated at the "
                                      f"source budget (the draw its experts are tuned on), but the {family} "
                                      "protocol has none; set budgets.source_train.")
            merging = [m for m in methods if METHODS.get(m).takes_merge_all(k)]
            if check_methods and not merging:
                able = [m for m in METHODS.names() if METHODS.get(m).takes_merge_all(k)]
                raise ConfigError(f"suite {suite.name!r}: merge-all group {group.label()!r}: none of its methods "
                                  f"merges K task models into one; add one that does ({', '.join(able)}) "
                                  "or drop the group.")
            continue
        fusion = [m for m in methods if METHODS.get(m).is_fusion()]
        if check_methods and fusion and not any(METHODS.get(m).takes_sources(k) for m in fusion):
            raise ConfigError(f"suite {suite.name!r}: group {group.label()!r} has {k} sources but none of its "
                              f"methods takes {k} ({', '.join(fusion)} do not); add one that does "
                              f"({', '.join(group_methods(k)) or 'none is registered'}) or drop the group.")


def group_methods(k: int) -> list[str]:
    """The registered methods that take a source set of ``k`` tasks."""
    return [m for m in METHODS.names() if METHODS.get(m).takes_sources(k)]


def check_filters(filters: RunFilters) -> None:
    """Refuse filters that select nothing or cannot run: an empty list would otherwise read as
    "no filter" (every method), a negative seed fails inside numpy, a budget below 1 draws nothing."""
    for option, values in (("--tasks", filters.tasks), ("--methods", filters.methods),
                           ("--seeds", filters.seeds), ("--budgets", filters.budgets)):
        if values is not None and not values:
            raise ConfigError(f"{option} is empty; name at least one (e.g. {option} {_EXAMPLES[option]}) "
                              "or drop the option to run the suite's own.")
        twice = sorted({str(v) for v in values or [] if list(values or []).count(v) > 1})
        if twice:  # a repeated seed would plan the same run twice and count it twice
            raise ConfigError(f"{option} lists {', '.join(twice)} twice; name each once.")
    for seed in filters.seeds or []:
        if seed < 0:
            raise ConfigError(f"--seeds {seed}: a seed must be an integer >= 0, e.g. --seeds 0,1,2.")
    for budget in filters.budgets or []:
        if budget < 1:
            raise ConfigError(f"--budgets {budget}: a budget must be an integer >= 1, e.g. --budgets 100.")


_EXAMPLES = {"--tasks": "digits", "--methods": "target_only,finetune", "--seeds": "0,1,2", "--budgets": "100"}


def check_hyperparameters(items: list[str], methods: list[str]) -> None:
    """Every ``--hp METHOD.NAME=VALUE`` names a method of this run and one of its
    hyperparameters with a value of the right type; an override nothing uses is an error,
    not a silent no-op."""
    for method, values in parse_overrides(items).items():
        if method not in methods:
            raise ConfigError(f"--hp {method}.{next(iter(values))}: method {method!r} is not in this run."
                              f"{did_you_mean(method, methods)} Methods in this run: {', '.join(methods)}; "
                              f"add it with --methods or drop the --hp.")
        make_method(method, values)  # an unknown name (with a did-you-mean) or a bad value fails here
