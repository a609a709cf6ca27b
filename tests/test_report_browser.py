"""The report in a real browser: Debian's chromium, headless, driven by Playwright (no download:
the system's browser). Skipped, with the reason, where either is missing. The report is built
from *generated* runs (tests/run_store_helpers.py), which exercise every section and figure."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from run_store_helpers import build_toy_results

from benchmark.analysis.report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (Debian: apt-get install chromium)")


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    results = build_toy_results(tmp_path_factory.mktemp("toy") / "results")
    build_report(results)
    return (results / "report" / "index.html").as_uri()


def _open(url: str):  # type: ignore[no-untyped-def]
    play = sync_api.sync_playwright().start()
    browser = play.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(url)
    page.wait_for_load_state("load")
    return play, browser, page, errors


def test_every_image_loads_and_nothing_errs_offline(page_url: str) -> None:
    play, browser, page, errors = _open(page_url)
    try:
        images = page.evaluate("Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0])")
        assert images and all(ok for _, ok in images), [src for src, ok in images if not ok]
        assert page.evaluate("document.querySelectorAll('script[src], link[href^=\"http\"]').length") == 0
        toc = page.evaluate("Array.from(document.querySelectorAll('nav.toc a')).map(a => a.getAttribute('href'))")
        assert toc and all(page.evaluate(f"!!document.getElementById({h[1:]!r})") for h in toc)
        assert errors == []
    finally:
        browser.close()
        play.stop()


def test_a_table_sorts_and_filters(page_url: str) -> None:
    play, browser, page, errors = _open(page_url)
    try:
        # the per-task accuracy table: sort by its accuracy column, both ways
        table = page.locator("table.sortable").last
        headers = table.locator("thead th").all_inner_texts()
        col = next(i for i, h in enumerate(headers) if "acc" in h.lower())

        def column() -> list[float]:
            cells = table.locator(f"tbody tr td:nth-child({col + 1})").all_inner_texts()
            return [float(c.replace("\u2212", "-")) for c in cells if c.strip() not in ("", "\u2013")]

        table.locator("thead th").nth(col).click()
        assert column() == sorted(column()) and len(column()) > 2
        table.locator("thead th").nth(col).click()
        assert column() == sorted(column(), reverse=True)
        box = page.locator("input.filter").last
        box.fill("t2")
        shown = [r for r in table.locator("tbody tr").all() if r.is_visible()]
        assert shown and all("t2" in r.inner_text() for r in shown)
        assert len(shown) < table.locator("tbody tr").count()
        assert errors == []
    finally:
        browser.close()
        play.stop()


def test_the_committed_report_loads_every_image_without_errors() -> None:
    """The shipped results/report/index.html (the default suite's), as a reader opens it."""
    committed = Path(__file__).resolve().parents[1] / "results" / "report" / "index.html"
    if not committed.exists():
        pytest.skip("no committed report in this checkout")
    play, browser, page, errors = _open(committed.as_uri())
    try:
        images = page.evaluate("Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0])")
        assert len(images) >= 10 and all(ok for _, ok in images), [src for src, ok in images if not ok]
        assert page.evaluate("document.querySelectorAll('table.sortable').length") >= 10
        assert errors == []
    finally:
        browser.close()
        play.stop()
