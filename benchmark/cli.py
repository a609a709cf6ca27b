"""Command line: ``python -m benchmark ...``. Parses arguments and calls the library; no logic."""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from benchmark.errors import BenchmarkError, ConfigError, EnvironmentFault, unknown_name

if TYPE_CHECKING:
    from benchmark.analysis.stats.settings import AnalysisSettings
    from benchmark.pipeline import RunRequest
    from benchmark.runs.executor import Executor

log = logging.getLogger("benchmark")

LIST_KINDS = ("tasks", "methods", "suites")


def _table(rows: list[dict[str, object]], columns: Sequence[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) if rows else len(c) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines.append("  ".join("-" * widths[c] for c in columns))
    for r in rows:
        lines.append("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip())
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    if args.what not in LIST_KINDS:
        raise unknown_name("list kind", args.what, LIST_KINDS)
    if args.what == "tasks":
        from benchmark.data.inspect import task_rows

        print(_table(task_rows(), ["name", "kind", "classes", "train", "validation", "test", "source", "status"]))
    elif args.what == "methods":
        from benchmark.models.method import method_rows

        print(_table(method_rows(), ["name", "uses_source", "hyperparameters", "summary"]))
    else:
        from benchmark.runs.suite_catalog import suite_rows

        columns = ["name", "from", "tasks", "pairs", "groups", "methods", "seeds", "runs", "budget", "protocol"]
        print(_table(suite_rows(), columns))
    return 0


def cmd_tasks_show(args: argparse.Namespace) -> int:
    from benchmark.data.inspect import show_task

    print(show_task(args.name, n_examples=args.examples))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from benchmark.runs.lock import results_lock
    from benchmark.runs.runner import check_machine, check_run

    check_machine(args.device)  # before the lock: the machine's fault leaves nothing behind (exit 4)
    request = _request(args)
    # Every setting is checked before the lock and plan.json exist: a bad input leaves nothing.
    check_run(request.suite, request.results_dir, request.filters, request.max_seeds)
    with results_lock(args.results, wait_seconds=args.wait):  # one writer per results folder
        return _run(request)


def _request(args: argparse.Namespace) -> RunRequest:
    from pathlib import Path

    from benchmark.pipeline import RunRequest
    from benchmark.runs.plan import RunFilters

    filters = RunFilters(
        tasks=_split(getattr(args, "tasks", None)),
        methods=_split(getattr(args, "methods", None)),
        seeds=_ints(getattr(args, "seeds", None), "--seeds"),
        budgets=_ints(getattr(args, "budgets", None), "--budgets"),
        hyperparameters=getattr(args, "hp", None) or [],
        retry_failed=getattr(args, "retry_failed", False),
        precision=args.precision,
    )
    return RunRequest(suite=args.suite, results_dir=Path(args.results), filters=filters, device=args.device,
                      executor=_executor(args) if hasattr(args, "executor") else None,
                      until_decided=getattr(args, "until_decided", False), max_seeds=getattr(args, "max_seeds", None),
                      futility=getattr(args, "futility", False), settings=_settings(args))


def _settings(args: argparse.Namespace) -> AnalysisSettings:
    from benchmark.analysis.stats.settings import AnalysisSettings

    try:
        return AnalysisSettings(alpha=args.alpha, correction=args.correction, margin=args.margin)
    except ValueError as exc:
        raise ConfigError(f"{exc} (--{str(exc).split()[0]})") from None


def _run(request: RunRequest) -> int:
    from benchmark.pipeline import run_pipeline

    summary = run_pipeline(request)
    print(summary.line())
    return 0 if summary.n_failed == 0 else 1


def cmd_transferability(args: argparse.Namespace) -> int:
    from benchmark.analysis.leaderboard import build_leaderboards
    from benchmark.pipeline import score_transferability
    from benchmark.runs.lock import results_lock
    from benchmark.runs.runner import check_machine

    check_machine(args.device)
    request = _request(args)  # settings checked before the lock: a bad one leaves nothing behind
    with results_lock(args.results, wait_seconds=args.wait):
        scored, reused, failed = score_transferability(request)
        build_leaderboards(args.results, settings=_settings(args))
    print(f"transferability: {scored} scored, {reused} already scored, {failed} failed")
    return 0 if failed == 0 else 1


def cmd_validate(args: argparse.Namespace) -> int:
    from benchmark.validate import validate_method_file

    report = validate_method_file(args.path, device=args.device, precision=args.precision)
    print(report)
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from benchmark.analysis.leaderboard import build_leaderboards

    written = build_leaderboards(args.results, settings=_settings(args))
    for path in written:
        print(path)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from benchmark.analysis.report import build_report

    for path in build_report(args.results):
        print(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from benchmark.analysis.compare import compare_files

    options: dict[str, str] = {}
    for item in args.option or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--option {item!r} must be NAME=VALUE, e.g. --option metric=acc")
        options[name.strip()] = value.strip()
    result = compare_files(args.importer, args.inputs, out_dir=args.out, baseline=args.baseline, family=args.family,
                           settings=_settings(args), options=options)
    counts = result.verdicts["verdict"].value_counts().to_dict()
    print(f"{len(result.verdicts)} comparisons: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
          + f" -> {args.out}/verdicts.csv, ranking.csv, report/index.html")
    return 0


def _executor(args: argparse.Namespace) -> Executor | None:
    """None (the local executor) or a :class:`RayExecutor` from ``--executor ray`` and its options."""
    if args.executor == "local":
        if args.address or args.num_workers:
            raise ConfigError("--address and --num-workers apply to --executor ray; add it or drop them.")
        return None
    from benchmark.runs.ray_executor import RayExecutor, import_ray

    import_ray()  # fail now, in one line, when Ray is not installed
    if args.address and args.num_workers:
        raise ConfigError("--num-workers sizes a local Ray runtime; with --address the cluster decides. Drop one.")
    return RayExecutor(args.address, args.num_workers)


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    # An empty option ('--methods ""') stays an empty list: the plan refuses it, not "every method".
    return [v.strip() for v in value.split(",") if v.strip()]


def _ints(value: str | None, option: str) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(s) for s in _split(value) or []]
    except ValueError:
        raise ConfigError(f"{option} {value!r} must be comma-separated integers, e.g. {option} 0,1,2.") from None


def _add_stats_options(p: argparse.ArgumentParser) -> None:
    from benchmark.analysis.stats.multiple import CORRECTIONS
    from benchmark.analysis.stats.settings import DEFAULTS

    p.add_argument("--alpha", type=float, default=DEFAULTS.alpha, help=f"significance level (default {DEFAULTS.alpha})")
    p.add_argument(
        "--correction", choices=CORRECTIONS, default=DEFAULTS.correction,
        help=f"multiple-comparison adjustment within each method's family of pairs (default {DEFAULTS.correction})",
    )
    p.add_argument("--margin", type=float, default=DEFAULTS.margin,
                   help=f"equivalence margin of a gain, as an accuracy difference (0.01 = 1 point; "
                        f"default {DEFAULTS.margin})")


def _add_precision_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default=None,
                   help="numeric precision of training and encoding for every protocol (default: the suite's, "
                        "whose default is auto: bf16 where the device runs it natively, else fp32)")


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments get one line (what is wrong and where to look), not the whole usage."""

    def error(self, message: str) -> NoReturn:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        close = difflib.get_close_matches(choice[1], re.findall(r"'([^']*)'", choice[2]), n=1) if choice else []
        hint = f" Did you mean {close[0]!r}?" if close else ""  # a misspelled command or option value
        self.exit(2, f"error: {self.prog}: {message}.{hint} See '{self.prog} --help'.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="python -m benchmark",
        description="Task-fusion benchmark: does knowledge from a source task help or hurt a target task?",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list tasks, methods or suites")
    p.add_argument("what", help="tasks | methods | suites")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("tasks", help="inspect a task")
    tsub = p.add_subparsers(dest="tasks_command", required=True)
    ps = tsub.add_parser("show", help="splits, sizes, label distribution and examples of a task")
    ps.add_argument("name")
    ps.add_argument("--examples", type=int, default=3, help="examples to print (default 3)")
    ps.set_defaults(func=cmd_tasks_show)

    p = sub.add_parser("run", help="run a suite: every method on every transfer pair and seed")
    p.add_argument("--all", action="store_true", help="run the whole suite (the default when no filter is given)")
    p.add_argument("--suite", default="default", help="suite name or suite file (default: default); see 'list suites'")
    p.add_argument("--tasks", help="comma-separated target tasks to run (default: all in the suite)")
    p.add_argument("--methods", help="comma-separated methods (default: all registered)")
    p.add_argument("--seeds", help="comma-separated seeds (default: the suite's)")
    p.add_argument("--budgets", help="comma-separated target train budgets (default: the suite's)")
    p.add_argument("--hp", action="append", metavar="METHOD.NAME=VALUE", help="override a hyperparameter")
    p.add_argument("--results", default="results", help="results folder (default: results)")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument("--retry-failed", action="store_true", help="rerun runs recorded as failed")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="when another run is writing the results folder, wait this long for it (default: "
                        "refuse at once, exit code 3)")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="where runs execute: this process (local, default) or Ray tasks (ray; pip install '.[ray]')")
    p.add_argument("--address", help="with --executor ray: the Ray cluster to join (default: start a local runtime)")
    p.add_argument("--num-workers", type=int, help="with --executor ray: CPUs of the local Ray runtime (default: all)")
    p.add_argument("--until-decided", action="store_true",
                   help="after the planned seeds, add seeds only to undecided pairs (sequential, error-controlled)")
    p.add_argument("--max-seeds", type=int, default=None,
                   help="most seeds a pair gets with --until-decided (default: the suite's max_seeds, else 6)")
    p.add_argument("--futility", action="store_true",
                   help="with --until-decided: add no seeds to pairs that no seed count up to the maximum "
                        "is projected to decide (saves runs, costs power; README 'Speed')")
    _add_precision_option(p)
    _add_stats_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("transferability", help="score sources for their targets before training (LogME, LEEP, "
                                              "NCE, H-score, baselines) and rebuild the leaderboards")
    p.add_argument("--suite", default="default", help="suite name or suite file (default: default)")
    p.add_argument("--results", default="results", help="results folder (default: results)")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="when a run is writing the results folder, wait this long for it (default: refuse)")
    _add_precision_option(p)
    _add_stats_options(p)
    p.set_defaults(func=cmd_transferability)

    p = sub.add_parser("validate", help="check a submitted method file")
    p.add_argument("path")
    p.add_argument("--device", default="cpu")
    _add_precision_option(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("leaderboard", help="rebuild leaderboards from results/runs")
    p.add_argument("--results", default="results")
    _add_stats_options(p)
    p.set_defaults(func=cmd_leaderboard)

    p = sub.add_parser("compare", help="calibrated verdicts and a ranking with tie groups for per-example results "
                                       "of any harness (tidy table, lm-eval --log_samples folders, results/)")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="tidy files; lm-eval: [SYSTEM=]FOLDER per system (and seed); benchmark: a results folder")
    p.add_argument("--from", dest="importer", default="tidy", help="importer: tidy (default), lm-eval, benchmark")
    p.add_argument("--baseline", help="system every other system is compared with (benchmark: the suite's reference)")
    p.add_argument("--family", choices=("task", "system", "native"), default=None,
                   help="p-value family: all comparisons on a task (default), one system's over tasks, or the "
                        "input's own (native; benchmark results: the leaderboard's, its default)")
    p.add_argument("--option", action="append", metavar="NAME=VALUE",
                   help="importer option, e.g. --option metric=acc --option filter=none (lm-eval)")
    p.add_argument("--out", default="compare", help="output folder (default: compare)")
    _add_stats_options(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="write results/report/index.md and index.html")
    p.add_argument("--results", default="results")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # Quiet noisy libraries; our own diagnostics go through the "benchmark" logger.
    for name in ("datasets", "transformers", "urllib3", "filelock", "matplotlib"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from benchmark.runs.lock import ResultsBusy

    try:
        return int(args.func(args))
    except EnvironmentFault as exc:  # the machine's fault, not the input's nor a run's
        print(f"error: {exc}", file=sys.stderr)
        return 4
    except ResultsBusy as exc:  # its own exit code: scripts may retry later
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except OSError as exc:  # a full disk or a folder that cannot be written: what is on disk is whole
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: file system error{where}: {exc.strerror or exc}; free space or fix permissions, then "
              "rerun the same command (finished runs are kept)", file=sys.stderr)
        return 4
