"""A small document model written twice, as Markdown and as self-contained HTML (inline CSS,
one inline script that sorts and filters tables, no external asset), so the two report pages
always say the same thing."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmark.analysis.columns import Column
from benchmark.analysis.formats import fmt_ci
from benchmark.analysis.report_script import SCRIPT

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fff; line-height: 1.45; }
main { max-width: 1200px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.7rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .88rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #555; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .5rem .8rem; }
.table-wrap { overflow-x: auto; }
table.sortable th { cursor: pointer; } th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
input.filter { font-size: .85rem; padding: .15rem .4rem; margin-top: .4rem; }
nav.toc { font-size: .9rem; } nav.toc ul { list-style: none; padding-left: 0; }
nav.toc li.toc3 { padding-left: 1.2rem; }
"""


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------- table columns


@dataclass(frozen=True)
class View:
    """One column of a report table: its header, its cell text from a row (a mapping column name ->
    value), and whether it is right-aligned (numbers)."""

    header: str
    cell: Callable[[Mapping[str, Any]], str]
    right: bool = False


def show(column: Column, header: str = "") -> View:
    """A CSV column as its declaration formats it (header: its label unless given)."""
    return View(header or column.header, lambda row: column.text(row[column.name]), column.numeric)


def text(header: str, key: str, right: bool = False) -> View:
    """The value of ``key`` as text."""
    return View(header, lambda row: str(row[key]), right)


def ci(low: str, high: str, header: str = "95% CI", fmt: Callable[[Any, Any], str] = fmt_ci) -> View:
    """An interval from two columns, ``[low, high]``."""
    return View(header, lambda row: fmt(row[low], row[high]))


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str


@dataclass(frozen=True)
class _Para:
    text: str
    note: bool = False


@dataclass(frozen=True)
class _Table:
    headers: list[str]
    rows: list[list[str]]
    right: list[bool]
    """Per column: right-aligned (numbers)."""


@dataclass(frozen=True)
class _Image:
    src: str
    alt: str
    caption: str


_Block = _Heading | _Para | _Table | _Image


@dataclass
class Document:
    """A report as a list of blocks, rendered to Markdown and HTML."""

    title: str
    blocks: list[_Block] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        self.blocks.append(_Heading(level, text))

    def para(self, text: str, note: bool = False) -> None:
        self.blocks.append(_Para(text, note))

    def table(self, views: Sequence[View], rows: Sequence[Mapping[str, Any]]) -> None:
        """A table of ``rows`` with one column per view."""
        self.blocks.append(_Table([v.header for v in views], [[v.cell(r) for v in views] for r in rows],
                                  [v.right for v in views]))

    def image(self, src: str, alt: str, caption: str) -> None:
        self.blocks.append(_Image(src, alt, caption))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for block in self.blocks:
            if isinstance(block, _Heading):
                out += ["#" * block.level + " " + block.text, ""]
            elif isinstance(block, _Para):
                out += [("> " if block.note else "") + block.text, ""]
            elif isinstance(block, _Table):
                out.append("| " + " | ".join(_md_cell(h) for h in block.headers) + " |")
                out.append("|" + "|".join("---:" if right else "---" for right in block.right) + "|")
                out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
                out.append("")
            else:
                out += [f"![{_md_cell(block.alt)}]({block.src})", "", f"*{block.caption}*", ""]
        return "\n".join(out).rstrip() + "\n"

    def html(self) -> str:
        esc = html.escape
        body: list[str] = [f"<h1>{esc(self.title)}</h1>", "<!-- toc -->"]
        toc: list[str] = []
        seen: dict[str, int] = {}
        for block in self.blocks:
            if isinstance(block, _Heading):
                anchor = re.sub(r"[^a-z0-9]+", "-", block.text.lower()).strip("-")
                seen[anchor] = seen.get(anchor, 0) + 1
                anchor += f"-{seen[anchor]}" if seen[anchor] > 1 else ""  # headings repeat per suite
                body.append(f'<h{block.level} id="{esc(anchor)}">{esc(block.text)}'
                            f"</h{block.level}>")
                if block.level <= 3:
                    toc.append(f'<li class="toc{block.level}"><a href="#{esc(anchor)}">{esc(block.text)}</a></li>')
            elif isinstance(block, _Para):
                css = ' class="note"' if block.note else ""
                body.append(f"<p{css}>{esc(block.text)}</p>")
            elif isinstance(block, _Table):
                head = "".join(f'<th scope="col">{esc(h)}</th>' for h in block.headers)
                lines = []
                for row in block.rows:
                    cells = "".join(
                        f'<td class="num">{esc(c)}</td>' if right else f"<td>{esc(c)}</td>"
                        for c, right in zip(row, block.right, strict=True))
                    lines.append(f"<tr>{cells}</tr>")
                body.append(f'<div class="table-wrap"><table class="sortable"><thead><tr>{head}</tr></thead>'
                            f'<tbody>{"".join(lines)}</tbody></table></div>')
            else:
                body.append(f'<figure><img src="{esc(block.src)}" alt="{esc(block.alt)}">'
                            f"<figcaption>{esc(block.caption)}</figcaption></figure>")
        body[1] = f'<nav class="toc"><h2>Contents</h2><ul>{"".join(toc)}</ul></nav>' if toc else ""
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + f"\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
        )


