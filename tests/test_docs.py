"""The documentation builds strictly (no broken link, no page left out of the navigation), and
the README stays a README."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_readme_is_short() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


@pytest.mark.skipif(shutil.which("mkdocs") is None and not (Path(sys.executable).parent / "mkdocs").exists(),
                    reason="mkdocs is not installed (pip install '.[test]')")
def test_docs_build_strictly(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).parent / "mkdocs")
    done = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    pages = {p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md")}
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert all(page in nav for page in pages), sorted(p for p in pages if p not in nav)


def test_the_suite_figures_in_the_docs_are_the_shipped_suites() -> None:
    """docs/user-guide/suites.md embeds what `list suites` prints, runs planned included; after
    editing a suite file or adding a method, regenerate it (see suite_figures_markdown)."""
    from benchmark.runs.suite_catalog import SUITES_BEGIN, SUITES_END, suite_figures_markdown

    text = (REPO / "docs/user-guide/suites.md").read_text(encoding="utf-8")
    block = text[text.index(SUITES_BEGIN) + len(SUITES_BEGIN):text.index(SUITES_END)].strip("\n") + "\n"
    assert block == suite_figures_markdown()


def test_the_readme_command_table_is_the_cli() -> None:
    """Every subcommand the CLI has is in the README's command table, and the table names no other."""
    import re

    from benchmark.cli import build_parser

    parser = build_parser()
    commands = set(next(a for a in parser._actions if a.dest == "command").choices)  # noqa: SLF001
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands\n", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `python -m benchmark ([a-z]+)", table, flags=re.M))
    assert documented == commands
