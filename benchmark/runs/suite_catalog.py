"""Where suites come from: the shipped suite files, the user's, or a path.

``get_suite(name_or_path)`` accepts a path to a suite file, or the name of a suite found in
(in order) the shipped ``suite_files/`` folder, ``./suites/`` of the working directory and
every folder in ``BENCHMARK_SUITES_PATH`` (``os.pathsep``-separated). A name found twice is
an error naming both files.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from benchmark.errors import ConfigError, unknown_name
from benchmark.runs.suite_yaml import load_suite_file
from benchmark.runs.suites import Protocol, Suite

SHIPPED = Path(__file__).resolve().parent / "suite_files"
ENV_VAR = "BENCHMARK_SUITES_PATH"


def suite_folders() -> list[tuple[str, Path]]:
    """(origin label, folder) for every folder searched, in order."""
    folders = [("shipped", SHIPPED), ("./suites", Path.cwd() / "suites")]
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if entry.strip():
            folders.append((ENV_VAR, Path(entry).expanduser()))
    return [(label, f) for label, f in folders if f.is_dir()]


def suite_files() -> dict[str, tuple[str, Path]]:
    """Suite name (the file's stem) -> (origin, file) for every suite file found."""
    found: dict[str, tuple[str, Path]] = {}
    for label, folder in suite_folders():
        for file in sorted(folder.glob("*.y*ml")):
            if file.stem in found and found[file.stem][1].resolve() != file.resolve():
                raise ConfigError(f"suite {file.stem!r} is defined twice: {found[file.stem][1]} and {file}; "
                                  "rename one.")
            found.setdefault(file.stem, (label, file))
    return found


@functools.cache
def _load(path: Path, mtime_ns: int) -> Suite:
    return load_suite_file(path)


def get_suite(name_or_path: str) -> Suite:
    """The suite named ``name_or_path`` or read from that file (parsed once per file version)."""
    candidate = Path(name_or_path).expanduser()
    by_name = not (name_or_path.endswith((".yaml", ".yml")) or candidate.is_file())
    if not by_name:
        if not candidate.is_file():
            raise ConfigError(f"suite file {candidate} does not exist; pass a suite name or an existing file.")
        file = candidate.resolve()
    else:
        files = suite_files()
        if name_or_path not in files:
            raise unknown_name("suite", name_or_path, files)
        file = files[name_or_path][1].resolve()
    suite = _load(file, file.stat().st_mtime_ns)
    if by_name and suite.name != name_or_path:
        raise ConfigError(f"suite file {file} is found as {name_or_path!r} but names itself {suite.name!r}; "
                          "make its name match the file name.")
    return suite


def suite_rows() -> list[dict[str, object]]:
    """One row per suite found, for ``list suites``."""
    rows: list[dict[str, object]] = []
    for name, (origin, file) in sorted(suite_files().items()):
        try:
            suite = get_suite(name)
        except ConfigError as exc:
            rows.append({"name": name, "from": f"{origin}: {file}", "tasks": "error", "protocol": str(exc)[:80]})
            continue
        budget = "; ".join(f"{fam}: {'+'.join(map(str, p.train_budgets))}/{p.validation_budget}/{p.test_budget}"
                           for fam, p in suite.protocols.items())
        protocol = "; ".join(f"{fam}: {p.backbone} {p.trainable}{_inputs(p) if fam == 'text' else ''}"
                             for fam, p in suite.protocols.items())
        rows.append({"name": suite.name, "from": origin if origin == "shipped" else f"{origin}: {file}",
                     "tasks": len(suite.tasks), "pairs": len(suite.pairs()), "groups": len(suite.groups),
                     "methods": "all" if suite.methods is None else len(suite.methods),
                     "runs": _planned(suite),
                     "seeds": len(suite.seeds), "budget": budget, "protocol": protocol})
    return rows


def _planned(suite: Suite) -> int | str:
    """The runs ``run`` plans for the suite (its seeds, no filter), or why it cannot plan."""
    from benchmark.runs.plan import RunFilters, plan_runs

    try:
        return len(plan_runs(suite, RunFilters()))
    except ConfigError as exc:
        return f"error: {str(exc)[:60]}"


def _inputs(p: Protocol) -> str:
    tokens = f"{p.tokens} tok" if p.tokens else "default tok"
    pairs = f"{p.pair_tokens} tok" if p.pair_tokens else "default tok"
    return f" ({tokens}, pairs {p.pair_encoding} {pairs})"


SUITES_BEGIN = "<!-- begin: suite figures, generated from the shipped suite files; do not edit by hand -->"
SUITES_END = "<!-- end: suite figures -->"


def suite_figures_markdown() -> str:
    """The shipped suites' figures as a Markdown table: what ``list suites`` prints, the runs
    each plans included (the docs' suite page embeds it; a test keeps the two equal)."""
    rows = [r for r in suite_rows() if r["from"] == "shipped"]
    columns = ["name", "tasks", "pairs", "groups", "methods", "seeds", "runs"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(f"`{r[c]}`" if c == "name" else str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"
